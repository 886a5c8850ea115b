import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FleetConfig, loadFleetConfig } from "../modules/config/load";
import { stacksToPlan } from "../modules/plan/changed-stacks";
import { PLANS_DIR, runPlans } from "../modules/plan/runner";
import { synthesizeAtRevision } from "../modules/plan/synth-at-revision";
import { terraformEnvironment } from "../modules/plan/terraform";
import { projectRoot } from "../modules/support/project-root";
import { synthesizeFleet } from "../modules/synth/synth";
import { runCommand } from "../modules/cli/run-command";
import { integerFlag, parseCommandLine } from "../modules/cli/args";
import { selectStacks } from "../modules/deploy/stack-graph";
import { fleetStackNames } from "../modules/constructs/naming";
import { deployedRevisionRecord } from "../modules/deploy/deployed-revision";
import { rethrowAwsError, s3Client } from "../modules/traffic/aws-clients";

const USAGE = `usage: npm run plan -- [--stack NAME]... [--changed-since REV] [--offline] [--plugin-dir DIR] [--concurrency N] [--config-dir DIR]
  --stack NAME         plan only this stack, or the stacks a glob names (repeatable; default every stack)
  --changed-since REV  plan only the stacks whose Terraform differs from the configuration synthesized at git revision REV,
                       and the stacks reading their outputs that may change; the others are reported unchanged.
                       REV 'deployed': the revision the last successful deploy recorded beside the state
                       (<keyPrefix>/deployed-revision in the state bucket, or in the local state folder);
                       every stack when none is recorded yet
  --offline            plan AWS-only stacks with no AWS account (fake credentials, stand-in cross-stack values)
  --plugin-dir DIR     install providers from this mirror only (default: TF_PLUGIN_DIR, else the registry)
  --concurrency N      stacks planned at the same time (default 2)
  --config-dir DIR     folder holding platform.yaml and clusters/ (default: the project root)`;

/** Synthesizes, then plans every stack; plans land in cdktf.out/plans/ for `npm run plan-summary`. */
async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      stack: { type: "string", multiple: true },
      "changed-since": { type: "string" },
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
  const stacks = values.stack && selectStacks(fleetStackNames(fleet.clusters.map((c) => c.config.name), Object.keys(fleet.platform.albs)), values.stack);
  const outdir = path.join(configDir, "cdktf.out");
  synthesizeFleet(fleet, outdir);
  const changedSince = values["changed-since"] === DEPLOYED ? await deployedRevision(configDir, fleet) : values["changed-since"];
  const unchanged = changedSince === undefined ? undefined : stacksUnchangedSince(configDir, outdir, changedSince);
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
      stacks,
      unchanged,
      region: fleet.platform.region,
      concurrency,
      log: (line) => console.log(line),
    });
    if (scratch) fs.cpSync(path.join(planDir, PLANS_DIR), path.join(outdir, PLANS_DIR), { recursive: true });
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
  const planned = statuses.filter((s) => s.status === "planned").length;
  const deferred = statuses.filter((s) => s.status === "deferred").length;
  console.log(`${planned} of ${statuses.length} stacks planned into ${path.join("cdktf.out", PLANS_DIR)}${deferred > 0 ? `; ${deferred} plan after the stacks they read from apply` : ""}`);
  if (statuses.some((s) => s.status === "failed")) process.exitCode = 1;
}

/** `--changed-since` value naming the revision recorded by the last successful deploy. */
const DEPLOYED = "deployed";

/** The revision the last successful deploy recorded; undefined (plan every stack) when none is recorded yet. */
async function deployedRevision(configDir: string, fleet: FleetConfig): Promise<string | undefined> {
  const record = deployedRevisionRecord(fleet.platform, configDir, s3Client);
  const revision = await record.read().catch(rethrowAwsError);
  console.log(revision ? `last deployed revision: ${revision} (${record.location})` : `planning every stack: no deployed revision recorded at ${record.location} yet`);
  return revision;
}

/** The stacks whose plan cannot differ from the one at `revision`; none when the revision cannot be compared. */
function stacksUnchangedSince(configDir: string, outdir: string, revision: string): Map<string, string> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-base-synth-"));
  try {
    const base = synthesizeAtRevision(configDir, revision, path.join(scratch, "cdktf.out"));
    if ("unavailable" in base) {
      console.log(`planning every stack: ${base.unavailable}`);
      return new Map();
    }
    const selection = stacksToPlan(outdir, base.outdir);
    for (const [stack, reason] of selection.toPlan) console.log(`${stack} may change since ${revision}: ${reason}`);
    for (const stack of selection.removed) console.log(`${stack} is gone since ${revision}: nothing plans its state (npm run retire destroys a cluster's stacks)`);
    return new Map(selection.unchanged.map((stack) => [stack, `unchanged since ${revision}`]));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

runCommand(main);
