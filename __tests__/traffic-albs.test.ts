import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { failoverSettingsOf } from "../modules/config/failover";
import { parseFleetConfig } from "../modules/config/load";
import { runFailover } from "../modules/traffic/failover";
import { createFailoverHandler } from "../modules/traffic/failover-handler";
import { fileLockStore, readTrafficLock } from "../modules/traffic/traffic-lock";
import { planRetirement, checkLiveRetirement } from "../modules/traffic/retire";
import type { AwsStandIn, StandInCall } from "../scripts/lib/aws-stand-in";
import { twoAlbSources, withClusterFile } from "./helpers/fleet";
import { standInProjectPerTest } from "./helpers/stand-in-project";
import { runScriptAsync } from "./helpers/run-async";

/**
 * A fleet of two ALBs ({@link twoAlbSources}). The commands as users run them, with
 * the real AWS SDK reaching the stand-in over HTTP.
 */
const sources = twoAlbSources();
const fleet = parseFleetConfig(sources);
const perTest = standInProjectPerTest(sources);
let standIn: AwsStandIn;
let project: string;
beforeEach(() => ({ standIn, project } = perTest()));

function run(script: string, args: string[]) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment() };
  return runScriptAsync(`scripts/${script}.ts`, ["--config-dir", project, ...args], { env });
}

/** The ALB names each DescribeLoadBalancers call asked for, in order. */
const albsAskedFor = () => standIn.calls.filter((c) => c.action === "DescribeLoadBalancers").flatMap((c) => c.input.Names as string[]);
/** The rule ARNs ModifyRule changed, in order. */
const modifiedRules = () => standIn.calls.filter((c) => c.action === "ModifyRule").map((c) => c.input.RuleArn);
/** `LoadBalancer` dimension by `TargetGroup` dimension of the CloudWatch queries made. */
function metricDimensions(calls: readonly StandInCall[]): Map<string, string> {
  type Query = { MetricStat: { Metric: { Dimensions: { Name: string; Value: string }[] } } };
  const queries = calls.filter((c) => c.api === "cloudwatch").flatMap((c) => c.input.MetricDataQueries as Query[]);
  const value = (q: Query, name: string) => q.MetricStat.Metric.Dimensions.find((d) => d.Name === name)!.Value;
  return new Map(queries.map((q) => [value(q, "TargetGroup"), value(q, "LoadBalancer")]));
}
const dimensionOf = (arn: string) => arn.slice(arn.lastIndexOf(":") + 1);
const fileText = (cluster: string) => fs.readFileSync(path.join(project, "clusters", `${cluster}.yaml`), "utf8");

it("the stand-in serves both ALBs, each with its own rules", () => {
  expect(standIn.world.loadBalancers.map((lb) => [lb.name, lb.stack])).toEqual([
    ["demo-alb", "edge"],
    ["demo-internal-alb", "edge-internal"],
  ]);
  expect(standIn.rule("api").listenerArn).toBe(standIn.loadBalancer("edge-internal").listenerArn);
  expect(standIn.rule("web").listenerArn).toBe(standIn.loadBalancer("edge").listenerArn);
});

