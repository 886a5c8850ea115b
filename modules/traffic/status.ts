import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ClusterConfig } from "../config/schema";
import { clustersRouting, FleetConfig } from "../config/load";
import { fleetAlbs, servicesOnAlb } from "../config/albs";
import { albName, edgeStackName } from "../constructs/naming";
import { HEALTH_STATES, HealthCounts, LiveRoute, metricTargetsOf, readLiveFleetIfDeployed, readRouteHealth } from "./live-fleet";
import { errorPercent, readTargetGroupMetrics, TargetGroupMetrics } from "./metrics";
import { mermaidAlbsPicture } from "./mermaid";
import { textTable } from "./text-table";
import { failureText } from "./aws-clients";
import { lastFailoverOf } from "./failover";
import { describeHolder, isExpired, LockHolder, LockStore, readTrafficLock } from "./traffic-lock";
import { formatShare, formatWeights, sameWeights, sharePercent } from "../config/weights";

/** One cluster's part in one service. */
export interface ClusterRouteStatus {
  readonly cluster: string;
  /** Weight in the cluster file; undefined when the files do not route the service there. */
  readonly fileWeight?: number;
  /** Weight on the live listener rule; undefined when the rule has no target group of this cluster. */
  readonly liveWeight?: number;
  readonly health?: HealthCounts;
  /** Requests its target group served over the window; undefined when metrics were not read. */
  readonly requests?: number;
  /** Its share of the service's requests over the window, in percent. */
  readonly servedPercent?: number;
  /** Target 5xx as a percentage of its requests over the window; undefined without requests or metrics. */
  readonly errorPercent?: number;
  /** Average target response time over the window, milliseconds; undefined without requests or metrics. */
  readonly responseTimeMs?: number;
}

export interface ServiceStatus {
  readonly service: string;
  /** The AWS name of the ALB that routes it (one of {@link FleetStatus.loadBalancers}). */
  readonly loadBalancer: string;
  readonly minHealthyTargets: number;
  /** Live weights differ from the files'. */
  readonly drift: boolean;
  /** Live weights differ from those Terraform last deployed: a `shift --now` not deployed from the files yet. */
  readonly liveFailover: boolean;
  readonly fileWeights: Readonly<Record<string, number>>;
  readonly liveWeights: Readonly<Record<string, number>>;
  /** Weights Terraform last deployed (the rule's tag); undefined when the rule has no such tag. */
  readonly deployedWeights?: Readonly<Record<string, number>>;
  /** The last automatic failover recorded on the rule (`<time> from=<clusters> by=<who>`), until a deploy of edge clears it. */
  readonly lastFailover?: string;
  /** Some cluster with live weight has at least minHealthyTargets healthy targets. */
  readonly healthyCapacity: boolean;
  readonly clusters: readonly ClusterRouteStatus[];
}

export interface ClusterStatus {
  readonly cluster: string;
  readonly state: ClusterConfig["state"];
  /** Requests over all its target groups in the window; undefined when metrics were not read. */
  readonly requests?: number;
}

/** One ALB of the fleet. */
export interface LoadBalancerStatus {
  /** Its AWS name (`<fleet>-alb`, `<fleet>-<name>-alb`). */
  readonly name: string;
  /** Its stack (`edge`, `edge-<name>`). */
  readonly stack: string;
  /** The services it routes, in the order of platform.yaml. */
  readonly services: readonly string[];
}

export interface FleetStatus {
  readonly fleet: string;
  /** The AWS name of the ALB of `alb:`, as before there were several (the first of {@link loadBalancers}). */
  readonly loadBalancer: string;
  /** Every ALB of the fleet: that of `alb:` first, then those of `albs:` by name. */
  readonly loadBalancers: readonly LoadBalancerStatus[];
  /** The window of the request counts, in minutes. */
  readonly minutes: number;
  /** Why request counts are missing, when they are. */
  readonly metricsError?: string;
  readonly services: readonly ServiceStatus[];
  readonly clusters: readonly ClusterStatus[];
  /** The traffic lock, when it was read. */
  readonly lock?: TrafficLockStatus;
  /** One line per drift, service without healthy capacity, or cluster with traffic and too few healthy targets; the command exits non-zero when any. */
  readonly problems: readonly string[];
}

