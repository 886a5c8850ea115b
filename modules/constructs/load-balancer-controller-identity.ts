import { Construct } from "constructs";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
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

/**
 * The controller's policy: Describe calls anywhere, target changes in these
 * target groups only (a cluster that routes no service has none, and IAM
 * refuses a statement on no resource). Its size grows with each ARN.
 */
export function controllerPolicy(targetGroupArns: string[]): string {
  return policyDocument([
    { Sid: "Describe", Effect: "Allow", Action: CONTROLLER_DESCRIBE_ACTIONS, Resource: "*" },
    ...(targetGroupArns.length > 0 ? [{ Sid: "RegisterTargets", Effect: "Allow" as const, Action: CONTROLLER_TARGET_ACTIONS, Resource: targetGroupArns }] : []),
  ]);
}

export interface LoadBalancerControllerIdentityProps {
  /** EKS cluster the controller runs in. */
  readonly clusterName: string;
  /** The only target groups the controller may register pods in; none for a cluster that routes no service. */
  readonly targetGroupArns: string[];
}

/**
 * IAM for an AWS Load Balancer Controller that only serves TargetGroupBindings:
 * it describes, and registers or deregisters targets in this cluster's target
 * groups. It creates no load balancers, listeners or security group rules, so
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
    new IamRolePolicy(this, "policy", {
      role: this.role.id,
      name: "target-group-binding",
      policy: controllerPolicy(props.targetGroupArns),
    });
    new EksPodIdentityAssociation(this, "pod-identity", {
      clusterName: props.clusterName,
      namespace: CONTROLLER_NAMESPACE,
      serviceAccount: CONTROLLER_SERVICE_ACCOUNT,
      roleArn: this.role.arn,
    });
  }
}
