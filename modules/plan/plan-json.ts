import * as fs from "fs";
import * as path from "path";
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
  const statuses = JSON.parse(fs.readFileSync(path.join(outdir, PLANS_DIR, STATUS_FILE), "utf8")) as StackPlanStatus[];
  return statuses.map((status) =>
    status.status === "planned"
      ? { stack: status.stack, status: status.status, plan: JSON.parse(fs.readFileSync(path.join(outdir, status.planFile), "utf8")) }
      : { stack: status.stack, status: status.status, reason: status.reason },
  );
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

/** Stacks with changes to apply, for deploying only those. */
export function changedStackNames(stacks: readonly StackPlan[]): string[] {
  return stacks.filter(hasChanges).map((s) => s.stack);
}
