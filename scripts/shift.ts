import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { assertSafeTransition } from "../modules/config/lifecycle";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { applyShiftToSources, formatShifts, planShift, ShiftRequest } from "../modules/traffic/shift";
import { UserError } from "../modules/user-error";
import { runCommand } from "../modules/run-command";

const USAGE = `usage: npm run shift -- [blue=0 green=100 | --to green [--step 25]] [--service web]... [--now] [--dry-run] [--config-dir DIR]
  blue=0 green=100   set these clusters' weights
  --to green         move all traffic to green (with --step N: N percentage points of it)
  --service web      only this service (repeatable; default every service the clusters serve)
  --now              also apply the weights to the live listener rules at once (AWS credentials needed)
  --dry-run          print the change, write nothing`;

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
  const shifts = planShift(fleet, request);
  const shifted = applyShiftToSources(sources, fleet, shifts);
  // The same validation as synth, plus the lifecycle rules against the files as they are now.
  assertSafeTransition(fleet, parseFleetConfig(shifted));
  console.log(formatShifts(shifts));
  if (values["dry-run"]) return;

  if (values.now) {
    const { ElasticLoadBalancingV2Client } = await import("@aws-sdk/client-elastic-load-balancing-v2");
    const { applyShiftLive } = await import("../modules/traffic/live-rules");
    const client = new ElasticLoadBalancingV2Client({ region: fleet.platform.region });
    for (const line of await applyShiftLive(client, fleet, shifts)) console.log(`live: ${line}`);
  }
  const changed = shifted.clusters.filter((c, i) => c.text !== sources.clusters[i].text);
  for (const cluster of changed) fs.writeFileSync(path.join(configDir, cluster.file), cluster.text);
  console.log(`edited ${changed.map((c) => c.file).join(", ") || "nothing"}; commit and deploy edge so Terraform agrees${values.now ? " (its plan should show no change)" : ""}`);
}

runCommand(main);
