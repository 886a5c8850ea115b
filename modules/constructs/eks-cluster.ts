import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EksAddon } from "@cdktf/provider-aws/lib/eks-addon";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LaunchTemplate, LaunchTemplateBlockDeviceMappings } from "@cdktf/provider-aws/lib/launch-template";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { ClusterAccessEntries, ClusterAccessEntriesProps } from "./cluster-access-entries";
import { NodeGroupConfig } from "../config/schema";
import { EncryptionKey, partitionOf } from "./encryption-key";
import { acceptPolicyException } from "../policy/exceptions";
import { policyDocument, servicePrincipalTrust } from "./iam";
import { controlPlaneLogGroup, nodeGroupNamePrefix } from "./naming";

/** Every control-plane log type EKS has. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/** Add-ons that run before any node exists (CoreDNS needs nodes and comes after them). */
const ADDONS_BEFORE_NODES = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"];

/**
 * Block devices of a node, all encrypted gp3. Bottlerocket boots from an OS
 * volume (/dev/xvda, the AMI's size) and keeps containers on a data volume
 * (/dev/xvdb); other AMIs have one root volume (/dev/xvda).
 */
function encryptedVolumes(group: NodeGroupConfig): LaunchTemplateBlockDeviceMappings[] {
  const ebs = (volumeSize?: number) => ({ volumeSize, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" });
  if (group.amiType.startsWith("BOTTLEROCKET")) {
    return [
      { deviceName: "/dev/xvda", ebs: ebs() },
      { deviceName: "/dev/xvdb", ebs: ebs(group.diskSizeGiB) },
    ];
  }
  return [{ deviceName: "/dev/xvda", ebs: ebs(group.diskSizeGiB) }];
}

export interface EksClusterProps {
  /** Name of the EKS cluster, unique in the account and region. */
  readonly clusterName: string;
  readonly accountId: string;
  readonly region: string;
  /** Kubernetes minor version, e.g. "1.33". */
  readonly kubernetesVersion: string;
  /** EKS support for the version; `EXTENDED` costs several times more. @default "STANDARD" */
  readonly supportType?: "STANDARD" | "EXTENDED";
  readonly privateSubnetIds: string[];
  /** @default true */
  readonly endpointPrivateAccess?: boolean;
  /** @default false */
  readonly endpointPublicAccess?: boolean;
  /** CIDRs that may reach a public endpoint. */
  readonly publicAccessCidrs?: string[];
  /** CIDRs (in the VPC or connected to it) that may reach the private endpoint on 443. @default [] */
  readonly privateAccessCidrs?: readonly string[];
  /** Who gets access entries: the deployer, other admins, the plan role. */
  readonly access: Pick<ClusterAccessEntriesProps, "deployerPrincipalArn" | "adminPrincipalArns" | "planPrincipalArn">;
  /**
   * Let EKS give the creating identity (which must be the deployer) its own access entry;
   * changing it replaces the cluster.
   * @default false
   */
  readonly bootstrapCreatorAdmin?: boolean;
  /** @default "172.20.0.0/16" */
  readonly serviceIpv4Cidr?: string;
  /** Days to keep control-plane logs. @default 365 */
  readonly logRetentionDays?: number;
  readonly nodeGroups: readonly NodeGroupConfig[];
  /** Add-on versions by add-on name. @default EKS's default version when the add-on is created, never updated after */
  readonly addonVersions?: Readonly<Record<string, string | undefined>>;
  /** The ALBs that send the cluster's pods traffic, each allowed to reach them on its ports. */
  readonly albs: readonly AlbIngress[];
}

/** An ALB that reaches a cluster's pods. */
export interface AlbIngress {
  /** Its name under platform.yaml `albs:`. @default the ALB of `alb:` */
  readonly albKey?: string;
  /** Its security group. */
  readonly securityGroupId: string;
  /** Pod ports it sends traffic to. */
  readonly targetPorts: readonly number[];
}

/**
 * An EKS control plane with managed node groups and core add-ons: all control
 * plane logs, secrets encrypted with a rotating KMS key, access entries only
 * (no aws-auth ConfigMap), IMDSv2 with hop limit 1 on every node.
 */
export class EksClusterWithNodes extends Construct {
  readonly cluster: EksCluster;
  readonly nodeGroups: EksNodeGroup[];

  constructor(scope: Construct, id: string, props: EksClusterProps) {
    super(scope, id);
    const partition = partitionOf(props.region);
    const managedPolicy = (name: string) => `arn:${partition}:iam::aws:policy/${name}`;

    const key = new EncryptionKey(this, "encryption-key", {
      description: `Encrypts Kubernetes secrets and control-plane logs of EKS cluster ${props.clusterName}`,
      accountId: props.accountId,
      region: props.region,
      logGroupNamePattern: `/aws/eks/${props.clusterName}/*`,
    }).key;
    const retentionDays = props.logRetentionDays ?? 365;
    const controlPlaneLogs = new CloudwatchLogGroup(this, "control-plane-logs", {
      name: controlPlaneLogGroup(props.clusterName),
      retentionInDays: retentionDays,
      kmsKeyId: key.arn,
    });
    if (retentionDays < 365) {
      acceptPolicyException(controlPlaneLogs, "log-group-retention", `${retentionDays} days chosen with the cluster's logRetentionDays`);
    }

    const clusterRole = new IamRole(this, "cluster-role", {
      name: `${props.clusterName}-eks-cluster`,
      assumeRolePolicy: servicePrincipalTrust("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]),
    });
    const clusterPolicy = new IamRolePolicyAttachment(this, "cluster-policy", {
      role: clusterRole.name,
      policyArn: managedPolicy("AmazonEKSClusterPolicy"),
    });
    // Envelope encryption of secrets: the control plane uses the cluster's key, and only that key.
    const secretsEncryption = new IamRolePolicy(this, "cluster-secrets-encryption", {
      role: clusterRole.id,
      name: "secrets-encryption",
      policy: policyDocument([
        { Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], Resource: [key.arn] },
      ]),
    });

    const publicEndpoint = props.endpointPublicAccess ?? false;
    this.cluster = new EksCluster(this, "cluster", {
      name: props.clusterName,
      version: props.kubernetesVersion,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: props.privateSubnetIds,
        endpointPrivateAccess: props.endpointPrivateAccess ?? true,
        endpointPublicAccess: publicEndpoint,
        publicAccessCidrs: publicEndpoint ? props.publicAccessCidrs : undefined,
      },
      accessConfig: {
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: props.bootstrapCreatorAdmin ?? false,
      },
      bootstrapSelfManagedAddons: false,
      upgradePolicy: { supportType: props.supportType ?? "STANDARD" },
      enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
      encryptionConfig: { resources: ["secrets"], provider: { keyArn: key.arn } },
      kubernetesNetworkConfig: { serviceIpv4Cidr: props.serviceIpv4Cidr ?? "172.20.0.0/16" },
      dependsOn: [controlPlaneLogs, clusterPolicy, secretsEncryption],
    });
    if (publicEndpoint) {
      acceptPolicyException(
        this.cluster,
        "eks-private-endpoint",
        "public endpoint turned on with the cluster's endpoint.publicAccess, for deploys from outside the VPC; limited to endpoint.publicAccessCidrs",
      );
    }

    new ClusterAccessEntries(this, "access", {
      ...props.access,
      clusterName: this.cluster.name,
      partition,
      deployerEntryMadeByEks: props.bootstrapCreatorAdmin ?? false,
    });

    for (const alb of props.albs) {
      for (const port of alb.targetPorts) {
        // The ALB of `alb:` keeps the ids it had before `albs:` came.
        new VpcSecurityGroupIngressRule(this, alb.albKey === undefined ? `alb-to-pods-${port}` : `alb-${alb.albKey}-to-pods-${port}`, {
          securityGroupId: this.cluster.vpcConfig.clusterSecurityGroupId,
          referencedSecurityGroupId: alb.securityGroupId,
          description: alb.albKey === undefined ? `ALB to pods on port ${port}` : `ALB ${alb.albKey} to pods on port ${port}`,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
        });
      }
    }

    for (const cidr of props.privateAccessCidrs ?? []) {
      new VpcSecurityGroupIngressRule(this, `api-from-${cidr.replace(/[./]/g, "-")}`, {
        securityGroupId: this.cluster.vpcConfig.clusterSecurityGroupId,
        cidrIpv4: cidr,
        description: `Kubernetes API from ${cidr} (endpoint.privateAccessCidrs)`,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
      });
    }

    const addonsBeforeNodes = ADDONS_BEFORE_NODES.map((name) => this.addon(name, props.addonVersions?.[name], []));

    const nodeRole = new IamRole(this, "node-role", {
      name: `${props.clusterName}-eks-node`,
      assumeRolePolicy: servicePrincipalTrust("ec2.amazonaws.com", ["sts:AssumeRole"]),
    });
    const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy"].map(
      (name) => new IamRolePolicyAttachment(this, `node-${name}`, { role: nodeRole.name, policyArn: managedPolicy(name) }),
    );

    this.nodeGroups = props.nodeGroups.map((group) => {
      const launchTemplate = new LaunchTemplate(this, `launch-template-${group.name}`, {
        name: `${props.clusterName}-${group.name}`,
        description: `Nodes of ${props.clusterName}/${group.name}: IMDSv2 only, encrypted gp3 volumes`,
        updateDefaultVersion: true,
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
        },
        blockDeviceMappings: encryptedVolumes(group),
        tagSpecifications: [{ resourceType: "instance", tags: { Name: `${props.clusterName}-${group.name}` } }],
      });
      return new EksNodeGroup(this, `node-group-${group.name}`, {
        clusterName: this.cluster.name,
        // A change of instance types, capacity type or AMI type replaces a node group. Named by a
        // prefix (EKS adds a unique suffix), the new group is created before the old one is
        // destroyed, so the cluster never runs without nodes; a fixed name would destroy it first.
        nodeGroupNamePrefix: nodeGroupNamePrefix(group.name),
        nodeRoleArn: nodeRole.arn,
        subnetIds: props.privateSubnetIds,
        version: this.cluster.version,
        amiType: group.amiType,
        releaseVersion: group.releaseVersion,
        capacityType: group.capacityType,
        instanceTypes: group.instanceTypes,
        scalingConfig: { minSize: group.minSize, desiredSize: group.desiredSize, maxSize: group.maxSize },
        updateConfig: { maxUnavailablePercentage: 33 },
        launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.toString() },
        dependsOn: [...nodePolicies, ...addonsBeforeNodes],
        lifecycle: { createBeforeDestroy: true },
      });
    });

    this.addon("coredns", props.addonVersions?.coredns, this.nodeGroups);
  }

  private addon(name: string, version: string | undefined, dependsOn: EksNodeGroup[]): EksAddon {
    return new EksAddon(this, `addon-${name}`, {
      clusterName: this.cluster.name,
      addonName: name,
      addonVersion: version,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      dependsOn,
    });
  }
}
