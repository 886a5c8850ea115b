import { ChildProcess, spawn } from "child_process";
import { entryPoint } from "./entry-point";

export interface AsyncRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AsyncRunOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Sees each line of standard output as it comes. */
  readonly onLine?: (line: string) => void;
  /** Sees the child process once started (to signal it). */
  readonly onStart?: (child: ChildProcess) => void;
}

/** Names the mutant under test in a mutation run (npm run mutate); the command runs it too, whatever environment it is given. */
const ACTIVE_MUTANT = "__STRYKER_ACTIVE_MUTANT__";

/**
 * Runs one of the project's entry points (`scripts/<name>.ts`) as its npm
 * script does, without blocking this process, so that a server running in
 * the test (the AWS stand-in) can answer it.
 */
export function runScriptAsync(entry: string, args: readonly string[], options: AsyncRunOptions = {}): Promise<AsyncRun> {
  const env = { ...(options.env ?? process.env) };
  if (process.env[ACTIVE_MUTANT] !== undefined) env[ACTIVE_MUTANT] = process.env[ACTIVE_MUTANT];
  const child = spawn(process.execPath, [...entryPoint(entry), ...args], { env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const line of chunk.toString().split("\n")) if (line) options.onLine?.(line);
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  options.onStart?.(child);
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}
