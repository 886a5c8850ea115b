import { cidrsReachingAnywhere } from "../config/cidr";
import { MODERN_TLS_POLICY } from "../config/tls-policies";
import type { PolicyRule, ResourceJson, RuleContext } from "./rule";
import { FUNCTION_POLICY_RULES } from "./function-rules";
import { WORKLOAD_POLICY_RULES } from "./workload-rules";

const ALL_CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/** A nested block: cdktf writes single blocks as objects, Terraform JSON also allows lists. */
function block(value: unknown): ResourceJson | undefined {
  if (Array.isArray(value)) return value[0] as ResourceJson | undefined;
  return value as ResourceJson | undefined;
}

function blocks(value: unknown): ResourceJson[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as ResourceJson[];
}

/** True when `value` is an expression referring to the resource at `address`. */
function refersTo(value: unknown, address: string): boolean {
  return typeof value === "string" && value.includes(`${address}.`);
}

function isTruthy(value: unknown): boolean {
  return value === true || value === "true";
}

/**
 * CIDRs that open a security group to anywhere in one direction: in a group's
 * inline rules for the same ports, or in a rule resource together with the
 * group's other rule resources for the same ports and protocol.
 */
function openToAnywhere(resource: ResourceJson, direction: "ingress" | "egress", context: RuleContext): string[] {
  if (context.address.startsWith("aws_security_group.")) {
    return blocks(resource[direction]).flatMap((rule) =>
      cidrsReachingAnywhere([...((rule.cidr_blocks as string[] | undefined) ?? []), ...((rule.ipv6_cidr_blocks as string[] | undefined) ?? [])]),
    );
  }
  const sameTraffic = (other: ResourceJson) =>
    (["security_group_id", "ip_protocol", "from_port", "to_port"] as const).every((key) => other[key] === resource[key]);
  const siblings = context.resourcesOfType(context.address.split(".")[0]).map(([, body]) => body).filter(sameTraffic);
  const open = cidrsReachingAnywhere(siblings.flatMap((rule) => [rule.cidr_ipv4, rule.cidr_ipv6]));
  const own = [resource.cidr_ipv4, resource.cidr_ipv6].filter((c): c is string => typeof c === "string");
  return own.some((c) => open.includes(c)) ? open : [];
}

interface PolicyStatementJson {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
}

function statementsOf(resource: ResourceJson): PolicyStatementJson[] {
  if (typeof resource.policy !== "string") return [];
  const document = JSON.parse(resource.policy) as { Statement?: PolicyStatementJson | PolicyStatementJson[] };
  return ([] as PolicyStatementJson[]).concat(document.Statement ?? []).filter((s) => s.Effect === "Allow");
}

const list = (value: string | string[] | undefined) => ([] as string[]).concat(value ?? []);

/** What an Allow statement's `NotAction` or `NotResource` grants: everything but what it lists, as broad as `*`. */
const allBut = (value: string | string[] | undefined) => (value === undefined ? [] : [`* but ${list(value).join(", ")}`]);

/** The actions an Allow statement grants, as written: its `Action` list, or everything but its `NotAction`. */
const actionsOf = (statement: PolicyStatementJson) => [...list(statement.Action), ...allBut(statement.NotAction)];

/** The resources an Allow statement grants on, as written: its `Resource` list, or everything but its `NotResource`. */
const resourcesOf = (statement: PolicyStatementJson) => [...list(statement.Resource), ...allBut(statement.NotResource)];

/** Whether an IAM action pattern (`*` and `?` wildcards; IAM compares actions without case) matches `action`. */
function actionMatches(pattern: string, action: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "i").test(action);
}

/** Whether an Allow statement grants `action`: named, matched by a wildcard, or not excluded by its `NotAction`. */
function grants(statement: PolicyStatementJson, action: string): boolean {
  if (statement.NotAction !== undefined) return !list(statement.NotAction).some((pattern) => actionMatches(pattern, action));
  return list(statement.Action).some((pattern) => actionMatches(pattern, action));
}

/** Attributes holding an IAM policy document (JSON text), in any resource. */
const POLICY_DOCUMENT_ATTRIBUTES = ["policy", "assume_role_policy"];

