import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadFleetConfig } from "../modules/config/load";
import { evaluatePolicies, formatPolicyReport, readSynthesizedStacks } from "../modules/policy/evaluate";
import { projectRoot } from "../modules/support/project-root";
import { synthesizeFleet } from "../modules/synth/synth";
import { runCommand } from "../modules/cli/run-command";
import { parseCommandLine } from "../modules/cli/args";

const USAGE = `usage: npm run policy -- [config-dir]
  config-dir   folder holding platform.yaml and clusters/ (default: the project root)
  exit 0: no findings; 1: findings, or a configuration error`;

/**
 * Synthesizes the current configuration (from the folder given as first
 * argument, default the project root) into a scratch folder, evaluates the
 * policy rules on it and prints the report. Exits 1 on any finding.
 */
function main(): void {
  const commandLine = parseCommandLine({ usage: USAGE, options: {}, positionals: { max: 1 } });
  if (!commandLine) return;
  const configDir = path.resolve(commandLine.positionals[0] ?? projectRoot());
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-policy-"));
  try {
    const outdir = path.join(scratch, "cdktf.out");
    synthesizeFleet(loadFleetConfig(configDir), outdir);
    const report = evaluatePolicies(readSynthesizedStacks(outdir));
    console.log(formatPolicyReport(report));
    process.exitCode = report.findings.length > 0 ? 1 : 0;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

runCommand(main);
