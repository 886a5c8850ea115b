import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LAST_FAILOVER_TAG } from "../modules/config/failover";
import { ConfigSources, FleetConfig, parseFleetConfig } from "../modules/config/load";
import { DEPLOYED_WEIGHTS_TAG } from "../modules/config/weights";
import { cloudWatchClient, elbClient } from "../modules/traffic/aws-clients";
import { applyShiftToSources, planShift } from "../modules/traffic/shift";
import { fileLockStore } from "../modules/traffic/traffic-lock";
import { mermaidAlbsPicture, mermaidPicture } from "../modules/traffic/mermaid";
import { fleetStatusPicture, formatFleetStatus, readFleetStatus } from "../modules/traffic/status";
import { textTable } from "../modules/traffic/text-table";
import type { AwsStandIn } from "../scripts/lib/aws-stand-in";
import { exampleSources, shifted, twoAlbSources, withClusterFile } from "./helpers/fleet";
import { standInServing } from "./helpers/stand-in-project";

/**
 * `npm run status` in process: the status read from the live fleet and its
 * files, and the lines operators read, with the real AWS SDK clients reaching
 * the stand-in over HTTP.
 */

const example = exampleSources();
/** The end of the metrics window: 5 minutes from 11:56 to 12:01. */
const now = new Date("2026-12-01T12:00:30Z");
const serve = standInServing();
let standIn: AwsStandIn;
let elb: ElasticLoadBalancingV2Client;
let cloudWatch: CloudWatchClient;

/** The stand-in serving `deployed` as deployed, and clients reaching it. */
async function deploy(deployed: FleetConfig): Promise<void> {
  standIn = await serve(deployed);
  elb = await elbClient(deployed);
  cloudWatch = await cloudWatchClient(deployed);
}

const setTargets = (cluster: string, service: string, ...states: ("healthy" | "unhealthy" | "initial" | "draining" | "unused" | "unavailable")[]) =>
  (standIn.targetGroup(cluster, service).targets = states.map((state, i) => ({ id: `10.40.9.${i}`, port: 8080, state })));
const setLive = (service: string, weights: number[]) => standIn.rule(service).forward.forEach((f, i) => (f.weight = weights[i]));

/** Two ALBs ({@link twoAlbSources}), api needing 2 healthy targets, and a third ALB that routes nothing yet (stack edge-spare). */
function twoAlbsAndSpare(): ConfigSources {
  const sources = twoAlbSources();
  const text = `${sources.platform.text.replace("    alb: internal\n", "    alb: internal\n    minHealthyTargets: 2\n")}  spare: { internal: true, httpOnly: true, deletionProtection: false }\n`;
  return { ...sources, platform: { ...sources.platform, text } };
}

/** A cluster file named `name` routing web with this weight. */
const clusterFile = (sources: ConfigSources, name: string, webWeight: number) =>
  withClusterFile(sources, `clusters/${name}.yaml`, example.clusters[0].text.replace("name: blue", `name: ${name}`).replace("  web: 50\n", `  web: ${webWeight}\n`));

