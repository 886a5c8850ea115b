/** Set to 1 to keep the trace cdktf records where each token was created: slower, for tracking down a misused token. */
export const TOKEN_TRACES_VARIABLE = "FLEET_SYNTH_TOKEN_TRACES";

/**
 * Runs `body` (building and synthesizing a fleet) with the stack traces cdktf
 * records for every token it creates left empty, unless
 * {@link TOKEN_TRACES_VARIABLE} is 1.
 *
 * cdktf captures and formats a stack trace each time it creates a token,
 * thousands per cluster, to name the code that made a token in the rare error
 * about its misuse; formatting them takes about an eighth of a large fleet's
 * synthesis. While `body` runs, `Error.captureStackTrace` collects nothing
 * and `Error.prepareStackTrace` formats any trace as empty, so cdktf records
 * none. An error thrown meanwhile keeps the full trace it was made with, as
 * nothing reads it before the hooks are restored. The synthesized output is the same.
 */
export function withoutTokenTraces<T>(body: () => T): T {
  if (process.env[TOKEN_TRACES_VARIABLE] === "1") return body();
  const previous = { prepare: Error.prepareStackTrace, capture: Error.captureStackTrace };
  Error.prepareStackTrace = () => "";
  // Collecting the frames costs too, with cdktf's unlimited depth; an error keeps the trace it was made with.
  Error.captureStackTrace = () => undefined;
  try {
    return body();
  } finally {
    Error.prepareStackTrace = previous.prepare;
    Error.captureStackTrace = previous.capture;
  }
}
