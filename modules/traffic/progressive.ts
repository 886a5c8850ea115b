import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { setTimeout as sleep } from "timers/promises";
import { assertSafeTransition } from "../config/lifecycle";
import { clustersRouting, ConfigSources, FleetConfig, parseFleetConfig } from "../config/load";
import { enforceGate, healthRefusals, WeightChange } from "./health-gate";
import { LiveFleet, metricTargetsOf, readLiveFleet, readRouteHealth } from "./live-fleet";
import { writeLiveWeights } from "./live-rules";
import { errorPercent, minutesSince, readTargetGroupMetrics } from "./metrics";
import { applyShiftToSources, planShift, ServiceShift, ShiftError } from "./shift";
import { verifyShiftedSources } from "./shift-files";
import { formatWeights, sameWeights } from "../config/weights";

/** Most steps a progressive shift takes (a step of 1 point from 0% to 100%). */
const MAX_STEPS = 100;
/** During an interval the metrics are checked this often (ALB metrics have one-minute datapoints). */
const CHECK_EVERY_MS = 60_000;
/** Checks after the interval while a cluster with traffic has no datapoints, before the shift stops. */
const MISSING_DATA_CHECKS = 3;

/** One step: the weights it sets and the files holding them. */
interface ShiftStep {
  readonly shifts: readonly ServiceShift[];
  readonly sources: ConfigSources;
}

export interface ProgressiveShiftOptions {
  /** Cluster that should end up carrying all traffic. */
  readonly to: string;
  /** Percentage points moved per step. */
  readonly step: number;
  /** Observation time after each step, milliseconds. */
  readonly intervalMs: number;
  /** How often the metrics are checked during an interval, milliseconds. @default 60000 */
  readonly checkEveryMs?: number;
  /**
   * Checks made after the interval, one check period apart (the interval, at
   * most `checkEveryMs`), while a cluster with traffic has no datapoints (ALB
   * metrics arrive late); then the shift stops. @default 3
   */
  readonly missingDataChecks?: number;
  /** @default every service the cluster serves */
  readonly services?: readonly string[];
  /** Go on despite the health gate's refusals, for this reason (echoed). */
  readonly forceReason?: string;
  /** Reads the configuration files as they are now. */
  readonly readSources: () => ConfigSources;
  /**
   * Writes `next` over `current` (the files as just read), with the shifts
   * `next` carries already live: the files must always hold what is live.
   */
  readonly writeSources: (current: ConfigSources, next: ConfigSources, liveShifts: readonly ServiceShift[]) => void;
  /** Called before each write to a live rule; throws to refuse it (the traffic lock lost). */
  readonly beforeWrite?: () => void;
  /** Prints one line. */
  readonly log: (line: string) => void;
  /** Aborted to stop between steps (SIGINT): the interval ends early and no further step is taken. */
  readonly stop?: AbortSignal;
}

export type ProgressiveOutcome = "done" | "stopped";

/**
 * The steps from the files' weights to all traffic on `to`, each `step`
 * points further, each checked against the lifecycle rules like a file shift.
 */
export function planSteps(sources: ConfigSources, to: string, step: number, services?: readonly string[]): ShiftStep[] {
  const steps: ShiftStep[] = [];
  let current = sources;
  let fleet = parseFleetConfig(current);
  while (steps.length < MAX_STEPS) {
    const shifts = planShift(fleet, { to, step, services });
    if (shifts.every((s) => formatWeights(s.before) === formatWeights(s.after))) break;
    const next = applyShiftToSources(current, fleet, shifts);
    const nextFleet = parseFleetConfig(next);
    assertSafeTransition(fleet, nextFleet);
    verifyShiftedSources(current, next, fleet, shifts);
    steps.push({ shifts, sources: next });
    current = next;
    fleet = nextFleet;
  }
  if (steps.length === 0) throw new ShiftError(`${to} already carries all the traffic of the services asked for; nothing to do`);
  return steps;
}

