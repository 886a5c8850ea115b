import * as path from "path";
import { Construct } from "constructs";
import { AssetType, ITerraformDependable, TerraformAsset } from "cdktf";
import { Release } from "@cdktf/provider-helm/lib/release";
import { ChartCrds } from "./chart-crds";
import { CONTROLLER_NAMESPACE, CONTROLLER_SERVICE_ACCOUNT } from "./load-balancer-controller-identity";
import { projectRoot } from "../support/project-root";

/**
 * Ingress class the controller answers to: one no Ingress uses, so that Ingresses
 * of class `alb` (or none) are left alone. The chart cannot switch the Ingress reconciler off.
 */
const UNUSED_INGRESS_CLASS = "target-group-binding-only";

/**
 * Chart values that keep the controller to TargetGroupBindings: no Service or
 * Gateway reconciler, no Ingress validating webhook or class, no Service
 * mutating webhook, no WAF/Shield calls. Each key exists in the chart's
 * values.yaml from 1.17.0 to 3.5.0, and each feature gate in the controller.
 */
const TARGET_GROUP_BINDINGS_ONLY = {
  controllerConfig: {
    featureGates: { EnableServiceController: false, ALBGatewayAPI: false, NLBGatewayAPI: false },
  },
  ingressClass: UNUSED_INGRESS_CLASS,
  createIngressClassResource: false,
  webhookConfig: { disableIngressValidation: true },
  enableServiceMutatorWebhook: false,
  enableShield: false,
  enableWaf: false,
  enableWafv2: false,
} as const;

/** A Kubernetes Service whose pods are registered in a target group. */
export interface TargetGroupBindingSpec {
  /** The routed service. */
  readonly service: string;
  /**
   * Name of the binding and of its Helm release; it changes with the target group, whose
   * ARN a binding cannot change, so a new target group gets a new binding before the old one goes.
   */
  readonly name: string;
  readonly namespace: string;
  readonly serviceName: string;
  readonly servicePort: number;
  readonly targetGroupArn: string;
  /** What the binding needs first: its namespace, and the Service when the fleet runs it. @default none */
  readonly dependsOn?: ITerraformDependable[];
}

export interface LoadBalancerControllerProps {
  readonly clusterName: string;
  readonly region: string;
  /** Given so the controller never asks IMDS, which hop limit 1 keeps from pods. */
  readonly vpcId: string;
  /** Version of the aws-load-balancer-controller chart. */
  readonly chartVersion: string;
  /** @default 2 */
  readonly replicas?: number;
  readonly bindings: readonly TargetGroupBindingSpec[];
}

const CHART = { repository: "https://aws.github.io/eks-charts", chart: "aws-load-balancer-controller" };
const RELEASE_NAME = "aws-load-balancer-controller";

/**
 * The AWS Load Balancer Controller, installed by Helm, and one release of
 * TargetGroupBindings per routed service. The controller's CRDs of the pinned
 * chart version are applied first by the Kubernetes provider (so that a chart
 * bump upgrades them), the chart is released without them, and Helm applies
 * the bindings after the controller release (and its webhook) is ready, so
 * nothing needs a CRD at plan time and a first deploy works in one run.
 */
export class LoadBalancerController extends Construct {
  readonly crds: ChartCrds;
  readonly release: Release;
  /** One release of TargetGroupBindings per routed service; each creates its namespace. */
  readonly bindingReleases: Release[] = [];

  constructor(scope: Construct, id: string, props: LoadBalancerControllerProps) {
    super(scope, id);
    const values = [
        JSON.stringify({
          clusterName: props.clusterName,
          region: props.region,
          vpcId: props.vpcId,
          replicaCount: props.replicas ?? 2,
          podDisruptionBudget: { maxUnavailable: 1 },
          serviceAccount: { create: true, name: CONTROLLER_SERVICE_ACCOUNT },
          // The chart generates a new webhook CA and certificate on every upgrade unless told to reuse
          // its Secret (`keepTLSSecret`, in values.yaml since chart 1.3.0, false by default in 3.5.0):
          // the API server would get the new CA at once while running pods still serve the old
          // certificate, so the TargetGroupBinding webhooks (failurePolicy Fail) would refuse
          // requests and the pod readiness-gate webhook (Ignore) would be skipped in silence.
          keepTLSSecret: true,
          ...TARGET_GROUP_BINDINGS_ONLY,
        }),
      ];
    this.crds = new ChartCrds(this, "crds", { ...CHART, version: props.chartVersion, releaseName: RELEASE_NAME, namespace: CONTROLLER_NAMESPACE, values });
    this.release = new Release(this, "controller", {
      name: RELEASE_NAME,
      ...CHART,
      version: props.chartVersion,
      namespace: CONTROLLER_NAMESPACE,
      wait: true,
      atomic: true,
      skipCrds: true,
      values,
      dependsOn: [this.crds.crds],
    });

    const chart = new TerraformAsset(this, "bindings-chart", {
      path: path.join(projectRoot(), "charts", "target-group-bindings"),
      type: AssetType.DIRECTORY,
    });
    for (const binding of props.bindings) {
      const bindingRelease = new Release(this, `bindings-${binding.service}`, {
        name: `target-group-binding-${binding.name}`,
        chart: `./${chart.path}`,
        namespace: binding.namespace,
        wait: true,
        atomic: true,
        values: [
          JSON.stringify({
            bindings: [
              {
                name: binding.name,
                serviceName: binding.serviceName,
                servicePort: binding.servicePort,
                targetGroupARN: binding.targetGroupArn,
              },
            ],
          }),
        ],
        dependsOn: [this.release, ...(binding.dependsOn ?? [])],
        lifecycle: { createBeforeDestroy: true },
      });
      this.bindingReleases.push(bindingRelease);
    }
  }
}
