import { HealthCounts } from "./live-fleet";

/** A service's rule and where it forwards, for the picture. */
export interface PictureRoute {
  readonly service: string;
  readonly clusters: readonly {
    readonly cluster: string;
    readonly weight: number;
    /** Target health; the picture omits it when undefined (drawn from the config). */
    readonly health?: HealthCounts;
  }[];
}

const id = (...parts: string[]) => parts.join("_").replace(/[^A-Za-z0-9_]/g, "_");

/**
 * A Mermaid flowchart: ALB → one rule per service → a target group per
 * (service, cluster) labelled with weight, share and health → the clusters
 * with their lifecycle state (when known). Unhealthy weighted target groups are drawn red,
 * target groups without weight dashed.
 */
export function mermaidPicture(loadBalancer: string | undefined, routes: readonly PictureRoute[], clusterStates: Readonly<Record<string, string | undefined>>): string {
  const lines = ["flowchart LR", `  alb["ALB${loadBalancer ? ` ${loadBalancer}` : ""}"]`];
  const unhealthy: string[] = [];
  const idle: string[] = [];
  for (const route of routes) {
    const rule = id("rule", route.service);
    lines.push(`  alb --> ${rule}["rule ${route.service}"]`);
    const total = route.clusters.reduce((sum, c) => sum + c.weight, 0);
    for (const { cluster, weight, health } of route.clusters) {
      const group = id("tg", route.service, cluster);
      const share = total === 0 ? 0 : Math.round((weight / total) * 100);
      const healthText = health ? `<br/>${health.healthy} healthy${health.unhealthy > 0 ? `, ${health.unhealthy} unhealthy` : ""}` : "";
      lines.push(`  ${rule} -- "weight ${weight} (${share}%)" --> ${group}["${route.service}/${cluster}${healthText}"]`);
      lines.push(`  ${group} --> ${id("cluster", cluster)}`);
      if (weight === 0) idle.push(group);
      else if (health && health.healthy === 0) unhealthy.push(group);
    }
  }
  for (const [cluster, state] of Object.entries(clusterStates).sort()) {
    lines.push(`  ${id("cluster", cluster)}(["cluster ${cluster}${state ? `<br/>${state}` : ""}"])`);
  }
  if (unhealthy.length > 0) lines.push("  classDef unhealthy fill:#fdd,stroke:#c00", `  class ${unhealthy.join(",")} unhealthy`);
  if (idle.length > 0) lines.push("  classDef idle stroke-dasharray:4 4", `  class ${idle.join(",")} idle`);
  return lines.join("\n");
}
