import * as fs from "fs";
import * as path from "path";
import { FleetConfig, loadFleetConfig } from "../modules/config/load";
import { CdktfInvocation, deployInvocation, destroyInvocation, runCdktf } from "../modules/deploy/cdktf-commands";
import { readStackGraph, StackGraph } from "../modules/deploy/stack-graph";
import { projectRoot } from "../modules/support/project-root";
import { runCommand } from "../modules/cli/run-command";
import { synthesizeFleet } from "../modules/synth/synth";
import { cdktfTerraformSettings } from "../modules/plan/terraform";
import { cloudWatchClient, elbClient, logsClient, rethrowAwsError } from "../modules/traffic/aws-clients";
import { DEFAULT_IDLE_MINUTES, IDLE_MINUTES_BOUNDS } from "../modules/traffic/idle";
import { runPreflight } from "../modules/traffic/preflight";
import { checkLiveRetirement, deleteLeftoverLogGroup, planRetirement } from "../modules/traffic/retire";
import { integerFlag, parseCommandLine } from "../modules/cli/args";
import { DEPLOY_LEASE_SECONDS, withTrafficLock } from "./lib/traffic-lock-hold";

const USAGE = `usage: npm run retire -- <cluster> [--auto-approve] [--force REASON] [--idle-minutes N] [--dry-run] [--config-dir DIR]
  <cluster>        a cluster with state: retiring and every weight 0
  --auto-approve   destroy and deploy without asking (automation)
  --force REASON   retire despite requests served or the final edge deploy's live checks, for this reason (echoed)
  --idle-minutes N how long the cluster must have served no requests (${IDLE_MINUTES_BOUNDS.min}-${IDLE_MINUTES_BOUNDS.max}, default ${DEFAULT_IDLE_MINUTES})
  --dry-run        print the steps, run nothing
  Checks that the live listener rules give the cluster weight 0 and that it served no requests
  (CloudWatch), destroys its stacks, deletes the log group EKS may leave, deletes its file and
  deploys the edge stacks of the ALBs that routed it (edge, edge-<name>).
  Holds the traffic lock throughout (refused while another writer holds it: npm run status shows who).
  Needs AWS credentials (the AWS SDK's usual variables, AWS_ENDPOINT_URL included).`;

/**
 * Synthesizes the configuration in `configDir` and returns the cdktf
 * invocation built on its stack graph, given where the output is.
 */
function synthesized(configDir: string, fleet: FleetConfig, invocation: (graph: StackGraph, output: string) => CdktfInvocation): CdktfInvocation {
  const outdir = path.join(configDir, "cdktf.out");
  synthesizeFleet(fleet, outdir);
  return invocation(readStackGraph(outdir), path.relative(projectRoot(), outdir));
}

/** Removes a retiring cluster without leaving anything that blocks reusing its name. */
async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      "auto-approve": { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      "config-dir": { type: "string" },
      force: { type: "string" },
      "idle-minutes": { type: "string", default: String(DEFAULT_IDLE_MINUTES) },
    },
    positionals: { min: 1, max: 1 },
  });
  if (!commandLine) return;
  const { values, positionals } = commandLine;
  const idleMinutes = integerFlag(values["idle-minutes"], "--idle-minutes", IDLE_MINUTES_BOUNDS, USAGE)!;
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const fleet = loadFleetConfig(configDir);
  const retirement = planRetirement(fleet, positionals[0]);
  const autoApprove = values["auto-approve"];
  const terraform = cdktfTerraformSettings();
  const skipProviderLock = terraform.skipProviderLock;
  const again = `fix it and run npm run retire -- ${retirement.cluster} again`;
  const edges = retirement.edgeStacks.join(", ");
  const step = (n: number, text: string) => console.log(`step ${n}/5: ${text}`);
  const run = (n: number, invocation: CdktfInvocation) => {
    console.log(`  ${invocation.argv.join(" ")}`);
    if (values["dry-run"]) return;
    runCdktf(invocation, `step ${n} failed`, again, terraform.env);
  };

  const retire = async () => {
    step(1, `check that the live listener rules send ${retirement.cluster} no traffic, that it served no request in the last ${idleMinutes} min, and that the final deploy of ${edges} may go`);
    if (!values["dry-run"]) {
      const checks = await checkLiveRetirement(await elbClient(fleet), await cloudWatchClient(fleet), fleet, retirement, { idleMinutes, forceReason: values.force });
      for (const line of checks) console.log(`  ${line}`);
      // The edge stacks are deployed last, from the files without this cluster: no live failover reverted, healthy capacity left.
      const remaining = { ...fleet, clusters: fleet.clusters.filter((c) => c.config.name !== retirement.cluster) };
      for (const line of await runPreflight(remaining, retirement.edgeStacks, { forceReason: values.force })) console.log(`  ${line}`);
    }

    const destroy = synthesized(configDir, fleet, (graph, output) => destroyInvocation(graph, [retirement.stack], { autoApprove, output, skipProviderLock }));
    step(2, `destroy ${destroy.stacks.join(", ")} (bindings, controller, then EKS, nodes, IAM; KMS keys scheduled for deletion)`);
    run(2, destroy);

    step(3, `delete ${retirement.logGroup} if EKS created it again`);
    if (!values["dry-run"]) console.log(`  ${await deleteLeftoverLogGroup(await logsClient(fleet), retirement.logGroup)}`);

    step(4, `delete ${retirement.file}`);
    if (!values["dry-run"]) fs.rmSync(path.join(configDir, retirement.file));
    if (retirement.edgeStacks.length === 0) {
      console.log(`step 5/5: no ALB routes ${retirement.cluster}: no edge stack to deploy`);
      return;
    }
    if (values["dry-run"]) {
      console.log(`step 5/5: deploy ${edges} (drops ${retirement.cluster}'s target groups), once the file is gone`);
      return;
    }

    const deploy = synthesized(configDir, loadFleetConfig(configDir), (graph, output) =>
      deployInvocation(graph, retirement.edgeStacks, { only: true, autoApprove, output, skipProviderLock }),
    );
    step(5, `deploy ${edges} (drops ${retirement.cluster}'s target groups)`);
    run(5, deploy);
  };
  // Retiring ends with a deploy of the edge stacks: no other writer of the live weights until it is done.
  if (values["dry-run"]) await retire();
  else await withTrafficLock(fleet, configDir, "retire", DEPLOY_LEASE_SECONDS, retire);
}

runCommand(() => main().catch(rethrowAwsError));
