import { clustersRouting, ConfigError, ConfigProblem, FleetConfig, LoadedCluster, PLATFORM_FILE } from "./load";
import { albField, albKeysByService, servicesOnAlb } from "./albs";
import { checkTargetGroupsDuringChange } from "./quotas";
import { formatShare, sharePercent } from "./weights";
import { CLUSTER_STATES, ClusterConfig, NodeGroupConfig } from "./schema";

type ClusterState = (typeof CLUSTER_STATES)[number];

/** The states each state may become in one change (docs/runbooks.md); a retiring cluster is only removed. */
const STATE_CHANGES: Readonly<Record<ClusterState, readonly ClusterState[]>> = {
  active: ["draining", "standby", "retiring"],
  draining: ["active", "standby", "retiring"],
  standby: ["active"],
  retiring: [],
};

/** True when the cluster has a weight above 0 for some service. */
export function carriesTraffic(cluster: ClusterConfig): boolean {
  return Object.values(cluster.weights).some((weight) => weight > 0);
}

/** Node groups as deployed: scaled down to `standbyNodes` while the cluster is on standby. */
export function effectiveNodeGroups(cluster: ClusterConfig): NodeGroupConfig[] {
  if (cluster.state !== "standby") return cluster.nodeGroups;
  return cluster.nodeGroups.map((group) => ({
    ...group,
    minSize: cluster.standbyNodes,
    desiredSize: cluster.standbyNodes,
    maxSize: Math.max(group.maxSize, cluster.standbyNodes, 1),
  }));
}

function minorOf(version: string): number {
  return Number(version.split(".")[1]);
}

/**
 * Checks the change from `base` (the configuration now deployed, e.g. the main
 * branch) to `next`: the rules that keep an upgrade safe.
 */
export function checkTransition(base: FleetConfig, next: FleetConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const baseByName = new Map(base.clusters.map((c) => [c.config.name, c]));
  const nextNames = new Set(next.clusters.map((c) => c.config.name));

  const baseServices = new Set(base.platform.services.map((s) => s.name));
  for (const cluster of next.clusters) {
    const before = baseByName.get(cluster.config.name);
    if (before) problems.push(...checkClusterChange(before, cluster), ...checkNewRoutes(before, cluster, baseServices), ...checkDrainingShare(base, next, cluster));
    else problems.push(...checkNewCluster(cluster));
  }
  problems.push(...checkTargetGroupsDuringChange(PLATFORM_FILE, base, next), ...checkAlbMoves(base, next), ...checkAlbRemovals(base, next));
  for (const removed of base.clusters.filter((c) => !nextNames.has(c.config.name))) {
    const { config } = removed;
    if (config.state !== "retiring" || carriesTraffic(config)) {
      problems.push({
        file: removed.file,
        field: "",
        message: `cluster ${config.name} was removed, but it was ${config.state}${carriesTraffic(config) ? " and carried traffic" : ""}: first merge a change that sets state: retiring and every weight to 0, then run npm run retire -- ${config.name}`,
      });
    }
  }
  return problems;
}

/**
 * A service moved to another ALB: its target groups and listener rule are
 * replaced on an ALB with another address, so its clients lose it until DNS
 * follows. Refused, with the safe path.
 */
function checkAlbMoves(base: FleetConfig, next: FleetConfig): ConfigProblem[] {
  const baseAlbs = albKeysByService(base.platform.services);
  return next.platform.services.flatMap((service, i) => {
    if (!baseAlbs.has(service.name) || baseAlbs.get(service.name) === service.alb) return [];
    const from = albField(baseAlbs.get(service.name));
    return [
      {
        file: PLATFORM_FILE,
        field: `services[${i}].alb`,
        message:
          `moves ${service.name} from ${from} to ${albField(service.alb)}: that replaces its target groups and its listener rule on an ALB with another address; ` +
          `instead add the service on ${albField(service.alb)} under a new name, move DNS to it, then remove it from ${from} (docs/runbooks.md, "Move a service to another ALB")`,
      },
    ];
  });
}

/**
 * An ALB removed from `albs` while it still routes services: its stack is no
 * longer synthesized, so nothing would ever destroy it, and its clients lose
 * their services. Refused, with the order that works.
 */
function checkAlbRemovals(base: FleetConfig, next: FleetConfig): ConfigProblem[] {
  return Object.keys(base.platform.albs)
    .filter((key) => !(key in next.platform.albs))
    .flatMap((key) => {
      const routed = servicesOnAlb(base.platform.services, key).map((s) => s.name);
      if (routed.length === 0) return [];
      return [
        {
          file: PLATFORM_FILE,
          field: "albs",
          message:
            `removes ${albField(key)}, which routes ${routed.join(", ")} as deployed: its stack would be left running with nothing to destroy it; ` +
            `first remove its services and deploy, then destroy its stack, then remove it (docs/runbooks.md, "Move a service to another ALB")`,
        },
      ];
    });
}

/**
 * Weights above 0 on routes the fleet does not have yet: the edge stack applies
 * before the cluster's TargetGroupBinding fills the new target group, so its
 * share would answer 503 for the whole deploy.
 */
function newRouteWeights({ file, config }: LoadedCluster, isNew: (service: string) => boolean, why: (service: string) => string): ConfigProblem[] {
  return Object.entries(config.weights)
    .filter(([service, weight]) => weight > 0 && isNew(service))
    .map(([service, weight]) => ({ file, field: `weights.${service}`, message: `is ${weight}, but ${why(service)}` }));
}

