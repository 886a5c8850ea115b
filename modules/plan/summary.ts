import * as fs from "fs";
import * as path from "path";
import { clusterOfStack, EDGE_STACK } from "../naming";
import { PLANS_DIR, StackPlanStatus, STATUS_FILE } from "./runner";

/** Marks the summary so a workflow can find and update its own comment. */
export const SUMMARY_MARKER = "<!-- fleet-plan-summary -->";
/** GitHub refuses comments over 65,536 characters; stay well under. */
export const MAX_SUMMARY_LENGTH = 60_000;

/** Exit codes of `plan-summary`, for pipelines. */
export const EXIT_OK = 0;
export const EXIT_DANGER = 2;
export const EXIT_NOT_PLANNED = 3;

type Json = Record<string, unknown>;

interface ResourceChange {
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

interface PlanJson {
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

export type ChangeKind = "create" | "update" | "replace" | "delete";

/** A service's weight on one cluster before and after the plan; undefined where it has none. */
export interface TrafficRow {
  readonly service: string;
  readonly cluster: string;
  readonly before?: number;
  readonly after?: number;
}

export interface Danger {
  /** `critical` for what takes traffic or workloads down here; `warning` for other deletes and replaces. */
  readonly severity: "critical" | "warning";
  readonly stack: string;
  readonly address: string;
  readonly kind: ChangeKind | "update";
  readonly reason: string;
  readonly replacePaths: readonly string[];
}

export interface PlanSummary {
  readonly markdown: string;
  readonly dangers: readonly Danger[];
  readonly traffic: readonly TrafficRow[];
  readonly notPlanned: readonly StackPlan[];
  readonly exitCode: number;
}

/** Reads `plans/status.json` and the plan JSON of every planned stack. */
export function loadStackPlans(outdir: string): StackPlan[] {
  const statuses = JSON.parse(fs.readFileSync(path.join(outdir, PLANS_DIR, STATUS_FILE), "utf8")) as StackPlanStatus[];
  return statuses.map((status) =>
    status.status === "planned"
      ? { stack: status.stack, status: status.status, plan: JSON.parse(fs.readFileSync(path.join(outdir, status.planFile), "utf8")) }
      : { stack: status.stack, status: status.status, reason: status.reason },
  );
}

export function kindOf(actions: readonly string[]): ChangeKind | undefined {
  const key = actions.join(",");
  if (key === "create") return "create";
  if (key === "update") return "update";
  if (key === "delete") return "delete";
  if (key === "delete,create" || key === "create,delete") return "replace";
  return undefined;
}

function managedChanges(plan: PlanJson | undefined): ResourceChange[] {
  return (plan?.resource_changes ?? []).filter((c) => c.mode === "managed");
}

/** Weights per service and cluster, before (from state) and after (from configuration), from the edge plan. */
export function trafficTable(stacks: readonly StackPlan[]): TrafficRow[] {
  const plan = stacks.find((s) => s.stack === EDGE_STACK)?.plan;
  if (!plan) return [];
  const clusterByArn = new Map<string, string>();
  for (const resource of plan.prior_state?.values?.root_module?.resources ?? []) {
    if (resource.type !== "aws_lb_target_group") continue;
    const cluster = (resource.values.tags as Record<string, string> | undefined)?.cluster;
    if (cluster) clusterByArn.set(resource.values.arn as string, cluster);
  }
  const configResources = plan.configuration?.root_module?.resources ?? [];
  const clusterByAddress = new Map<string, string>();
  for (const resource of configResources.filter((r) => r.type === "aws_lb_target_group")) {
    const tags = (resource.expressions?.tags as { constant_value?: Record<string, string> } | undefined)?.constant_value;
    if (tags?.cluster) clusterByAddress.set(resource.address, tags.cluster);
  }

  const rows: TrafficRow[] = [];
  for (const change of managedChanges(plan).filter((c) => c.type === "aws_lb_listener_rule")) {
    const tags = (change.change.after?.tags ?? change.change.before?.tags) as Record<string, string> | undefined;
    const service = tags?.service ?? change.address;
    const before = new Map<string, number>();
    for (const group of forwardGroups(change.change.before)) {
      before.set(clusterByArn.get(group.arn as string) ?? String(group.arn), group.weight as number);
    }
    const after = new Map<string, number>();
    if (change.change.after) {
      const expressions = configResources.find((r) => r.address === change.address)?.expressions;
      for (const group of forwardGroups(expressions, true)) {
        const references = ((group.arn as { references?: string[] }).references ?? []).map((r) => r.replace(/\.arn$/, ""));
        const cluster = references.map((r) => clusterByAddress.get(r)).find(Boolean) ?? references[0] ?? "?";
        after.set(cluster, (group.weight as { constant_value: number }).constant_value);
      }
    }
    for (const cluster of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      rows.push({ service, cluster, before: before.get(cluster), after: after.get(cluster) });
    }
  }
  return rows.sort((a, b) => a.service.localeCompare(b.service) || a.cluster.localeCompare(b.cluster));
}

/** The target groups of a rule's forward action, from values or (with `expressions`) from configuration. */
function forwardGroups(rule: Json | null | undefined, expressions = false): Json[] {
  const actions = (rule?.action as Json[] | undefined) ?? [];
  const forward = actions.flatMap((a) => (a.forward as Json[] | undefined) ?? []);
  const groups = forward.flatMap((f) => (f.target_group as Json[] | undefined) ?? []);
  return expressions ? groups.filter((g) => g.weight && g.arn) : groups;
}

function share(rows: readonly TrafficRow[], row: TrafficRow, when: "before" | "after"): string {
  const weight = row[when];
  if (weight === undefined) return "–";
  const total = rows.filter((r) => r.service === row.service).reduce((sum, r) => sum + (r[when] ?? 0), 0);
  return total === 0 ? "0%" : `${Math.round((weight / total) * 100)}%`;
}

/** Kubernetes version changes of EKS clusters, by fleet cluster name. */
function versionChanges(stacks: readonly StackPlan[]): Map<string, { from: string; to: string }> {
  const changes = new Map<string, { from: string; to: string }>();
  for (const { stack, plan } of stacks) {
    for (const change of managedChanges(plan).filter((c) => c.type === "aws_eks_cluster" && kindOf(c.change.actions) === "update")) {
      const from = change.change.before?.version as string | undefined;
      const to = change.change.after?.version as string | undefined;
      const cluster = clusterOfStack(stack);
      if (cluster && from && to && from !== to) changes.set(cluster, { from, to });
    }
  }
  return changes;
}

const CRITICAL_TYPES: Record<string, string> = {
  aws_eks_cluster: "EKS cluster",
  aws_eks_node_group: "EKS node group",
  aws_lb: "load balancer",
  aws_lb_listener: "ALB listener",
};

export function findDangers(stacks: readonly StackPlan[], traffic: readonly TrafficRow[]): Danger[] {
  const dangers: Danger[] = [];
  for (const { stack, plan } of stacks) {
    for (const change of managedChanges(plan)) {
      const kind = kindOf(change.change.actions);
      if (kind !== "delete" && kind !== "replace") continue;
      const replacePaths = (change.change.replace_paths ?? []).map((p) => p.join("."));
      const verb = kind === "delete" ? "deleted" : "replaced";
      let severity: Danger["severity"] = "warning";
      let reason = `${change.type} ${verb}`;
      if (CRITICAL_TYPES[change.type]) {
        severity = "critical";
        reason = `${CRITICAL_TYPES[change.type]} ${verb}: ${change.type.startsWith("aws_eks") ? "its workloads go down" : "traffic through it stops"}`;
      } else if (change.type === "aws_lb_target_group") {
        const tags = (change.change.before?.tags ?? {}) as Record<string, string>;
        const rows = traffic.filter((r) => r.service === tags.service && r.cluster === tags.cluster);
        const weight = Math.max(0, ...rows.map((r) => Math.max(r.before ?? 0, r.after ?? 0)));
        if (weight > 0) {
          severity = "critical";
          reason = `target group of ${tags.service} on ${tags.cluster} ${verb} while it carries weight ${weight}: its targets re-register and requests fail meanwhile`;
        }
      }
      dangers.push({ severity, stack, address: change.address, kind, reason, replacePaths });
    }
  }
  const upgrading = versionChanges(stacks);
  for (const row of traffic) {
    const version = upgrading.get(row.cluster);
    if (version && (row.after ?? 0) > (row.before ?? 0)) {
      dangers.push({
        severity: "critical",
        stack: EDGE_STACK,
        address: `${row.service} → ${row.cluster}`,
        kind: "update",
        reason: `weight on ${row.cluster} rises ${row.before ?? 0} → ${row.after} while its Kubernetes version changes ${version.from} → ${version.to} in the same plan: upgrade first, shift later`,
        replacePaths: [],
      });
    }
  }
  return dangers.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "critical" ? -1 : 1));
}

