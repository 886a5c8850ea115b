import * as fs from "fs";
import * as path from "path";
import { describeFileError } from "../support/file-errors";
import { UserError } from "../support/user-error";
import { PLANS_DIR, StackPlanStatus, STATUS_FILE } from "./runner";

export type Json = Record<string, unknown>;

/** One entry of `resource_changes` in `terraform show -json` output. */
export interface ResourceChange {
  address: string;
  type: string;
  mode: string;
  change: {
    actions: string[];
    before: Json | null;
    after: Json | null;
    after_unknown?: Json;
    before_sensitive?: Json | boolean;
    after_sensitive?: Json | boolean;
    replace_paths?: (string | number)[][];
  };
}

/** A plan as `terraform show -json` writes it, as far as the summary reads it. */
export interface PlanJson {
  resource_changes?: ResourceChange[];
  prior_state?: { values?: { root_module?: { resources?: { address: string; type: string; values: Json }[] } } };
  configuration?: { root_module?: { resources?: { address: string; type: string; expressions?: Json }[] } };
}

/** One stack: its plan, or why there is none. */
export interface StackPlan {
  readonly stack: string;
  readonly status: StackPlanStatus["status"];
  readonly reason?: string;
  readonly plan?: PlanJson;
}

/** What a resource change does. */
export type ChangeKind = "create" | "update" | "replace" | "delete";

/** Reads `plans/status.json` and the plan JSON of every planned stack. */
export function loadStackPlans(outdir: string): StackPlan[] {
  const statusFile = path.join(outdir, PLANS_DIR, STATUS_FILE);
  if (!fs.existsSync(statusFile)) {
    throw new UserError(`no plans in ${path.join(outdir, PLANS_DIR)}: run npm run plan first`);
  }
  const statuses = readJson<StackPlanStatus[]>(statusFile);
  return statuses.map((status) =>
    status.status === "planned"
      ? { stack: status.stack, status: status.status, plan: readJson<PlanJson>(path.join(outdir, status.planFile)) }
      : { stack: status.stack, status: status.status, reason: status.reason },
  );
}

function readJson<T>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UserError(`${file}: ${describeFileError(error)}; run npm run plan again`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UserError(`${file}: not valid JSON (cut short or edited?); run npm run plan again`);
  }
}

/** The kind of a change, or undefined for no-op and read. */
export function kindOf(actions: readonly string[]): ChangeKind | undefined {
  const key = actions.join(",");
  if (key === "create") return "create";
  if (key === "update") return "update";
  if (key === "delete") return "delete";
  if (key === "delete,create" || key === "create,delete") return "replace";
  return undefined;
}

/** Changes of managed resources (not data sources). */
export function managedChanges(plan: PlanJson | undefined): ResourceChange[] {
  return (plan?.resource_changes ?? []).filter((c) => c.mode === "managed");
}

/** Changes per kind in one plan. */
export function counts(plan: PlanJson | undefined): Record<ChangeKind, number> {
  const result: Record<ChangeKind, number> = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const change of managedChanges(plan)) {
    const kind = kindOf(change.change.actions);
    if (kind) result[kind]++;
  }
  return result;
}

/** True when the stack's plan changes anything. */
export function hasChanges(stack: StackPlan): boolean {
  return Object.values(counts(stack.plan)).some((n) => n > 0);
}

/** Stacks with changes to apply, and those planned only once others are applied, for deploying only those. */
export function changedStackNames(stacks: readonly StackPlan[]): string[] {
  return stacks.filter((s) => hasChanges(s) || s.status === "deferred").map((s) => s.stack);
}