/** Who holds the traffic lock: no holder when it is free; `error` when it could not be read. */
export interface TrafficLockStatus {
  readonly location: string;
  readonly holder?: LockHolder;
  /** The holder's lease has ended: the next writer takes the lock over. */
  readonly expired?: boolean;
  readonly error?: string;
}

export interface StatusOptions {
  /** Minutes of CloudWatch request counts. @default 15 */
  readonly minutes?: number;
  /** CloudWatch client; without it no request counts are read. */
  readonly cloudWatch?: CloudWatchClient;
  /** End of the window. @default the current time */
  readonly now?: Date;
  /** Where the traffic lock lives; without it the lock is not read. */
  readonly lock?: LockStore;
}

async function readLockStatus(store: LockStore, now: Date): Promise<TrafficLockStatus> {
  try {
    const holder = await readTrafficLock(store);
    return { location: store.location, holder, expired: holder && isExpired(holder, now) };
  } catch (error) {
    return { location: store.location, error: failureText(error) };
  }
}

/** Reads the live rules, target health and request counts, and compares them with the files. */
export async function readFleetStatus(elb: ElasticLoadBalancingV2Client, fleet: FleetConfig, options: StatusOptions = {}): Promise<FleetStatus> {
  const minutes = options.minutes ?? 15;
  const services = fleet.platform.services.map((s) => s.name);
  // An ALB or a service merged but not deployed yet leaves the others to be shown.
  const live = (await readLiveFleetIfDeployed(elb, fleet, services)) ?? { routes: new Map<string, LiveRoute>() };
  const health = await readRouteHealth(elb, live);
  let metrics: Map<string, TargetGroupMetrics> | undefined;
  let metricsError: string | undefined;
  if (options.cloudWatch && minutes > 0) {
    const end = options.now ?? new Date();
    try {
      metrics = await readTargetGroupMetrics(options.cloudWatch, metricTargetsOf(live.routes.values()), end, minutes);
    } catch (error) {
      metricsError = `CloudWatch: ${failureText(error)}`;
    }
  }

  const serviceStatuses = fleet.platform.services.filter((service) => live.routes.has(service.name)).map((service): ServiceStatus => {
    const route = live.routes.get(service.name)!;
    const fileWeights = Object.fromEntries(clustersRouting(fleet.clusters, service.name).map((c) => [c.config.name, c.config.weights[service.name]]));
    const metricsOf = (cluster: string) => {
      const arn = route.targetGroups.get(cluster);
      return metrics && arn ? metrics.get(arn) : undefined;
    };
    const requestsOf = (cluster: string) => (metrics && route.targetGroups.has(cluster) ? (metricsOf(cluster)?.requests ?? 0) : undefined);
    const names = [...new Set([...Object.keys(fileWeights), ...route.targetGroups.keys()])].sort();
    const total = names.reduce((sum, c) => sum + (requestsOf(c) ?? 0), 0);
    const clusters = names.map((cluster) => ({
      cluster,
      fileWeight: fileWeights[cluster],
      liveWeight: route.weights[cluster],
      health: health.get(service.name)?.get(cluster),
      requests: requestsOf(cluster),
      servedPercent: metrics ? (total === 0 ? 0 : Math.round(((requestsOf(cluster) ?? 0) / total) * 1000) / 10) : undefined,
      errorPercent: (requestsOf(cluster) ?? 0) > 0 ? Math.round(errorPercent(metricsOf(cluster)) * 10) / 10 : undefined,
      responseTimeMs: metricsOf(cluster)?.responseTimeSeconds === undefined ? undefined : Math.round(metricsOf(cluster)!.responseTimeSeconds! * 1000),
    }));
    return {
      service: service.name,
      loadBalancer: route.loadBalancer.name,
      minHealthyTargets: service.minHealthyTargets,
      drift: !sameWeights(fileWeights, route.weights),
      liveFailover: route.deployedWeights !== undefined && !sameWeights(route.deployedWeights, route.weights),
      fileWeights,
      liveWeights: route.weights,
      deployedWeights: route.deployedWeights,
      lastFailover: lastFailoverOf(route)?.text,
      healthyCapacity: clusters.some((c) => (c.liveWeight ?? 0) > 0 && (c.health?.healthy ?? 0) >= service.minHealthyTargets),
      clusters,
    };
  });

  const loadBalancers = fleetAlbs(fleet.platform).map(({ key }) => ({
    name: albName(fleet.platform.name, key),
    stack: edgeStackName(key),
    services: servicesOnAlb(fleet.platform.services, key).map((s) => s.name),
  }));
  const problems: string[] = fleet.platform.services
    .filter((service) => !live.routes.has(service.name))
    .map((service) => `${service.name}: NOT DEPLOYED: no listener rule on ${albName(fleet.platform.name, service.alb)} yet: deploy ${edgeStackName(service.alb)}`);
  for (const s of serviceStatuses) {
    if (s.drift) {
      const madeBy = s.lastFailover ? `the automatic failover (${s.lastFailover})` : "a change made live (shift --now)";
      const cause = s.liveFailover
        ? `${madeBy} that is not deployed from the files; last deployed ${formatWeights(s.deployedWeights!)}`
        : `the files differ from what is deployed: deploy ${stackOf(loadBalancers, s)}, or bring the files in line`;
      problems.push(`${s.service}: DRIFT live ${formatWeights(s.liveWeights)}, files ${formatWeights(s.fileWeights)} (${cause})`);
    }
    if (!s.healthyCapacity) {
      problems.push(`${s.service}: NO HEALTHY CAPACITY: no cluster with weight has ${s.minHealthyTargets} healthy target${s.minHealthyTargets === 1 ? "" : "s"}`);
    }
    for (const c of s.clusters) {
      const share = sharePercent(s.liveWeights, c.cluster);
      const healthy = c.health?.healthy ?? 0;
      if (share > 0 && healthy < s.minHealthyTargets) {
        problems.push(
          `${s.service}: UNHEALTHY WITH TRAFFIC: ${c.cluster} gets ${formatShare(share)} of the traffic (live weight ${c.liveWeight}) with ${healthy} healthy target${healthy === 1 ? "" : "s"}, ` +
            `fewer than minHealthyTargets ${s.minHealthyTargets}: the ALB still sends it its share; shift it away (npm run shift -- ${c.cluster}=0 --now)`,
        );
      }
    }
  }
  const clusters = fleet.clusters.map((c) => ({
    cluster: c.config.name,
    state: c.config.state,
    requests: metrics ? serviceStatuses.reduce((sum, s) => sum + (s.clusters.find((r) => r.cluster === c.config.name)?.requests ?? 0), 0) : undefined,
  }));
  const lock = options.lock && (await readLockStatus(options.lock, options.now ?? new Date()));
  return { fleet: fleet.platform.name, loadBalancer: loadBalancers[0].name, loadBalancers, minutes, metricsError, services: serviceStatuses, clusters, lock, problems };
}