function counts(plan: PlanJson | undefined): Record<ChangeKind, number> {
  const result: Record<ChangeKind, number> = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const change of managedChanges(plan)) {
    const kind = kindOf(change.change.actions);
    if (kind) result[kind]++;
  }
  return result;
}

const MAX_VALUE_LENGTH = 80;

function containsTrue(value: unknown): boolean {
  if (value === true) return true;
  return typeof value === "object" && value !== null && Object.values(value).some(containsTrue);
}

/** Whether Terraform marks the attribute, or anything inside it, sensitive. */
function isSensitive(flags: Json | boolean | undefined, key: string): boolean {
  return flags === true || (typeof flags === "object" && flags !== undefined && containsTrue(flags[key]));
}

function showValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

/** Leaf values of a nested value by path, e.g. `action[0].forward[0].target_group[1].weight`. */
function leaves(value: unknown, prefix: string, into: Map<string, unknown>): Map<string, unknown> {
  if (Array.isArray(value)) value.forEach((item, i) => leaves(item, `${prefix}[${i}]`, into));
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) leaves(item, prefix ? `${prefix}.${key}` : key, into);
  } else into.set(prefix, value);
  return into;
}

/** null and "" read the same to a reviewer (providers switch between them). */
function blank(value: unknown): unknown {
  return value === null || value === "" ? undefined : value;
}

