import {
  Action,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  Rule,
  TargetHealthStateEnum,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { albKeysByService } from "../config/albs";
import type { RoutedService } from "../config/schema";
import { albName, edgeStackName } from "../constructs/naming";
import { UserError } from "../support/user-error";
import { DEPLOYED_WEIGHTS_TAG, parseWeightsText } from "../config/weights";
import type { MetricTarget } from "./metrics";

/** DescribeTags takes at most this many ARNs per call. */
const TAGS_PER_CALL = 20;
/** DescribeTargetHealth calls made at once. */
const HEALTH_CALLS_AT_ONCE = 5;

/** The live fleet could not be read as the configuration describes it. */
class LiveFleetError extends UserError {}

/** What finds a fleet's live ALBs: its name, region, and the ALB of each service (a fleet's configuration is one). */
export interface FleetIdentity {
  readonly platform: {
    readonly name: string;
    readonly region: string;
    /** Each service's ALB (`alb`: its name under `albs:`; undefined: the ALB of `alb:`). A service not listed is looked for on the ALB of `alb:`. */
    readonly services: readonly Pick<RoutedService, "name" | "alb">[];
  };
}

/** One live ALB of the fleet. */
export interface LiveLoadBalancer {
  /** Its AWS name (`<fleet>-alb`, `<fleet>-<key>-alb`). */
  readonly name: string;
  /** Its stack (`edge`, `edge-<key>`). */
  readonly stack: string;
  readonly arn: string;
}

/** A live listener rule of a service and its weights by cluster. */
export interface LiveRoute {
  readonly service: string;
  /** The ALB whose listener holds the rule. */
  readonly loadBalancer: LiveLoadBalancer;
  readonly rule: Rule;
  readonly forward: Action;
  /** Target group ARN by cluster name. */
  readonly targetGroups: ReadonlyMap<string, string>;
  readonly weights: Readonly<Record<string, number>>;
  /** The weights Terraform last deployed (the rule's `deployed-weights` tag); undefined when the tag is missing. */
  readonly deployedWeights?: Readonly<Record<string, number>>;
  /** Every tag of the rule. */
  readonly ruleTags: Readonly<Record<string, string>>;
}

export interface LiveFleet {
  /** Routes by service name, each on its own ALB. */
  readonly routes: ReadonlyMap<string, LiveRoute>;
}

/** Each target group of the routes with the ALB it is under, as CloudWatch's `LoadBalancer` and `TargetGroup` dimensions need them. */
export function metricTargetsOf(routes: Iterable<LiveRoute>, cluster?: string): MetricTarget[] {
  return [...routes].flatMap((route) =>
    [...route.targetGroups]
      .filter(([name]) => cluster === undefined || name === cluster)
      .map(([, targetGroupArn]) => ({ loadBalancerArn: route.loadBalancer.arn, targetGroupArn })),
  );
}

/** The name in a target group's ARN (`...:targetgroup/<name>/<id>`). */
export function targetGroupNameOf(arn: string): string {
  return arn.split(":targetgroup/")[1]?.split("/")[0] ?? arn;
}

/** Target health states as `status` counts them. */
export const HEALTH_STATES = ["healthy", "unhealthy", "initial", "draining", "unused", "unavailable"] as const;
type HealthState = (typeof HEALTH_STATES)[number];

/** Targets of a target group by health state. */
export type HealthCounts = Readonly<Record<HealthState, number>>;

/** The state a target counts under; an unhealthy target being drained counts as draining. */
function countedState(state: TargetHealthStateEnum): HealthState {
  return state === "unhealthy.draining" ? "draining" : state;
}

/**
 * Finds the ALB of each of `services` by name (each ALB once) and each
 * service's listener rule on it by its `fleet` and `service` tags, with the
 * clusters of its target groups (by their `cluster` tag). Read-only:
 * DescribeLoadBalancers, DescribeListeners, DescribeRules, DescribeTags.
 */
export async function readLiveFleet(client: ElasticLoadBalancingV2Client, fleet: FleetIdentity, services: readonly string[]): Promise<LiveFleet> {
  return (await readDeployedRoutes(client, fleet, services, false))!;
}

/**
 * Like {@link readLiveFleet} for what a deploy is about to change: an ALB
 * that does not exist yet is left out with its services, services without a
 * rule yet are left out; undefined when none of their ALBs exists.
 */
export async function readLiveFleetIfDeployed(client: ElasticLoadBalancingV2Client, fleet: FleetIdentity, services: readonly string[]): Promise<LiveFleet | undefined> {
  return readDeployedRoutes(client, fleet, services, true);
}

/** The ALBs of `services`, the ALB of `alb:` first, then by name, each with the services on it. */
function albsOf(fleet: FleetIdentity, services: readonly string[]): { key?: string; services: string[] }[] {
  const keyOf = albKeysByService(fleet.platform.services);
  const byKey = new Map<string | undefined, string[]>();
  for (const service of services) byKey.set(keyOf.get(service), [...(byKey.get(keyOf.get(service)) ?? []), service]);
  const named = [...byKey.keys()].filter((key): key is string => key !== undefined).sort();
  return [...(byKey.has(undefined) ? [undefined] : []), ...named].map((key) => ({ key, services: byKey.get(key)! }));
}

async function readDeployedRoutes(
  client: ElasticLoadBalancingV2Client,
  fleet: FleetIdentity,
  services: readonly string[],
  onlyDeployed: boolean,
): Promise<LiveFleet | undefined> {
  const routes = new Map<string, LiveRoute>();
  const albs = albsOf(fleet, services);
  let anyDeployed = false;
  for (const alb of albs) {
    const name = albName(fleet.platform.name, alb.key);
    const arn = await findLoadBalancer(client, name);
    if (!arn && onlyDeployed) continue;
    if (!arn) throw new LiveFleetError(`no load balancer named ${name} in ${fleet.platform.region}${alb.key === undefined ? "" : ` (stack ${edgeStackName(alb.key)}, for ${alb.services.join(", ")})`}`);
    anyDeployed = true;
    const loadBalancer = { name, stack: edgeStackName(alb.key), arn };
    for (const route of await readRoutesOn(client, fleet.platform.name, loadBalancer, alb.services, onlyDeployed)) routes.set(route.service, route);
  }
  if (!anyDeployed && albs.length > 0) return undefined;
  return { routes };
}

/** The routes of `services` on one ALB (a service without a rule left out when `skipMissingRules`). */
async function readRoutesOn(
  client: ElasticLoadBalancingV2Client,
  fleetName: string,
  loadBalancer: LiveLoadBalancer,
  services: readonly string[],
  skipMissingRules: boolean,
): Promise<LiveRoute[]> {
  const rules: Rule[] = [];
  const listeners = await client.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancer.arn }));
  for (const listener of listeners.Listeners ?? []) {
    let marker: string | undefined;
    do {
      const page = await client.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn, Marker: marker }));
      rules.push(...(page.Rules ?? []).filter((r) => !r.IsDefault));
      marker = page.NextMarker;
    } while (marker);
  }
  const ruleTags = await tagsOf(client, rules.map((r) => r.RuleArn!));

  const routes: LiveRoute[] = [];
  for (const service of services) {
    const matching = rules.filter((r) => ruleTags.get(r.RuleArn!)?.fleet === fleetName && ruleTags.get(r.RuleArn!)?.service === service);
    if (matching.length === 0 && skipMissingRules) continue;
    if (matching.length !== 1) {
      throw new LiveFleetError(`expected one listener rule tagged fleet=${fleetName} service=${service} on ${loadBalancer.name}, found ${matching.length}; nothing was changed`);
    }
    const rule = matching[0];
    const forward = (rule.Actions ?? []).find((a) => a.Type === "forward");
    const groups = forward?.ForwardConfig?.TargetGroups ?? [];
    if (!forward || groups.length === 0) throw new LiveFleetError(`the live rule of ${service} does not forward to target groups; nothing was changed`);
    const groupTags = await tagsOf(client, groups.map((g) => g.TargetGroupArn!));
    const targetGroups = new Map<string, string>();
    const weights: Record<string, number> = {};
    for (const group of groups) {
      const cluster = groupTags.get(group.TargetGroupArn!)?.cluster;
      if (!cluster) throw new LiveFleetError(`target group ${group.TargetGroupArn} of ${service} has no cluster tag; nothing was changed`);
      targetGroups.set(cluster, group.TargetGroupArn!);
      weights[cluster] = group.Weight ?? 1;
    }
    const tags = ruleTags.get(rule.RuleArn!) ?? {};
    const deployedTag = tags[DEPLOYED_WEIGHTS_TAG];
    routes.push({
      service,
      loadBalancer,
      rule,
      forward,
      targetGroups,
      weights,
      deployedWeights: deployedTag ? parseWeightsText(deployedTag) : undefined,
      ruleTags: tags,
    });
  }
  return routes;
}

