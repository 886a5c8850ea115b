import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { AwsStandIn } from "../scripts/lib/aws-stand-in";
import { standInProjectPerTest } from "./helpers/stand-in-project";
import { exampleSources } from "./helpers/fleet";
import { runScriptAsync } from "./helpers/run-async";

/**
 * The commands as users run them (compiled scripts), with the real AWS SDK
 * reaching a local ELBv2 + CloudWatch stand-in over HTTP via AWS_ENDPOINT_URL.
 */
const example = exampleSources();
const perTest = standInProjectPerTest(example);
let standIn: AwsStandIn;
let project: string;
beforeEach(() => ({ standIn, project } = perTest()));

/** Runs a compiled script against the stand-in, on the scratch project. */
function run(script: string, args: string[], onLine?: (line: string) => void, onStart?: (child: ChildProcess) => void) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment() };
  return runScriptAsync(`scripts/${script}.ts`, ["--config-dir", project, ...args], { env, onLine, onStart });
}

const fileWeight = (cluster: string) => /web: (\d+)/.exec(fs.readFileSync(path.join(project, "clusters", `${cluster}.yaml`), "utf8"))![1];
const fileWeights = () => ({ blue: Number(fileWeight("blue")), green: Number(fileWeight("green")) });
const modifyCalls = () => standIn.calls.filter((c) => c.action === "ModifyRule").length;

describe("healthy shift", () => {
  it("shift --to green --now moves the live rule and the files", async () => {
    const result = await run("shift", ["--to", "green", "--now"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`live: web: rule ${standIn.rule("web").arn} now blue=0 green=100 (was blue=50 green=50)`);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
    expect(fileWeights()).toEqual({ blue: 0, green: 100 });
    // A one-step shift needs only ELBv2.
    expect(standIn.calls.every((c) => c.api === "elbv2")).toBe(true);
    // No drift, but Terraform has yet to deploy the files.
    const status = await run("status", ["--minutes", "0"]);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain("web: files and live agree; Terraform last deployed blue=50 green=50: merge the files and deploy edge");
  });

  it("a progressive shift steps to green, one line per step, and leaves the files holding the live weights", async () => {
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const steps = result.stdout.split("\n").filter((l) => l.startsWith("step "));
    expect(steps).toEqual([
      "step 1/2: web blue=25 green=75 · healthy blue 2, green 2 · 5xx blue 0.1%, green 0.1% · latency blue 80 ms, green 80 ms",
      "step 2/2: web blue=0 green=100 · healthy blue 2, green 2 · 5xx blue no data, green 0.1% · latency blue no data, green 80 ms",
    ]);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
    expect(fileWeights()).toEqual({ blue: 0, green: 100 });
    // CloudWatch is asked over AWS JSON 1.0 (the stand-in refuses anything else) per target group.
    const query = standIn.calls.find((c) => c.api === "cloudwatch")!;
    expect(query.action).toBe("GetMetricData");
    const metrics = (query.input.MetricDataQueries as { MetricStat: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] } } }[]).map(
      (q) => `${q.MetricStat.Metric.MetricName} ${q.MetricStat.Metric.Dimensions.map((d) => `${d.Name}=${d.Value}`).join(",")}`,
    );
    expect(metrics).toContainEqual(
      expect.stringMatching(/^HTTPCode_Target_5XX_Count LoadBalancer=app\/demo-alb\/50dc6c495c0c9188,TargetGroup=targetgroup\/demo-green-web-[0-9a-f]{6}\/6d0ecf831eec0001$/),
    );
    expect(metrics.map((m) => m.split(" ")[0])).toEqual(expect.arrayContaining(["RequestCount", "TargetResponseTime"]));
    expect(typeof query.input.StartTime).toBe("number");
  });

  it("stops between steps on SIGINT with rules and files agreeing", async () => {
    // Interrupted during the first step's interval, once its ModifyRule reached the API.
    const interruptAfterFirstStep = (child: ChildProcess) => {
      const poll = setInterval(() => {
        if (modifyCalls() === 0) return;
        clearInterval(poll);
        child.kill("SIGINT");
      }, 20);
      child.on("close", () => clearInterval(poll));
    };
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "30s"], undefined, interruptAfterFirstStep);
    expect(result.status).toBe(130);
    expect(result.stdout).toContain("stopped after step 1/2: rules and files hold web blue=25 green=75");
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
    expect(fileWeights()).toEqual({ blue: 25, green: 75 });
  });
});