describe("shift across ALBs", () => {
  it("shift --to green --now moves the rules on both ALBs, reading each ALB once, and the files", async () => {
    const result = await run("shift", ["--to", "green", "--now"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`live: web: rule ${standIn.rule("web").arn} now blue=0 green=100 (was blue=50 green=50)`);
    expect(result.stdout).toContain(`api: rule ${standIn.rule("api").arn} now blue=0 green=100 (was blue=50 green=50)`);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
    expect(standIn.weights("api")).toEqual({ blue: 0, green: 100 });
    expect(fileText("blue")).toContain("  web: 0\n  api: 0\n");
    expect(result.stdout).toContain("commit and deploy edge, edge-internal so Terraform agrees");
    expect(albsAskedFor()).toEqual(["demo-alb", "demo-internal-alb"]);
    expect(new Set(modifiedRules())).toEqual(new Set([standIn.rule("web").arn, standIn.rule("api").arn]));
  });

  it("a shift of the files names the edge stack that deploys it", async () => {
    const result = await run("shift", ["blue=0", "green=100", "--service", "api"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("commit and deploy edge-internal so Terraform agrees");
    expect(standIn.calls).toEqual([]);
  });

  it("a failed write on the internal ALB puts the rule already changed on the other back", async () => {
    standIn.refusedRules.add(standIn.rule("api").arn);
    const result = await run("shift", ["--to", "green", "--now"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/changing the live rules failed: .*AccessDenied.*; put back web/);
    // What is live is read back from both ALBs.
    expect(result.stderr).toContain("live now: web blue=50 green=50, api blue=50 green=50");
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
    expect(standIn.weights("api")).toEqual({ blue: 50, green: 50 });
    expect(fileText("blue")).toContain("  web: 50\n  api: 50\n");
  });

  it("a progressive shift reads each target group's metrics under its own ALB", async () => {
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      "step 1/2: web blue=25 green=75 · healthy blue 2, green 2 · 5xx blue 0.1%, green 0.1% · latency blue 80 ms, green 80 ms | api blue=25 green=75 · healthy blue 2, green 2 · 5xx blue 0.1%, green 0.1% · latency blue 80 ms, green 80 ms",
    );
    expect(standIn.weights("api")).toEqual({ blue: 0, green: 100 });
    const dimensions = metricDimensions(standIn.calls);
    expect(dimensions.get(dimensionOf(standIn.targetGroup("green", "api").arn))).toBe(dimensionOf(standIn.loadBalancer("edge-internal").arn).replace("loadbalancer/", ""));
    expect(dimensions.get(dimensionOf(standIn.targetGroup("green", "web").arn))).toBe(dimensionOf(standIn.loadBalancer("edge").arn).replace("loadbalancer/", ""));
  });
});

describe("status across ALBs", () => {
  it("groups the services by ALB, naming each ALB and its stack, with request counts from each ALB's metrics", async () => {
    standIn.rule("api").forward[0].weight = 20;
    const result = await run("status", ["--minutes", "5"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/\nload balancer demo-alb \(stack edge\)\nservice .*\nweb\s+blue\s+50\s+50\s+2\s+0\s+0\s+0\s+0\s+\d+\s+50%.*\nweb\s+green.*\n\nload balancer demo-internal-alb \(stack edge-internal\)\n/);
    expect(result.stdout).toMatch(/load balancer demo-internal-alb \(stack edge-internal\)\nservice .*\napi\s+blue\s+50\s+20 ≠\s+2\s+0\s+0\s+0\s+0\s+\d+\s+28.6%/);
    expect(result.stdout).toContain("api: DRIFT live blue=20 green=50, files blue=50 green=50");
  });

  it("--json gives every ALB with its stack and services, each service's ALB, and the ALB of alb: where it always was", async () => {
    const result = await run("status", ["--json", "--minutes", "5"]);
    expect(result.status).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.loadBalancer).toBe("demo-alb");
    expect(status.loadBalancers).toEqual([
      { name: "demo-alb", stack: "edge", services: ["web"] },
      { name: "demo-internal-alb", stack: "edge-internal", services: ["api"] },
    ]);
    expect(status.services.map((s: { service: string; loadBalancer: string }) => [s.service, s.loadBalancer])).toEqual([
      ["web", "demo-alb"],
      ["api", "demo-internal-alb"],
    ]);
    expect(status.services[1].clusters[0].requests).toBeGreaterThan(0);
  });

  it("--mermaid draws one subgraph per ALB", async () => {
    standIn.targetGroup("green", "api").targets.forEach((t) => (t.state = "unhealthy"));
    const result = await run("status", ["--mermaid", "--minutes", "0"]);
    const picture = result.stdout;
    expect(picture).toContain(
      [
        '  subgraph edge["edge"]',
        '    alb_edge["ALB demo-alb"]',
        '    alb_edge --> rule_web["rule web"]',
        '    rule_web -- "weight 50 (50%)" --> tg_web_blue["web/blue<br/>2 healthy"]',
        '    rule_web -- "weight 50 (50%)" --> tg_web_green["web/green<br/>2 healthy"]',
        "  end",
        '  subgraph edge_internal["edge-internal"]',
        '    alb_edge_internal["ALB demo-internal-alb"]',
        '    alb_edge_internal --> rule_api["rule api"]',
      ].join("\n"),
    );
    expect(picture).toContain("  tg_api_green --> cluster_green");
    expect(picture).toContain("class tg_api_green unhealthy");
  });
});

describe("preflight of one edge stack", () => {
  it("preflight edge-internal checks the internal ALB only: it refuses to revert a live failover of api", async () => {
    standIn.rule("api").forward[0].weight = 0;
    standIn.rule("web").forward[0].weight = 0;
    const refused = await run("preflight", ["edge-internal"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("api: a live failover (live blue=0 green=50, last deployed blue=50 green=50) would be reverted");
    expect(refused.stderr).not.toContain("web:");
    expect(albsAskedFor()).toEqual(["demo-internal-alb"]);

    standIn.rule("api").forward[0].weight = 50;
    const passed = await run("preflight", ["edge-internal"]);
    expect(passed.stdout).toContain("edge-internal: api: live blue=50 green=50 → files blue=50 green=50\npreflight passed");
    const edge = await run("preflight", ["edge"]);
    expect(edge.stderr).toContain("web: a live failover");
    expect(edge.stderr).not.toContain("api:");
  });

  it("preflight of a cluster going to standby reads the live weights and requests on every ALB", async () => {
    const blueFile = path.join(project, "clusters", "blue.yaml");
    fs.writeFileSync(blueFile, fileText("blue").replace("name: blue\n", "name: blue\nstate: standby\n").replace("  web: 50\n  api: 50\n", "  web: 0\n  api: 0\n"));
    standIn.rule("web").forward[0].weight = 0;
    const refused = await run("preflight", ["cluster-blue", "--idle-minutes", "10"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("api: blue still has live weight 50: shift its traffic away first");
    expect(refused.stderr).toMatch(/api: blue's target group demo-blue-api-[0-9a-f]{6} served \d+ requests in the last 10 min/);
    expect(refused.stderr).not.toContain("web: blue");
  });

  it("an ALB not deployed yet has nothing live to protect; status shows the other ALBs and names it, shift names it and changes nothing", async () => {
    standIn.loadBalancer("edge-internal").deployed = false;
    const preflight = await run("preflight", ["edge", "edge-internal"]);
    expect(preflight.stdout).toContain("edge-internal: no load balancer deployed yet (demo-internal-alb), nothing live to protect");
    expect(preflight.stdout).toContain("edge: web: live blue=50 green=50 → files blue=50 green=50");
    expect(preflight.status).toBe(0);

    const status = await run("status", ["--minutes", "0"]);
    expect(status.status).toBe(1);
    expect(status.stdout).toContain("load balancer demo-alb (stack edge)\n");
    expect(status.stdout).toMatch(/^web +blue +50 +50 /m);
    expect(status.stdout).toContain("load balancer demo-internal-alb (stack edge-internal): not deployed yet (api)");
    expect(status.stdout).toContain("api: NOT DEPLOYED: no listener rule on demo-internal-alb yet: deploy edge-internal");
    const shift = await run("shift", ["--to", "green", "--now"]);
    expect(shift.status).toBe(1);
    expect(shift.stderr).toContain("no load balancer named demo-internal-alb in eu-west-1 (stack edge-internal, for api)");
    expect(modifiedRules()).toEqual([]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
    expect(fileText("blue")).toContain("  web: 50\n  api: 50\n");
  });
});

describe("retire across ALBs", () => {
  const retiring = (() => {
    const blue = sources.clusters.find((c) => c.file === "clusters/blue.yaml")!;
    return parseFleetConfig(withClusterFile(sources, blue.file, blue.text.replace("name: blue\n", "name: blue\nstate: retiring\n").replace("  web: 50\n  api: 50\n", "  web: 0\n  api: 0\n")));
  })();
  const clients = () => ({ elb: new ElasticLoadBalancingV2Client(sdkSettings()), cloudWatch: new CloudWatchClient(sdkSettings()) });
  const sdkSettings = () => ({
    region: standIn.environment().AWS_REGION,
    endpoint: standIn.url,
    credentials: { accessKeyId: standIn.environment().AWS_ACCESS_KEY_ID, secretAccessKey: standIn.environment().AWS_SECRET_ACCESS_KEY },
  });

  it("plans a final deploy of every edge stack whose ALB routes the cluster", () => {
    expect(planRetirement(retiring, "blue")).toMatchObject({ services: ["api", "web"], edgeStacks: ["edge", "edge-internal"] });
  });

  it("checks the live weights on both ALBs, naming the edge stack still sending traffic", async () => {
    standIn.rule("web").forward[0].weight = 0;
    const { elb, cloudWatch } = clients();
    const retirement = planRetirement(retiring, "blue");
    await expect(checkLiveRetirement(elb, cloudWatch, retiring, retirement, { idleMinutes: 5 })).rejects.toThrow(
      "the live listener rules still send blue traffic (api=50): deploy the edge (npm run deploy -- --only edge-internal) and retire again; nothing was destroyed",
    );
    standIn.rule("api").forward[0].weight = 0;
    standIn.targetGroup("blue", "api").servedRequests = 7;
    await expect(checkLiveRetirement(elb, cloudWatch, retiring, retirement, { idleMinutes: 5 })).rejects.toThrow(/api: blue's target group demo-blue-api-[0-9a-f]{6} served 7 requests/);
    // Each target group's requests were asked of CloudWatch under its own ALB.
    expect(metricDimensions(standIn.calls).get(dimensionOf(standIn.targetGroup("blue", "api").arn))).toBe(dimensionOf(standIn.loadBalancer("edge-internal").arn).replace("loadbalancer/", ""));
    standIn.targetGroup("blue", "api").servedRequests = undefined;
    expect(await checkLiveRetirement(elb, cloudWatch, retiring, retirement, { idleMinutes: 5 })).toEqual([
      "the live listener rules give blue weight 0 (api, web)",
      "blue served no request in the last 5 min",
    ]);
  });

  it("the command's live checks cover both ALBs and both final edge deploys, before anything is destroyed", async () => {
    fs.writeFileSync(path.join(project, "clusters", "blue.yaml"), fileText("blue").replace("name: blue\n", "name: blue\nstate: retiring\n").replace("  web: 50\n  api: 50\n", "  web: 0\n  api: 0\n"));
    for (const service of ["web", "api"]) standIn.rule(service).forward[0].weight = 0;
    standIn.rule("web").tags["deployed-weights"] = "blue=0 green=50";
    // api's drain is a live failover not yet deployed: the final deploy of edge-internal would revert it.
    const result = await run("retire", ["blue", "--auto-approve"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("the live listener rules give blue weight 0 (api, web)");
    expect(result.stderr).toContain("api: a live failover (live blue=0 green=50, last deployed blue=50 green=50) would be reverted");
    expect(albsAskedFor()).toEqual(["demo-alb", "demo-internal-alb", "demo-alb", "demo-internal-alb"]);
    expect(result.stdout).not.toContain("step 2/5");
    expect(fs.existsSync(path.join(project, "clusters", "blue.yaml"))).toBe(true);
  });

  it("--dry-run lists the final deploy of both edge stacks", async () => {
    const blueFile = path.join(project, "clusters", "blue.yaml");
    fs.writeFileSync(blueFile, fileText("blue").replace("name: blue\n", "name: blue\nstate: retiring\n").replace("  web: 50\n  api: 50\n", "  web: 0\n  api: 0\n"));
    const result = await run("retire", ["blue", "--dry-run"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("the final deploy of edge, edge-internal may go");
    expect(result.stdout).toContain("step 5/5: deploy edge, edge-internal (drops blue's target groups), once the file is gone");
  });
});

describe("the automatic failover per ALB", () => {
  const saved = { ...process.env };
  beforeEach(() => Object.assign(process.env, standIn.environment()));
  afterEach(() => (process.env = { ...saved }));

  it("the function of edge reads and changes only its own ALB; the function of edge-internal moves only api", async () => {
    standIn.targetGroup("blue", "api").targets.forEach((t) => (t.state = "unhealthy"));
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      expect(await createFailoverHandler(failoverSettingsOf(fleet))({})).toEqual({ moved: [], unresolved: false });
      expect(albsAskedFor()).toEqual(["demo-alb"]);
      const internalListener = standIn.loadBalancer("edge-internal").listenerArn;
      expect(standIn.calls.filter((c) => c.input.ListenerArn === internalListener || c.input.RuleArns !== undefined)).toEqual([]);
      expect(modifiedRules()).toEqual([]);

      standIn.calls.length = 0;
      expect(await createFailoverHandler(failoverSettingsOf(fleet, "internal"))({})).toEqual({ moved: ["api"], unresolved: false });
      expect(albsAskedFor().every((name) => name === "demo-internal-alb")).toBe(true);
      expect(modifiedRules()).toEqual([standIn.rule("api").arn]);
    } finally {
      log.mockRestore();
    }
    expect(standIn.weights("api")).toEqual({ blue: 0, green: 50 });
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });

  it("a cluster failing on both ALBs: each ALB's run moves its service, the second waiting for the first to release the lock", async () => {
    for (const service of ["web", "api"]) standIn.targetGroup("blue", service).targets.forEach((t) => (t.state = "unhealthy"));
    // The first write takes a while, so that both runs want the lock at once.
    standIn.faults.set("ModifyRule", { delayMs: 1500, times: 1 });
    const lock = fileLockStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-lock-")), "traffic.lock"));
    const clients = { elb: new ElasticLoadBalancingV2Client({}), cloudWatch: new CloudWatchClient({}) };
    const options = { now: new Date(), actor: "automatic-failover", lock };
    const [edge, internal] = await Promise.all([runFailover(clients, failoverSettingsOf(fleet), options), runFailover(clients, failoverSettingsOf(fleet, "internal"), options)]);
    expect([edge.moved, internal.moved]).toEqual([["web"], ["api"]]);
    expect([edge.unresolved, internal.unresolved]).toEqual([false, false]);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50 });
    expect(standIn.weights("api")).toEqual({ blue: 0, green: 50 });
    expect(await readTrafficLock(lock)).toBeUndefined();
  });

  it("npm run failover -- --once runs each ALB's failover, saying which", async () => {
    standIn.targetGroup("blue", "api").targets.forEach((t) => (t.state = "unhealthy"));
    const dry = await run("failover", ["--once", "--dry-run"]);
    expect(dry.stderr).toBe("");
    expect(dry.stdout).toContain("failover of demo-alb (stack edge):\nweb: every weighted cluster serves\n");
    expect(dry.stdout).toContain(
      "failover of demo-internal-alb (stack edge-internal):\napi: blue: 0 healthy targets, fewer than minHealthyTargets 1; moving to blue=0 green=50 (was blue=50 green=50)\napi: dry run, nothing was changed",
    );
    expect(modifiedRules()).toEqual([]);
    const once = await run("failover", ["--once"]);
    expect(once.status).toBe(0);
    expect(standIn.weights("api")).toEqual({ blue: 0, green: 50 });
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });

  it("npm run failover -- --once judges the other ALBs when one cannot be read, and exits 1 naming it", async () => {
    standIn.loadBalancer("edge").deployed = false;
    standIn.targetGroup("blue", "api").targets.forEach((t) => (t.state = "unhealthy"));
    const once = await run("failover", ["--once"]);
    expect(once.status).toBe(1);
    expect(once.stdout).toContain("failover of demo-alb (stack edge):\ndemo-alb: not judged: no load balancer named demo-alb in eu-west-1: nothing to judge\n");
    expect(once.stderr).toContain("the failover of demo-alb (no load balancer named demo-alb in eu-west-1: nothing to judge) could not run; the other ALBs were judged");
    expect(standIn.weights("api")).toEqual({ blue: 0, green: 50 });
  });
});
