import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import { FailoverPolicy, failoverSettingsOf, LAST_FAILOVER_TAG } from "../modules/config/failover";
import { parseFleetConfig } from "../modules/config/load";
import { functionBundle } from "../modules/synth/function-bundle";
import { decideFailover, ServiceObservation } from "../modules/traffic/failover-decision";
import { createFailoverHandler } from "../modules/traffic/failover-handler";
import { runFailover } from "../modules/traffic/failover";
import { acquireTrafficLock, fileLockStore, readTrafficLock, releaseTrafficLock, s3LockStore } from "../modules/traffic/traffic-lock";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { describeWithMoto, Moto, startMoto } from "./helpers/moto";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { projectRoot } from "../modules/support/project-root";
import { writeConfigProject } from "../scripts/lib/config-project";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { exampleSources, withS3Backend } from "./helpers/fleet";
import { runScriptAsync } from "./helpers/run-async";
import { zipEntries } from "./helpers/zip-entries";

const policy: FailoverPolicy = { service: "web", mode: "auto", minHealthyTargets: 2, max5xxPercent: 1, breachMinutes: 2, cooldownMinutes: 10, minRequestsPerMinute: 20 };
const now = new Date("2026-12-01T12:00:30Z");
const calm = [{ requests: 600, target5xx: 0 }, { requests: 600, target5xx: 1 }];
const spiking = [{ requests: 600, target5xx: 60 }, { requests: 600, target5xx: 90 }];
const observed = (clusters: ServiceObservation["clusters"], lastFailover?: ServiceObservation["lastFailover"]): ServiceObservation => ({ service: "web", clusters, lastFailover });

