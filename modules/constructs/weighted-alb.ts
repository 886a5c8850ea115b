import { Construct } from "constructs";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener, LbListenerDefaultAction } from "@cdktf/provider-aws/lib/lb-listener";
import { LbListenerRule, LbListenerRuleCondition } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { albField } from "../config/albs";
import { RoutedService } from "../config/schema";
import { cidrsReachingAnywhere } from "../config/cidr";
import { acceptPolicyException } from "../policy/exceptions";
import { albName, TargetGroupIdentity, targetGroupBindingName, targetGroupName } from "./naming";
import { listenerRuleTags, targetGroupTags } from "../config/tags";
import { formatWeights } from "../config/weights";

/** One cluster's share of a service's traffic. */
export interface ClusterWeight {
  readonly cluster: string;
  /** 0-999, relative to the other clusters of the same service. */
  readonly weight: number;
}

/** The target group of a service in a cluster: HTTP to the pods' IPs on the container port. */
export function targetGroupIdentityOf(fleet: string, cluster: string, service: RoutedService): TargetGroupIdentity {
  return { fleet, cluster, service: service.name, port: service.containerPort, protocol: "HTTP", targetType: "ip", alb: service.alb };
}

/** A service and the clusters it is routed to. */
export interface WeightedRoute {
  readonly service: RoutedService;
  /** At most 5 clusters: an ALB forward action takes at most 5 target groups. */
  readonly clusters: readonly ClusterWeight[];
}

export interface WeightedAlbProps {
  readonly fleetName: string;
  /** Its name under platform.yaml `albs:`. @default the ALB of `alb:` */
  readonly albKey?: string;
  readonly vpcId: string;
  /** CIDR of the VPC, the only place the ALB sends traffic to. */
  readonly vpcCidr: string;
  /** Public subnets for an internet-facing ALB, private ones for an internal ALB. */
  readonly subnetIds: string[];
  /** @default false */
  readonly internal?: boolean;
  /** Who may reach the listeners. */
  readonly ingressCidrs: readonly string[];
  /** HTTPS with this ACM certificate (and HTTP redirecting to it); plain HTTP when absent. */
  readonly certificateArn?: string;
  /** TLS policy of the HTTPS listener. */
  readonly sslPolicy: string;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** @default 60 */
  readonly idleTimeoutSeconds?: number;
  /** S3 bucket for access logs; none when absent. */
  readonly accessLogsBucket?: string;
  /** WAFv2 web ACL to associate; none when absent. */
  readonly webAclArn?: string;
  readonly routes: readonly WeightedRoute[];
}

/**
 * One ALB, one target group per (service, cluster) with IP targets, and one
 * listener rule per service that forwards to the clusters' target groups with
 * their weights. A weight change touches only the listener rules.
 */
