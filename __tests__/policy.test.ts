import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { evaluatePolicies, formatPolicyReport, readSynthesizedStacks, SynthesizedStack } from "../modules/policy/evaluate";
import type { PolicyRule, ResourceJson } from "../modules/policy/rule";
import { POLICY_RULES } from "../modules/policy/rules";
import { projectRoot } from "../modules/support/project-root";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { exampleSources, synthFleet, withClusterFile } from "./helpers/fleet";
import { entryPoint } from "./helpers/entry-point";

function reportOf(sources: Parameters<typeof synthFleet>[0]) {
  return evaluatePolicies(readSynthesizedStacks(synthFleet(sources).outdir));
}

const ruleIds = (items: readonly { rule: { id: string } }[]) => items.map((i) => i.rule.id).sort();

describe("the generated Terraform", () => {
  it("of the example has no findings, and lists the exceptions its configuration chose", () => {
    const report = reportOf(exampleSources());
    expect(report.findings).toEqual([]);
    expect(ruleIds(report.exceptions)).toEqual([
      "alb-access-logs",
      "alb-deletion-protection",
      "alb-internal",
      "alb-waf",
      "eks-private-endpoint",
      "eks-private-endpoint",
      "lambda-dead-letter-queue",
      "lambda-in-vpc",
      "listener-https",
      "no-public-ingress",
    ]);
    expect(report.resourcesEvaluated).toBeGreaterThan(60);
  });

  it.each([1, 3, 5])("of a generated %i-cluster fleet has no findings", (count) => {
    const report = reportOf(generatedFleetSources(count));
    expect(report.findings).toEqual([]);
    expect(report.exceptions.filter((e) => e.rule.id === "eks-private-endpoint")).toHaveLength(count);
  });

  it("of a cluster that routes no service has no empty IAM statement", () => {
    const sources = generatedFleetSources(2);
    const idle = withClusterFile(sources, "clusters/c01.yaml", sources.clusters[1].text.replace(/weights:\n.*\n/, "weights: {}\n"));
    const synthesized = synthFleet(idle);
    const report = evaluatePolicies(readSynthesizedStacks(synthesized.outdir));
    expect(report.findings).toEqual([]);
    const policies = Object.values(synthesized.stack("cluster-c01").resource!.aws_iam_role_policy);
    const controller = policies.map((p) => JSON.parse(p.policy as string)).find((d) => d.Statement.some((s: { Sid?: string }) => s.Sid === "Describe"));
    expect(controller.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(["Describe"]);
  });

  it("reports a cluster whose public endpoint is open to the internet", () => {
    const sources = generatedFleetSources(1);
    const open = withClusterFile(sources, "clusters/c00.yaml", sources.clusters[0].text.replace("198.51.100.0/24", "0.0.0.0/0"));
    const report = reportOf(open);
    expect(report.findings.map((f) => [f.rule.id, f.stack, f.message])).toEqual([
      ["eks-public-endpoint-restricted", "cluster-c00", "public endpoint reachable from anywhere: 0.0.0.0/0"],
    ]);
  });

  it("reasons about address ranges: two halves of IPv4 are anywhere", () => {
    const sources = generatedFleetSources(1);
    const halves = withClusterFile(sources, "clusters/c00.yaml", sources.clusters[0].text.replace("[198.51.100.0/24]", "[0.0.0.0/1, 128.0.0.0/1]"));
    expect(reportOf(halves).findings.map((f) => [f.rule.id, f.stack, f.message])).toEqual([
      ["eks-public-endpoint-restricted", "cluster-c00", "public endpoint reachable from anywhere: 0.0.0.0/1, 128.0.0.0/1"],
    ]);
  });

  it("treats ALB ingress from two halves of IPv4 as ingress from anywhere, the declared exception of a public ALB", () => {
    const sources = generatedFleetSources(1);
    const halves = { ...sources, platform: { ...sources.platform, text: sources.platform.text.replace("alb:\n", "alb:\n  ingressCidrs: [0.0.0.0/1, 128.0.0.0/1]\n") } };
    const report = reportOf(halves);
    expect(report.findings).toEqual([]);
    const ingress = report.exceptions.filter((e) => e.rule.id === "no-public-ingress");
    expect(ingress.map((e) => e.message)).toEqual(Array(4).fill("ingress from anywhere: 0.0.0.0/1, 128.0.0.0/1"));
  });

  it.each([
    ["0.0.0.0/00", ["0.0.0.0/00"]],
    ["000.0.0.0/0", ["000.0.0.0/0"]],
    ["1.2.3.4/0", ["1.2.3.4/0"]],
    ["::/0", ["::/0"]],
  ])("finds ingress from anywhere written as %s", (cidr, open) => {
    const rule = POLICY_RULES.find((r) => r.id === "no-public-ingress")!;
    const body = { description: "x", security_group_id: "sg", ip_protocol: "tcp", from_port: 22, to_port: 22, [cidr.includes(":") ? "cidr_ipv6" : "cidr_ipv4"]: cidr };
    const context = { address: "aws_vpc_security_group_ingress_rule.r", resourcesOfType: () => [["aws_vpc_security_group_ingress_rule.r", body]] as [string, Record<string, unknown>][] };
    expect(rule.check(body, context)).toBe(`ingress from anywhere: ${open.join(", ")}`);
  });

  it("does not join rules of other ports or groups into anywhere", () => {
    const rule = POLICY_RULES.find((r) => r.id === "no-public-ingress")!;
    const low = { description: "x", security_group_id: "sg", ip_protocol: "tcp", from_port: 22, to_port: 22, cidr_ipv4: "0.0.0.0/1" };
    const highOtherPort = { ...low, from_port: 443, to_port: 443, cidr_ipv4: "128.0.0.0/1" };
    const highOtherGroup = { ...low, security_group_id: "sg2", cidr_ipv4: "128.0.0.0/1" };
    const high = { ...low, cidr_ipv4: "128.0.0.0/1" };
    const context = (bodies: Record<string, unknown>[]) => ({
      address: "aws_vpc_security_group_ingress_rule.a",
      resourcesOfType: () => bodies.map((b, i) => [`aws_vpc_security_group_ingress_rule.r${i}`, b]) as [string, Record<string, unknown>][],
    });
    expect(rule.check(low, context([low, highOtherPort, highOtherGroup]))).toBeUndefined();
    expect(rule.check(low, context([low, high]))).toBe("ingress from anywhere: 0.0.0.0/1, 128.0.0.0/1");
  });

  it("declares no exception for what the configuration keeps secure", () => {
    const sources = generatedFleetSources(1);
    const privateCluster = withClusterFile(
      sources,
      "clusters/c00.yaml",
      sources.clusters[0].text.replace("  publicAccess: true\n  publicAccessCidrs: [198.51.100.0/24]\n", "  privateAccess: true\n"),
    );
    const locked = {
      ...privateCluster,
      platform: {
        ...privateCluster.platform,
        text: privateCluster.platform.text.replace(
          "alb:\n",
          "alb:\n  internal: true\n  ingressCidrs: [10.0.0.0/8]\n  accessLogsBucket: acme-alb-logs\n",
        ),
      },
    };
    const report = reportOf(locked);
    expect(report.findings).toEqual([]);
    // The failover function's two are its design's, whatever the configuration (docs/security.md).
    expect(ruleIds(report.exceptions)).toEqual(["lambda-dead-letter-queue", "lambda-in-vpc"]);
    const withoutFailover = reportOf({ ...locked, platform: { ...locked.platform, text: `${locked.platform.text}failover:\n  mode: "off"\n` } });
    expect(withoutFailover.findings).toEqual([]);
    expect(withoutFailover.exceptions).toEqual([]);
  });
});

/** One stack holding the given resources, as `type.name` → body. */
function stackOf(resources: Record<string, ResourceJson>): SynthesizedStack {
  const json: { resource: Record<string, Record<string, ResourceJson>> } = { resource: {} };
  for (const [address, body] of Object.entries(resources)) {
    const [type, name] = address.split(".");
    (json.resource[type] ??= {})[name] = body;
  }
  return { name: "bad", json };
}

const goodLaunchTemplate = {
  metadata_options: { http_tokens: "required", http_put_response_hop_limit: 1 },
  block_device_mappings: [{ ebs: { encrypted: "true" } }],
};
const iamPolicy = (statements: object[]) => ({ policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) });

