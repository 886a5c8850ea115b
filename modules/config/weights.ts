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
