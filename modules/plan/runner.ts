import * as fs from "fs";
import * as path from "path";
import { inDependencyOrder, readStackGraph, StackGraph } from "../deploy/stack-graph";
import { providersMissingOffline, prepareOfflinePlan, runTerraform, TerraformEnvironment } from "./terraform";
import { unreachableApiReason } from "./unreachable-api";
import { outputsReadByProducer, plansAfter, ProducerOutcome } from "./after-apply";

/** Folder under the synthesized output that receives plans and their status. */
export const PLANS_DIR = "plans";
/** File in {@link PLANS_DIR} listing every stack and whether it was planned. */
export const STATUS_FILE = "status.json";

/**
 * Outcome of one stack: planned (with its plan JSON), or why not. `deferred`:
 * it reads outputs that stacks named in `after` are yet to create or change,
 * so it plans once they are applied (the deploy applies them first).
 */
export type StackPlanStatus =
  | { readonly stack: string; readonly status: "planned"; readonly planFile: string }
  | { readonly stack: string; readonly status: "failed" | "skipped" | "unchanged"; readonly reason: string }
  | { readonly stack: string; readonly status: "deferred"; readonly reason: string; readonly after: readonly string[] };

export interface PlanRunOptions {
  /** A synthesized cdktf.out folder. */
  readonly outdir: string;
  readonly terraform: TerraformEnvironment;
  /**
   * Plan with no AWS account: fake credentials and stand-in cross-stack outputs;
   * stacks needing other providers than AWS are skipped.
   * @default false
   */
  readonly offline?: boolean;
  /** Region for offline stand-in values. */
  readonly region: string;
  /** Only these stacks; the others are recorded as skipped. @default every stack */
  readonly stacks?: readonly string[];
  /** Stacks left unplanned because nothing that could change their plan changed, with why (e.g. "unchanged since origin/main"). @default none */
  readonly unchanged?: ReadonlyMap<string, string>;
  /** Stacks planned at the same time. @default 2 */
  readonly concurrency?: number;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
}

/**
 * Plans every stack of a synthesized fleet: `terraform init`, `plan -out`
 * (which validates the configuration, as `terraform validate` would, before
 * planning), `show -json`, several stacks at a time. Writes `plans/<stack>.json` and `plans/status.json`;
 * a stack that could not be planned is recorded as failed or skipped, with why. A stack reading
 * outputs another stack's pending change creates or changes is recorded as deferred, after that
 * stack (except offline, where every output it reads is a stand-in).
 */
