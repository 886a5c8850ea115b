import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { BucketLocationConstraint, CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { parseFleetConfig } from "../modules/config/load";
import { CliRun, errorsIn, offlineCliEnvironment, runCommandLine, scratchProject, stackLines } from "./helpers/cdktf-cli";
import { exampleSources } from "./helpers/fleet";
import { Moto, motoUnavailable, startMoto } from "./helpers/moto";
import { describeWithTerraform } from "./helpers/terraform-checks";

/**
 * The team path end to end, against moto server (a real AWS emulator) with
 * the real cdktf CLI, Terraform and AWS provider, and S3 state, for a fleet of
 * two ALBs (the example's and an internal one with a service of its own): a
 * first deploy, an empty plan, an emergency shift on both ALBs and the
 * preflight guarding them, a pull request adding a cluster, the deploy job
 * catching up both, and a destroy that leaves nothing behind.
 *
 * What the emulator cannot cover: moto has no EKS add-ons, access entries, pod
 * identity associations nor cluster security group, so a cluster stack applies
 * only in part there (the test prints what failed), and no in-cluster stack runs
 * (the Helm and Kubernetes providers are placeholders here: they need a cluster).
 */

const fleet = parseFleetConfig(exampleSources());
const { accountId, region, name } = fleet.platform;
const BUCKET = "fleet-e2e-state";
/** The role the deploy job assumes (clusterAccess.deployerPrincipalArn): the account's, not the fleet's. */
const DEPLOYER_ROLE = fleet.platform.clusterAccess.deployerPrincipalArn.split("/").pop()!;
const RECORD_KEY = `${name}/deployed-revision`;
/**
 * A service on the internal ALB, appended to the example's services. Its failover is off, so that its
 * stack deploys without a function of its own: the one of `edge` is applied here, and the names of
 * each ALB's are checked in __tests__/albs.test.ts.
 */
const API_SERVICE = [
  "  - name: api",
  "    alb: internal",
  "    servicePort: 80",
  "    containerPort: 9090",
  "    hosts: [api.internal.example.com]",
  "    priority: 100",
  "    failover: { mode: off }",
  "",
].join("\n");
/** The emulated account's credentials: moto takes any. */
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

const unavailable = motoUnavailable;
const describeWithMoto = unavailable
  ? (title: string) => describe.skip(`${title} (skipped: ${unavailable})`, () => it("needs moto_server", () => undefined))
  : describeWithTerraform;

describeWithMoto("the team path against moto server", (terraform) => {
  let moto: Moto;
  let project: string;
  let env: NodeJS.ProcessEnv;
  let elb: ElasticLoadBalancingV2Client;
  let s3: S3Client;
  let firstDeploy: string;

  const run = (commandLine: string, extraEnv: Record<string, string> = {}): Promise<CliRun> => runCommandLine(commandLine, project, { ...env, ...extraEnv });
  /** Runs a command line that must succeed; its output shows in the failure when it does not. */
  const succeed = async (commandLine: string, extraEnv: Record<string, string> = {}): Promise<string> => {
    const result = await run(commandLine, extraEnv);
    const statusFile = path.join(project, "cdktf.out", "plans", "status.json");
    // A plan's progress lines give the first line of a failure; the rest is in status.json.
    const planFailures = commandLine.startsWith("npm run plan ") && fs.existsSync(statusFile) ? fs.readFileSync(statusFile, "utf8") : "";
    const output = result.status === 0 ? "" : `${result.output.slice(-6000)}${planFailures}`;
    expect({ commandLine, status: result.status, output }).toEqual({ commandLine, status: 0, output: "" });
    return result.output;
  };
  const git = (...args: string[]) => execFileSync("git", ["-C", project, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { encoding: "utf8", stdio: "pipe" }).trim();
  const recorded = async () => (await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: RECORD_KEY }))).Body!.transformToString()).trim();
  /**
   * What the fleet could have left in the account, read through the APIs
   * (moto keeps deleted objects in its own inventory): counts per kind, the
   * account's defaults (default VPC, its subnets and security groups) left out.
   */
  const leftovers = async () => {
    const ec2 = (action: string) => moto.call("ec2", region, { params: `Action=${action}&Version=2016-11-15` });
    const count = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].length;
    const keys = JSON.parse(await moto.call("kms", region, { target: "TrentService.ListKeys" })).Keys as { KeyId: string }[];
    const keyStates = await Promise.all(
      keys.map(async ({ KeyId }) => {
        const described = await moto.call("kms", region, { target: "TrentService.DescribeKey", body: { KeyId } });
        return (JSON.parse(described) as { KeyMetadata: { KeyState: string } }).KeyMetadata.KeyState;
      }),
    );
    return {
      vpcs: count(await ec2("DescribeVpcs"), /<isDefault>false<\/isDefault>/g),
      subnets: count(await ec2("DescribeSubnets"), /<defaultForAz>false<\/defaultForAz>/g),
      natGateways: count(await ec2("DescribeNatGateways"), /<state>(?:pending|available|deleting)<\/state>/g),
      addresses: count(await ec2("DescribeAddresses"), /<allocationId>/g),
      internetGateways: count(await ec2("DescribeInternetGateways"), /<internetGatewayId>/g),
      flowLogs: count(await ec2("DescribeFlowLogs"), /<flowLogId>/g),
      loadBalancers: (await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.length ?? 0,
      targetGroups: (await targetGroups()).length,
      // The deployer role is the account's, made by this test before the first deploy: not the fleet's.
      roles: count(await moto.call("iam", region, { params: "Action=ListRoles&Version=2010-05-08" }), new RegExp(`<RoleName>(?!${DEPLOYER_ROLE}<)`, "g")),
      functions: (JSON.parse(await moto.call("lambda", region, { restPath: "/2015-03-31/functions/" })).Functions as unknown[]).length,
      alarms: count(await moto.call("monitoring", region, { params: "Action=DescribeAlarms&Version=2010-08-01" }), /<AlarmName>/g),
      topics: count(await moto.call("sns", region, { params: "Action=ListTopics&Version=2010-03-31" }), /<TopicArn>/g),
      logGroups: (JSON.parse(await moto.call("logs", region, { target: "Logs_20140328.DescribeLogGroups" })).logGroups as unknown[]).length,
      eksClusters: (JSON.parse(await moto.call("eks", region, { restPath: "/clusters" })).clusters as unknown[]).length,
      kmsKeysNotPendingDeletion: keyStates.filter((state) => state !== "PendingDeletion").length,
    };
  };
  const targetGroups = async () => (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  /** The live and the deployed weights of the one listener rule of an ALB. */
  const ruleOn = async (albName: string) => {
    const [alb] = (await elb.send(new DescribeLoadBalancersCommand({ Names: [albName] }))).LoadBalancers ?? [];
    const [listener] = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: alb.LoadBalancerArn }))).Listeners ?? [];
    const rule = ((await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules ?? []).find((r) => !r.IsDefault)!;
    const tags = (await elb.send(new DescribeTagsCommand({ ResourceArns: [rule.RuleArn!] }))).TagDescriptions?.[0]?.Tags ?? [];
    const groups = new Map((await targetGroups()).map((g) => [g.TargetGroupArn, g.TargetGroupName]));
    const live = (rule.Actions?.[0]?.ForwardConfig?.TargetGroups ?? []).map((t) => `${groups.get(t.TargetGroupArn)!.split("-")[1]}=${t.Weight}`).sort();
    return { live: live.join(" "), deployed: tags.find((t) => t.Key === "deployed-weights")?.Value };
  };
  const webRule = () => ruleOn(`${name}-alb`);
  const apiRule = () => ruleOn(`${name}-internal-alb`);

  beforeAll(async () => {
    moto = await startMoto(accountId);
    const client = { region, endpoint: moto.url, credentials: CREDENTIALS };
    elb = new ElasticLoadBalancingV2Client(client);
    s3 = new S3Client({ ...client, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }));
    project = scratchProject();
    // A second ALB, internal, with a service of its own in both clusters, as fleets past one ALB have it.
    fs.appendFileSync(path.join(project, "platform.yaml"), `${API_SERVICE}\nalbs:\n  internal: { internal: true, httpOnly: true, deletionProtection: false }\n`);
    for (const cluster of ["blue", "green"]) fs.appendFileSync(path.join(project, "clusters", `${cluster}.yaml`), "  api: 50\n");
    fs.appendFileSync(path.join(project, "platform.yaml"), `\nstateBackend:\n  type: s3\n  bucket: ${BUCKET}\n`);
    git("commit", "-qam", "state in S3, an internal ALB");
    // The deploy job's credentials, as CI gets them: a session of the deployer role (clusterAccess.deployerPrincipalArn),
    // so that the preflight's caller check sees the principal with access to the clusters' Kubernetes APIs.
    const deployer = fleet.platform.clusterAccess.deployerPrincipalArn;
    const trust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "sts:AssumeRole" }] });
    await moto.call("iam", region, { params: `Action=CreateRole&Version=2010-05-08&RoleName=${DEPLOYER_ROLE}&AssumeRolePolicyDocument=${encodeURIComponent(trust)}` });
    const session = await moto.call("sts", region, { params: `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(deployer)}&RoleSessionName=deploy-job` });
    const field = (tag: string) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(session)![1];
    // A team's machine: providers from a mirror named in the CLI configuration, AWS at the emulator.
    env = offlineCliEnvironment(terraform.providerSource, {
      AWS_ENDPOINT_URL: moto.url,
      AWS_ACCESS_KEY_ID: field("AccessKeyId"),
      AWS_SECRET_ACCESS_KEY: field("SecretAccessKey"),
      AWS_SESSION_TOKEN: field("SessionToken"),
      AWS_REGION: region,
      // A plugin cache of its own: Terraform's is not safe for installs from other tests running at the same time.
      TF_PLUGIN_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "fleet-e2e-plugin-cache-")),
    });
  }, 120_000);

  afterAll(async () => {
    elb?.destroy();
    s3?.destroy();
    await moto?.stop();
  });

  it("deploys network and both ALBs' stacks into an empty account with npm run deploy, recording the deployed commit", async () => {
    const deploy = await run("npm run deploy -- edge edge-internal --auto-approve --record-deployed");
    // A failure shows its errors first: the whole output is too long for a CI log.
    expect({ status: deploy.status, errors: errorsIn(deploy.output) }).toEqual({ status: 0, errors: [] });
    expect(deploy.output).toContain("deploying network → edge → edge-internal\n");
    expect(deploy.output).toContain("--skip-provider-lock");
    const applied = (stack: string) => stackLines(deploy.output).find((l) => l.stack === stack && l.text.startsWith("Apply complete!"))?.text;
    for (const stack of ["network", "edge", "edge-internal"]) expect(applied(stack)).toMatch(/^Apply complete! Resources: \d+ added, 0 changed, 0 destroyed/);
    expect(deploy.status).toBe(0);
    expect(await webRule()).toEqual({ live: "blue=50 green=50", deployed: "blue=50 green=50" });
    expect(await apiRule()).toEqual({ live: "blue=50 green=50", deployed: "blue=50 green=50" });
    // The clusters of the configuration are not deployed: the emulator cannot run them (see above).
    firstDeploy = git("rev-parse", "HEAD");
    expect(deploy.output).toContain(`recorded ${firstDeploy} as deployed in s3://${BUCKET}/${RECORD_KEY}`);
    expect(await recorded()).toBe(firstDeploy);
  }, 900_000);

  it("plans no change next", async () => {
    await succeed("npm run plan -- --stack network --stack edge --stack edge-internal");
    expect(await succeed("npm run -s plan-summary")).toContain("no dangerous changes · 0 of 7 stacks change");
  }, 600_000);

  it("shifts live at once on both ALBs with registered targets, and the preflight refuses a deploy of the old files to either", async () => {
    for (const group of await targetGroups()) {
      const targets = [1, 2].map((n) => ({ Id: `10.40.${group.TargetGroupName!.includes("-blue-") ? 1 : 2}.${n}`, Port: group.Port }));
      await elb.send(new RegisterTargetsCommand({ TargetGroupArn: group.TargetGroupArn, Targets: targets }));
    }
    await succeed("npm run shift -- --to green --now");
    expect(await webRule()).toEqual({ live: "blue=0 green=100", deployed: "blue=50 green=50" });
    expect(await apiRule()).toEqual({ live: "blue=0 green=100", deployed: "blue=50 green=50" });

    git("stash", "-q");
    for (const stack of ["edge", "edge-internal"]) {
      const preflight = await run(`npm run preflight -- ${stack}`);
      expect(preflight.output).toMatch(/revert/i);
      expect(preflight.status).not.toBe(0);
    }
    git("stash", "pop", "-q");
    // Merged; its deploy run never comes (GitHub dropped it for a newer one).
    git("commit", "-qam", "Shift web and api to green");
  }, 600_000);

  it("plans a pull request adding a cluster without failing: the new cluster's stacks plan after both edge stacks apply", async () => {
    const base = git("rev-parse", "HEAD");
    git("checkout", "-qb", "add-purple");
    const green = fs.readFileSync(path.join(project, "clusters", "green.yaml"), "utf8");
    fs.writeFileSync(path.join(project, "clusters", "purple.yaml"), green.replace("name: green", "name: purple").replace(/web: \d+/, "web: 0").replace(/api: \d+/, "api: 0"));
    git("add", "clusters/purple.yaml");
    git("commit", "-qm", "Add the purple cluster");

    await succeed(`npm run plan -- --changed-since ${base}`);
    const statuses = JSON.parse(fs.readFileSync(path.join(project, "cdktf.out", "plans", "status.json"), "utf8")) as { stack: string; status: string; after?: string[] }[];
    expect(statuses.filter((s) => s.status !== "unchanged").map((s) => [s.stack, s.status, s.after])).toEqual([
      ["cluster-purple", "deferred", ["edge", "edge-internal"]],
      ["cluster-purple-k8s", "deferred", ["cluster-purple", "edge", "edge-internal"]],
      ["edge", "planned", undefined],
      ["edge-internal", "planned", undefined],
    ]);
    await succeed("npm run -s plan-summary -- --out pr-summary.md");
    const markdown = fs.readFileSync(path.join(project, "pr-summary.md"), "utf8");
    expect(markdown).toContain("| cluster-purple | – | – | – | – | ⏳ plans after edge and edge-internal apply: edge's plan creates or changes the output it reads");
    expect(markdown).toContain("| web | purple | – → 0 **changed** |");
    git("checkout", "-q", "-");
    git("merge", "-q", "--ff-only", "add-purple");
  }, 600_000);

  it("deploys the merged changes in one run: the missed shift and the new cluster, the edge stacks first", async () => {
    expect(await succeed("npm run plan -- --changed-since deployed")).toContain(`last deployed revision: ${firstDeploy} (s3://${BUCKET}/${RECORD_KEY})`);
    await succeed("npm run -s plan-summary -- --deploy-gate deployed --out deploy-summary.md");
    const stacks = (await succeed("npm run -s plan-summary -- --list-changed")).trim().split("\n").join(" ");
    expect(stacks).toBe("cluster-purple cluster-purple-k8s edge edge-internal");

    const deploy = await run("npm run deploy -- --only $STACKS --auto-approve --record-deployed", { STACKS: stacks });
    expect(deploy.output).toContain("deploying edge → edge-internal → cluster-purple → cluster-purple-k8s\n");
    // The two edge stacks apply at once, their output interleaved: each line is read as the stack's it belongs to.
    const lines = stackLines(deploy.output);
    const lineOf = (stack: string, pattern: RegExp) => lines.findIndex((l) => l.stack === stack && pattern.test(l.text));
    // Without the line, the end of what the stack printed shows in the failure.
    const applied = (stack: string) =>
      lines[lineOf(stack, /^Apply complete!/)]?.text ??
      lines
        .filter((l) => l.stack === stack)
        .slice(-15)
        .map((l) => l.text)
        .join("\n");
    // Purple's target group and the failover's two alarms on it are added; the listener rule changes.
    expect(applied("edge")).toMatch(/^Apply complete! Resources: 3 added, 1 changed, 0 destroyed/);
    // Purple's target group of api is added (its failover is off: no alarms); the listener rule changes.
    expect(applied("edge-internal")).toMatch(/^Apply complete! Resources: 1 added, 1 changed, 0 destroyed/);
    // The cluster stack is planned only once both edge stacks are applied, with its new target groups' ARNs.
    // (cdktf initializes every stack first; the cluster's plan and apply come after the edge stacks' apply.)
    const edgesApplied = Math.max(lineOf("edge", /^Apply complete!/), lineOf("edge-internal", /^Apply complete!/));
    expect(lineOf("cluster-purple", /Creating\.\.\.|Terraform will perform|Error:/)).toBeGreaterThan(edgesApplied);
    expect(await webRule()).toEqual({ live: "blue=0 green=100 purple=0", deployed: "blue=0 green=100 purple=0" });
    expect(await apiRule()).toEqual({ live: "blue=0 green=100 purple=0", deployed: "blue=0 green=100 purple=0" });
    await succeed("npm run preflight -- edge edge-internal");

    // As far as the emulator allows: it has no access entries, add-ons, pod identity, cluster security group.
    const uncovered = [...new Set(deploy.output.split("\n").filter((line) => /^cluster-purple.*Error:|^\s+Error:/.test(line)).map((line) => line.trim()))];
    console.log(`cluster-purple as far as moto server goes; not covered:\n  ${uncovered.join("\n  ")}`);
    expect(deploy.status).not.toBe(0);
    expect(deploy.output).toContain(`nothing recorded: s3://${BUCKET}/${RECORD_KEY} still names ${firstDeploy}, so the next deploy with --record-deployed plans this change again`);
    // A failed run records nothing: the next one plans the same changes again.
    expect(await recorded()).toBe(firstDeploy);
  }, 900_000);

  it("destroys everything, leaving nothing behind but the state files", async () => {
    const destroyed = await succeed(
      "npx cdktf destroy cluster-purple edge edge-internal network --skip-synth --ignore-missing-stack-dependencies --parallelism 1 --skip-provider-lock --auto-approve",
    );
    const order = stackLines(destroyed).filter((l) => /^Destroy complete! Resources: \d+ destroyed/.test(l.text)).map((l) => l.stack);
    expect(order?.slice(0, 1)).toEqual(["cluster-purple"]);
    expect(order?.slice(1, 3).sort()).toEqual(["edge", "edge-internal"]);
    expect(order?.slice(3)).toEqual(["network"]);
    // State files and the deployed-revision record stay in the bucket; KMS keys wait out their deletion window.
    expect(await leftovers()).toEqual({
      vpcs: 0,
      subnets: 0,
      natGateways: 0,
      addresses: 0,
      internetGateways: 0,
      flowLogs: 0,
      loadBalancers: 0,
      targetGroups: 0,
      roles: 0,
      functions: 0,
      alarms: 0,
      topics: 0,
      logGroups: 0,
      eksClusters: 0,
      kmsKeysNotPendingDeletion: 0,
    });
  }, 900_000);
});