/**
 * Moves traffic to a cluster in steps on the live listener rules.
 *
 * Before each step it reads the live rules and the cluster files again: when
 * either no longer holds what the previous step left (another writer), it
 * stops without overwriting. Hand edits elsewhere in the files are kept: each
 * step edits the weights of the files as they are. The health gate (on
 * shares) judges each step's weights.
 *
 * During the interval each weighted cluster's target 5xx rate and response
 * time (CloudWatch, per target group) are compared with the service's
 * `shiftLimits`:
 * - a breach on the destination restores the starting weights (rules, then
 *   files), if the health gate lets them go back; otherwise it holds;
 * - a breach on a cluster losing traffic never sends traffic back to it: the
 *   shift goes on, moving traffic off it, unless the destination breaches too,
 *   when it holds where it is;
 * - a cluster with traffic and no datapoints fails closed: the step waits
 *   `missingDataChecks` more checks, then the shift stops where it is.
 * Every stop for cause throws; SIGINT (`stop`) before the first step changes nothing.
 */
export async function progressiveShift(
  elb: ElasticLoadBalancingV2Client,
  cloudWatch: CloudWatchClient,
  sources: ConfigSources,
  options: ProgressiveShiftOptions,
): Promise<ProgressiveOutcome> {
  const fleet = parseFleetConfig(sources);
  const steps = planSteps(sources, options.to, options.step, options.services);
  const start = steps[0].shifts;
  const services = start.map((s) => s.service);
  const holding = (shifts: readonly WeightChange[]) => shifts.map((s) => `${s.service} ${formatWeights(s.after)}`).join(", ");

  /** The rules and files as the previous step left them, or a stop naming what changed. */
  const checkUnchanged = async (expected: readonly WeightChange[], label: string): Promise<{ live: LiveFleet; files: ConfigSources }> => {
    const live = await readLiveFleet(elb, fleet, services);
    const changedLive = expected.filter((s) => !sameWeights(live.routes.get(s.service)!.weights, s.before));
    if (changedLive.length > 0) {
      throw new ShiftError(
        `${label}: stopping, the live rules changed since this shift set them (${changedLive.map((s) => `${s.service} now ${formatWeights(live.routes.get(s.service)!.weights)}, expected ${formatWeights(s.before)}`).join("; ")}): ` +
          "another writer is at work; nothing was overwritten",
      );
    }
    const files = options.readSources();
    const filesFleet = parseFleetConfig(files);
    const changedFiles = expected.filter(({ service, before }) => !sameWeights(serviceWeights(filesFleet, service), before));
    if (changedFiles.length > 0) {
      throw new ShiftError(
        `${label}: stopping, the weights in the cluster files changed since this shift wrote them (${changedFiles.map((s) => `${s.service} files ${formatWeights(serviceWeights(filesFleet, s.service))}, expected ${formatWeights(s.before)}`).join("; ")}): ` +
          "nothing was overwritten",
      );
    }
    return { live, files };
  };

  /** Puts the starting weights back from `current` (rules, then files), if the health gate lets them; throws saying what it did. */
  const restore = async (current: readonly ServiceShift[], why: string): Promise<never> => {
    const back: ServiceShift[] = current.map((s, i) => ({ service: s.service, before: s.after, after: start[i].before }));
    const { live, files } = await checkUnchanged(current.map((s) => ({ ...s, before: s.after })), why);
    const refusals = healthRefusals(fleet, back, await readRouteHealth(elb, live));
    if (refusals.length > 0) {
      throw new ShiftError(`${why}; NOT restoring the starting weights, the health gate refuses them (${refusals.join("; ")}): holding at ${holding(current)} on the rules and in the files`);
    }
    await writeLiveWeights(elb, live, back, options.beforeWrite);
    options.writeSources(files, applyShiftToSources(files, parseFleetConfig(files), back), back);
    throw new ShiftError(`${why}; restored the starting weights (${start.map((s) => `${s.service} ${formatWeights(s.before)}`).join(", ")}) on the rules and in the files`);
  };

  let previous: readonly WeightChange[] = start.map((s) => ({ ...s, after: s.before }));
  for (const [index, step] of steps.entries()) {
    const label = `step ${index + 1}/${steps.length}`;
    const stopped = () => {
      options.log(index === 0 ? "stopped before the first step: nothing was changed" : `stopped after step ${index}/${steps.length}: rules and files hold ${holding(previous)}`);
      return "stopped" as const;
    };
    if (options.stop?.aborted) return stopped();
    const { live, files } = await checkUnchanged(step.shifts, label);
    const health = await readRouteHealth(elb, live);
    const refusals = healthRefusals(fleet, step.shifts, health);
    if (refusals.length > 0 && index > 0 && options.forceReason === undefined) {
      await restore(steps[index - 1].shifts, `${label} refused by the health gate: ${refusals.join("; ")}`);
    }
    for (const line of enforceGate(refusals, options.forceReason)) options.log(line);

    const filesFleet = parseFleetConfig(files);
    const next = applyShiftToSources(files, filesFleet, step.shifts);
    assertSafeTransition(filesFleet, parseFleetConfig(next));
    verifyShiftedSources(files, next, filesFleet, step.shifts);
    // Stopped while the step was being read and judged: it is not taken.
    if (options.stop?.aborted) return stopped();
    await writeLiveWeights(elb, live, step.shifts, options.beforeWrite);
    options.writeSources(files, next, step.shifts);
    previous = step.shifts;

    const observation = await watch(cloudWatch, fleet, live, step.shifts, health, options);
    options.log(`${label}: ${observation.line}`);
    if (observation.missing.length > 0) {
      throw new ShiftError(
        `${label}: stopping, no metric datapoints for ${observation.missing.join(", ")} (CloudWatch sent none, even after waiting): the step cannot be judged, so the shift does not go on; ` +
          `rules and files hold ${holding(step.shifts)}: check the metrics and npm run status, then shift again or back`,
      );
    }
    if (observation.destinationBreaches.length > 0 && observation.sourceBreaches.length > 0) {
      throw new ShiftError(
        `${label} breached the shift limits on the destination (${observation.destinationBreaches.join("; ")}) and on the clusters it drains (${observation.sourceBreaches.join("; ")}): ` +
          `holding at ${holding(step.shifts)} on the rules and in the files, neither direction is safe: decide by hand`,
      );
    }
    if (observation.destinationBreaches.length > 0) await restore(step.shifts, `${label} breached the shift limits: ${observation.destinationBreaches.join("; ")}`);
    if (observation.sourceBreaches.length > 0) {
      options.log(`${label}: the clusters losing traffic breach the shift limits (${observation.sourceBreaches.join("; ")}): going on, each step moves traffic off them`);
    }
  }
  return "done";
}

