import { inDependencyOrder, StackGraph, withDependants, withDependencies } from "./stack-graph";

/** A cdktf CLI invocation: the program, its arguments, and the stacks it runs in the order they run. */
export interface CdktfInvocation {
  readonly argv: readonly string[];
  readonly stacks: readonly string[];
}

export interface DeployOptions {
  /**
   * Deploy only the selected stacks, taking the stacks they depend on as
   * already deployed (for example only `edge` after a weight change). They
   * run one at a time in dependency order, since cdktf runs stacks whose
   * dependencies are left out all at once.
   * @default false: the selected stacks and everything they depend on
   */
  readonly only?: boolean;
  /** @default false */
  readonly autoApprove?: boolean;
}

/**
 * `cdktf deploy` of the selected stacks in a form the cdktf CLI accepts:
 * with their dependencies (cdktf orders them), or with `only`, just them,
 * one at a time in dependency order. The app is synthesized beforehand.
 */
export function deployInvocation(graph: StackGraph, selected: readonly string[], options: DeployOptions = {}): CdktfInvocation {
  const stacks = inDependencyOrder(graph, options.only ? selected : withDependencies(graph, selected));
  const serial = options.only ? ["--ignore-missing-stack-dependencies", "--parallelism", "1"] : [];
  const approve = options.autoApprove ? ["--auto-approve"] : [];
  return { argv: ["npx", "cdktf", "deploy", ...stacks, "--skip-synth", ...serial, ...approve], stacks };
}

/**
 * `cdktf destroy` of the selected stacks and every stack that depends on
 * them (cdktf refuses to destroy a stack without its dependants), dependants
 * first. The app is synthesized beforehand.
 */
export function destroyInvocation(graph: StackGraph, selected: readonly string[], options: { readonly autoApprove?: boolean } = {}): CdktfInvocation {
  const stacks = inDependencyOrder(graph, withDependants(graph, selected)).reverse();
  const approve = options.autoApprove ? ["--auto-approve"] : [];
  return { argv: ["npx", "cdktf", "destroy", ...stacks, "--skip-synth", ...approve], stacks };
}
