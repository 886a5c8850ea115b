import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { FleetConfig } from "../config/load";
import { describeFileError } from "../support/file-errors";
import { assertControllerPoliciesFit } from "./controller-policy-size";
import { buildFleet } from "./fleet";
import { withoutTokenTraces } from "./token-traces";
import { UserError } from "../support/user-error";

/** File that marks a folder as written by synth, so that the next synth may replace it. */
export const OUTPUT_MARKER = ".fleet-synth-output";
const MARKER_TEXT = "Written by the fleet's synth (npm run synth, cdktf synth); replaced as a whole on every synth.\n";
/** What a cdktf output folder holds: recognised as synth's own even before it carried the marker. */
const CDKTF_OUTPUT_ENTRIES = ["manifest.json", "stacks", "plans"];

/**
 * Why synth may not replace `outdir`, or undefined when it may: it must not
 * exist, be empty, or be a folder synth made. The local state folder, which
 * sits beside the output folder, is never replaced nor overlapped.
 */
function replaceProblem(fleet: FleetConfig, outdir: string): string | undefined {
  const backend = fleet.platform.stateBackend;
  if (backend.type === "local") {
    const stateDir = path.resolve(path.dirname(outdir), backend.directory);
    const within = (inner: string, outer: string) => !path.relative(outer, inner).startsWith("..");
    if (within(outdir, stateDir) || within(stateDir, outdir)) {
      return `it would overlap the Terraform state folder ${stateDir} (stateBackend.directory); choose another output folder`;
    }
  }
  const stat = fs.lstatSync(outdir, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (!stat.isDirectory()) return "it exists and is not a folder";
  const entries = fs.readdirSync(outdir);
  if (entries.length === 0 || entries.includes(OUTPUT_MARKER)) return undefined;
  if (entries.includes("manifest.json") && entries.every((e) => CDKTF_OUTPUT_ENTRIES.includes(e))) return undefined;
  return `it holds files synth did not write (it has no ${OUTPUT_MARKER} file): choose another output folder, or empty it yourself`;
}

/**
 * Synthesizes the fleet into `outdir`, replacing its previous content only
 * once the new output is complete: a failed run leaves the old output as it
 * was, and no temporary folder behind. Refuses (a {@link UserError}) to
 * replace a folder synth did not make, or one overlapping local state.
 */
export function synthesizeFleet(fleet: FleetConfig, outdir: string): void {
  assertControllerPoliciesFit(fleet);
  const target = path.resolve(outdir);
  let problem: string | undefined;
  try {
    problem = replaceProblem(fleet, target);
  } catch (error) {
    problem = describeFileError(error);
  }
  if (problem) throw new UserError(`cannot write the output to ${target}: ${problem}`);
  const parent = path.dirname(target);
  let staging: string;
  try {
    fs.mkdirSync(parent, { recursive: true });
    staging = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.staging-`));
  } catch (error) {
    throw new UserError(`cannot write the output to ${target}: ${describeFileError(error)}`);
  }
  const previous = `${staging}.previous`;
  try {
    withoutTokenTraces(() => {
      const app = new App({ outdir: staging });
      buildFleet(app, fleet);
      app.synth();
    });
    fs.writeFileSync(path.join(staging, OUTPUT_MARKER), MARKER_TEXT);
    const hadOutput = fs.existsSync(target);
    if (hadOutput) fs.renameSync(target, previous);
    try {
      fs.renameSync(staging, target);
    } catch (error) {
      if (hadOutput) fs.renameSync(previous, target);
      throw error;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    fs.rmSync(previous, { recursive: true, force: true });
  }
}
