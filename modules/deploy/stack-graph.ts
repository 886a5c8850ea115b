import * as fs from "fs";
import * as path from "path";
import { UserError } from "../support/user-error";

/** The stacks of a synthesized app and the stacks each one reads outputs from. */
export interface StackGraph {
  /** Stack names, sorted. */
  readonly stacks: readonly string[];
  /** Per stack, the stacks it depends on (cross-stack references). */
  readonly dependencies: ReadonlyMap<string, readonly string[]>;
  /** Per stack, the folder holding its `cdk.tf.json`. */
  readonly directories: ReadonlyMap<string, string>;
}

interface Manifest {
  readonly stacks: Record<string, { readonly dependencies?: readonly string[]; readonly workingDirectory: string }>;
}

/** Reads the stack graph from a synthesized `cdktf.out/manifest.json`. */
export function readStackGraph(outdir: string): StackGraph {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, "manifest.json"), "utf8")) as Manifest;
  const entries = Object.entries(manifest.stacks);
  return {
    stacks: entries.map(([name]) => name).sort(),
    dependencies: new Map(entries.map(([name, stack]) => [name, [...(stack.dependencies ?? [])].sort()])),
    directories: new Map(entries.map(([name, stack]) => [name, path.join(outdir, stack.workingDirectory)])),
  };
}

/** A stack-name glob (`*` any characters, `?` one) as cdktf matches stack names on its command line. */
function globToRegExp(pattern: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`);
}

/**
 * The stacks of `stacks` named by `patterns` (names or globs such as `cluster-blue*`);
 * every stack when `patterns` is empty or `*`. A pattern that matches no stack is an error.
 */
export function selectStacks(stacks: readonly string[], patterns: readonly string[]): string[] {
  if (patterns.length === 0) return [...stacks];
  const selected = new Set<string>();
  for (const pattern of patterns) {
    const regexp = globToRegExp(pattern);
    const matches = stacks.filter((stack) => regexp.test(stack));
    if (matches.length === 0) throw new UserError(`no stack matches '${pattern}'; stacks: ${stacks.join(", ")}`);
    matches.forEach((stack) => selected.add(stack));
  }
  return [...selected];
}

/** `stacks` plus every stack they depend on, directly or not. */
export function withDependencies(graph: StackGraph, stacks: readonly string[]): string[] {
  const result = new Set<string>();
  const visit = (stack: string): void => {
    if (result.has(stack)) return;
    result.add(stack);
    (graph.dependencies.get(stack) ?? []).forEach(visit);
  };
  stacks.forEach(visit);
  return [...result];
}

/** `stacks` plus every stack that depends on them, directly or not. */
export function withDependants(graph: StackGraph, stacks: readonly string[]): string[] {
  const result = new Set<string>(stacks);
  let grew = true;
  while (grew) {
    grew = false;
    for (const stack of graph.stacks) {
      if (!result.has(stack) && (graph.dependencies.get(stack) ?? []).some((dependency) => result.has(dependency))) {
        result.add(stack);
        grew = true;
      }
    }
  }
  return [...result];
}

/**
 * `stacks` in an order where each comes after the stacks it depends on
 * (dependencies outside `stacks` are taken as already deployed); ties by name,
 * so the order is the same on every run.
 */
export function inDependencyOrder(graph: StackGraph, stacks: readonly string[]): string[] {
  const pending = new Set(stacks);
  const ordered: string[] = [];
  while (pending.size > 0) {
    const ready = [...pending].filter((stack) => (graph.dependencies.get(stack) ?? []).every((dependency) => !pending.has(dependency))).sort();
    if (ready.length === 0) throw new Error(`dependency cycle among ${[...pending].join(", ")}`);
    ready.forEach((stack) => {
      ordered.push(stack);
      pending.delete(stack);
    });
  }
  return ordered;
}
