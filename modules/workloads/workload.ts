import { createHash } from "crypto";
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { HorizontalPodAutoscalerV2 } from "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { ROLLOUT_MAX_SURGE_PERCENT } from "../config/quotas";
import { WorkloadScale } from "../config/scale";
import { WorkloadConfig } from "../config/workload-schema";
import { terraformLiteral, terraformLiteralValues } from "./terraform-literal";

export interface WorkloadProps {
  /** Name of the Deployment, its pods' `app.kubernetes.io/name`, and of its PodDisruptionBudget and autoscaler. */
  readonly name: string;
  readonly namespace: string;
  /** The Kubernetes Service that the TargetGroupBinding refers to. */
  readonly serviceName: string;
  readonly servicePort: number;
  /** Port the container listens on: the target group's port. */
  readonly containerPort: number;
  /** Probe path when the workload names none: the target group's health-check path. */
  readonly healthCheckPath: string;
  readonly workload: WorkloadConfig;
  /** Seconds from a pod's stop to its SIGKILL: beyond its preStop sleep and the target group's deregistration delay. */
  readonly terminationGracePeriodSeconds: number;
  /** Pods in this cluster (overrides and standby applied). */
  readonly scale: WorkloadScale;
  /** Variables set by the fleet, such as the cluster's name. */
  readonly fleetEnv: Readonly<Record<string, string>>;
  /** What must exist before pods are created: the namespace, and the controller whose webhook admits them. */
  readonly dependsOn: ITerraformDependable[];
}

const CONFIG_VOLUME = "config";

/**
 * A service's pods in one cluster as Kubernetes provider resources: a
 * Deployment (non-root, read-only root filesystem, spread across zones,
 * readiness on the health-check path, stopping only after a preStop sleep so
 * that the ALB has stopped sending to it), its Service, a PodDisruptionBudget, a
 * ConfigMap of its files and, when it autoscales, a HorizontalPodAutoscaler.
 */
export class Workload extends Construct {
  readonly service: ServiceV1;
  readonly deployment: DeploymentV1;

  constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    const { workload } = props;
    const selector = { "app.kubernetes.io/name": props.name };
    const labels = { ...selector, "app.kubernetes.io/managed-by": "terraform" };
    const metadata = { name: props.name, namespace: props.namespace, labels };

    const config = workload.config
      ? new ConfigMapV1(this, "config", { metadata, data: terraformLiteralValues(workload.config.files), dependsOn: props.dependsOn })
      : undefined;
    const volumes = [
      ...(config ? [{ name: CONFIG_VOLUME, configMap: { name: config.metadata.name } }] : []),
      ...workload.writableDirs.map((_, i) => ({ name: `writable-${i}`, emptyDir: {} })),
    ];
    const volumeMounts = [
      ...(workload.config ? [{ name: CONFIG_VOLUME, mountPath: workload.config.mountPath, readOnly: true }] : []),
      ...workload.writableDirs.map((dir, i) => ({ name: `writable-${i}`, mountPath: dir })),
    ];
    const httpProbe = (probe: WorkloadConfig["readinessProbe"]) => ({
      httpGet: { path: probe.path ?? props.healthCheckPath, port: String(props.containerPort) },
      initialDelaySeconds: probe.initialDelaySeconds,
      periodSeconds: probe.periodSeconds,
      timeoutSeconds: probe.timeoutSeconds,
      failureThreshold: probe.failureThreshold,
    });
    const env = terraformLiteralValues({ ...workload.env, ...props.fleetEnv });

    this.deployment = new DeploymentV1(this, "deployment", {
      metadata,
      spec: {
        replicas: String(props.scale.replicas),
        selector: { matchLabels: selector },
        // Never below the wanted count while rolling: a new pod is ready only once healthy in the target group.
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "0", maxSurge: `${ROLLOUT_MAX_SURGE_PERCENT}%` } },
        template: {
          metadata: {
            labels,
            // A change of the ConfigMap's files rolls the pods.
            annotations: config ? { "checksum/config": sha256(JSON.stringify(workload.config!.files)) } : {},
          },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: props.terminationGracePeriodSeconds,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: workload.runAsUser === undefined ? undefined : String(workload.runAsUser),
              seccompProfile: { type: "RuntimeDefault" },
            },
            topologySpreadConstraint: [
              {
                topologyKey: "topology.kubernetes.io/zone",
                maxSkew: workload.zoneSpread.maxSkew,
                whenUnsatisfiable: workload.zoneSpread.whenUnsatisfiable,
                labelSelector: [{ matchLabels: selector }],
              },
            ],
            container: [
              {
                name: props.name,
                image: workload.image,
                command: workload.command?.map(terraformLiteral),
                args: workload.args?.map(terraformLiteral),
                port: [{ name: "http", containerPort: props.containerPort, protocol: "TCP" }],
                env: Object.keys(env)
                  .sort()
                  .map((name) => ({ name, value: env[name] })),
                resources: {
                  requests: { cpu: workload.resources.requests.cpu, memory: workload.resources.requests.memory },
                  limits: {
                    memory: workload.resources.limits.memory ?? workload.resources.requests.memory,
                    ...(workload.resources.limits.cpu ? { cpu: workload.resources.limits.cpu } : {}),
                  },
                },
                // The pod leaves the target group as it starts stopping, but the ALB sends it requests for
                // a few seconds more: the sleep keeps it serving them before SIGTERM. An exec, since the
                // provider's kubernetes_deployment_v1 (2.38) has no field for Kubernetes' own sleep action.
                lifecycle:
                  workload.preStopSleepSeconds > 0 ? { preStop: [{ exec: { command: ["sleep", String(workload.preStopSleepSeconds)] } }] } : undefined,
                readinessProbe: httpProbe(workload.readinessProbe),
                livenessProbe: workload.livenessProbe ? httpProbe(workload.livenessProbe) : undefined,
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  privileged: false,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMount: volumeMounts,
              },
            ],
            volume: volumes,
          },
        },
      },
      // The autoscaler owns the replica count once it exists.
      lifecycle: props.scale.autoscaling ? { ignoreChanges: ["spec[0].replicas"] } : undefined,
      dependsOn: props.dependsOn,
    });

    this.service = new ServiceV1(this, "service", {
      metadata: { ...metadata, name: props.serviceName },
      spec: {
        type: "ClusterIP",
        selector,
        port: [{ name: "http", port: props.servicePort, targetPort: String(props.containerPort), protocol: "TCP" }],
      },
      dependsOn: props.dependsOn,
    });

    new PodDisruptionBudgetV1(this, "disruption-budget", {
      metadata,
      spec: { maxUnavailable: String(workload.podDisruptionBudget.maxUnavailable), selector: { matchLabels: selector } },
      dependsOn: props.dependsOn,
    });

    if (props.scale.autoscaling) {
      new HorizontalPodAutoscalerV2(this, "autoscaler", {
        metadata,
        spec: {
          minReplicas: props.scale.autoscaling.minReplicas,
          maxReplicas: props.scale.autoscaling.maxReplicas,
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.metadata.name },
          metric: [
            {
              type: "Resource",
              resource: { name: "cpu", target: { type: "Utilization", averageUtilization: workload.targetCpuUtilizationPercent } },
            },
          ],
        },
      });
    }
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
