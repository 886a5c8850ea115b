import { LAST_FAILOVER_TAG } from "./failover";
import { DEPLOYED_WEIGHTS_TAG } from "./weights";

/** AWS takes at most this many tags on one resource. */
export const MAX_TAGS_PER_RESOURCE = 50;

/** Tags the AWS providers put on every resource of the fleet (default tags), before platform.yaml's `tags`. */
export function fleetDefaultTags(fleet: string): Record<string, string> {
  return { fleet, "managed-by": "cdktf" };
}

/** Tags the AWS provider of a cluster's stack adds to every resource, before the cluster file's `tags`. */
export function clusterDefaultTags(cluster: string): Record<string, string> {
  return { cluster };
}

/** A target group's own tags: live commands find its service and cluster by them. */
export function targetGroupTags(fleet: string, cluster: string, service: string): Record<string, string> {
  return { fleet, cluster, service };
}

/** A listener rule's own tags: its service, and the weights last deployed. */
export function listenerRuleTags(fleet: string, service: string, deployedWeights: string): Record<string, string> {
  return { fleet, service, [DEPLOYED_WEIGHTS_TAG]: deployedWeights };
}

/** The most tags a network resource sets of its own: a subnet's `Name` and its Kubernetes role (modules/constructs/network.ts). */
const SUBNET_TAG_KEYS = ["Name", "kubernetes.io/role/elb"];

/**
 * The resources of the fleet-wide stacks (network, edge) carrying the most of
 * the fleet's own tags, default tags included, with those tags' keys.
 */
export function fleetWideOwnTagKeys(): { readonly resource: string; readonly keys: string[] }[] {
  const defaults = Object.keys(fleetDefaultTags(""));
  const own = [
    { resource: "a target group", keys: Object.keys(targetGroupTags("", "", "")) },
    // The failover adds its record to a listener rule when it moves traffic.
    { resource: "a listener rule", keys: [...Object.keys(listenerRuleTags("", "", "")), LAST_FAILOVER_TAG] },
    { resource: "a subnet", keys: SUBNET_TAG_KEYS },
  ];
  return own.map(({ resource, keys }) => ({ resource, keys: [...new Set([...defaults, ...keys])] }));
}

/** Tag keys every resource of a cluster's AWS stack carries of the fleet's own. */
export function clusterOwnTagKeys(): string[] {
  return [...Object.keys(fleetDefaultTags("")), ...Object.keys(clusterDefaultTags(""))];
}
