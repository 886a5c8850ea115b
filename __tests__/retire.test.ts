import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { ConfigSources, parseFleetConfig, readConfigSources } from "../modules/config/load";
import { cloudWatchClient, elbClient } from "../modules/traffic/aws-clients";
import { checkLiveRetirement, deleteLeftoverLogGroup, planRetirement, RetirementCheckOptions } from "../modules/traffic/retire";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { offlineCliEnvironment, runCommandLine, scratchProject, stacksThatReachedAws } from "./helpers/cdktf-cli";
import { twoAlbSources, withClusterFile } from "./helpers/fleet";
import { standInServing } from "./helpers/stand-in-project";
import { describeWithTerraform } from "./helpers/terraform-checks";

const base = generatedFleetSources(2);
const c00 = base.clusters.find((c) => c.file === "clusters/c00.yaml")!;
const retiring = withClusterFile(base, c00.file, c00.text.replace("name: c00\n", "name: c00\nstate: retiring\n").replace("svc0: 10", "svc0: 0"));

describe("planRetirement", () => {
  it("names the cluster's stack, file, services and control-plane log group", () => {
    expect(planRetirement(parseFleetConfig(retiring), "c00")).toEqual({
      cluster: "c00",
      file: "clusters/c00.yaml",
      stack: "cluster-c00",
      services: ["svc0"],
      edgeStacks: ["edge"],
      logGroup: "/aws/eks/gen-c00/cluster",
    });
  });

  it.each<[string, ConfigSources, string]>([
    ["a cluster carrying traffic", base, "c00 still carries traffic (svc0=10): shift it away"],
    [
      "a cluster that is not retiring",
      withClusterFile(base, c00.file, c00.text.replace("svc0: 10", "svc0: 0")),
      "c00 is active: set state: retiring in clusters/c00.yaml",
    ],
  ])("refuses %s", (_title, sources, message) => {
    expect(() => planRetirement(parseFleetConfig(sources), "c00")).toThrow(message);
  });

  it("names every service a cluster still carries traffic for, and only those", () => {
    const sources = twoAlbSources();
    const green = sources.clusters.find((c) => c.file === "clusters/green.yaml")!;
    expect(() => planRetirement(parseFleetConfig(sources), "green")).toThrow("green still carries traffic (web=50, api=50): shift it away (npm run shift -- green=0) and deploy first");
    const webDrained = parseFleetConfig(withClusterFile(sources, green.file, green.text.replace("web: 50", "web: 0")));
    expect(() => planRetirement(webDrained, "green")).toThrow("green still carries traffic (api=50): shift it away");
  });

  it("refuses an unknown cluster", () => {
    expect(() => planRetirement(parseFleetConfig(retiring), "c09")).toThrow("unknown cluster c09; clusters: c00, c01");
  });
});

