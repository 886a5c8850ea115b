import { clusterOfStack, inClusterStackName } from "../constructs/naming";
import { ChangeKind, kindOf, managedChanges, StackPlan } from "./plan-json";
import { TrafficRow } from "./traffic";

/** A delete, a replace, or a change that puts traffic at risk. */
export interface Danger {
  /** `critical` for what takes traffic or workloads down here; `warning` for other deletes and replaces. */
  readonly severity: "critical" | "warning";
  readonly stack: string;
  readonly address: string;
  readonly kind: ChangeKind | "update";
  readonly reason: string;
  readonly replacePaths: readonly string[];
}

/** Kubernetes version changes of EKS clusters, by fleet cluster name. */
function versionChanges(stacks: readonly StackPlan[]): Map<string, { from: string; to: string }> {
  const changes = new Map<string, { from: string; to: string }>();
  for (const { stack, plan } of stacks) {
    for (const change of managedChanges(plan).filter((c) => c.type === "aws_eks_cluster" && kindOf(c.change.actions) === "update")) {
      const from = change.change.before?.version as string | undefined;
      const to = change.change.after?.version as string | undefined;
      const cluster = clusterOfStack(stack);
      if (cluster && from && to && from !== to) changes.set(cluster, { from, to });
    }
  }
  return changes;
}

const CRITICAL_TYPES: Record<string, string> = {
  aws_eks_cluster: "EKS cluster",
  aws_eks_node_group: "EKS node group",
  aws_lb: "load balancer",
  aws_lb_listener: "ALB listener",
};

/** Name of the CustomResourceDefinition a `kubernetes_manifest` holds, or undefined for other kinds. */
function crdName(values: Record<string, unknown> | null | undefined): string | undefined {
  const manifest = values?.manifest as { kind?: string; metadata?: { name?: string } } | undefined;
  return manifest?.kind === "CustomResourceDefinition" ? manifest.metadata?.name : undefined;
}

export function findDangers(stacks: readonly StackPlan[], traffic: readonly TrafficRow[]): Danger[] {
  const dangers: Danger[] = [];
  for (const { stack, plan } of stacks) {
    for (const change of managedChanges(plan)) {
      const kind = kindOf(change.change.actions);
      if (kind !== "delete" && kind !== "replace") continue;
      const replacePaths = (change.change.replace_paths ?? []).map((p) => p.join("."));
      const verb = kind === "delete" ? "deleted" : "replaced";
      let severity: Danger["severity"] = "warning";
      let reason = `${change.type} ${verb}`;
      if (CRITICAL_TYPES[change.type]) {
        severity = "critical";
        reason = `${CRITICAL_TYPES[change.type]} ${verb}: ${change.type.startsWith("aws_eks") ? "its workloads go down" : "traffic through it stops"}`;
      } else if (change.type === "kubernetes_manifest" && crdName(change.change.before) !== undefined) {
        severity = "critical";
        reason = `CustomResourceDefinition ${crdName(change.change.before)} ${verb}: every object of that kind goes with it (deleted TargetGroupBindings deregister their targets)`;
      } else if (change.type === "aws_lb_target_group") {
        const tags = (change.change.before?.tags ?? {}) as Record<string, string>;
        const rows = traffic.filter((r) => r.service === tags.service && r.cluster === tags.cluster);
        const weight = Math.max(0, ...rows.map((r) => Math.max(r.before ?? 0, r.after ?? 0)));
        if (weight > 0) {
          severity = "critical";
          reason =
            kind === "replace"
              ? `target group of ${tags.service} on ${tags.cluster} ${verb} while it carries weight ${weight}: the new group has no targets, and its share answers 503, until ${inClusterStackName(tags.cluster)} is deployed (docs/runbooks.md: change a service's container port)`
              : `target group of ${tags.service} on ${tags.cluster} ${verb} while it carries weight ${weight}: its share answers 503`;
        }
      }
      dangers.push({ severity, stack, address: change.address, kind, reason, replacePaths });
    }
  }
  const upgrading = versionChanges(stacks);
  for (const row of traffic) {
    const version = upgrading.get(row.cluster);
    if (version && (row.after ?? 0) > (row.before ?? 0)) {
      dangers.push({
        severity: "critical",
        stack: row.stack,
        address: `${row.service} → ${row.cluster}`,
        kind: "update",
        reason: `weight on ${row.cluster} rises ${row.before ?? 0} → ${row.after} while its Kubernetes version changes ${version.from} → ${version.to} in the same plan: upgrade first, shift later`,
        replacePaths: [],
      });
    }
  }
  dangers.push(...failoverReverts(traffic));
  return dangers.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "critical" ? -1 : 1));
}

/**
 * Services whose live weights differ from the weights last deployed (a
 * `shift --now` failover not yet in the files) and that the plan would set
 * to other weights than the live ones: applying it undoes the failover.
 */
function failoverReverts(traffic: readonly TrafficRow[]): Danger[] {
  const services = [...new Set(traffic.map((r) => r.service))];
  return services.flatMap((service) => {
    const rows = traffic.filter((r) => r.service === service);
    const failover = rows.some((r) => r.deployed !== undefined && r.before !== undefined && r.deployed !== r.before);
    // A target group the plan adds carries nothing live: at weight 0 it leaves the failover as it is.
    if (!failover || rows.every((r) => r.after === undefined || r.after === (r.before ?? 0))) return [];
    const list = (pick: (r: TrafficRow) => number | undefined) => rows.map((r) => `${r.cluster}=${pick(r) ?? "–"}`).join(" ");
    return [
      {
        severity: "critical" as const,
        stack: rows[0].stack,
        address: `${service} listener rule`,
        kind: "update" as const,
        reason: `reverts a live failover: live ${list((r) => r.before)} (shift --now), last deployed ${list((r) => r.deployed)}, this plan sets ${list((r) => r.after)}: merge the failover's change first`,
        replacePaths: [],
      },
    ];
  });
}