/** Most attribute lines shown per resource. */
const MAX_LINES_PER_RESOURCE = 12;

/** The attribute values a change touches, leaf by leaf; sensitive ones masked. */
function describeAttributes(change: ResourceChange["change"]): string[] {
  const before = change.before ?? {};
  const after = change.after ?? {};
  const unknown = change.after_unknown ?? {};
  const creating = kindOf(change.actions) === "create";
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(unknown)])].sort();
  const lines: string[] = [];
  for (const key of keys) {
    if (isSensitive(change.before_sensitive, key) || isSensitive(change.after_sensitive, key)) {
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key]) || unknown[key]) lines.push(`${key}: (sensitive)`);
      continue;
    }
    if (unknown[key] === true) {
      if (!creating) lines.push(`${key}: ${showValue(before[key])} → (known after apply)`);
      continue;
    }
    const from = leaves(before[key], key, new Map());
    const to = leaves(after[key], key, new Map());
    for (const path of [...new Set([...from.keys(), ...to.keys()])]) {
      if (blank(from.get(path)) === blank(to.get(path)) || (creating && blank(to.get(path)) === undefined)) continue;
      lines.push(creating ? `${path} = ${showValue(to.get(path))}` : `${path}: ${showValue(from.get(path))} → ${showValue(to.get(path))}`);
    }
  }
  return lines.length > MAX_LINES_PER_RESOURCE ? [...lines.slice(0, MAX_LINES_PER_RESOURCE), `… ${lines.length - MAX_LINES_PER_RESOURCE} more`] : lines;
}

const SYMBOL: Record<ChangeKind, string> = { create: "+", update: "~", replace: "-/+", delete: "-" };

function stackDetails({ stack, plan }: StackPlan): string {
  const lines = [`<details><summary><code>${stack}</code></summary>`, "", "```diff"];
  for (const change of managedChanges(plan)) {
    const kind = kindOf(change.change.actions);
    if (!kind) continue;
    lines.push(`${SYMBOL[kind]} ${change.address} (${kind})`);
    for (const attribute of describeAttributes(change.change)) lines.push(`    ${attribute}`);
  }
  lines.push("```", "", "</details>");
  return lines.join("\n");
}

export interface SummaryOptions {
  /** Dangerous changes were approved (e.g. by a pull-request label): exit 0 despite them. @default false */
  readonly allowDangerous?: boolean;
}

