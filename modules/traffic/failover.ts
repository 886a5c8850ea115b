import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { AddTagsCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { FailoverPolicy, FailoverSettings, LAST_FAILOVER_TAG } from "../config/failover";
import { formatWeights } from "../config/weights";
import { ClusterObservation, decideFailover, FailoverDecision, metricMinutesToRead, MinuteOfRequests, ServiceObservation } from "./failover-decision";
import { albName } from "../constructs/naming";
import { FleetIdentity, LiveFleet, LiveRoute, metricTargetsOf, readLiveFleet, readLiveFleetIfDeployed, readRouteHealth } from "./live-fleet";
import { writeLiveWeights } from "./live-rules";
import { MinuteMetrics, readMinuteMetrics } from "./metrics";
import { describeHolder, holdTrafficLock, LockHeldError, LockStore } from "./traffic-lock";

/** The failover's lease on the traffic lock: one run's writes, a minute at most. */
const FAILOVER_LEASE_SECONDS = 60;
/** How long a run waits for the failover of another ALB to release the traffic lock, milliseconds. */
const SAME_ACTOR_LOCK_WAIT_MS = 20_000;
/** How often it looks again meanwhile, milliseconds. */
const LOCK_POLL_MS = 500;

/** The last failover recorded on a rule: when, off which clusters, and the record itself; undefined when none is (or the tag is not one). */
export function lastFailoverOf(route: LiveRoute): { readonly at: Date; readonly clusters: readonly string[]; readonly text: string } | undefined {
  const text = route.ruleTags[LAST_FAILOVER_TAG];
  if (!text) return undefined;
  const at = new Date(text.split(" ")[0]);
  const from = / from=(\S+)/.exec(text)?.[1];
  return Number.isNaN(at.getTime()) || !from ? undefined : { at, clusters: from.split("+"), text };
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
  /**
   * The traffic lock every writer of the live weights takes: held for the run's writes, so that
   * no person's shift, deploy or retirement writes at the same time. @default none (the function with local state)
   */
  readonly lock?: LockStore;
  /**
   * How long a run waits while the lock is held by another run of the same actor: the failover of
   * another ALB, whose writes take a second or two (a cluster serving services on several ALBs fails
   * on all of them at once). A lock held by anyone else is not waited for. @default 20 000
   */
  readonly sameActorLockWaitMs?: number;
  /** Sees each line as soon as it is known, so a run cut short still leaves what it did. @default nobody */
  readonly log?: (line: string) => void;
  /** Told of each failover as soon as it is written, with a subject and a message. @default nobody */
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
  /** What went wrong moving a service's traffic, or telling of a move, a line each; the other services were still judged. */
  readonly errors: readonly string[];
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
  return { service: policy.service, clusters, lastFailover: lastFailoverOf(route) };
}

function describe(decision: FailoverDecision): string {
  const failures = (failed: readonly { cluster: string; reason: string }[]) => failed.map((f) => `${f.cluster}: ${f.reason}`).join("; ");
  switch (decision.kind) {
    case "steady":
      return `${decision.service}: every weighted cluster serves`;
    case "failover": {
      const heldBack = decision.heldBack ? `; left in place: ${failures(decision.heldBack.failed)}: ${decision.heldBack.reason}` : "";
      return `${decision.service}: ${failures(decision.failed)}; moving to ${formatWeights(decision.after)} (was ${formatWeights(decision.before)})${heldBack}`;
    }
    case "held":
      return `${decision.service}: ${failures(decision.failed)}; NOT moved: ${decision.reason}`;
  }
}

/**
 * One run of the automatic failover: reads the live rules, target health and
 * the last minutes' 5xx, decides per service ({@link decideFailover}), and for
 * each failover reads the rule again and writes it only if its weights are
 * still those it decided on (a person's shift in between wins), records the
 * failover on the rule and tells `notify` at once. A failure to read the live
 * rules or target health moves nothing (the error is thrown); a failure to
 * read the metrics only stops 5xx failures from being concluded; a failure to
 * move one service's traffic leaves the others to be judged and is returned
 * in `errors`. A service without a live rule (an edge deploy under way) is
 * left out and said so.
 */
export async function runFailover(clients: FailoverClients, settings: FailoverSettings, options: FailoverOptions): Promise<FailoverRun> {
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    options.log?.(line);
  };
  const policies = settings.policies.filter((p) => p.mode !== "off");
  if (policies.length === 0) {
    say("failover is off for every service");
    return { decisions: [], moved: [], unresolved: false, lines, errors: [] };
  }
  const identity = failoverIdentity(settings);
  const live = await readLiveFleetIfDeployed(clients.elb, identity, policies.map((p) => p.service));
  if (!live) throw new Error(`no load balancer named ${albName(settings.fleet, settings.alb)} in ${settings.region}: nothing to judge`);
  for (const policy of policies.filter((p) => !live.routes.has(p.service))) say(`${policy.service}: no live listener rule (an edge deploy under way?): not judged this run`);
  const judged = policies.filter((p) => live.routes.has(p.service));
  const health = await readRouteHealth(clients.elb, live);
  const minutes = completeMinutes(options.now, Math.max(0, ...judged.map(metricMinutesToRead)));
  const metrics = minutes.length > 0 ? await readRecentMinutes(clients.cloudWatch, live, minutes, say) : undefined;

  const decisions = judged.map((policy) =>
    decideFailover(policy, observe(policy, live.routes.get(policy.service)!, health.get(policy.service), metrics, minutes.slice(-metricMinutesToRead(policy))), options.now),
  );
  const moved: string[] = [];
  const errors: string[] = [];
  let unresolved = false;
  for (const decision of decisions) {
    say(describe(decision));
    if (decision.kind === "held" || (decision.kind === "failover" && decision.heldBack)) unresolved = true;
  }
  const failovers = decisions.filter((d): d is Extract<FailoverDecision, { kind: "failover" }> => d.kind === "failover");
  if (failovers.length > 0 && options.dryRun) for (const decision of failovers) say(`${decision.service}: dry run, nothing was changed`);
  const moveEach = async (assertHeld: () => void) => {
    for (const decision of failovers) {
      try {
        assertHeld();
        const outcome = await moveTraffic(clients.elb, identity, decision, options);
        say(outcome.line);
        if (!outcome.moved) {
          unresolved = true;
          continue;
        }
        moved.push(decision.service);
      } catch (error) {
        unresolved = true;
        const line = `${decision.service}: moving its traffic failed: ${(error as Error).message}`;
        errors.push(line);
        say(line);
        continue;
      }
      try {
        await options.notify?.(`${settings.fleet}: failover of ${decision.service}`, describe(decision));
      } catch (error) {
        // The traffic moved; the people to be told were not: the run fails so that its error is seen.
        const line = `${decision.service}: moved, but telling of it failed: ${(error as Error).message}`;
        errors.push(line);
        say(line);
      }
    }
  };
  if (failovers.length > 0 && !options.dryRun) {
    const reason = `failover of ${failovers.map((d) => `${d.service} off ${d.failed.map((f) => f.cluster).join("+")}`).join(", ")}`;
    const lock = options.lock;
    const waitUntil = Date.now() + (options.sameActorLockWaitMs ?? SAME_ACTOR_LOCK_WAIT_MS);
    for (;;) {
      try {
        if (lock) await holdTrafficLock(lock, { owner: options.actor, reason, leaseSeconds: FAILOVER_LEASE_SECONDS }, moveEach);
        else await moveEach(() => undefined);
        break;
      } catch (error) {
        if (!(error instanceof LockHeldError)) throw error;
        // Each write reads its rule afresh, so a run that waited for another ALB's failover moves from what is live then.
        if (error.holder.owner === options.actor && Date.now() < waitUntil) {
          await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
          continue;
        }
        unresolved = true;
        for (const decision of failovers) say(`${decision.service}: NOT moved: ${describeHolder(error.holder)} holds the traffic lock; the next run judges afresh`);
        break;
      }
    }
  }
  const held = decisions.filter((d) => d.kind === "held");
  if (options.notify && options.notifyHeld && held.length > 0) {
    const subject = `${settings.fleet}: failed cluster left in place for ${held.map((d) => d.service).join(", ")}${options.dryRun ? " (dry run)" : ""}`;
    await options.notify(subject.slice(0, 99), held.map(describe).join("\n"));
  }
  return { decisions, moved, unresolved, lines, errors };
}

/** What finds the live rules the failover of one ALB watches: that ALB, and its services only. */
function failoverIdentity(settings: FailoverSettings): FleetIdentity {
  return { platform: { name: settings.fleet, region: settings.region, services: settings.policies.map((p) => ({ name: p.service, alb: settings.alb })) } };
}

/** The minutes of every routed target group; undefined (and a line saying why) when CloudWatch cannot be read. */
async function readRecentMinutes(
  client: CloudWatchClient,
  live: LiveFleet,
  minutes: readonly number[],
  say: (line: string) => void,
): Promise<Map<string, Map<number, MinuteMetrics>> | undefined> {
  try {
    return await readMinuteMetrics(client, metricTargetsOf(live.routes.values()), new Date(minutes[0]), new Date(minutes[minutes.length - 1] + 60_000));
  } catch (error) {
    say(`CloudWatch could not be read (${(error as Error).name}: ${(error as Error).message}): 5xx failures are not judged this run`);
    return undefined;
  }
}

/** Writes one failover after checking the rule still holds the weights it was decided on. */
async function moveTraffic(
  client: ElasticLoadBalancingV2Client,
  identity: FleetIdentity,
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
