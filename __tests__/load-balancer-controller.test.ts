import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { parseAllDocuments } from "yaml";
import { EksPodIdentityAssociation } from "@cdktf/provider-aws/lib/eks-pod-identity-association";
import { Release } from "@cdktf/provider-helm/lib/release";
import { LoadBalancerController } from "../modules/constructs/load-balancer-controller";
import {
  CONTROLLER_DESCRIBE_ACTIONS,
  CONTROLLER_TARGET_ACTIONS,
  LoadBalancerControllerIdentity,
} from "../modules/constructs/load-balancer-controller-identity";
import { projectRoot } from "../modules/support/project-root";

type Json = { resource: Record<string, Record<string, Record<string, unknown>>> };
const targetGroupArn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t-blue-web/0123456789abcdef";

describe("LoadBalancerControllerIdentity", () => {
  const text = Testing.synthScope(
    (scope) => new LoadBalancerControllerIdentity(scope, "identity", { clusterName: "t-blue", region: "eu-west-1", accountId: "123456789012", targetGroupArns: [targetGroupArn] }),
  );
  const json = JSON.parse(text) as Json;
  const policy = JSON.parse(Object.values(json.resource.aws_iam_role_policy)[0].policy as string) as {
    Statement: { Action: string[]; Resource: string | string[] }[];
  };

  it("allows changing targets only in the cluster's own target groups", () => {
    const write = policy.Statement.filter((s) => s.Action.some((a) => !/:Describe/.test(a)));
    expect(write).toEqual([expect.objectContaining({ Action: CONTROLLER_TARGET_ACTIONS, Resource: [targetGroupArn] })]);
  });

  it("grants no wildcard actions and '*' resources only to Describe calls", () => {
    for (const statement of policy.Statement) {
      expect(statement.Action.every((a) => !a.includes("*"))).toBe(true);
      if (statement.Resource === "*") expect(statement.Action.every((a) => /:Describe[A-Za-z]+$/.test(a))).toBe(true);
    }
    expect(policy.Statement.flatMap((s) => s.Action)).toEqual([...CONTROLLER_DESCRIBE_ACTIONS, ...CONTROLLER_TARGET_ACTIONS]);
  });

  it("names many target groups in managed policies beside the inline one, each within IAM's limits at the longest ARNs", () => {
    const longest = (i: number) => `arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:targetgroup/${String(i).padStart(32, "x")}/${"0".repeat(16)}`;
    const arns = Array.from({ length: 300 }, (_, i) => longest(i));
    const many = JSON.parse(
      Testing.synthScope((scope) => new LoadBalancerControllerIdentity(scope, "identity", { clusterName: "t-blue", region: "us-gov-west-1", accountId: "123456789012", targetGroupArns: arns })),
    ) as Json;
    const inline = Object.values(many.resource.aws_iam_role_policy)[0].policy as string;
    const managed = Object.values(many.resource.aws_iam_policy).map((p) => p.policy as string);
    expect(inline.length).toBeLessThanOrEqual(10_240);
    for (const document of managed) expect(document.length).toBeLessThanOrEqual(6_144);
    const listed = [inline, ...managed].flatMap((d) => (JSON.parse(d).Statement as { Sid: string; Resource: string[] }[]).filter((st) => st.Sid === "RegisterTargets").flatMap((st) => st.Resource));
    expect(listed).toEqual(arns);
    expect(Object.values(many.resource.aws_iam_role_policy_attachment)).toHaveLength(managed.length);
  });

  it("is delivered to the controller's service account by EKS Pod Identity", () => {
    expect(text).toHaveResourceWithProperties(EksPodIdentityAssociation, {
      cluster_name: "t-blue",
      namespace: "kube-system",
      service_account: "aws-load-balancer-controller",
    });
    const role = Object.values(json.resource.aws_iam_role)[0];
    expect(JSON.parse(role.assume_role_policy as string).Statement[0]).toEqual({
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
    });
  });
});

/** The controller with one binding for service web, named `bindingName`. */
function synthController(bindingName: string): string {
  return Testing.synthScope(
    (scope) =>
      new LoadBalancerController(scope, "lbc", {
        clusterName: "t-blue",
        region: "eu-west-1",
        vpcId: "vpc-1",
        chartVersion: "3.5.0",
        bindings: [{ service: "web", name: bindingName, namespace: "web", serviceName: "web-svc", servicePort: 80, targetGroupArn }],
      }),
  );
}

