import * as path from "path";
import { parseArgs } from "util";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { EDGE_STACK, clusterOfStack, clusterStackName } from "../modules/naming";
import { projectRoot } from "../modules/project-root";
import { runCommand } from "../modules/run-command";
import { cloudWatchClient, elbClient, rethrowAwsError } from "../modules/traffic/aws-clients";
import { checkEdgeDeploy } from "../modules/traffic/edge-deploy-gate";
import { checkStandbyDeploy } from "../modules/traffic/standby-gate";
import { UserError } from "../modules/user-error";

const USAGE = `usage: npm run preflight -- <stack>... [--force REASON] [--idle-minutes 30] [--config-dir DIR]
  checks the live fleet before these stacks are deployed ('*' for all):
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
  const all = positionals.includes("*");
  const elb = await elbClient(fleet);
  if (all || positionals.includes(EDGE_STACK)) {
    for (const line of await checkEdgeDeploy(elb, fleet, { forceReason: values.force })) console.log(line);
  }
  // Standby scales the node groups of cluster-<name>; its -k8s stack is not gated.
  const clusters = all
    ? fleet.clusters.map((c) => c.config.name)
    : positionals.map((stack) => clusterOfStack(stack)).filter((c): c is string => c !== undefined && positionals.includes(clusterStackName(c)));
  for (const cluster of new Set(clusters)) {
    if (!fleet.clusters.some((c) => c.config.name === cluster)) throw new UserError(`unknown stack ${clusterStackName(cluster)}; clusters: ${fleet.clusters.map((c) => c.config.name).join(", ")}`);
    if (fleet.clusters.find((c) => c.config.name === cluster)!.config.state !== "standby") continue;
    for (const line of await checkStandbyDeploy(elb, await cloudWatchClient(fleet), fleet, cluster, { idleMinutes, forceReason: values.force })) console.log(line);
  }
  console.log("preflight passed");
}

runCommand(() => main().catch(rethrowAwsError));
