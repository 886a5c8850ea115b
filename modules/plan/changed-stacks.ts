import * as fs from "fs";
import * as path from "path";
import { inDependencyOrder, readStackGraph } from "../deploy/stack-graph";

type Json = Record<string, unknown>;

/**
 * Data sources that read no infrastructure the fleet's stacks change: other stacks' state (followed
 * output by output), documents computed from the configuration, and charts rendered at a pinned
 * version. Every other data source is taken to read live infrastructure.
 */
const CONFIG_ONLY_DATA_SOURCES = new Set(["terraform_remote_state", "aws_iam_policy_document", "helm_template"]);
/** Top-level blocks whose change can touch every resource of the stack. */
const STACK_WIDE_BLOCKS = new Set(["terraform", "provider"]);

const REFERENCE = /(?:data\.)?[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*/g;
const REMOTE_OUTPUT = /data\.terraform_remote_state\.([A-Za-z0-9_-]+)(?:\.outputs\.([A-Za-z0-9_-]+))?/g;

/** One synthesized stack: its blocks by Terraform address, and every file of its folder. */
interface StackOutput {
  readonly name: string;
  readonly dir: string;
  readonly dependencies: readonly string[];
  /** Blocks by address (`aws_lb.alb`, `data.x.y`, `output.z`, `local.w`, `provider`, `terraform`, ...), JSON text without `//` comments. */
  readonly blocks: Map<string, string>;
  /** Every file except cdk.tf.json (assets), by relative path, with its bytes. */
  readonly files: Map<string, string>;
}

function readOutdir(outdir: string): Map<string, StackOutput> {
  const graph = readStackGraph(outdir);
  return new Map(
    graph.stacks.map((name) => {
      const dir = graph.directories.get(name)!;
      const json = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8")) as Json;
      const files = new Map(listFiles(dir).filter((f) => f !== "cdk.tf.json").map((f) => [f, fs.readFileSync(path.join(dir, f)).toString("base64")]));
      return [name, { name, dir, dependencies: graph.dependencies.get(name)!, blocks: blocksOf(json), files }];
    }),
  );
}

function listFiles(dir: string, prefix = ""): string[] {
  return fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(prefix, entry.name);
    // Terraform's own working files (a stack planned in place) are not synthesized output.
    if (entry.name === ".terraform" || entry.name === ".terraform.lock.hcl" || entry.name === "tfplan") return [];
    return entry.isDirectory() ? listFiles(dir, relative) : [relative];
  });
}

/** `//` keys are comments to Terraform at the top level and in block bodies (cdktf's metadata, policy notes). */
function withoutComments(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== "//"));
}

function blocksOf(json: Json): Map<string, string> {
  const blocks = new Map<string, string>();
  const add = (address: string, body: unknown) => blocks.set(address, JSON.stringify(withoutComments(body)));
  for (const [kind, content] of Object.entries(json)) {
    if (kind === "//") continue;
    const byName = (content ?? {}) as Record<string, unknown>;
    if (kind === "resource") for (const [type, named] of Object.entries(byName)) for (const [name, body] of Object.entries(named as Json)) add(`${type}.${name}`, body);
    else if (kind === "data") for (const [type, named] of Object.entries(byName)) for (const [name, body] of Object.entries(named as Json)) add(`data.${type}.${name}`, body);
    else if (kind === "output") for (const [name, body] of Object.entries(byName)) add(`output.${name}`, body);
    else if (kind === "locals") for (const [name, body] of Object.entries(byName)) add(`local.${name}`, body);
    else if (kind === "variable") for (const [name, body] of Object.entries(byName)) add(`var.${name}`, body);
    else if (kind === "module") for (const [name, body] of Object.entries(byName)) add(`module.${name}`, body);
    // terraform, provider, moved, import, removed, check, ...: one block each, compared whole.
    else add(kind, content);
  }
  return blocks;
}

/** The state a `terraform_remote_state` block reads, comparable with a stack's backend. */
function stateLocation(stackDir: string, backend: string, config: Json | undefined): string {
  if (backend === "local" && typeof config?.path === "string") return `local:${path.resolve(stackDir, config.path)}`;
  if (backend === "s3") return `s3:${String(config?.bucket)}/${String(config?.workspace_key_prefix ?? "")}/${String(config?.key)}`;
  return `${backend}:${JSON.stringify(config)}`;
}

function backendLocation(stack: StackOutput): string | undefined {
  const terraform = JSON.parse(stack.blocks.get("terraform") ?? "{}") as { backend?: Record<string, Json> };
  const [backend, config] = Object.entries(terraform.backend ?? {})[0] ?? [];
  return backend ? stateLocation(stack.dir, backend, config) : undefined;
}

/** The stacks to plan, each with why, and the others. */
export interface StackSelection {
  readonly toPlan: ReadonlyMap<string, string>;
  readonly unchanged: readonly string[];
  /** Stacks of the base that the current fleet no longer has (their state stays until retired). */
  readonly removed: readonly string[];
}

/**
 * Which stacks of a synthesized fleet (`current`) could plan differently from
 * the same fleet synthesized at a base revision (`base`), with why; the others
 * can be left unplanned. A stack is included when:
 * - it is new, or any of its files differ (assets included; `//` comments aside);
 * - it reads (`terraform_remote_state`) an output of another stack that could
 *   change: the output's block changed, or anything it refers to, directly or
 *   through other blocks, changed or reads such an output in turn; a change to
 *   the `terraform` or `provider` blocks counts for every output;
 * - it has data sources reading live infrastructure and a stack it depends on
 *   is included (those data sources may then read something else).
 * Stacks are visited in dependency order so a change travels the whole chain.
 */