describe("deleteLeftoverLogGroup over HTTP", () => {
  it("deletes the log group EKS created again, and only that one", async () => {
    const aws = new AwsStandIn(worldOf(parseFleetConfig(retiring)));
    aws.world.logGroups.add("/aws/eks/gen-c00/cluster").add("/aws/eks/gen-c00/cluster-other");
    await aws.start();
    try {
      const client = new CloudWatchLogsClient({ endpoint: aws.url, region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
      expect(await deleteLeftoverLogGroup(client, "/aws/eks/gen-c00/cluster")).toBe("deleted /aws/eks/gen-c00/cluster, which EKS had created again");
      expect([...aws.world.logGroups]).toEqual(["/aws/eks/gen-c00/cluster-other"]);
      expect(await deleteLeftoverLogGroup(client, "/aws/eks/gen-c00/cluster")).toBe("no log group /aws/eks/gen-c00/cluster left");
      // Looked for by its name, not among every log group of the account.
      expect(aws.calls.filter((c) => c.action === "DescribeLogGroups").map((c) => c.input)).toEqual([
        { logGroupNamePrefix: "/aws/eks/gen-c00/cluster" },
        { logGroupNamePrefix: "/aws/eks/gen-c00/cluster" },
      ]);
    } finally {
      await aws.stop();
    }
  });
});

/**
 * The live check before a retirement, in process: the real SDK clients reach
 * the ELBv2 and CloudWatch stand-in over HTTP. Two ALBs: web on edge, api on
 * edge-internal; green is retiring, weight 0 in its file for both.
 */
describe("checkLiveRetirement over HTTP", () => {
  const serve = standInServing();
  const NOW = new Date("2026-12-01T12:00:30Z");
  const greenRetiring = () => {
    const sources = twoAlbSources();
    const green = sources.clusters.find((c) => c.file === "clusters/green.yaml")!;
    return parseFleetConfig(withClusterFile(sources, green.file, green.text.replace("name: green\n", "name: green\nstate: retiring\n").replace("web: 50", "web: 0").replace("api: 50", "api: 0")));
  };
  const check = async (options: RetirementCheckOptions = {}) => {
    const fleet = greenRetiring();
    return checkLiveRetirement(await elbClient(fleet), await cloudWatchClient(fleet), fleet, planRetirement(fleet, "green"), { now: NOW, ...options });
  };
  /** The stand-in with the files' weights live before green was drained (50 on both services); `drained` live at 0. */
  const standIn = async (drained: readonly string[] = []) => {
    const aws = await serve(parseFleetConfig(twoAlbSources()));
    for (const service of drained) aws.rule(service).forward.find((f) => f.arn === aws.targetGroup("green", service).arn)!.weight = 0;
    return aws;
  };
  const served = (aws: AwsStandIn, service: string, requests: number, minutes = 30) =>
    `${service}: green's target group ${aws.targetGroup("green", service).arn.split(":targetgroup/")[1].split("/")[0]} served ${requests} requests in the last ${minutes} min: wait until npm run status shows it idle`;

  it("refuses while a live rule on any ALB still sends the cluster traffic, naming services, weights and the edge stacks to deploy, before reading CloudWatch", async () => {
    const aws = await standIn();
    await expect(check()).rejects.toThrow(
      "the live listener rules still send green traffic (api=50, web=50): deploy the edge (npm run deploy -- --only edge edge-internal) and retire again; nothing was destroyed",
    );
    aws.rule("web").forward.find((f) => f.arn === aws.targetGroup("green", "web").arn)!.weight = 0;
    await expect(check()).rejects.toThrow("the live listener rules still send green traffic (api=50): deploy the edge (npm run deploy -- --only edge-internal) and retire");
    expect(aws.calls.filter((c) => c.api === "cloudwatch")).toEqual([]);
  });

  it("passes once every live rule gives the cluster weight 0 and it served no request in the idle minutes, 30 unless told", async () => {
    const aws = await standIn(["web", "api"]);
    expect(await check()).toEqual(["the live listener rules give green weight 0 (api, web)", "green served no request in the last 30 min"]);
    expect(await check({ idleMinutes: 10 })).toEqual(["the live listener rules give green weight 0 (api, web)", "green served no request in the last 10 min"]);
    const windows = aws.calls.filter((c) => c.api === "cloudwatch").map((c) => [c.input.StartTime, c.input.EndTime].map((t) => new Date(Number(t) * 1000).toISOString()));
    expect(windows).toEqual([
      ["2026-12-01T11:30:00.000Z", "2026-12-01T12:01:00.000Z"],
      ["2026-12-01T11:50:00.000Z", "2026-12-01T12:01:00.000Z"],
    ]);
  });

  it("refuses a cluster whose target groups served requests in the idle minutes, naming each, unless forced with a reason", async () => {
    const aws = await standIn(["web", "api"]);
    aws.targetGroup("green", "web").servedRequests = 7;
    aws.targetGroup("green", "api").servedRequests = 3;
    await expect(check()).rejects.toMatchObject({ name: "GateRefusal", refusals: [served(aws, "web", 7), served(aws, "api", 3)] });
    expect(await check({ forceReason: "the uptime probe" })).toEqual([
      "the live listener rules give green weight 0 (api, web)",
      "FORCED past 2 refusals, reason: the uptime probe",
      `  forced: ${served(aws, "web", 7)}`,
      `  forced: ${served(aws, "api", 3)}`,
    ]);
  });

  it("takes a cluster that a live rule no longer forwards to as weight 0 there, and reads only its remaining target groups", async () => {
    const aws = await standIn(["api"]);
    const rule = aws.rule("web");
    rule.forward = rule.forward.filter((f) => f.arn !== aws.targetGroup("green", "web").arn);
    aws.targetGroup("green", "web").servedRequests = 5;
    expect(await check()).toEqual(["the live listener rules give green weight 0 (api, web)", "green served no request in the last 30 min"]);
  });

  it("reads nothing live for a cluster in no listener rule", async () => {
    const aws = await standIn();
    const fleet = greenRetiring();
    const retirement = { ...planRetirement(fleet, "green"), services: [] };
    expect(await checkLiveRetirement(await elbClient(fleet), await cloudWatchClient(fleet), fleet, retirement, { now: NOW })).toEqual(["green is in no listener rule"]);
    expect(aws.calls).toEqual([]);
  });
});

describeWithTerraform("npm run retire with the real cdktf CLI", (terraform) => {
  let project: string;
  let aws: AwsStandIn;
  let env: NodeJS.ProcessEnv;

  /** The example fleet with green retiring: weight 0 in its file. */
  beforeAll(async () => {
    project = scratchProject();
    const greenFile = path.join(project, "clusters", "green.yaml");
    fs.writeFileSync(greenFile, fs.readFileSync(greenFile, "utf8").replace("name: green", "name: green\nstate: retiring").replace(/web: \d+/, "web: 0"));
    fs.writeFileSync(path.join(project, "clusters", "blue.yaml"), fs.readFileSync(path.join(project, "clusters", "blue.yaml"), "utf8").replace(/web: \d+/, "web: 100"));
    aws = new AwsStandIn(worldOf(parseFleetConfig(readConfigSources(project))));
    aws.world.logGroups.add("/aws/eks/demo-green/cluster");
    await aws.start();
    env = offlineCliEnvironment(terraform.providerSource, aws.environment());
  });

  afterAll(() => aws?.stop());

  it("refuses while the live rules still send the cluster traffic, destroying nothing", async () => {
    aws.rule("web").forward.forEach((f) => (f.weight = 50));
    try {
      const run = await runCommandLine("npm run retire -- green --auto-approve", project, env);
      expect(run.status).toBe(1);
      expect(run.output).toContain("the live listener rules still send green traffic (web=50): deploy the edge (npm run deploy -- --only edge)");
      expect(aws.callNames()).not.toContain("sts:GetCallerIdentity");
      expect(fs.existsSync(path.join(project, "clusters", "green.yaml"))).toBe(true);
    } finally {
      aws.rule("web").forward.forEach((f, i) => (f.weight = i === 0 ? 100 : 0));
    }
  });

  it("refuses while the drained cluster's target groups served requests in the last --idle-minutes, naming them, destroying nothing", async () => {
    aws.targetGroup("green", "web").servedRequests = 1830;
    aws.calls.length = 0;
    try {
      const run = await runCommandLine("npm run retire -- green --auto-approve --idle-minutes 10", project, env);
      expect(run.status).toBe(1);
      expect(run.output).toMatch(
        /refused, nothing was changed:\n {2}web: green's target group demo-green-web-[0-9a-f]{6} served 1830 requests in the last 10 min: wait until npm run status shows it idle\noverride only knowingly: --force "<reason>"/,
      );
      expect(run.output).not.toContain("    at ");
      expect(run.output).not.toContain("step 2/5");
      // The window asked of CloudWatch is the one named, on green's target group.
      const query = aws.calls.find((c) => c.api === "cloudwatch")!;
      expect(Number(query.input.EndTime) - Number(query.input.StartTime)).toBeGreaterThanOrEqual(10 * 60);
      expect(Number(query.input.EndTime) - Number(query.input.StartTime)).toBeLessThanOrEqual(11 * 60);
      expect(JSON.stringify(query.input.MetricDataQueries)).toContain(`"Value":"targetgroup/${aws.targetGroup("green", "web").arn.split(":targetgroup/")[1]}"`);
      expect(aws.callNames()).not.toContain("sts:GetCallerIdentity");
      expect(aws.callNames().filter((call) => call.startsWith("logs:"))).toEqual([]);
      expect(fs.existsSync(path.join(project, "clusters", "green.yaml"))).toBe(true);
    } finally {
      aws.targetGroup("green", "web").servedRequests = undefined;
    }
  });

  it("retires despite requests served with --force, echoing the reason", async () => {
    aws.targetGroup("green", "web").servedRequests = 42;
    try {
      const run = await runCommandLine(`npm run retire -- green --auto-approve --force "green's last requests were the old uptime probe"`, project, env);
      expect(run.output).toContain("FORCED past 1 refusal, reason: green's last requests were the old uptime probe");
      expect(run.output).toMatch(/forced: web: green's target group demo-green-web-[0-9a-f]{6} served 42 requests in the last 30 min/);
      expect(run.output).toContain("step 2/5: destroy cluster-green-k8s, cluster-green");
      expect(run.output).toContain("npx cdktf destroy cluster-green-k8s cluster-green --skip-synth --skip-provider-lock --auto-approve");
    } finally {
      aws.targetGroup("green", "web").servedRequests = undefined;
    }
  });

  it("checks live, then destroys the in-cluster stack before the cluster stack, and stops when that fails", async () => {
    aws.calls.length = 0;
    const run = await runCommandLine("npm run retire -- green --auto-approve", project, env);
    expect(run.output).toContain("the live listener rules give green weight 0 (web)");
    // Drained: CloudWatch holds no datapoint for green, which counts as no request.
    expect(run.output).toContain("green served no request in the last 30 min");
    expect(aws.callNames()).toContain("cloudwatch:GetMetricData");
    expect(run.output).toContain("npx cdktf destroy cluster-green-k8s cluster-green --skip-synth --skip-provider-lock --auto-approve");
    expect(run.output).not.toMatch(/Usage Error/i);
    // cdktf destroys the dependant first (it stops where Terraform starts the in-cluster provider,
    // a placeholder here) and never starts the cluster stack, which would have reached AWS.
    expect(run.output).toMatch(/^cluster-green-k8s\s+(.|\n)*Could not load the schema for provider\s+registry.terraform.io\/hashicorp\/helm/m);
    expect(run.output).toContain("1 Stack waiting");
    expect(stacksThatReachedAws(run.output)).toEqual([]);
    expect(run.status).toBe(1);
    expect(run.output).toContain("step 2 failed (exit 1); fix it and run npm run retire -- green again");
    expect(aws.callNames().filter((call) => call.startsWith("logs:"))).toEqual([]);
    expect(fs.existsSync(path.join(project, "clusters", "green.yaml"))).toBe(true);
  });

  it("lists the steps on --dry-run and changes nothing", () => {
    const result = spawnSync("npm", ["run", "--silent", "retire", "--", "green", "--dry-run"], { cwd: project, env, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("step 2/5: destroy cluster-green-k8s, cluster-green");
    expect(result.stdout).toContain("step 3/5: delete /aws/eks/demo-green/cluster if EKS created it again");
    expect(result.stdout).toContain("step 4/5: delete clusters/green.yaml");
    expect(fs.existsSync(path.join(project, "clusters", "green.yaml"))).toBe(true);
  });
});
