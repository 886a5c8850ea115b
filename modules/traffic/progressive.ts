import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { setTimeout as sleep } from "timers/promises";
import { assertSafeTransition } from "../config/lifecycle";
import { ConfigSources, FleetConfig, parseFleetConfig } from "../config/load";
import { enforceGate, healthRefusals, WeightChange } from "./health-gate";
import { LiveFleet, readLiveFleet, readRouteHealth } from "./live-fleet";
import { assertLiveMatches, writeLiveWeights } from "./live-rules";
import { errorPercent, readTargetGroupMetrics } from "./metrics";
import { applyShiftToSources, planShift, ServiceShift, ShiftError } from "./shift";
import { verifyShiftedSources } from "./shift-files";
import { formatWeights } from "../config/weights";

/** Most steps a progressive shift takes (a step of 1 point from 0% to 100%). */
const MAX_STEPS = 100;
/** During an interval the metrics are checked this often (ALB metrics have one-minute datapoints). */
const CHECK_EVERY_MS = 60_000;

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
  /** @default every service the cluster serves */
  readonly services?: readonly string[];
  /** Go on despite the health gate's refusals, for this reason (echoed). */
  readonly forceReason?: string;
  /** Writes the cluster files of a configuration (the files must always hold what is live). */
  readonly writeSources: (sources: ConfigSources) => void;
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
 * Moves traffic to a cluster in steps on the live listener rules. Before each
 * step the health gate judges the step's weights; after it, during the
 * interval, each weighted cluster's target 5xx rate and response time
 * (CloudWatch, per target group) are compared with the service's
 * `shiftLimits`. A refusal or a breach after the first step restores the
 * starting weights (rules and files) and throws. The files hold the live
 * weights after every step; when `stop` is aborted, it stops after the
 * current step.
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
  const live = await readLiveFleet(elb, fleet, start.map((s) => s.service));
  assertLiveMatches(live, start);
  const restore = async (from: readonly ServiceShift[], why: string): Promise<never> => {
    const back: WeightChange[] = from.map((s, i) => ({ service: s.service, before: s.after, after: start[i].before }));
    await writeLiveWeights(elb, live, back);
    options.writeSources(sources);
    throw new ShiftError(`${why}; restored the starting weights (${start.map((s) => `${s.service} ${formatWeights(s.before)}`).join(", ")}) on the rules and in the files`);
  };

  for (const [index, step] of steps.entries()) {
    const label = `step ${index + 1}/${steps.length}`;
    if (index > 0 && options.stop?.aborted) {
      const held = steps[index - 1].shifts.map((s) => `${s.service} ${formatWeights(s.after)}`).join(", ");
      options.log(`stopped after step ${index}/${steps.length}: rules and files hold ${held}`);
      return "stopped";
    }
    const health = await readRouteHealth(elb, live);
    const refusals = healthRefusals(fleet, step.shifts, health);
    if (refusals.length > 0 && index > 0 && options.forceReason === undefined) {
      await restore(steps[index - 1].shifts, `${label} refused by the health gate: ${refusals.join("; ")}`);
    }
    for (const line of enforceGate(refusals, options.forceReason)) options.log(line);

    await writeLiveWeights(elb, live, step.shifts);
    options.writeSources(step.sources);
    const stepStart = Date.now();
    // Checked every minute during the interval and at its end; the step's line is printed once.
    let observation: Observation;
    do {
      const left = options.intervalMs - (Date.now() - stepStart);
      await sleep(Math.min(left, options.checkEveryMs ?? CHECK_EVERY_MS), undefined, { signal: options.stop }).catch(() => undefined);
      observation = await observe(cloudWatch, fleet, live, step.shifts, new Date(stepStart), health);
    } while (observation.breaches.length === 0 && Date.now() - stepStart < options.intervalMs && !options.stop?.aborted);
    options.log(`${label}: ${observation.line}`);
    if (observation.breaches.length > 0) await restore(step.shifts, `${label} breached the shift limits: ${observation.breaches.join("; ")}`);
  }
  return "done";
}

/** What a step did so far: its line (weights, healthy targets, error rate, latency) and the limits breached. */
interface Observation {
  readonly line: string;
  readonly breaches: readonly string[];
}

/** Reads the metrics of the step's target groups since it began and compares them with the services' shift limits. */
async function observe(
  cloudWatch: CloudWatchClient,
  fleet: FleetConfig,
  live: LiveFleet,
  shifts: readonly ServiceShift[],
  since: Date,
  health: Awaited<ReturnType<typeof readRouteHealth>>,
): Promise<Observation> {
  const arns = shifts.flatMap((s) => [...live.routes.get(s.service)!.targetGroups.values()]);
  const metrics = await readTargetGroupMetrics(cloudWatch, live.loadBalancerArn, arns, since, new Date());
  const breaches: string[] = [];
  const parts = shifts.map(({ service, after }) => {
    const limits = fleet.platform.services.find((s) => s.name === service)!.shiftLimits;
    const clusters = Object.keys(after).sort();
    const measured = clusters.map((cluster) => {
      const m = metrics.get(live.routes.get(service)!.targetGroups.get(cluster)!);
      const errors = errorPercent(m);
      const latencyMs = m?.responseTimeSeconds === undefined ? undefined : Math.round(m.responseTimeSeconds * 1000);
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
  return { line: parts.join(" | "), breaches };
}