async function findLoadBalancer(client: ElasticLoadBalancingV2Client, name: string): Promise<string | undefined> {
  try {
    const balancers = await client.send(new DescribeLoadBalancersCommand({ Names: [name] }));
    return balancers.LoadBalancers?.[0]?.LoadBalancerArn;
  } catch (error) {
    if ((error as Error).name === "LoadBalancerNotFoundException") return undefined;
    throw error;
  }
}

async function tagsOf(client: ElasticLoadBalancingV2Client, arns: string[]): Promise<Map<string, Record<string, string>>> {
  const tags = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += TAGS_PER_CALL) {
    const result = await client.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + TAGS_PER_CALL) }));
    for (const description of result.TagDescriptions ?? []) {
      tags.set(description.ResourceArn!, Object.fromEntries((description.Tags ?? []).map((t) => [t.Key!, t.Value ?? ""])));
    }
  }
  return tags;
}

/** Target health counts of each target group (DescribeTargetHealth), by ARN. */
async function readTargetHealth(client: ElasticLoadBalancingV2Client, targetGroupArns: readonly string[]): Promise<Map<string, HealthCounts>> {
  const health = new Map<string, HealthCounts>();
  const arns = [...new Set(targetGroupArns)];
  // A few calls at a time: status is read in emergencies, and ELBv2 throttles bursts.
  for (let i = 0; i < arns.length; i += HEALTH_CALLS_AT_ONCE) {
    const batch = arns.slice(i, i + HEALTH_CALLS_AT_ONCE);
    const results = await Promise.all(batch.map((arn) => client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))));
    results.forEach((result, j) => {
      const counts = Object.fromEntries(HEALTH_STATES.map((state) => [state, 0])) as Record<HealthState, number>;
      for (const description of result.TargetHealthDescriptions ?? []) {
        const state = description.TargetHealth?.State;
        if (state) counts[countedState(state)]++;
      }
      health.set(batch[j], counts);
    });
  }
  return health;
}

/** Health of every target group of the routes, by service then cluster. */
export async function readRouteHealth(client: ElasticLoadBalancingV2Client, live: LiveFleet): Promise<Map<string, Map<string, HealthCounts>>> {
  const arns = [...live.routes.values()].flatMap((route) => [...route.targetGroups.values()]);
  const byArn = await readTargetHealth(client, arns);
  return new Map(
    [...live.routes].map(([service, route]) => [service, new Map([...route.targetGroups].map(([cluster, arn]) => [cluster, byArn.get(arn)!]))]),
  );
}
