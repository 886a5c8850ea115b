import { Construct } from "constructs";
import { dependable, ITerraformDependable, TerraformResource } from "cdktf";
import { effectiveChartReplicas, effectiveWorkloadScale } from "../config/scale";
import { ClusterConfig, RoutedService, terminationGracePeriodOf } from "../config/schema";
import { ServiceNamespaces } from "./namespaces";
import { ServiceChart } from "./service-chart";
import { Workload } from "./workload";

export interface ClusterServicesProps {
  readonly fleetName: string;
  readonly cluster: ClusterConfig;
  /** The services routed to this cluster. */
  readonly services: readonly RoutedService[];
  /** Text of each chart's values file, by service name. */
  readonly chartValues: Readonly<Record<string, string>>;
}

/**
 * What runs the routed services in one cluster: their namespaces (with pod
 * readiness gates) unless managed elsewhere, and for each service that
 * declares one, its workload or chart. A service with neither is deployed
 * elsewhere and only bound here.
 */
export class ClusterServices extends Construct {
  private readonly namespaces: ServiceNamespaces;
  private readonly runners = new Map<string, Workload | ServiceChart>();

  constructor(scope: Construct, id: string, props: ClusterServicesProps) {
    super(scope, id);
    const { cluster } = props;
    this.namespaces = new ServiceNamespaces(this, "namespaces", {
      names: props.services.filter((s) => s.manageNamespace).map((s) => s.namespace),
    });
    for (const service of props.services) {
      const dependsOn = this.namespaceOf(service);
      if (service.workload) {
        this.runners.set(
          service.name,
          new Workload(this, `workload-${service.name}`, {
            name: service.name,
            namespace: service.namespace,
            serviceName: service.serviceName ?? service.name,
            servicePort: service.servicePort,
            containerPort: service.containerPort,
            healthCheckPath: service.healthCheck.path,
            workload: service.workload,
            terminationGracePeriodSeconds: terminationGracePeriodOf(service),
            scale: effectiveWorkloadScale(cluster, service.name, service.workload),
            fleetEnv: { CLUSTER_NAME: cluster.name, FLEET_NAME: props.fleetName },
            dependsOn,
          }),
        );
      } else if (service.chart) {
        this.runners.set(
          service.name,
          new ServiceChart(this, `chart-${service.name}`, {
            name: service.name,
            namespace: service.namespace,
            chart: service.chart,
            values: props.chartValues[service.name],
            replicas: effectiveChartReplicas(cluster, service.name),
            dependsOn,
          }),
        );
      }
    }
  }

  /** What a service's TargetGroupBinding needs first: its namespace and, when the fleet runs it, its Service. */
  bindingDependencies(service: RoutedService): ITerraformDependable[] {
    const runner = this.runners.get(service.name);
    const runs = runner instanceof Workload ? [runner.service] : runner ? [runner.release] : [];
    return [...this.namespaceOf(service), ...runs];
  }

  /**
   * Creates the pods only after `gate`: the Load Balancer Controller, whose
   * webhook must admit every pod of a namespace with readiness gates.
   */
  runAfter(gate: ITerraformDependable): void {
    for (const runner of this.runners.values()) {
      for (const resource of runner.node.findAll().filter((c): c is TerraformResource => c instanceof TerraformResource)) {
        resource.dependsOn = [...(resource.dependsOn ?? []), dependable(gate)];
      }
    }
  }

  private namespaceOf(service: RoutedService): ITerraformDependable[] {
    const namespace = this.namespaces.namespace(service.namespace);
    return namespace ? [namespace] : [];
  }
}