describe("unhealthy destination refused", () => {
  it("refuses shift --now onto a cluster without healthy targets, naming service, cluster and counts, changing nothing", async () => {
    standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "unhealthy"));
    standIn.targetGroup("green", "web").targets[0].state = "initial";
    const result = await run("shift", ["--to", "green", "--now"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("web: cluster green would get weight 100 (now 50), 100% of the traffic (now 50%), with 0 healthy, 1 unhealthy, 1 initial targets; minHealthyTargets is 1");
    expect(result.stderr).toContain("web: no weighted cluster would have 1 healthy target (green: 0 healthy, 1 unhealthy, 1 initial targets)");
    expect(result.stderr).not.toContain("    at ");
    expect(modifyCalls()).toBe(0);
    expect(fileWeights()).toEqual({ blue: 50, green: 50 });
  });

  it("applies with --force and echoes the reason", async () => {
    standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const result = await run("shift", ["--to", "green", "--now", "--force", "blue is down, green's health check is broken"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("FORCED past 2 refusals, reason: blue is down, green's health check is broken");
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
  });

  it("refuses draining a cluster when the rest has no healthy capacity", async () => {
    standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "draining"));
    const result = await run("shift", ["blue=0", "--now"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("web: no weighted cluster would have 1 healthy target (green: 0 healthy, 2 draining targets)");
    expect(result.stderr).not.toContain("    at ");
    expect(modifyCalls()).toBe(0);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
    expect(fileWeights()).toEqual({ blue: 50, green: 50 });
  });
});

describe("progressive shift rolled back on a 5xx spike", () => {
  it("restores the starting weights on rules and files and exits 1", async () => {
    standIn.targetGroup("green", "web").errorRate = 0.2;
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("step 1/2: web blue=25 green=75 · healthy blue 2, green 2 · 5xx blue 0.1%, green 20.0%");
    expect(result.stderr).toContain(
      "step 1/2 breached the shift limits: web/green target 5xx 20.0% > 1%; restored the starting weights (web blue=50 green=50) on the rules and in the files",
    );
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
    expect(fileWeights()).toEqual({ blue: 50, green: 50 });
    expect(modifyCalls()).toBe(2);
  });

  it("restores them when the destination turns unhealthy before a later step", async () => {
    const result = await run("shift", ["--to", "green", "--step", "25", "--now", "--interval", "1s"], (line) => {
      if (line.startsWith("step 1/2")) standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "unhealthy"));
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("step 2/2 refused by the health gate: web: cluster green would get weight 100 (now 75), 100% of the traffic (now 75%), with 0 healthy, 2 unhealthy targets");
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
    expect(fileWeights()).toEqual({ blue: 50, green: 50 });
  });
});

describe("failover revert refused", () => {
  it("preflight edge refuses the files' old weights while a --now failover is live, and passes once the files carry it", async () => {
    const failover = await run("shift", ["--to", "green", "--now"]);
    expect(failover.status).toBe(0);
    // Another change deploys from main, whose files still hold blue=50 green=50.
    writeConfigProjectInto(project);
    const refused = await run("preflight", ["edge"]);
    expect(refused.status).toBe(1);
    const revert = "web: a live failover (live blue=0 green=100, last deployed blue=50 green=50) would be reverted to the files' blue=50 green=50";
    expect(refused.stderr).toContain(revert);
    // The deploy command runs the same checks before cdktf, and stops there.
    const deploy = await run("deploy", ["--only", "edge", "--auto-approve"]);
    expect(deploy.status).toBe(1);
    expect(deploy.stdout).toContain("deploying edge\n");
    expect(deploy.stderr).toContain(revert);
    expect(deploy.stdout + deploy.stderr).not.toContain("cdktf deploy failed");
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
    // The failover's change merged: the files hold the live weights.
    expect((await run("shift", ["--to", "green", "--dry-run"])).status).toBe(0);
    fs.writeFileSync(path.join(project, "clusters/blue.yaml"), fs.readFileSync(path.join(project, "clusters/blue.yaml"), "utf8").replace("web: 50", "web: 0"));
    fs.writeFileSync(path.join(project, "clusters/green.yaml"), fs.readFileSync(path.join(project, "clusters/green.yaml"), "utf8").replace("web: 50", "web: 100"));
    const passed = await run("preflight", ["edge"]);
    expect(passed.stderr).toBe("");
    expect(passed.status).toBe(0);
    expect(passed.stdout).toContain("edge: web: live blue=0 green=100 → files blue=0 green=100");
  });

  it("preflight edge applies the health gate to the weights about to be deployed", async () => {
    standIn.targetGroup("blue", "web").targets.forEach((t) => (t.state = "unhealthy"));
    fs.writeFileSync(path.join(project, "clusters/blue.yaml"), fs.readFileSync(path.join(project, "clusters/blue.yaml"), "utf8").replace("web: 50", "web: 80"));
    const refused = await run("preflight", ["edge"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("web: cluster blue would get weight 80 (now 50), 62% of the traffic (now 50%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1");
    expect(modifyCalls()).toBe(0);
  });
});

describe("target group replaced under weight refused", () => {
  it("preflight edge refuses a containerPort change for every cluster whose replaced group still carries weight", async () => {
    const platformFile = path.join(project, "platform.yaml");
    fs.writeFileSync(platformFile, fs.readFileSync(platformFile, "utf8").replace("containerPort: 8080", "containerPort: 9090"));
    const refused = await run("preflight", ["edge"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /web: cluster blue's target group is replaced \(demo-blue-web-[0-9a-f]{6} → demo-blue-web-[0-9a-f]{6}\) while it has weight 50: the new group has no targets until cluster-blue-k8s binds them/,
    );
    expect(refused.stderr).toContain("web: cluster green's target group is replaced");
    fs.writeFileSync(path.join(project, "clusters/blue.yaml"), fs.readFileSync(path.join(project, "clusters/blue.yaml"), "utf8").replace("web: 50", "web: 0"));
    standIn.rule("web").forward[0].weight = 0;
    standIn.rule("web").tags["deployed-weights"] = "blue=0 green=50";
    const blueDrained = await run("preflight", ["edge"]);
    expect(blueDrained.stderr).not.toContain("cluster blue's target group is replaced");
    expect(blueDrained.stderr).toContain("web: cluster green's target group is replaced");
  });
});

describe("standby only when idle", () => {
  it("preflight cluster-blue refuses standby while blue has live weight or served requests, and passes once idle", async () => {
    const blueFile = path.join(project, "clusters/blue.yaml");
    fs.writeFileSync(blueFile, fs.readFileSync(blueFile, "utf8").replace("name: blue\n", "name: blue\nstate: standby\n").replace("web: 50", "web: 0"));
    const refused = await run("preflight", ["cluster-blue", "cluster-blue-k8s", "--idle-minutes", "10"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("web: blue still has live weight 50: shift its traffic away first");
    expect(refused.stderr).toMatch(/web: blue's target group demo-blue-web-[0-9a-f]{6} served \d+ requests in the last 10 min: wait until npm run status shows it idle/);
    standIn.rule("web").forward[0].weight = 0;
    const passed = await run("preflight", ["cluster-blue", "--idle-minutes", "10"]);
    expect(passed.stderr).toBe("");
    expect(passed.stdout).toContain("cluster-blue: standby after 10 idle minutes\npreflight passed");
  });
});

describe("drift reported", () => {
  it("status marks live weights that differ from the files and exits 1; --json says the same", async () => {
    standIn.rule("web").forward[0].weight = 30;
    standIn.rule("web").forward[1].weight = 70;
    const table = await run("status", ["--minutes", "5"]);
    expect(table.status).toBe(1);
    expect(table.stdout).toMatch(/web\s+blue\s+50\s+30 ≠\s+2\s+0\s+0\s+0\s+0\s+\d+\s+30%/);
    expect(table.stdout).toContain("web: DRIFT live blue=30 green=70, files blue=50 green=50");
    const json = await run("status", ["--json"]);
    expect(json.status).toBe(1);
    const status = JSON.parse(json.stdout);
    expect(status.services[0]).toMatchObject({ service: "web", drift: true, liveFailover: true, healthyCapacity: true, liveWeights: { blue: 30, green: 70 } });
  });

  it("status exits 0 with no drift, and 1 for a service without healthy capacity", async () => {
    const clean = await run("status", []);
    expect(clean.stderr).toBe("");
    expect(clean.status).toBe(0);
    expect(clean.stdout).toContain("no drift; every service has healthy capacity");
    for (const cluster of ["blue", "green"]) standIn.targetGroup(cluster, "web").targets.forEach((t) => (t.state = "unhealthy"));
    const down = await run("status", ["--minutes", "0"]);
    expect(down.status).toBe(1);
    expect(down.stdout).toContain("web: NO HEALTHY CAPACITY");
    expect(standIn.calls.some((c) => c.api === "cloudwatch")).toBe(true);
  });

  it("status --mermaid draws the live weights and health", async () => {
    standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const picture = await run("status", ["--mermaid", "--minutes", "0"]);
    expect(picture.stdout).toContain(`rule_web -- "weight 50 (50%)" --> tg_web_green["web/green<br/>0 healthy, 2 unhealthy"]`);
    expect(picture.stdout).toContain("class tg_web_green unhealthy");
  });
});

/** Puts the example's cluster files back, as a checkout of main would. */
function writeConfigProjectInto(dir: string): void {
  for (const source of example.clusters) fs.writeFileSync(path.join(dir, source.file), source.text);
}