describe("status of a healthy fleet", () => {
  it("gives each cluster's weights, health, requests, share served, 5xx and latency, and no problem", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    setLive("web", [1, 2]);
    standIn.rule("web").tags[DEPLOYED_WEIGHTS_TAG] = "blue=1 green=2";
    standIn.targetGroup("green", "web").errorRate = 0.0237;
    standIn.targetGroup("green", "web").responseTimeSeconds = 0.1234;
    const status = await readFleetStatus(elb, parseFleetConfig(shifted(example, { blue: 1, green: 2 })), { minutes: 5, cloudWatch, now });
    const health = { healthy: 2, unhealthy: 0, initial: 0, draining: 0, unused: 0, unavailable: 0 };
    expect(status).toStrictEqual({
      fleet: "demo",
      loadBalancer: "demo-alb",
      loadBalancers: [{ name: "demo-alb", stack: "edge", services: ["web"] }],
      minutes: 5,
      metricsError: undefined,
      services: [
        {
          service: "web",
          loadBalancer: "demo-alb",
          minHealthyTargets: 1,
          drift: false,
          liveFailover: false,
          fileWeights: { blue: 1, green: 2 },
          liveWeights: { blue: 1, green: 2 },
          deployedWeights: { blue: 1, green: 2 },
          lastFailover: undefined,
          healthyCapacity: true,
          clusters: [
            // 50 requests a second over 5 minutes, split 1:2; 5xx 0.1% and 2.37%.
            { cluster: "blue", fileWeight: 1, liveWeight: 1, health, requests: 5000, servedPercent: 33.3, errorPercent: 0.1, responseTimeMs: 80 },
            { cluster: "green", fileWeight: 2, liveWeight: 2, health, requests: 10000, servedPercent: 66.7, errorPercent: 2.4, responseTimeMs: 123 },
          ],
        },
      ],
      clusters: [
        { cluster: "blue", state: "active", requests: 5000 },
        { cluster: "green", state: "active", requests: 10000 },
      ],
      lock: undefined,
      problems: [],
    });
    expect(formatFleetStatus(status)).toBe(
      [
        "fleet demo; requests over the last 5 min",
        "",
        "load balancer demo-alb (stack edge)",
        "service  cluster  files  live  healthy  unhealthy  initial  draining  unused  requests  served  5xx   latency",
        "web      blue     1      1     2        0          0        0         0       5000      33.3%   0.1%  80 ms",
        "web      green    2      2     2        0          0        0         0       10000     66.7%   2.4%  123 ms",
        "",
        "cluster  state   requests",
        "blue     active  5000",
        "green    active  10000",
        "",
        "no drift; every service has healthy capacity",
      ].join("\n"),
    );
    // One GetMetricData call over the 5 whole minutes up to the minute in progress, under the ALB's dimension.
    const reads = standIn.calls.filter((c) => c.api === "cloudwatch");
    expect(reads.map((c) => [c.action, c.input.StartTime, c.input.EndTime])).toEqual([["GetMetricData", Date.parse("2026-12-01T11:56:00Z") / 1000, Date.parse("2026-12-01T12:01:00Z") / 1000]]);
  });

  it("reads the last 15 minutes by default, up to now", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    const before = Date.now();
    const status = await readFleetStatus(elb, fleet, { cloudWatch });
    expect(status.minutes).toBe(15);
    const { StartTime, EndTime } = standIn.calls.find((c) => c.api === "cloudwatch")!.input as { StartTime: number; EndTime: number };
    expect(EndTime - StartTime).toBe(15 * 60);
    expect(EndTime * 1000).toBeGreaterThanOrEqual(before);
    expect(EndTime * 1000).toBeLessThanOrEqual(Date.now() + 60_000);
    // 50 requests a second over 15 minutes, half to each.
    expect(status.clusters).toEqual([
      { cluster: "blue", state: "active", requests: 22500 },
      { cluster: "green", state: "active", requests: 22500 },
    ]);
    expect(formatFleetStatus(status)).toMatch(/^fleet demo; requests over the last 15 min\n/);
  });

  it("reads no CloudWatch without a client or with 0 minutes, and shows no request figures", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    for (const status of [await readFleetStatus(elb, fleet, { minutes: 0, cloudWatch, now }), await readFleetStatus(elb, fleet, { minutes: 5, now })]) {
      expect(status.services[0].clusters[0]).toStrictEqual({
        cluster: "blue",
        fileWeight: 50,
        liveWeight: 50,
        health: { healthy: 2, unhealthy: 0, initial: 0, draining: 0, unused: 0, unavailable: 0 },
        requests: undefined,
        servedPercent: undefined,
        errorPercent: undefined,
        responseTimeMs: undefined,
      });
      expect(status.clusters.map((c) => c.requests)).toEqual([undefined, undefined]);
      expect(status.metricsError).toBeUndefined();
      expect(formatFleetStatus(status)).toContain(
        [
          "web      blue     50     50    2        0          0        0         0       –         –       –    –",
          "web      green    50     50    2        0          0        0         0       –         –       –    –",
          "",
          "cluster  state   requests",
          "blue     active  –",
          "green    active  –",
          "",
          "no drift; every service has healthy capacity",
        ].join("\n"),
      );
    }
    expect(formatFleetStatus(await readFleetStatus(elb, fleet, { minutes: 0, cloudWatch, now }))).toMatch(/^fleet demo; requests over the last 0 min\n/);
    expect(standIn.calls.filter((c) => c.api === "cloudwatch")).toEqual([]);
  });

  it("a service that served nothing over the window: 0 requests and 0% served each, the clusters idle", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    standIn.rule("web").requestsPerSecond = 0;
    const status = await readFleetStatus(elb, fleet, { minutes: 5, cloudWatch, now });
    expect(status.services[0].clusters.map((c) => [c.requests, c.servedPercent, c.errorPercent, c.responseTimeMs])).toEqual([
      [0, 0, undefined, undefined],
      [0, 0, undefined, undefined],
    ]);
    expect(formatFleetStatus(status)).toContain(
      [
        "web      blue     50     50    2        0          0        0         0       0         0%      –    –",
        "web      green    50     50    2        0          0        0         0       0         0%      –    –",
        "",
        "cluster  state   requests",
        "blue     active  0 (idle 5 min)",
        "green    active  0 (idle 5 min)",
      ].join("\n"),
    );
  });

  it("says why request counts are missing when CloudWatch refuses, and still gives weights and health", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    standIn.faults.set("GetMetricData", { error: { code: "AccessDenied", status: 403 } });
    const status = await readFleetStatus(elb, fleet, { minutes: 5, cloudWatch, now });
    const failure = `CloudWatch: AWS call failed: AccessDenied: stand-in fault on this call (GetMetricData to ${standIn.url}/)`;
    expect(status.metricsError).toBe(failure);
    expect(status.services[0].clusters.map((c) => [c.liveWeight, c.health?.healthy, c.requests, c.servedPercent])).toEqual([
      [50, 2, undefined, undefined],
      [50, 2, undefined, undefined],
    ]);
    expect(status.problems).toEqual([]);
    expect(formatFleetStatus(status)).toContain(["blue     active  –", "green    active  –", "", `request counts unavailable: ${failure}`, "", "no drift; every service has healthy capacity"].join("\n"));
  });
});

