import { evaluatePolicies, formatPolicyReport, SynthesizedStack } from "../modules/policy/evaluate";
import type { ResourceJson } from "../modules/policy/rule";
import { POLICY_RULES } from "../modules/policy/rules";

/**
 * The rules as a scanner reads the Terraform: every resource type a rule
 * names, IAM statements as IAM reads them (wildcards, NotAction, NotResource,
 * any case), and findings that name everything wrong, not the first thing.
 */

/** The findings of one stack holding `resources` (`type.name` → body), as `address: message` per rule. */
function findingsOf(resources: Record<string, ResourceJson>, ruleId?: string): string[] {
  const json: { resource: Record<string, Record<string, ResourceJson>> } = { resource: {} };
  for (const [address, body] of Object.entries(resources)) {
    const [type, name] = address.split(".");
    (json.resource[type] ??= {})[name] = body;
  }
  const stack: SynthesizedStack = { name: "s", json };
  return evaluatePolicies([stack])
    .findings.filter((f) => ruleId === undefined || f.rule.id === ruleId)
    .map((f) => `${f.rule.id} ${f.address}: ${f.message}`);
}

const document = (...statements: object[]) => ({ policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) });
const allow = (statement: object) => ({ Effect: "Allow", ...statement });
/** Every target group of the account: not one of the fleet's. */
const foreignGroup = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/*";

describe("IAM statements read as IAM reads them", () => {
  it("NotAction allows every action it does not list: a wildcard, and on every resource", () => {
    const policy = { "aws_iam_policy.p": document(allow({ NotAction: ["iam:*", "organizations:*"], Resource: "*" })) };
    expect(findingsOf(policy)).toEqual([
      "iam-no-wildcard-actions aws_iam_policy.p: wildcard actions: * but iam:*, organizations:*",
      "iam-scoped-resources aws_iam_policy.p: on every resource: * but iam:*, organizations:*",
      "target-registration-scoped aws_iam_policy.p: target registration allowed on *",
    ]);
  });

  it("NotResource allows every resource it does not list", () => {
    const policy = { "aws_iam_role_policy.p": document(allow({ Action: "s3:PutObject", NotResource: "arn:aws:s3:::audit/*" })) };
    expect(findingsOf(policy)).toEqual(["iam-scoped-resources aws_iam_role_policy.p: on every resource: s3:PutObject"]);
  });

  it("registration on every target group but some is stray", () => {
    const policy = { "aws_iam_role_policy.p": document(allow({ Action: "elasticloadbalancing:RegisterTargets", NotResource: [foreignGroup] })) };
    expect(findingsOf(policy, "target-registration-scoped")).toEqual([
      `target-registration-scoped aws_iam_role_policy.p: target registration allowed on * but ${foreignGroup}`,
    ]);
  });

  it.each([
    ["a wildcard", "elasticloadbalancing:Register*"],
    ["a one-character wildcard", "elasticloadbalancing:RegisterTarget?"],
    ["another case", "ElasticLoadBalancing:registertargets"],
    ["deregistration", "elasticloadbalancing:DeregisterTargets"],
  ])("registration granted through %s is judged", (_how, action) => {
    const policy = { "aws_iam_role_policy.p": document(allow({ Action: [action], Resource: [foreignGroup] })) };
    expect(findingsOf(policy, "target-registration-scoped")).toEqual([`target-registration-scoped aws_iam_role_policy.p: target registration allowed on ${foreignGroup}`]);
  });

  it.each([
    ["another service's wildcard", { Action: "elasticloadbalancing-x:*" }],
    ["a NotAction that excludes it", { NotAction: "elasticloadbalancing:*" }],
    ["a NotAction that excludes it among other services", { NotAction: ["ec2:*", "elasticloadbalancing:*"] }],
    ["a pattern read literally, not as a regular expression", { Action: "elasticloadbalancing:Register.+" }],
    ["a pattern whose parentheses are read literally", { Action: "elasticloadbalancing:Register(Targets)" }],
    ["a Deny", { Effect: "Deny", Action: "elasticloadbalancing:RegisterTargets" }],
  ])("registration is not granted by %s", (_how, statement) => {
    const policy = { "aws_iam_role_policy.p": document({ Effect: "Allow", Resource: [foreignGroup], ...statement }) };
    expect(findingsOf(policy, "target-registration-scoped")).toEqual([]);
  });

  it.each([
    ["named in another case", "EC2:DescribeInstances", []],
    ["a wildcard after the verb", "s3:Get*", ["iam-scoped-resources aws_iam_role_policy.p: on every resource: s3:Get*"]],
    ["a wildcard before the service", "*s3:GetObject", ["iam-scoped-resources aws_iam_role_policy.p: on every resource: *s3:GetObject"]],
  ])("a read-only call on every resource is allowed only when named: %s", (_how, action, expected) => {
    const policy = { "aws_iam_role_policy.p": document(allow({ Action: action, Resource: "*" })) };
    expect(findingsOf(policy, "iam-scoped-resources")).toEqual(expected);
  });

  it("judges managed policies as it judges inline ones, and names every action at fault", () => {
    const policy = { "aws_iam_policy.p": document(allow({ Action: ["s3:Get*", "s3:PutObject", "kms:*"], Resource: "*" })) };
    expect(findingsOf(policy)).toEqual([
      "iam-no-wildcard-actions aws_iam_policy.p: wildcard actions: s3:Get*, kms:*",
      "iam-scoped-resources aws_iam_policy.p: on every resource: s3:Get*, s3:PutObject, kms:*",
    ]);
  });

  it("names each empty list of a statement, NotAction and Principal included", () => {
    const role = { "aws_iam_role.r": { assume_role_policy: JSON.stringify({ Statement: [{ Sid: "Trust", Effect: "Allow", Action: "sts:AssumeRole", Principal: [] }, { Effect: "Deny", NotAction: [], Resource: "*" }] }) } };
    expect(findingsOf(role)).toEqual([
      "iam-no-empty-statement aws_iam_role.r: assume_role_policy: Statement[0] (Trust) has an empty Principal list; " +
        "assume_role_policy: Statement[1] has an empty NotAction list (IAM refuses it: MalformedPolicyDocument)",
    ]);
  });
});

describe("security groups, in every form Terraform writes them", () => {
  it("judges standalone rules for a description, in both directions", () => {
    const rules = {
      "aws_vpc_security_group_ingress_rule.i": { cidr_ipv4: "10.0.0.0/16", from_port: 443, to_port: 443, ip_protocol: "tcp" },
      "aws_vpc_security_group_egress_rule.e": { cidr_ipv4: "10.0.0.0/16", from_port: 443, to_port: 443, ip_protocol: "tcp", description: "Managed by Terraform" },
    };
    expect(findingsOf(rules, "security-group-described")).toEqual([
      "security-group-described aws_vpc_security_group_ingress_rule.i: no description",
      "security-group-described aws_vpc_security_group_egress_rule.e: no description",
    ]);
  });

  it("judges a group's inline rules in both directions, and names every address range open to anywhere", () => {
    const group = {
      "aws_security_group.g": {
        description: "open",
        ingress: [{ from_port: 443, to_port: 443, protocol: "tcp", ipv6_cidr_blocks: ["::/0"] }],
        egress: [{ from_port: 0, to_port: 0, protocol: "-1", cidr_blocks: ["0.0.0.0/0"], ipv6_cidr_blocks: ["::/0"] }],
      },
    };
    expect(findingsOf(group)).toEqual([
      "no-public-ingress aws_security_group.g: ingress from anywhere: ::/0",
      "no-public-egress aws_security_group.g: egress to anywhere: 0.0.0.0/0, ::/0",
    ]);
  });

  it("takes a rule open to anywhere over IPv6 as open, whatever its IPv4 range", () => {
    const rule = { "aws_vpc_security_group_ingress_rule.r": { description: "web", cidr_ipv4: "10.0.0.0/16", cidr_ipv6: "::/0", from_port: 443, to_port: 443, ip_protocol: "tcp" } };
    expect(findingsOf(rule)).toEqual(["no-public-ingress aws_vpc_security_group_ingress_rule.r: ingress from anywhere: ::/0"]);
  });
});

describe("HTTPS listeners", () => {
  it.each([
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
  ])("may use the TLS 1.3 policy %s", (sslPolicy) => {
    expect(findingsOf({ "aws_lb_listener.l": { protocol: "HTTPS", port: 443, ssl_policy: sslPolicy } })).toEqual([]);
  });

  it.each([
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06",
    "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-2021-06 ",
    "",
  ])("may not use %j", (sslPolicy) => {
    expect(findingsOf({ "aws_lb_listener.l": { protocol: "HTTPS", port: 443, ssl_policy: sslPolicy } })).toEqual([
      `listener-tls-policy aws_lb_listener.l: TLS policy ${sslPolicy} is not a TLS 1.3 policy with nothing below TLS 1.2`,
    ]);
  });
});

describe("the report's list of rules", () => {
  const rulesEvaluated = () => formatPolicyReport(evaluatePolicies([])).split("RULES EVALUATED\n")[1].split("\n");

  it("says what each rule holds, in a title of its own", () => {
    const titles = POLICY_RULES.map((rule) => rule.title);
    expect(titles.filter((title) => !/^\S.{9,}[^.\s]$/.test(title))).toEqual([]);
    expect(new Set(titles).size).toBe(titles.length);
    expect(rulesEvaluated().map((line) => line.trim().split(/\s{2,}/)[0])).toEqual(POLICY_RULES.map((rule) => rule.id));
    rulesEvaluated().forEach((line, i) => expect(line.endsWith(` ${POLICY_RULES[i].title}`)).toBe(true));
  });
});
