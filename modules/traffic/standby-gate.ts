import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { FleetConfig } from "../config/load";
import { clusterStackName } from "../constructs/naming";
import { enforceGate } from "./health-gate";
import { DEFAULT_IDLE_MINUTES, servedRequestRefusals } from "./idle";
import { readLiveFleetIfDeployed } from "./live-fleet";

export interface StandbyGateOptions {
  /** Minutes without a request before scaling down. @default 30 */
  readonly idleMinutes?: number;
  /** Deploy despite a refusal, for this reason (echoed). */
  readonly forceReason?: string;
  /** End of the window. @default the current time */
  readonly now?: Date;
}

/**
 * Before `cluster-<name>` is deployed with `state: standby` (its node groups
 * scaled down), checks that none of its target groups has live weight and
 * that they served no request (CloudWatch RequestCount) for the last
 * `idleMinutes`. Returns the lines to print; throws a refusal otherwise.
 */
export async function checkStandbyDeploy(
  elb: ElasticLoadBalancingV2Client,
  cloudWatch: CloudWatchClient,
  fleet: FleetConfig,
  cluster: string,
  options: StandbyGateOptions = {},
): Promise<string[]> {
  const stack = clusterStackName(cluster);
  const config = fleet.clusters.find((c) => c.config.name === cluster)?.config;
  if (config?.state !== "standby") return [`${stack}: not going to standby, nothing to check`];
  const idleMinutes = options.idleMinutes ?? DEFAULT_IDLE_MINUTES;
  const live = await readLiveFleetIfDeployed(elb, fleet, fleet.platform.services.map((s) => s.name));
  if (!live) return [`${stack}: no load balancer deployed, nothing is served`];

  const refusals = [...live.routes.values()]
    .filter((route) => route.weights[cluster] > 0)
    .map((route) => `${route.service}: ${cluster} still has live weight ${route.weights[cluster]}: shift its traffic away first`);
  refusals.push(...(await servedRequestRefusals(cloudWatch, live, cluster, idleMinutes, options.now ?? new Date())));
  return [`${stack}: standby after ${idleMinutes} idle minutes`, ...enforceGate(refusals, options.forceReason)];
}
