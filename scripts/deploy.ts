import * as path from "path";
import { loadFleetConfig } from "../modules/config/load";
import { deployInvocation, runCdktf } from "../modules/deploy/cdktf-commands";
import { readStackGraph, selectStacks } from "../modules/deploy/stack-graph";
import { projectRoot } from "../modules/support/project-root";
import { runCommand } from "../modules/cli/run-command";
import { rethrowAwsError, s3Client } from "../modules/traffic/aws-clients";
import { runPreflight } from "../modules/traffic/preflight";
import { DEFAULT_IDLE_MINUTES, IDLE_MINUTES_BOUNDS } from "../modules/traffic/idle";
import { synthesizeFleet } from "../modules/synth/synth";
import { isEdgeStack } from "../modules/constructs/naming";
import { DEPLOY_LEASE_SECONDS, withTrafficLock } from "./lib/traffic-lock-hold";
import { cdktfTerraformSettings } from "../modules/plan/terraform";
import { checkedOutCommitFollows, deployedRevisionRecord } from "../modules/deploy/deployed-revision";
import { integerFlag, parseCommandLine, UsageError } from "../modules/cli/args";

const USAGE = `usage: npm run deploy -- [STACK...] [--only] [--auto-approve] [--force REASON] [--idle-minutes N] [--record-deployed] [--dry-run] [--config-dir DIR]
  STACK           stack names or globs (cluster-blue*); default every stack
  --only          only these stacks, one at a time in dependency order; their dependencies are taken as deployed
                  (with --record-deployed and no stack: nothing to deploy, only the record)
  --record-deployed  once the deploy succeeds, record the checked-out commit as deployed beside the state
                  (<keyPrefix>/deployed-revision in the state bucket, or in the local state folder), for
                  npm run plan -- --changed-since deployed; refused with uncommitted changes, or when the
                  recorded commit is not an ancestor of the checked-out one (an older run would revert newer files)
  --auto-approve  apply without asking
  --force REASON  deploy despite the live checks' refusals, for this reason (echoed)
  --idle-minutes N how long a cluster going to standby must have served no requests (${IDLE_MINUTES_BOUNDS.min}-${IDLE_MINUTES_BOUNDS.max}, default ${DEFAULT_IDLE_MINUTES})
  --dry-run       print the cdktf command and the order, check and deploy nothing
  Providers come from TF_PLUGIN_DIR when set, else as Terraform's CLI configuration says;
  behind a mirror cdktf's provider lock (which asks the registry) is left out.
  Before deploying, reads the live fleet (npm run preflight): the caller must reach the Kubernetes API
  of the clusters whose in-cluster stacks are deployed; an edge stack (edge, edge-<name>) must not
  revert a live failover nor give weight to unhealthy target groups; a cluster going to standby must
  be idle. A deploy of an edge stack holds the traffic lock from its checks to the end of the deploy
  (refused while another writer holds it: npm run status shows who).`;

/**
 * Synthesizes, checks the live fleet, then runs `cdktf deploy` on the
 * selected stacks and what they depend on (or, with --only, just them), in
 * dependency order.
 */
async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      only: { type: "boolean", default: false },
      "auto-approve": { type: "boolean", default: false },
      force: { type: "string" },
      "idle-minutes": { type: "string", default: String(DEFAULT_IDLE_MINUTES) },
      "dry-run": { type: "boolean", default: false },
      "record-deployed": { type: "boolean", default: false },
      "config-dir": { type: "string" },
    },
    positionals: { max: Infinity },
  });
  if (!commandLine) return;
  const { values, positionals } = commandLine;
  if (values.only && positionals.length === 0 && !values["record-deployed"]) throw new UsageError("--only needs the stacks to deploy", USAGE);
  const idleMinutes = integerFlag(values["idle-minutes"], "--idle-minutes", IDLE_MINUTES_BOUNDS, USAGE)!;
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const outdir = path.join(configDir, "cdktf.out");
  const fleet = loadFleetConfig(configDir);
  const record = deployedRevisionRecord(fleet.platform, configDir, s3Client);
  // Checked first: a run older than the recorded deploy must not put its files over newer ones.
  const recorded = values["record-deployed"] ? await record.read() : undefined;
  const revision = values["record-deployed"] ? checkedOutCommitFollows(configDir, recorded, record.location) : undefined;
  const recordDeployed = async () => {
    if (revision === undefined || values["dry-run"]) return;
    await record.write(revision);
    console.log(`recorded ${revision} as deployed in ${record.location}`);
  };
  if (values.only && positionals.length === 0) {
    console.log("nothing to deploy");
    return recordDeployed();
  }
  synthesizeFleet(fleet, outdir);
  const graph = readStackGraph(outdir);
  const terraform = cdktfTerraformSettings();
  const invocation = deployInvocation(graph, selectStacks(graph.stacks, positionals), {
    only: values.only,
    autoApprove: values["auto-approve"],
    output: path.relative(projectRoot(), outdir),
    skipProviderLock: terraform.skipProviderLock,
  });
  console.log(`deploying ${invocation.stacks.join(" → ")}\n  ${invocation.argv.join(" ")}`);
  if (values["dry-run"]) return;
  const unrecorded = revision && `nothing recorded: ${record.location} still names ${recorded ?? "no commit"}, so the next deploy with --record-deployed plans this change again`;
  const checkAndDeploy = async () => {
    for (const line of await runPreflight(fleet, invocation.stacks, { forceReason: values.force, idleMinutes })) console.log(line);
    runCdktf(invocation, "cdktf deploy failed", unrecorded, terraform.env);
  };
  // The edge stacks set the live weights: no other writer between their checks and the end of their deploy.
  if (invocation.stacks.some(isEdgeStack)) await withTrafficLock(fleet, configDir, "deploy", DEPLOY_LEASE_SECONDS, checkAndDeploy);
  else await checkAndDeploy();
  await recordDeployed();
}

runCommand(() => main().catch(rethrowAwsError));