export function stacksToPlan(currentOutdir: string, baseOutdir: string): StackSelection {
  const current = readOutdir(currentOutdir);
  const base = readOutdir(baseOutdir);
  const byLocation = new Map([...current.values()].map((stack) => [backendLocation(stack), stack.name]));
  const remoteOutputsThatMayChange = (stack: StackOutput, outputsOf: (producer: string | undefined) => Set<string> | "all") => {
    const remoteChanges = new Set<string>();
    for (const [address, text] of stack.blocks) {
      if (!address.startsWith("data.terraform_remote_state.")) continue;
      const body = JSON.parse(text) as { backend: string; config?: Json };
      const outputs = outputsOf(byLocation.get(stateLocation(stack.dir, body.backend, body.config)));
      if (outputs === "all") remoteChanges.add(`${address}.outputs.*`);
      else for (const output of outputs) remoteChanges.add(`${address}.outputs.${output}`);
    }
    return remoteChanges;
  };
  const changedOutputs = new Map<string, Set<string> | "all">();
  const reasons = new Map<string, string>();

  const graph = readStackGraph(currentOutdir);
  for (const stack of inDependencyOrder(graph, graph.stacks).map((name) => current.get(name)!)) {
    const before = base.get(stack.name);
    const changed = before ? changedBlocks(stack, before) : new Set<string>();
    let reason: string | undefined;
    if (!before) reason = "new stack";
    else if (changed.size > 0) reason = `changed: ${[...changed].sort().slice(0, 3).join(", ")}${changed.size > 3 ? `, … (${changed.size})` : ""}`;
    if (before && !sameFiles(stack.files, before.files)) {
      reason ??= "changed: assets";
      for (const address of stack.blocks.keys()) changed.add(address);
    }
    const remoteChanges = remoteOutputsThatMayChange(stack, (producer) =>
      // A state no stack of the fleet writes: assume the worst once anything in the fleet changes.
      producer === undefined ? (reasons.size > 0 ? "all" : new Set()) : changedOutputs.get(producer) ?? "all",
    );
    const reader = [...stack.blocks].find(([, text]) => readsRemoteChange(text, remoteChanges));
    if (reader) reason ??= `reads outputs of other stacks that may change (in ${reader[0]})`;
    const liveData = [...stack.blocks.keys()].some((a) => a.startsWith("data.") && !CONFIG_ONLY_DATA_SOURCES.has(a.split(".")[1]));
    const dependencyPlanned = stack.dependencies.find((d) => reasons.has(d));
    if (liveData && dependencyPlanned) reason ??= `reads live infrastructure and depends on ${dependencyPlanned}, which is planned`;
    if (reason === undefined) {
      changedOutputs.set(stack.name, new Set());
      continue;
    }
    reasons.set(stack.name, reason);
    changedOutputs.set(stack.name, outputsThatMayChange(stack, changed, remoteChanges, Boolean(liveData && dependencyPlanned) || !before));
  }
  return {
    toPlan: reasons,
    unchanged: [...current.keys()].filter((name) => !reasons.has(name)).sort(),
    removed: [...base.keys()].filter((name) => !current.has(name)).sort(),
  };
}

/** Addresses of the blocks added, removed or changed since `before`. */
function changedBlocks(stack: StackOutput, before: StackOutput): Set<string> {
  const addresses = new Set([...stack.blocks.keys(), ...before.blocks.keys()]);
  return new Set([...addresses].filter((address) => stack.blocks.get(address) !== before.blocks.get(address)));
}

function sameFiles(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([file, bytes]) => b.get(file) === bytes);
}

/** Every output whose value may differ, following references between blocks; "all" when anything stack-wide may. */
function outputsThatMayChange(stack: StackOutput, changed: Set<string>, remoteChanges: Set<string>, everything: boolean): Set<string> | "all" {
  const affected = new Set(changed);
  const refersToAffected = (text: string) =>
    readsRemoteChange(text, remoteChanges) || [...text.matchAll(REFERENCE)].some((match) => affected.has(match[0]));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [address, text] of stack.blocks) {
      if (!affected.has(address) && refersToAffected(text)) {
        affected.add(address);
        grew = true;
      }
    }
  }
  if (everything || [...STACK_WIDE_BLOCKS].some((b) => affected.has(b))) return "all";
  return new Set([...affected].filter((a) => a.startsWith("output.")).map((a) => a.slice("output.".length)));
}

/** Whether a block's text reads one of these remote state outputs (any of them when it names no output). */
function readsRemoteChange(text: string, remoteChanges: Set<string>): boolean {
  if (remoteChanges.size === 0) return false;
  return [...text.matchAll(REMOTE_OUTPUT)].some(([, name, output]) => {
    const state = `data.terraform_remote_state.${name}`;
    if (remoteChanges.has(`${state}.outputs.*`)) return true;
    return output === undefined ? [...remoteChanges].some((r) => r.startsWith(`${state}.`)) : remoteChanges.has(`${state}.outputs.${output}`);
  });
}