describe("the failover's decision", () => {
  it("moves a cluster with too few healthy targets to 0; its serving peers keep their weights and so take its share in proportion", () => {
    const decision = decideFailover(
      policy,
      observed({ blue: { weight: 50, healthy: 1, minutes: calm }, green: { weight: 30, healthy: 3, minutes: calm }, purple: { weight: 20, healthy: 2, minutes: calm } }),
      now,
    );
    expect(decision).toEqual({
      kind: "failover",
      service: "web",
      failed: [{ cluster: "blue", cause: "unhealthy", reason: "1 healthy target, fewer than minHealthyTargets 2" }],
      before: { blue: 50, green: 30, purple: 20 },
      after: { blue: 0, green: 30, purple: 20 },
    });
  });

  it("moves a cluster whose 5xx share breached the limit for breachMinutes consecutive minutes, and not for fewer", () => {
    const spike = decideFailover(policy, observed({ blue: { weight: 50, healthy: 2, minutes: calm }, green: { weight: 50, healthy: 2, minutes: spiking } }), now);
    expect(spike).toMatchObject({ kind: "failover", after: { blue: 50, green: 0 } });
    expect(spike.kind === "failover" && spike.failed[0].reason).toBe("target 5xx above 1 % for 2 consecutive minutes (10.0 %, 15.0 %)");
    const oneMinute = [calm[0], spiking[1]];
    expect(decideFailover(policy, observed({ blue: { weight: 50, healthy: 2, minutes: calm }, green: { weight: 50, healthy: 2, minutes: oneMinute } }), now).kind).toBe("steady");
  });

  it("judges the newest minutes that have data: ALB datapoints arrive minutes late", () => {
    const late = [calm[0], ...spiking, undefined, undefined, undefined];
    expect(decideFailover(policy, observed({ blue: { weight: 50, healthy: 2, minutes: calm }, green: { weight: 50, healthy: 2, minutes: late } }), now)).toMatchObject({
      kind: "failover",
      after: { blue: 50, green: 0 },
    });
  });

  it("judges at the limits: a share at the limit is no breach, a minute with exactly minRequestsPerMinute counts; names clusters in order", () => {
    const atLimit = [{ requests: 600, target5xx: 6 }, { requests: 600, target5xx: 6 }];
    expect(decideFailover(policy, observed({ blue: { weight: 50, healthy: 2, minutes: calm }, green: { weight: 50, healthy: 2, minutes: atLimit } }), now).kind).toBe("steady");
    const fewButEnough = [{ requests: 20, target5xx: 10 }, { requests: 20, target5xx: 10 }];
    expect(decideFailover(policy, observed({ blue: { weight: 50, healthy: 2, minutes: calm }, green: { weight: 50, healthy: 2, minutes: fewButEnough } }), now).kind).toBe("failover");
    const oneMinute = decideFailover({ ...policy, breachMinutes: 1 }, observed({ blue: { weight: 50, healthy: 2, minutes: calm }, green: { weight: 50, healthy: 2, minutes: spiking } }), now);
    expect(oneMinute.kind === "failover" && oneMinute.failed[0].reason).toBe("target 5xx above 1 % for 1 consecutive minute (15.0 %)");
    const bothDown = decideFailover(policy, observed({ green: { weight: 50, healthy: 0 }, blue: { weight: 50, healthy: 0 }, purple: { weight: 10, healthy: 2 } }), now);
    expect(bothDown.kind === "failover" && bothDown.failed.map((f) => f.cluster)).toEqual(["blue", "green"]);
  });

  it("concludes no 5xx failure from missing minutes, unread metrics or a handful of requests (fails closed)", () => {
    const gap = [spiking[0], undefined, spiking[1], undefined];
    for (const minutes of [[undefined, spiking[1]], gap, undefined, [{ requests: 10, target5xx: 9 }, { requests: 10, target5xx: 9 }]]) {
      expect(decideFailover(policy, observed({ blue: { weight: 50, healthy: 2, minutes: calm }, green: { weight: 50, healthy: 2, minutes } }), now).kind).toBe("steady");
    }
  });

  it("moves nothing when no weighted peer serves: not onto a failed peer, nor onto a peer without weight", () => {
    const decision = decideFailover(
      policy,
      observed({ blue: { weight: 50, healthy: 0, minutes: calm }, green: { weight: 50, healthy: 1, minutes: calm }, purple: { weight: 0, healthy: 5, minutes: calm } }),
      now,
    );
    expect(decision).toMatchObject({ kind: "held", reason: "no weighted peer has enough healthy targets: moving would make things worse, so nothing moves" });
    expect(decision.kind === "held" && decision.failed.map((f) => f.cluster)).toEqual(["blue", "green"]);
  });

  it("does not move a cluster again within the cooldown after moving it off, but moves another; holds in alarm-only mode; looks at nothing when off", () => {
    const failing = observed({ blue: { weight: 50, healthy: 0 }, green: { weight: 50, healthy: 2 } }, { at: new Date("2026-12-01T11:55:00Z"), clusters: ["blue"] });
    expect(decideFailover(policy, failing, now)).toMatchObject({
      kind: "held",
      reason: "moved off at 2026-12-01T11:55:00.000Z and given weight back since: in the cooldown until 2026-12-01T12:05:00.000Z, a person decides",
    });
    expect(decideFailover(policy, failing, new Date("2026-12-01T12:05:00Z")).kind).toBe("failover");
    expect(decideFailover(policy, { ...failing, lastFailover: { at: new Date("2026-12-01T11:55:00Z"), clusters: ["green"] } }, now).kind).toBe("failover");
    const both = observed(
      { blue: { weight: 40, healthy: 0 }, green: { weight: 30, healthy: 0 }, purple: { weight: 30, healthy: 2 } },
      { at: new Date("2026-12-01T11:55:00Z"), clusters: ["blue"] },
    );
    expect(decideFailover(policy, both, now)).toMatchObject({ kind: "failover", after: { blue: 40, green: 0, purple: 30 }, heldBack: { failed: [{ cluster: "blue" }] } });
    expect(decideFailover({ ...policy, mode: "alarm-only" }, { ...failing, lastFailover: undefined }, now)).toMatchObject({
      kind: "held",
      reason: "alarm-only: would move to blue=0 green=50 (now blue=50 green=50)",
    });
    expect(decideFailover({ ...policy, mode: "off" }, failing, now).kind).toBe("steady");
  });

  it("never raises a weight, and never leaves a service without a serving weighted cluster (property)", () => {
    const cluster = fc.record({ weight: fc.integer({ min: 0, max: 999 }), healthy: fc.integer({ min: 0, max: 4 }), minutes: fc.constantFrom(calm, spiking, undefined) });
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("a", "b", "c", "d", "e"), cluster, { minKeys: 1 }), (clusters) => {
        const decision = decideFailover(policy, observed(clusters), now);
        if (decision.kind !== "failover") return;
        for (const name of Object.keys(clusters)) expect(decision.after[name]).toBeLessThanOrEqual(clusters[name].weight);
        const serving = Object.keys(decision.after).filter((name) => decision.after[name] > 0);
        expect(serving.length).toBeGreaterThan(0);
        for (const name of serving) expect(clusters[name].healthy).toBeGreaterThanOrEqual(policy.minHealthyTargets);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the failover function against the live API (the SDK over HTTP to the stand-in)", () => {
  const example = exampleSources();
  const fleet = parseFleetConfig(example);
  const settings = failoverSettingsOf(fleet);
  const topicArn = "arn:aws:sns:eu-west-1:111122223333:demo-failover";
  let standIn: AwsStandIn;
  const saved = { ...process.env };

  beforeEach(async () => {
    standIn = new AwsStandIn(worldOf(fleet));
    await standIn.start();
    Object.assign(process.env, standIn.environment(), { FAILOVER_TOPIC_ARN: topicArn });
  });
  afterEach(async () => {
    process.env = { ...saved };
    await standIn.stop();
  });

  const setHealth = (cluster: string, state: "healthy" | "unhealthy") => standIn.targetGroup(cluster, "web").targets.forEach((t) => (t.state = state));
  const modifyRuleCalls = () => standIn.callNames().filter((name) => name === "elbv2:ModifyRule").length;
  const published = () => standIn.calls.filter((c) => c.api === "sns").map((c) => c.input as { Subject: string; Message: string });

  it("moves traffic off a cluster whose targets all failed, records it on the rule and tells the topic", async () => {
    setHealth("blue", "unhealthy");
    const result = await createFailoverHandler(settings)({ "detail-type": "Scheduled Event" });
    expect(result).toEqual({ moved: ["web"], unresolved: false });
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50 });
    expect(standIn.rule("web").tags[LAST_FAILOVER_TAG]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z from=blue why=unhealthy by=automatic-failover$/);
    expect(published()).toEqual([
      {
        TopicArn: topicArn,
        Subject: "demo: failover of web",
        Message: expect.stringContaining("web: blue: 0 healthy targets, fewer than minHealthyTargets 1; moving to blue=0 green=50 (was blue=50 green=50)"),
      },
    ]);
  });

  it("moves traffic off a cluster answering 5xx for the breach minutes", async () => {
    standIn.targetGroup("green", "web").errorRate = 0.2;
    const result = await createFailoverHandler(settings)({});
    expect(result.moved).toEqual(["web"]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 0 });
  });

  it("moves nothing when every cluster is down, and says why to the topic when an alarm started it", async () => {
    setHealth("blue", "unhealthy");
    setHealth("green", "unhealthy");
    const scheduled = await createFailoverHandler(settings)({});
    expect(scheduled).toEqual({ moved: [], unresolved: true });
    expect(published()).toEqual([]);
    const byAlarm = await createFailoverHandler(settings)({ alarmData: { alarmName: "demo-failover-web-blue-healthy" } });
    expect(byAlarm).toEqual({ moved: [], unresolved: true });
    expect(modifyRuleCalls()).toBe(0);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
    expect(published().map((p) => p.Subject)).toEqual(["demo: failed cluster left in place for web"]);
    expect(published()[0].Message).toContain("NOT moved: no weighted peer has enough healthy targets");
  });

  it("does not flap: a cluster given its traffic back and failing again within the cooldown is left to a person; another cluster is moved", async () => {
    setHealth("blue", "unhealthy");
    await createFailoverHandler(settings)({});
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50 });
    // A person shifts back after checking blue, and blue fails again soon after.
    standIn.rule("web").forward.forEach((f) => (f.weight = 50));
    const again = await createFailoverHandler(settings)({});
    expect(again).toEqual({ moved: [], unresolved: true });
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
    expect(modifyRuleCalls()).toBe(1);
    // Green failing is another failure: blue serves again, so green's share moves to it.
    setHealth("blue", "healthy");
    setHealth("green", "unhealthy");
    expect(await createFailoverHandler(settings)({})).toEqual({ moved: ["web"], unresolved: false });
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 0 });
  });

  it("judges 5xx from datapoints that arrive minutes late, as CloudWatch's do", async () => {
    standIn.metricDelaySeconds = 150;
    standIn.targetGroup("green", "web").errorRate = 0.2;
    expect((await createFailoverHandler(settings)({})).moved).toEqual(["web"]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 0 });
  });

  it("gives up on a call that answers too late for its limits, and judges what it could read", async () => {
    setHealth("blue", "unhealthy");
    // An answer after 15 s: past the function's 5 s per attempt, so only a call given up in time misses it.
    standIn.faults.set("GetMetricData", { delayMs: 15_000 });
    const lines: string[] = [];
    const log = jest.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    try {
      expect(await createFailoverHandler(settings)({})).toEqual({ moved: ["web"], unresolved: false });
    } finally {
      log.mockRestore();
    }
    expect(lines[0]).toMatch(/^CloudWatch could not be read \(.*\): 5xx failures are not judged this run$/);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50 });
  }, 60_000);

  it.each([
    ["reading the live rules", "DescribeLoadBalancers", { name: "TimeoutError" }],
    ["telling the topic", "Publish", { message: expect.stringMatching(/^web: moved, but telling of it failed: .*timed? ?out/i) }],
  ])("gives up %s when the call answers too late for its limits", async (_, action, failure) => {
    setHealth("blue", "unhealthy");
    let attempts = 0;
    // An answer after 15 s: past the function's 5 s per attempt, so only a call given up in time misses it.
    standIn.faults.set(action, { delayMs: 15_000, onCall: () => attempts++ });
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      await expect(createFailoverHandler(settings)({})).rejects.toMatchObject(failure);
    } finally {
      log.mockRestore();
    }
    // Two tries, each given up after 5 s: well within the function's 60 s.
    expect(attempts).toBe(2);
  }, 60_000);

  it("yields to a person's shift made between its read and its write", async () => {
    setHealth("blue", "unhealthy");
    // The person's shift lands while the function reads the metrics.
    const personShifts = () => standIn.rule("web").forward.forEach((f) => (f.weight = f.arn === standIn.targetGroup("green", "web").arn ? 100 : 0));
    standIn.faults.set("GetMetricData", { onCall: personShifts, times: 1 });
    const result = await createFailoverHandler(settings)({});
    expect(result).toEqual({ moved: [], unresolved: true });
    expect(modifyRuleCalls()).toBe(0);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
  });

  it("takes the traffic lock for its writes: while a person's command holds it nothing moves, and the next run moves", async () => {
    setHealth("blue", "unhealthy");
    const lock = fileLockStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-lock-")), "traffic.lock"));
    const person = await acquireTrafficLock(lock, { owner: "alice@laptop pid 42", reason: "npm run shift -- --to green --now", leaseSeconds: 300 });
    const clients = { elb: new ElasticLoadBalancingV2Client({}), cloudWatch: new CloudWatchClient({}) };
    const held = await runFailover(clients, settings, { now: new Date(), actor: "automatic-failover", lock });
    expect(held.unresolved).toBe(true);
    expect(held.lines).toContainEqual(expect.stringMatching(/^web: NOT moved: alice@laptop pid 42 \(npm run shift -- --to green --now\) since \S+, expires \S+ holds the traffic lock; the next run judges afresh$/));
    expect(modifyRuleCalls()).toBe(0);
    await releaseTrafficLock(lock, person);
    const next = await runFailover(clients, settings, { now: new Date(), actor: "automatic-failover", lock });
    expect(next.moved).toEqual(["web"]);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50 });
    expect(await readTrafficLock(lock)).toBeUndefined();
  });

  it("fails closed: a refused ModifyRule fails the run and leaves the rule; unreadable metrics judge health only", async () => {
    setHealth("blue", "unhealthy");
    standIn.refusedRules.add(standIn.rule("web").arn);
    await expect(createFailoverHandler(settings)({})).rejects.toThrow(/^web: moving its traffic failed: changing the live rules failed: .*not authorized/);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });

    standIn.refusedRules.clear();
    setHealth("blue", "healthy");
    standIn.targetGroup("green", "web").errorRate = 0.5;
    process.env.AWS_ENDPOINT_URL_CLOUDWATCH = "http://127.0.0.1:9";
    const lines: string[] = [];
    const log = jest.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    try {
      expect(await createFailoverHandler(settings)({})).toEqual({ moved: [], unresolved: false });
    } finally {
      log.mockRestore();
    }
    expect(lines[0]).toMatch(/^CloudWatch could not be read \(.*\): 5xx failures are not judged this run$/);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });
});

