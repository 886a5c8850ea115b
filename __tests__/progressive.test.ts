import { ConfigSources, FleetConfig, parseFleetConfig } from "../modules/config/load";
import { cloudWatchClient, elbClient } from "../modules/traffic/aws-clients";
import { progressiveShift, ProgressiveShiftOptions } from "../modules/traffic/progressive";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { exampleSources, withClusterFile } from "./helpers/fleet";

const example = exampleSources();
// Parsed in each test (not when the file loads), so that mutation testing counts the code it runs to that test.
let fleet: FleetConfig;
beforeEach(() => {
  fleet = parseFleetConfig(example);
});
const saved = { ...process.env };
let standIn: AwsStandIn;

beforeEach(async () => {
  standIn = new AwsStandIn(worldOf(fleet));
  await standIn.start();
  Object.assign(process.env, standIn.environment());
});
afterEach(async () => {
  await standIn.stop();
  process.env = { ...saved };
});

/** Cluster files kept in memory: what the shift reads and writes, and each write. */
function memoryFiles(start: ConfigSources = example) {
  let current = start;
  const written: ConfigSources[] = [];
  /** Each write's weights of web, as the writes happen. */
  const webWritten: number[][] = [];
  return {
    written,
    webWritten,
    readSources: () => current,
    writeSources: (_: ConfigSources, next: ConfigSources) => {
      current = next;
      written.push(next);
      webWritten.push(parseFleetConfig(next).clusters.map((c) => c.config.weights.web));
    },
    edit: (change: (sources: ConfigSources) => ConfigSources) => (current = change(current)),
    webWeights: () => written.map((sources) => parseFleetConfig(sources).clusters.map((c) => c.config.weights.web)),
  };
}

