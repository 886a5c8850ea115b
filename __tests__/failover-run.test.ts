import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FailoverSettings, failoverSettingsOf, LAST_FAILOVER_TAG } from "../modules/config/failover";
import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { cloudWatchClient, elbClient } from "../modules/traffic/aws-clients";
import { FailoverClients, FailoverOptions, runFailover } from "../modules/traffic/failover";
import { metricMinutesToRead } from "../modules/traffic/failover-decision";
import { acquireTrafficLock, fileLockStore, LockStore, readTrafficLock, releaseTrafficLock } from "../modules/traffic/traffic-lock";
import type { AwsStandIn } from "../scripts/lib/aws-stand-in";
import { exampleSources, withClusterFile, withMoreServices } from "./helpers/fleet";
import { standInServing } from "./helpers/stand-in-project";

/**
 * One run of the automatic failover, line by line, in process: the real SDK
 * clients reach the ELBv2 and CloudWatch stand-in over HTTP. Three clusters
 * (blue, green, purple) serve web at 50 each unless a test says otherwise.
 */

const NOW = new Date("2026-12-01T12:00:30Z");
const example = exampleSources();
const threeClusters: ConfigSources = withClusterFile(example, "clusters/purple.yaml", example.clusters[1].text.replace("name: green", "name: purple"));
const serve = standInServing();
let standIn: AwsStandIn;
let clients: FailoverClients;
let settings: FailoverSettings;
let lockFile: string;

beforeEach(async () => {
  const fleet = parseFleetConfig(threeClusters);
  standIn = await serve(fleet);
  clients = { elb: await elbClient(fleet), cloudWatch: await cloudWatchClient(fleet) };
  settings = failoverSettingsOf(fleet);
  lockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "failover-run-")), "traffic.lock");
});

const run = (options: Partial<FailoverOptions> = {}) => runFailover(clients, settings, { now: NOW, actor: "automatic-failover", ...options });
const unhealthy = (cluster: string) => standIn.targetGroup(cluster, "web").targets.forEach((t) => (t.state = "unhealthy"));
const ruleArn = () => standIn.rule("web").arn;
const modifyRuleCalls = () => standIn.callNames().filter((name) => name === "elbv2:ModifyRule").length;
/** The traffic lock, in a file of the test's own. */
const lock = (): LockStore => fileLockStore(lockFile);

