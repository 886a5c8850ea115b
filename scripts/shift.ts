import * as path from "path";
import { assertSafeTransition } from "../modules/config/lifecycle";
import { ConfigSources, parseFleetConfig, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { applyShiftToSources, clustersLeftOut, edgeStacksOf, formatShifts, planShift, ShiftRequest, shiftRequestProblem } from "../modules/traffic/shift";
import { assertSourcesUnchanged, verifyShiftedSources, writeShiftedSources } from "../modules/traffic/shift-files";
import { cloudWatchClient, elbClient, rethrowAwsError } from "../modules/traffic/aws-clients";
import { withTruthOnFailure } from "../modules/traffic/live-truth";
import { COMMAND_LEASE_SECONDS, withTrafficLock } from "./lib/traffic-lock-hold";
import type { ProgressiveShiftOptions } from "../modules/traffic/progressive";
import { runCommand } from "../modules/cli/run-command";
import { integerFlag, parseCommandLine, UsageError } from "../modules/cli/args";
import { MAX_WEIGHT } from "../modules/config/schema";

const USAGE = `usage: npm run shift -- [blue=0 green=100 | --to green [--step 25]] [--service web]... [--now [--interval 2m] [--force REASON]] [--dry-run] [--config-dir DIR]
  blue=0 green=100   set these clusters' weights
  --to green         move all traffic to green (with --step N: N percentage points of it)
  --service web      only this service (repeatable; default every service the clusters serve)
  --now              also apply the weights to the live listener rules at once (AWS credentials needed),
                     refused when a cluster gaining weight has fewer healthy targets than minHealthyTargets
  --interval 2m      with --now --to --step: step by step until --to carries all traffic, watching each
                     cluster's 5xx rate and response time for this long after each step (s or m)
  --force REASON     apply despite the health gate, for this reason (echoed)
  --dry-run          print the change, write nothing
  --config-dir DIR   folder holding platform.yaml and clusters/ (default: the project root)`;

/** Shortest --interval that real CloudWatch ALB metrics can judge (one-minute datapoints, arriving late). */
const MIN_INTERVAL_AGAINST_AWS_MS = 120_000;

/** "2m", "90s", "1s" → milliseconds, between 1 second and 1 hour. */
function parseInterval(text: string): number {
  const match = /^(\d+)(s|m)$/.exec(text);
  const ms = match ? Number(match[1]) * (match[2] === "m" ? 60_000 : 1000) : NaN;
  if (!(ms >= 1000 && ms <= 3_600_000)) throw new UsageError(`--interval ${text} must be a duration such as 2m or 90s, between 1s and 60m`, USAGE);
  return ms;
}

/** Parses "blue=0" arguments; a cluster named twice is refused. */
function parseWeights(args: string[]): Record<string, number> {
  const weights: Record<string, number> = Object.create(null);
  for (const arg of args) {
    const match = /^([a-z][a-z0-9-]*)=(.*)$/.exec(arg);
    if (!match) throw new UsageError(`"${arg}" is not cluster=weight`, USAGE);
    const [, cluster, value] = match;
    if (cluster in weights) throw new UsageError(`${cluster} is given a weight twice (${cluster}=${weights[cluster]} and ${arg})`, USAGE);
    if (!/^\d+$/.test(value) || Number(value) > MAX_WEIGHT) throw new UsageError(`weight ${arg}: must be a whole number from 0 to ${MAX_WEIGHT}`, USAGE);
    weights[cluster] = Number(value);
  }
  return weights;
}

/** The --service flags; a service named twice is refused. */
function parseServices(services: string[] | undefined): string[] | undefined {
  const twice = services?.find((service, i) => services.indexOf(service) !== i);
  if (twice) throw new UsageError(`--service ${twice} is given twice`, USAGE);
  return services;
}

async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      to: { type: "string" },
      step: { type: "string" },
      service: { type: "string", multiple: true },
      now: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      "config-dir": { type: "string" },
      interval: { type: "string" },
      force: { type: "string" },
    },
    positionals: { max: Infinity },
  });
  if (!commandLine) return;
  const { values, positionals } = commandLine;
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const request: ShiftRequest = {
    weights: parseWeights(positionals),
    to: values.to,
    step: integerFlag(values.step, "--step", { min: 1, max: 100 }, USAGE),
    services: parseServices(values.service),
  };
  const problem = shiftRequestProblem(request);
  if (problem) throw new UsageError(problem, USAGE);
  if (values.force !== undefined && !values.now) throw new UsageError("--force applies to --now only", USAGE);
  if (values.interval !== undefined && (!values.now || request.to === undefined || request.step === undefined)) {
    throw new UsageError("--interval needs --now, --to and --step", USAGE);
  }
  const intervalMs = values.interval === undefined ? undefined : parseInterval(values.interval);

  const sources = readConfigSources(configDir);
  const fleet = parseFleetConfig(sources);
  if (intervalMs !== undefined) {
    if (intervalMs < MIN_INTERVAL_AGAINST_AWS_MS && !process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_CLOUDWATCH) {
      console.warn(
        `WARNING: --interval ${values.interval} is under 2 minutes against AWS: ALB metrics are one-minute datapoints that arrive a minute or two late, ` +
          "so a step would be judged on too little data (and held for missing datapoints); use --interval 2m or more",
      );
    }
    if (values["dry-run"]) {
      const { planSteps } = await import("../modules/traffic/progressive");
      for (const [i, step] of planSteps(sources, request.to!, request.step!, request.services).entries()) console.log(`step ${i + 1}: ${formatShifts(step.shifts)}`);
      return;
    }
    await shiftProgressively(configDir, sources, { to: request.to!, step: request.step!, intervalMs, services: request.services, forceReason: values.force });
    return;
  }
  const shifts = planShift(fleet, request);
  const shifted = applyShiftToSources(sources, fleet, shifts);
  // The same validation as synth, plus the lifecycle rules against the files as they are now.
  assertSafeTransition(fleet, parseFleetConfig(shifted));
  verifyShiftedSources(sources, shifted, fleet, shifts);
  const notes = clustersLeftOut(fleet, request, shifts).map((note) => `note: ${note}`);
  if (!values.now || values["dry-run"]) {
    console.log([formatShifts(shifts), ...notes].join("\n"));
    if (values["dry-run"]) return;
    const edited = writeShiftedSources(configDir, sources, shifted);
    console.log(`edited ${edited.join(", ") || "nothing"}; commit and deploy ${edgeStacksOf(fleet.platform.services, shifts.map((s) => s.service)).join(", ")} so Terraform agrees`);
    return;
  }
  const { applyShiftLive } = await import("../modules/traffic/live-rules");
  const elb = await elbClient(fleet);
  await withTruthOnFailure(elb, fleet, shifts, () => parseFleetConfig(readConfigSources(configDir)), () =>
    withTrafficLock(fleet, configDir, "shift", COMMAND_LEASE_SECONDS, async (assertHeld) => {
      const beforeWrite = () => {
        assertHeld();
        assertSourcesUnchanged(configDir, sources);
      };
      const live = await applyShiftLive(elb, fleet, shifts, { forceReason: values.force, beforeWrite });
      // The plan is printed once it went through the gates: a refusal prints only the refusal.
      console.log([formatShifts(shifts), ...notes, ...live.map((line) => `live: ${line}`)].join("\n"));
      const edited = writeShiftedSources(configDir, sources, shifted, shifts);
      const stacks = edgeStacksOf(fleet.platform.services, shifts.map((s) => s.service)).join(", ");
      console.log(`edited ${edited.join(", ") || "nothing"}; commit and deploy ${stacks} so Terraform agrees (its plan changes only the rules' deployed-weights tag)`);
    }),
  );
}