describe("the failover across services", () => {
  const fleet = parseFleetConfig(generatedFleetSources(10));
  let standIn: AwsStandIn;
  const saved = { ...process.env };
  beforeEach(async () => {
    standIn = new AwsStandIn(worldOf(fleet));
    await standIn.start();
    Object.assign(process.env, standIn.environment());
  });
  afterEach(async () => {
    process.env = { ...saved };
    await standIn.stop();
  });

  it("moves each service apart: one whose rule cannot be changed fails the run only after the others moved", async () => {
    standIn.targetGroup("c00", "svc0").targets.forEach((t) => (t.state = "unhealthy"));
    standIn.targetGroup("c05", "svc1").targets.forEach((t) => (t.state = "unhealthy"));
    standIn.refusedRules.add(standIn.rule("svc0").arn);
    await expect(createFailoverHandler(failoverSettingsOf(fleet))({})).rejects.toThrow(/^svc0: moving its traffic failed: /);
    expect(standIn.weights("svc0")).toEqual({ c00: 10, c01: 10, c02: 10, c03: 10, c04: 10 });
    expect(standIn.weights("svc1")).toEqual({ c05: 0, c06: 10, c07: 10, c08: 10, c09: 10 });
  });

  it("fails the run naming each service whose traffic could not be moved, a line each", async () => {
    standIn.targetGroup("c00", "svc0").targets.forEach((t) => (t.state = "unhealthy"));
    standIn.targetGroup("c05", "svc1").targets.forEach((t) => (t.state = "unhealthy"));
    standIn.refusedRules.add(standIn.rule("svc0").arn).add(standIn.rule("svc1").arn);
    await expect(createFailoverHandler(failoverSettingsOf(fleet))({})).rejects.toThrow(/^svc0: moving its traffic failed: [^\n]+\nsvc1: moving its traffic failed: [^\n]+$/);
  });
});