describe("drift", () => {
  it("files that differ from what is live and deployed: deploy the edge stack, or bring the files in line", async () => {
    await deploy(parseFleetConfig(example));
    const status = await readFleetStatus(elb, parseFleetConfig(shifted(example, { blue: 0, green: 100 })), { minutes: 0 });
    expect(status.services[0]).toMatchObject({ drift: true, liveFailover: false, fileWeights: { blue: 0, green: 100 }, liveWeights: { blue: 50, green: 50 } });
    expect(status.problems).toEqual(["web: DRIFT live blue=50 green=50, files blue=0 green=100 (the files differ from what is deployed: deploy edge, or bring the files in line)"]);
    expect(formatFleetStatus(status)).toContain(
      [
        "web      blue     0      50 ≠  2        0          0        0         0       –         –       –    –",
        "web      green    100    50 ≠  2        0          0        0         0       –         –       –    –",
      ].join("\n"),
    );
    expect(formatFleetStatus(status)).toMatch(/\n\nweb: DRIFT live blue=50 green=50, files blue=0 green=100 \(the files differ[^\n]*$/);
  });

  it("weights shifted live (shift --now) and not deployed from the files", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    setLive("web", [20, 80]);
    const status = await readFleetStatus(elb, fleet, { minutes: 5, cloudWatch, now });
    expect(status.services[0]).toMatchObject({ drift: true, liveFailover: true, deployedWeights: { blue: 50, green: 50 }, lastFailover: undefined });
    expect(status.services[0].clusters.map((c) => [c.requests, c.servedPercent])).toEqual([
      [3000, 20],
      [12000, 80],
    ]);
    expect(status.problems).toEqual([
      "web: DRIFT live blue=20 green=80, files blue=50 green=50 (a change made live (shift --now) that is not deployed from the files; last deployed blue=50 green=50)",
    ]);
    const text = formatFleetStatus(status);
    expect(text).toContain("web      blue     50     20 ≠  2        0          0        0         0       3000      20%     0.1%  80 ms");
    // Drift is the problem to act on; the note for files that agree with live is not given.
    expect(text).not.toContain("Terraform last deployed");
  });

  it("an automatic failover: names it, with its record, as what made the change", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    setLive("web", [100, 0]);
    const record = "2026-12-01T11:58:00.000Z from=green why=5xx by=demo-failover";
    standIn.rule("web").tags[LAST_FAILOVER_TAG] = record;
    const status = await readFleetStatus(elb, fleet, { minutes: 5, cloudWatch, now });
    expect(status.services[0].lastFailover).toBe(record);
    // Green got no traffic in the window: no 5xx or latency to give, and it served none of it.
    expect(status.services[0].clusters[1]).toMatchObject({ cluster: "green", requests: 0, servedPercent: 0, errorPercent: undefined, responseTimeMs: undefined });
    expect(status.problems).toEqual([
      `web: DRIFT live blue=100 green=0, files blue=50 green=50 (the automatic failover (${record}) that is not deployed from the files; last deployed blue=50 green=50)`,
    ]);
    expect(formatFleetStatus(status)).toContain(
      [
        "web      blue     50     100 ≠  2        0          0        0         0       15000     100%    0.1%  80 ms",
        "web      green    50     0 ≠    2        0          0        0         0       0         0%      –     –",
        "",
        "cluster  state   requests",
        "blue     active  15000",
        "green    active  0 (idle 5 min)",
        "",
        `web: last automatic failover ${record}`,
        "",
        "web: DRIFT",
      ].join("\n"),
    );
  });

  it("files that agree with a live shift Terraform has not deployed yet: no problem, but a note to merge and deploy", async () => {
    await deploy(parseFleetConfig(example));
    setLive("web", [0, 100]);
    const status = await readFleetStatus(elb, parseFleetConfig(shifted(example, { blue: 0, green: 100 })), { minutes: 0 });
    expect(status.services[0]).toMatchObject({ drift: false, liveFailover: true });
    expect(status.problems).toEqual([]);
    expect(formatFleetStatus(status)).toContain(
      ["green    active  –", "", "web: files and live agree; Terraform last deployed blue=50 green=50: merge the files and deploy edge", "", "no drift; every service has healthy capacity"].join("\n"),
    );
  });

  it("a rule without the deployed-weights tag: no live failover is claimed", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    delete standIn.rule("web").tags[DEPLOYED_WEIGHTS_TAG];
    setLive("web", [0, 100]);
    const status = await readFleetStatus(elb, fleet, { minutes: 0 });
    expect(status.services[0]).toMatchObject({ drift: true, liveFailover: false, deployedWeights: undefined });
    expect(status.problems).toEqual(["web: DRIFT live blue=0 green=100, files blue=50 green=50 (the files differ from what is deployed: deploy edge, or bring the files in line)"]);
  });

  it("a cluster in the files that the live rule does not forward to yet, and one the rule forwards to that the files left", async () => {
    // Live: amber (weight 0), blue, green. Files: blue, green, purple (weight 10).
    await deploy(parseFleetConfig(clusterFile(example, "amber", 0)));
    const status = await readFleetStatus(elb, parseFleetConfig(clusterFile(example, "purple", 10)), { minutes: 5, cloudWatch, now });
    expect(status.services[0].clusters.map((c) => c.cluster)).toEqual(["amber", "blue", "green", "purple"]);
    expect(status.services[0].clusters[0]).toMatchObject({ cluster: "amber", fileWeight: undefined, liveWeight: 0, requests: 0, servedPercent: 0 });
    expect(status.services[0].clusters[3]).toStrictEqual({
      cluster: "purple",
      fileWeight: 10,
      liveWeight: undefined,
      health: undefined,
      requests: undefined,
      servedPercent: 0,
      errorPercent: undefined,
      responseTimeMs: undefined,
    });
    expect(status.clusters).toEqual([
      { cluster: "blue", state: "active", requests: 7500 },
      { cluster: "green", state: "active", requests: 7500 },
      { cluster: "purple", state: "active", requests: 0 },
    ]);
    expect(status.problems).toEqual([
      "web: DRIFT live amber=0 blue=50 green=50, files blue=50 green=50 purple=10 (the files differ from what is deployed: deploy edge, or bring the files in line)",
    ]);
    expect(formatFleetStatus(status)).toContain(
      [
        "web      amber    –      0 ≠   2        0          0        0         0       0         0%      –     –",
        "web      blue     50     50    2        0          0        0         0       7500      50%     0.1%  80 ms",
        "web      green    50     50    2        0          0        0         0       7500      50%     0.1%  80 ms",
        "web      purple   10     – ≠   –        –          –        –         –       –         0%      –     –",
      ].join("\n"),
    );
  });
});

