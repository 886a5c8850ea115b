import { isEdgeStack } from "../constructs/naming";
import { DEPLOYED_WEIGHTS_TAG, parseWeightsText } from "../config/weights";
import { Json, managedChanges, PlanJson, StackPlan } from "./plan-json";

/** A service's weight on one cluster before and after the plan; undefined where it has none. */
export interface TrafficRow {
  /** The edge stack of the service's ALB. */
  readonly stack: string;
  readonly service: string;
  readonly cluster: string;
  /** The live weight: plans refresh the rule from AWS first. */
  readonly before?: number;
  readonly after?: number;
  /** The weight Terraform last deployed (the rule's `deployed-weights` tag); it differs from `before` after a `shift --now`. */
  readonly deployed?: number;
}

/** Weights per service and cluster, before (from state) and after (from configuration), from the plans of the edge stacks: by stack, then service and cluster. */
export function trafficTable(stacks: readonly StackPlan[]): TrafficRow[] {
  return stacks
    .filter((s) => isEdgeStack(s.stack) && s.plan)
    .sort((a, b) => a.stack.localeCompare(b.stack))
    .flatMap((s) => edgeTraffic(s.stack, s.plan!));
}

/** The traffic rows of one edge stack's plan, by service and cluster. */
function edgeTraffic(stack: string, plan: PlanJson): TrafficRow[] {
  const clusterByArn = new Map<string, string>();
  for (const resource of plan.prior_state?.values?.root_module?.resources ?? []) {
    if (resource.type !== "aws_lb_target_group") continue;
    const cluster = (resource.values.tags as Record<string, string> | undefined)?.cluster;
    if (cluster) clusterByArn.set(resource.values.arn as string, cluster);
  }
  const configResources = plan.configuration?.root_module?.resources ?? [];
  const clusterByAddress = new Map<string, string>();
  for (const resource of configResources.filter((r) => r.type === "aws_lb_target_group")) {
    const tags = (resource.expressions?.tags as { constant_value?: Record<string, string> } | undefined)?.constant_value;
    if (tags?.cluster) clusterByAddress.set(resource.address, tags.cluster);
  }

  const rows: TrafficRow[] = [];
  for (const change of managedChanges(plan).filter((c) => c.type === "aws_lb_listener_rule")) {
    const tags = (change.change.after?.tags ?? change.change.before?.tags) as Record<string, string> | undefined;
    const service = tags?.service ?? change.address;
    const deployedTag = (change.change.before?.tags as Record<string, string> | undefined)?.[DEPLOYED_WEIGHTS_TAG];
    const deployed = deployedTag === undefined ? undefined : parseWeightsText(deployedTag);
    const before = new Map<string, number>();
    for (const group of forwardGroups(change.change.before)) {
      before.set(clusterByArn.get(group.arn as string) ?? String(group.arn), group.weight as number);
    }
    const after = new Map<string, number>();
    if (change.change.after) {
      const expressions = configResources.find((r) => r.address === change.address)?.expressions;
      for (const group of forwardGroups(expressions, true)) {
        const references = ((group.arn as { references?: string[] }).references ?? []).map((r) => r.replace(/\.arn$/, ""));
        const cluster = references.map((r) => clusterByAddress.get(r)).find(Boolean) ?? references[0] ?? "?";
        after.set(cluster, (group.weight as { constant_value: number }).constant_value);
      }
    }
    for (const cluster of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      rows.push({ stack, service, cluster, before: before.get(cluster), after: after.get(cluster), ...(deployed ? { deployed: deployed[cluster] } : {}) });
    }
  }
  return rows.sort((a, b) => a.service.localeCompare(b.service) || a.cluster.localeCompare(b.cluster));
}

/** The target groups of a rule's forward action, from values or (with `expressions`) from configuration. */
function forwardGroups(rule: Json | null | undefined, expressions = false): Json[] {
  const actions = (rule?.action as Json[] | undefined) ?? [];
  const forward = actions.flatMap((a) => (a.forward as Json[] | undefined) ?? []);
  const groups = forward.flatMap((f) => (f.target_group as Json[] | undefined) ?? []);
  return expressions ? groups.filter((g) => g.weight && g.arn) : groups;
}