describe("npm run failover", () => {
  const example = exampleSources();
  let standIn: AwsStandIn;
  let project: string;
  beforeEach(async () => {
    standIn = new AwsStandIn(worldOf(parseFleetConfig(example)));
    await standIn.start();
    project = writeConfigProject(example);
  });
  afterEach(() => standIn.stop());
  const run = (args: string[]) => runScriptAsync("scripts/failover.ts", ["--config-dir", project, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment() } });

  it("--once --dry-run decides and changes nothing; --once moves, and status names the failover", async () => {
    standIn.targetGroup("blue", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const dry = await run(["--once", "--dry-run"]);
    expect(dry.stderr).toBe("");
    expect(dry.stdout).toContain("web: blue: 0 healthy targets, fewer than minHealthyTargets 1; moving to blue=0 green=50 (was blue=50 green=50)\nweb: dry run, nothing was changed");
    expect(dry.status).toBe(0);
    expect(standIn.callNames()).not.toContain("elbv2:ModifyRule");

    const once = await run(["--once"]);
    expect(once.status).toBe(0);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50 });
    const status = await runScriptAsync("scripts/status.ts", ["--config-dir", project, "--minutes", "0"], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment() } });
    expect(status.stdout).toMatch(/web: DRIFT live blue=0 green=50, files blue=50 green=50 \(the automatic failover \(\S+ from=blue why=unhealthy by=\S+-failover-once\) that is not deployed/);
    expect(status.stdout).toMatch(/web: last automatic failover \S+ from=blue why=unhealthy by=\S+-failover-once/);
    expect(status.status).toBe(1);
  });

  it("refuses to run without --once, before reading anything", async () => {
    const result = await run([]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("give --once: each run decides once");
    expect(standIn.calls).toEqual([]);
  });
});

