import * as path from "path";
import { parseArgs } from "util";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { EDGE_STACK, clusterStackName } from "../modules/naming";
import { projectRoot } from "../modules/project-root";
import { runCommand } from "../modules/run-command";
import { rethrowAwsError } from "../modules/traffic/aws-clients";
import { runPreflight } from "../modules/traffic/preflight";
import { UserError } from "../modules/user-error";

const USAGE = `usage: npm run preflight -- <stack>... [--force REASON] [--idle-minutes 30] [--config-dir DIR]
  the live checks npm run deploy runs before deploying these stacks ('*' for all):
  edge             refuses to revert a live failover (shift --now not yet in the files) and to give
                   weight to a cluster with fewer healthy targets than minHealthyTargets
  cluster-<name>   with state: standby, refuses while the cluster has live weight or served requests
                   in the last --idle-minutes
  --force REASON   pass despite refusals, for this reason (echoed)`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      force: { type: "string" },
      "idle-minutes": { type: "string", default: "30" },
      "config-dir": { type: "string" },
    },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UserError(USAGE);
  const idleMinutes = Number(values["idle-minutes"]);
  if (!Number.isInteger(idleMinutes) || idleMinutes < 1 || idleMinutes > 1440) throw new UserError(`--idle-minutes ${values["idle-minutes"]} must be 1-1440\n${USAGE}`);
  const fleet = parseFleetConfig(readConfigSources(path.resolve(values["config-dir"] ?? projectRoot())));
  const stacks = positionals.includes("*") ? [EDGE_STACK, ...fleet.clusters.map((c) => clusterStackName(c.config.name))] : positionals;
  for (const line of await runPreflight(fleet, stacks, { forceReason: values.force, idleMinutes })) console.log(line);
  console.log("preflight passed");
}

runCommand(() => main().catch(rethrowAwsError));
