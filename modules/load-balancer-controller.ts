import * as path from "path";
import { Construct } from "constructs";
import { AssetType, TerraformAsset } from "cdktf";
import { Release } from "@cdktf/provider-helm/lib/release";
import { CONTROLLER_NAMESPACE, CONTROLLER_SERVICE_ACCOUNT } from "./load-balancer-controller-identity";
import { projectRoot } from "./project-root";

/** A Kubernetes Service whose pods are registered in a target group. */
export interface TargetGroupBindingSpec {
  /** Name of the binding, the routed service's name. */
  readonly name: string;
  readonly namespace: string;
  readonly serviceName: string;
  readonly servicePort: number;
  readonly targetGroupArn: string;
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

/**
 * The AWS Load Balancer Controller, installed by Helm, and one release of
 * TargetGroupBindings per routed service. Helm applies the bindings after the
 * controller release (and its CRDs and webhook) is ready, so nothing needs the
 * CRD at plan time and a first deploy works in one run.
 */
export class LoadBalancerController extends Construct {
  readonly release: Release;

  constructor(scope: Construct, id: string, props: LoadBalancerControllerProps) {
    super(scope, id);
    this.release = new Release(this, "controller", {
      name: "aws-load-balancer-controller",
      repository: "https://aws.github.io/eks-charts",
      chart: "aws-load-balancer-controller",
      version: props.chartVersion,
      namespace: CONTROLLER_NAMESPACE,
      wait: true,
      atomic: true,
      values: [
        JSON.stringify({
          clusterName: props.clusterName,
          region: props.region,
          vpcId: props.vpcId,
          replicaCount: props.replicas ?? 2,
          podDisruptionBudget: { maxUnavailable: 1 },
          serviceAccount: { create: true, name: CONTROLLER_SERVICE_ACCOUNT },
          // Only TargetGroupBindings: no Ingress class, no Service takeover, no WAF/Shield calls.
          createIngressClassResource: false,
          enableServiceMutatorWebhook: false,
          enableShield: false,
          enableWaf: false,
          enableWafv2: false,
        }),
      ],
    });

    const chart = new TerraformAsset(this, "bindings-chart", {
      path: path.join(projectRoot(), "charts", "target-group-bindings"),
      type: AssetType.DIRECTORY,
    });
    for (const binding of props.bindings) {
      new Release(this, `bindings-${binding.name}`, {
        name: `target-group-binding-${binding.name}`,
        chart: `./${chart.path}`,
        namespace: binding.namespace,
        createNamespace: true,
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
        dependsOn: [this.release],
      });
    }
  }
}