describe("health", () => {
  it("a cluster with a share of the traffic and fewer healthy targets than minHealthyTargets, while another carries the service", async () => {
    const fleet = parseFleetConfig(withMinHealthy(2));
    await deploy(fleet);
    setTargets("blue", "web", "healthy", "unhealthy", "initial", "draining", "unused", "unavailable");
    setTargets("green", "web", "healthy", "healthy", "unavailable");
    const status = await readFleetStatus(elb, fleet, { minutes: 0 });
    expect(status.services[0]).toMatchObject({ minHealthyTargets: 2, healthyCapacity: true });
    expect(status.problems).toEqual([
      "web: UNHEALTHY WITH TRAFFIC: blue gets 50% of the traffic (live weight 50) with 1 healthy target, fewer than minHealthyTargets 2: the ALB still sends it its share; shift it away (npm run shift -- blue=0 --now)",
    ]);
    const text = formatFleetStatus(status);
    expect(text).toContain("web      blue     50     50    1        1          1        1         1       –         –       –    –");
    expect(text).toContain("\n\nhealth unavailable (health checks off?) for web/blue, web/green\n\nweb: UNHEALTHY WITH TRAFFIC: blue gets 50%");
  });

  it("no weighted cluster with minHealthyTargets healthy targets: no healthy capacity, and each weighted cluster named", async () => {
    const fleet = parseFleetConfig(withMinHealthy(2));
    await deploy(fleet);
    setLive("web", [0, 100]);
    // Blue has the healthy targets but no weight; green the weight but a target short.
    setTargets("blue", "web", "healthy", "healthy", "healthy");
    setTargets("green", "web", "healthy", "unhealthy");
    const status = await readFleetStatus(elb, parseFleetConfig(shifted(withMinHealthy(2), { blue: 0, green: 100 })), { minutes: 0 });
    expect(status.services[0].healthyCapacity).toBe(false);
    expect(status.problems).toEqual([
      "web: NO HEALTHY CAPACITY: no cluster with weight has 2 healthy targets",
      "web: UNHEALTHY WITH TRAFFIC: green gets 100% of the traffic (live weight 100) with 1 healthy target, fewer than minHealthyTargets 2: the ALB still sends it its share; shift it away (npm run shift -- green=0 --now)",
    ]);
  });

  it("exactly minHealthyTargets healthy targets is enough", async () => {
    const fleet = parseFleetConfig(withMinHealthy(2));
    await deploy(fleet);
    setTargets("blue", "web", "healthy", "healthy", "unhealthy");
    setTargets("green", "web", "healthy", "healthy");
    const status = await readFleetStatus(elb, fleet, { minutes: 0 });
    expect(status.services[0].healthyCapacity).toBe(true);
    expect(status.problems).toEqual([]);
  });

  it("no healthy target anywhere, with the default minHealthyTargets of 1", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    setTargets("blue", "web", "unhealthy", "unhealthy");
    setTargets("green", "web");
    const status = await readFleetStatus(elb, fleet, { minutes: 0 });
    expect(status.problems).toEqual([
      "web: NO HEALTHY CAPACITY: no cluster with weight has 1 healthy target",
      "web: UNHEALTHY WITH TRAFFIC: blue gets 50% of the traffic (live weight 50) with 0 healthy targets, fewer than minHealthyTargets 1: the ALB still sends it its share; shift it away (npm run shift -- blue=0 --now)",
      "web: UNHEALTHY WITH TRAFFIC: green gets 50% of the traffic (live weight 50) with 0 healthy targets, fewer than minHealthyTargets 1: the ALB still sends it its share; shift it away (npm run shift -- green=0 --now)",
    ]);
    expect(formatFleetStatus(status)).toMatch(/\n\nweb: NO HEALTHY CAPACITY[^\n]*\nweb: UNHEALTHY WITH TRAFFIC: blue[^\n]*\nweb: UNHEALTHY WITH TRAFFIC: green[^\n]*$/);
  });

  it("a cluster without weight and without healthy targets is no problem while another carries the service", async () => {
    const fleet = parseFleetConfig(shifted(example, { blue: 0, green: 100 }));
    await deploy(fleet);
    setTargets("blue", "web", "unhealthy");
    const status = await readFleetStatus(elb, fleet, { minutes: 0 });
    expect(status.problems).toEqual([]);
  });
});

