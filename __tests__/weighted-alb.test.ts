import { Testing } from "cdktf";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { RoutedService } from "../modules/config/schema";
import { WeightedAlb, WeightedAlbProps } from "../modules/constructs/weighted-alb";

const service: RoutedService = {
  name: "web",
  namespace: "web",
  servicePort: 80,
  containerPort: 8080,
  hosts: ["www.example.com"],
  priority: 10,
  healthCheck: { path: "/healthz", matcher: "200", intervalSeconds: 10, healthyThreshold: 2, unhealthyThreshold: 3 },
  deregistrationDelaySeconds: 30,
  manageNamespace: true,
  minHealthyTargets: 1,
  shiftLimits: { max5xxPercent: 1, maxResponseTimeMs: 1000 },
  failover: {},
};

const props: WeightedAlbProps = {
  fleetName: "t",
  vpcId: "vpc-1",
  vpcCidr: "10.0.0.0/16",
  subnetIds: ["subnet-a", "subnet-b"],
  ingressCidrs: ["0.0.0.0/0"],
  certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
  sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
  routes: [{ service, clusters: [{ cluster: "blue", weight: 90 }, { cluster: "green", weight: 10 }] }],
};

type Json = { resource: Record<string, Record<string, Record<string, unknown>>> };

function synth(overrides: Partial<WeightedAlbProps> = {}) {
  const text = Testing.synthScope((scope) => new WeightedAlb(scope, "alb", { ...props, ...overrides }));
  return { text, json: JSON.parse(text) as Json };
}

describe("WeightedAlb", () => {
  const { text, json } = synth();

  it("drops invalid headers, mitigates desync and protects against deletion by default", () => {
    expect(text).toHaveResourceWithProperties(Lb, {
      load_balancer_type: "application",
      internal: false,
      drop_invalid_header_fields: true,
      desync_mitigation_mode: "defensive",
      enable_deletion_protection: true,
    });
  });

  it("terminates TLS with the configured policy and redirects HTTP to HTTPS", () => {
    expect(text).toHaveResourceWithProperties(LbListener, {
      port: 443,
      protocol: "HTTPS",
      ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificate_arn: props.certificateArn,
    });
    expect(text).toHaveResourceWithProperties(LbListener, {
      port: 80,
      protocol: "HTTP",
      default_action: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", status_code: "HTTP_301" } }],
    });
  });

  it("serves plain HTTP with the rules on port 80 when there is no certificate", () => {
    const http = synth({ certificateArn: undefined });
    const listeners = Object.values(http.json.resource.aws_lb_listener);
    expect(listeners.map((l) => [l.port, l.protocol])).toEqual([[80, "HTTP"]]);
    const ingressPorts = Object.values(http.json.resource.aws_vpc_security_group_ingress_rule).map((r) => r.from_port);
    expect(ingressPorts).toEqual([80]);
  });

  it("has one IP target group per cluster with the service's health check", () => {
    expect(text).toHaveResourceWithProperties(LbTargetGroup, {
      name: expect.stringMatching(/^t-blue-web-[0-9a-f]{6}$/),
      lifecycle: { create_before_destroy: true },
      target_type: "ip",
      port: 8080,
      protocol: "HTTP",
      deregistration_delay: "30",
      health_check: expect.objectContaining({ path: "/healthz", matcher: "200", port: "traffic-port" }),
      tags: { fleet: "t", cluster: "blue", service: "web" },
    });
    expect(Object.keys(json.resource.aws_lb_target_group)).toHaveLength(2);
  });

  it("forwards with the clusters' weights from one tagged rule per service", () => {
    const rule = Object.values(json.resource.aws_lb_listener_rule)[0];
    expect(rule.priority).toBe(10);
    expect(rule.condition).toEqual([{ host_header: { values: ["www.example.com"] } }]);
    // The weights Terraform set, beside the rule: live weights that differ from them are a failover not yet in the files.
    expect(rule.tags).toEqual({ fleet: "t", service: "web", "deployed-weights": "blue=90 green=10" });
    const forward = (rule.action as { forward: { target_group: { weight: number }[] } }[])[0].forward;
    expect(forward.target_group.map((t) => t.weight)).toEqual([90, 10]);
  });

  it("opens only listener ports in and only the pods' ports out to the VPC, each rule described", () => {
    const egress = Object.values(json.resource.aws_vpc_security_group_egress_rule);
    expect(egress.map((r) => [r.cidr_ipv4, r.from_port, r.to_port])).toEqual([["10.0.0.0/16", 8080, 8080]]);
    const ingress = Object.values(json.resource.aws_vpc_security_group_ingress_rule);
    expect(ingress.map((r) => r.from_port).sort()).toEqual([443, 80]);
    expect([...egress, ...ingress].every((r) => typeof r.description === "string" && r.description.length > 0)).toBe(true);
  });

  it("associates a WAF web ACL and writes access logs when configured", () => {
    const withExtras = synth({ webAclArn: "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1", accessLogsBucket: "logs" });
    expect(withExtras.text).toHaveResource(Wafv2WebAclAssociation);
    expect(withExtras.text).toHaveResourceWithProperties(Lb, { access_logs: { bucket: "logs", prefix: "t", enabled: true } });
    expect(text).not.toHaveResource(Wafv2WebAclAssociation);
  });

  it("refuses a target group lookup for a cluster the service is not routed to", () => {
    Testing.synthScope((scope) => {
      const alb = new WeightedAlb(scope, "alb", props);
      expect(() => alb.targetGroupArn("web", "red")).toThrow("service web is not routed to cluster red");
    });
  });
});
