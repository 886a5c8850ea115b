import { Testing } from "cdktf";
import { EksAccessPolicyAssociation } from "@cdktf/provider-aws/lib/eks-access-policy-association";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { EksClusterProps, EksClusterWithNodes } from "../modules/constructs/eks-cluster";

const props: EksClusterProps = {
  clusterName: "t-blue",
  accountId: "123456789012",
  region: "eu-west-1",
  kubernetesVersion: "1.33",
  privateSubnetIds: ["subnet-a", "subnet-b"],
  endpointPublicAccess: true,
  publicAccessCidrs: ["198.51.100.0/24"],
  access: {
    deployerPrincipalArn: "arn:aws:iam::123456789012:role/deploy",
    adminPrincipalArns: ["arn:aws:iam::123456789012:role/Admin"],
    planPrincipalArn: "arn:aws:iam::123456789012:role/plan",
  },
  nodeGroups: [
    {
      name: "general",
      instanceTypes: ["m6i.large"],
      capacityType: "ON_DEMAND",
      amiType: "AL2023_x86_64_STANDARD",
      minSize: 1,
      desiredSize: 2,
      maxSize: 3,
      diskSizeGiB: 50,
    },
  ],
  albs: [{ securityGroupId: "sg-alb", targetPorts: [8080, 9090] }],
};

type Json = { resource: Record<string, Record<string, Record<string, unknown>>> };