/** The example with this minHealthyTargets for web. */
function withMinHealthy(targets: number): ConfigSources {
  return { ...example, platform: { ...example.platform, text: example.platform.text.replace("priority: 100", `priority: 100\n    minHealthyTargets: ${targets}\n    failover: { mode: alarm-only }`) } };
}

describe("the traffic lock", () => {
  const lockFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "status-lock-")), "traffic.lock");
  const holder = { owner: "alice@laptop pid 42", reason: "shift --to green --now", since: "2026-12-01T11:59:00.000Z", expires: "2026-12-01T12:04:00.000Z", id: "a1" };

  it("free", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    const lock = fileLockStore(lockFile());
    const status = await readFleetStatus(elb, fleet, { minutes: 0, lock, now });
    expect(status.lock).toStrictEqual({ location: lock.location, holder: undefined, expired: undefined });
    expect(formatFleetStatus(status)).toContain("green    active  –\n\ntraffic lock: free\n\nno drift");
  });

  it("held, and judged expired or not at the status's time", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    const lock = fileLockStore(lockFile());
    await lock.create(JSON.stringify(holder));
    const held = await readFleetStatus(elb, fleet, { minutes: 0, lock, now });
    expect(held.lock).toStrictEqual({ location: lock.location, holder, expired: false });
    expect(formatFleetStatus(held)).toContain(
      "\n\ntraffic lock: held by alice@laptop pid 42 (shift --to green --now) since 2026-12-01T11:59:00.000Z, expires 2026-12-01T12:04:00.000Z\n\nno drift",
    );
    const later = await readFleetStatus(elb, fleet, { minutes: 0, lock, now: new Date("2026-12-01T12:04:00Z") });
    expect(later.lock).toStrictEqual({ location: lock.location, holder, expired: true });
    expect(formatFleetStatus(later)).toContain(
      "traffic lock: held by alice@laptop pid 42 (shift --to green --now) since 2026-12-01T11:59:00.000Z, expires 2026-12-01T12:04:00.000Z (EXPIRED: its holder stopped renewing it; the next writer takes it over)\n",
    );
    // Without a time given, now is now: that lease has long ended.
    expect((await readFleetStatus(elb, fleet, { minutes: 0, lock })).lock?.expired).toBe(true);
  });

  it("unreadable: says where and why, and the rest of the status stands", async () => {
    const fleet = parseFleetConfig(example);
    await deploy(fleet);
    const lock = fileLockStore(lockFile());
    await lock.create("not a lock");
    const status = await readFleetStatus(elb, fleet, { minutes: 0, lock, now });
    const why = `${lock.location} is not a traffic lock (expected JSON with owner, reason, since, expires, id): look at it and remove it by hand if it is debris`;
    expect(status.lock).toStrictEqual({ location: lock.location, error: why });
    expect(status.problems).toEqual([]);
    expect(formatFleetStatus(status)).toContain(`\n\ntraffic lock (${lock.location}) could not be read: ${why}\n\nno drift`);
  });
});

