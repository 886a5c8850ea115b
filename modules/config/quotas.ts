import { counted } from "../support/wording";
import { albField, FleetAlb, fleetAlbs, servicesOnAlb } from "./albs";
import type { ConfigProblem, FleetConfig, LoadedCluster } from "./fleet-config";
import { effectiveChartReplicas, effectiveWorkloadScale } from "./scale";
import type { ClusterConfig, PlatformConfig, RoutedService } from "./schema";
import { clusterOwnTagKeys, fleetWideOwnTagKeys, MAX_TAGS_PER_RESOURCE } from "./tags";
import { parseYamlDocument } from "./yaml-document";

/**
 * The quotas of each ALB that a configuration can break, checked before anything is
 * synthesized: past them, Terraform plans fine and the apply fails half-way.
 */

/** Listener rules an ALB takes, default rules not counted: one per service. */
export const MAX_RULES_PER_ALB = 100;
/** Target groups an ALB takes: one per service and cluster routing it. */
export const MAX_TARGET_GROUPS_PER_ALB = 100;
/** Condition values a listener rule takes, its hosts and paths together. */
export const MAX_CONDITION_VALUES_PER_RULE = 5;
/** Match evaluations a listener rule takes: each host with each path. */
export const MAX_MATCH_EVALUATIONS_PER_RULE = 5;
/** Targets registered in an ALB's target groups, together. */
export const MAX_TARGETS_PER_ALB = 1000;
/** Inbound rules a security group takes (the default quota; rules with IPv4 and IPv6 sources count apart). */
export const MAX_INBOUND_RULES_PER_SECURITY_GROUP = 60;
/** Inbound rules EKS puts in a cluster security group itself: its members reach each other. */
const EKS_OWN_INBOUND_RULES = 1;
/** Pods a rollout adds before it takes old ones away, in percent of the replicas (the Deployment's maxSurge, Kubernetes' default too). */
export const ROLLOUT_MAX_SURGE_PERCENT = 25;

/** Checks the ALB's quotas and the tags per resource; returns the problems, each naming the file and field to change. */
export function checkQuotas(
  platformFile: string,
  platform: PlatformConfig,
  clusters: readonly LoadedCluster[],
  chartValues: Readonly<Record<string, string>>,
): ConfigProblem[] {
  return [
    ...checkRules(platformFile, platform),
    ...fleetAlbs(platform).flatMap((alb) => [
      ...checkTargetGroups(platformFile, alb, targetGroupsOf(platform, clusters, alb)),
      ...checkTargets(platformFile, alb, platform, clusters, chartValues),
    ]),
    ...checkTags(platformFile, platform, clusters),
    ...checkClusterSecurityGroups(platform, clusters),
  ];
}

/**
 * Each cluster's security group lets in each ALB of its services on each of
 * their container ports, and the networks of `endpoint.privateAccessCidrs`:
 * past the security group's quota, the cluster stack's apply fails half-way.
 */
function checkClusterSecurityGroups(platform: PlatformConfig, clusters: readonly LoadedCluster[]): ConfigProblem[] {
  return clusters.flatMap(({ file, config }) => {
    const albPorts = new Set(platform.services.filter((s) => config.weights[s.name] !== undefined).map((s) => `${albField(s.alb)} ${s.containerPort}`));
    const rules = albPorts.size + config.endpoint.privateAccessCidrs.length + EKS_OWN_INBOUND_RULES;
    if (rules <= MAX_INBOUND_RULES_PER_SECURITY_GROUP) return [];
    return [
      {
        file,
        field: "weights",
        message:
          `the cluster's security group needs ${rules} inbound rules (${albPorts.size} for the ALBs and container ports of the services it routes, ` +
          `${config.endpoint.privateAccessCidrs.length} for endpoint.privateAccessCidrs, ${EKS_OWN_INBOUND_RULES} of EKS's own); a security group takes at most ` +
          `${MAX_INBOUND_RULES_PER_SECURITY_GROUP}: give services one container port, or route fewer services to ${config.name}`,
      },
    ];
  });
}

