import { parseDocument, isScalar } from "yaml";
import { albKeysByService } from "../config/albs";
import { clustersNamed, clustersRouting, ConfigSources, FleetConfig } from "../config/load";
import { MAX_WEIGHT, RoutedService } from "../config/schema";
import { edgeStackName } from "../constructs/naming";
import { UserError } from "../support/user-error";

/** What to shift: explicit weights, or all traffic (or a step of it) towards one cluster. */
export interface ShiftRequest {
  /** Weights by cluster name, as in `blue=0 green=100`. */
  readonly weights?: Readonly<Record<string, number>>;
  /** Cluster that should carry all traffic. */
  readonly to?: string;
  /** With `to`: move at most this many percentage points of each service's traffic. */
  readonly step?: number;
  /** Services to shift. @default every service the named clusters serve */
  readonly services?: readonly string[];
}

/** Weights of one service before and after, by cluster. */
export interface ServiceShift {
  readonly service: string;
  readonly before: Readonly<Record<string, number>>;
  readonly after: Readonly<Record<string, number>>;
}

/** A shift that cannot be made as asked. */
export class ShiftError extends UserError {}

/** The edge stacks (`edge`, `edge-<name>`) of the ALBs routing the services of these names, sorted: what deploys their weights. */
export function edgeStacksOf(services: readonly Pick<RoutedService, "name" | "alb">[], names: readonly string[]): string[] {
  const albKeys = albKeysByService(services);
  return [...new Set(names.map((name) => edgeStackName(albKeys.get(name))))].sort();
}

/**
 * What is wrong with a request on its own, before any file is read: no
 * cluster named, weights and `--to` together, `--step` without `--to` or out
 * of range; undefined when nothing is.
 */
export function shiftRequestProblem(request: ShiftRequest): string | undefined {
  const weightsGiven = Object.keys(request.weights ?? {}).length > 0;
  if (request.to === undefined && !weightsGiven) return "name the clusters to shift: blue=0 green=100, or --to green";
  if (request.to !== undefined && weightsGiven) return "give either weights (blue=0 green=100) or --to, not both";
  if (request.step !== undefined && request.to === undefined) return "--step needs --to <cluster>";
  if (request.step !== undefined && !(request.step > 0 && request.step <= 100)) return `--step ${request.step} must be a percentage between 1 and 100`;
  return undefined;
}

/** Weights of every service after the request, for the services it touches. */
export function planShift(fleet: FleetConfig, request: ShiftRequest): ServiceShift[] {
  const problem = shiftRequestProblem(request);
  if (problem) throw new ShiftError(problem);
  const named = request.to !== undefined ? [request.to] : Object.keys(request.weights ?? {});
  clustersNamed(fleet, named);
  const clusters = new Map(fleet.clusters.map((c) => [c.config.name, c.config]));
  for (const [cluster, weight] of Object.entries(request.weights ?? {})) {
    if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
      throw new ShiftError(`weight ${cluster}=${weight} is outside 0-${MAX_WEIGHT}`);
    }
  }

  const serviceNames = fleet.platform.services.map((s) => s.name);
  const asked = [...new Set(request.services ?? serviceNames)];
  const unknownServices = asked.filter((s) => !serviceNames.includes(s));
  if (unknownServices.length > 0) {
    throw new ShiftError(`unknown service${unknownServices.length === 1 ? "" : "s"} ${unknownServices.join(", ")}; services: ${serviceNames.join(", ")}`);
  }
  const services = asked.filter((service) => named.some((cluster) => clusters.get(cluster)!.weights[service] !== undefined));
  if (services.length === 0) throw new ShiftError(`${named.join(", ")} serve${named.length === 1 ? "s" : ""} none of the services asked for`);
  const servingNothing = named.filter((cluster) => services.every((service) => clusters.get(cluster)!.weights[service] === undefined));
  if (servingNothing.length > 0) {
    const [first] = servingNothing;
    throw new ShiftError(
      `${servingNothing.join(", ")} serve${servingNothing.length === 1 ? "s" : ""} none of ${services.join(", ")}, so ${servingNothing.length === 1 ? "its" : "their"} weight cannot be set: ` +
        `to route ${services[0]} to ${first}, add "${services[0]}: 0" under weights: in ${fileOf(fleet, first)} and deploy that first, then shift`,
    );
  }

  return services.map((service) => {
    const before = Object.fromEntries(
      clustersRouting(fleet.clusters, service).map((c) => [c.config.name, c.config.weights[service]]),
    );
    const after = request.to !== undefined ? towards(before, request.to, request.step) : { ...before, ...pick(request.weights!, before) };
    const notReady = Object.keys(after).filter((c) => after[c] > (before[c] ?? 0) && clusters.get(c)!.state !== "active");
    if (notReady.length > 0) {
      const states = notReady.map((c) => `${c} is ${clusters.get(c)!.state}`).join(", ");
      throw new ShiftError(`cannot shift ${service} traffic onto a cluster that is not ready (${states}): set state: active first`);
    }
    if (Object.values(after).every((w) => w === 0)) {
      throw new ShiftError(`shift would leave ${service} with weight 0 everywhere: some cluster must carry its traffic`);
    }
    return { service, before, after };
  });
}

