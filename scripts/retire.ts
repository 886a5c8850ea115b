import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { loadFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { retireSteps } from "../modules/traffic/retire";
import { UserError } from "../modules/user-error";
import { runCommand } from "../modules/run-command";
import { parseCommandLine } from "../modules/cli/args";

const USAGE = `usage: npm run retire -- <cluster> [--auto-approve] [--dry-run] [--config-dir DIR]
  <cluster>        a cluster with state: retiring and every weight 0
  --auto-approve   destroy and deploy without asking (automation)
  --dry-run        print the steps, run nothing`;

/** Removes a retiring cluster: destroys its stacks in order, deletes its file, deploys the edge. */
function main(): void {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      "auto-approve": { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      "config-dir": { type: "string" },
    },
    positionals: { min: 1, max: 1 },
  });
  if (!commandLine) return;
  const { values, positionals } = commandLine;
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const steps = retireSteps(loadFleetConfig(configDir), positionals[0], values["auto-approve"]);
  for (const [i, step] of steps.entries()) {
    const detail = step.kind === "run" ? step.command.join(" ") : `rm ${step.file}`;
    console.log(`step ${i + 1}/${steps.length}: ${step.describe}\n  ${detail}`);
    if (values["dry-run"]) continue;
    if (step.kind === "delete-file") {
      fs.rmSync(path.join(configDir, step.file));
      continue;
    }
    const result = spawnSync(step.command[0], step.command.slice(1), { cwd: configDir, stdio: "inherit" });
    if (result.status !== 0) {
      throw new UserError(`step ${i + 1} failed (exit ${result.status ?? result.signal}); fix it and run npm run retire -- ${positionals[0]} again`);
    }
  }
}

runCommand(main);
