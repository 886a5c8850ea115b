import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { assertSafeTransition } from "../modules/config/lifecycle";
import { ConfigSources, parseFleetConfig, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { applyShiftToSources, formatShifts, planShift, ShiftRequest } from "../modules/traffic/shift";
import { UserError } from "../modules/user-error";
import { cloudWatchClient, elbClient, rethrowAwsError } from "../modules/traffic/aws-clients";
import type { ProgressiveShiftOptions } from "../modules/traffic/progressive";
import { runCommand } from "../modules/run-command";

const USAGE = `usage: npm run shift -- [blue=0 green=100 | --to green [--step 25]] [--service web]... [--now [--interval 2m] [--force REASON]] [--dry-run] [--config-dir DIR]
  blue=0 green=100   set these clusters' weights
  --to green         move all traffic to green (with --step N: N percentage points of it)
  --service web      only this service (repeatable; default every service the clusters serve)
  --now              also apply the weights to the live listener rules at once (AWS credentials needed),
                     refused when a cluster gaining weight has fewer healthy targets than minHealthyTargets
  --interval 2m      with --now --to --step: step by step until --to carries all traffic, watching each
                     cluster's 5xx rate and response time for this long after each step (s or m)
  --force REASON     apply despite the health gate, for this reason (echoed)
  --dry-run          print the change, write nothing`;

/** "2m", "90s", "1s" → milliseconds, between 1 second and 1 hour. */
function parseInterval(text: string): number {
  const match = /^(\d+)(s|m)$/.exec(text);
  const ms = match ? Number(match[1]) * (match[2] === "m" ? 60_000 : 1000) : NaN;
  if (!(ms >= 1000 && ms <= 3_600_000)) throw new UserError(`--interval ${text} must be a duration such as 2m or 90s, between 1s and 60m\n${USAGE}`);
  return ms;
}

/** Parses "blue=0" arguments. */
function parseWeights(args: string[]): Record<string, number> {
  return Object.fromEntries(
    args.map((arg) => {
      const match = /^([a-z][a-z0-9-]*)=(-?\d+)$/.exec(arg);
      if (!match) throw new UserError(`"${arg}" is not cluster=weight\n${USAGE}`);
      return [match[1], Number(match[2])];
    }),
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
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
    allowPositionals: true,
  });
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const request: ShiftRequest = {
    weights: parseWeights(positionals),
    to: values.to,
    step: values.step === undefined ? undefined : Number(values.step),
    services: values.service,
  };

  const sources = readConfigSources(configDir);
  const fleet = parseFleetConfig(sources);
  if (values.force !== undefined && !values.now) throw new UserError(`--force applies to --now only\n${USAGE}`);
  if (values.interval !== undefined) {
    if (!values.now || request.to === undefined || request.step === undefined) throw new UserError(`--interval needs --now, --to and --step\n${USAGE}`);
    const intervalMs = parseInterval(values.interval);
    if (values["dry-run"]) {
      const { planSteps } = await import("../modules/traffic/progressive");
      for (const [i, step] of planSteps(sources, request.to, request.step, request.services).entries()) console.log(`step ${i + 1}: ${formatShifts(step.shifts)}`);
      return;
    }
    await shiftProgressively(configDir, sources, { to: request.to, step: request.step, intervalMs, services: request.services, forceReason: values.force });
    return;
  }
  const shifts = planShift(fleet, request);
  const shifted = applyShiftToSources(sources, fleet, shifts);
  // The same validation as synth, plus the lifecycle rules against the files as they are now.
  assertSafeTransition(fleet, parseFleetConfig(shifted));
  console.log(formatShifts(shifts));
  if (values["dry-run"]) return;

  if (values.now) {
    const { applyShiftLive } = await import("../modules/traffic/live-rules");
    for (const line of await applyShiftLive(await elbClient(fleet), fleet, shifts, { forceReason: values.force })) console.log(`live: ${line}`);
  }
  const changed = writeClusterFiles(configDir, sources, shifted);
  console.log(`edited ${changed.map((c) => c.file).join(", ") || "nothing"}; commit and deploy edge so Terraform agrees${values.now ? " (its plan should show no change)" : ""}`);
}

/** Writes the cluster files whose text differs from `original`; returns them. */
function writeClusterFiles(configDir: string, original: ConfigSources, next: ConfigSources): ConfigSources["clusters"] {
  const changed = next.clusters.filter((c, i) => c.text !== original.clusters[i].text);
  for (const cluster of changed) fs.writeFileSync(path.join(configDir, cluster.file), cluster.text);
  return changed;
}

/** The progressive shift, stopping between steps on SIGINT; exit code 130 when stopped. */
async function shiftProgressively(configDir: string, sources: ConfigSources, options: Omit<ProgressiveShiftOptions, "writeSources" | "log" | "stop">): Promise<void> {
  const { progressiveShift } = await import("../modules/traffic/progressive");
  const fleet = parseFleetConfig(sources);
  const stop = new AbortController();
  const onInterrupt = () => {
    console.log("interrupted: stopping after the current step");
    stop.abort();
  };
  process.on("SIGINT", onInterrupt);
  try {
    const outcome = await progressiveShift(await elbClient(fleet), await cloudWatchClient(fleet), sources, {
      ...options,
      stop: stop.signal,
      log: (line) => console.log(line),
      // Each step's files replace the previous step's: compare with what is on disk.
      writeSources: (next) => writeClusterFiles(configDir, readConfigSources(configDir), next),
    });
    console.log(`${outcome === "done" ? "done" : "stopped"}: the cluster files hold the live weights; commit them and deploy edge so Terraform agrees (its plan should show no weight change)`);
    if (outcome === "stopped") process.exitCode = 130;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

runCommand(() => main().catch(rethrowAwsError));