/** The stack of the ALB that routes a service. */
function stackOf(loadBalancers: readonly LoadBalancerStatus[], service: ServiceStatus): string {
  return loadBalancers.find((lb) => lb.name === service.loadBalancer)!.stack;
}

/** The status for people: a table per ALB, then the clusters, then the problems. */
export function formatFleetStatus(status: FleetStatus): string {
  const sections = status.loadBalancers.flatMap((lb) => {
    const services = status.services.filter((s) => s.loadBalancer === lb.name);
    const heading = `load balancer ${lb.name} (stack ${lb.stack})`;
    if (services.length > 0) return ["", heading, serviceTable(services)];
    return ["", `${heading}: ${lb.services.length > 0 ? `not deployed yet (${lb.services.join(", ")})` : "routes no service"}`];
  });
  const lines = [
    `fleet ${status.fleet}; requests over the last ${status.minutes} min`,
    ...sections,
    "",
    textTable(
      ["cluster", "state", "requests"],
      status.clusters.map((c) => [c.cluster, c.state, c.requests === undefined ? "–" : `${c.requests}${c.requests === 0 ? ` (idle ${status.minutes} min)` : ""}`]),
    ),
  ];
  if (status.metricsError) lines.push("", `request counts unavailable: ${status.metricsError}`);
  if (status.lock) lines.push("", describeLockStatus(status.lock));
  const unavailable = status.services.flatMap((s) => s.clusters.filter((c) => (c.health?.unavailable ?? 0) > 0).map((c) => `${s.service}/${c.cluster}`));
  if (unavailable.length > 0) lines.push("", `health unavailable (health checks off?) for ${unavailable.join(", ")}`);
  for (const s of status.services.filter((s) => s.lastFailover)) lines.push("", `${s.service}: last automatic failover ${s.lastFailover}`);
  const undeployed = status.services.filter((s) => s.liveFailover && !s.drift);
  for (const s of undeployed) {
    lines.push("", `${s.service}: files and live agree; Terraform last deployed ${formatWeights(s.deployedWeights!)}: merge the files and deploy ${stackOf(status.loadBalancers, s)}`);
  }
  lines.push("", ...(status.problems.length > 0 ? status.problems : ["no drift; every service has healthy capacity"]));
  return lines.join("\n");
}

