import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { loadFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { EDGE_STACK } from "../modules/naming";
import { rethrowAwsError } from "../modules/traffic/aws-clients";
import { runPreflight } from "../modules/traffic/preflight";
import { retireSteps } from "../modules/traffic/retire";
import { UserError } from "../modules/user-error";
import { runCommand } from "../modules/run-command";

const USAGE = "usage: npm run retire -- <cluster> [--auto-approve] [--force REASON] [--dry-run] [--config-dir DIR]";

/**
 * Removes a retiring cluster: checks that the final deploy of the edge may go
 * (no live failover reverted, healthy capacity left), then destroys its stacks
 * in order, deletes its file, deploys the edge.
 */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      "auto-approve": { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      "config-dir": { type: "string" },
      force: { type: "string" },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UserError(USAGE);
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const fleet = loadFleetConfig(configDir);
  const steps = retireSteps(fleet, positionals[0], values["auto-approve"]);
  if (!values["dry-run"]) {
    // The edge is deployed last, from the files without this cluster: check that before destroying anything.
    const remaining = { ...fleet, clusters: fleet.clusters.filter((c) => c.config.name !== positionals[0]) };
    for (const line of await runPreflight(remaining, [EDGE_STACK], { forceReason: values.force })) console.log(line);
  }
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

runCommand(() => main().catch(rethrowAwsError));
