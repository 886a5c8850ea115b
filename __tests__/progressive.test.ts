import { ConfigSources, FleetConfig, parseFleetConfig } from "../modules/config/load";
import { cloudWatchClient, elbClient } from "../modules/traffic/aws-clients";
import { progressiveShift } from "../modules/traffic/progressive";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { exampleSources } from "./helpers/fleet";

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

describe("progressiveShift", () => {
  it("checks the limits during the interval, not only at its end: a breach rolls back early", async () => {
    standIn.targetGroup("green", "web").errorRate = 0.05;
    const written: ConfigSources[] = [];
    const lines: string[] = [];
    const started = Date.now();
    const shift = progressiveShift(await elbClient(fleet), await cloudWatchClient(fleet), example, {
      to: "green",
      step: 25,
      intervalMs: 60_000,
      checkEveryMs: 100,
      writeSources: (sources) => written.push(sources),
      log: (line) => lines.push(line),
    });
    await expect(shift).rejects.toThrow("step 1/2 breached the shift limits: web/green target 5xx 5.0% > 1%");
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(lines).toEqual(["step 1/2: web blue=25 green=75 · healthy blue 2, green 2 · 5xx blue 0.1%, green 5.0% · latency blue 80 ms, green 80 ms"]);
    // Files: the step's weights, then the starting ones back.
    expect(written.map((sources) => parseFleetConfig(sources).clusters.map((c) => c.config.weights.web))).toEqual([
      [25, 75],
      [50, 50],
    ]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });

  it("after a breach at a later step, restores the starting weights, not the previous step's", async () => {
    const written: ConfigSources[] = [];
    const shift = progressiveShift(await elbClient(fleet), await cloudWatchClient(fleet), example, {
      to: "green",
      step: 25,
      intervalMs: 200,
      checkEveryMs: 100,
      writeSources: (sources) => written.push(sources),
      // Green starts failing once step 1 has passed.
      log: (line) => {
        if (line.startsWith("step 1/2")) standIn.targetGroup("green", "web").errorRate = 0.05;
      },
    });
    await expect(shift).rejects.toThrow(
      "step 2/2 breached the shift limits: web/green target 5xx 5.0% > 1%; restored the starting weights (web blue=50 green=50) on the rules and in the files",
    );
    expect(written.map((sources) => parseFleetConfig(sources).clusters.map((c) => c.config.weights.web))).toEqual([
      [25, 75],
      [0, 100],
      [50, 50],
    ]);
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });

  it("rolls back on a slow cluster", async () => {
    standIn.targetGroup("green", "web").responseTimeSeconds = 2.5;
    const shift = progressiveShift(await elbClient(fleet), await cloudWatchClient(fleet), example, {
      to: "green",
      step: 50,
      intervalMs: 200,
      writeSources: () => undefined,
      log: () => undefined,
    });
    await expect(shift).rejects.toThrow("step 1/1 breached the shift limits: web/green response time 2500 ms > 1000 ms");
    expect(standIn.weights("web")).toEqual({ blue: 50, green: 50 });
  });
});
