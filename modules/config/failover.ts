import type { ConfigProblem, FleetConfig, LoadedCluster } from "./fleet-config";
import { servicesOnAlb } from "./albs";
import { lockLocationOf } from "./lock-location";
import { effectiveWorkloadScale } from "./scale";
import type { FAILOVER_MODES, PlatformConfig, RoutedService } from "./schema";

/** Environment variable the failover function reads its topic's ARN from. */
export const FAILOVER_TOPIC_VARIABLE = "FAILOVER_TOPIC_ARN";

/**
 * Tag on a listener rule recording the last failover of its service:
 * `<ISO time> from=<cluster>[+<cluster>] why=<unhealthy|5xx>[+...] by=<who>`.
 * Terraform owns the rule's tags, so the deploy that brings the files in line
 * with the failover clears it.
 */
export const LAST_FAILOVER_TAG = "last-failover";

/** What the automatic failover may do for a service. */
export type FailoverMode = (typeof FAILOVER_MODES)[number];

/** How one service's failover judges its clusters. */
export interface FailoverPolicy {
  readonly service: string;
  /** `auto` moves traffic, `alarm-only` only reports what it would move, `off` does not look. */
  readonly mode: FailoverMode;
  /** A weighted cluster with fewer healthy targets than this has failed. */
  readonly minHealthyTargets: number;
  /** A minute whose target 5xx share is above this percentage is a bad minute. */
  readonly max5xxPercent: number;
  /** Consecutive bad minutes (each with at least `minRequestsPerMinute` requests) that make a 5xx failure. */
  readonly breachMinutes: number;
  /** Minutes after a failover of the service during which it moves nothing more. */
  readonly cooldownMinutes: number;
  /** Requests a minute needs before its 5xx share counts: a handful of requests is noise. */
  readonly minRequestsPerMinute: number;
}

/** Everything the failover needs to know of the fleet, as the function in the edge stack receives it. */
export interface FailoverSettings {
  /** The fleet's name: its ALB and listener rules are found by it. */
  readonly fleet: string;
  readonly region: string;
  /** The ALB under `albs:` whose services the function watches. @default the ALB of `alb:` */
  readonly alb?: string;
  /** One per service on that ALB, sorted by service name. */
  readonly policies: readonly FailoverPolicy[];
  /**
   * The traffic lock every writer of the live weights takes, where the function can reach it: the
   * object beside S3 state. Undefined with local state, whose lock file the function cannot reach.
   */
  readonly lock?: { readonly bucket: string; readonly key: string; readonly region: string };
}

/** A service's failover mode: its own, or the fleet's. */
export function failoverModeOf(platform: PlatformConfig, service: RoutedService): FailoverMode {
  return service.failover.mode ?? platform.failover.mode;
}

/** The failover settings of one ALB of a fleet's configuration (undefined: the ALB of `alb:`). */
export function failoverSettingsOf(fleet: FleetConfig, albKey?: string): FailoverSettings {
  const { failover } = fleet.platform;
  const lock = lockLocationOf(fleet, ".");
  return {
    fleet: fleet.platform.name,
    region: fleet.platform.region,
    ...(albKey === undefined ? {} : { alb: albKey }),
    ...(lock.type === "s3" ? { lock: { bucket: lock.bucket, key: lock.key, region: lock.region } } : {}),
    policies: servicesOnAlb(fleet.platform.services, albKey)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((service) => ({
        service: service.name,
        mode: failoverModeOf(fleet.platform, service),
        minHealthyTargets: service.minHealthyTargets,
        max5xxPercent: service.shiftLimits.max5xxPercent,
        breachMinutes: failover.breachMinutes,
        cooldownMinutes: failover.cooldownMinutes,
        minRequestsPerMinute: failover.minRequestsPerMinute,
      })),
  };
}

/**
 * With the failover moving traffic, a cluster whose routine node drain may
 * leave a service fewer healthy pods than `minHealthyTargets` (its replicas,
 * or minReplicas when autoscaled, less the disruption budget's
 * maxUnavailable) would lose its traffic at every drain: refused, naming the
 * numbers and the ways out. Built-in workloads of active clusters with weight only.
 */
export function checkFailoverHeadroom(platformFile: string, platform: PlatformConfig, clusters: readonly LoadedCluster[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  platform.services.forEach((service, index) => {
    if (!service.workload || failoverModeOf(platform, service) !== "auto") return;
    for (const { file, config } of clusters) {
      if (config.state !== "active" || !((config.weights[service.name] ?? 0) > 0)) continue;
      const scale = effectiveWorkloadScale(config, service.name, service.workload);
      const fewest = scale.autoscaling?.minReplicas ?? scale.replicas;
      const leftByDrain = fewest - service.workload.podDisruptionBudget.maxUnavailable;
      if (leftByDrain >= service.minHealthyTargets) continue;
      const overridden = config.workloads[service.name] !== undefined;
      problems.push({
        file: overridden ? file : platformFile,
        field: overridden ? `workloads.${service.name}` : `services[${index}].minHealthyTargets`,
        message:
          `a node drain may leave ${service.name} ${Math.max(0, leftByDrain)} healthy pod${leftByDrain === 1 ? "" : "s"} in ${config.name} ` +
          `(${fewest} replicas, podDisruptionBudget.maxUnavailable ${service.workload.podDisruptionBudget.maxUnavailable}), fewer than minHealthyTargets ` +
          `${service.minHealthyTargets}: the automatic failover would move its traffic at every drain; raise the replicas, lower minHealthyTargets, ` +
          `or set the service's failover.mode to alarm-only`,
      });
    }
  });
  return problems;
}