describe("a run of the automatic failover", () => {
  it("looks at nothing when failover is off for every service", async () => {
    settings = { ...settings, policies: settings.policies.map((p) => ({ ...p, mode: "off" as const })) };
    expect(await run()).toEqual({ decisions: [], moved: [], unresolved: false, lines: ["failover is off for every service"], errors: [] });
    expect(standIn.calls).toEqual([]);
  });

  it("judges nothing and fails when the ALB is not deployed", async () => {
    standIn.loadBalancer("edge").deployed = false;
    await expect(run()).rejects.toThrow("no load balancer named demo-alb in eu-west-1: nothing to judge");
  });

  it("leaves out a service without a live rule, saying so, and judges the others from the complete minutes before now", async () => {
    settings = { ...settings, policies: [{ ...settings.policies[0], service: "admin" }, ...settings.policies] };
    const result = await run();
    expect(result.lines).toEqual(["admin: no live listener rule (an edge deploy under way?): not judged this run", "web: every weighted cluster serves"]);
    expect(result).toMatchObject({ moved: [], unresolved: false, errors: [] });
    expect(result.decisions.map((d) => [d.service, d.kind])).toEqual([["web", "steady"]]);
    const [query] = standIn.calls.filter((c) => c.api === "cloudwatch");
    const minutes = metricMinutesToRead(settings.policies[1]);
    expect([query.input.StartTime, query.input.EndTime].map((t) => new Date(Number(t) * 1000).toISOString())).toEqual([
      new Date(Date.parse("2026-12-01T12:00:00Z") - minutes * 60_000).toISOString(),
      "2026-12-01T12:00:00.000Z",
    ]);
  });

  it("moves traffic off every failed cluster, records clusters, causes and actor on the rule, and tells notify", async () => {
    unhealthy("blue");
    standIn.targetGroup("green", "web").errorRate = 0.2;
    const notified: [string, string][] = [];
    const result = await run({ actor: "alice smith (drill)", notify: async (subject, message) => void notified.push([subject, message]) });
    const record = "2026-12-01T12:00:30.000Z from=blue+green why=unhealthy+5xx by=alice-smith--drill-";
    const decided = expect.stringMatching(/^web: blue: 0 healthy targets, fewer than minHealthyTargets 1; green: .+; moving to blue=0 green=0 purple=50 \(was blue=50 green=50 purple=50\)$/);
    expect(result.lines).toEqual([decided, `web: moved, recorded on rule ${ruleArn()} as "${record}"`]);
    expect(result).toMatchObject({ moved: ["web"], unresolved: false, errors: [] });
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 0, purple: 50 });
    expect(standIn.rule("web").tags[LAST_FAILOVER_TAG]).toBe(record);
    expect(notified).toEqual([["demo: failover of web", result.lines[0]]]);
  });

  it("holds the traffic lock while it writes, as its actor, naming each service and the clusters it moves off", async () => {
    unhealthy("blue");
    standIn.targetGroup("green", "web").errorRate = 0.2;
    let holder: Awaited<ReturnType<typeof readTrafficLock>>;
    await run({ lock: lock(), notify: async () => void (holder = await readTrafficLock(lock())) });
    expect(holder!).toMatchObject({ owner: "automatic-failover", reason: "failover of web off blue+green" });
    expect(await readTrafficLock(lock())).toBeUndefined();
  });

  it("on a dry run decides and says so, and writes nothing, not even the lock", async () => {
    unhealthy("blue");
    const result = await run({ dryRun: true, lock: lock() });
    expect(result.lines).toEqual([expect.stringMatching(/^web: blue: .*; moving to blue=0 green=50 purple=50/), "web: dry run, nothing was changed"]);
    expect(result).toMatchObject({ moved: [], unresolved: false });
    expect(modifyRuleCalls()).toBe(0);
    expect(fs.existsSync(lockFile)).toBe(false);
  });

  it("waits for its own run on another ALB to let the lock go, then moves from what is live then", async () => {
    unhealthy("blue");
    const other = await acquireTrafficLock(lock(), { owner: "automatic-failover", reason: "failover of api off blue", leaseSeconds: 60 });
    setTimeout(() => void releaseTrafficLock(lock(), other), 700);
    const result = await run({ lock: lock(), sameActorLockWaitMs: 10_000 });
    expect(result.moved).toEqual(["web"]);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50, purple: 50 });
  });

  it("does not wait past its limit for its own other run, nor at all for anyone else", async () => {
    unhealthy("blue");
    const other = await acquireTrafficLock(lock(), { owner: "automatic-failover", reason: "failover of api off blue", leaseSeconds: 60 });
    const started = Date.now();
    const waited = await run({ lock: lock(), sameActorLockWaitMs: 600 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(waited.lines.at(-1)).toMatch(/^web: NOT moved: automatic-failover \(failover of api off blue\) since \S+, expires \S+ holds the traffic lock; the next run judges afresh$/);
    expect(waited).toMatchObject({ moved: [], unresolved: true });
    await releaseTrafficLock(lock(), other);

    await acquireTrafficLock(lock(), { owner: "alice@laptop pid 42", reason: "npm run shift", leaseSeconds: 60 });
    const person = Date.now();
    expect((await run({ lock: lock(), sameActorLockWaitMs: 10_000 })).moved).toEqual([]);
    expect(Date.now() - person).toBeLessThan(5_000);
    expect(modifyRuleCalls()).toBe(0);
  });

  it("counts a move it could not tell of as moved, and fails the run saying so", async () => {
    unhealthy("blue");
    const result = await run({ notify: () => Promise.reject(new Error("SNS is down")) });
    expect(result.lines.slice(1)).toEqual([`web: moved, recorded on rule ${ruleArn()} as "2026-12-01T12:00:30.000Z from=blue why=unhealthy by=automatic-failover"`, "web: moved, but telling of it failed: SNS is down"]);
    expect(result).toMatchObject({ moved: ["web"], unresolved: false, errors: ["web: moved, but telling of it failed: SNS is down"] });
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50, purple: 50 });
  });

  it("counts a move whose record could not be written as moved, saying the cooldown does not hold", async () => {
    unhealthy("blue");
    standIn.faults.set("AddTags", { error: { code: "AccessDenied", status: 403 } });
    const result = await run();
    expect(result.lines.at(-1)).toMatch(/^web: moved; recording it on the rule failed \(.+\), so the cooldown does not hold$/);
    expect(result).toMatchObject({ moved: ["web"], unresolved: false });
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 50, purple: 50 });
  });

  it("moves what the cooldown allows and leaves the rest in place, unresolved, saying why", async () => {
    // Blue was moved off two minutes ago; a person gave it its traffic back, and it failed again, with green.
    standIn.rule("web").tags[LAST_FAILOVER_TAG] = "2026-12-01T11:58:30.000Z from=blue why=unhealthy by=automatic-failover";
    unhealthy("blue");
    unhealthy("green");
    const result = await run();
    expect(result.lines[0]).toMatch(/^web: green: .+; moving to blue=50 green=0 purple=50 \(was blue=50 green=50 purple=50\); left in place: blue: .+: .+$/);
    expect(result).toMatchObject({ moved: ["web"], unresolved: true });
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 0, purple: 50 });
  });

  it("keeps the record within a tag value's 256 characters, however long the actor's name", async () => {
    unhealthy("blue");
    await run({ actor: "a".repeat(300) });
    const record = standIn.rule("web").tags[LAST_FAILOVER_TAG];
    expect(record).toBe(`2026-12-01T12:00:30.000Z from=blue why=unhealthy by=${"a".repeat(300)}`.slice(0, 256));
    expect(record).toHaveLength(256);
  });

  it("leaves a rule another writer changed since it was read, unresolved, saying what is live", async () => {
    unhealthy("blue");
    // A person's shift lands as the run reads the targets' health, after it read the rule.
    standIn.faults.set("DescribeTargetHealth", { times: 1, onCall: () => standIn.rule("web").forward.forEach((f, i) => (f.weight = i === 1 ? 100 : 0)) });
    const result = await run();
    expect(result.lines.at(-1)).toMatch(/^web: NOT moved: the live weights changed to blue=0 green=100 purple=0 since they were read/);
    expect(result).toMatchObject({ moved: [], unresolved: true, errors: [] });
    expect(modifyRuleCalls()).toBe(0);
  });

  it("leaves a service whose move ELBv2 refused unresolved, naming the error", async () => {
    unhealthy("blue");
    standIn.faults.set("ModifyRule", { error: { code: "AccessDenied", status: 403 } });
    const result = await run();
    expect(result.errors).toEqual([expect.stringMatching(/^web: moving its traffic failed: /)]);
    expect(result).toMatchObject({ moved: [], unresolved: true });
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50, purple: 50 });
  });

  it("takes no lock when it has nothing to move: a person's lock held, the run is resolved", async () => {
    const person = await acquireTrafficLock(lock(), { owner: "alice@laptop pid 42", reason: "npm run shift", leaseSeconds: 60 });
    const result = await run({ lock: lock() });
    expect(result).toMatchObject({ moved: [], unresolved: false, lines: ["web: every weighted cluster serves"] });
    expect(await readTrafficLock(lock())).toEqual(person.holder);
  });

  it("reads no metrics when no service it judges has a live rule", async () => {
    settings = { ...settings, policies: [{ ...settings.policies[0], service: "admin" }] };
    expect((await run()).lines).toEqual(["admin: no live listener rule (an edge deploy under way?): not judged this run"]);
    expect(standIn.calls.filter((c) => c.api === "cloudwatch")).toEqual([]);
  });

  it("tells notify of a failed cluster left in place only when asked, naming the services, and marks a dry run", async () => {
    for (const cluster of ["blue", "green", "purple"]) unhealthy(cluster);
    const notified: [string, string][] = [];
    const notify = async (subject: string, message: string) => void notified.push([subject, message]);
    const scheduled = await run({ notify });
    expect(scheduled).toMatchObject({ moved: [], unresolved: true });
    expect(notified).toEqual([]);
    const byAlarm = await run({ notify, notifyHeld: true, dryRun: true });
    expect(notified).toEqual([["demo: failed cluster left in place for web (dry run)", byAlarm.lines[0]]]);
    expect(byAlarm.lines[0]).toMatch(/^web: blue: .+; NOT moved: /);
  });
});

