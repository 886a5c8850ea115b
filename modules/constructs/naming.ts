import { createHash } from "crypto";

/** Stack of the VPC shared by every cluster. */
export const NETWORK_STACK = "network";
/** Stack of the weighted ALB of `alb:` and its target groups. */
export const EDGE_STACK = "edge";

/** Stack of an ALB and its target groups: `edge` for the ALB of `alb:` (key undefined), `edge-<name>` for one of `albs:`. */
export function edgeStackName(albKey: string | undefined): string {
  return albKey === undefined ? EDGE_STACK : `${EDGE_STACK}-${albKey}`;
}

/** True for the stack of an ALB. */
export function isEdgeStack(stack: string): boolean {
  return stack === EDGE_STACK || stack.startsWith(`${EDGE_STACK}-`);
}

/** Stack of one cluster's AWS resources: control plane, nodes, IAM. */
export function clusterStackName(cluster: string): string {
  return `cluster-${cluster}`;
}

/** Stack of what runs inside one cluster: the controller and its CRDs, the routed services and their bindings. */
export function inClusterStackName(cluster: string): string {
  return `cluster-${cluster}-k8s`;
}

/** Every stack of a fleet with these clusters and these ALBs under `albs:`, sorted. */
export function fleetStackNames(clusters: readonly string[], albKeys: readonly string[]): string[] {
  return [
    NETWORK_STACK,
    EDGE_STACK,
    ...albKeys.map((key) => edgeStackName(key)),
    ...clusters.flatMap((cluster) => [clusterStackName(cluster), inClusterStackName(cluster)]),
  ].sort();
}

/** EKS cluster name: unique per fleet. */
export function eksClusterName(fleet: string, cluster: string): string {
  return `${fleet}-${cluster}`;
}

/** What identifies a target group: its owner, and the attributes whose change replaces it. */
export interface TargetGroupIdentity {
  readonly fleet: string;
  readonly cluster: string;
  readonly service: string;
  /** Attributes that force a new target group (port, protocol, target type). */
  readonly port: number;
  readonly protocol: string;
  readonly targetType: string;
  /** The ALB under `albs:` the group is on. @default the ALB of `alb:` */
  readonly alb?: string;
}

/**
 * Six hex digits naming a target group's generation: they change exactly when
 * an attribute forcing a new target group changes, so the new group can be
 * created before the old one is destroyed, and its binding is a new object.
 */
function targetGroupGeneration(identity: TargetGroupIdentity): string {
  const { fleet, cluster, service, port, protocol, targetType, alb } = identity;
  // The ALB of `alb:` adds nothing, so that its groups kept their names when `albs:` came.
  const attributes = [fleet, cluster, service, port, protocol, targetType, ...(alb === undefined ? [] : [alb])];
  return createHash("sha256").update(JSON.stringify(attributes)).digest("hex").slice(0, 6);
}

/**
 * Target group name: `<fleet>-<cluster>-<service>` (cut to 25 characters) and
 * the generation, at most 32 characters as AWS requires, deterministic.
 */
export function targetGroupName(identity: TargetGroupIdentity): string {
  const owner = `${identity.fleet}-${identity.cluster}-${identity.service}`.slice(0, 25).replace(/-+$/, "");
  return `${owner}-${targetGroupGeneration(identity)}`;
}

/** Name of the TargetGroupBinding (and its Helm release) of a target group's generation. */
export function targetGroupBindingName(identity: TargetGroupIdentity): string {
  return `${identity.service}-${targetGroupGeneration(identity)}`;
}

/**
 * Prefix of a node group's EKS name, `<group>-`: Terraform adds a unique suffix,
 * so that a replacement group can exist beside the one it replaces.
 */
export function nodeGroupNamePrefix(group: string): string {
  return `${group}-`;
}

/** An EKS cluster's control-plane log group, which EKS writes to by this name. */
export function controlPlaneLogGroup(eksCluster: string): string {
  return `/aws/eks/${eksCluster}/cluster`;
}

/** Name of one of the fleet's ALBs, by which the live commands find it: `<fleet>-alb` for the ALB of `alb:`, `<fleet>-<name>-alb` for one of `albs:`. */
export function albName(fleet: string, albKey?: string): string {
  return albKey === undefined ? `${fleet}-alb` : `${fleet}-${albKey}-alb`;
}

/** Name of the automatic failover of one of the fleet's ALBs (its function, role, topic, log group, and its alarms' prefix). */
export function failoverName(fleet: string, albKey?: string): string {
  return albKey === undefined ? `${fleet}-failover` : `${fleet}-${albKey}-failover`;
}

/** The cluster an AWS cluster stack belongs to, or undefined for other stacks. */
export function clusterOfStack(stack: string): string | undefined {
  return /^cluster-(.+?)(-k8s)?$/.exec(stack)?.[1];
}
