import { UserError } from "../support/user-error";

/** A {@link UserError}, or a bad command line as `util.parseArgs` reports it. */
function isUserError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  return error instanceof UserError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_"));
}

/**
 * Runs a command: a user error prints its message (then `afterUserError`,
 * if given) and sets exit code 1; any other error is a bug and is thrown.
 */
export function runCommand(body: () => void | Promise<void>, afterUserError?: string): void {
  Promise.resolve()
    .then(body)
    .catch((error: unknown) => {
      if (!isUserError(error)) throw error;
      console.error(error.message);
      if (afterUserError) console.error(afterUserError);
      process.exitCode = 1;
    });
}