describe("the function's package", () => {
  const settings = failoverSettingsOf(parseFleetConfig(exampleSources()));
  const props = { entry: "modules/traffic/failover-handler.ts", factory: "createFailoverHandler", settings };

  it("is the same bytes when made again from nothing", () => {
    const first = functionBundle(props);
    const bytes = fs.readFileSync(first.path);
    fs.rmSync(first.path);
    const second = functionBundle(props);
    expect(second).toEqual(first);
    expect(fs.readFileSync(second.path).equals(bytes)).toBe(true);
  });

  it("runs on its own, with only the runtime's AWS SDK beside it, and moves traffic through the live API", async () => {
    const bundle = functionBundle(props);
    const task = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-function-"));
    for (const [name, content] of zipEntries(fs.readFileSync(bundle.path))) {
      fs.mkdirSync(path.dirname(path.join(task, name)), { recursive: true });
      fs.writeFileSync(path.join(task, name), content);
    }
    // What the Lambda runtime provides: the AWS SDK v3 and what it depends on, none of the project's other packages.
    const runtime = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-runtime-"));
    for (const name of awsSdkAndItsDependencies()) {
      fs.mkdirSync(path.dirname(path.join(runtime, name)), { recursive: true });
      fs.symlinkSync(path.join(projectRoot(), "node_modules", name), path.join(runtime, name));
    }
    expect(fs.existsSync(path.join(runtime, "zod"))).toBe(false);
    const standIn = new AwsStandIn(worldOf(parseFleetConfig(exampleSources())));
    await standIn.start();
    try {
      standIn.targetGroup("blue", "web").targets.forEach((t) => (t.state = "unhealthy"));
      const invoke = "require('./index.js').handler({}).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); })";
      const result = await runNode(task, invoke, { ...standIn.environment(), NODE_PATH: runtime, PATH: process.env.PATH ?? "" });
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout.trim().split("\n").pop()!)).toEqual({ moved: ["web"], unresolved: false });
      expect(standIn.weights("web")).toEqual({ blue: 0, green: 50 });
    } finally {
      await standIn.stop();
    }
  });
});

