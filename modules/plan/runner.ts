import * as fs from "fs";
import * as path from "path";
import { providersMissingOffline, prepareOfflinePlan, runTerraform, TerraformEnvironment } from "./terraform";

/** Folder under the synthesized output that receives plans and their status. */
export const PLANS_DIR = "plans";
/** File in {@link PLANS_DIR} listing every stack and whether it was planned. */
export const STATUS_FILE = "status.json";

/** Outcome of one stack: planned (with its plan JSON), or why not. */
export type StackPlanStatus =
  | { readonly stack: string; readonly status: "planned"; readonly planFile: string }
  | { readonly stack: string; readonly status: "failed" | "skipped"; readonly reason: string };

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
  /** Stacks planned at the same time. @default 2 */
  readonly concurrency?: number;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
}

interface Manifest {
  stacks: Record<string, { dependencies: string[]; workingDirectory: string }>;
}

/**
 * Plans every stack of a synthesized fleet: `terraform init`, `validate`,
 * `plan -out`, `show -json`, in dependency order and in parallel where
 * stacks are independent. Writes `plans/<stack>.json` and `plans/status.json`;
 * a stack that could not be planned is recorded as failed or skipped, with why.
 */
export async function runPlans(options: PlanRunOptions): Promise<StackPlanStatus[]> {
  const manifest = JSON.parse(fs.readFileSync(path.join(options.outdir, "manifest.json"), "utf8")) as Manifest;
  const plansDir = path.join(options.outdir, PLANS_DIR);
  fs.rmSync(plansDir, { recursive: true, force: true });
  fs.mkdirSync(plansDir, { recursive: true });
  const log = options.log ?? (() => undefined);

  const results = new Map<string, StackPlanStatus>();
  const started = new Set<string>();
  const pending = Object.keys(manifest.stacks).sort();
  const running = new Set<Promise<void>>();

  const planStack = async (stack: string): Promise<StackPlanStatus> => {
    const stackDir = path.join(options.outdir, manifest.stacks[stack].workingDirectory);
    if (options.stacks && !options.stacks.includes(stack)) {
      return { stack, status: "skipped", reason: "not selected" };
    }
    if (options.offline) {
      const missing = providersMissingOffline(JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")));
      if (missing.length > 0) {
        const providers = missing.length === 1 ? `${missing[0]} provider` : `${missing.slice(0, -1).join(", ")} and ${missing[missing.length - 1]} providers`;
        return { stack, status: "skipped", reason: `needs the ${providers} and a live cluster; offline plans cover AWS-only stacks` };
      }
      prepareOfflinePlan(path.dirname(stackDir), stack, options.region);
    }
    try {
      await runTerraform(options.terraform, stackDir, ["init", "-input=false", "-no-color"]);
      await runTerraform(options.terraform, stackDir, ["validate", "-no-color"]);
      await runTerraform(options.terraform, stackDir, ["plan", "-input=false", "-no-color", "-out=tfplan", ...(options.offline ? ["-lock=false", "-refresh=false"] : [])]);
      const planFile = path.join(PLANS_DIR, `${stack}.json`);
      fs.writeFileSync(path.join(options.outdir, planFile), await runTerraform(options.terraform, stackDir, ["show", "-json", "tfplan"]));
      return { stack, status: "planned", planFile };
    } catch (error) {
      return { stack, status: "failed", reason: (error as Error).message };
    }
  };

  const ready = (stack: string) => manifest.stacks[stack].dependencies.every((dep) => results.has(dep));
  while (results.size < pending.length) {
    for (const stack of pending.filter((s) => !started.has(s) && ready(s))) {
      if (running.size >= (options.concurrency ?? 2)) break;
      started.add(stack);
      log(`planning ${stack}`);
      const job: Promise<void> = planStack(stack).then((result) => {
        results.set(stack, result);
        log(`${stack}: ${result.status}${result.status === "planned" ? "" : ` (${result.reason.split("\n")[0]})`}`);
        running.delete(job);
      });
      running.add(job);
    }
    if (running.size === 0) throw new Error(`stacks wait on each other: ${pending.filter((s) => !results.has(s)).join(", ")}`);
    await Promise.race(running);
  }

  const statuses = pending.map((stack) => results.get(stack)!);
  fs.writeFileSync(path.join(plansDir, STATUS_FILE), `${JSON.stringify(statuses, null, 2)}\n`);
  return statuses;
}