describe("EksClusterWithNodes", () => {
  const text = Testing.synthScope((scope) => new EksClusterWithNodes(scope, "eks", props));
  const json = JSON.parse(text) as Json;

  it("logs every control-plane log type and encrypts secrets with a rotating key", () => {
    expect(text).toHaveResourceWithProperties(EksCluster, {
      name: "t-blue",
      version: "1.33",
      enabled_cluster_log_types: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
      encryption_config: expect.objectContaining({ resources: ["secrets"] }),
      bootstrap_self_managed_addons: false,
    });
    expect(text).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
  });

  it("lets the control plane use the cluster's key, and no other", () => {
    const policy = JSON.parse(Object.values(json.resource.aws_iam_role_policy)[0].policy as string);
    expect(policy.Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
        Resource: [expect.stringMatching(/^\$\{aws_kms_key\..+\.arn\}$/)],
      },
    ]);
  });

  it("keeps control-plane logs for the retention period, encrypted with the cluster's key", () => {
    const logGroup = Object.values(json.resource.aws_cloudwatch_log_group)[0];
    expect(logGroup).toMatchObject({ name: "/aws/eks/t-blue/cluster", retention_in_days: 365 });
    expect(logGroup.kms_key_id).toMatch(/^\$\{aws_kms_key\..+\.arn\}$/);
  });

  it("uses access entries only and restricts the public endpoint", () => {
    expect(text).toHaveResourceWithProperties(EksCluster, {
      access_config: { authentication_mode: "API", bootstrap_cluster_creator_admin_permissions: false },
      vpc_config: expect.objectContaining({
        endpoint_private_access: true,
        endpoint_public_access: true,
        public_access_cidrs: ["198.51.100.0/24"],
      }),
    });
    expect(text).toHaveResourceWithProperties(EksAccessPolicyAssociation, {
      principal_arn: expect.stringContaining("aws_eks_access_entry"),
      access_scope: { type: "cluster" },
    });
  });

  it("gives the deployer and the admins cluster-admin and the plan role view access, one entry each", () => {
    const entries = Object.values(json.resource.aws_eks_access_entry);
    expect(entries.map((e) => [e.principal_arn, e.kubernetes_groups]).sort()).toEqual([
      ["arn:aws:iam::123456789012:role/Admin", undefined],
      ["arn:aws:iam::123456789012:role/deploy", undefined],
      ["arn:aws:iam::123456789012:role/plan", ["fleet-plan-readers"]],
    ]);
    const policies = Object.values(json.resource.aws_eks_access_policy_association).map((a) => (a.policy_arn as string).split("/")[1]);
    expect(policies.sort()).toEqual(["AmazonEKSClusterAdminPolicy", "AmazonEKSClusterAdminPolicy", "AmazonEKSViewPolicy"]);
  });

  it("leaves the deployer's entry to EKS for a cluster created with the bootstrap entry", () => {
    const bootstrapped = JSON.parse(
      Testing.synthScope((scope) => new EksClusterWithNodes(scope, "eks", { ...props, bootstrapCreatorAdmin: true })),
    ) as Json;
    expect(Object.values(bootstrapped.resource.aws_eks_cluster)[0].access_config).toEqual({
      authentication_mode: "API",
      bootstrap_cluster_creator_admin_permissions: true,
    });
    expect(Object.values(bootstrapped.resource.aws_eks_access_entry).map((e) => e.principal_arn).sort()).toEqual([
      "arn:aws:iam::123456789012:role/Admin",
      "arn:aws:iam::123456789012:role/plan",
    ]);
  });

  it("refuses to give a principal two access entries", () => {
    const twice = { ...props, access: { ...props.access, adminPrincipalArns: ["arn:aws:iam::123456789012:role/DEPLOY"] } };
    expect(() => Testing.synthScope((scope) => new EksClusterWithNodes(scope, "eks", twice))).toThrow(
      "arn:aws:iam::123456789012:role/deploy is given two access entries; EKS takes one per principal",
    );
  });

  it("requires IMDSv2 with hop limit 1 on every node", () => {
    expect(text).toHaveResourceWithProperties(LaunchTemplate, {
      metadata_options: { http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 },
    });
    expect(text).toHaveResourceWithProperties(EksNodeGroup, {
      node_group_name_prefix: "general-",
      scaling_config: { min_size: 1, desired_size: 2, max_size: 3 },
      ami_type: "AL2023_x86_64_STANDARD",
    });
  });

  it("installs the core add-ons, CoreDNS after the nodes", () => {
    const addons = Object.values(json.resource.aws_eks_addon);
    expect(addons.map((a) => a.addon_name).sort()).toEqual(["coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]);
    const coredns = addons.find((a) => a.addon_name === "coredns");
    expect(coredns?.depends_on).toEqual([expect.stringMatching(/^aws_eks_node_group\./)]);
  });

  it("pins add-on versions when given", () => {
    const pinned = Testing.synthScope(
      (scope) => new EksClusterWithNodes(scope, "eks", { ...props, addonVersions: { "kube-proxy": "v1.33.0-eksbuild.2" } }),
    );
    const addons = Object.values((JSON.parse(pinned) as Json).resource.aws_eks_addon);
    expect(addons.map((a) => [a.addon_name, a.addon_version]).sort()).toEqual([
      ["coredns", undefined],
      ["eks-pod-identity-agent", undefined],
      ["kube-proxy", "v1.33.0-eksbuild.2"],
      ["vpc-cni", undefined],
    ]);
  });

  it("lets the ALB reach pods on each target port, and nothing else", () => {
    const rules = Object.values(json.resource.aws_vpc_security_group_ingress_rule);
    expect(rules.map((r) => [r.from_port, r.referenced_security_group_id])).toEqual([
      [8080, "sg-alb"],
      [9090, "sg-alb"],
    ]);
    expect(text).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, { description: "ALB to pods on port 8080" });
  });

  it("asks for standard support unless extended support is chosen", () => {
    expect(text).toHaveResourceWithProperties(EksCluster, { upgrade_policy: { support_type: "STANDARD" } });
    const extended = Testing.synthScope((scope) => new EksClusterWithNodes(scope, "eks", { ...props, supportType: "EXTENDED" }));
    expect(extended).toHaveResourceWithProperties(EksCluster, { upgrade_policy: { support_type: "EXTENDED" } });
  });

  it("encrypts both the OS and the data volume of Bottlerocket nodes", () => {
    const bottlerocket = Testing.synthScope(
      (scope) =>
        new EksClusterWithNodes(scope, "eks", { ...props, nodeGroups: [{ ...props.nodeGroups[0], amiType: "BOTTLEROCKET_x86_64" }] }),
    );
    const template = Object.values((JSON.parse(bottlerocket) as Json).resource.aws_launch_template)[0];
    expect(template.block_device_mappings).toEqual([
      { device_name: "/dev/xvda", ebs: { volume_type: "gp3", encrypted: "true", delete_on_termination: "true" } },
      { device_name: "/dev/xvdb", ebs: { volume_size: 50, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" } },
    ]);
    const standard = Object.values(json.resource.aws_launch_template)[0];
    expect(standard.block_device_mappings).toEqual([
      { device_name: "/dev/xvda", ebs: { volume_size: 50, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" } },
    ]);
  });

  it("lets the networks of endpoint.privateAccessCidrs reach the private API endpoint, on 443 only", () => {
    const reachable = Testing.synthScope(
      (scope) => new EksClusterWithNodes(scope, "eks", { ...props, privateAccessCidrs: ["10.99.0.0/24", "192.168.8.0/22"] }),
    );
    const rules = Object.entries((JSON.parse(reachable) as Json).resource.aws_vpc_security_group_ingress_rule).filter(([, r]) => r.cidr_ipv4);
    expect(rules.map(([id, r]) => [id, r.cidr_ipv4, r.from_port, r.to_port, r.ip_protocol, r.description])).toEqual([
      ["eks_api-from-10-99-0-0-24_19072144", "10.99.0.0/24", 443, 443, "tcp", "Kubernetes API from 10.99.0.0/24 (endpoint.privateAccessCidrs)"],
      ["eks_api-from-192-168-8-0-22_74764849", "192.168.8.0/22", 443, 443, "tcp", "Kubernetes API from 192.168.8.0/22 (endpoint.privateAccessCidrs)"],
    ]);
    expect(rules.every(([, r]) => String(r.security_group_id).includes("vpc_config[0].cluster_security_group_id"))).toBe(true);
  });

  it("omits public CIDRs for a private-only endpoint", () => {
    const privateOnly = Testing.synthScope(
      (scope) => new EksClusterWithNodes(scope, "eks", { ...props, endpointPublicAccess: false }),
    );
    const cluster = Object.values((JSON.parse(privateOnly) as Json).resource.aws_eks_cluster)[0];
    expect(cluster.vpc_config).toEqual(expect.objectContaining({ endpoint_public_access: false }));
    expect((cluster.vpc_config as Record<string, unknown>).public_access_cidrs).toBeUndefined();
  });
});