describe("LoadBalancerController", () => {
  const text = synthController("web-0a1b2c");
  const releases = Object.values((JSON.parse(text) as Json).resource.helm_release);
  const controller = releases.find((r) => r.name === "aws-load-balancer-controller")!;
  const bindings = releases.find((r) => r.name === "target-group-binding-web-0a1b2c")!;

  it("pins the chart and sets cluster, region and VPC so the controller never needs IMDS", () => {
    expect(text).toHaveResourceWithProperties(Release, {
      chart: "aws-load-balancer-controller",
      repository: "https://aws.github.io/eks-charts",
      version: "3.5.0",
      namespace: "kube-system",
    });
    const values = JSON.parse((controller.values as string[])[0]);
    expect(values).toMatchObject({
      clusterName: "t-blue",
      region: "eu-west-1",
      vpcId: "vpc-1",
      replicaCount: 2,
      podDisruptionBudget: { maxUnavailable: 1 },
      enableServiceMutatorWebhook: false,
    });
  });

  it("turns off every reconciler and webhook the chart lets go, but the TargetGroupBinding ones", () => {
    const values = JSON.parse((controller.values as string[])[0]);
    expect(values.controllerConfig).toEqual({
      featureGates: { EnableServiceController: false, ALBGatewayAPI: false, NLBGatewayAPI: false },
    });
    expect(values.webhookConfig).toEqual({ disableIngressValidation: true });
    expect(values).toMatchObject({
      ingressClass: "target-group-binding-only",
      createIngressClassResource: false,
      enableServiceMutatorWebhook: false,
      enableShield: false,
      enableWaf: false,
      enableWafv2: false,
    });
  });

  it("keeps its webhook certificate across release upgrades, so running pods and the API server agree on the CA", () => {
    const values = JSON.parse((controller.values as string[])[0]);
    expect(values.keepTLSSecret).toBe(true);
    // Reused only without cert-manager, and only when no certificate is given in the values.
    expect(values.enableCertManager).toBeUndefined();
    expect(values.webhookTLS).toBeUndefined();
  });

  it("binds each service to its target group after the controller is ready", () => {
    expect(bindings).toMatchObject({ namespace: "web", depends_on: [expect.stringMatching(/^helm_release\./)] });
    // The namespace is the fleet's (labelled for readiness gates) or managed elsewhere, never Helm's.
    expect(bindings.create_namespace).toBeUndefined();
    expect(bindings.chart).toMatch(/^\.\/assets\/[^/]+\/[0-9A-F]+$/);
    expect(JSON.parse((bindings.values as string[])[0])).toEqual({
      bindings: [{ name: "web-0a1b2c", serviceName: "web-svc", servicePort: 80, targetGroupARN: targetGroupArn }],
    });
  });

  it("creates a new target group's binding before removing the old one, under a stable address", () => {
    const addressesWith = (name: string) => Object.keys((JSON.parse(synthController(name)) as Json).resource.helm_release);
    expect(addressesWith("web-ffffff")).toEqual(addressesWith("web-0a1b2c"));
    expect(bindings.lifecycle).toEqual({ create_before_destroy: true });
  });

  it("ships a chart that renders, from the values the fleet passes, one IP-target TargetGroupBinding per binding", () => {
    const values = JSON.parse((bindings.values as string[])[0]) as { bindings: Record<string, unknown>[] };
    const rendered = parseAllDocuments(renderBindingsChart(values, { Namespace: "web", Name: "target-group-binding-web-0a1b2c", Service: "Helm" }));
    expect(rendered.map((document) => document.errors)).toEqual([[]]);
    expect(rendered.map((document) => document.toJS())).toEqual([
      {
        apiVersion: "elbv2.k8s.aws/v1beta1",
        kind: "TargetGroupBinding",
        metadata: {
          name: "web-0a1b2c",
          namespace: "web",
          labels: { "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "target-group-binding-web-0a1b2c" },
        },
        spec: { targetType: "ip", targetGroupARN: targetGroupArn, serviceRef: { name: "web-svc", port: 80 } },
      },
    ]);
  });
});

/**
 * Renders the bindings chart's template as Helm would for the constructs it
 * uses (one range over .Values.bindings, fields, `quote`, $.Release); any
 * other construct fails, so the template cannot grow past what is checked
 * here. (Helm itself is not installed where the tests run.)
 */
function renderBindingsChart(values: { bindings: Record<string, unknown>[] }, release: Record<"Namespace" | "Name" | "Service", string>): string {
  const template = fs.readFileSync(path.join(projectRoot(), "charts/target-group-bindings/templates/target-group-bindings.yaml"), "utf8");
  const range = /^\{\{- range \.Values\.bindings \}\}([\s\S]*)\{\{- end \}\}\n?$/.exec(template);
  if (!range) throw new Error("the template is no longer one range over .Values.bindings");
  return values.bindings
    .map((binding) =>
      range[1].replace(/\{\{ (.*?) \}\}/g, (_, expression: string) => {
        const releaseField = /^\$\.Release\.(Namespace|Name|Service)$/.exec(expression);
        if (releaseField) return release[releaseField[1] as keyof typeof release];
        const field = /^\.(\w+)( \| quote)?$/.exec(expression);
        if (!field) throw new Error(`unsupported template expression {{ ${expression} }}`);
        if (!(field[1] in binding)) throw new Error(`{{ ${expression} }}: the fleet passes no ${field[1]}`);
        return field[2] ? JSON.stringify(String(binding[field[1]])) : String(binding[field[1]]);
      }),
    )
    .join("");
}
