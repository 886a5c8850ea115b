import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { clustersRouting, FleetConfig } from "../config/load";
import { formatWeights, sameWeights, Weights } from "../config/weights";
import { UserError } from "../support/user-error";
import { describeAwsFailure, failureText } from "./aws-clients";
import { readLiveFleetIfDeployed } from "./live-fleet";
import { edgeStacksOf } from "./shift";

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
    // What can be read is said, even when an ALB or a rule is not deployed yet.
    const read = await readLiveFleetIfDeployed(elb, fleet, services);
    const found = services.filter((s) => read?.routes.has(s));
    live = new Map(found.map((s) => [s, read!.routes.get(s)!.weights]));
    if (found.length > 0) lines.push(`live now: ${found.map((s) => `${s} ${formatWeights(live!.get(s)!)}`).join(", ")}`);
    const missing = services.filter((s) => !found.includes(s));
    if (missing.length > 0) lines.push(`no live rule for ${missing.join(", ")} (its ALB or rule is not deployed yet)`);
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
  const differing = services.filter((s) => live?.has(s) && files && !sameWeights(live.get(s)!, files.get(s)!));
  if (differing.length > 0) {
    lines.push(
      `live and files differ for ${differing.join(", ")}: make the files carry the live weights (npm run shift without --now) or shift live again, ` +
        `before the next deploy of ${edgeStacksOf(fleet.platform.services, differing).join(", ")}`,
    );
  }
  return lines;
}

/**
 * Runs a writer of live weights; when it fails, reads back what is live and
 * what the files hold ({@link describeLiveAndFiles}) and adds it to the error
 * (a bug's error is rethrown as it is, after printing them).
 */
export async function withTruthOnFailure<T>(
  elb: ElasticLoadBalancingV2Client,
  fleet: FleetConfig,
  shifts: readonly { readonly service: string }[],
  readFiles: () => FleetConfig,
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const truth = await describeLiveAndFiles(elb, fleet, shifts.map((s) => s.service), readFiles);
    const failure = describeAwsFailure(error);
    if (failure === undefined && !(error instanceof UserError)) {
      console.error(truth.join("\n"));
      throw error;
    }
    throw new UserError([failure ?? (error as Error).message, ...truth].join("\n"));
  }
}
