import * as path from "path";
import { assertSafeTransition } from "../modules/config/lifecycle";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { asLiveShiftError } from "../modules/traffic/aws-errors";
import { applyShiftToSources, clustersLeftOut, formatShifts, planShift, ShiftRequest } from "../modules/traffic/shift";
import { verifyShiftedSources, writeShiftedSources } from "../modules/traffic/shift-files";
import { runCommand } from "../modules/run-command";
import { integerFlag, parseCommandLine, UsageError } from "../modules/cli/args";
import { MAX_WEIGHT } from "../modules/config/schema";

const USAGE = `usage: npm run shift -- [blue=0 green=100 | --to green [--step 25]] [--service web]... [--now] [--dry-run] [--config-dir DIR]
  blue=0 green=100   set these clusters' weights
  --to green         move all traffic to green (with --step N: N percentage points of it)
  --service web      only this service (repeatable; default every service the clusters serve)
  --now              also apply the weights to the live listener rules at once (AWS credentials needed)
  --dry-run          print the change, write nothing
  --config-dir DIR   folder holding platform.yaml and clusters/ (default: the project root)`;

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
  if (request.step !== undefined && request.to === undefined) throw new UsageError("--step needs --to <cluster>", USAGE);
  if (request.to !== undefined && positionals.length > 0) throw new UsageError("give either weights (blue=0 green=100) or --to, not both", USAGE);
  if (request.to === undefined && positionals.length === 0) throw new UsageError("name the clusters to shift: blue=0 green=100, or --to green", USAGE);

  const sources = readConfigSources(configDir);
  const fleet = parseFleetConfig(sources);
  const shifts = planShift(fleet, request);
  const shifted = applyShiftToSources(sources, fleet, shifts);
  // The same validation as synth, plus the lifecycle rules against the files as they are now.
  assertSafeTransition(fleet, parseFleetConfig(shifted));
  verifyShiftedSources(sources, shifted, fleet, shifts);
  console.log(formatShifts(shifts));
  for (const note of clustersLeftOut(fleet, request, shifts)) console.log(`note: ${note}`);
  if (values["dry-run"]) return;

  if (values.now) {
    const { ElasticLoadBalancingV2Client } = await import("@aws-sdk/client-elastic-load-balancing-v2");
    const { applyShiftLive } = await import("../modules/traffic/live-rules");
    const client = new ElasticLoadBalancingV2Client({ region: fleet.platform.region });
    let lines: string[];
    try {
      lines = await applyShiftLive(client, fleet, shifts);
    } catch (error) {
      throw asLiveShiftError(error);
    }
    for (const line of lines) console.log(`live: ${line}`);
  }
  const edited = writeShiftedSources(configDir, sources, shifted, values.now ? shifts : undefined);
  console.log(`edited ${edited.join(", ") || "nothing"}; commit and deploy edge so Terraform agrees${values.now ? " (its plan should show no change)" : ""}`);
}

runCommand(main);
