import { ShiftError } from "./shift";

/** True for a failure of AWS or of reaching it: credentials, permissions, network, throttling. */
function isAwsFailure(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const { $metadata, code } = error as Error & { $metadata?: unknown; code?: unknown };
  return $metadata !== undefined || /Credentials|Token|Region|Endpoint/i.test(error.name) || (typeof code === "string" && /^E[A-Z]+$/.test(code));
}

/**
 * A failure of `shift --now` as a {@link ShiftError} saying what to do: missing
 * credentials, a refused call, an unreachable endpoint. Other errors are returned as they are.
 */
export function asLiveShiftError(error: unknown): unknown {
  if (error instanceof ShiftError || !isAwsFailure(error)) return error;
  const hint = /Credentials|Token/i.test(error.name)
    ? "--now needs AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an SSO login)"
    : "--now needs AWS credentials allowed elasticloadbalancing:Describe* and ModifyRule, and a reachable endpoint";
  return new ShiftError(`could not read the live listener rules: ${error.name}: ${error.message.split("\n")[0]}; ${hint}. Nothing was changed, live or in the files`);
}