/** The weights of a service's clusters in the files, by cluster name. */
function serviceWeights(fleet: FleetConfig, service: string): Record<string, number> {
  return Object.fromEntries(clustersRouting(fleet.clusters, service).map((c) => [c.config.name, c.config.weights[service]]));
}

/** What a step did over its interval: its line, the limits breached (destination, and clusters losing traffic), clusters with traffic and no data. */
interface Observation {
  readonly line: string;
  readonly destinationBreaches: readonly string[];
  readonly sourceBreaches: readonly string[];
  readonly missing: readonly string[];
}

/**
 * Watches a step: checks every `checkEveryMs` until the interval ends (or the
 * destination breaches, or `stop`), then while a cluster with traffic has no
 * datapoints, up to `missingDataChecks` more checks.
 */
async function watch(
  cloudWatch: CloudWatchClient,
  fleet: FleetConfig,
  live: LiveFleet,
  shifts: readonly ServiceShift[],
  health: Awaited<ReturnType<typeof readRouteHealth>>,
  options: ProgressiveShiftOptions,
): Promise<Observation> {
  const stepStart = new Date();
  const checkEvery = Math.min(options.checkEveryMs ?? CHECK_EVERY_MS, options.intervalMs);
  const pause = (ms: number) => sleep(ms, undefined, { signal: options.stop }).catch(() => undefined);
  let observation: Observation;
  do {
    await pause(Math.min(options.intervalMs - (Date.now() - stepStart.getTime()), checkEvery));
    observation = await observe(cloudWatch, fleet, live, shifts, stepStart, health, options.to);
  } while (observation.destinationBreaches.length === 0 && Date.now() - stepStart.getTime() < options.intervalMs && !options.stop?.aborted);
  for (let check = 0; check < (options.missingDataChecks ?? MISSING_DATA_CHECKS) && observation.missing.length > 0 && !options.stop?.aborted; check++) {
    options.log(`no datapoints yet for ${observation.missing.join(", ")}: holding, checking again (${check + 1}/${options.missingDataChecks ?? MISSING_DATA_CHECKS})`);
    await pause(checkEvery);
    observation = await observe(cloudWatch, fleet, live, shifts, stepStart, health, options.to);
  }
  return observation;
}