export class WeightedAlb extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly loadBalancer: Lb;
  /** The listener that carries the weighted rules. */
  readonly trafficListener: LbListener;
  private readonly targetGroups = new Map<string, { readonly resource: LbTargetGroup; readonly identity: TargetGroupIdentity }>();

  constructor(scope: Construct, id: string, props: WeightedAlbProps) {
    super(scope, id);
    const https = props.certificateArn !== undefined;
    const listenerPort = https ? 443 : 80;
    const name = albName(props.fleetName, props.albKey);
    const field = albField(props.albKey);

    this.securityGroup = new SecurityGroup(this, "security-group", {
      name,
      description: `ALB of fleet ${props.fleetName}: listeners in, service ports out to the VPC`,
      vpcId: props.vpcId,
      tags: { Name: name },
    });
    const listenerPorts = https ? [80, 443] : [80];
    const openToAll = cidrsReachingAnywhere(props.ingressCidrs).length > 0;
    for (const cidr of props.ingressCidrs) {
      for (const port of listenerPorts) {
        const rule = new VpcSecurityGroupIngressRule(this, `ingress-${port}-${cidr.replace(/[./]/g, "-")}`, {
          securityGroupId: this.securityGroup.id,
          description: `Listener port ${port} from ${cidr}`,
          cidrIpv4: cidr,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
        });
        if (openToAll) {
          acceptPolicyException(rule, "no-public-ingress", `a listener port of the ALB, open to the clients in platform.yaml ${field}.ingressCidrs`);
        }
      }
    }
    const containerPorts = [...new Set(props.routes.map((r) => r.service.containerPort))].sort((a, b) => a - b);
    for (const port of containerPorts) {
      new VpcSecurityGroupEgressRule(this, `egress-${port}`, {
        securityGroupId: this.securityGroup.id,
        description: `Pods' port ${port} inside the VPC`,
        cidrIpv4: props.vpcCidr,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
      });
    }

    this.loadBalancer = new Lb(this, "load-balancer", {
      name,
      loadBalancerType: "application",
      internal: props.internal ?? false,
      securityGroups: [this.securityGroup.id],
      subnets: props.subnetIds,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      enableDeletionProtection: props.deletionProtection ?? true,
      enableHttp2: true,
      idleTimeout: props.idleTimeoutSeconds ?? 60,
      accessLogs: props.accessLogsBucket
        ? { bucket: props.accessLogsBucket, prefix: props.fleetName, enabled: true }
        : undefined,
    });
    if (props.webAclArn) {
      new Wafv2WebAclAssociation(this, "web-acl", { resourceArn: this.loadBalancer.arn, webAclArn: props.webAclArn });
    }
    this.acceptLoadBalancerExceptions(props);

    const notFound: LbListenerDefaultAction = {
      type: "fixed-response",
      fixedResponse: { contentType: "text/plain", messageBody: "Not found", statusCode: "404" },
    };
    if (https) {
      new LbListener(this, "http-redirect", {
        loadBalancerArn: this.loadBalancer.arn,
        port: 80,
        protocol: "HTTP",
        defaultAction: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
      });
    }
    this.trafficListener = new LbListener(this, https ? "https" : "http", {
      loadBalancerArn: this.loadBalancer.arn,
      port: listenerPort,
      protocol: https ? "HTTPS" : "HTTP",
      certificateArn: props.certificateArn,
      sslPolicy: https ? props.sslPolicy : undefined,
      defaultAction: [notFound],
    });
    if (!https) {
      acceptPolicyException(this.trafficListener, "listener-https", `plain HTTP chosen with platform.yaml ${field}.httpOnly: true`);
    }

    for (const route of props.routes) {
      this.addRoute(props.fleetName, props.vpcId, route);
    }
  }

  /** Declares the policy rules the configuration knowingly relaxes for the ALB. */
  private acceptLoadBalancerExceptions(props: WeightedAlbProps): void {
    const field = albField(props.albKey);
    if (!props.internal) {
      acceptPolicyException(this.loadBalancer, "alb-internal", `internet-facing by design: the fleet's entry point for its clients (platform.yaml ${field}.internal)`);
      if (!props.webAclArn) {
        acceptPolicyException(this.loadBalancer, "alb-waf", `no web ACL configured: set platform.yaml ${field}.webAclArn`);
      }
    }
    if (!props.accessLogsBucket) {
      acceptPolicyException(this.loadBalancer, "alb-access-logs", `no log bucket configured: set platform.yaml ${field}.accessLogsBucket`);
    }
    if (props.deletionProtection === false) {
      acceptPolicyException(this.loadBalancer, "alb-deletion-protection", `turned off with platform.yaml ${field}.deletionProtection: false`);
    }
  }

  /** ARN of the target group of a service in a cluster. */
  targetGroupArn(service: string, cluster: string): string {
    return this.targetGroup(service, cluster).resource.arn;
  }

  /** The `targetgroup/<name>/<id>` end of that target group's ARN: its CloudWatch dimension. */
  targetGroupArnSuffix(service: string, cluster: string): string {
    return this.targetGroup(service, cluster).resource.arnSuffix;
  }

  /** Name of the TargetGroupBinding that fills that target group: a new one with each new target group. */
  targetGroupBindingName(service: string, cluster: string): string {
    return targetGroupBindingName(this.targetGroup(service, cluster).identity);
  }

  private targetGroup(service: string, cluster: string) {
    const targetGroup = this.targetGroups.get(`${service}/${cluster}`);
    if (!targetGroup) throw new Error(`service ${service} is not routed to cluster ${cluster}`);
    return targetGroup;
  }

  private addRoute(fleetName: string, vpcId: string, { service, clusters }: WeightedRoute): void {
    const forwardTo = clusters.map(({ cluster, weight }) => {
      const identity = targetGroupIdentityOf(fleetName, cluster, service);
      // A new port or protocol needs a new target group: it gets a new name, is created
      // before the old one is destroyed, and the rule moves to it in between.
      const targetGroup = new LbTargetGroup(this, `target-group-${service.name}-${cluster}`, {
        name: targetGroupName(identity),
        targetType: identity.targetType,
        protocol: identity.protocol,
        port: identity.port,
        vpcId,
        deregistrationDelay: String(service.deregistrationDelaySeconds),
        healthCheck: {
          enabled: true,
          protocol: "HTTP",
          port: "traffic-port",
          path: service.healthCheck.path,
          matcher: service.healthCheck.matcher,
          interval: service.healthCheck.intervalSeconds,
          healthyThreshold: service.healthCheck.healthyThreshold,
          unhealthyThreshold: service.healthCheck.unhealthyThreshold,
        },
        tags: targetGroupTags(fleetName, cluster, service.name),
        lifecycle: { createBeforeDestroy: true },
      });
      this.targetGroups.set(`${service.name}/${cluster}`, { resource: targetGroup, identity });
      return { arn: targetGroup.arn, weight };
    });

    const conditions: LbListenerRuleCondition[] = [];
    if (service.hosts) conditions.push({ hostHeader: { values: service.hosts } });
    if (service.paths) conditions.push({ pathPattern: { values: service.paths } });
    new LbListenerRule(this, `rule-${service.name}`, {
      listenerArn: this.trafficListener.arn,
      priority: service.priority,
      condition: conditions,
      action: [{ type: "forward", forward: { targetGroup: forwardTo } }],
      tags: listenerRuleTags(fleetName, service.name, formatWeights(Object.fromEntries(clusters.map(({ cluster, weight }) => [cluster, weight])))),
    });
  }
}
