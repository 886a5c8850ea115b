import {
  Action,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  Rule,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { FleetConfig } from "../config/load";
import { albName } from "../naming";
import { ServiceShift, ShiftError } from "./shift";

/** DescribeTags takes at most this many ARNs per call. */
const TAGS_PER_CALL = 20;

/** A live listener rule of a service and its weights by cluster. */
interface LiveRoute {
  readonly service: string;
  readonly rule: Rule;
  readonly forward: Action;
  /** Target group ARN by cluster name. */
  readonly targetGroups: Map<string, string>;
  readonly weights: Record<string, number>;
}

/**
 * Applies shifted weights to the ALB's live listener rules at once (ModifyRule),
 * for emergencies. The rules are found by the tags the generator sets. It
 * refuses, changing nothing, when a live rule does not match the configuration
 * before the shift; when a change fails, the rules already changed are put back.
 * Returns a line per changed rule.
 */
export async function applyShiftLive(
  client: ElasticLoadBalancingV2Client,
  fleet: FleetConfig,
  shifts: readonly ServiceShift[],
): Promise<string[]> {
  const routes = await readLiveRoutes(client, fleet, shifts.map((s) => s.service));
  for (const shift of shifts) {
    const live = routes.get(shift.service)!;
    if (!sameWeights(live.weights, shift.before)) {
      throw new ShiftError(
        `the live rule of ${shift.service} (${describe(live.weights)}) differs from the configuration (${describe(shift.before)}): ` +
          "something changed it outside this repository; reconcile (cdktf deploy edge) before shifting, nothing was changed",
      );
    }
  }
  const applied: LiveRoute[] = [];
  const lines: string[] = [];
  try {
    for (const shift of shifts) {
      const live = routes.get(shift.service)!;
      await setWeights(client, live, shift.after);
      applied.push(live);
      lines.push(`${shift.service}: rule ${live.rule.RuleArn} now ${describe(shift.after)} (was ${describe(live.weights)})`);
    }
  } catch (error) {
    const restored = await Promise.allSettled(applied.map((live) => setWeights(client, live, live.weights)));
    const failedRestores = applied.filter((_, i) => restored[i].status === "rejected").map((l) => l.service);
    throw new ShiftError(
      `changing the live rules failed: ${(error as Error).message}; ` +
        (failedRestores.length > 0 ? `could not restore ${failedRestores.join(", ")}: check them now` : "the rules already changed were restored"),
    );
  }
  return lines;
}

function describe(weights: Readonly<Record<string, number>>): string {
  return Object.keys(weights)
    .sort()
    .map((c) => `${c}=${weights[c]}`)
    .join(" ");
}

function sameWeights(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  return describe(a) === describe(b);
}

async function setWeights(client: ElasticLoadBalancingV2Client, live: LiveRoute, weights: Readonly<Record<string, number>>): Promise<void> {
  const actions = (live.rule.Actions ?? []).map((action) =>
    action !== live.forward
      ? action
      : {
          Type: "forward" as const,
          Order: action.Order,
          ForwardConfig: {
            TargetGroups: [...live.targetGroups].map(([cluster, arn]) => ({ TargetGroupArn: arn, Weight: weights[cluster] })),
            TargetGroupStickinessConfig: action.ForwardConfig?.TargetGroupStickinessConfig,
          },
        },
  );
  await client.send(new ModifyRuleCommand({ RuleArn: live.rule.RuleArn, Actions: actions }));
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

async function readLiveRoutes(client: ElasticLoadBalancingV2Client, fleet: FleetConfig, services: string[]): Promise<Map<string, LiveRoute>> {
  const fleetName = fleet.platform.name;
  const name = albName(fleetName);
  const balancers = await client.send(new DescribeLoadBalancersCommand({ Names: [name] }));
  const loadBalancerArn = balancers.LoadBalancers?.[0]?.LoadBalancerArn;
  if (!loadBalancerArn) throw new ShiftError(`no load balancer named ${name} in ${fleet.platform.region}`);

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
    if (matching.length !== 1) {
      throw new ShiftError(`expected one listener rule tagged fleet=${fleetName} service=${service} on ${name}, found ${matching.length}; nothing was changed`);
    }
    const rule = matching[0];
    const forward = (rule.Actions ?? []).find((a) => a.Type === "forward");
    const groups = forward?.ForwardConfig?.TargetGroups ?? [];
    if (!forward || groups.length === 0) throw new ShiftError(`the live rule of ${service} does not forward to target groups; nothing was changed`);
    const groupTags = await tagsOf(client, groups.map((g) => g.TargetGroupArn!));
    const targetGroups = new Map<string, string>();
    const weights: Record<string, number> = {};
    for (const group of groups) {
      const cluster = groupTags.get(group.TargetGroupArn!)?.cluster;
      if (!cluster) throw new ShiftError(`target group ${group.TargetGroupArn} of ${service} has no cluster tag; nothing was changed`);
      targetGroups.set(cluster, group.TargetGroupArn!);
      weights[cluster] = group.Weight ?? 1;
    }
    routes.set(service, { service, rule, forward, targetGroups, weights });
  }
  return routes;
}