function checkNewCluster(cluster: LoadedCluster): ConfigProblem[] {
  const { name } = cluster.config;
  return newRouteWeights(cluster, () => true, () => `${name} is a new cluster: it starts at weight 0 and gets traffic in a later change, once it is deployed and healthy`);
}

/** A service the fleet already routes, newly routed to an existing cluster. (A service new to the fleet has no traffic to lose.) */
function checkNewRoutes(before: LoadedCluster, after: LoadedCluster, baseServices: ReadonlySet<string>): ConfigProblem[] {
  const { name } = after.config;
  return newRouteWeights(
    after,
    (service) => baseServices.has(service) && before.config.weights[service] === undefined,
    (service) => `${service} is newly routed to ${name}: a new route starts at weight 0; deploy it, then shift traffic to it in a later change (npm run shift, health-gated)`,
  );
}

function checkClusterChange(before: LoadedCluster, after: LoadedCluster): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { file, config } = after;
  const carrying = carriesTraffic(before.config) || carriesTraffic(config);
  const shiftFirst = `${config.name} carries traffic: shift its weights to 0 and merge that first`;

  const [fromState, toState] = [before.config.state, config.state];
  if (fromState !== toState && !STATE_CHANGES[fromState].includes(toState)) {
    const allowed = STATE_CHANGES[fromState];
    problems.push({
      file,
      field: "state",
      message: `${fromState} → ${toState} is not a lifecycle step: a ${fromState} cluster ` +
        (allowed.length > 0 ? `may become ${allowed.join(", ")}` : `is only removed, with npm run retire -- ${config.name}`),
    });
  }
  if (fromState === "standby" && toState === "active") {
    for (const [service, weight] of Object.entries(config.weights).filter(([, w]) => w > 0)) {
      problems.push({
        file,
        field: `weights.${service}`,
        message: `is ${weight} in the change that brings ${config.name} back from standby: edge deploys before its nodes scale up; set state: active alone, deploy, check health, then give it traffic in a later change`,
      });
    }
  }

  const from = before.config.kubernetesVersion;
  const to = config.kubernetesVersion;
  if (from !== to) {
    if (minorOf(to) < minorOf(from)) {
      problems.push({ file, field: "kubernetesVersion", message: `${from} → ${to} is a downgrade, which EKS cannot do` });
    } else if (minorOf(to) - minorOf(from) > 1) {
      problems.push({ file, field: "kubernetesVersion", message: `${from} → ${to} skips a version: EKS upgrades one minor version at a time (${from} → 1.${minorOf(from) + 1} first)` });
    }
    if (carrying) {
      problems.push({ file, field: "kubernetesVersion", message: `changes ${from} → ${to} while ${shiftFirst}` });
    }
  }

  if (before.config.bootstrapCreatorAdmin !== config.bootstrapCreatorAdmin) {
    problems.push({
      file,
      field: "bootstrapCreatorAdmin",
      message: `changes ${before.config.bootstrapCreatorAdmin} → ${config.bootstrapCreatorAdmin}, which replaces the EKS cluster ${config.name}: keep it as the cluster was created, or build a new cluster and retire this one`,
    });
  }

  config.nodeGroups.forEach((group, i) => {
    const old = before.config.nodeGroups.find((g) => g.name === group.name);
    if (!old || !carrying) return;
    for (const key of ["amiType", "releaseVersion"] as const) {
      if (old[key] !== group[key]) {
        problems.push({ file, field: `nodeGroups[${i}].${key}`, message: `changes ${old[key] ?? "(latest)"} → ${group[key] ?? "(latest)"} while ${shiftFirst}` });
      }
    }
  });

  return problems;
}

/** The weights of a service's clusters in a fleet, by cluster name. */
function serviceWeights(fleet: FleetConfig, service: string): Record<string, number> {
  return Object.fromEntries(clustersRouting(fleet.clusters, service).map((c) => [c.config.name, c.config.weights[service]]));
}

/**
 * A draining cluster's traffic only goes down: neither its weight nor its
 * share of a service (which rises when its peers' weights fall) may rise.
 */
function checkDrainingShare(base: FleetConfig, next: FleetConfig, { file, config }: LoadedCluster): ConfigProblem[] {
  if (config.state !== "draining") return [];
  return Object.entries(config.weights).flatMap(([service, weight]): ConfigProblem[] => {
    const before = serviceWeights(base, service);
    const previous = before[config.name] ?? 0;
    if (weight > previous) return [{ file, field: `weights.${service}`, message: `rises ${previous} → ${weight} on a draining cluster: set state: active to give it traffic again` }];
    const [from, to] = [sharePercent(before, config.name), sharePercent(serviceWeights(next, service), config.name)];
    if (to <= from) return [];
    return [
      {
        file,
        field: `weights.${service}`,
        message: `stays ${weight} but its share of ${service} rises ${formatShare(from)} → ${formatShare(to)} as the other clusters' weights fall, on a draining cluster: lower its weight too`,
      },
    ];
  });
}

/** Throws a {@link ConfigError} when the change from `base` to `next` is unsafe. */
export function assertSafeTransition(base: FleetConfig, next: FleetConfig): void {
  const problems = checkTransition(base, next);
  if (problems.length > 0) throw new ConfigError(problems);
}
