/** Weights of one service's clusters, by cluster name. */
export type Weights = Readonly<Record<string, number>>;

/**
 * Tag on each listener rule holding the weights Terraform last set, written
 * only by deploys of the edge stack: `shift --now` changes the rule's actions
 * and leaves it alone, so live weights that differ from it are a failover that
 * the repository does not hold yet.
 */
export const DEPLOYED_WEIGHTS_TAG = "deployed-weights";

/** `blue=50 green=50`, clusters sorted by name (a valid ELBv2 tag value). */
export function formatWeights(weights: Weights): string {
  return Object.keys(weights)
    .sort()
    .map((cluster) => `${cluster}=${weights[cluster]}`)
    .join(" ");
}

/** Reads a {@link formatWeights} text; undefined when it is not one. */
export function parseWeightsText(text: string): Record<string, number> | undefined {
  const pairs = text.trim().split(/\s+/).map((part) => /^([a-z][a-z0-9-]*)=(\d{1,3})$/.exec(part));
  if (pairs.length === 0 || pairs.some((match) => !match)) return undefined;
  return Object.fromEntries(pairs.map((match) => [match![1], Number(match![2])]));
}

export function sameWeights(a: Weights, b: Weights): boolean {
  return formatWeights(a) === formatWeights(b);
}

/**
 * True when both send each of the same clusters the same share of traffic:
 * `blue=0 green=50` and `blue=0 green=100` alike. Weights that are all 0
 * (which send nothing anywhere) share traffic only with weights all 0.
 */
export function sameShares(a: Weights, b: Weights): boolean {
  const clusters = Object.keys(a).sort();
  if (clusters.join(" ") !== Object.keys(b).sort().join(" ")) return false;
  const totalA = totalWeight(a);
  const totalB = totalWeight(b);
  if (totalA === 0 || totalB === 0) return totalA === totalB;
  return clusters.every((cluster) => a[cluster] * totalB === b[cluster] * totalA);
}

function totalWeight(weights: Weights): number {
  return Object.values(weights).reduce((a, b) => a + b, 0);
}

/**
 * A cluster's share of a service's traffic under these weights, in percent
 * (0 when every weight is 0): what the ALB sends it, whatever its health.
 */
export function sharePercent(weights: Weights, cluster: string): number {
  const total = totalWeight(weights);
  return total === 0 ? 0 : ((weights[cluster] ?? 0) / total) * 100;
}

/** A share for people: "98%", "0.1%" (one decimal below 10%, whole percents above). */
export function formatShare(percent: number): string {
  return `${percent > 0 && percent < 10 ? Math.round(percent * 10) / 10 : Math.round(percent)}%`;
}
