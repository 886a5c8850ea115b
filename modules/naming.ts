/** Stack of the VPC shared by every cluster. */
export const NETWORK_STACK = "network";
/** Stack of the weighted ALB and its target groups. */
export const EDGE_STACK = "edge";

/** Stack of one cluster's AWS resources: control plane, nodes, IAM. */
export function clusterStackName(cluster: string): string {
  return `cluster-${cluster}`;
}

/** Stack of what runs inside one cluster: the controller and its CRDs, the routed services and their bindings. */
export function inClusterStackName(cluster: string): string {
  return `cluster-${cluster}-k8s`;
}

/** EKS cluster name: unique per fleet. */
export function eksClusterName(fleet: string, cluster: string): string {
  return `${fleet}-${cluster}`;
}

/** Target group name, at most 32 characters given the name lengths the config allows. */
export function targetGroupName(fleet: string, cluster: string, service: string): string {
  return `${fleet}-${cluster}-${service}`;
}

/** Name of the fleet's ALB, by which emergency shifts find it. */
export function albName(fleet: string): string {
  return `${fleet}-alb`;
}

/** The cluster an AWS cluster stack belongs to, or undefined for other stacks. */
export function clusterOfStack(stack: string): string | undefined {
  return /^cluster-(.+?)(-k8s)?$/.exec(stack)?.[1];
}