/** The IAM policy documents a resource holds, by attribute name; JSON that does not parse is left to Terraform. */
function policyDocumentsOf(resource: ResourceJson): [string, unknown][] {
  const inline = blocks(resource.inline_policy).map((p, i) => [`inline_policy[${i}].policy`, p.policy] as [string, unknown]);
  return [...POLICY_DOCUMENT_ATTRIBUTES.map((a) => [a, resource[a]] as [string, unknown]), ...inline].flatMap(([attribute, text]) => {
    if (typeof text !== "string") return [];
    try {
      return [[attribute, JSON.parse(text)] as [string, unknown]];
    } catch {
      return [];
    }
  });
}

/** Why an IAM policy document is malformed by an empty list, or undefined. */
function emptyPartsOf(document: unknown): string[] {
  const statements = (document as { Statement?: unknown }).Statement;
  if (statements === undefined) return [];
  const all = ([] as Record<string, unknown>[]).concat(statements as Record<string, unknown>[]);
  if (all.length === 0) return ["Statement is empty"];
  return all.flatMap((statement, i) =>
    ["Action", "NotAction", "Resource", "NotResource", "Principal"]
      .filter((key) => Array.isArray(statement[key]) && (statement[key] as unknown[]).length === 0)
      .map((key) => `Statement[${i}]${statement.Sid ? ` (${String(statement.Sid)})` : ""} has an empty ${key} list`),
  );
}
const READ_ONLY_ACTION = /^[a-z0-9-]+:(Describe|List|Get)[a-z0-9]*$/i;
const TARGET_ACTIONS = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"];