/** A Deployment as the fleet writes it, with `change` applied to its one container and pod. */
function deployment(change: { container?: ResourceJson; pod?: ResourceJson } = {}): ResourceJson {
  const container = {
    name: "web",
    image: "registry.example.com/web:1.2.3",
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "64Mi" } },
    readiness_probe: { http_get: { path: "/healthz", port: "8080" } },
    security_context: { allow_privilege_escalation: false, privileged: false, read_only_root_filesystem: true, capabilities: { drop: ["ALL"] } },
    ...change.container,
  };
  const pod = {
    automount_service_account_token: false,
    security_context: { run_as_non_root: true, seccomp_profile: { type: "RuntimeDefault" } },
    container: [container],
    ...change.pod,
  };
  return { spec: { template: { spec: pod } } };
}

/** For each rule, resources that violate it (and only it, where possible). */
const violations: Record<string, Record<string, ResourceJson>> = {
  "eks-public-endpoint-restricted": { "aws_eks_cluster.c": { vpc_config: { endpoint_public_access: true, public_access_cidrs: ["0.0.0.0/0"] } } },
  "eks-private-endpoint": { "aws_eks_cluster.c": { vpc_config: { endpoint_public_access: true, public_access_cidrs: ["10.0.0.0/8"] } } },
  "eks-control-plane-logs": { "aws_eks_cluster.c": { enabled_cluster_log_types: ["api", "audit"] } },
  "eks-secrets-encryption": { "aws_eks_cluster.c": { vpc_config: { endpoint_public_access: false } } },
  "kms-key-rotation": { "aws_kms_key.k": { enable_key_rotation: false, policy: "{}" } },
  "kms-key-policy": { "aws_kms_key.k": { enable_key_rotation: true } },
  "imdsv2-required": { "aws_launch_template.t": { ...goodLaunchTemplate, metadata_options: { http_tokens: "optional", http_put_response_hop_limit: 1 } } },
  "imds-hop-limit": { "aws_launch_template.t": { ...goodLaunchTemplate, metadata_options: { http_tokens: "required", http_put_response_hop_limit: 2 } } },
  "ebs-encrypted": { "aws_launch_template.t": { ...goodLaunchTemplate, block_device_mappings: [{ ebs: { encrypted: "false" } }] } },
  "node-group-launch-template": { "aws_eks_node_group.n": { node_group_name: "n" } },
  "alb-drop-invalid-headers": { "aws_lb.a": { internal: true, enable_deletion_protection: true, access_logs: { bucket: "b" } } },
  "alb-desync-mitigation": { "aws_lb.a": { internal: true, desync_mitigation_mode: "monitor", drop_invalid_header_fields: true, enable_deletion_protection: true, access_logs: { bucket: "b" } } },
  "alb-deletion-protection": { "aws_lb.a": { internal: true, drop_invalid_header_fields: true, access_logs: { bucket: "b" } } },
  "alb-access-logs": { "aws_lb.a": { internal: true, drop_invalid_header_fields: true, enable_deletion_protection: true } },
  "alb-waf": { "aws_lb.a": { internal: false, drop_invalid_header_fields: true, enable_deletion_protection: true, access_logs: { bucket: "b" } } },
  "alb-internal": { "aws_lb.a": { internal: false } },
  "listener-https": { "aws_lb_listener.l": { port: 80, protocol: "HTTP", default_action: [{ type: "forward" }] } },
  "listener-tls-policy": { "aws_lb_listener.l": { port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-2016-08" } },
  "target-group-health-check": { "aws_lb_target_group.t": { health_check: { enabled: true } } },
  "security-group-described": { "aws_security_group.s": { description: "Managed by Terraform" } },
  "no-public-ingress": { "aws_vpc_security_group_ingress_rule.r": { description: "ssh", cidr_ipv4: "0.0.0.0/0", from_port: 22 } },
  "no-public-egress": { "aws_vpc_security_group_egress_rule.r": { description: "all", cidr_ipv4: "0.0.0.0/0" } },
  "default-security-group-closed": {
    "aws_vpc.v": {},
    "aws_flow_log.f": { vpc_id: "${aws_vpc.v.id}" },
    "aws_default_security_group.d": { vpc_id: "${aws_vpc.v.id}", ingress: [{ cidr_blocks: ["10.0.0.0/8"] }] },
  },
  "vpc-flow-logs": { "aws_vpc.v": {}, "aws_default_security_group.d": { vpc_id: "${aws_vpc.v.id}" } },
  "subnet-no-public-ip": { "aws_subnet.s": { map_public_ip_on_launch: true } },
  "log-group-kms": { "aws_cloudwatch_log_group.g": { retention_in_days: 365 } },
  "log-group-retention": { "aws_cloudwatch_log_group.g": { retention_in_days: 30, kms_key_id: "k" } },
  "iam-no-wildcard-actions": { "aws_iam_role_policy.p": iamPolicy([{ Effect: "Allow", Action: ["ec2:Describe*"], Resource: "*" }]) },
  "iam-scoped-resources": { "aws_iam_role_policy.p": iamPolicy([{ Effect: "Allow", Action: ["s3:PutObject"], Resource: "*" }]) },
  "iam-no-empty-statement": {
    "aws_iam_role_policy.p": iamPolicy([{ Sid: "RegisterTargets", Effect: "Allow", Action: ["elasticloadbalancing:RegisterTargets"], Resource: [] }]),
  },
  "k8s-non-root": { "kubernetes_deployment_v1.d": deployment({ pod: { security_context: { seccomp_profile: { type: "RuntimeDefault" } } } }) },
  "k8s-read-only-root-filesystem": {
    "kubernetes_deployment_v1.d": deployment({ container: { security_context: { allow_privilege_escalation: false, capabilities: { drop: ["ALL"] } } } }),
  },
  "k8s-no-privilege-escalation": {
    "kubernetes_deployment_v1.d": deployment({ container: { security_context: { read_only_root_filesystem: true, privileged: true, capabilities: { drop: ["ALL"] } } } }),
  },
  "k8s-capabilities-dropped": {
    "kubernetes_deployment_v1.d": deployment({ container: { security_context: { allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ["NET_RAW"] } } } }),
  },
  "k8s-seccomp": { "kubernetes_deployment_v1.d": deployment({ pod: { security_context: { run_as_non_root: true } } }) },
  "k8s-service-account-token": { "kubernetes_deployment_v1.d": deployment({ pod: { automount_service_account_token: true } }) },
  "k8s-image-pinned": { "kubernetes_deployment_v1.d": deployment({ container: { image: "registry.example.com/web:latest" } }) },
  "k8s-resources": { "kubernetes_deployment_v1.d": deployment({ container: { resources: { requests: { cpu: "100m" } } } }) },
  "k8s-readiness-probe": { "kubernetes_deployment_v1.d": deployment({ container: { readiness_probe: undefined } }) },
  "lambda-concurrency-limit": { "aws_lambda_function.f": { runtime: "nodejs22.x", dead_letter_config: { target_arn: "q" }, vpc_config: { subnet_ids: ["s"] } } },
  "lambda-dead-letter-queue": { "aws_lambda_function.f": { runtime: "nodejs22.x", reserved_concurrent_executions: 1, vpc_config: { subnet_ids: ["s"] } } },
  "lambda-in-vpc": { "aws_lambda_function.f": { runtime: "nodejs22.x", reserved_concurrent_executions: 1, dead_letter_config: { target_arn: "q" } } },
  "lambda-supported-runtime": {
    "aws_lambda_function.f": { runtime: "nodejs18.x", reserved_concurrent_executions: 1, dead_letter_config: { target_arn: "q" }, vpc_config: { subnet_ids: ["s"] } },
  },
  "sns-topic-encrypted": { "aws_sns_topic.t": { name: "t" } },
  "target-registration-scoped": {
    "aws_iam_role_policy.p": iamPolicy([
      { Effect: "Allow", Action: ["elasticloadbalancing:RegisterTargets"], Resource: ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/*"] },
    ]),
  },
};

/** What each rule reports on its violation above: the resource and what is wrong with it. */
const violationFindings: Record<string, string> = {
  "eks-public-endpoint-restricted": "aws_eks_cluster.c: public endpoint reachable from anywhere: 0.0.0.0/0",
  "eks-private-endpoint": "aws_eks_cluster.c: the API server endpoint is public",
  "eks-control-plane-logs": "aws_eks_cluster.c: control-plane logs missing: authenticator, controllerManager, scheduler",
  "eks-secrets-encryption": "aws_eks_cluster.c: secrets are not envelope-encrypted with KMS",
  "kms-key-rotation": "aws_kms_key.k: key rotation is off",
  "kms-key-policy": "aws_kms_key.k: no key policy: the default policy applies",
  "imdsv2-required": "aws_launch_template.t: IMDSv1 is allowed: http_tokens is not \"required\"",
  "imds-hop-limit": "aws_launch_template.t: http_put_response_hop_limit is 2, not 1",
  "ebs-encrypted": "aws_launch_template.t: a block device is not encrypted",
  "node-group-launch-template": "aws_eks_node_group.n: no launch template: EKS defaults allow pods to reach IMDS",
  "alb-drop-invalid-headers": "aws_lb.a: drop_invalid_header_fields is not true",
  "alb-desync-mitigation": "aws_lb.a: desync_mitigation_mode is monitor",
  "alb-deletion-protection": "aws_lb.a: deletion protection is off",
  "alb-access-logs": "aws_lb.a: access logs are off",
  "alb-waf": "aws_lb.a: no WAFv2 web ACL is associated",
  "alb-internal": "aws_lb.a: the ALB is internet-facing",
  "listener-https": "aws_lb_listener.l: plain HTTP listener on port 80 serves traffic",
  "listener-tls-policy": "aws_lb_listener.l: TLS policy ELBSecurityPolicy-2016-08 is not a TLS 1.3 policy with nothing below TLS 1.2",
  "target-group-health-check": "aws_lb_target_group.t: health check has no path",
  "security-group-described": "aws_security_group.s: no description",
  "no-public-ingress": "aws_vpc_security_group_ingress_rule.r: ingress from anywhere: 0.0.0.0/0",
  "no-public-egress": "aws_vpc_security_group_egress_rule.r: egress to anywhere: 0.0.0.0/0",
  "default-security-group-closed": "aws_vpc.v: the default security group has rules",
  "vpc-flow-logs": "aws_vpc.v: no flow log for this VPC",
  "subnet-no-public-ip": "aws_subnet.s: map_public_ip_on_launch is true",
  "log-group-kms": "aws_cloudwatch_log_group.g: no kms_key_id",
  "log-group-retention": "aws_cloudwatch_log_group.g: retention of 30 days is under a year",
  "iam-no-wildcard-actions": "aws_iam_role_policy.p: wildcard actions: ec2:Describe*",
  "iam-scoped-resources": "aws_iam_role_policy.p: on every resource: s3:PutObject",
  "iam-no-empty-statement": "aws_iam_role_policy.p: policy: Statement[0] (RegisterTargets) has an empty Resource list (IAM refuses it: MalformedPolicyDocument)",
  "k8s-non-root": "kubernetes_deployment_v1.d: container web: may run as root (runAsNonRoot)",
  "k8s-read-only-root-filesystem": "kubernetes_deployment_v1.d: container web: writable root filesystem",
  "k8s-no-privilege-escalation": "kubernetes_deployment_v1.d: container web: may escalate privileges",
  "k8s-capabilities-dropped": "kubernetes_deployment_v1.d: container web: does not drop ALL capabilities",
  "k8s-seccomp": "kubernetes_deployment_v1.d: no seccomp profile",
  "k8s-service-account-token": "kubernetes_deployment_v1.d: mounts a service account token",
  "k8s-image-pinned": "kubernetes_deployment_v1.d: container web: image not pinned",
  "k8s-resources": "kubernetes_deployment_v1.d: container web: missing CPU/memory requests or memory limit",
  "k8s-readiness-probe": "kubernetes_deployment_v1.d: container web: no readiness probe",
  "target-registration-scoped": "aws_iam_role_policy.p: target registration allowed on arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/*",
  "lambda-concurrency-limit": "aws_lambda_function.f: no reserved concurrency limit",
  "lambda-dead-letter-queue": "aws_lambda_function.f: no dead-letter queue",
  "lambda-in-vpc": "aws_lambda_function.f: not attached to a VPC",
  "lambda-supported-runtime": "aws_lambda_function.f: runtime nodejs18.x is deprecated",
  "sns-topic-encrypted": "aws_sns_topic.t: not encrypted (kms_master_key_id)",
};

describe("each policy rule", () => {
  it("holds for a Deployment as the fleet writes it", () => {
    expect(evaluatePolicies([stackOf({ "kubernetes_deployment_v1.d": deployment() })]).findings).toEqual([]);
  });

  it("has a deliberately bad resource that it catches", () => {
    expect(Object.keys(violations).sort()).toEqual(POLICY_RULES.map((r) => r.id).sort());
  });

  it.each(Object.entries(violations))("%s catches its violation", (ruleId, resources) => {
    const report = evaluatePolicies([stackOf(resources)]);
    expect(report.findings.map((f) => f.rule.id)).toContain(ruleId);
    const finding = report.findings.find((f) => f.rule.id === ruleId)!;
    expect(report.findings.filter((f) => f.rule.id === ruleId).map((f) => `${f.address}: ${f.message}`)).toEqual([violationFindings[ruleId]]);
    expect(finding.stack).toBe("bad");
    expect([...finding.rule.checkov, ...finding.rule.trivy, ...(finding.rule.accessAnalyzer ?? [])].length).toBeGreaterThan(0);
  });
});

describe("the EKS endpoint rules", () => {
  const endpointFindings = (cluster: ResourceJson) =>
    evaluatePolicies([stackOf({ "aws_eks_cluster.c": { enabled_cluster_log_types: ["api", "audit", "authenticator", "controllerManager", "scheduler"], ...cluster } })])
      .findings.filter((f) => ["eks-private-endpoint", "eks-public-endpoint-restricted"].includes(f.rule.id))
      .map((f) => `${f.rule.id}: ${f.message}`)
      .sort();
  const publicFromAnywhere = [
    "eks-private-endpoint: the API server endpoint is public",
    "eks-public-endpoint-restricted: public endpoint reachable from anywhere: no public_access_cidrs",
  ];

  it.each([
    ["no vpc_config", {}],
    ["a vpc_config without endpoint_public_access (public, AWS's default)", { vpc_config: { subnet_ids: ["s"] } }],
    ["endpoint_public_access true and no public_access_cidrs", { vpc_config: { endpoint_public_access: true } }],
    ["endpoint_public_access true and an empty public_access_cidrs", { vpc_config: [{ endpoint_public_access: true, public_access_cidrs: [] }] }],
  ])("take %s as a public endpoint reachable from anywhere", (_, cluster) => {
    expect(endpointFindings(cluster)).toEqual(publicFromAnywhere);
  });

  it("take a public endpoint restricted to some addresses as public only", () => {
    expect(endpointFindings({ vpc_config: { public_access_cidrs: ["198.51.100.0/24"] } })).toEqual(["eks-private-endpoint: the API server endpoint is public"]);
  });

  it.each([
    ["an object", { vpc_config: { endpoint_public_access: false } }],
    ["a list", { vpc_config: [{ endpoint_public_access: false, public_access_cidrs: ["0.0.0.0/0"] }] }],
  ])("hold for a private endpoint written as %s", (_, cluster) => {
    expect(endpointFindings(cluster)).toEqual([]);
  });
});

describe("each policy rule, at its edges", () => {
  /** One rule's verdict on `body` at `address`, beside `others` in the same stack. */
  const verdict = (id: string, body: ResourceJson, address: string, others: Record<string, ResourceJson> = {}) => {
    const all: Record<string, ResourceJson> = { [address]: body, ...others };
    const resourcesOfType = (type: string) => Object.entries(all).filter(([a]) => a.split(".")[0] === type);
    return POLICY_RULES.find((r) => r.id === id)!.check(body, { address, resourcesOfType });
  };
  const policy = (statement: object | object[]) => ({ policy: JSON.stringify({ Version: "2012-10-17", Statement: statement }) });
  const allLogs = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

  it.each<[string, string, ResourceJson, string | undefined, Record<string, ResourceJson>?]>([
    ["eks-control-plane-logs", "all five logs", { enabled_cluster_log_types: allLogs }, undefined],
    ["eks-control-plane-logs", "no log setting", {}, "control-plane logs missing: api, audit, authenticator, controllerManager, scheduler"],
    ["eks-secrets-encryption", "secrets under a KMS key", { encryption_config: { resources: ["secrets"], provider: { key_arn: "k" } } }, undefined],
    ["eks-secrets-encryption", "a key, not for secrets", { encryption_config: [{ resources: [], provider: [{ key_arn: "k" }] }] }, "secrets are not envelope-encrypted with KMS"],
    ["eks-secrets-encryption", "secrets without a key", { encryption_config: { resources: ["secrets"] } }, "secrets are not envelope-encrypted with KMS"],
    ["kms-key-rotation", "rotation as the string true", { enable_key_rotation: "true" }, undefined],
    ["kms-key-policy", "an empty policy", { policy: "" }, "no key policy: the default policy applies"],
    ["imdsv2-required", "tokens required", { metadata_options: [{ http_tokens: "required" }] }, undefined],
    ["imdsv2-required", "no metadata options", {}, 'IMDSv1 is allowed: http_tokens is not "required"'],
    ["imds-hop-limit", "no hop limit", {}, "http_put_response_hop_limit is unset, not 1"],
    ["imds-hop-limit", "hop limit 1", { metadata_options: { http_put_response_hop_limit: 1 } }, undefined],
    ["ebs-encrypted", "no block device mapping", {}, "no block device mapping: the root volume's encryption is left to the AMI"],
    ["ebs-encrypted", "every device encrypted", { block_device_mappings: [{ ebs: { encrypted: true } }, { ebs: [{ encrypted: "true" }] }] }, undefined],
    ["ebs-encrypted", "one device of two unencrypted", { block_device_mappings: [{ ebs: { encrypted: true } }, { ebs: {} }] }, "a block device is not encrypted"],
    ["node-group-launch-template", "a launch template by id", { launch_template: { id: "lt" } }, undefined],
    ["node-group-launch-template", "a launch template by name", { launch_template: [{ name: "lt" }] }, undefined],
    ["alb-drop-invalid-headers", "dropped", { drop_invalid_header_fields: true }, undefined],
    ["alb-desync-mitigation", "defensive", { desync_mitigation_mode: "defensive" }, undefined],
    ["alb-deletion-protection", "protected", { enable_deletion_protection: "true" }, undefined],
    ["alb-access-logs", "logs on", { access_logs: { bucket: "b" } }, undefined],
    ["alb-access-logs", "a bucket, but disabled", { access_logs: { bucket: "b", enabled: false } }, "access logs are off"],
    ["alb-waf", "internal", { internal: true }, undefined],
    ["alb-waf", "a web ACL associated", { internal: false }, undefined, { "aws_wafv2_web_acl_association.w": { resource_arn: "${aws_lb.a.arn}" } }],
    ["alb-waf", "a web ACL on another ALB", { internal: false }, "no WAFv2 web ACL is associated", { "aws_wafv2_web_acl_association.w": { resource_arn: "${aws_lb.other.arn}" } }],
    ["alb-internal", "internal", { internal: "true" }, undefined],
    ["listener-https", "HTTPS", { protocol: "HTTPS", port: 443 }, undefined],
    ["listener-https", "TLS", { protocol: "TLS", port: 443 }, undefined],
    ["listener-https", "HTTP redirecting to HTTPS", { protocol: "HTTP", port: 80, default_action: [{ type: "redirect", redirect: { protocol: "HTTPS" } }] }, undefined],
    ["listener-https", "HTTP redirecting to HTTP", { protocol: "HTTP", port: 80, default_action: { type: "redirect", redirect: { protocol: "HTTP" } } }, "plain HTTP listener on port 80 serves traffic"],
    ["listener-https", "no protocol, no action", { port: 8080 }, "plain HTTP listener on port 8080 serves traffic"],
    ["listener-tls-policy", "HTTP", { protocol: "HTTP" }, undefined],
    ["listener-tls-policy", "a TLS 1.3 policy", { protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }, undefined],
    ["listener-tls-policy", "the provider's default", { protocol: "HTTPS" }, "TLS policy (provider default) is not a TLS 1.3 policy with nothing below TLS 1.2"],
    ["target-group-health-check", "a path", { health_check: { path: "/healthz" } }, undefined],
    ["target-group-health-check", "no health check", {}, "no health check"],
    ["target-group-health-check", "a disabled health check", { health_check: { enabled: false, path: "/" } }, "no health check"],
    ["security-group-described", "described", { description: "nodes" }, undefined],
    ["security-group-described", "blank", { description: "  " }, "no description"],
    ["security-group-described", "not described", {}, "no description"],
    ["no-public-ingress", "inline rules from anywhere", { ingress: [{ cidr_blocks: ["10.0.0.0/8"] }, { ipv6_cidr_blocks: ["::/0"] }] }, "ingress from anywhere: ::/0"],
    ["no-public-ingress", "inline rules from a network", { ingress: { cidr_blocks: ["10.0.0.0/8"] } }, undefined],
    ["no-public-egress", "inline rules to anywhere", { egress: [{ cidr_blocks: ["0.0.0.0/0"] }] }, "egress to anywhere: 0.0.0.0/0"],
    ["no-public-egress", "a rule to a network", { cidr_ipv4: "10.0.0.0/8" }, undefined],
    ["default-security-group-closed", "closed", {}, undefined, { "aws_default_security_group.d": { vpc_id: "${aws_vpc.v.id}" } }],
    ["default-security-group-closed", "not managed", {}, "the default security group is not managed, so it keeps its allow-all rules"],
    ["default-security-group-closed", "another VPC's", {}, "the default security group is not managed, so it keeps its allow-all rules", { "aws_default_security_group.d": { vpc_id: "${aws_vpc.other.id}" } }],
    ["default-security-group-closed", "with egress", {}, "the default security group has rules", { "aws_default_security_group.d": { vpc_id: "${aws_vpc.v.id}", egress: { cidr_blocks: ["0.0.0.0/0"] } } }],
    ["vpc-flow-logs", "a flow log", {}, undefined, { "aws_flow_log.f": { vpc_id: "${aws_vpc.v.id}" } }],
    ["vpc-flow-logs", "another VPC's flow log", {}, "no flow log for this VPC", { "aws_flow_log.f": { vpc_id: "${aws_vpc.other.id}" } }],
    ["subnet-no-public-ip", "private", { map_public_ip_on_launch: false }, undefined],
    ["log-group-kms", "a key", { kms_key_id: "k" }, undefined],
    ["log-group-retention", "a year", { retention_in_days: 365 }, undefined],
    ["log-group-retention", "364 days", { retention_in_days: 364 }, "retention of 364 days is under a year"],
    ["log-group-retention", "0 days (forever)", { retention_in_days: 0 }, "no retention set: logs are kept forever without a decision"],
    ["log-group-retention", "no retention", {}, "no retention set: logs are kept forever without a decision"],
    ["iam-no-wildcard-actions", "named actions, and a wildcard only denied", policy([{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }, { Effect: "Deny", Action: "s3:*", Resource: "*" }]), undefined],
    ["iam-no-wildcard-actions", "one statement, not a list", policy({ Effect: "Allow", Action: ["s3:Get*", "s3:PutObject"], Resource: "r" }), "wildcard actions: s3:Get*"],
    ["iam-no-wildcard-actions", "no policy", {}, undefined],
    ["iam-scoped-resources", "read-only calls on *", policy([{ Effect: "Allow", Action: ["ec2:DescribeInstances", "s3:ListBucket", "iam:GetRole"], Resource: ["*"] }]), undefined],
    ["iam-scoped-resources", "a write scoped, a write on *", policy([{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::b/*" }, { Effect: "Allow", Action: "s3:DeleteObject", Resource: "*" }]), "on every resource: s3:DeleteObject"],
    ["iam-no-empty-statement", "an empty statement list", policy([]), "policy: Statement is empty (IAM refuses it: MalformedPolicyDocument)"],
    ["iam-no-empty-statement", "an empty action in a trust policy", { assume_role_policy: JSON.stringify({ Statement: { Effect: "Allow", Action: [], Principal: { Service: "x" } } }) }, "assume_role_policy: Statement[0] has an empty Action list (IAM refuses it: MalformedPolicyDocument)"],
    ["iam-no-empty-statement", "an inline policy with an empty NotResource", { inline_policy: [{ policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:GetObject", NotResource: [] }] }) }] }, "inline_policy[0].policy: Statement[0] has an empty NotResource list (IAM refuses it: MalformedPolicyDocument)"],
    ["iam-no-empty-statement", "no statement, or JSON that does not parse", { policy: "{}", assume_role_policy: "{not json" }, undefined],
    ["target-registration-scoped", "this fleet's target groups", policy({ Effect: "Allow", Action: ["elasticloadbalancing:RegisterTargets"], Resource: ["${aws_lb_target_group.t.arn}", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/demo-blue-web-b3fb64/0123456789abcdef"] }), undefined],
    ["target-registration-scoped", "other actions on *", policy({ Effect: "Allow", Action: ["elasticloadbalancing:DescribeTargetHealth"], Resource: "*" }), undefined],
    // A rest parameter: for rows without `others`, jest would otherwise pass a done callback in its place and wait for it.
  ])("%s: %s", (...[id, _title, body, expected, others]) => {
    const type = { eks: "aws_eks_cluster", kms: "aws_kms_key", imdsv2: "aws_launch_template", imds: "aws_launch_template", ebs: "aws_launch_template", node: "aws_eks_node_group", alb: "aws_lb", listener: "aws_lb_listener", target: "aws_lb_target_group", security: "aws_security_group", no: "aws_security_group", default: "aws_vpc", vpc: "aws_vpc", subnet: "aws_subnet", log: "aws_cloudwatch_log_group", iam: "aws_iam_role_policy" }[id.split("-")[0]]!;
    const address = { alb: "aws_lb.a", default: "aws_vpc.v", vpc: "aws_vpc.v" }[id.split("-")[0]] ?? `${type}.x`;
    expect(verdict(id, body, address, others)).toBe(expected);
  });

  it.each<[string, ResourceJson, string | undefined]>([
    ["lambda-concurrency-limit", { reserved_concurrent_executions: 0 }, undefined],
    ["lambda-concurrency-limit", { reserved_concurrent_executions: "5" }, undefined],
    ["lambda-concurrency-limit", { reserved_concurrent_executions: -1 }, "no reserved concurrency limit"],
    ["lambda-dead-letter-queue", { dead_letter_config: [{ target_arn: "arn:aws:sqs:eu-west-1:123456789012:dlq" }] }, undefined],
    ["lambda-dead-letter-queue", { dead_letter_config: {} }, "no dead-letter queue"],
    ["lambda-in-vpc", { vpc_config: [{ subnet_ids: ["subnet-1"], security_group_ids: ["sg-1"] }] }, undefined],
    ["lambda-in-vpc", { vpc_config: { security_group_ids: ["sg-1"] } }, "not attached to a VPC"],
    ["sns-topic-encrypted", { kms_master_key_id: "alias/aws/sns" }, undefined],
  ])("%s on a function or topic: %j", (id, body, expected) => {
    const type = id.startsWith("sns") ? "aws_sns_topic" : "aws_lambda_function";
    expect(verdict(id, body, `${type}.f`)).toBe(expected);
  });

  it.each([
    ["nodejs22.x", undefined],
    ["python3.12", undefined],
    ["java21", undefined],
    ["provided.al2023", undefined],
    ["ruby3.3", undefined],
    ["nodejs", "runtime nodejs is deprecated"],
    ["nodejs4.3-edge", "runtime nodejs4.3-edge is deprecated"],
    ["nodejs16.x", "runtime nodejs16.x is deprecated"],
    ["python2.7", "runtime python2.7 is deprecated"],
    ["python3.8", "runtime python3.8 is deprecated"],
    ["python3.9", "runtime python3.9 is deprecated"],
    ["nodejs20.x", "runtime nodejs20.x is deprecated"],
    ["ruby2.5", "runtime ruby2.5 is deprecated"],
    ["java8", "runtime java8 is deprecated"],
    ["dotnetcore3.1", "runtime dotnetcore3.1 is deprecated"],
    ["dotnet6", "runtime dotnet6 is deprecated"],
    ["dotnet5.0", "runtime dotnet5.0 is deprecated"],
    ["go1.x", "runtime go1.x is deprecated"],
    ["provided", "runtime provided is deprecated"],
    [undefined, "runtime undefined is deprecated"],
  ])("lambda-supported-runtime: %s", (runtime, expected) => {
    expect(verdict("lambda-supported-runtime", runtime === undefined ? {} : { runtime }, "aws_lambda_function.f")).toBe(expected);
  });

  it.each<[string, ResourceJson, string | undefined]>([
    ["k8s-non-root", deployment({ pod: { security_context: {} }, container: { security_context: { run_as_non_root: "true" } } }), undefined],
    ["k8s-no-privilege-escalation", deployment({ container: { security_context: { allow_privilege_escalation: "false", privileged: "true" } } }), "container web: may escalate privileges"],
    ["k8s-no-privilege-escalation", deployment({ container: { security_context: {} } }), "container web: may escalate privileges"],
    ["k8s-seccomp", deployment({ pod: { security_context: { seccomp_profile: { type: "Localhost" } } } }), undefined],
    ["k8s-seccomp", deployment({ pod: { security_context: { seccomp_profile: { type: "Unconfined" } } } }), "no seccomp profile"],
    ["k8s-service-account-token", deployment({ pod: { automount_service_account_token: "false" } }), undefined],
    ["k8s-image-pinned", deployment({ container: { image: "registry.example.com:5000/web@sha256:abc" } }), undefined],
    ["k8s-image-pinned", deployment({ container: { image: "registry.example.com:5000/web" } }), "container web: image not pinned"],
    ["k8s-resources", deployment({ container: { resources: { requests: { cpu: "1", memory: "1Gi" } } } }), "container web: missing CPU/memory requests or memory limit"],
    ["k8s-resources", deployment({ container: { resources: { requests: { memory: "1Gi" }, limits: { memory: "1Gi" } } } }), "container web: missing CPU/memory requests or memory limit"],
    ["k8s-resources", deployment({ container: { resources: { requests: { cpu: "1" }, limits: { memory: "1Gi" } } } }), "container web: missing CPU/memory requests or memory limit"],
    ["k8s-read-only-root-filesystem", { spec: [{ template: [{ spec: [{ container: { name: "solo", security_context: [{ read_only_root_filesystem: true }] } }] }] }] }, undefined],
    ["k8s-readiness-probe", { spec: { template: { spec: { container: [{ name: "a" }, { name: "b", readiness_probe: {} }, { name: "c" }] } } } }, "container a, c: no readiness probe"],
    ["k8s-readiness-probe", { spec: {} }, undefined],
  ])("%s on a Deployment: %j", (id, body, expected) => {
    expect(verdict(id, body, "kubernetes_deployment_v1.d")).toBe(expected);
  });
});

describe("a Deployment that sets nothing", () => {
  const bare = (containers: ResourceJson[]) => ({ spec: { template: { spec: { container: containers } } } });
  const workloadFindings = (body: ResourceJson) =>
    evaluatePolicies([stackOf({ "kubernetes_deployment_v1.d": body })]).findings.map((f) => `${f.rule.id}: ${f.message}`);

  it("gets every workload finding, for each container by name", () => {
    expect(workloadFindings(bare([{ name: "web", image: "web" }, { name: "sidecar", image: "proxy:1.0" }]))).toEqual([
      "k8s-non-root: container web, sidecar: may run as root (runAsNonRoot)",
      "k8s-read-only-root-filesystem: container web, sidecar: writable root filesystem",
      "k8s-no-privilege-escalation: container web, sidecar: may escalate privileges",
      "k8s-capabilities-dropped: container web, sidecar: does not drop ALL capabilities",
      "k8s-seccomp: no seccomp profile",
      "k8s-service-account-token: mounts a service account token",
      "k8s-image-pinned: container web: image not pinned",
      "k8s-resources: container web, sidecar: missing CPU/memory requests or memory limit",
      "k8s-readiness-probe: container web, sidecar: no readiness probe",
    ]);
  });

  it("and no container gets only the pod-wide findings", () => {
    expect(workloadFindings({})).toEqual(["k8s-seccomp: no seccomp profile", "k8s-service-account-token: mounts a service account token"]);
  });

  it("is judged container by container: the pod-wide non-root setting covers all, a container's covers itself only", () => {
    const secure = (deployment() as { spec: { template: { spec: { container: ResourceJson[] } } } }).spec.template.spec.container[0];
    const second = { ...secure, name: "sidecar", security_context: { ...(secure.security_context as object), run_as_non_root: "true" } };
    const pod = (podContext: ResourceJson) => deployment({ pod: { security_context: { seccomp_profile: { type: "RuntimeDefault" }, ...podContext }, container: [secure, second] } });
    expect(workloadFindings(pod({}))).toEqual(["k8s-non-root: container web: may run as root (runAsNonRoot)"]);
    expect(workloadFindings(pod({ run_as_non_root: "false" }))).toEqual(["k8s-non-root: container web: may run as root (runAsNonRoot)"]);
    expect(workloadFindings(pod({ run_as_non_root: true }))).toEqual([]);
  });
});

describe("declared exceptions", () => {
  const withException = (rule: string) => ({
    "aws_subnet.s": { "//": { policy_exceptions: [{ rule, reason: "a test subnet" }] }, map_public_ip_on_launch: true },
  });

  it("turn a finding into an accepted exception with its reason", () => {
    const report = evaluatePolicies([stackOf(withException("subnet-no-public-ip"))]);
    expect(report.findings).toEqual([]);
    expect(report.exceptions.map((e) => [e.rule.id, e.address, e.reason])).toEqual([
      ["subnet-no-public-ip", "aws_subnet.s", "a test subnet"],
    ]);
  });

  it("excuse only the rule they name: the resource's other violations stay findings, and the exception is stale", () => {
    const report = evaluatePolicies([stackOf(withException("security-group-described"))]);
    expect(report.exceptions).toEqual([]);
    expect(report.findings.map((f) => [f.rule.id, f.address, f.message])).toEqual([
      ["subnet-no-public-ip", "aws_subnet.s", "map_public_ip_on_launch is true"],
      ["policy-exception-valid", "aws_subnet.s", "exception for security-group-described excuses nothing: the rule holds; remove the exception"],
    ]);
  });

  it("each keep their own reason when one resource declares several", () => {
    const alb = {
      internal: false,
      drop_invalid_header_fields: true,
      enable_deletion_protection: true,
      "//": {
        policy_exceptions: [
          { rule: "alb-internal", reason: "serves the internet" },
          { rule: "alb-access-logs", reason: "no log bucket in a trial" },
          { rule: "alb-waf", reason: "a WAF costs more than the trial" },
        ],
      },
    };
    const report = evaluatePolicies([stackOf({ "aws_lb.a": alb })]);
    expect(report.findings).toEqual([]);
    expect(report.exceptions.map((e) => [e.rule.id, e.reason]).sort()).toEqual([
      ["alb-access-logs", "no log bucket in a trial"],
      ["alb-internal", "serves the internet"],
      ["alb-waf", "a WAF costs more than the trial"],
    ]);
  });

  it("are judged by rules that see the stack's other resources of a type, by address", () => {
    const bucketsBeside: PolicyRule = {
      id: "one-bucket",
      title: "One bucket per stack",
      checkov: [],
      trivy: [],
      resourceTypes: ["aws_s3_bucket"],
      check: (_, context) => {
        const others = context.resourcesOfType("aws_s3_bucket").map(([address]) => address).filter((address) => address !== context.address);
        return others.length > 0 ? `beside ${others.join(", ")}` : undefined;
      },
    };
    const report = evaluatePolicies([stackOf({ "aws_s3_bucket.a": {}, "aws_s3_bucket.b": {}, "aws_sns_topic.t": {} }), stackOf({ "aws_s3_bucket.c": {} })], [bucketsBeside]);
    expect(report.findings.map((f) => `${f.address}: ${f.message}`)).toEqual(["aws_s3_bucket.a: beside aws_s3_bucket.b", "aws_s3_bucket.b: beside aws_s3_bucket.a"]);
    expect(report.resourcesEvaluated).toBe(4);
  });

  it("naming an unknown rule are findings", () => {
    const report = evaluatePolicies([stackOf(withException("subnet-no-public-ips"))]);
    expect(report.findings.map((f) => f.message)).toContain("exception names unknown rule subnet-no-public-ips");
  });

  it("that excuse nothing are findings", () => {
    const resources = { "aws_subnet.s": { "//": { policy_exceptions: [{ rule: "subnet-no-public-ip", reason: "stale" }] } } };
    const report = evaluatePolicies([stackOf(resources)]);
    expect(report.findings.map((f) => f.message)).toEqual([
      "exception for subnet-no-public-ip excuses nothing: the rule holds; remove the exception",
    ]);
  });
});

describe("the policy report", () => {
  const rules = POLICY_RULES.filter((r) => ["subnet-no-public-ip", "iam-no-empty-statement", "sns-topic-encrypted"].includes(r.id));

  it("gives each finding and accepted exception with its rule's checks and the resource, then every rule evaluated", () => {
    const stack = stackOf({
      "aws_sns_topic.alarms": { name: "alarms" },
      "aws_sns_topic.ok": { kms_master_key_id: "k", "//": { policy_exceptions: [{ rule: "sns-encrypted", reason: "a typo" }] } },
      "aws_subnet.public": { map_public_ip_on_launch: true, "//": { policy_exceptions: [{ rule: "subnet-no-public-ip", reason: "the ALB's subnets" }] } },
    });
    expect(formatPolicyReport(evaluatePolicies([stack], rules)).split("\n")).toEqual([
      "policy: 2 findings, 1 accepted exception, 3 rules over 3 resources",
      "",
      "FINDINGS",
      "  sns-topic-encrypted [CKV_AWS_26, AWS-0095] bad: aws_sns_topic.alarms",
      "    not encrypted (kms_master_key_id)",
      "  policy-exception-valid [-] bad: aws_sns_topic.ok",
      "    exception names unknown rule sns-encrypted",
      "",
      "ACCEPTED EXCEPTIONS",
      "  subnet-no-public-ip [CKV_AWS_130, AWS-0164] bad: aws_subnet.public",
      "    map_public_ip_on_launch is true; accepted: the ALB's subnets",
      "",
      "RULES EVALUATED",
      "  subnet-no-public-ip              CKV_AWS_130, AWS-0164                          Subnets do not give instances public IPs on launch",
      "  iam-no-empty-statement           Access Analyzer: Empty array action, Access Analyzer: Empty array resource  IAM policy documents have no statement with an empty action or resource list",
      "  sns-topic-encrypted              CKV_AWS_26, AWS-0095                           SNS topics are encrypted with a KMS key",
    ]);
  });

  it("says none where there is nothing to report", () => {
    expect(formatPolicyReport(evaluatePolicies([{ name: "empty", json: {} }], rules.slice(0, 1)))).toBe(
      [
        "policy: 0 findings, 0 accepted exceptions, 1 rule over 0 resources",
        "",
        "FINDINGS",
        "  none",
        "",
        "ACCEPTED EXCEPTIONS",
        "  none",
        "",
        "RULES EVALUATED",
        "  subnet-no-public-ip              CKV_AWS_130, AWS-0164                          Subnets do not give instances public IPs on launch",
      ].join("\n"),
    );
  });
});

describe("npm run policy", () => {
  it("prints findings, accepted exceptions and the rules evaluated, and exits 0 on the example", () => {
    const result = spawnSync(process.execPath, entryPoint("scripts/policy.ts"), { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^policy: 0 findings, 10 accepted exceptions, 45 rules over \d+ resources/);
    expect(result.stdout).toContain("ACCEPTED EXCEPTIONS\n  eks-private-endpoint [CKV_AWS_39, AWS-0040] cluster-blue");
    expect(result.stdout).toContain("RULES EVALUATED");
  });
});

describe("target registration scoped to the fleet's target groups", () => {
  const arn = (end: string) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${end}`;
  const findings = (resources: Record<string, ResourceJson>) => evaluatePolicies([stackOf(resources)]).findings.filter((f) => f.rule.id === "target-registration-scoped");

  it("reads the controller's managed policies as well as its inline one", () => {
    const statement = { Effect: "Allow", Action: ["elasticloadbalancing:RegisterTargets"], Resource: ["*"] };
    expect(findings({ "aws_iam_policy.p": iamPolicy([statement]) }).map((f) => f.message)).toEqual(["target registration allowed on *"]);
  });

  it("judges a statement that grants registration among other actions, and names every stray resource", () => {
    const statement = { Effect: "Allow", Action: ["elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:RegisterTargets"], Resource: ["*", arn("web-*")] };
    expect(findings({ "aws_iam_role_policy.p": iamPolicy([statement]) }).map((f) => f.message)).toEqual([`target registration allowed on *, ${arn("web-*")}`]);
  });

  it("takes a target group's whole ARN only: a wildcard after its id is stray", () => {
    const statement = (resource: string) => ({ Effect: "Allow", Action: ["elasticloadbalancing:RegisterTargets"], Resource: [resource] });
    expect(findings({ "aws_iam_role_policy.p": iamPolicy([statement(arn("demo-blue-web-1a2b3c/0123456789abcdef"))]) })).toEqual([]);
    expect(findings({ "aws_iam_role_policy.p": iamPolicy([statement(arn("demo-blue-web-1a2b3c/0123456789abcdef*"))]) })).toHaveLength(1);
  });
});

describe("docs/security.md", () => {
  /** The checks each rule stands for, by rule id, as the table of docs/security.md gives them (`id` or `id / id` rows). */
  function documentedChecks(): Map<string, string> {
    const text = fs.readFileSync(path.join(projectRoot(), "docs", "security.md"), "utf8");
    const checks = new Map<string, string>();
    for (const row of text.split("\n").filter((line) => /^\| `[a-z0-9-]+`/.test(line))) {
      const [ids, refs] = row.split(" | ").map((cell) => cell.replace(/^\| /, ""));
      const idList = ids.split(" / ").map((id) => id.replace(/`/g, ""));
      const refList = idList.length > 1 ? refs.split(" / ") : [refs];
      // The rules' table comes first; the exceptions' table after it names rules again, with where they are made.
      idList.forEach((id, i) => checks.has(id) || checks.set(id, refList[i]));
    }
    return checks;
  }

  it("gives each rule with the Checkov and Trivy checks it stands for, as the rule says", () => {
    const documented = documentedChecks();
    const declared = POLICY_RULES.filter((rule) => rule.checkov.length + rule.trivy.length > 0);
    expect(declared.map((rule) => [rule.id, documented.get(rule.id)])).toEqual(declared.map((rule) => [rule.id, [...rule.checkov, ...rule.trivy].join(", ")]));
  });
});