/** The installed packages of the AWS SDK v3 (`@aws-sdk/*`, `@smithy/*`) and, transitively, their dependencies. */
function awsSdkAndItsDependencies(): string[] {
  const modules = path.join(projectRoot(), "node_modules");
  const pending = ["@aws-sdk", "@smithy"].flatMap((scope) => fs.readdirSync(path.join(modules, scope)).map((name) => `${scope}/${name}`));
  const found = new Set<string>();
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (found.has(name) || !fs.existsSync(path.join(modules, name, "package.json"))) continue;
    found.add(name);
    pending.push(...Object.keys(JSON.parse(fs.readFileSync(path.join(modules, name, "package.json"), "utf8")).dependencies ?? {}));
  }
  return [...found].sort();
}

/** Runs `node -e code` in a folder without blocking this process (the stand-in answers it). */
function runNode(cwd: string, code: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["-e", code], { cwd, env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

describeWithMoto("the failover function's lock beside S3 state (moto_server)", () => {
  let moto: Moto;
  let standIn: AwsStandIn;
  const saved = { ...process.env };
  const fleet = parseFleetConfig(withS3Backend(exampleSources(), "  type: s3\n  bucket: demo-state\n"));
  const settings = failoverSettingsOf(fleet);
  beforeAll(async () => {
    moto = await startMoto();
    const s3 = new S3Client({ region: "eu-west-1", endpoint: moto.url, forcePathStyle: true, credentials: { accessKeyId: "AKIAMOTO", secretAccessKey: "moto" } });
    await s3.send(new CreateBucketCommand({ Bucket: "demo-state", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
  });
  afterAll(() => moto?.stop());
  beforeEach(async () => {
    standIn = new AwsStandIn(worldOf(fleet));
    await standIn.start();
    Object.assign(process.env, standIn.environment(), { AWS_ENDPOINT_URL_S3: moto.url });
  });
  afterEach(async () => {
    process.env = { ...saved };
    await standIn.stop();
  });

  it("waits for a person's lock in the bucket, then takes it, moves and lets it go", async () => {
    expect(settings.lock).toEqual({ bucket: "demo-state", key: "demo/traffic.lock", region: "eu-west-1" });
    // Every client of the function takes its region from the settings (the lock's, the bucket's), none from the environment.
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    standIn.targetGroup("blue", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const s3 = new S3Client({ region: "eu-west-1", endpoint: moto.url, forcePathStyle: true });
    const lock = s3LockStore(s3, "demo-state", "demo/traffic.lock");
    const person = await acquireTrafficLock(lock, { owner: "alice@laptop pid 42", reason: "npm run shift -- --to green --now", leaseSeconds: 300 });
    expect(await createFailoverHandler(settings)({})).toEqual({ moved: [], unresolved: true });
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
    await releaseTrafficLock(lock, person);
    expect(await createFailoverHandler(settings)({})).toEqual({ moved: ["web"], unresolved: false });
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50 });
    expect(await readTrafficLock(lock)).toBeUndefined();
  });
});
