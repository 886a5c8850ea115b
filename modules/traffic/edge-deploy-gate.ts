import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { clustersRouting, FleetConfig } from "../config/load";
import { servicesOnAlb } from "../config/albs";
import { albName, edgeStackName, inClusterStackName, targetGroupName } from "../constructs/naming";
import { targetGroupIdentityOf } from "../constructs/weighted-alb";
import { enforceGate, healthRefusals, WeightChange } from "./health-gate";
import { readLiveFleetIfDeployed, readRouteHealth, targetGroupNameOf } from "./live-fleet";
import { formatWeights, sameShares, sameWeights } from "../config/weights";

export interface EdgeDeployGateOptions {
  /** Deploy despite refusals, for this reason (echoed). */
  readonly forceReason?: string;
}

/**
 * Checks, before the edge stack of one ALB (`albKey` under `albs:`;
 * undefined: `edge`, the ALB of `alb:`) is deployed, the weights the files
 * are about to set for its services against its live listener rules (ELBv2,
 * read-only; no other ALB is read):
 * - failover guard: where a rule's live weights differ from the weights
 *   Terraform last deployed (its `deployed-weights` tag), a `shift --now` is
 *   live and not yet in the files; the deploy must carry the live weights, or
 *   weights giving each cluster the same share;
 * - health gate: no cluster may gain weight with fewer healthy targets than
 *   the service's `minHealthyTargets`, and no service may be left without one.
 * Throws a refusal naming service, cluster and weights or counts; returns the
 * lines to print (what was checked, and any forced refusals).
 */
export async function checkEdgeDeploy(
  client: ElasticLoadBalancingV2Client,
  fleet: FleetConfig,
  albKey: string | undefined,
  options: EdgeDeployGateOptions = {},
): Promise<string[]> {
  const stack = edgeStackName(albKey);
  const services = servicesOnAlb(fleet.platform.services, albKey).map((s) => s.name);
  if (services.length === 0) return [`${stack}: ${albName(fleet.platform.name, albKey)} routes no service, nothing live to protect`];
  const live = await readLiveFleetIfDeployed(client, fleet, services);
  if (!live) return [`${stack}: no load balancer deployed yet${albKey === undefined ? "" : ` (${albName(fleet.platform.name, albKey)})`}, nothing live to protect`];

  const refusals: string[] = [];
  const changes: WeightChange[] = [];
  const lines: string[] = [];
  for (const service of services) {
    const route = live.routes.get(service);
    if (!route) {
      lines.push(`${stack}: ${service}: no live rule yet (created by this deploy)`);
      continue;
    }
    const files = Object.fromEntries(clustersRouting(fleet.clusters, service).map((c) => [c.config.name, c.config.weights[service]]));
    // Target groups the deploy adds are not live yet; the lifecycle rules start them at weight 0.
    const filesOnLiveGroups = Object.fromEntries(Object.entries(files).filter(([cluster]) => route.targetGroups.has(cluster)));
    // Files that send each cluster the live share (0/50 against a live 0/100) revert nothing.
    if (!sameShares(route.weights, filesOnLiveGroups)) {
      if (route.deployedWeights === undefined) {
        refusals.push(
          `${service}: live weights ${formatWeights(route.weights)} differ from the files' ${formatWeights(files)} and the rule has no deployed-weights tag to tell a live failover from drift`,
        );
      } else if (!sameWeights(route.deployedWeights, route.weights)) {
        refusals.push(
          `${service}: a live failover (live ${formatWeights(route.weights)}, last deployed ${formatWeights(route.deployedWeights)}) would be reverted to the files' ${formatWeights(files)}: ` +
            "merge the failover's change (the files shift --now wrote) first, or make the files carry the live weights or their shares",
        );
      }
    }
    refusals.push(...replacedGroupRefusals(fleet, service, route.targetGroups, files));
    changes.push({ service, before: route.weights, after: filesOnLiveGroups });
    lines.push(`${stack}: ${service}: live ${formatWeights(route.weights)} → files ${formatWeights(files)}`);
  }
  refusals.push(...healthRefusals(fleet, changes, await readRouteHealth(client, live)));
  return [...lines, ...enforceGate(refusals, options.forceReason)];
}

/**
 * A target group that the deploy replaces (its port, protocol or target type
 * changed) starts empty: the listener rule moves to it with the `edge` deploy,
 * and its pods are registered only when `cluster-<name>-k8s` binds them after.
 * With a weight above 0 its share of requests would get 503s in between.
 */
function replacedGroupRefusals(fleet: FleetConfig, service: string, liveGroups: ReadonlyMap<string, string>, files: Readonly<Record<string, number>>): string[] {
  const routed = fleet.platform.services.find((s) => s.name === service)!;
  return Object.entries(files)
    .filter(([cluster, weight]) => weight > 0 && liveGroups.has(cluster))
    .filter(([cluster]) => targetGroupNameOf(liveGroups.get(cluster)!) !== targetGroupName(targetGroupIdentityOf(fleet.platform.name, cluster, routed)))
    .map(
      ([cluster, weight]) =>
        `${service}: cluster ${cluster}'s target group is replaced (${targetGroupNameOf(liveGroups.get(cluster)!)} → ${targetGroupName(targetGroupIdentityOf(fleet.platform.name, cluster, routed))}) ` +
        `while it has weight ${weight}: the new group has no targets until ${inClusterStackName(cluster)} binds them, so its share would get 503s; ` +
        "shift its weight to 0 first, or add the service under a new name (docs/runbooks.md, \"Change a service's container port\")",
    );
}