describe("several ALBs", () => {
  it("a table per ALB, each service's request counts read under its own ALB", async () => {
    const fleet = parseFleetConfig(twoAlbsAndSpare());
    await deploy(fleet);
    setLive("api", [10, 30]);
    const status = await readFleetStatus(elb, fleet, { minutes: 5, cloudWatch, now });
    expect(status.loadBalancer).toBe("demo-alb");
    expect(status.loadBalancers).toEqual([
      { name: "demo-alb", stack: "edge", services: ["web"] },
      { name: "demo-internal-alb", stack: "edge-internal", services: ["api"] },
      { name: "demo-spare-alb", stack: "edge-spare", services: [] },
    ]);
    expect(status.services.map((s) => [s.service, s.loadBalancer, s.minHealthyTargets])).toEqual([
      ["web", "demo-alb", 1],
      ["api", "demo-internal-alb", 2],
    ]);
    expect(status.clusters).toEqual([
      { cluster: "blue", state: "active", requests: 7500 + 3750 },
      { cluster: "green", state: "active", requests: 7500 + 11250 },
    ]);
    expect(status.problems).toEqual([
      "api: DRIFT live blue=10 green=30, files blue=50 green=50 (a change made live (shift --now) that is not deployed from the files; last deployed blue=50 green=50)",
    ]);
    expect(formatFleetStatus(status)).toBe(
      [
        "fleet demo; requests over the last 5 min",
        "",
        "load balancer demo-alb (stack edge)",
        "service  cluster  files  live  healthy  unhealthy  initial  draining  unused  requests  served  5xx   latency",
        "web      blue     50     50    2        0          0        0         0       7500      50%     0.1%  80 ms",
        "web      green    50     50    2        0          0        0         0       7500      50%     0.1%  80 ms",
        "",
        "load balancer demo-internal-alb (stack edge-internal)",
        "service  cluster  files  live  healthy  unhealthy  initial  draining  unused  requests  served  5xx   latency",
        "api      blue     50     10 ≠  2        0          0        0         0       3750      25%     0.1%  80 ms",
        "api      green    50     30 ≠  2        0          0        0         0       11250     75%     0.1%  80 ms",
        "",
        "load balancer demo-spare-alb (stack edge-spare): routes no service",
        "",
        "cluster  state   requests",
        "blue     active  11250",
        "green    active  18750",
        "",
        "api: DRIFT live blue=10 green=30, files blue=50 green=50 (a change made live (shift --now) that is not deployed from the files; last deployed blue=50 green=50)",
      ].join("\n"),
    );
  });

  it("a cluster routing only some services: its requests are those of its target groups", async () => {
    const sources = twoAlbSources();
    const gray = withClusterFile(sources, "clusters/gray.yaml", example.clusters[0].text.replace("name: blue", "name: gray").replace("  web: 50\n", "  api: 10\n"));
    const fleet = parseFleetConfig(gray);
    await deploy(fleet);
    const status = await readFleetStatus(elb, fleet, { minutes: 5, cloudWatch, now });
    expect(status.services.map((s) => [s.service, s.clusters.map((c) => c.cluster)])).toEqual([
      ["web", ["blue", "green"]],
      ["api", ["blue", "gray", "green"]],
    ]);
    // api's 15,000 requests split 50:10:50, web's 15,000 evenly.
    expect(status.clusters).toEqual([
      { cluster: "blue", state: "active", requests: 7500 + 6818 },
      { cluster: "gray", state: "active", requests: 1364 },
      { cluster: "green", state: "active", requests: 7500 + 6818 },
    ]);
  });

  it("an ALB not deployed yet: its services are named as not deployed, the others shown", async () => {
    const fleet = parseFleetConfig(twoAlbsAndSpare());
    await deploy(fleet);
    standIn.loadBalancer("edge-internal").deployed = false;
    const status = await readFleetStatus(elb, parseFleetConfig(shifted(twoAlbsAndSpare(), { blue: 0, green: 100 })), { minutes: 0 });
    expect(status.services.map((s) => s.service)).toEqual(["web"]);
    // Drift of a service on the ALB of a named stack says which stack to deploy.
    expect(status.problems).toEqual([
      "api: NOT DEPLOYED: no listener rule on demo-internal-alb yet: deploy edge-internal",
      "web: DRIFT live blue=50 green=50, files blue=0 green=100 (the files differ from what is deployed: deploy edge, or bring the files in line)",
    ]);
    const text = formatFleetStatus(status);
    expect(text).toContain("web      green    100    50 ≠  2        0          0        0         0       –         –       –    –\n\nload balancer demo-internal-alb (stack edge-internal): not deployed yet (api)\n\nload balancer demo-spare-alb (stack edge-spare): routes no service\n\n");
    expect(text).toMatch(/\n\napi: NOT DEPLOYED[^\n]*\nweb: DRIFT[^\n]*$/);
  });

  it("no ALB deployed: every service named, nothing else read", async () => {
    const fleet = parseFleetConfig(twoAlbsAndSpare());
    await deploy(fleet);
    for (const lb of standIn.world.loadBalancers) lb.deployed = false;
    const status = await readFleetStatus(elb, fleet, { minutes: 5, cloudWatch, now });
    expect(status.services).toEqual([]);
    expect(status.problems).toEqual([
      "web: NOT DEPLOYED: no listener rule on demo-alb yet: deploy edge",
      "api: NOT DEPLOYED: no listener rule on demo-internal-alb yet: deploy edge-internal",
    ]);
    expect(status.clusters).toEqual([
      { cluster: "blue", state: "active", requests: 0 },
      { cluster: "green", state: "active", requests: 0 },
    ]);
    expect(standIn.calls.filter((c) => c.api === "cloudwatch")).toEqual([]);
    expect(formatFleetStatus(status)).toContain("load balancer demo-alb (stack edge): not deployed yet (web)\n");
  });

  it("an ALB not deployed yet names each of its services", async () => {
    const withAdmin = {
      platform: { ...example.platform, text: example.platform.text.replace("services:\n", "services:\n  - name: admin\n    servicePort: 80\n    containerPort: 8080\n    paths: [/admin/*]\n    priority: 10\n") },
      clusters: example.clusters.map((c) => ({ ...c, text: c.text.replace("  web: 50", "  web: 50\n  admin: 50") })),
    };
    const fleet = parseFleetConfig(withAdmin);
    await deploy(fleet);
    standIn.loadBalancer("edge").deployed = false;
    expect(formatFleetStatus(await readFleetStatus(elb, fleet, { minutes: 0 }))).toContain("load balancer demo-alb (stack edge): not deployed yet (admin, web)\n");
  });

  it("drift of a service on a named ALB names its stack", async () => {
    const fleet = parseFleetConfig(twoAlbsAndSpare());
    await deploy(fleet);
    setLive("api", [0, 100]);
    standIn.rule("api").tags[DEPLOYED_WEIGHTS_TAG] = "blue=0 green=100";
    const status = await readFleetStatus(elb, fleet, { minutes: 0 });
    expect(status.problems).toEqual([
      "api: DRIFT live blue=0 green=100, files blue=50 green=50 (the files differ from what is deployed: deploy edge-internal, or bring the files in line)",
    ]);
  });

  it("files and live agreeing on a named ALB's service name its stack to deploy", async () => {
    await deploy(parseFleetConfig(twoAlbsAndSpare()));
    setLive("api", [0, 100]);
    const sources = twoAlbsAndSpare();
    const deployed = parseFleetConfig(sources);
    const files = parseFleetConfig(applyShiftToSources(sources, deployed, planShift(deployed, { weights: { blue: 0, green: 100 }, services: ["api"] })));
    const status = await readFleetStatus(elb, files, { minutes: 0 });
    expect(status.problems).toEqual([]);
    expect(formatFleetStatus(status)).toContain("api: files and live agree; Terraform last deployed blue=50 green=50: merge the files and deploy edge-internal");
  });
});

