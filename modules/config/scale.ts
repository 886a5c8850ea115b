import type { ClusterConfig } from "./schema";
import type { WorkloadConfig } from "./workload-schema";

/** Pods of one service in one cluster, and the autoscaler's bounds when it autoscales. */
export interface WorkloadScale {
  readonly replicas: number;
  readonly autoscaling?: { readonly minReplicas: number; readonly maxReplicas: number };
}

/** Pods a standby cluster keeps of each workload: one to validate it with (standby keeps at least one node). */
const STANDBY_REPLICAS = 1;

/**
 * A workload's scale in one cluster: the cluster file's overrides over the
 * service's settings; on standby at most {@link STANDBY_REPLICAS}, without autoscaling.
 */
export function effectiveWorkloadScale(cluster: ClusterConfig, service: string, workload: WorkloadConfig): WorkloadScale {
  const override = cluster.workloads[service] ?? {};
  const minReplicas = override.minReplicas ?? workload.minReplicas;
  const maxReplicas = override.maxReplicas ?? workload.maxReplicas;
  const replicas = override.replicas ?? minReplicas ?? workload.replicas;
  if (cluster.state === "standby") return { replicas: Math.min(replicas, STANDBY_REPLICAS) };
  if (minReplicas === undefined || maxReplicas === undefined) return { replicas };
  return { replicas, autoscaling: { minReplicas, maxReplicas } };
}

/** Replicas a chart is told to run in one cluster: the cluster file's override, or the standby count; undefined leaves the chart's values. */
export function effectiveChartReplicas(cluster: ClusterConfig, service: string): number | undefined {
  const replicas = cluster.workloads[service]?.replicas;
  if (cluster.state === "standby") return Math.min(replicas ?? Infinity, STANDBY_REPLICAS);
  return replicas;
}
