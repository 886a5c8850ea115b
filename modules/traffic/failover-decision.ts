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
   * The last `breachMinutes` complete minutes, oldest first; undefined for a
   * minute without a datapoint, and the whole list undefined when the metrics
   * could not be read (a 5xx failure is then never concluded).
   */
  readonly minutes?: readonly (MinuteOfRequests | undefined)[];
}

/** What was observed of one service. */
export interface ServiceObservation {
  readonly service: string;
  /** By cluster name. */
  readonly clusters: Readonly<Record<string, ClusterObservation>>;
  /** When the failover last moved this service's traffic, from the rule's record. */
  readonly lastFailoverAt?: Date;
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
  /** Move: the failed clusters' weights go to 0, the healthy peers keep theirs and so take the failed share in proportion. */
  | { readonly kind: "failover"; readonly service: string; readonly failed: readonly FailedCluster[]; readonly before: Weights; readonly after: Weights }
  /** A cluster failed but nothing moves, for the reason given (no healthy peer, cooldown, alarm-only). */
  | { readonly kind: "held"; readonly service: string; readonly failed: readonly FailedCluster[]; readonly reason: string };

/** Why a weighted cluster has failed, or undefined when it serves. */
function failureOf(policy: FailoverPolicy, observation: ClusterObservation): Omit<FailedCluster, "cluster"> | undefined {
  if (observation.healthy < policy.minHealthyTargets) {
    const targets = `${observation.healthy} healthy target${observation.healthy === 1 ? "" : "s"}`;
    return { cause: "unhealthy", reason: `${targets}, fewer than minHealthyTargets ${policy.minHealthyTargets}` };
  }
  const minutes = observation.minutes;
  if (!minutes || minutes.length < policy.breachMinutes) return undefined;
  const recent = minutes.slice(-policy.breachMinutes);
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
 * weights. Nothing moves when no weighted peer serves, within the cooldown
 * after the last failover, or in `alarm-only` mode. It never raises a weight:
 * giving traffic back is a person's decision.
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
  const before: Weights = Object.fromEntries(clusters.map((cluster) => [cluster, observed.clusters[cluster].weight]));
  const after: Weights = Object.fromEntries(clusters.map((cluster) => [cluster, failed.some((f) => f.cluster === cluster) ? 0 : before[cluster]]));
  if (observed.lastFailoverAt) {
    const until = new Date(observed.lastFailoverAt.getTime() + policy.cooldownMinutes * 60_000);
    if (now < until) {
      return { kind: "held", service, failed, reason: `in the cooldown after the failover at ${observed.lastFailoverAt.toISOString()}, until ${until.toISOString()}` };
    }
  }
  if (policy.mode === "alarm-only") {
    return { kind: "held", service, failed, reason: `alarm-only: would move to ${formatWeights(after)} (now ${formatWeights(before)})` };
  }
  return { kind: "failover", service, failed, before, after };
}