export async function runPlans(options: PlanRunOptions): Promise<StackPlanStatus[]> {
  const graph = readStackGraph(options.outdir);
  const plansDir = path.join(options.outdir, PLANS_DIR);
  fs.rmSync(plansDir, { recursive: true, force: true });
  fs.mkdirSync(plansDir, { recursive: true });
  const log = options.log ?? (() => undefined);

  const results = new Map<string, StackPlanStatus>();
  const pending = [...graph.stacks];

  /** Why a stack is not planned at all, decided before any terraform runs. */
  const leftOut = (stack: string): StackPlanStatus | undefined => {
    if (options.stacks && !options.stacks.includes(stack)) return { stack, status: "skipped", reason: "not selected" };
    const unchanged = options.unchanged?.get(stack);
    if (unchanged !== undefined) return { stack, status: "unchanged", reason: unchanged };
    if (!options.offline) return undefined;
    const stackJson = JSON.parse(fs.readFileSync(path.join(graph.directories.get(stack)!, "cdk.tf.json"), "utf8"));
    const missing = providersMissingOffline(stackJson);
    if (missing.length === 0) return undefined;
    const providers = missing.length === 1 ? `${missing[0]} provider` : `${missing.slice(0, -1).join(", ")} and ${missing[missing.length - 1]} providers`;
    return { stack, status: "skipped", reason: `needs the ${providers} and a live cluster; offline plans cover AWS-only stacks` };
  };

  // Terraform's plugin cache is not safe for concurrent installs: one `init` at a time, plans side by side.
  let initDone: Promise<unknown> = Promise.resolve();
  const initOneAtATime = (stackDir: string) => {
    const init = initDone.then(() => runTerraform(options.terraform, stackDir, ["init", "-input=false", "-no-color"]));
    initDone = init.catch(() => undefined);
    return init;
  };

  const planStack = async (stack: string): Promise<StackPlanStatus> => {
    const stackDir = graph.directories.get(stack)!;
    try {
      await initOneAtATime(stackDir);
      // Plans only read state: they take no lock (a lock is a write to the state bucket, which the plan role has no right to).
      await runTerraform(options.terraform, stackDir, ["plan", "-input=false", "-no-color", "-out=tfplan", "-lock=false", ...(options.offline ? ["-refresh=false"] : [])]);
      const planFile = path.join(PLANS_DIR, `${stack}.json`);
      fs.writeFileSync(path.join(options.outdir, planFile), await runTerraform(options.terraform, stackDir, ["show", "-json", "tfplan"]));
      return { stack, status: "planned", planFile };
    } catch (error) {
      const message = (error as Error).message;
      return { stack, status: "failed", reason: unreachableApiReason(stack, message) ?? message };
    }
  };

  // A plan reads the state of the stacks it depends on, never their plans: stacks are started in
  // dependency order (for readable progress) but none waits for another.
  const queue = inDependencyOrder(graph, pending);
  const done = (result: StackPlanStatus) => {
    results.set(result.stack, result);
    log(`${result.stack}: ${result.status}${result.status === "planned" ? "" : ` (${result.reason.split("\n")[0]})`}`);
  };
  for (const result of queue.map(leftOut)) if (result) done(result);
  const toPlan = queue.filter((stack) => !results.has(stack));
  // Offline stand-in state is all written before any plan reads state.
  for (const stack of options.offline ? toPlan : []) {
    prepareOfflinePlan(path.dirname(graph.directories.get(stack)!), stack, options.region);
  }
  const worker = async () => {
    for (let stack = toPlan.shift(); stack !== undefined; stack = toPlan.shift()) {
      log(`planning ${stack}`);
      done(await planStack(stack));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  if (!options.offline) deferReadersOfPendingOutputs(options.outdir, graph, results, log);

  const statuses = pending.map((stack) => results.get(stack)!);
  fs.writeFileSync(path.join(plansDir, STATUS_FILE), `${JSON.stringify(statuses, null, 2)}\n`);
  return statuses;
}

/**
 * Marks deferred, in dependency order so it travels down a chain, every stack
 * whose plan reads outputs that a stack it depends on is yet to create or
 * change (its plan, or failure, stands for nothing); its plan file is removed.
 */
function deferReadersOfPendingOutputs(outdir: string, graph: StackGraph, results: Map<string, StackPlanStatus>, log: (line: string) => void): void {
  const outcomes = new Map<string, ProducerOutcome>();
  for (const stack of inDependencyOrder(graph, graph.stacks)) {
    const result = results.get(stack)!;
    if (result.status === "planned") {
      const plan = JSON.parse(fs.readFileSync(path.join(outdir, result.planFile), "utf8")) as { output_changes?: Record<string, { actions: string[] }> };
      outcomes.set(stack, { status: "planned", outputChanges: plan.output_changes ?? {} });
    } else outcomes.set(stack, { status: "other" });
    if (result.status !== "planned" && result.status !== "failed") continue;
    const reads = outputsReadByProducer(fs.readFileSync(path.join(graph.directories.get(stack)!, "cdk.tf.json"), "utf8"));
    const deferral = plansAfter(reads, outcomes, result.status === "failed" ? result.reason : undefined);
    if (!deferral) continue;
    if (result.status === "planned") fs.rmSync(path.join(outdir, result.planFile), { force: true });
    results.set(stack, { stack, status: "deferred", reason: deferral.reason, after: deferral.after });
    outcomes.set(stack, { status: "deferred" });
    log(`${stack}: deferred (${deferral.reason})`);
  }
}