/**
 * The progressive shift under the traffic lock, stopping between steps on
 * SIGINT (exit code 130); a failure states what is live and what the files hold.
 */
async function shiftProgressively(
  configDir: string,
  sources: ConfigSources,
  options: Omit<ProgressiveShiftOptions, "readSources" | "writeSources" | "beforeWrite" | "log" | "stop">,
): Promise<void> {
  const stop = new AbortController();
  const onInterrupt = () => {
    console.log("interrupted: stopping after the current step");
    stop.abort();
  };
  // Listening before anything is read: Ctrl-C before the first step changes nothing.
  process.on("SIGINT", onInterrupt);
  try {
    const { progressiveShift, planSteps } = await import("../modules/traffic/progressive");
    const fleet = parseFleetConfig(sources);
    const elb = await elbClient(fleet);
    const services = planSteps(sources, options.to, options.step, options.services)[0].shifts;
    const outcome = await withTruthOnFailure(elb, fleet, services, () => parseFleetConfig(readConfigSources(configDir)), () =>
      withTrafficLock(fleet, configDir, "shift", COMMAND_LEASE_SECONDS, async (assertHeld) =>
        progressiveShift(elb, await cloudWatchClient(fleet), sources, {
          ...options,
          stop: stop.signal,
          log: (line) => console.log(line),
          readSources: () => readConfigSources(configDir),
          writeSources: (current, next, liveShifts) => writeShiftedSources(configDir, current, next, liveShifts),
          beforeWrite: assertHeld,
        }),
      ),
    );
    const stacks = edgeStacksOf(fleet.platform.services, services.map((s) => s.service)).join(", ");
    console.log(
      `${outcome === "done" ? "done" : "stopped"}: the cluster files hold the live weights; commit them and deploy ${stacks} so Terraform agrees (its plan changes only the rules' deployed-weights tag)`,
    );
    if (outcome === "stopped") process.exitCode = 130;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

runCommand(() => main().catch(rethrowAwsError));
