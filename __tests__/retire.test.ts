import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { ConfigSources, parseFleetConfig, readConfigSources } from "../modules/config/load";
import { deleteLeftoverLogGroup, planRetirement } from "../modules/traffic/retire";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { offlineCliEnvironment, runCommandLine, scratchProject, stacksThatReachedAws } from "./helpers/cdktf-cli";
import { withClusterFile } from "./helpers/fleet";
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
    } finally {
      await aws.stop();
    }
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
