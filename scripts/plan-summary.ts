import * as fs from "fs";
import * as path from "path";
import { parseCommandLine } from "../modules/cli/args";
import { describeFileError } from "../modules/support/file-errors";
import { changedStackNames, loadStackPlans } from "../modules/plan/plan-json";
import { plansOlderThanConfig } from "../modules/plan/staleness";
import { summarizePlans } from "../modules/plan/summary";
import { projectRoot } from "../modules/support/project-root";
import { runCommand } from "../modules/cli/run-command";
import { UserError } from "../modules/support/user-error";

const USAGE = `usage: npm run plan-summary -- [--out FILE] [--allow-dangerous] [--list-changed] [--outdir DIR] [--config-dir DIR]
  --out FILE         write the Markdown summary to FILE (default: print it)
  --allow-dangerous  exit 0 even with dangerous changes (or PLAN_ALLOW_DANGEROUS=true)
  --list-changed     print the names of the stacks with changes, one a line
  --outdir DIR       the synthesized output holding plans/ (default: cdktf.out of the config folder)
  --config-dir DIR   folder holding platform.yaml and clusters/ (default: the project root)
  exit 0: nothing dangerous; 1: bad command line or no plans; 2: dangerous changes (deletes, replacements,
  weight onto a cluster being upgraded) unless --allow-dangerous; 3: some stacks could not be planned`;

/** Turns the plans of `npm run plan` into one Markdown summary for a pull request. */
function main(): void {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      out: { type: "string" },
      "allow-dangerous": { type: "boolean", default: process.env.PLAN_ALLOW_DANGEROUS === "true" },
      "list-changed": { type: "boolean", default: false },
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
  process.exitCode = summary.exitCode;
}

runCommand(main);