describe("progressiveShift", () => {
  /** A progressive shift to green in steps of 25 over `files` (the example unless given), its lines collected. */
  const run = async ({ log, ...options }: Partial<ProgressiveShiftOptions>, files = memoryFiles()) => {
    const lines: string[] = [];
    const outcome = progressiveShift(await elbClient(fleet), await cloudWatchClient(fleet), files.readSources(), {
      to: "green",
      step: 25,
      intervalMs: 200,
      checkEveryMs: 100,
      readSources: files.readSources,
      writeSources: files.writeSources,
      ...options,
      log: (line) => {
        lines.push(line);
        log?.(line);
      },
    });
    return { outcome, written: files.webWritten, lines };
  };
  const modifyCalls = () => standIn.calls.filter((c) => c.action === "ModifyRule").length;

  it("checks the limits during the interval, not only at its end: a breach rolls back early", async () => {
    standIn.targetGroup("green", "web").errorRate = 0.05;
    const files = memoryFiles();
    const started = Date.now();
    const { outcome: shift, lines } = await run({ intervalMs: 60_000 }, files);
    await expect(shift).rejects.toThrow("step 1/2 breached the shift limits: web/green target 5xx 5.0% > 1%");
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(lines).toEqual(["step 1/2: web blue=25 green=75 · healthy blue 2, green 2 · 5xx blue 0.1%, green 5.0% · latency blue 80 ms, green 80 ms"]);
    // Files: the step's weights, then the starting ones back.
    expect(files.webWeights()).toEqual([
      [25, 75],
      [50, 50],
    ]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });

  it("holds where it is when both the destination and the cluster it drains breach: neither direction is safe", async () => {
    standIn.targetGroup("green", "web").errorRate = 0.05;
    standIn.targetGroup("blue", "web").errorRate = 0.05;
    const files = memoryFiles();
    const { outcome: shift } = await run({ intervalMs: 60_000 }, files);
    // The shares of 5xx are rounded from the window's request counts: 5.0 % or 5.1 %.
    await expect(shift).rejects.toThrow(
      /^step 1\/2 breached the shift limits on the destination \(web\/green target 5xx 5\.\d% > 1%\) and on the clusters it drains \(web\/blue target 5xx 5\.\d% > 1%\): holding at web blue=25 green=75 on the rules and in the files, neither direction is safe: decide by hand$/,
    );
    expect(files.webWeights()).toEqual([[25, 75]]);
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
  });

  it("goes on when only the clusters it drains breach, naming each breach, and judges a cluster no more once it leaves", async () => {
    Object.assign(standIn.targetGroup("blue", "web"), { errorRate: 0.2, responseTimeSeconds: 5 });
    const { outcome, written, lines } = await run({});
    await expect(outcome).resolves.toBe("done");
    expect(lines.filter((line) => line.includes("losing traffic"))).toEqual([
      "step 1/2: the clusters losing traffic breach the shift limits (web/blue target 5xx 20.0% > 1%; web/blue response time 5000 ms > 1000 ms): going on, each step moves traffic off them",
    ]);
    expect(written).toEqual([
      [25, 75],
      [0, 100],
    ]);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
  });

  it("names every breach on either side when both breach", async () => {
    Object.assign(standIn.targetGroup("green", "web"), { errorRate: 0.05, responseTimeSeconds: 2 });
    Object.assign(standIn.targetGroup("blue", "web"), { errorRate: 0.05, responseTimeSeconds: 3 });
    const { outcome } = await run({ intervalMs: 60_000 });
    await expect(outcome).rejects.toThrow(
      /^step 1\/2 breached the shift limits on the destination \(web\/green target 5xx 5\.\d% > 1%; web\/green response time 2000 ms > 1000 ms\) and on the clusters it drains \(web\/blue target 5xx 5\.\d% > 1%; web\/blue response time 3000 ms > 1000 ms\): holding at web blue=25 green=75/,
    );
  });

  it("names every breach of the destination when it restores the starting weights", async () => {
    Object.assign(standIn.targetGroup("green", "web"), { errorRate: 0.05, responseTimeSeconds: 2 });
    const { outcome } = await run({ intervalMs: 60_000 });
    await expect(outcome).rejects.toThrow(
      "step 1/2 breached the shift limits: web/green target 5xx 5.0% > 1%; web/green response time 2000 ms > 1000 ms; restored the starting weights (web blue=50 green=50) on the rules and in the files",
    );
  });

  it("says which clusters with traffic sent no datapoints, each of them, and shows them as no data", async () => {
    standIn.rule("web").requestsPerSecond = 0;
    const { outcome, lines } = await run({ missingDataChecks: 1, intervalMs: 100, checkEveryMs: 50 });
    await expect(outcome).rejects.toThrow("step 1/2: stopping, no metric datapoints for web/blue, web/green (CloudWatch sent none, even after waiting)");
    expect(lines).toEqual([
      "no datapoints yet for web/blue, web/green: holding, checking again (1/1)",
      "step 1/2: web blue=25 green=75 · healthy blue 2, green 2 · 5xx blue no data, green no data · latency blue no data, green no data",
    ]);
  });

  it("after a breach at a later step, restores the starting weights, not the previous step's", async () => {
    const { outcome, written } = await run({
      // Green starts failing once step 1 has passed.
      log: (line) => {
        if (line.startsWith("step 1/2")) standIn.targetGroup("green", "web").errorRate = 0.05;
      },
    });
    await expect(outcome).rejects.toThrow(
      "step 2/2 breached the shift limits: web/green target 5xx 5.0% > 1%; restored the starting weights (web blue=50 green=50) on the rules and in the files",
    );
    expect(written).toEqual([
      [25, 75],
      [0, 100],
      [50, 50],
    ]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });

  it("holds where it is, rules and files, when the health gate refuses the starting weights a breach would restore", async () => {
    standIn.targetGroup("green", "web").errorRate = 0.05;
    const files = memoryFiles();
    // Blue fails as step 1 is reported: after the breach is seen, before the restore reads health.
    const blueFails = (line: string) => line.startsWith("step 1/2") && standIn.targetGroup("blue", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const { outcome: shift } = await run({ intervalMs: 60_000, log: blueFails }, files);
    await expect(shift).rejects.toThrow(
      "step 1/2 breached the shift limits: web/green target 5xx 5.0% > 1%; NOT restoring the starting weights, the health gate refuses them " +
        "(web: cluster blue would get weight 50 (now 25), 50% of the traffic (now 25%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1): " +
        "holding at web blue=25 green=75 on the rules and in the files",
    );
    expect(files.webWeights()).toEqual([[25, 75]]);
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
    expect(modifyCalls()).toBe(1);
  });

  it("stops before the next step when another writer changed the live rules, overwriting nothing", async () => {
    const { outcome, written } = await run({
      log: (line) => {
        if (line.startsWith("step 1/2")) standIn.rule("web").forward.forEach((f, i) => (f.weight = i === 0 ? 100 : 0));
      },
    });
    await expect(outcome).rejects.toThrow(
      "step 2/2: stopping, the live rules changed since this shift set them (web now blue=100 green=0, expected blue=25 green=75): another writer is at work; nothing was overwritten",
    );
    expect(written).toEqual([[25, 75]]);
    expect(standIn.weights("web")).toEqual({ blue: 100, green: 0 });
  });

  it("stops before the next step when the weights in the files changed, overwriting nothing", async () => {
    const files = memoryFiles();
    const editBlue = (line: string) => {
      if (line.startsWith("step 1/2")) files.edit((sources) => withClusterFile(sources, "clusters/blue.yaml", sources.clusters[0].text.replace("web: 25", "web: 30")));
    };
    const { outcome: shift } = await run({ log: editBlue }, files);
    await expect(shift).rejects.toThrow(
      "step 2/2: stopping, the weights in the cluster files changed since this shift wrote them (web files blue=30 green=75, expected blue=25 green=75): nothing was overwritten",
    );
    expect(files.webWeights()).toEqual([[25, 75]]);
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
  });

  it("waits for the datapoints of a cluster with traffic, then stops where it is when none come", async () => {
    standIn.targetGroup("green", "web").minutes = new Map();
    const { outcome, written, lines } = await run({ missingDataChecks: 2, intervalMs: 100, checkEveryMs: 50 });
    await expect(outcome).rejects.toThrow(
      "step 1/2: stopping, no metric datapoints for web/green (CloudWatch sent none, even after waiting): the step cannot be judged, so the shift does not go on; " +
        "rules and files hold web blue=25 green=75: check the metrics and npm run status, then shift again or back",
    );
    expect(lines.filter((line) => line.startsWith("no datapoints"))).toEqual([
      "no datapoints yet for web/green: holding, checking again (1/2)",
      "no datapoints yet for web/green: holding, checking again (2/2)",
    ]);
    expect(written).toEqual([[25, 75]]);
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
  });

  it("stops after the current step when asked, the rules and files holding that step's weights", async () => {
    const stop = new AbortController();
    const lines: string[] = [];
    // The operator stops (SIGINT) during step 1's interval: once step 1 is reported, however slow the machine.
    const log = (line: string) => {
      lines.push(line);
      if (line.startsWith("step 1/2:")) stop.abort();
    };
    const { outcome, written } = await run({ stop: stop.signal, log });
    await expect(outcome).resolves.toBe("stopped");
    expect(written).toEqual([[25, 75]]);
    expect(standIn.weights("web")).toEqual({ blue: 25, green: 75 });
    expect(lines.at(-1)).toBe("stopped after step 1/2: rules and files hold web blue=25 green=75");
  });

  it("changes nothing, and reads nothing, when asked to stop before the first step", async () => {
    const stop = new AbortController();
    stop.abort();
    const { outcome, written, lines } = await run({ stop: stop.signal, intervalMs: 60_000, checkEveryMs: 60_000 });
    await expect(outcome).resolves.toBe("stopped");
    expect(written).toEqual([]);
    expect(standIn.callNames()).toEqual([]);
    expect(lines).toEqual(["stopped before the first step: nothing was changed"]);
  });

  it("takes no step when asked to stop while the step is read and judged", async () => {
    const stop = new AbortController();
    // SIGINT arrives as the first step's health is read: after the check at the top of the step, before its write.
    standIn.faults.set("DescribeTargetHealth", { onCall: () => stop.abort() });
    const { outcome, written, lines } = await run({ stop: stop.signal });
    await expect(outcome).resolves.toBe("stopped");
    expect(written).toEqual([]);
    expect(modifyCalls()).toBe(0);
    expect(lines).toEqual(["stopped before the first step: nothing was changed"]);
  });

  it("ends the interval at once when stopped during it", async () => {
    const stop = new AbortController();
    const started = Date.now();
    const { outcome } = await run({ stop: stop.signal, intervalMs: 60_000, checkEveryMs: 60_000 });
    setTimeout(() => stop.abort(), 100);
    await expect(outcome).resolves.toBe("stopped");
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("reads the metrics no more often than every checkEveryMs of the interval", async () => {
    const { outcome } = await run({ step: 50, intervalMs: 1000, checkEveryMs: 400 });
    await expect(outcome).resolves.toBe("done");
    // At 400 ms, 800 ms and the interval's end; fewer where a slow machine's reads take longer.
    const reads = standIn.calls.filter((c) => c.action === "GetMetricData").length;
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(3);
  });

  it("keeps checking until the interval ends: a breach after the first check rolls back", async () => {
    const stop = new AbortController();
    setTimeout(() => (standIn.targetGroup("green", "web").errorRate = 0.05), 400);
    const { outcome, written } = await run({ stop: stop.signal, intervalMs: 1500, checkEveryMs: 100 });
    await expect(outcome).rejects.toThrow("step 1/2 breached the shift limits: web/green target 5xx 5.0% > 1%");
    expect(written).toEqual([[25, 75], [50, 50]]);
  });

  it("restores the starting weights when the health gate refuses a later step", async () => {
    const { outcome, written } = await run({
      log: (line) => line.startsWith("step 1/2") && standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "unhealthy")),
    });
    await expect(outcome).rejects.toThrow(
      "step 2/2 refused by the health gate: web: cluster green would get weight 100 (now 75), 100% of the traffic (now 75%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1; " +
        "web: no weighted cluster would have 1 healthy target (green: 0 healthy, 2 unhealthy targets); restored the starting weights (web blue=50 green=50) on the rules and in the files",
    );
    expect(written).toEqual([[25, 75], [50, 50]]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });

  it("refuses a first step onto unhealthy targets before changing anything", async () => {
    standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const { outcome, written } = await run({});
    await expect(outcome).rejects.toThrow("refused, nothing was changed:\n  web: cluster green would get weight 75 (now 50), 75% of the traffic (now 50%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1");
    expect(written).toEqual([]);
    expect(modifyCalls()).toBe(0);
  });

  it("goes past the health gate when forced, echoing the reason", async () => {
    standIn.targetGroup("green", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const { outcome, written, lines } = await run({ forceReason: "green's health check is broken" });
    await expect(outcome).resolves.toBe("done");
    expect(written).toEqual([[25, 75], [0, 100]]);
    expect(lines.filter((line) => line.startsWith("FORCED"))).toEqual([
      "FORCED past 1 refusal, reason: green's health check is broken",
      // At step 2 blue leaves too: no weighted cluster has a healthy target.
      "FORCED past 2 refusals, reason: green's health check is broken",
    ]);
  });

  it("judges only clusters that keep weight, and a 5xx share or response time at the limit is no breach", async () => {
    // Blue still answers requests (in flight, or others' traffic), badly, but it leaves at this step.
    Object.assign(standIn.targetGroup("blue", "web"), { servedRequests: 1000, errorRate: 0.5, responseTimeSeconds: 5 });
    // Green: 10 of its 1000 requests fail, 1.0% exactly.
    Object.assign(standIn.targetGroup("green", "web"), { servedRequests: 1000, errorRate: 0.01, responseTimeSeconds: 1 });
    const { outcome, lines } = await run({ step: 50 });
    await expect(outcome).resolves.toBe("done");
    expect(lines).toEqual(["step 1/1: web blue=0 green=100 · healthy blue 2, green 2 · 5xx blue 50.0%, green 1.0% · latency blue 5000 ms, green 1000 ms"]);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
  });

  it("has nothing to do when the cluster carries all the traffic already", async () => {
    const blueOnly = example.clusters.reduce((sources, c) => withClusterFile(sources, c.file, c.text.replace("web: 50", c.file.includes("blue") ? "web: 100" : "web: 0")), example);
    await expect((await run({ to: "blue" }, memoryFiles(blueOnly))).outcome).rejects.toThrow("blue already carries all the traffic of the services asked for; nothing to do");
  });

  /** The example with a second service, api, at blue=90 green=10; its platform.yaml entry ends with `apiSettings`. */
  const withApi = (apiSettings = ""): ConfigSources => ({
    platform: { ...example.platform, text: `${example.platform.text}  - name: api\n    servicePort: 80\n    containerPort: 8081\n    hosts: [api.example.com]\n    priority: 90\n${apiSettings}` },
    clusters: example.clusters.map((c) => ({ ...c, text: c.text.replace("  web: 50\n", `  web: 50\n  api: ${c.file.includes("blue") ? 90 : 10}\n`) })),
  });
  /** Makes `sources` the fleet of the test, live in a new stand-in. */
  const useFleet = async (sources: ConfigSources) => {
    fleet = parseFleetConfig(sources);
    await standIn.stop();
    standIn = new AwsStandIn(worldOf(fleet));
    await standIn.start();
    Object.assign(process.env, standIn.environment());
    return memoryFiles(sources);
  };

  it("names each service it holds, stops for or was stopped at", async () => {
    let files = await useFleet(withApi());
    const stop = new AbortController();
    const stopAtStep1 = (line: string) => line.startsWith("step 1/4:") && stop.abort();
    const stopped = await run({ stop: stop.signal, log: stopAtStep1 }, files);
    await expect(stopped.outcome).resolves.toBe("stopped");
    expect(stopped.lines.at(-1)).toBe("stopped after step 1/4: rules and files hold web blue=25 green=75, api blue=65 green=35");

    files = await useFleet(withApi());
    const bothRulesChanged = (line: string) => {
      if (line.startsWith("step 1/4:")) for (const service of ["web", "api"]) standIn.rule(service).forward.forEach((f, i) => (f.weight = i === 0 ? 100 : 0));
    };
    await expect((await run({ log: bothRulesChanged }, files)).outcome).rejects.toThrow(
      "step 2/4: stopping, the live rules changed since this shift set them (web now blue=100 green=0, expected blue=25 green=75; api now blue=100 green=0, expected blue=65 green=35)",
    );

    files = await useFleet(withApi());
    const bothFilesChanged = (line: string) => {
      if (line.startsWith("step 1/4:")) files.edit((sources) => withClusterFile(sources, "clusters/blue.yaml", sources.clusters[0].text.replace("web: 25", "web: 30").replace("api: 65", "api: 60")));
    };
    await expect((await run({ log: bothFilesChanged }, files)).outcome).rejects.toThrow(
      "step 2/4: stopping, the weights in the cluster files changed since this shift wrote them (web files blue=30 green=75, expected blue=25 green=75; api files blue=60 green=35, expected blue=65 green=35)",
    );
  });

  it("names each refusal of the health gate when it holds instead of restoring", async () => {
    const files = await useFleet(withApi());
    standIn.targetGroup("green", "web").errorRate = 0.05;
    const blueFails = (line: string) => line.startsWith("step 1/4") && ["web", "api"].forEach((service) => standIn.targetGroup("blue", service).targets.forEach((t) => (t.state = "unhealthy")));
    const { outcome } = await run({ intervalMs: 60_000, log: blueFails }, files);
    await expect(outcome).rejects.toThrow(
      "NOT restoring the starting weights, the health gate refuses them (" +
        "web: cluster blue would get weight 50 (now 25), 50% of the traffic (now 25%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1; " +
        "api: cluster blue would get weight 90 (now 65), 90% of the traffic (now 65%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1): " +
        "holding at web blue=25 green=75, api blue=65 green=35 on the rules and in the files",
    );
  });

  it("judges each service by its own shift limits", async () => {
    // Green answers api in 80 ms, within web's limit (1000 ms) and over api's.
    const files = await useFleet(withApi("    shiftLimits:\n      maxResponseTimeMs: 50\n"));
    standIn.targetGroup("blue", "api").responseTimeSeconds = 0.03;
    const { outcome } = await run({}, files);
    await expect(outcome).rejects.toThrow("step 1/4 breached the shift limits: api/green response time 80 ms > 50 ms; restored the starting weights (web blue=50 green=50, api blue=90 green=10)");
  });

  it("steps until every service is on the cluster, and restores all of them on a breach", async () => {
    const twoServices = withApi();
    await useFleet(twoServices);
    const lines: string[] = [];
    const shift = progressiveShift(await elbClient(fleet), await cloudWatchClient(fleet), twoServices, {
      to: "green",
      step: 25,
      intervalMs: 100,
      checkEveryMs: 100,
      ...memoryFiles(twoServices),
      // Green's api fails once web is all on green (after step 2 of 4).
      log: (line) => {
        lines.push(line);
        if (line.startsWith("step 2/4")) standIn.targetGroup("green", "api").errorRate = 0.05;
      },
    });
    await expect(shift).rejects.toThrow(
      "step 3/4 breached the shift limits: api/green target 5xx 5.0% > 1%; restored the starting weights (web blue=50 green=50, api blue=90 green=10) on the rules and in the files",
    );
    const weightsOf = (line: string) => `${line.split(": ")[0]}: ${[...line.matchAll(/\w+ blue=\d+ green=\d+/g)].join(" | ")}`;
    expect(lines.map(weightsOf)).toEqual([
      "step 1/4: web blue=25 green=75 | api blue=65 green=35",
      "step 2/4: web blue=0 green=100 | api blue=40 green=60",
      "step 3/4: web blue=0 green=100 | api blue=15 green=85",
    ]);
    expect([standIn.weights("web"), standIn.weights("api")]).toEqual([{ blue: 50, green: 50 }, { blue: 90, green: 10 }]);
  });

  it("rolls back on a slow cluster", async () => {
    standIn.targetGroup("green", "web").responseTimeSeconds = 2.5;
    const shift = progressiveShift(await elbClient(fleet), await cloudWatchClient(fleet), example, {
      to: "green",
      step: 50,
      intervalMs: 200,
      ...memoryFiles(),
      log: () => undefined,
    });
    await expect(shift).rejects.toThrow("step 1/1 breached the shift limits: web/green response time 2500 ms > 1000 ms");
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });
});
