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
 * synthesis. V8 formats a trace through `Error.prepareStackTrace` when it is
 * first read, which cdktf does at once: while `body` runs, that hook gives it
 * an empty trace. An error thrown meanwhile keeps its full trace, as nothing
 * reads it before the hook is restored. The synthesized output is the same.
 */
export function withoutTokenTraces<T>(body: () => T): T {
  if (process.env[TOKEN_TRACES_VARIABLE] === "1") return body();
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = () => "";
  try {
    return body();
  } finally {
    Error.prepareStackTrace = previous;
  }
}
