import { FleetConfig } from "../config/load";
import { UserError } from "../support/user-error";
import { HEALTH_STATES, HealthCounts } from "./live-fleet";
import { formatShare, formatWeights, sharePercent, Weights } from "../config/weights";
import { printable } from "../support/wording";

/** A change of one service's weights that a gate judges. */
export interface WeightChange {
  readonly service: string;
  readonly before: Weights;
  readonly after: Weights;
}

/** A change a gate refused. */
class GateRefusal extends UserError {
  constructor(readonly refusals: readonly string[]) {
    super(`refused, nothing was changed:\n${refusals.map((r) => `  ${r}`).join("\n")}\noverride only knowingly: --force "<reason>"`);
    this.name = "GateRefusal";
  }
}

/** "0 healthy, 2 unhealthy, 1 initial targets": healthy always, other states when present. */
function describeHealth(counts: HealthCounts | undefined): string {
  if (!counts) return "no live target group";
  return `${ HEALTH_STATES.filter((state) => state === "healthy" || counts[state] > 0)
    .map((state) => `${counts[state]} ${state}`)
    .join(", ")} targets`;
}

/**
 * The health gate, on traffic shares (the ALB sends a weighted target group
 * its share whatever its health): a change may not raise the share of a
 * target group with fewer healthy targets than the service's
 * `minHealthyTargets` (its weight rising, or its peers' falling), nor leave a
 * service without a weighted target group that has that many. Returns one
 * message per refusal (service, cluster, weights, shares, counts); empty when
 * the change may go. Services whose weights do not change are not judged.
 */
export function healthRefusals(
  fleet: FleetConfig,
  changes: readonly WeightChange[],
  health: ReadonlyMap<string, ReadonlyMap<string, HealthCounts>>,
): string[] {
  const refusals: string[] = [];
  for (const { service, before, after } of changes) {
    if (formatWeights(before) === formatWeights(after)) continue;
    const minimum = fleet.platform.services.find((s) => s.name === service)!.minHealthyTargets;
    const countsOf = (cluster: string) => health.get(service)?.get(cluster);
    const healthyEnough = (cluster: string) => (countsOf(cluster)?.healthy ?? 0) >= minimum;
    for (const cluster of Object.keys(after).sort()) {
      const [from, to] = [sharePercent(before, cluster), sharePercent(after, cluster)];
      if (to > 0 && to > from && !healthyEnough(cluster)) {
        refusals.push(
          `${service}: cluster ${cluster} would get weight ${after[cluster]} (now ${before[cluster] ?? 0}), ${formatShare(to)} of the traffic (now ${formatShare(from)}), ` +
            `with ${describeHealth(countsOf(cluster))}; minHealthyTargets is ${minimum}`,
        );
      }
    }
    const weighted = Object.keys(after).filter((cluster) => after[cluster] > 0).sort();
    if (!weighted.some(healthyEnough)) {
      refusals.push(
        `${service}: no weighted cluster would have ${minimum} healthy target${minimum === 1 ? "" : "s"} (${weighted.map((c) => `${c}: ${describeHealth(countsOf(c))}`).join("; ")})`,
      );
    }
  }
  return refusals;
}

/**
 * Throws {@link GateRefusal} for refusals unless forced; a forced pass
 * returns the lines to print, which echo the reason.
 */
export function enforceGate(refusals: readonly string[], forceReason: string | undefined): string[] {
  if (refusals.length === 0) return [];
  if (forceReason === undefined) throw new GateRefusal(refusals);
  if (forceReason.trim() === "") throw new UserError("--force needs a reason: --force \"<why this is safe>\"");
  return [`FORCED past ${refusals.length} refusal${refusals.length === 1 ? "" : "s"}, reason: ${printable(forceReason)}`, ...refusals.map((r) => `  forced: ${r}`)];
}