describe("a run of the automatic failover over several services", () => {
  /** Services beside web, each name as long as a service name may be (11 characters), and api. */
  const longNames = ["checkoutapp", "searchindex", "accountsapi", "inventoryui", "paymentsapi"];
  beforeEach(async () => {
    const fleet = parseFleetConfig(withMoreServices(threeClusters, ["api", ...longNames]));
    standIn = await serve(fleet);
    clients = { elb: await elbClient(fleet), cloudWatch: await cloudWatchClient(fleet) };
    settings = failoverSettingsOf(fleet);
  });
  const unhealthyFor = (service: string, ...clusters: string[]) => clusters.forEach((c) => standIn.targetGroup(c, service).targets.forEach((t) => (t.state = "unhealthy")));

  it("holds the lock once for every service it moves, naming each with its clusters", async () => {
    unhealthyFor("web", "blue");
    unhealthyFor("api", "blue", "green");
    let holder: Awaited<ReturnType<typeof readTrafficLock>>;
    const result = await run({ lock: lock(), notify: async () => void (holder ??= await readTrafficLock(lock())) });
    // Services in name order, as the failover's settings list them.
    expect(result.moved).toEqual(["api", "web"]);
    expect(holder!).toMatchObject({ reason: "failover of api off blue+green, web off blue" });
  });

  it("tells of the services left in place only, a line each, in a subject cut to SNS's 99 characters", async () => {
    for (const service of ["web", ...longNames]) unhealthyFor(service, "blue", "green", "purple");
    const notified: [string, string][] = [];
    const result = await run({ notify: async (subject, message) => void notified.push([subject, message]), notifyHeld: true, dryRun: true });
    const subject = `demo: failed cluster left in place for ${[...longNames, "web"].sort().join(", ")} (dry run)`;
    const heldLines = result.lines.filter((line) => / NOT moved: /.test(line));
    expect(heldLines).toHaveLength(6);
    expect(notified).toEqual([[subject.slice(0, 99), heldLines.join("\n")]]);
    expect(notified[0][0]).toHaveLength(99);
  });

  it("tells nothing when no cluster is left in place, even when asked", async () => {
    const notified: string[] = [];
    await run({ notify: async (subject) => void notified.push(subject), notifyHeld: true });
    expect(notified).toEqual([]);
  });

  it("judges each service's 5xx over its own minutes: older datapoints of another service's longer window are not its", async () => {
    // api watches 5 breach minutes, so the run reads 8 minutes; web watches 2 (5 minutes with the lag).
    settings = { ...settings, policies: settings.policies.map((p) => (p.service === "api" ? { ...p, breachMinutes: 5 } : p)) };
    const failing = { RequestCount: 100, HTTPCode_Target_5XX_Count: 100, TargetResponseTime: 0.1 };
    // Blue's web failed at 11:52 and 11:53 only: before web's window, which has no datapoints of it.
    standIn.targetGroup("blue", "web").minutes = new Map([
      [Date.parse("2026-12-01T11:52:00Z"), failing],
      [Date.parse("2026-12-01T11:53:00Z"), failing],
    ]);
    const result = await run();
    expect(result.moved).toEqual([]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50, purple: 50 });
  });
});