/** The Markdown summary of a plan run and the exit code a pipeline acts on. */
export function summarizePlans(stacks: readonly StackPlan[], options: SummaryOptions = {}): PlanSummary {
  const traffic = trafficTable(stacks);
  const dangers = findDangers(stacks, traffic);
  const notPlanned = stacks.filter((s) => s.status !== "planned");
  const failed = stacks.filter((s) => s.status === "failed");
  const changedStacks = stacks.filter(hasChanges);

  const head: string[] = [SUMMARY_MARKER];
  const verdict = [
    dangers.length > 0 ? `⚠️ ${dangers.length} dangerous change${dangers.length === 1 ? "" : "s"}` : "no dangerous changes",
    `${changedStacks.length} of ${stacks.length} stacks change`,
    notPlanned.length > 0 ? `${notPlanned.length} not planned` : "",
  ].filter(Boolean);
  head.push(`## Terraform plan: ${verdict.join(" · ")}`, "");

  if (dangers.length > 0) {
    head.push("### ⚠️ Dangers", "", "| | stack | resource | change | why | forced by |", "|---|---|---|---|---|---|");
    for (const d of dangers) {
      head.push(`| ${d.severity === "critical" ? "🔴" : "🟠"} | ${d.stack} | \`${d.address}\` | ${d.kind} | ${d.reason} | ${d.replacePaths.map((p) => `\`${p}\``).join(", ") || "–"} |`);
    }
    head.push("", options.allowDangerous ? "Dangerous changes were approved for this run." : "Approve these changes explicitly (label or flag) to proceed.", "");
  }

  if (traffic.length > 0) {
    head.push("### Traffic", "", "| service | cluster | weight | share |", "|---|---|---|---|");
    for (const row of traffic) {
      const moved = row.before !== row.after ? " **changed**" : "";
      head.push(`| ${row.service} | ${row.cluster} | ${row.before ?? "–"} → ${row.after ?? "–"}${moved} | ${share(traffic, row, "before")} → ${share(traffic, row, "after")} |`);
    }
    head.push("");
  }

  head.push("### Stacks", "", "| stack | create | update | replace | delete | |", "|---|---|---|---|---|---|");
  for (const s of stacks) {
    if (s.status !== "planned") {
      head.push(`| ${s.stack} | – | – | – | – | ⚠️ not planned (${s.status}): ${(s.reason ?? "").replace(/\s+/g, " ").replace(/\|/g, "\\|").slice(0, 300)} |`);
      continue;
    }
    const c = counts(s.plan);
    const total = c.create + c.update + c.replace + c.delete;
    head.push(`| ${s.stack} | ${c.create} | ${c.update} | ${c.replace} | ${c.delete} | ${total === 0 ? "no changes" : ""} |`);
  }
  head.push("");

  let markdown = head.join("\n");
  if (markdown.length > MAX_SUMMARY_LENGTH) {
    markdown = `${markdown.slice(0, MAX_SUMMARY_LENGTH - 200)}\n\n…summary cut at ${MAX_SUMMARY_LENGTH} characters; see the plan files.\n`;
  } else {
    const details = changedStacks.map(stackDetails);
    const kept: string[] = [];
    for (const detail of details) {
      if (markdown.length + kept.join("\n").length + detail.length + 200 > MAX_SUMMARY_LENGTH) break;
      kept.push(detail);
    }
    if (kept.length > 0) markdown += `\n### Details\n\n${kept.join("\n")}\n`;
    if (kept.length < details.length) markdown += `\n${details.length - kept.length} stack(s) left out of the details to stay under GitHub's comment size; see the plan files.\n`;
  }

  const dangerous = dangers.length > 0 && !options.allowDangerous;
  const exitCode = dangerous ? EXIT_DANGER : failed.length > 0 ? EXIT_NOT_PLANNED : EXIT_OK;
  return { markdown, dangers, traffic, notPlanned, exitCode };
}

function hasChanges(stack: StackPlan): boolean {
  return Object.values(counts(stack.plan)).some((n) => n > 0);
}

/** Stacks with changes to apply, for deploying only those. */
export function changedStackNames(stacks: readonly StackPlan[]): string[] {
  return stacks.filter(hasChanges).map((s) => s.stack);
}