/** The status as a Mermaid picture: each ALB with its services' live weights and target health, leading to the clusters with their states. */
export function fleetStatusPicture(status: FleetStatus): string {
  const albs = status.loadBalancers.map((lb) => ({
    name: lb.name,
    stack: lb.stack,
    routes: status.services
      .filter((s) => s.loadBalancer === lb.name)
      .map((s) => ({ service: s.service, clusters: s.clusters.map((c) => ({ cluster: c.cluster, weight: c.liveWeight ?? 0, health: c.health })) })),
  }));
  return mermaidAlbsPicture(albs, Object.fromEntries(status.clusters.map((c) => [c.cluster, c.state])));
}

/** One row per (service, cluster): weights in the files and live, target health, requests. */
function serviceTable(services: readonly ServiceStatus[]): string {
  const rows = services.flatMap((s) =>
    s.clusters.map((c) => {
      const differs = c.fileWeight !== c.liveWeight;
      return [
        s.service,
        c.cluster,
        c.fileWeight === undefined ? "–" : String(c.fileWeight),
        `${c.liveWeight === undefined ? "–" : c.liveWeight}${differs ? " ≠" : ""}`,
        ...HEALTH_STATES.filter((state) => state !== "unavailable").map((state) => (c.health ? String(c.health[state]) : "–")),
        c.requests === undefined ? "–" : String(c.requests),
        c.servedPercent === undefined ? "–" : `${c.servedPercent}%`,
        c.errorPercent === undefined ? "–" : `${c.errorPercent}%`,
        c.responseTimeMs === undefined ? "–" : `${c.responseTimeMs} ms`,
      ];
    }),
  );
  return textTable(["service", "cluster", "files", "live", "healthy", "unhealthy", "initial", "draining", "unused", "requests", "served", "5xx", "latency"], rows);
}

/** "traffic lock: free", "traffic lock: held by ...", and what an expired or unreadable lock means. */
function describeLockStatus(lock: TrafficLockStatus): string {
  if (lock.error) return `traffic lock (${lock.location}) could not be read: ${lock.error}`;
  if (!lock.holder) return "traffic lock: free";
  const expired = lock.expired ? " (EXPIRED: its holder stopped renewing it; the next writer takes it over)" : "";
  return `traffic lock: held by ${describeHolder(lock.holder)}${expired}`;
}