/** What a message for a full ALB suggests. */
const MORE_ALBS = "declare another ALB under albs and put services on it (services[].alb)";

/**
 * The target groups the change from `base` to `next` needs at once while it
 * applies: a replacement (a new container port) is created before the group it
 * replaces is destroyed, and removed groups go only once the rule has moved off them.
 */
export function checkTargetGroupsDuringChange(platformFile: string, base: FleetConfig, next: FleetConfig): ConfigProblem[] {
  return fleetAlbs(next.platform).flatMap((alb) => {
    const after = targetGroupsOf(next.platform, next.clusters, alb);
    const during = new Set([...targetGroupsOf(base.platform, base.clusters, alb), ...after]);
    if (during.size <= MAX_TARGET_GROUPS_PER_ALB || after.size > MAX_TARGET_GROUPS_PER_ALB) return [];
    return [
      {
        file: platformFile,
        field: "services",
        message:
          `the change needs ${during.size} target groups on ${alb.field} at once while it applies (${after.size} after it, and ${during.size - after.size} of the deployed ones ` +
          `replaced by a new container port or removed, which go only once the new ones exist); an ALB takes at most ${MAX_TARGET_GROUPS_PER_ALB}: make the change in smaller steps`,
      },
    ];
  });
}

function checkRules(file: string, platform: PlatformConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const alb of fleetAlbs(platform)) {
    const services = servicesOnAlb(platform.services, alb.key).length;
    if (services > MAX_RULES_PER_ALB) {
      problems.push({
        file,
        field: "services",
        message: `${services} services on ${alb.field} need ${services} listener rules; an ALB takes at most ${MAX_RULES_PER_ALB}: ${MORE_ALBS}`,
      });
    }
  }
  platform.services.forEach((service, i) => {
    const hosts = service.hosts?.length ?? 0;
    const paths = service.paths?.length ?? 0;
    const evaluations = Math.max(hosts, 1) * Math.max(paths, 1);
    if (hosts + paths > MAX_CONDITION_VALUES_PER_RULE || evaluations > MAX_MATCH_EVALUATIONS_PER_RULE) {
      problems.push({
        file,
        field: `services[${i}].${paths > 0 ? "paths" : "hosts"}`,
        message:
          `${counted(hosts, "host")} and ${counted(paths, "path")} make ${hosts + paths} condition values and ${evaluations} match evaluations (each host with each path) of one listener rule; ` +
          `an ALB rule takes at most ${MAX_CONDITION_VALUES_PER_RULE} of each: use wildcards (*.example.com, /api/*) or split the service`,
      });
    }
  });
  return problems;
}

/** One key per target group of the ALB: a service, a cluster routing it, and its container port (a new port is a new target group, modules/constructs/naming.ts). */
function targetGroupsOf(platform: PlatformConfig, clusters: readonly LoadedCluster[], alb: FleetAlb): Set<string> {
  const groups = new Set<string>();
  for (const service of servicesOnAlb(platform.services, alb.key)) {
    for (const { config } of clusters) {
      if (config.weights[service.name] !== undefined) groups.add(`${service.name}/${config.name}/${service.containerPort}`);
    }
  }
  return groups;
}

function checkTargetGroups(file: string, alb: FleetAlb, groups: ReadonlySet<string>): ConfigProblem[] {
  if (groups.size <= MAX_TARGET_GROUPS_PER_ALB) return [];
  return [
    {
      file,
      field: "services",
      message:
        `the routes of the services on ${alb.field} need ${groups.size} target groups (one per service and cluster giving it a weight); ` +
        `an ALB takes at most ${MAX_TARGET_GROUPS_PER_ALB}: ${MORE_ALBS}, or route services to fewer clusters`,
    },
  ];
}

