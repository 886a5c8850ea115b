import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { Release } from "@cdktf/provider-helm/lib/release";
import { ChartConfig } from "../config/workload-schema";
import { terraformLiteral } from "./terraform-literal";

export interface ServiceChartProps {
  /** Release name: the routed service's name. */
  readonly name: string;
  readonly namespace: string;
  readonly chart: ChartConfig;
  /** Text of the chart's values file, if it has one. */
  readonly values?: string;
  /** Replicas in this cluster, set as the chart's `replicasValue`; undefined leaves the values file's. */
  readonly replicas?: number;
  /** What must exist first: the namespace, and the controller whose webhook admits the pods. */
  readonly dependsOn: ITerraformDependable[];
}

/** A Helm release of the chart that runs a routed service in one cluster. */
export class ServiceChart extends Construct {
  readonly release: Release;

  constructor(scope: Construct, id: string, props: ServiceChartProps) {
    super(scope, id);
    this.release = new Release(this, "release", {
      name: props.name,
      namespace: props.namespace,
      repository: props.chart.repository,
      chart: props.chart.name,
      version: props.chart.version,
      values: props.values === undefined ? undefined : [terraformLiteral(props.values)],
      set: props.replicas === undefined ? undefined : [{ name: props.chart.replicasValue, value: String(props.replicas), type: "auto" }],
      wait: true,
      atomic: true,
      dependsOn: props.dependsOn,
    });
  }
}
