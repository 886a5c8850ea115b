import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { changedStackNames, loadStackPlans } from "../modules/plan/plan-json";
import { summarizePlans } from "../modules/plan/summary";
import { projectRoot } from "../modules/project-root";

const USAGE = `usage: npm run plan-summary -- [--out FILE] [--allow-dangerous] [--list-changed] [--outdir DIR]
  exit 0: nothing dangerous; 2: dangerous changes (deletes, replacements, weight onto a cluster being upgraded)
  unless --allow-dangerous; 3: some stacks could not be planned`;

/** Turns the plans of `npm run plan` into one Markdown summary for a pull request. */
function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      "allow-dangerous": { type: "boolean", default: process.env.PLAN_ALLOW_DANGEROUS === "true" },
      "list-changed": { type: "boolean", default: false },
      outdir: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const outdir = path.resolve(values.outdir ?? path.join(projectRoot(), "cdktf.out"));
  const stacks = loadStackPlans(outdir);
  if (values["list-changed"]) {
    console.log(changedStackNames(stacks).join("\n"));
    return;
  }
  const summary = summarizePlans(stacks, { allowDangerous: values["allow-dangerous"] });
  if (values.out) fs.writeFileSync(values.out, summary.markdown);
  else console.log(summary.markdown);
  process.exitCode = summary.exitCode;
}

main();