/** Pods of a service in a cluster at most, before a rollout's surge; undefined when the fleet does not run it or its chart does not say. */
function mostPods(cluster: ClusterConfig, service: RoutedService, chartValues: Readonly<Record<string, string>>): number | undefined {
  if (service.workload) {
    const scale = effectiveWorkloadScale(cluster, service.name, service.workload);
    return scale.autoscaling?.maxReplicas ?? scale.replicas;
  }
  if (service.chart) {
    const values = chartValues[service.name];
    return effectiveChartReplicas(cluster, service.name) ?? (values === undefined ? undefined : integerAt(values, service.chart.replicasValue));
  }
  return undefined;
}

/** The integer at a dotted path of a YAML mapping, or undefined. */
function integerAt(yamlText: string, dottedPath: string): number | undefined {
  let value: unknown = parseYamlDocument(yamlText).toJS();
  for (const key of dottedPath.split(".")) value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return Number.isInteger(value) ? (value as number) : undefined;
}

function checkTargets(
  file: string,
  alb: FleetAlb,
  platform: PlatformConfig,
  clusters: readonly LoadedCluster[],
  chartValues: Readonly<Record<string, string>>,
): ConfigProblem[] {
  const counts: { what: string; targets: number }[] = [];
  for (const service of servicesOnAlb(platform.services, alb.key)) {
    for (const { config } of clusters) {
      if (config.weights[service.name] === undefined) continue;
      const pods = mostPods(config, service, chartValues);
      if (pods !== undefined && pods > 0) counts.push({ what: `${service.name} in ${config.name}`, targets: pods + Math.ceil((pods * ROLLOUT_MAX_SURGE_PERCENT) / 100) });
    }
  }
  const total = counts.reduce((sum, c) => sum + c.targets, 0);
  if (total <= MAX_TARGETS_PER_ALB) return [];
  const largest = [...counts].sort((a, b) => b.targets - a.targets || a.what.localeCompare(b.what)).slice(0, 5);
  return [
    {
      file,
      field: "services",
      message:
        `the services on ${alb.field} register up to ${total} targets in its target groups (pods per cluster, autoscaled ones at maxReplicas, ` +
        `with a rollout's ${ROLLOUT_MAX_SURGE_PERCENT}% surge; most: ${largest.map((c) => `${c.what} ${c.targets}`).join(", ")}); ` +
        `an ALB takes at most ${MAX_TARGETS_PER_ALB.toLocaleString("en")} targets: lower replicas or maxReplicas, ${MORE_ALBS}, or route services to fewer clusters`,
    },
  ];
}

function checkTags(platformFile: string, platform: PlatformConfig, clusters: readonly LoadedCluster[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const fleetKeys = Object.keys(platform.tags);
  const most = (own: readonly string[], ...maps: (readonly string[])[]) => new Set([...own, ...maps.flat()]).size;
  const [widest] = fleetWideOwnTagKeys()
    .map(({ resource, keys }) => ({ resource, keys, count: most(keys, fleetKeys) }))
    .sort((a, b) => b.count - a.count);
  const fleetWide = widest.count;
  const limit = `AWS takes at most ${MAX_TAGS_PER_RESOURCE} tags per resource`;
  if (fleetWide > MAX_TAGS_PER_RESOURCE) {
    problems.push({
      file: platformFile,
      field: "tags",
      message: `${counted(fleetKeys.length, "tag")} and the fleet's own put ${fleetWide} tags on a resource (such as ${widest.resource}: ${widest.keys.join(", ")}); ${limit}`,
    });
  }
  for (const { file, config } of clusters) {
    const clusterKeys = Object.keys(config.tags);
    const total = most(clusterOwnTagKeys(), fleetKeys, clusterKeys);
    if (clusterKeys.length > 0 && total > MAX_TAGS_PER_RESOURCE) {
      problems.push({
        file,
        field: "tags",
        message: `${counted(clusterKeys.length, "tag")}, with ${platformFile}'s ${fleetKeys.length} and the fleet's own (fleet, managed-by, cluster), put ${total} tags on each of this cluster's resources; ${limit}`,
      });
    }
  }
  return problems;
}
