import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { FleetConfig } from "../config/load";
import { clusterStackName } from "../naming";
import { enforceGate } from "./health-gate";
import { readLiveFleetIfDeployed } from "./live-fleet";
import { readTargetGroupMetrics } from "./metrics";

/** Minutes a cluster must have served no request before it goes on standby, unless told otherwise. */
export const DEFAULT_IDLE_MINUTES = 30;

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

  const groups = [...live.routes.values()].filter((r) => r.targetGroups.has(cluster)).map((r) => ({ route: r, arn: r.targetGroups.get(cluster)! }));
  const refusals = groups.filter(({ route }) => route.weights[cluster] > 0).map(({ route }) => `${route.service}: ${cluster} still has live weight ${route.weights[cluster]}: shift its traffic away first`);
  const end = options.now ?? new Date();
  const metrics = await readTargetGroupMetrics(cloudWatch, live.loadBalancerArn, groups.map((g) => g.arn), new Date(end.getTime() - idleMinutes * 60_000), end);
  for (const { route, arn } of groups) {
    const requests = metrics.get(arn)?.requests ?? 0;
    if (requests > 0) refusals.push(`${route.service}: ${cluster} served ${requests} requests in the last ${idleMinutes} min: wait until npm run status shows it idle`);
  }
  return [`${stack}: standby after ${idleMinutes} idle minutes`, ...enforceGate(refusals, options.forceReason)];
}