function fileOf(fleet: FleetConfig, cluster: string): string {
  return fleet.clusters.find((c) => c.config.name === cluster)!.file;
}

/**
 * Named clusters the shift leaves out of a service they do not serve (in a
 * shift of several services), with how to route it to them.
 */
export function clustersLeftOut(fleet: FleetConfig, request: ShiftRequest, shifts: readonly ServiceShift[]): string[] {
  const named = request.to !== undefined ? [request.to] : Object.keys(request.weights ?? {});
  return shifts.flatMap(({ service, after }) =>
    named
      .filter((cluster) => !Object.hasOwn(after, cluster))
      .map((cluster) => `${cluster} does not serve ${service}, so its ${service} traffic is unchanged; to route ${service} to it, add "${service}: 0" under weights: in ${fileOf(fleet, cluster)} and deploy that first`),
  );
}

/** "web blue=0 green=100; api ..." : the weights before or after a shift. */
export function describeShifts(shifts: readonly ServiceShift[], when: "before" | "after"): string {
  return shifts.map((s) => `${s.service} ${Object.entries(s[when]).map(([c, w]) => `${c}=${w}`).join(" ")}`).join("; ");
}

/** The requested weights of the clusters that serve the service. */
function pick(weights: Readonly<Record<string, number>>, serving: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(weights).filter(([cluster]) => Object.hasOwn(serving, cluster)));
}

/** Moves traffic to `target`: all of it, or `step` percentage points of it, on a scale of 100. */
function towards(before: Record<string, number>, target: string, step?: number): Record<string, number> {
  if (!Object.hasOwn(before, target)) return before;
  const total = Object.values(before).reduce((a, b) => a + b, 0);
  if (step === undefined) {
    return Object.fromEntries(Object.keys(before).map((c) => [c, c === target ? Math.min(MAX_WEIGHT, Math.max(total, 1)) : 0]));
  }
  const share = Math.min(100, Math.round((before[target] / total) * 100) + step);
  const others = Object.keys(before).filter((c) => c !== target);
  const othersTotal = others.reduce((sum, c) => sum + before[c], 0);
  const after: Record<string, number> = { [target]: share };
  // Split what is left among the others in proportion to their weights, largest remainders first.
  const exact = others.map((cluster) => ({ cluster, value: othersTotal === 0 ? 0 : ((100 - share) * before[cluster]) / othersTotal }));
  const fraction = (value: number) => value - Math.floor(value);
  let left = 100 - share - exact.reduce((sum, e) => sum + Math.floor(e.value), 0);
  for (const e of [...exact].sort((a, b) => fraction(b.value) - fraction(a.value))) {
    after[e.cluster] = Math.floor(e.value) + (left-- > 0 ? 1 : 0);
  }
  return Object.fromEntries(Object.keys(before).map((c) => [c, after[c]]));
}

/**
 * Writes the new weights into the cluster files' text, touching only the
 * weight values: comments, order and formatting stay as they were.
 */
export function applyShiftToSources(sources: ConfigSources, fleet: FleetConfig, shifts: readonly ServiceShift[]): ConfigSources {
  const fileOf = new Map(fleet.clusters.map((c) => [c.config.name, c.file]));
  const edits = new Map<string, { service: string; weight: number }[]>();
  for (const { service, before, after } of shifts) {
    for (const [cluster, weight] of Object.entries(after)) {
      if (before[cluster] === weight) continue;
      const file = fileOf.get(cluster)!;
      edits.set(file, [...(edits.get(file) ?? []), { service, weight }]);
    }
  }
  return {
    ...sources,
    clusters: sources.clusters.map((source) => {
      const fileEdits = edits.get(source.file);
      if (!fileEdits) return source;
      const document = parseDocument(source.text);
      const spans = fileEdits.map(({ service, weight }) => {
        const node = document.getIn(["weights", service], true);
        if (!isScalar(node) || !node.range) throw new ShiftError(`${source.file}: weights.${service} is not a plain number`);
        return { start: node.range[0], end: node.range[1], text: String(weight) };
      });
      let text = source.text;
      for (const span of spans.sort((a, b) => b.start - a.start)) {
        text = text.slice(0, span.start) + span.text + text.slice(span.end);
      }
      return { ...source, text };
    }),
  };
}

/** "web: blue 50 → 0, green 50 → 100" lines for the console. */
export function formatShifts(shifts: readonly ServiceShift[]): string {
  return shifts
    .map(({ service, before, after }) => {
      const total = (weights: Readonly<Record<string, number>>) => Object.values(weights).reduce((a, b) => a + b, 0);
      const percent = (weights: Readonly<Record<string, number>>, cluster: string) => Math.round((weights[cluster] / total(weights)) * 100);
      const parts = Object.keys(after).map(
        (c) => `${c} ${before[c]} → ${after[c]} (${percent(before, c)}% → ${percent(after, c)}%)${before[c] === after[c] ? "" : " *"}`,
      );
      return `${service}: ${parts.join(", ")}`;
    })
    .join("\n");
}
