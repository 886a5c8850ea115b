import { spawnSync } from "child_process";
import { projectRoot } from "../support/project-root";
import { UserError } from "../support/user-error";
import { inDependencyOrder, StackGraph, withDependants, withDependencies } from "./stack-graph";

/** A cdktf CLI invocation: the program, its arguments, and the stacks it runs in the order they run. */
export interface CdktfInvocation {
  readonly argv: readonly string[];
  readonly stacks: readonly string[];
}

/** What every cdktf invocation may be told. */
export interface CdktfOptions {
  /** @default false */
  readonly autoApprove?: boolean;
  /** The synthesized output, relative to the project root. @default "cdktf.out" */
  readonly output?: string;
  /**
   * Leave out cdktf's `terraform providers lock` on a stack's first init: it
   * asks the registry whatever the CLI configuration's mirrors say, so it fails
   * behind a mirror. `terraform init` still writes the lock file from the mirror.
   * @default false
   */
  readonly skipProviderLock?: boolean;
}

/** The flags of {@link CdktfOptions}. */
function commonFlags(options: CdktfOptions): string[] {
  return [
    ...(options.output && options.output !== "cdktf.out" ? ["--output", options.output] : []),
    ...(options.skipProviderLock ? ["--skip-provider-lock"] : []),
    ...(options.autoApprove ? ["--auto-approve"] : []),
  ];
}

export interface DeployOptions extends CdktfOptions {
  /**
   * Deploy only the selected stacks, taking the stacks they depend on as
   * already deployed (for example only `edge` after a weight change). They
   * run one at a time in dependency order, since cdktf runs stacks whose
   * dependencies are left out all at once.
   * @default false: the selected stacks and everything they depend on
   */
  readonly only?: boolean;
}

/**
 * `cdktf deploy` of the selected stacks in a form the cdktf CLI accepts:
 * with their dependencies (cdktf orders them), or with `only`, just them,
 * one at a time in dependency order. The app is synthesized beforehand.
 */
export function deployInvocation(graph: StackGraph, selected: readonly string[], options: DeployOptions = {}): CdktfInvocation {
  const stacks = inDependencyOrder(graph, options.only ? selected : withDependencies(graph, selected));
  const serial = options.only ? ["--ignore-missing-stack-dependencies", "--parallelism", "1"] : [];
  return { argv: ["npx", "cdktf", "deploy", ...stacks, "--skip-synth", ...serial, ...commonFlags(options)], stacks };
}

/**
 * `cdktf destroy` of the selected stacks and every stack that depends on
 * them (cdktf refuses to destroy a stack without its dependants), dependants
 * first. The app is synthesized beforehand.
 */
export function destroyInvocation(graph: StackGraph, selected: readonly string[], options: CdktfOptions = {}): CdktfInvocation {
  const stacks = inDependencyOrder(graph, withDependants(graph, selected)).reverse();
  return { argv: ["npx", "cdktf", "destroy", ...stacks, "--skip-synth", ...commonFlags(options)], stacks };
}

/**
 * Runs an invocation from the project root, where `cdktf.json` and the CLI
 * are, in `env` (@default the process's environment); a failure is a
 * {@link UserError}: `failure`, the exit code, then `advice`.
 */
export function runCdktf(invocation: CdktfInvocation, failure: string, advice?: string, env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(invocation.argv[0], invocation.argv.slice(1), { cwd: projectRoot(), stdio: "inherit", env });
  if (result.status !== 0) throw new UserError(`${failure} (exit ${result.status ?? result.signal})${advice ? `; ${advice}` : ""}`);
}
