import type { FailoverPolicy } from "../config/failover";
import { formatWeights, Weights } from "../config/weights";

/** One minute of a target group's requests, as CloudWatch reports them. */
export interface MinuteOfRequests {
  readonly requests: number;
  readonly target5xx: number;
}

/** What was observed of one cluster of a service. */
export interface ClusterObservation {
  /** Its weight on the live listener rule. */
  readonly weight: number;
  /** Healthy targets in its target group. */
  readonly healthy: number;
  /**
   * The last complete minutes, oldest first ({@link metricMinutesToRead} of
   * them: ALB datapoints arrive a minute or two late); undefined for a minute
   * without a datapoint, and the whole list undefined when the metrics could
   * not be read (a 5xx failure is then never concluded).
   */
  readonly minutes?: readonly (MinuteOfRequests | undefined)[];
}

/** What was observed of one service. */
export interface ServiceObservation {
  readonly service: string;
  /** By cluster name. */
  readonly clusters: Readonly<Record<string, ClusterObservation>>;
  /** The last failover of this service, from the rule's record: when, and which clusters it moved off. */
  readonly lastFailover?: { readonly at: Date; readonly clusters: readonly string[] };
}

/** Minutes an ALB datapoint may arrive late: the newest minutes are judged only once they have data. */
const METRIC_LAG_MINUTES = 3;

/** How many of the last complete minutes to read for a policy: its breach minutes and the metrics' lag. */
export function metricMinutesToRead(policy: FailoverPolicy): number {
  return policy.breachMinutes + METRIC_LAG_MINUTES;
}

/** A weighted cluster found failed, and why. */
export interface FailedCluster {
  readonly cluster: string;
  /** What failed: too few healthy targets, or too many target 5xx for too long. */
  readonly cause: "unhealthy" | "5xx";
  readonly reason: string;
}

/** What the failover decided for one service. */
export type FailoverDecision =
  /** Nothing failed: nothing to do. */
  | { readonly kind: "steady"; readonly service: string }
  /**
   * Move: the failed clusters' weights go to 0, the healthy peers keep theirs and so take the failed
   * share in proportion; `heldBack`, failed clusters the cooldown keeps where they are.
   */
  | {
      readonly kind: "failover";
      readonly service: string;
      readonly failed: readonly FailedCluster[];
      readonly before: Weights;
      readonly after: Weights;
      readonly heldBack?: { readonly failed: readonly FailedCluster[]; readonly reason: string };
    }
  /** A cluster failed but nothing moves, for the reason given (no healthy peer, cooldown, alarm-only). */
  | { readonly kind: "held"; readonly service: string; readonly failed: readonly FailedCluster[]; readonly reason: string };

/** Why a weighted cluster has failed, or undefined when it serves. */
function failureOf(policy: FailoverPolicy, observation: ClusterObservation): Omit<FailedCluster, "cluster"> | undefined {
  if (observation.healthy < policy.minHealthyTargets) {
    const targets = `${observation.healthy} healthy target${observation.healthy === 1 ? "" : "s"}`;
    return { cause: "unhealthy", reason: `${targets}, fewer than minHealthyTargets ${policy.minHealthyTargets}` };
  }
  // The newest breach minutes that have data, consecutive: a minute without data in between is no bad minute.
  const minutes = observation.minutes ?? [];
  let newest = minutes.length - 1;
  while (newest >= 0 && minutes[newest] === undefined) newest--;
  if (newest + 1 < policy.breachMinutes) return undefined;
  const recent = minutes.slice(newest + 1 - policy.breachMinutes, newest + 1);
  const bad = (minute: MinuteOfRequests | undefined) =>
    minute !== undefined && minute.requests >= policy.minRequestsPerMinute && (minute.target5xx / minute.requests) * 100 > policy.max5xxPercent;
  if (!recent.every(bad)) return undefined;
  const shares = recent.map((m) => `${((m!.target5xx / m!.requests) * 100).toFixed(1)} %`).join(", ");
  const minutesText = `${policy.breachMinutes} consecutive minute${policy.breachMinutes === 1 ? "" : "s"}`;
  return { cause: "5xx", reason: `target 5xx above ${policy.max5xxPercent} % for ${minutesText} (${shares})` };
}

/**
 * The failover's decision for one service, from what was observed: a
 * weighted cluster with fewer healthy targets than `minHealthyTargets`, or
 * whose target 5xx share breached the limit for `breachMinutes` consecutive
 * minutes, has failed; its weight goes to 0 and the weighted peers that serve
 * (enough healthy targets, no breach) take its share in proportion to their
 * weights. Nothing moves when no weighted peer serves, or in `alarm-only`
 * mode; a cluster moved off within the cooldown (and given its weight back
 * since) is not moved again. It never raises a weight: giving traffic back is
 * a person's decision.
 */
export function decideFailover(policy: FailoverPolicy, observed: ServiceObservation, now: Date): FailoverDecision {
  const service = observed.service;
  if (policy.mode === "off") return { kind: "steady", service };
  const clusters = Object.keys(observed.clusters).sort();
  const weighted = clusters.filter((cluster) => observed.clusters[cluster].weight > 0);
  const failed: FailedCluster[] = [];
  for (const cluster of weighted) {
    const failure = failureOf(policy, observed.clusters[cluster]);
    if (failure) failed.push({ cluster, ...failure });
  }
  if (failed.length === 0) return { kind: "steady", service };

  const peers = weighted.filter((cluster) => !failed.some((f) => f.cluster === cluster));
  if (peers.length === 0) {
    return { kind: "held", service, failed, reason: "no weighted peer has enough healthy targets: moving would make things worse, so nothing moves" };
  }
  const last = observed.lastFailover;
  const until = last ? new Date(last.at.getTime() + policy.cooldownMinutes * 60_000) : undefined;
  const cooling = failed.filter((f) => last && until && now < until && last.clusters.includes(f.cluster));
  const cooldown = `moved off at ${last?.at.toISOString()} and given weight back since: in the cooldown until ${until?.toISOString()}, a person decides`;
  const movable = failed.filter((f) => !cooling.includes(f));
  if (movable.length === 0) return { kind: "held", service, failed, reason: cooldown };

  const before: Weights = Object.fromEntries(clusters.map((cluster) => [cluster, observed.clusters[cluster].weight]));
  const after: Weights = Object.fromEntries(clusters.map((cluster) => [cluster, movable.some((f) => f.cluster === cluster) ? 0 : before[cluster]]));
  if (policy.mode === "alarm-only") {
    return { kind: "held", service, failed, reason: `alarm-only: would move to ${formatWeights(after)} (now ${formatWeights(before)})` };
  }
  return { kind: "failover", service, failed: movable, before, after, ...(cooling.length > 0 ? { heldBack: { failed: cooling, reason: cooldown } } : {}) };
}
