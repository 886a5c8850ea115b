import { Construct } from "constructs";
import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { EksAccessPolicyAssociation } from "@cdktf/provider-aws/lib/eks-access-policy-association";

/** Kubernetes group of the plan role, bound in-cluster to read Helm's release Secrets. */
export const PLAN_READERS_GROUP = "fleet-plan-readers";

export interface ClusterAccessEntriesProps {
  readonly clusterName: string;
  /** AWS partition of the cluster's region. */
  readonly partition: string;
  /** Runs the deploys: cluster-admin. */
  readonly deployerPrincipalArn: string;
  /** Cluster-admins besides the deployer. @default [] */
  readonly adminPrincipalArns?: readonly string[];
  /** Plans pull requests: view policy and the {@link PLAN_READERS_GROUP} group. @default none */
  readonly planPrincipalArn?: string;
  /**
   * EKS gave the creating identity (the deployer) its own entry when the cluster was
   * created, so the deployer gets none here: a second entry fails with 409.
   * @default false
   */
  readonly deployerEntryMadeByEks?: boolean;
}

/**
 * The EKS access entries of a cluster: one per principal, made explicit (no
 * bootstrap entry for whoever happens to create the cluster). Admins get
 * AmazonEKSClusterAdminPolicy; the plan role gets AmazonEKSViewPolicy and a
 * Kubernetes group for reading Helm releases, not cluster-admin.
 */
export class ClusterAccessEntries extends Construct {
  constructor(scope: Construct, id: string, props: ClusterAccessEntriesProps) {
    super(scope, id);
    const admins = [...(props.deployerEntryMadeByEks ? [] : [props.deployerPrincipalArn]), ...(props.adminPrincipalArns ?? [])];
    const principals = [...admins, ...(props.planPrincipalArn ? [props.planPrincipalArn] : [])].map((arn) => arn.toLowerCase());
    const repeated = principals.find((arn, i) => principals.indexOf(arn) !== i);
    if (repeated) throw new Error(`${repeated} is given two access entries; EKS takes one per principal`);

    for (const principalArn of admins) {
      this.entry(principalArn, "AmazonEKSClusterAdminPolicy", props);
    }
    if (props.planPrincipalArn) {
      this.entry(props.planPrincipalArn, "AmazonEKSViewPolicy", props, [PLAN_READERS_GROUP]);
    }
  }

  private entry(principalArn: string, accessPolicy: string, props: ClusterAccessEntriesProps, kubernetesGroups?: string[]): void {
    const id = principalArn.replace(/[^A-Za-z0-9]+/g, "-");
    const entry = new EksAccessEntry(this, `access-${id}`, {
      clusterName: props.clusterName,
      principalArn,
      type: "STANDARD",
      kubernetesGroups,
    });
    new EksAccessPolicyAssociation(this, `policy-${id}`, {
      clusterName: props.clusterName,
      principalArn: entry.principalArn,
      policyArn: `arn:${props.partition}:eks::aws:cluster-access-policy/${accessPolicy}`,
      accessScope: { type: "cluster" },
    });
  }
}
