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

/** One ALB of the picture, with the rules it holds. */
export interface PictureAlb {
  /** Its AWS name. @default none shown (a plan knows the stack only) */
  readonly name?: string;
  /** Its stack (`edge`, `edge-<name>`). */
  readonly stack: string;
  readonly routes: readonly PictureRoute[];
}

const id = (...parts: string[]) => parts.join("_").replace(/[^A-Za-z0-9_]/g, "_");

/** The lines of one ALB's rules and target groups (`inside`), their links to the clusters (`links`), and the groups to mark. */
interface DrawnAlb {
  readonly inside: string[];
  readonly links: string[];
  readonly unhealthy: string[];
  readonly idle: string[];
}

function drawRoutes(alb: string, routes: readonly PictureRoute[], indent: string): DrawnAlb {
  const drawn: DrawnAlb = { inside: [], links: [], unhealthy: [], idle: [] };
  for (const route of routes) {
    const rule = id("rule", route.service);
    drawn.inside.push(`${indent}${alb} --> ${rule}["rule ${route.service}"]`);
    const total = route.clusters.reduce((sum, c) => sum + c.weight, 0);
    for (const { cluster, weight, health } of route.clusters) {
      const group = id("tg", route.service, cluster);
      const share = total === 0 ? 0 : Math.round((weight / total) * 100);
      const healthText = health ? `<br/>${health.healthy} healthy${health.unhealthy > 0 ? `, ${health.unhealthy} unhealthy` : ""}` : "";
      drawn.inside.push(`${indent}${rule} -- "weight ${weight} (${share}%)" --> ${group}["${route.service}/${cluster}${healthText}"]`);
      drawn.links.push(`  ${group} --> ${id("cluster", cluster)}`);
      if (weight === 0) drawn.idle.push(group);
      else if (health && health.healthy === 0) drawn.unhealthy.push(group);
    }
  }
  return drawn;
}

/** The clusters with their lifecycle state (when known), then the marks of unhealthy and idle target groups. */
function clustersAndMarks(clusterStates: Readonly<Record<string, string | undefined>>, drawn: readonly DrawnAlb[]): string[] {
  const lines = [...drawn.flatMap((d) => d.links)];
  for (const [cluster, state] of Object.entries(clusterStates).sort()) {
    lines.push(`  ${id("cluster", cluster)}(["cluster ${cluster}${state ? `<br/>${state}` : ""}"])`);
  }
  const unhealthy = drawn.flatMap((d) => d.unhealthy);
  const idle = drawn.flatMap((d) => d.idle);
  if (unhealthy.length > 0) lines.push("  classDef unhealthy fill:#fdd,stroke:#c00", `  class ${unhealthy.join(",")} unhealthy`);
  if (idle.length > 0) lines.push("  classDef idle stroke-dasharray:4 4", `  class ${idle.join(",")} idle`);
  return lines;
}

/**
 * A Mermaid flowchart of one ALB: ALB → one rule per service → a target group per
 * (service, cluster) labelled with weight, share and health → the clusters
 * with their lifecycle state (when known). Unhealthy weighted target groups are drawn red,
 * target groups without weight dashed.
 */
export function mermaidPicture(loadBalancer: string | undefined, routes: readonly PictureRoute[], clusterStates: Readonly<Record<string, string | undefined>>): string {
  const drawn = drawRoutes("alb", routes, "  ");
  return ["flowchart LR", `  alb["ALB${loadBalancer ? ` ${loadBalancer}` : ""}"]`, ...drawn.inside, ...clustersAndMarks(clusterStates, [drawn])].join("\n");
}

/**
 * The same picture for several ALBs: one subgraph per ALB (named by its AWS
 * name and stack) holding its rules and target groups, all of them leading to
 * the clusters they share.
 */
export function mermaidAlbsPicture(albs: readonly PictureAlb[], clusterStates: Readonly<Record<string, string | undefined>>): string {
  const lines = ["flowchart LR"];
  const drawn = albs.map((alb) => {
    const node = id("alb", alb.stack);
    const routes = drawRoutes(node, alb.routes, "    ");
    lines.push(`  subgraph ${id(alb.stack)}["${alb.stack}"]`, `    ${node}["ALB${alb.name ? ` ${alb.name}` : ""}"]`, ...routes.inside, "  end");
    return routes;
  });
  return [...lines, ...clustersAndMarks(clusterStates, drawn)].join("\n");
}
