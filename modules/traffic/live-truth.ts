import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { clustersRouting, FleetConfig } from "../config/load";
import { formatWeights, sameWeights, Weights } from "../config/weights";
import { failureText } from "./aws-clients";
import { readLiveFleet } from "./live-fleet";

/**
 * What is true after a command failed: the weights on the live rules (read
 * again) and the weights the cluster files hold now, for `services`, and where
 * they differ. A part that cannot be read says so and why. Read-only.
 */
export async function describeLiveAndFiles(
  elb: ElasticLoadBalancingV2Client,
  fleet: FleetConfig,
  services: readonly string[],
  readFiles: () => FleetConfig,
): Promise<string[]> {
  let live: Map<string, Weights> | undefined;
  let files: Map<string, Weights> | undefined;
  const lines: string[] = [];
  try {
    const read = await readLiveFleet(elb, fleet, services);
    live = new Map(services.map((s) => [s, read.routes.get(s)!.weights]));
    lines.push(`live now: ${services.map((s) => `${s} ${formatWeights(live!.get(s)!)}`).join(", ")}`);
  } catch (error) {
    lines.push(`the live rules could not be read back (${failureText(error)}): look with npm run status before doing anything else`);
  }
  try {
    const current = readFiles();
    files = new Map(services.map((s) => [s, Object.fromEntries(clustersRouting(current.clusters, s).map((c) => [c.config.name, c.config.weights[s]]))]));
    lines.push(`the files hold: ${services.map((s) => `${s} ${formatWeights(files!.get(s)!)}`).join(", ")}`);
  } catch (error) {
    lines.push(`the cluster files cannot be read: ${(error as Error).message}`);
  }
  const differing = services.filter((s) => live && files && !sameWeights(live.get(s)!, files.get(s)!));
  if (differing.length > 0) {
    lines.push(`live and files differ for ${differing.join(", ")}: make the files carry the live weights (npm run shift without --now) or shift live again, before the next deploy of edge`);
  }
  return lines;
}
