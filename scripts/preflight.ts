import * as path from "path";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { selectStacks } from "../modules/deploy/stack-graph";
import { fleetStackNames } from "../modules/constructs/naming";
import { projectRoot } from "../modules/support/project-root";
import { runCommand } from "../modules/cli/run-command";
import { rethrowAwsError } from "../modules/traffic/aws-clients";
import { runPreflight } from "../modules/traffic/preflight";
import { DEFAULT_IDLE_MINUTES, IDLE_MINUTES_BOUNDS } from "../modules/traffic/idle";
import { integerFlag, parseCommandLine } from "../modules/cli/args";

const USAGE = `usage: npm run preflight -- <stack>... [--force REASON] [--idle-minutes ${DEFAULT_IDLE_MINUTES}] [--config-dir DIR]
  the live checks npm run deploy runs before deploying these stacks ('*' for all):
  edge, edge-<name> refuses to revert a live failover on that ALB (shift --now not yet in the files) and
                   to give weight to a cluster with fewer healthy targets than minHealthyTargets
  cluster-<name>   with state: standby, refuses while the cluster has live weight or served requests
                   in the last --idle-minutes
  cluster-<name>-k8s refuses, before anything else, a caller (STS) that is neither the deployer
                   (clusterAccess.deployerPrincipalArn) nor in the cluster's adminPrincipalArns
  --force REASON   pass despite refusals, for this reason (echoed)
  --idle-minutes N how long a standby cluster must have served no requests (${IDLE_MINUTES_BOUNDS.min}-${IDLE_MINUTES_BOUNDS.max}, default ${DEFAULT_IDLE_MINUTES})
  --config-dir DIR folder holding platform.yaml and clusters/ (default: the project root)`;

async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      force: { type: "string" },
      "idle-minutes": { type: "string", default: String(DEFAULT_IDLE_MINUTES) },
      "config-dir": { type: "string" },
    },
    positionals: { min: 1, max: Infinity },
  });
  if (!commandLine) return;
  const { values, positionals } = commandLine;
  const idleMinutes = integerFlag(values["idle-minutes"], "--idle-minutes", IDLE_MINUTES_BOUNDS, USAGE)!;
  const fleet = parseFleetConfig(readConfigSources(path.resolve(values["config-dir"] ?? projectRoot())));
  const stacks = selectStacks(fleetStackNames(fleet.clusters.map((c) => c.config.name), Object.keys(fleet.platform.albs)), positionals);
  for (const line of await runPreflight(fleet, stacks, { forceReason: values.force, idleMinutes })) console.log(line);
  console.log("preflight passed");
}

runCommand(() => main().catch(rethrowAwsError));
