import * as path from "path";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { runCommand } from "../modules/cli/run-command";
import { cloudWatchClient, elbClient, rethrowAwsError } from "../modules/traffic/aws-clients";
import { fleetStatusPicture, formatFleetStatus, readFleetStatus } from "../modules/traffic/status";
import { commandLockStore } from "./lib/traffic-lock-hold";
import { integerFlag, parseCommandLine, UsageError } from "../modules/cli/args";

const USAGE = `usage: npm run status -- [--json | --mermaid] [--minutes 15] [--config-dir DIR]
  --json         the status as JSON, for scripts (docs/operations.md, "Status as JSON")
  --mermaid      a Mermaid picture of each ALB → rules → target groups → clusters with live weights and health
  --minutes N    window of the request counts from CloudWatch (0: do not read CloudWatch; default 15)
  --config-dir DIR  folder holding platform.yaml and clusters/ (default: the project root)
exits 1 when live weights differ from the files, a service is not deployed yet, a service has no healthy capacity,
or a cluster with a share of traffic has fewer healthy targets than minHealthyTargets`;

async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      json: { type: "boolean", default: false },
      mermaid: { type: "boolean", default: false },
      minutes: { type: "string", default: "15" },
      "config-dir": { type: "string" },
    },
  });
  if (!commandLine) return;
  const { values } = commandLine;
  const minutes = integerFlag(values.minutes, "--minutes", { min: 0, max: 1440 }, USAGE)!;
  if (values.json && values.mermaid) throw new UsageError("give --json or --mermaid, not both", USAGE);
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const fleet = parseFleetConfig(readConfigSources(configDir));
  const status = await readFleetStatus(await elbClient(fleet), fleet, {
    minutes,
    cloudWatch: minutes > 0 ? await cloudWatchClient(fleet) : undefined,
    lock: await commandLockStore(fleet, configDir),
  });
  if (values.json) {
    console.log(JSON.stringify(status, null, 2));
  } else if (values.mermaid) {
    console.log(fleetStatusPicture(status));
  } else {
    console.log(formatFleetStatus(status));
  }
  if (status.problems.length > 0) process.exitCode = 1;
}

runCommand(() => main().catch(rethrowAwsError));
