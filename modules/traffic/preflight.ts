import { FleetConfig } from "../config/load";
import { fleetAlbs } from "../config/albs";
import { clusterStackName, edgeStackName } from "../constructs/naming";
import { cloudWatchClient, elbClient, stsClient } from "./aws-clients";
import { checkCaller } from "./caller-check";
import { checkEdgeDeploy } from "./edge-deploy-gate";
import { checkStandbyDeploy } from "./standby-gate";

export interface PreflightOptions {
  /** Pass despite refusals, for this reason (echoed). */
  readonly forceReason?: string;
  /** Minutes a cluster must have served no request before it goes on standby. @default 30 */
  readonly idleMinutes?: number;
}

/**
 * Checks the live fleet before `stacks` are deployed: an edge stack (`edge`,
 * `edge-<name>`) must not revert a live failover on its ALB nor give weight
 * to unhealthy target groups (each checks its own ALB only); a
 * `cluster-<name>` going to `standby` must be idle. Throws a refusal; returns
 * the lines saying what was checked. First of all, the caller must have
 * access to the clusters whose in-cluster stacks are deployed.
 */
export async function runPreflight(fleet: FleetConfig, stacks: readonly string[], options: PreflightOptions = {}): Promise<string[]> {
  // First, before anything is created: can the caller reach the clusters whose in-cluster stacks are deployed?
  const lines = await checkCaller(() => stsClient(fleet), fleet, stacks, { forceReason: options.forceReason });
  // Standby scales the node groups of cluster-<name>; its -k8s stack is not gated.
  const gated = fleet.clusters
    .filter(({ config }) => config.state === "standby" && stacks.includes(clusterStackName(config.name)))
    .map(({ config }) => config.name);
  const edges = fleetAlbs(fleet.platform).filter(({ key }) => stacks.includes(edgeStackName(key)));
  if (edges.length === 0 && gated.length === 0) return lines;

  const elb = await elbClient(fleet);
  for (const { key } of edges) lines.push(...(await checkEdgeDeploy(elb, fleet, key, { forceReason: options.forceReason })));
  for (const cluster of gated) {
    const checks = await checkStandbyDeploy(elb, await cloudWatchClient(fleet), fleet, cluster, {
      idleMinutes: options.idleMinutes,
      forceReason: options.forceReason,
    });
    lines.push(...checks);
  }
  return lines;
}
