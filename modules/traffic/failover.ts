import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { AddTagsCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { FailoverPolicy, FailoverSettings } from "../config/failover";
import { formatWeights } from "../config/weights";
import { ClusterObservation, decideFailover, FailoverDecision, MinuteOfRequests, ServiceObservation } from "./failover-decision";
import { LiveFleet, LiveRoute, readLiveFleet, readRouteHealth } from "./live-fleet";
import { writeLiveWeights } from "./live-rules";
import { MinuteMetrics, readMinuteMetrics } from "./metrics";

/**
 * Tag on a listener rule recording the last failover of its service:
 * `<ISO time> from=<cluster>[+<cluster>] why=<unhealthy|5xx>[+...] by=<who>`. Terraform owns the rule's
 * tags, so the deploy that brings the files in line with the failover clears it.
 */
export const LAST_FAILOVER_TAG = "last-failover";

/** The last failover recorded on a rule, or undefined when none is (or the tag is not one). */
export function lastFailoverOf(route: LiveRoute): { readonly at: Date; readonly text: string } | undefined {
  const text = route.ruleTags[LAST_FAILOVER_TAG];
  const at = text ? new Date(text.split(" ")[0]) : undefined;
  return text && at && !Number.isNaN(at.getTime()) ? { at, text } : undefined;
}

/** The record of a failover, as a tag value (letters, digits, spaces and `_.:/=+-@` only). */
function failoverRecord(decision: Extract<FailoverDecision, { kind: "failover" }>, now: Date, actor: string): string {
  const from = decision.failed.map((f) => f.cluster).join("+");
  const why = decision.failed.map((f) => f.cause).join("+");
  return `${now.toISOString()} from=${from} why=${why} by=${actor.replace(/[^\p{L}\p{N}_.:/=+\-@]/gu, "-")}`.slice(0, 256);
}

export interface FailoverClients {
  readonly elb: ElasticLoadBalancingV2Client;
  readonly cloudWatch: CloudWatchClient;
}

export interface FailoverOptions {
  /** The time the decision is made at. */
  readonly now: Date;
  /** Who moves the traffic, recorded on the rule: `automatic-failover`, or a person's name for a drill. */
  readonly actor: string;
  /** Decide and report, move nothing. @default false */
  readonly dryRun?: boolean;
  /** Told of every failover, with a subject and a message. @default nobody */
  readonly notify?: (subject: string, message: string) => Promise<void>;
  /**
   * Also tell `notify` of failed clusters left in place (no healthy peer,
   * cooldown, alarm-only): for a run an alarm started, once per incident, not
   * for every scheduled run while the failure lasts. @default false
   */
  readonly notifyHeld?: boolean;
}

/** What one run of the failover saw, decided and did. */
export interface FailoverRun {
  readonly decisions: readonly FailoverDecision[];
  /** Services whose traffic was moved. */
  readonly moved: readonly string[];
  /** True when a failed cluster still carries traffic: a person is needed. */
  readonly unresolved: boolean;
  /** What happened, a line each, for the log or the terminal. */
  readonly lines: readonly string[];
}

/** The last `count` complete minutes before `now`, oldest first, as epoch milliseconds. */
function completeMinutes(now: Date, count: number): number[] {
  const currentMinute = Math.floor(now.getTime() / 60_000) * 60_000;
  return Array.from({ length: count }, (_, i) => currentMinute - (count - i) * 60_000);
}

function observe(
  policy: FailoverPolicy,
  route: LiveRoute,
  health: ReadonlyMap<string, { readonly healthy: number }> | undefined,
  metrics: ReadonlyMap<string, ReadonlyMap<number, MinuteMetrics>> | undefined,
  minutes: readonly number[],
): ServiceObservation {
  const clusters: Record<string, ClusterObservation> = {};
  for (const [cluster, arn] of route.targetGroups) {
    const series = metrics?.get(arn);
    clusters[cluster] = {
      weight: route.weights[cluster],
      healthy: health?.get(cluster)?.healthy ?? 0,
      minutes: series
        ? minutes.map((minute): MinuteOfRequests | undefined => {
            const point = series.get(minute);
            return point?.requests === undefined ? undefined : { requests: point.requests, target5xx: point.target5xx ?? 0 };
          })
        : undefined,
    };
  }
  return { service: policy.service, clusters, lastFailoverAt: lastFailoverOf(route)?.at };
}

function describe(decision: FailoverDecision): string {
  const failures = "failed" in decision ? decision.failed.map((f) => `${f.cluster}: ${f.reason}`).join("; ") : "";
  switch (decision.kind) {
    case "steady":
      return `${decision.service}: every weighted cluster serves`;
    case "failover":
      return `${decision.service}: ${failures}; moving to ${formatWeights(decision.after)} (was ${formatWeights(decision.before)})`;
    case "held":
      return `${decision.service}: ${failures}; NOT moved: ${decision.reason}`;
  }
}

/**
 * One run of the automatic failover: reads the live rules, target health and
 * the last minutes' 5xx, decides per service ({@link decideFailover}), and for
 * each failover reads the rule again and writes it only if its weights are
 * still those it decided on (a person's shift in between wins), then records
 * the failover on the rule. A failure to read the live rules or target health
 * moves nothing (the error is thrown); a failure to read the metrics only
 * stops 5xx failures from being concluded.
 */
export async function runFailover(clients: FailoverClients, settings: FailoverSettings, options: FailoverOptions): Promise<FailoverRun> {
  const policies = settings.policies.filter((p) => p.mode !== "off");
  const lines: string[] = [];
  if (policies.length === 0) return { decisions: [], moved: [], unresolved: false, lines: ["failover is off for every service"] };
  const identity = { platform: { name: settings.fleet, region: settings.region } };
  const live = await readLiveFleet(clients.elb, identity, policies.map((p) => p.service));
  const health = await readRouteHealth(clients.elb, live);
  const minutes = completeMinutes(options.now, Math.max(...policies.map((p) => p.breachMinutes)));
  const metrics = await readRecentMinutes(clients.cloudWatch, live, minutes, lines);

  const decisions = policies.map((policy) =>
    decideFailover(policy, observe(policy, live.routes.get(policy.service)!, health.get(policy.service), metrics, minutes.slice(-policy.breachMinutes)), options.now),
  );
  const moved: string[] = [];
  let unresolved = false;
  for (const decision of decisions) {
    lines.push(describe(decision));
    if (decision.kind === "held") unresolved = true;
    if (decision.kind !== "failover") continue;
    if (options.dryRun) {
      lines.push(`${decision.service}: dry run, nothing was changed`);
      continue;
    }
    const outcome = await moveTraffic(clients.elb, identity, decision, options);
    lines.push(outcome.line);
    if (outcome.moved) moved.push(decision.service);
    else unresolved = true;
  }
  if (options.notify) await notifyOf(decisions, lines, options, settings.fleet);
  return { decisions, moved, unresolved, lines };
}

/** The 5xx minutes of every routed target group; undefined (and a line saying why) when CloudWatch cannot be read. */
async function readRecentMinutes(
  client: CloudWatchClient,
  live: LiveFleet,
  minutes: readonly number[],
  lines: string[],
): Promise<Map<string, Map<number, MinuteMetrics>> | undefined> {
  const arns = [...live.routes.values()].flatMap((route) => [...route.targetGroups.values()]);
  try {
    return await readMinuteMetrics(client, live.loadBalancerArn, arns, new Date(minutes[0]), new Date(minutes[minutes.length - 1] + 60_000));
  } catch (error) {
    lines.push(`CloudWatch could not be read (${(error as Error).name}: ${(error as Error).message}): 5xx failures are not judged this run`);
    return undefined;
  }
}

/** Writes one failover after checking the rule still holds the weights it was decided on. */
async function moveTraffic(
  client: ElasticLoadBalancingV2Client,
  identity: { readonly platform: { readonly name: string; readonly region: string } },
  decision: Extract<FailoverDecision, { kind: "failover" }>,
  options: FailoverOptions,
): Promise<{ readonly moved: boolean; readonly line: string }> {
  const fresh = await readLiveFleet(client, identity, [decision.service]);
  const route = fresh.routes.get(decision.service)!;
  if (formatWeights(route.weights) !== formatWeights(decision.before)) {
    return {
      moved: false,
      line: `${decision.service}: NOT moved: the live weights changed to ${formatWeights(route.weights)} since they were read (${formatWeights(decision.before)}); the next run judges them afresh`,
    };
  }
  await writeLiveWeights(client, fresh, [{ service: decision.service, before: decision.before, after: decision.after }]);
  const record = failoverRecord(decision, options.now, options.actor);
  try {
    await client.send(new AddTagsCommand({ ResourceArns: [route.rule.RuleArn!], Tags: [{ Key: LAST_FAILOVER_TAG, Value: record }] }));
  } catch (error) {
    return { moved: true, line: `${decision.service}: moved; recording it on the rule failed (${(error as Error).message}), so the cooldown does not hold` };
  }
  return { moved: true, line: `${decision.service}: moved, recorded on rule ${route.rule.RuleArn} as "${record}"` };
}

async function notifyOf(decisions: readonly FailoverDecision[], lines: readonly string[], options: FailoverOptions, fleet: string): Promise<void> {
  const moved = decisions.filter((d) => d.kind === "failover").map((d) => d.service);
  const held = options.notifyHeld ? decisions.filter((d) => d.kind === "held").map((d) => d.service) : [];
  if (moved.length === 0 && held.length === 0) return;
  const subject = [
    moved.length > 0 ? `failover of ${moved.join(", ")}` : "",
    held.length > 0 ? `failed cluster left in place for ${held.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join("; ");
  await options.notify!(`${fleet}: ${subject}${options.dryRun ? " (dry run)" : ""}`.slice(0, 99), lines.join("\n"));
}