/** Reads the metrics of the step's target groups since it began and compares them with the services' shift limits. */
async function observe(
  cloudWatch: CloudWatchClient,
  fleet: FleetConfig,
  live: LiveFleet,
  shifts: readonly ServiceShift[],
  since: Date,
  health: Awaited<ReturnType<typeof readRouteHealth>>,
  destination: string,
): Promise<Observation> {
  const now = new Date();
  const targets = metricTargetsOf(shifts.map((s) => live.routes.get(s.service)!));
  const metrics = await readTargetGroupMetrics(cloudWatch, targets, now, minutesSince(since, now));
  const destinationBreaches: string[] = [];
  const sourceBreaches: string[] = [];
  const missing: string[] = [];
  const parts = shifts.map(({ service, after }) => {
    const limits = fleet.platform.services.find((s) => s.name === service)!.shiftLimits;
    const clusters = Object.keys(after).sort();
    const measured = clusters.map((cluster) => {
      const m = metrics.get(live.routes.get(service)!.targetGroups.get(cluster)!);
      const errors = errorPercent(m);
      const latencyMs = m?.responseTimeSeconds === undefined ? undefined : Math.round(m.responseTimeSeconds * 1000);
      const breaches = cluster === destination ? destinationBreaches : sourceBreaches;
      if (after[cluster] > 0 && !(m && m.requests > 0)) missing.push(`${service}/${cluster}`);
      if (after[cluster] > 0 && errors > limits.max5xxPercent) breaches.push(`${service}/${cluster} target 5xx ${errors.toFixed(1)}% > ${limits.max5xxPercent}%`);
      if (after[cluster] > 0 && latencyMs !== undefined && latencyMs > limits.maxResponseTimeMs) {
        breaches.push(`${service}/${cluster} response time ${latencyMs} ms > ${limits.maxResponseTimeMs} ms`);
      }
      return {
        cluster,
        healthy: health.get(service)?.get(cluster)?.healthy ?? 0,
        errors: m && m.requests > 0 ? `${errors.toFixed(1)}%` : "no data",
        latency: latencyMs === undefined ? "no data" : `${latencyMs} ms`,
      };
    });
    const list = (f: (x: (typeof measured)[number]) => string) => measured.map((x) => `${x.cluster} ${f(x)}`).join(", ");
    return `${service} ${formatWeights(after)} · healthy ${list((x) => String(x.healthy))} · 5xx ${list((x) => x.errors)} · latency ${list((x) => x.latency)}`;
  });
  return { line: parts.join(" | "), destinationBreaches, sourceBreaches, missing };
}