/** Every rule the policy suite evaluates. */
export const POLICY_RULES: readonly PolicyRule[] = [
  {
    id: "eks-public-endpoint-restricted",
    title: "A public EKS endpoint is restricted to configured CIDRs",
    checkov: ["CKV_AWS_38"],
    trivy: ["AWS-0041"],
    resourceTypes: ["aws_eks_cluster"],
    check: (r) => {
      const vpc = block(r.vpc_config) ?? {};
      if (vpc.endpoint_public_access === false) return undefined;
      const cidrs = (vpc.public_access_cidrs as string[] | undefined) ?? [];
      if (cidrs.length === 0) return "public endpoint reachable from anywhere: no public_access_cidrs";
      const open = cidrsReachingAnywhere(cidrs);
      return open.length > 0 ? `public endpoint reachable from anywhere: ${open.join(", ")}` : undefined;
    },
  },
  {
    id: "eks-private-endpoint",
    title: "The EKS endpoint is private",
    checkov: ["CKV_AWS_39"],
    trivy: ["AWS-0040"],
    resourceTypes: ["aws_eks_cluster"],
    check: (r) => (block(r.vpc_config)?.endpoint_public_access === false ? undefined : "the API server endpoint is public"),
  },
  {
    id: "eks-control-plane-logs",
    title: "EKS sends all five control-plane log types",
    checkov: ["CKV_AWS_37"],
    trivy: ["AWS-0038"],
    resourceTypes: ["aws_eks_cluster"],
    check: (r) => {
      const enabled = (r.enabled_cluster_log_types as string[] | undefined) ?? [];
      const missing = ALL_CONTROL_PLANE_LOGS.filter((t) => !enabled.includes(t));
      return missing.length > 0 ? `control-plane logs missing: ${missing.join(", ")}` : undefined;
    },
  },
  {
    id: "eks-secrets-encryption",
    title: "EKS encrypts Kubernetes secrets with a KMS key",
    checkov: ["CKV_AWS_58"],
    trivy: ["AWS-0039"],
    resourceTypes: ["aws_eks_cluster"],
    check: (r) => {
      const encryption = block(r.encryption_config);
      const resources = (encryption?.resources as string[] | undefined) ?? [];
      return resources.includes("secrets") && block(encryption?.provider)?.key_arn ? undefined : "secrets are not envelope-encrypted with KMS";
    },
  },
  {
    id: "kms-key-rotation",
    title: "KMS keys rotate",
    checkov: ["CKV_AWS_7"],
    trivy: ["AWS-0065"],
    resourceTypes: ["aws_kms_key"],
    check: (r) => (isTruthy(r.enable_key_rotation) ? undefined : "key rotation is off"),
  },
  {
    id: "kms-key-policy",
    title: "KMS keys have an explicit key policy",
    checkov: ["CKV2_AWS_64"],
    trivy: [],
    resourceTypes: ["aws_kms_key"],
    check: (r) => (typeof r.policy === "string" && r.policy.length > 0 ? undefined : "no key policy: the default policy applies"),
  },
  {
    id: "imdsv2-required",
    title: "Instances require IMDSv2 tokens",
    checkov: ["CKV_AWS_79"],
    trivy: ["AWS-0130"],
    resourceTypes: ["aws_launch_template"],
    check: (r) => (block(r.metadata_options)?.http_tokens === "required" ? undefined : "IMDSv1 is allowed: http_tokens is not \"required\""),
  },
  {
    id: "imds-hop-limit",
    title: "Instance metadata is out of pods' reach (hop limit 1)",
    checkov: ["CKV_AWS_341"],
    trivy: [],
    resourceTypes: ["aws_launch_template"],
    check: (r) => {
      const limit = block(r.metadata_options)?.http_put_response_hop_limit;
      return limit === 1 ? undefined : `http_put_response_hop_limit is ${limit ?? "unset"}, not 1`;
    },
  },
  {
    id: "ebs-encrypted",
    title: "Instance volumes are encrypted",
    checkov: ["CKV_AWS_8"],
    trivy: ["AWS-0008"],
    resourceTypes: ["aws_launch_template"],
    check: (r) => {
      const mappings = blocks(r.block_device_mappings);
      if (mappings.length === 0) return "no block device mapping: the root volume's encryption is left to the AMI";
      return mappings.every((m) => isTruthy(block(m.ebs)?.encrypted)) ? undefined : "a block device is not encrypted";
    },
  },
  {
    id: "node-group-launch-template",
    title: "Node groups use a launch template, so the instance rules apply to them",
    checkov: ["CKV_AWS_79", "CKV_AWS_341"],
    trivy: ["AWS-0130"],
    resourceTypes: ["aws_eks_node_group"],
    check: (r) => (block(r.launch_template)?.id || block(r.launch_template)?.name ? undefined : "no launch template: EKS defaults allow pods to reach IMDS"),
  },
  {
    id: "alb-drop-invalid-headers",
    title: "The ALB drops invalid header fields",
    checkov: ["CKV_AWS_131"],
    trivy: ["AWS-0052"],
    resourceTypes: ["aws_lb"],
    check: (r) => (isTruthy(r.drop_invalid_header_fields) ? undefined : "drop_invalid_header_fields is not true"),
  },
  {
    id: "alb-desync-mitigation",
    title: "The ALB mitigates HTTP desync (not in monitor mode)",
    checkov: ["CKV_AWS_328"],
    trivy: [],
    resourceTypes: ["aws_lb"],
    check: (r) => (r.desync_mitigation_mode === "monitor" ? "desync_mitigation_mode is monitor" : undefined),
  },
  {
    id: "alb-deletion-protection",
    title: "The ALB is protected against deletion",
    checkov: ["CKV_AWS_150"],
    trivy: [],
    resourceTypes: ["aws_lb"],
    check: (r) => (isTruthy(r.enable_deletion_protection) ? undefined : "deletion protection is off"),
  },
  {
    id: "alb-access-logs",
    title: "The ALB writes access logs",
    checkov: ["CKV_AWS_91"],
    trivy: [],
    resourceTypes: ["aws_lb"],
    check: (r) => {
      const logs = block(r.access_logs);
      return logs?.bucket && logs.enabled !== false ? undefined : "access logs are off";
    },
  },
  {
    id: "alb-waf",
    title: "An internet-facing ALB has a WAF web ACL",
    checkov: ["CKV2_AWS_28"],
    trivy: [],
    resourceTypes: ["aws_lb"],
    check: (r, ctx) => {
      if (isTruthy(r.internal)) return undefined;
      const protectedBy = ctx.resourcesOfType("aws_wafv2_web_acl_association").some(([, a]) => refersTo(a.resource_arn, ctx.address));
      return protectedBy ? undefined : "no WAFv2 web ACL is associated";
    },
  },
  {
    id: "alb-internal",
    title: "The ALB is not exposed to the internet",
    checkov: [],
    trivy: ["AWS-0053"],
    resourceTypes: ["aws_lb"],
    check: (r) => (isTruthy(r.internal) ? undefined : "the ALB is internet-facing"),
  },
  {
    id: "listener-https",
    title: "Listeners use HTTPS, or redirect HTTP to HTTPS",
    checkov: ["CKV_AWS_2", "CKV2_AWS_20"],
    trivy: ["AWS-0054"],
    resourceTypes: ["aws_lb_listener"],
    check: (r) => {
      if (r.protocol === "HTTPS" || r.protocol === "TLS") return undefined;
      const actions = blocks(r.default_action);
      const redirects = actions.length > 0 && actions.every((a) => a.type === "redirect" && block(a.redirect)?.protocol === "HTTPS");
      return redirects ? undefined : `plain ${String(r.protocol ?? "HTTP")} listener on port ${String(r.port)} serves traffic`;
    },
  },
  {
    id: "listener-tls-policy",
    title: "HTTPS listeners use a TLS 1.3 policy with nothing below TLS 1.2",
    checkov: ["CKV_AWS_103"],
    trivy: ["AWS-0047"],
    resourceTypes: ["aws_lb_listener"],
    check: (r) => {
      if (r.protocol !== "HTTPS") return undefined;
      return MODERN_TLS_POLICY.test(String(r.ssl_policy)) ? undefined : `TLS policy ${String(r.ssl_policy ?? "(provider default)")} is not a TLS 1.3 policy with nothing below TLS 1.2`;
    },
  },
  {
    id: "target-group-health-check",
    title: "Target groups check health on a path",
    checkov: ["CKV_AWS_261"],
    trivy: [],
    resourceTypes: ["aws_lb_target_group"],
    check: (r) => {
      const health = block(r.health_check);
      if (!health || health.enabled === false) return "no health check";
      return health.path ? undefined : "health check has no path";
    },
  },
  {
    id: "security-group-described",
    title: "Security groups and their rules are described",
    checkov: ["CKV_AWS_23"],
    trivy: ["AWS-0099", "AWS-0124"],
    resourceTypes: ["aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"],
    check: (r) => {
      const description = typeof r.description === "string" ? r.description.trim() : "";
      return description && description !== "Managed by Terraform" ? undefined : "no description";
    },
  },
  {
    id: "no-public-ingress",
    title: "No ingress from 0.0.0.0/0 or ::/0",
    checkov: ["CKV_AWS_260", "CKV_AWS_24", "CKV_AWS_25"],
    trivy: ["AWS-0107"],
    resourceTypes: ["aws_vpc_security_group_ingress_rule", "aws_security_group"],
    check: (r, ctx) => {
      const open = openToAnywhere(r, "ingress", ctx);
      return open.length > 0 ? `ingress from anywhere: ${open.join(", ")}` : undefined;
    },
  },
  {
    id: "no-public-egress",
    title: "No egress to 0.0.0.0/0 or ::/0",
    checkov: ["CKV_AWS_382"],
    trivy: ["AWS-0104"],
    resourceTypes: ["aws_vpc_security_group_egress_rule", "aws_security_group"],
    check: (r, ctx) => {
      const open = openToAnywhere(r, "egress", ctx);
      return open.length > 0 ? `egress to anywhere: ${open.join(", ")}` : undefined;
    },
  },
  {
    id: "default-security-group-closed",
    title: "The VPC's default security group has no rules",
    checkov: ["CKV2_AWS_12"],
    trivy: [],
    resourceTypes: ["aws_vpc"],
    check: (_r, ctx) => {
      const groups = ctx.resourcesOfType("aws_default_security_group").filter(([, g]) => refersTo(g.vpc_id, ctx.address));
      if (groups.length === 0) return "the default security group is not managed, so it keeps its allow-all rules";
      return groups.some(([, g]) => blocks(g.ingress).length > 0 || blocks(g.egress).length > 0) ? "the default security group has rules" : undefined;
    },
  },
  {
    id: "vpc-flow-logs",
    title: "The VPC has flow logs",
    checkov: ["CKV2_AWS_11"],
    trivy: ["AWS-0178"],
    resourceTypes: ["aws_vpc"],
    check: (_r, ctx) =>
      ctx.resourcesOfType("aws_flow_log").some(([, f]) => refersTo(f.vpc_id, ctx.address)) ? undefined : "no flow log for this VPC",
  },
  {
    id: "subnet-no-public-ip",
    title: "Subnets do not give instances public IPs on launch",
    checkov: ["CKV_AWS_130"],
    trivy: ["AWS-0164"],
    resourceTypes: ["aws_subnet"],
    check: (r) => (isTruthy(r.map_public_ip_on_launch) ? "map_public_ip_on_launch is true" : undefined),
  },
  {
    id: "log-group-kms",
    title: "Log groups are encrypted with a KMS key",
    checkov: ["CKV_AWS_158"],
    trivy: ["AWS-0017"],
    resourceTypes: ["aws_cloudwatch_log_group"],
    check: (r) => (r.kms_key_id ? undefined : "no kms_key_id"),
  },
  {
    id: "log-group-retention",
    title: "Log groups keep logs for at least a year",
    checkov: ["CKV_AWS_338"],
    trivy: [],
    resourceTypes: ["aws_cloudwatch_log_group"],
    check: (r) => {
      const days = r.retention_in_days as number | undefined;
      if (days === undefined || days === 0) return "no retention set: logs are kept forever without a decision";
      return days >= 365 ? undefined : `retention of ${days} days is under a year`;
    },
  },
  {
    id: "iam-no-wildcard-actions",
    title: "IAM policies name their actions (no * wildcards)",
    checkov: ["CKV_AWS_63", "CKV_AWS_62"],
    trivy: ["AWS-0057"],
    resourceTypes: ["aws_iam_role_policy", "aws_iam_policy"],
    check: (r) => {
      const wildcards = statementsOf(r).flatMap(actionsOf).filter((a) => a.includes("*"));
      return wildcards.length > 0 ? `wildcard actions: ${wildcards.join(", ")}` : undefined;
    },
  },
  {
    id: "iam-no-empty-statement",
    title: "IAM policy documents have no statement with an empty action or resource list",
    checkov: [],
    trivy: [],
    accessAnalyzer: ["Empty array action", "Empty array resource"],
    // Every resource type: policy documents sit in IAM policies, role trust policies, key and bucket policies.
    resourceTypes: ["*"],
    check: (r) => {
      const problems = policyDocumentsOf(r).flatMap(([attribute, document]) => emptyPartsOf(document).map((p) => `${attribute}: ${p}`));
      return problems.length > 0 ? `${problems.join("; ")} (IAM refuses it: MalformedPolicyDocument)` : undefined;
    },
  },
  {
    id: "iam-scoped-resources",
    title: "IAM policies allow '*' resources only for read-only calls",
    checkov: ["CKV_AWS_355", "CKV_AWS_290"],
    trivy: ["AWS-0057"],
    resourceTypes: ["aws_iam_role_policy", "aws_iam_policy"],
    check: (r) => {
      const unscoped = statementsOf(r)
        .filter((s) => list(s.Resource).includes("*") || s.NotResource !== undefined)
        .flatMap(actionsOf)
        .filter((a) => !READ_ONLY_ACTION.test(a));
      return unscoped.length > 0 ? `on every resource: ${unscoped.join(", ")}` : undefined;
    },
  },
  {
    id: "target-registration-scoped",
    title: "Target registration is allowed only on this fleet's target groups",
    checkov: ["CKV_AWS_355"],
    trivy: ["AWS-0057"],
    resourceTypes: ["aws_iam_role_policy", "aws_iam_policy"],
    check: (r) => {
      const resources = statementsOf(r)
        .filter((s) => TARGET_ACTIONS.some((action) => grants(s, action)))
        .flatMap(resourcesOf);
      const stray = resources.filter((res) => !/aws_lb_target_group|:targetgroup\/[^*]+\/[0-9a-f]+$/.test(res));
      return stray.length > 0 ? `target registration allowed on ${stray.join(", ")}` : undefined;
    },
  },
  ...FUNCTION_POLICY_RULES,
  ...WORKLOAD_POLICY_RULES,
];
