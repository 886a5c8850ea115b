import { Testing } from "cdktf";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Network, NetworkProps } from "../modules/constructs/network";

const props: NetworkProps = {
  namePrefix: "t",
  accountId: "123456789012",
  region: "eu-west-1",
  cidr: "10.0.0.0/16",
  availabilityZones: ["eu-west-1a", "eu-west-1b"],
  privateSubnetCidrs: ["10.0.0.0/19", "10.0.32.0/19"],
  publicSubnetCidrs: ["10.0.128.0/22", "10.0.132.0/22"],
};

function synth(overrides: Partial<NetworkProps> = {}) {
  const text = Testing.synthScope((scope) => new Network(scope, "network", { ...props, ...overrides }));
  return { text, json: JSON.parse(text) as { resource: Record<string, Record<string, Record<string, unknown>>> } };
}

describe("Network", () => {
  const { text, json } = synth();

  it("creates the VPC with DNS support", () => {
    expect(text).toHaveResourceWithProperties(Vpc, { cidr_block: "10.0.0.0/16", enable_dns_hostnames: true });
  });

  it("tags public subnets for internet-facing and private ones for internal load balancers", () => {
    expect(text).toHaveResourceWithProperties(Subnet, {
      cidr_block: "10.0.128.0/22",
      availability_zone: "eu-west-1a",
      tags: expect.objectContaining({ "kubernetes.io/role/elb": "1" }),
    });
    expect(text).toHaveResourceWithProperties(Subnet, {
      cidr_block: "10.0.32.0/19",
      availability_zone: "eu-west-1b",
      tags: expect.objectContaining({ "kubernetes.io/role/internal-elb": "1" }),
    });
  });

  it("never gives instances public IPs on launch", () => {
    const subnets = Object.values(json.resource.aws_subnet);
    expect(subnets).toHaveLength(4);
    expect(subnets.every((s) => s.map_public_ip_on_launch === false)).toBe(true);
  });

  it("has one NAT gateway per AZ by default and one in single mode", () => {
    expect(Object.keys(json.resource.aws_nat_gateway)).toHaveLength(2);
    const single = synth({ natGateways: "single" });
    expect(Object.keys(single.json.resource.aws_nat_gateway)).toHaveLength(1);
    expect(single.text).toHaveResource(NatGateway);
    expect(Object.keys(single.json.resource.aws_route_table)).toHaveLength(3);
  });

  it("routes each private subnet through a NAT gateway", () => {
    const routes = Object.values(json.resource.aws_route).filter((r) => r.nat_gateway_id);
    expect(routes).toHaveLength(2);
  });

  it("logs all traffic and keeps the logs for the configured days", () => {
    expect(text).toHaveResourceWithProperties(FlowLog, { traffic_type: "ALL", log_destination_type: "cloud-watch-logs" });
    expect(Object.values(json.resource.aws_cloudwatch_log_group)[0].retention_in_days).toBe(365);
    expect(Object.values(synth({ flowLogRetentionDays: 30 }).json.resource.aws_cloudwatch_log_group)[0].retention_in_days).toBe(30);
  });

  it("encrypts flow logs with a rotating key that only these log groups may use", () => {
    const logGroup = Object.values(json.resource.aws_cloudwatch_log_group)[0];
    expect(logGroup.kms_key_id).toMatch(/^\$\{aws_kms_key\..+\.arn\}$/);
    const key = Object.values(json.resource.aws_kms_key)[0];
    expect(key.enable_key_rotation).toBe(true);
    const logsStatement = JSON.parse(key.policy as string).Statement.find((s: { Sid: string }) => s.Sid === "CloudWatchLogs");
    expect(logsStatement.Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"]).toBe(
      "arn:aws:logs:eu-west-1:123456789012:log-group:/t/vpc-flow-logs",
    );
  });

  it("lets only this account's VPC flow logs assume the flow-log role", () => {
    const role = Object.values(json.resource.aws_iam_role)[0];
    expect(JSON.parse(role.assume_role_policy as string).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
        Action: ["sts:AssumeRole"],
        Condition: {
          StringEquals: { "aws:SourceAccount": "123456789012" },
          ArnLike: { "aws:SourceArn": "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*" },
        },
      },
    ]);
  });

  it("grants the flow-log role what AWS documents for CloudWatch Logs, on its log group only", () => {
    const policy = JSON.parse(Object.values(json.resource.aws_iam_role_policy)[0].policy as string);
    const logGroupArn = expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.[^.]+\.arn\}$/);
    expect(policy.Statement).toEqual([
      {
        Sid: "WriteFlowLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.[^.]+\.arn\}:\*$/)],
      },
      {
        Sid: "FindLogGroup",
        Effect: "Allow",
        Action: ["logs:DescribeLogGroups"],
        Resource: ["arn:aws:logs:eu-west-1:123456789012:log-group:*"],
      },
    ]);
    expect(policy.Statement.flatMap((s: { Action: string[] }) => s.Action)).not.toContain("logs:CreateLogGroup");
  });

  it("strips the default security group of all rules", () => {
    expect(text).toHaveResource(DefaultSecurityGroup);
    const group = Object.values(json.resource.aws_default_security_group)[0];
    expect(group.ingress).toBeUndefined();
    expect(group.egress).toBeUndefined();
  });
});
