import * as fs from "fs";
import * as path from "path";
import { parseCommandLine } from "../modules/cli/args";
import { describeFileError } from "../modules/support/file-errors";
import { changedStackNames, loadStackPlans } from "../modules/plan/plan-json";
import { plansOlderThanConfig } from "../modules/plan/staleness";
import { projectRoot } from "../modules/support/project-root";
import { runCommand } from "../modules/cli/run-command";
import { UserError } from "../modules/support/user-error";
import { DANGER_TRAILER, dangerAcknowledgements } from "../modules/plan/acknowledgement";
import { EXIT_DANGER, EXIT_NOT_PLANNED, EXIT_OK, PlanSummary, summarizePlans } from "../modules/plan/summary";
import { loadFleetConfig } from "../modules/config/load";
import { deployedRevisionRecord } from "../modules/deploy/deployed-revision";
import { rethrowAwsError, s3Client } from "../modules/traffic/aws-clients";

const USAGE = `usage: npm run plan-summary -- [--out FILE] [--allow-dangerous] [--list-changed] [--deploy-gate SINCE] [--outdir DIR] [--config-dir DIR]
  --out FILE         write the Markdown summary to FILE (default: print it)
  --allow-dangerous  exit 0 even with dangerous changes (or PLAN_ALLOW_DANGEROUS=true)
  --list-changed     print the names of the stacks with changes, one a line
  --deploy-gate SINCE  for deploying merged changes: exit 2 on critical dangers unless a commit after SINCE
                     (a git revision, or 'deployed': the revision the last successful deploy recorded) up to HEAD
                     carries the trailer '${DANGER_TRAILER}: <reason>'; other dangers pass
  --outdir DIR       the synthesized output holding plans/ (default: cdktf.out of the config folder)
  --config-dir DIR   folder holding platform.yaml and clusters/ (default: the project root)
  exit 0: nothing dangerous; 1: bad command line or no plans; 2: dangerous changes (deletes, replacements,
  weight onto a cluster being upgraded) unless --allow-dangerous; 3: some stacks could not be planned`;

/** Turns the plans of `npm run plan` into one Markdown summary for a pull request. */
async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      out: { type: "string" },
      "allow-dangerous": { type: "boolean", default: process.env.PLAN_ALLOW_DANGEROUS === "true" },
      "list-changed": { type: "boolean", default: false },
      "deploy-gate": { type: "string" },
      outdir: { type: "string" },
      "config-dir": { type: "string" },
    },
  });
  if (!commandLine) return;
  const { values } = commandLine;
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const outdir = path.resolve(values.outdir ?? path.join(configDir, "cdktf.out"));
  const stacks = loadStackPlans(outdir);
  const stale = plansOlderThanConfig(outdir, configDir);
  if (stale.length > 0) {
    console.error(`WARNING: the plans are older than ${stale.join(", ")}: run npm run plan again before trusting this summary`);
  }
  if (values["list-changed"]) {
    console.log(changedStackNames(stacks).join("\n"));
    return;
  }
  const summary = summarizePlans(stacks, { allowDangerous: values["allow-dangerous"] });
  const warning = stale.length > 0 ? `> **Warning:** these plans are older than ${stale.join(", ")}; they may not show the current change.\n\n` : "";
  if (values.out) {
    try {
      fs.writeFileSync(values.out, warning + summary.markdown);
    } catch (error) {
      throw new UserError(`cannot write the summary to ${values.out}: ${describeFileError(error)}`);
    }
  } else console.log(warning + summary.markdown);
  const gate = values["deploy-gate"];
  process.exitCode = gate === undefined ? summary.exitCode : await deployGate(configDir, gate, summary);
}

/**
 * The deploy's verdict on a summary: its critical dangers refused unless a
 * merged commit since `since` acknowledged them; stacks not planned refused as ever.
 */
async function deployGate(configDir: string, since: string, summary: PlanSummary): Promise<number> {
  let base: string | undefined = since;
  if (since === "deployed") {
    const fleet = loadFleetConfig(configDir);
    base = await deployedRevisionRecord(fleet.platform, configDir, s3Client).read().catch(rethrowAwsError);
  }
  const critical = summary.dangers.filter((d) => d.severity === "critical");
  if (critical.length > 0) {
    const acknowledgements = dangerAcknowledgements(configDir, base);
    const range = base === undefined ? "HEAD's history" : `${base.slice(0, 12)}..HEAD`;
    if (acknowledgements.length === 0) {
      console.error(`refusing to deploy ${critical.length} critical danger${critical.length === 1 ? "" : "s"} that no merged commit acknowledged (${range}):`);
      for (const d of critical) console.error(`  ${d.stack} ${d.address}: ${d.reason}`);
      console.error(`to accept them, merge a commit whose message ends with the trailer '${DANGER_TRAILER}: <reason>'`);
      return EXIT_DANGER;
    }
    for (const { commit, reason } of acknowledgements) console.error(`critical dangers accepted by ${commit.slice(0, 12)}: ${reason}`);
  }
  return summary.notPlanned.some((s) => s.status === "failed") ? EXIT_NOT_PLANNED : EXIT_OK;
}

runCommand(main);
