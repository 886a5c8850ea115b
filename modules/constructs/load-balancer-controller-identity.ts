import { Construct } from "constructs";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { partitionOf } from "./encryption-key";
import { policyDocument, servicePrincipalTrust } from "./iam";

/** Namespace the controller runs in. */
export const CONTROLLER_NAMESPACE = "kube-system";
/** Service account of the controller, as the chart creates it. */
export const CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller";

/**
 * Read-only calls the controller makes while reconciling TargetGroupBindings.
 * AWS does not scope Describe calls to resources, so these take "*".
 */
export const CONTROLLER_DESCRIBE_ACTIONS = [
  "ec2:DescribeAvailabilityZones",
  "ec2:DescribeInstances",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeSubnets",
  "ec2:DescribeVpcs",
  "elasticloadbalancing:DescribeListeners",
  "elasticloadbalancing:DescribeLoadBalancers",
  "elasticloadbalancing:DescribeRules",
  "elasticloadbalancing:DescribeTags",
  "elasticloadbalancing:DescribeTargetGroupAttributes",
  "elasticloadbalancing:DescribeTargetGroups",
  "elasticloadbalancing:DescribeTargetHealth",
];

/** Calls that change targets; allowed only on this cluster's target groups. */
export const CONTROLLER_TARGET_ACTIONS = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"];

/** Characters IAM takes in a role's inline policies together, whitespace not counted. */
export const MAX_INLINE_POLICY_CHARACTERS = 10_240;
/** Characters IAM takes in one managed policy, whitespace not counted. */
export const MAX_MANAGED_POLICY_CHARACTERS = 6_144;
/** Managed policies IAM attaches to a role (its default quota). */
export const MAX_MANAGED_POLICIES_PER_ROLE = 10;
/** Characters of a target group's name at most, and of the id AWS ends its ARN with. */
const TARGET_GROUP_NAME_MAX = 32;
const TARGET_GROUP_ID_DIGITS = 16;

const describeStatement = { Sid: "Describe", Effect: "Allow" as const, Action: CONTROLLER_DESCRIBE_ACTIONS, Resource: "*" };
const registerStatement = (arns: string[]) => ({ Sid: "RegisterTargets", Effect: "Allow" as const, Action: CONTROLLER_TARGET_ACTIONS, Resource: arns });

/**
 * The controller's inline policy: Describe calls anywhere, target changes in
 * these target groups only (a cluster that routes no service has none, and
 * IAM refuses a statement on no resource).
 */
export function controllerPolicy(targetGroupArns: string[]): string {
  return policyDocument([describeStatement, ...(targetGroupArns.length > 0 ? [registerStatement(targetGroupArns)] : [])]);
}

/** A managed policy of the controller: target changes in more of its target groups. */
function overflowPolicy(targetGroupArns: string[]): string {
  return policyDocument([registerStatement(targetGroupArns)]);
}

/** How many ARNs as long as `arn` fit a document within `limit` characters. */
function arnsFitting(document: (arns: string[]) => string, arn: string, limit: number): number {
  let count = 0;
  while (document(Array(count + 1).fill(arn)).length <= limit) count++;
  return count;
}

/**
 * Where each target group ARN of a cluster goes: the inline policy takes as
 * many as surely fit (each counted as long as a target group ARN can be in
 * the account and region), then managed policies take the rest, so the
 * policies grow with the services without ever passing IAM's limits. A
 * cluster of a few dozen services has the inline policy alone.
 */
export function controllerPolicyChunks(targetGroupArns: readonly string[], partition: string, region: string, accountId: string): { inline: string[]; managed: string[][] } {
  const capacity = controllerPolicyCapacity(partition, region, accountId);
  const managed: string[][] = [];
  for (let i = capacity.inline; i < targetGroupArns.length; i += capacity.perManaged) managed.push(targetGroupArns.slice(i, i + capacity.perManaged));
  return { inline: targetGroupArns.slice(0, capacity.inline), managed };
}

/** How many target group ARNs the inline policy and each managed policy of a controller surely take, in this account and region. */
export function controllerPolicyCapacity(partition: string, region: string, accountId: string): { readonly inline: number; readonly perManaged: number } {
  const longest = `arn:${partition}:elasticloadbalancing:${region}:${accountId}:targetgroup/${"x".repeat(TARGET_GROUP_NAME_MAX)}/${"0".repeat(TARGET_GROUP_ID_DIGITS)}`;
  return {
    inline: arnsFitting(controllerPolicy, longest, MAX_INLINE_POLICY_CHARACTERS),
    perManaged: arnsFitting(overflowPolicy, longest, MAX_MANAGED_POLICY_CHARACTERS),
  };
}

export interface LoadBalancerControllerIdentityProps {
  /** EKS cluster the controller runs in. */
  readonly clusterName: string;
  readonly region: string;
  readonly accountId: string;
  /** The only target groups the controller may register pods in; none for a cluster that routes no service. */
  readonly targetGroupArns: string[];
}

/**
 * IAM for an AWS Load Balancer Controller that only serves TargetGroupBindings:
 * it describes, and registers or deregisters targets in this cluster's target
 * groups, each named by its ARN (in managed policies beside the inline one when
 * they are many). It creates no load balancers, listeners or security group rules, so
 * it gets none of the stock policy's write access. Delivered by EKS Pod Identity.
 */
export class LoadBalancerControllerIdentity extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: LoadBalancerControllerIdentityProps) {
    super(scope, id);
    this.role = new IamRole(this, "role", {
      name: `${props.clusterName}-lb-controller`,
      description: `AWS Load Balancer Controller of ${props.clusterName}: target registration only`,
      assumeRolePolicy: servicePrincipalTrust("pods.eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]),
    });
    const chunks = controllerPolicyChunks(props.targetGroupArns, partitionOf(props.region), props.region, props.accountId);
    new IamRolePolicy(this, "policy", {
      role: this.role.id,
      name: "target-group-binding",
      policy: controllerPolicy(chunks.inline),
    });
    chunks.managed.forEach((arns, i) => {
      const policy = new IamPolicy(this, `overflow-policy-${i + 1}`, {
        name: `${props.clusterName}-lb-controller-${i + 1}`,
        description: `AWS Load Balancer Controller of ${props.clusterName}: target registration in more of its target groups`,
        policy: overflowPolicy(arns),
      });
      new IamRolePolicyAttachment(this, `overflow-policy-${i + 1}-attachment`, { role: this.role.name, policyArn: policy.arn });
    });
    new EksPodIdentityAssociation(this, "pod-identity", {
      clusterName: props.clusterName,
      namespace: CONTROLLER_NAMESPACE,
      serviceAccount: CONTROLLER_SERVICE_ACCOUNT,
      roleArn: this.role.arn,
    });
  }
}
