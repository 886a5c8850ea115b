import { DescribeRulesCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { FleetConfig } from "../config/load";
import { describeAwsFailure, failureText } from "./aws-clients";
import { enforceGate, healthRefusals, WeightChange } from "./health-gate";
import { LiveFleet, LiveRoute, readLiveFleet, readRouteHealth } from "./live-fleet";
import { ServiceShift, ShiftError } from "./shift";
import { formatWeights, sameWeights, Weights } from "../config/weights";

export interface LiveShiftOptions {
  /** Apply despite the health gate's refusals, for this reason (echoed). */
  readonly forceReason?: string;
  /**
   * Called before each write to a live rule; throws to refuse it (the traffic
   * lock lost, the cluster files changed since the shift was planned).
   */
  readonly beforeWrite?: () => void;
}

/** A refused write: the live rule is not what the command planned from. */
export class LiveRuleChangedError extends ShiftError {
  constructor(service: string, live: Weights, expected: Weights) {
    super(
      `the live rule of ${service} changed since this command read it (now ${formatWeights(live)}, expected ${formatWeights(expected)}): ` +
        "another writer changed it; this write was refused",
    );
    this.name = "LiveRuleChangedError";
  }
}

/**
 * Applies shifted weights to the ALB's live listener rules at once (ModifyRule),
 * for emergencies; only the ELBv2 API is used. It refuses, changing nothing,
 * when a live rule does not match the configuration before the shift, or when
 * the health gate refuses the new weights (unless forced); when a change fails,
 * the rules already changed are put back. Returns the lines to print.
 */
export async function applyShiftLive(
  client: ElasticLoadBalancingV2Client,
  fleet: FleetConfig,
  shifts: readonly ServiceShift[],
  options: LiveShiftOptions = {},
): Promise<string[]> {
  const live = await readLiveFleet(client, fleet, shifts.map((s) => s.service));
  assertLiveMatches(live, shifts);
  const health = await readRouteHealth(client, live);
  const forced = enforceGate(healthRefusals(fleet, shifts, health), options.forceReason);
  await writeLiveWeights(client, live, shifts, options.beforeWrite);
  return [
    ...forced,
    ...shifts.map((s) => `${s.service}: rule ${live.routes.get(s.service)!.rule.RuleArn} now ${formatWeights(s.after)} (was ${formatWeights(s.before)})`),
  ];
}

/** Refuses when a live rule's weights differ from the weights the files hold before the shift. */
export function assertLiveMatches(live: LiveFleet, shifts: readonly WeightChange[]): void {
  for (const shift of shifts) {
    const route = live.routes.get(shift.service)!;
    if (!sameWeights(route.weights, shift.before)) {
      throw new ShiftError(
        `the live rule of ${shift.service} (${formatWeights(route.weights)}) differs from the configuration (${formatWeights(shift.before)}): ` +
          "something changed it outside this repository (npm run status shows it); reconcile before shifting, nothing was changed",
      );
    }
  }
}

/**
 * Sets each service's rule to its `after` weights, each write after a fresh
 * read of the rule that must still hold the `before` weights (ModifyRule has
 * no compare-and-swap: the read narrows the window, the traffic lock closes
 * it) and after `beforeWrite`. When one write fails or is refused, puts the
 * rules already changed back to their `before` weights, the same way, and
 * throws saying which were put back.
 */
export async function writeLiveWeights(client: ElasticLoadBalancingV2Client, live: LiveFleet, changes: readonly WeightChange[], beforeWrite?: () => void): Promise<void> {
  const applied: WeightChange[] = [];
  try {
    for (const change of changes) {
      if (sameWeights(change.before, change.after)) continue;
      beforeWrite?.();
      await setWeightsIfUnchanged(client, live.routes.get(change.service)!, change.before, change.after);
      applied.push(change);
    }
  } catch (error) {
    // Nothing to put back: a refusal as it is, an AWS failure said plainly.
    if (applied.length === 0) throw describeAwsFailure(error) === undefined ? error : new ShiftError(`changing the live rules failed: ${failureText(error)}; no rule was changed`);
    const restored = await Promise.allSettled(applied.map((change) => setWeightsIfUnchanged(client, live.routes.get(change.service)!, change.after, change.before)));
    const failedRestores = applied.filter((_, i) => restored[i].status === "rejected").map((c) => c.service);
    throw new ShiftError(
      `changing the live rules failed: ${failureText(error)}; ` +
        (failedRestores.length > 0 ? `could not put back ${failedRestores.join(", ")}: check them now` : `put back ${applied.map((c) => c.service).join(", ")}`),
    );
  }
}

/** The live weights of a rule now, by cluster (a fresh DescribeRules of that rule). */
async function readRuleWeights(client: ElasticLoadBalancingV2Client, route: LiveRoute): Promise<Record<string, number>> {
  const result = await client.send(new DescribeRulesCommand({ RuleArns: [route.rule.RuleArn!] }));
  const clusterOf = new Map([...route.targetGroups].map(([cluster, arn]) => [arn, cluster]));
  const groups = result.Rules?.[0]?.Actions?.find((a) => a.Type === "forward")?.ForwardConfig?.TargetGroups ?? [];
  return Object.fromEntries(groups.map((g) => [clusterOf.get(g.TargetGroupArn!) ?? g.TargetGroupArn!, g.Weight ?? 1]));
}

/** Sets a rule's weights after a fresh read shows it still holds `expected`; refuses with {@link LiveRuleChangedError} otherwise. */
async function setWeightsIfUnchanged(client: ElasticLoadBalancingV2Client, route: LiveRoute, expected: Weights, weights: Weights): Promise<void> {
  const now = await readRuleWeights(client, route);
  if (!sameWeights(now, expected)) throw new LiveRuleChangedError(route.service, now, expected);
  await setWeights(client, route, weights);
}

async function setWeights(client: ElasticLoadBalancingV2Client, route: LiveRoute, weights: Weights): Promise<void> {
  const actions = (route.rule.Actions ?? []).map((action) =>
    action !== route.forward
      ? action
      : {
          Type: "forward" as const,
          Order: action.Order,
          ForwardConfig: {
            TargetGroups: [...route.targetGroups].map(([cluster, arn]) => ({ TargetGroupArn: arn, Weight: weights[cluster] })),
            TargetGroupStickinessConfig: action.ForwardConfig?.TargetGroupStickinessConfig,
          },
        },
  );
  await client.send(new ModifyRuleCommand({ RuleArn: route.rule.RuleArn, Actions: actions }));
}
