import { ElasticLoadBalancingV2Client, ModifyRuleCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { FleetConfig } from "../config/load";
import { failureText } from "./aws-clients";
import { enforceGate, healthRefusals, WeightChange } from "./health-gate";
import { LiveFleet, LiveRoute, readLiveFleet, readRouteHealth } from "./live-fleet";
import { ServiceShift, ShiftError } from "./shift";
import { formatWeights, sameWeights, Weights } from "../config/weights";

export interface LiveShiftOptions {
  /** Apply despite the health gate's refusals, for this reason (echoed). */
  readonly forceReason?: string;
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
  await writeLiveWeights(client, live, shifts);
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
 * Sets each service's rule to its `after` weights; when one ModifyRule fails,
 * puts the rules already changed back to their `before` weights and throws.
 */
export async function writeLiveWeights(client: ElasticLoadBalancingV2Client, live: LiveFleet, changes: readonly WeightChange[]): Promise<void> {
  const applied: WeightChange[] = [];
  try {
    for (const change of changes) {
      if (sameWeights(change.before, change.after)) continue;
      await setWeights(client, live.routes.get(change.service)!, change.after);
      applied.push(change);
    }
  } catch (error) {
    const restored = await Promise.allSettled(applied.map((change) => setWeights(client, live.routes.get(change.service)!, change.before)));
    const failedRestores = applied.filter((_, i) => restored[i].status === "rejected").map((c) => c.service);
    throw new ShiftError(
      `changing the live rules failed: ${failureText(error)}; ` +
        (failedRestores.length > 0 ? `could not restore ${failedRestores.join(", ")}: check them now` : "the rules already changed were restored"),
    );
  }
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
