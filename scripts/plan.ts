import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadFleetConfig } from "../modules/config/load";
import { PLANS_DIR, runPlans } from "../modules/plan/runner";
import { terraformEnvironment } from "../modules/plan/terraform";
import { projectRoot } from "../modules/project-root";
import { synthesizeFleet } from "../modules/synth";
import { runCommand } from "../modules/run-command";
import { integerFlag, parseCommandLine, UsageError } from "../modules/cli/args";
import { clusterStackName, EDGE_STACK, inClusterStackName, NETWORK_STACK } from "../modules/naming";

const USAGE = `usage: npm run plan -- [--stack NAME]... [--offline] [--plugin-dir DIR] [--concurrency N] [--config-dir DIR]
  --stack NAME       plan only this stack (repeatable; default every stack)
  --offline          plan AWS-only stacks with no AWS account (fake credentials, stand-in cross-stack values)
  --plugin-dir DIR   install providers from this mirror only (default: TF_PLUGIN_DIR, else the registry)
  --concurrency N    stacks planned at the same time (default 2)
  --config-dir DIR   folder holding platform.yaml and clusters/ (default: the project root)`;

/** Synthesizes, then plans every stack; plans land in cdktf.out/plans/ for `npm run plan-summary`. */
async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      stack: { type: "string", multiple: true },
      offline: { type: "boolean", default: false },
      "plugin-dir": { type: "string" },
      concurrency: { type: "string", default: "2" },
      "config-dir": { type: "string" },
    },
  });
  if (!commandLine) return;
  const { values } = commandLine;
  const concurrency = integerFlag(values.concurrency, "--concurrency", { min: 1 }, USAGE);
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const fleet = loadFleetConfig(configDir);
  const stackNames = [NETWORK_STACK, EDGE_STACK, ...fleet.clusters.flatMap((c) => [clusterStackName(c.config.name), inClusterStackName(c.config.name)])];
  const unknownStacks = (values.stack ?? []).filter((stack) => !stackNames.includes(stack));
  if (unknownStacks.length > 0) {
    throw new UsageError(`unknown stack${unknownStacks.length === 1 ? "" : "s"} ${unknownStacks.join(", ")}; stacks: ${stackNames.join(", ")}`, USAGE);
  }
  const outdir = path.join(configDir, "cdktf.out");
  synthesizeFleet(fleet, outdir);
  // Offline plans write stand-in state for cross-stack values: they run on a scratch copy, never beside real state.
  const scratch = values.offline ? fs.mkdtempSync(path.join(os.tmpdir(), "fleet-offline-plan-")) : undefined;
  let statuses;
  try {
    const planDir = scratch ? path.join(scratch, "cdktf.out") : outdir;
    if (scratch) synthesizeFleet(fleet, planDir);
    statuses = await runPlans({
      outdir: planDir,
      terraform: terraformEnvironment({ pluginDir: values["plugin-dir"] ?? process.env.TF_PLUGIN_DIR }),
      offline: values.offline,
      stacks: values.stack,
      region: fleet.platform.region,
      concurrency,
      log: (line) => console.log(line),
    });
    if (scratch) fs.cpSync(path.join(planDir, PLANS_DIR), path.join(outdir, PLANS_DIR), { recursive: true });
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
  const planned = statuses.filter((s) => s.status === "planned").length;
  console.log(`${planned} of ${statuses.length} stacks planned into ${path.join("cdktf.out", PLANS_DIR)}`);
  if (statuses.some((s) => s.status === "failed")) process.exitCode = 1;
}

runCommand(main);