describe("the picture (status --mermaid)", () => {
  it("one subgraph per ALB with its rules, each target group's live weight, share and health, leading to the clusters", async () => {
    // Files: web also in purple, which the live rule does not forward to yet.
    const files = parseFleetConfig(clusterFile(twoAlbsAndSpare(), "purple", 10));
    await deploy(parseFleetConfig(twoAlbsAndSpare()));
    setLive("web", [100, 0]);
    setLive("api", [1, 2]);
    setTargets("blue", "web", "healthy", "unhealthy");
    setTargets("blue", "api", "unhealthy");
    setTargets("green", "api", "unhealthy", "draining");
    const picture = fleetStatusPicture(await readFleetStatus(elb, files, { minutes: 0 }));
    expect(picture).toBe(
      [
        "flowchart LR",
        '  subgraph edge["edge"]',
        '    alb_edge["ALB demo-alb"]',
        '    alb_edge --> rule_web["rule web"]',
        '    rule_web -- "weight 100 (100%)" --> tg_web_blue["web/blue<br/>1 healthy, 1 unhealthy"]',
        '    rule_web -- "weight 0 (0%)" --> tg_web_green["web/green<br/>2 healthy"]',
        '    rule_web -- "weight 0 (0%)" --> tg_web_purple["web/purple"]',
        "  end",
        '  subgraph edge_internal["edge-internal"]',
        '    alb_edge_internal["ALB demo-internal-alb"]',
        '    alb_edge_internal --> rule_api["rule api"]',
        '    rule_api -- "weight 1 (33%)" --> tg_api_blue["api/blue<br/>0 healthy, 1 unhealthy"]',
        '    rule_api -- "weight 2 (67%)" --> tg_api_green["api/green<br/>0 healthy, 1 unhealthy"]',
        "  end",
        '  subgraph edge_spare["edge-spare"]',
        '    alb_edge_spare["ALB demo-spare-alb"]',
        "  end",
        "  tg_web_blue --> cluster_blue",
        "  tg_web_green --> cluster_green",
        "  tg_web_purple --> cluster_purple",
        "  tg_api_blue --> cluster_blue",
        "  tg_api_green --> cluster_green",
        '  cluster_blue(["cluster blue<br/>active"])',
        '  cluster_green(["cluster green<br/>active"])',
        '  cluster_purple(["cluster purple<br/>active"])',
        "  classDef unhealthy fill:#fdd,stroke:#c00",
        "  class tg_api_blue,tg_api_green unhealthy",
        "  classDef idle stroke-dasharray:4 4",
        "  class tg_web_green,tg_web_purple idle",
      ].join("\n"),
    );
  });

  it("a plan's picture of one ALB: no name, no health, clusters by name with the state when known; no weight at all is 0% each", () => {
    const routes = [
      { service: "web", clusters: [{ cluster: "green-2", weight: 0 }, { cluster: "blue", weight: 0 }] },
      { service: "api.v2", clusters: [{ cluster: "blue", weight: 3 }] },
    ];
    expect(mermaidPicture(undefined, routes, { "green-2": "standby", blue: undefined })).toBe(
      [
        "flowchart LR",
        '  alb["ALB"]',
        '  alb --> rule_web["rule web"]',
        '  rule_web -- "weight 0 (0%)" --> tg_web_green_2["web/green-2"]',
        '  rule_web -- "weight 0 (0%)" --> tg_web_blue["web/blue"]',
        '  alb --> rule_api_v2["rule api.v2"]',
        '  rule_api_v2 -- "weight 3 (100%)" --> tg_api_v2_blue["api.v2/blue"]',
        "  tg_web_green_2 --> cluster_green_2",
        "  tg_web_blue --> cluster_blue",
        "  tg_api_v2_blue --> cluster_blue",
        '  cluster_blue(["cluster blue"])',
        '  cluster_green_2(["cluster green-2<br/>standby"])',
        "  classDef idle stroke-dasharray:4 4",
        "  class tg_web_green_2,tg_web_blue idle",
      ].join("\n"),
    );
    expect(mermaidPicture("demo-alb", [], {}).split("\n")).toEqual(["flowchart LR", '  alb["ALB demo-alb"]']);
    expect(mermaidAlbsPicture([{ stack: "edge-internal", routes: [] }], {}).split("\n")).toEqual([
      "flowchart LR",
      '  subgraph edge_internal["edge-internal"]',
      '    alb_edge_internal["ALB"]',
      "  end",
    ]);
  });
});

describe("text tables", () => {
  it("left-aligns columns two spaces apart, as wide as their widest cell, a missing cell blank, without trailing spaces", () => {
    expect(textTable(["name", "n"], [["a", "12345"], ["long name"], []])).toBe(["name       n", "a          12345", "long name", ""].join("\n"));
    expect(textTable(["a", "b", "c"], [])).toBe("a  b  c");
  });
});
