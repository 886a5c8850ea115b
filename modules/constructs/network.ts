import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { EncryptionKey, partitionOf } from "./encryption-key";
import { policyDocument, servicePrincipalTrust } from "./iam";
import { acceptPolicyException } from "../policy/exceptions";

export interface NetworkProps {
  /** Prefix of the Name tags. */
  readonly namePrefix: string;
  /** Account and region, for the flow logs' encryption key policy. */
  readonly accountId: string;
  readonly region: string;
  readonly cidr: string;
  readonly availabilityZones: readonly string[];
  /** One per availability zone, same order. */
  readonly privateSubnetCidrs: readonly string[];
  /** One per availability zone, same order. */
  readonly publicSubnetCidrs: readonly string[];
  /**
   * One NAT gateway for the VPC, or one per availability zone.
   * @default "perAz"
   */
  readonly natGateways?: "single" | "perAz";
  /**
   * Days to keep VPC flow logs.
   * @default 365
   */
  readonly flowLogRetentionDays?: number;
}

/**
 * A VPC with a public and a private subnet per availability zone, NAT for the
 * private subnets, flow logs, and the subnet tags the ALB and Kubernetes look for.
 * Nothing in it depends on the clusters, so adding one never changes it.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnets: Subnet[];
  readonly privateSubnets: Subnet[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const name = (suffix: string) => ({ Name: `${props.namePrefix}-${suffix}` });

    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: name("vpc"),
    });

    // Strip the default security group of its rules so nothing can use it by accident.
    new DefaultSecurityGroup(this, "default-security-group", { vpcId: this.vpc.id, tags: name("default-unused") });

    const internetGateway = new InternetGateway(this, "internet-gateway", { vpcId: this.vpc.id, tags: name("igw") });

    this.publicSubnets = props.availabilityZones.map(
      (zone, i) =>
        new Subnet(this, `public-${zone}`, {
          vpcId: this.vpc.id,
          availabilityZone: zone,
          cidrBlock: props.publicSubnetCidrs[i],
          mapPublicIpOnLaunch: false,
          tags: { ...name(`public-${zone}`), "kubernetes.io/role/elb": "1" },
        }),
    );
    this.privateSubnets = props.availabilityZones.map(
      (zone, i) =>
        new Subnet(this, `private-${zone}`, {
          vpcId: this.vpc.id,
          availabilityZone: zone,
          cidrBlock: props.privateSubnetCidrs[i],
          mapPublicIpOnLaunch: false,
          tags: { ...name(`private-${zone}`), "kubernetes.io/role/internal-elb": "1" },
        }),
    );

    const publicRoutes = new RouteTable(this, "public-routes", { vpcId: this.vpc.id, tags: name("public") });
    new Route(this, "public-default-route", {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: internetGateway.id,
    });
    this.publicSubnets.forEach((subnet, i) => {
      new RouteTableAssociation(this, `public-routes-${props.availabilityZones[i]}`, {
        subnetId: subnet.id,
        routeTableId: publicRoutes.id,
      });
    });

    const natZones = (props.natGateways ?? "perAz") === "single" ? [props.availabilityZones[0]] : props.availabilityZones;
    const natGateways = natZones.map((zone, i) => {
      const address = new Eip(this, `nat-address-${zone}`, { domain: "vpc", tags: name(`nat-${zone}`) });
      return new NatGateway(this, `nat-${zone}`, {
        allocationId: address.allocationId,
        subnetId: this.publicSubnets[i].id,
        tags: name(`nat-${zone}`),
        dependsOn: [internetGateway],
      });
    });

    this.privateSubnets.forEach((subnet, i) => {
      const zone = props.availabilityZones[i];
      const routes = new RouteTable(this, `private-routes-${zone}`, { vpcId: this.vpc.id, tags: name(`private-${zone}`) });
      new Route(this, `private-default-route-${zone}`, {
        routeTableId: routes.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: natGateways[Math.min(i, natGateways.length - 1)].id,
      });
      new RouteTableAssociation(this, `private-routes-association-${zone}`, { subnetId: subnet.id, routeTableId: routes.id });
    });

    this.addFlowLogs(props);
  }

  private addFlowLogs({ namePrefix, accountId, region, flowLogRetentionDays }: NetworkProps): void {
    const logGroupName = `/${namePrefix}/vpc-flow-logs`;
    const key = new EncryptionKey(this, "flow-logs-key", {
      description: `Encrypts the VPC flow logs of ${namePrefix}`,
      accountId,
      region,
      logGroupNamePattern: logGroupName,
    });
    const retentionDays = flowLogRetentionDays ?? 365;
    const logGroup = new CloudwatchLogGroup(this, "flow-logs", {
      name: logGroupName,
      retentionInDays: retentionDays,
      kmsKeyId: key.key.arn,
    });
    if (retentionDays < 365) {
      acceptPolicyException(logGroup, "log-group-retention", `${retentionDays} days chosen with platform.yaml vpc.flowLogRetentionDays`);
    }
    const partition = partitionOf(region);
    // Only VPC flow logs of this account and region may assume the role (confused-deputy protection).
    const role = new IamRole(this, "flow-logs-role", {
      name: `${namePrefix}-vpc-flow-logs`,
      assumeRolePolicy: servicePrincipalTrust("vpc-flow-logs.amazonaws.com", ["sts:AssumeRole"], {
        StringEquals: { "aws:SourceAccount": accountId },
        ArnLike: { "aws:SourceArn": `arn:${partition}:ec2:${region}:${accountId}:vpc-flow-log/*` },
      }),
    });
    // What AWS documents for publishing to CloudWatch Logs, scoped to this log group. No
    // logs:CreateLogGroup: Terraform owns the (encrypted) group, the service must never create one.
    new IamRolePolicy(this, "flow-logs-policy", {
      role: role.id,
      name: "write-flow-logs",
      policy: policyDocument([
        {
          Sid: "WriteFlowLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [logGroup.arn, `${logGroup.arn}:*`],
        },
        {
          Sid: "FindLogGroup",
          Effect: "Allow",
          Action: ["logs:DescribeLogGroups"],
          Resource: [`arn:${partition}:logs:${region}:${accountId}:log-group:*`],
        },
      ]),
    });
    new FlowLog(this, "flow-log", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
    });
  }
}
