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
import { albName } from "../constructs/naming";
import { UserError } from "../support/user-error";
import { DEPLOYED_WEIGHTS_TAG, parseWeightsText } from "../config/weights";

/** DescribeTags takes at most this many ARNs per call. */
const TAGS_PER_CALL = 20;
/** DescribeTargetHealth calls made at once. */
const HEALTH_CALLS_AT_ONCE = 5;

/** The live fleet could not be read as the configuration describes it. */
class LiveFleetError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "LiveFleetError";
  }
}

/** What finds a fleet's live ALB: its name and region (a fleet's configuration is one). */
export interface FleetIdentity {
  readonly platform: { readonly name: string; readonly region: string };
}

/** A live listener rule of a service and its weights by cluster. */
export interface LiveRoute {
  readonly service: string;
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
  readonly loadBalancerArn: string;
  /** Routes by service name. */
  readonly routes: ReadonlyMap<string, LiveRoute>;
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
 * Finds the fleet's ALB by name and each service's listener rule by its
 * `fleet` and `service` tags, with the clusters of its target groups (by their
 * `cluster` tag). Read-only: DescribeLoadBalancers, DescribeListeners,
 * DescribeRules, DescribeTags.
 */
export async function readLiveFleet(client: ElasticLoadBalancingV2Client, fleet: FleetIdentity, services: readonly string[]): Promise<LiveFleet> {
  const live = await readDeployedRoutes(client, fleet, services, false);
  if (!live) throw new LiveFleetError(`no load balancer named ${albName(fleet.platform.name)} in ${fleet.platform.region}`);
  return live;
}

/**
 * Like {@link readLiveFleet} for what a deploy is about to change: undefined
 * when the ALB does not exist yet, and services without a rule yet left out.
 */
export async function readLiveFleetIfDeployed(client: ElasticLoadBalancingV2Client, fleet: FleetIdentity, services: readonly string[]): Promise<LiveFleet | undefined> {
  return readDeployedRoutes(client, fleet, services, true);
}

async function readDeployedRoutes(
  client: ElasticLoadBalancingV2Client,
  fleet: FleetIdentity,
  services: readonly string[],
  skipMissingRules: boolean,
): Promise<LiveFleet | undefined> {
  const fleetName = fleet.platform.name;
  const name = albName(fleetName);
  const loadBalancerArn = await findLoadBalancer(client, name);
  if (!loadBalancerArn) return undefined;

  const rules: Rule[] = [];
  const listeners = await client.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }));
  for (const listener of listeners.Listeners ?? []) {
    let marker: string | undefined;
    do {
      const page = await client.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn, Marker: marker }));
      rules.push(...(page.Rules ?? []).filter((r) => !r.IsDefault));
      marker = page.NextMarker;
    } while (marker);
  }
  const ruleTags = await tagsOf(client, rules.map((r) => r.RuleArn!));

  const routes = new Map<string, LiveRoute>();
  for (const service of services) {
    const matching = rules.filter((r) => ruleTags.get(r.RuleArn!)?.fleet === fleetName && ruleTags.get(r.RuleArn!)?.service === service);
    if (matching.length === 0 && skipMissingRules) continue;
    if (matching.length !== 1) {
      throw new LiveFleetError(`expected one listener rule tagged fleet=${fleetName} service=${service} on ${name}, found ${matching.length}; nothing was changed`);
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
    routes.set(service, { service, rule, forward, targetGroups, weights, deployedWeights: deployedTag ? parseWeightsText(deployedTag) : undefined, ruleTags: tags });
  }
  return { loadBalancerArn, routes };
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
