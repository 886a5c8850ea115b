import { Danger, findDangers } from "./dangers";
import { ChangeKind, counts, hasChanges, Json, kindOf, managedChanges, ResourceChange, StackPlan } from "./plan-json";
import { TrafficRow, trafficTable } from "./traffic";
import { mermaidAlbsPicture, mermaidPicture } from "../traffic/mermaid";
import { counted } from "../support/wording";

/** Marks the summary so a workflow can find and update its own comment. */
export const SUMMARY_MARKER = "<!-- fleet-plan-summary -->";
/** GitHub refuses comments over 65,536 characters; stay well under. */
export const MAX_SUMMARY_LENGTH = 60_000;

/** Exit codes of `plan-summary`, for pipelines. */
export const EXIT_OK = 0;
export const EXIT_DANGER = 2;
export const EXIT_NOT_PLANNED = 3;

export interface PlanSummary {
  readonly markdown: string;
  readonly dangers: readonly Danger[];
  readonly traffic: readonly TrafficRow[];
  /** Stacks that should have been planned and were not (failed, or skipped). */
  readonly notPlanned: readonly StackPlan[];
  /** Stacks planned once stacks they read outputs from are applied (the deploy applies those first). */
  readonly deferred: readonly StackPlan[];
  /** Stacks left unplanned because nothing that could change their plan changed. */
  readonly unchanged: readonly StackPlan[];
  readonly exitCode: number;
}

function share(rows: readonly TrafficRow[], row: TrafficRow, when: "before" | "after"): string {
  const weight = row[when];
  if (weight === undefined) return "–";
  const total = rows.filter((r) => r.service === row.service).reduce((sum, r) => sum + (r[when] ?? 0), 0);
  return total === 0 ? "0%" : `${Math.round((weight / total) * 100)}%`;
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

/** The planned routes as a Mermaid picture (rows the plan removes left out): one subgraph per edge stack when there are several. */
function trafficPicture(traffic: readonly TrafficRow[]): string {
  const routesOf = (rows: readonly TrafficRow[]) =>
    [...new Set(rows.map((r) => r.service))].map((service) => ({
      service,
      clusters: rows.filter((r) => r.service === service && r.after !== undefined).map((r) => ({ cluster: r.cluster, weight: r.after! })),
    }));
  const clusters = Object.fromEntries(traffic.filter((r) => r.after !== undefined).map((r) => [r.cluster, undefined]));
  const stacks = [...new Set(traffic.map((r) => r.stack))];
  if (stacks.length === 1) return mermaidPicture(undefined, routesOf(traffic), clusters);
  return mermaidAlbsPicture(stacks.map((stack) => ({ stack, routes: routesOf(traffic.filter((r) => r.stack === stack)) })), clusters);
}

export interface SummaryOptions {
  /** Dangerous changes were approved (e.g. by a pull-request label): exit 0 despite them. @default false */
  readonly allowDangerous?: boolean;
}

/** The Markdown summary of a plan run and the exit code a pipeline acts on. */
export function summarizePlans(stacks: readonly StackPlan[], options: SummaryOptions = {}): PlanSummary {
  const traffic = trafficTable(stacks);
  const dangers = findDangers(stacks, traffic);
  const notPlanned = stacks.filter((s) => s.status !== "planned" && s.status !== "unchanged" && s.status !== "deferred");
  const deferred = stacks.filter((s) => s.status === "deferred");
  const unchanged = stacks.filter((s) => s.status === "unchanged");
  const failed = stacks.filter((s) => s.status === "failed");
  const changedStacks = stacks.filter(hasChanges);

  const head: string[] = [SUMMARY_MARKER];
  const verdict = [
    dangers.length > 0 ? `⚠️ ${dangers.length} dangerous change${dangers.length === 1 ? "" : "s"}` : "no dangerous changes",
    `${changedStacks.length} of ${stacks.length} stacks change`,
    notPlanned.length > 0 ? `${notPlanned.length} not planned` : "",
    deferred.length > 0 ? `${deferred.length} plan${deferred.length === 1 ? "s" : ""} after another stack applies` : "",
    unchanged.length > 0 ? `${unchanged.length} unchanged` : "",
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
    head.push("### Traffic", "");
    const edgeStacks = [...new Set(traffic.map((row) => row.stack))];
    for (const stack of edgeStacks) {
      // One table per ALB when the plan changes the routes of several.
      if (edgeStacks.length > 1) head.push(`#### ${stack}`, "");
      head.push("| service | cluster | weight (live → planned) | share |", "|---|---|---|---|");
      for (const row of traffic.filter((r) => r.stack === stack)) {
        const moved = row.before !== row.after ? " **changed**" : "";
        const failover = row.deployed !== undefined && row.before !== undefined && row.deployed !== row.before ? ` (live failover; last deployed ${row.deployed})` : "";
        head.push(`| ${row.service} | ${row.cluster} | ${row.before ?? "–"} → ${row.after ?? "–"}${moved}${failover} | ${share(traffic, row, "before")} → ${share(traffic, row, "after")} |`);
      }
      head.push("");
    }
    head.push("```mermaid", trafficPicture(traffic), "```", "");
  }

  head.push("### Stacks", "", "| stack | create | update | replace | delete | |", "|---|---|---|---|---|---|");
  for (const s of stacks) {
    if (s.status === "unchanged") continue;
    const reason = (s.reason ?? "").replace(/\s+/g, " ").replace(/\|/g, "\\|").slice(0, 300);
    if (s.status === "deferred") {
      head.push(`| ${s.stack} | – | – | – | – | ⏳ ${reason} |`);
      continue;
    }
    if (s.status !== "planned") {
      head.push(`| ${s.stack} | – | – | – | – | ⚠️ not planned (${s.status}): ${reason} |`);
      continue;
    }
    const c = counts(s.plan);
    const total = c.create + c.update + c.replace + c.delete;
    head.push(`| ${s.stack} | ${c.create} | ${c.update} | ${c.replace} | ${c.delete} | ${total === 0 ? "no changes" : ""} |`);
  }
  head.push("");
  if (deferred.length > 0) {
    head.push(
      `⏳ ${deferred.map((s) => `\`${s.stack}\``).join(", ")} read${deferred.length === 1 ? "s" : ""} outputs that other stacks are yet to create or change: ` +
        "the deploy applies those stacks first, then plans and applies these (review their changes in the configuration).",
      "",
    );
  }
  for (const reason of new Set(unchanged.map((s) => s.reason))) {
    const names = unchanged.filter((s) => s.reason === reason).map((s) => `\`${s.stack}\``);
    head.push(`Not planned, ${reason} (${names.length}): ${names.join(", ")}`, "");
  }

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
    if (kept.length < details.length) markdown += `\n${counted(details.length - kept.length, "stack")} left out of the details to stay under GitHub's comment size; see the plan files.\n`;
  }

  const dangerous = dangers.length > 0 && !options.allowDangerous;
  const exitCode = dangerous ? EXIT_DANGER : failed.length > 0 ? EXIT_NOT_PLANNED : EXIT_OK;
  return { markdown, dangers, traffic, notPlanned, deferred, unchanged, exitCode };
}
