import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigSources, FleetConfig, parseFleetConfig } from "../modules/config/load";
import { writeConfigProject } from "../scripts/lib/config-project";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { applyShiftToSources, describeShifts, edgeStacksOf, formatShifts, planShift, ShiftRequest } from "../modules/traffic/shift";
import { exampleSources, twoAlbSources, withClusterFile, withMoreServices } from "./helpers/fleet";
import { entryPoint } from "./helpers/entry-point";
import { runScriptAsync } from "./helpers/run-async";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";

const example = exampleSources();
// Parsed in each test (not when the file loads), so that mutation testing counts the code it runs to that test.
let fleet: FleetConfig;
beforeEach(() => {
  fleet = parseFleetConfig(example);
});
const weightsAfter = (request: ShiftRequest, sources: ConfigSources = example) =>
  planShift(parseFleetConfig(sources), request).map((s) => [s.service, s.after]);

function withState(sources: ConfigSources, cluster: string, state: string, weight = 0): ConfigSources {
  const source = sources.clusters.find((c) => c.file === `clusters/${cluster}.yaml`)!;
  const text = source.text.replace(`name: ${cluster}\n`, `name: ${cluster}\nstate: ${state}\n`).replace(/web: \d+/, `web: ${weight}`);
  return withClusterFile(sources, source.file, text);
}

describe("planShift", () => {
  it("sets explicit weights", () => {
    expect(weightsAfter({ weights: { blue: 0, green: 100 } })).toEqual([["web", { blue: 0, green: 100 }]]);
  });

  it("moves all traffic to one cluster, keeping the total", () => {
    expect(weightsAfter({ to: "green" })).toEqual([["web", { blue: 0, green: 100 }]]);
  });

  it("moves traffic gradually with --step", () => {
    expect(weightsAfter({ to: "green", step: 25 })).toEqual([["web", { blue: 25, green: 75 }]]);
    expect(weightsAfter({ to: "green", step: 80 })).toEqual([["web", { blue: 0, green: 100 }]]);
  });

  it("splits the rest among the other clusters in proportion, on a total of 100", () => {
    expect(weightsAfter({ to: "c00", step: 10 }, generatedFleetSources(3))).toEqual([["svc0", { c00: 43, c01: 29, c02: 28 }]]);
    // 80 points left for 20:70 are 17.8 and 62.2: the larger remainder gets the point the floors leave.
    const uneven = generatedFleetSources(3);
    const weighted = uneven.clusters.reduce(
      (sources, c, i) => withClusterFile(sources, c.file, c.text.replace("svc0: 10", `svc0: ${[10, 20, 70][i]}`)),
      uneven,
    );
    expect(weightsAfter({ to: "c00", step: 10 }, weighted)).toEqual([["svc0", { c00: 20, c01: 18, c02: 62 }]]);
    expect(weightsAfter({ to: "c02", step: 100 }, weighted)).toEqual([["svc0", { c00: 0, c01: 0, c02: 100 }]]);
  });

  it("moves all traffic with --to at the total weight, at most 999", () => {
    const heavy = example.clusters.reduce((sources, c) => withClusterFile(sources, c.file, c.text.replace("web: 50", "web: 700")), example);
    expect(weightsAfter({ to: "green" }, heavy)).toEqual([["web", { blue: 0, green: 999 }]]);
    expect(weightsAfter({ to: "green", step: 30 }, heavy)).toEqual([["web", { blue: 20, green: 80 }]]);
  });

  it("leaves unnamed clusters as they are", () => {
    expect(weightsAfter({ weights: { blue: 10 } })).toEqual([["web", { blue: 10, green: 50 }]]);
  });

  it.each<[string, ShiftRequest, string | RegExp]>([
    ["unknown cluster", { weights: { red: 10 } }, "unknown cluster red; clusters: blue, green"],
    ["weight above 999", { weights: { blue: 1000 } }, "weight blue=1000 is outside 0-999"],
    ["negative weight", { weights: { blue: -1 } }, "weight blue=-1 is outside 0-999"],
    ["all weights 0", { weights: { blue: 0, green: 0 } }, "shift would leave web with weight 0 everywhere"],
    ["unknown service", { weights: { blue: 1 }, services: ["api"] }, "unknown service api; services: web"],
    ["--step without --to", { weights: { blue: 1 }, step: 10 }, "--step needs --to <cluster>"],
    ["both weights and --to", { weights: { blue: 1 }, to: "green" }, "give either weights"],
    ["nothing named", {}, "name the clusters to shift"],
  ])("refuses %s", (_title, request, message) => {
    expect(() => planShift(fleet, request)).toThrow(message);
  });

  it.each(["standby", "draining", "retiring"])("refuses to shift traffic onto a %s cluster", (state) => {
    const sources = withState(example, "blue", state, 0);
    expect(() => planShift(parseFleetConfig(sources), { weights: { blue: 10 } })).toThrow(
      `cannot shift web traffic onto a cluster that is not ready (blue is ${state}): set state: active first`,
    );
    expect(() => planShift(parseFleetConfig(sources), { to: "blue" })).toThrow("not ready");
  });

  it("lets traffic leave a draining cluster", () => {
    const sources = withState(example, "blue", "draining", 50);
    expect(weightsAfter({ to: "green" }, sources)).toEqual([["web", { blue: 0, green: 100 }]]);
  });
});

describe("planShift at its edges", () => {
  /** The example with api beside web, and purple and orange, which serve api only. */
  const withPurpleAndOrange = (): ConfigSources => {
    const sources = withMoreServices(example, ["api"]);
    const green = sources.clusters.find((c) => c.file === "clusters/green.yaml")!.text;
    const purple = green.replace("name: green", "name: purple").replace("  web: 50\n", "");
    return withClusterFile(withClusterFile(sources, "clusters/purple.yaml", purple), "clusters/orange.yaml", purple.replace("name: purple", "name: orange"));
  };

  it.each<[string, ShiftRequest, string]>([
    ["--step 0", { to: "green", step: 0 }, "--step 0 must be a percentage between 1 and 100"],
    ["--step 101", { to: "green", step: 101 }, "--step 101 must be a percentage between 1 and 100"],
    ["a weight that is no whole number", { weights: { blue: 1.5 } }, "weight blue=1.5 is outside 0-999"],
    ["two unknown services", { weights: { blue: 1 }, services: ["api", "admin"] }, "unknown services api, admin; services: web"],
  ])("refuses %s", (_title, request, message) => {
    expect(() => planShift(fleet, request)).toThrow(message);
  });

  it("takes the edges of the ranges: --step 1 and 100, a weight of 999", () => {
    expect(weightsAfter({ to: "green", step: 1 })).toEqual([["web", { blue: 49, green: 51 }]]);
    expect(weightsAfter({ to: "green", step: 100 })).toEqual([["web", { blue: 0, green: 100 }]]);
    expect(weightsAfter({ weights: { blue: 999 } })).toEqual([["web", { blue: 999, green: 50 }]]);
    // The others hold no weight to split: they keep 0.
    const allOnGreen = example.clusters.reduce((sources, c) => withClusterFile(sources, c.file, c.text.replace("web: 50", c.file.includes("blue") ? "web: 0" : "web: 100")), example);
    expect(weightsAfter({ to: "green", step: 25 }, allOnGreen)).toEqual([["web", { blue: 0, green: 100 }]]);
  });

  it("refuses clusters that serve none of the services asked for, naming each and how to route it", () => {
    const fleetOf = parseFleetConfig(withPurpleAndOrange());
    expect(() => planShift(fleetOf, { to: "purple", services: ["web"] })).toThrow(/^purple serves none of the services asked for$/);
    expect(() => planShift(fleetOf, { weights: { purple: 1, orange: 1 }, services: ["web"] })).toThrow(/^purple, orange serve none of the services asked for$/);
    expect(() => planShift(fleetOf, { weights: { blue: 10, purple: 1 }, services: ["web"] })).toThrow(
      /^purple serves none of web, so its weight cannot be set: to route web to purple, add "web: 0" under weights: in clusters\/purple\.yaml and deploy that first, then shift$/,
    );
    expect(() => planShift(fleetOf, { weights: { blue: 10, purple: 1, orange: 1 }, services: ["web"] })).toThrow(/^purple, orange serve none of web, so their weight cannot be set/);
  });

  it("names every cluster not ready, and lets a cluster not ready keep or lose weight", () => {
    const threeClusters = withClusterFile(example, "clusters/purple.yaml", example.clusters[1].text.replace("name: green", "name: purple"));
    const blueStandby = withState(threeClusters, "blue", "standby", 0);
    const bothStandby = withState(blueStandby, "green", "standby", 0);
    expect(() => planShift(parseFleetConfig(bothStandby), { weights: { blue: 10, green: 10 } })).toThrow("not ready (blue is standby, green is standby)");
    // Blue stays on standby at 0 while traffic moves between the others.
    expect(weightsAfter({ weights: { green: 20, purple: 80 } }, blueStandby)).toEqual([["web", { blue: 0, green: 20, purple: 80 }]]);
    // A draining cluster may lose part of its weight, not only all of it.
    expect(weightsAfter({ weights: { blue: 20 } }, withState(example, "blue", "draining", 50))).toEqual([["web", { blue: 20, green: 50 }]]);
  });

  it("gives the point the floors leave to the larger remainder, wherever that cluster is", () => {
    const uneven = generatedFleetSources(3);
    const weighted = uneven.clusters.reduce((sources, c, i) => withClusterFile(sources, c.file, c.text.replace("svc0: 10", `svc0: ${[10, 70, 20][i]}`)), uneven);
    // 80 points for 70:20 are 62.2 and 17.8: c02's remainder is the larger.
    expect(weightsAfter({ to: "c00", step: 10 }, weighted)).toEqual([["svc0", { c00: 20, c01: 62, c02: 18 }]]);
  });

  it("describes each service's weights, and the stacks that deploy them in name order", () => {
    const twoServices = parseFleetConfig(withMoreServices(example, ["api"]));
    const shifts = planShift(twoServices, { weights: { blue: 0, green: 100 } });
    expect(describeShifts(shifts, "before")).toBe("web blue=50 green=50; api blue=50 green=50");
    expect(describeShifts(shifts, "after")).toBe("web blue=0 green=100; api blue=0 green=100");
    expect(formatShifts(planShift(twoServices, { weights: { blue: 0 } }))).toBe(
      "web: blue 50 → 0 (50% → 0%) *, green 50 → 50 (50% → 100%)\napi: blue 50 → 0 (50% → 0%) *, green 50 → 50 (50% → 100%)",
    );
    const albs = parseFleetConfig(twoAlbSources()).platform.services;
    expect(edgeStacksOf(albs, ["api", "web"])).toEqual(["edge", "edge-internal"]);
  });
});

describe("applyShiftToSources", () => {
  it("refuses a weight it cannot write in place: an alias to another value", () => {
    const sources = withMoreServices(example, ["api"]);
    const blue = sources.clusters.find((c) => c.file === "clusters/blue.yaml")!;
    const aliased = withClusterFile(sources, blue.file, blue.text.replace("  web: 50\n  api: 50\n", "  web: &fifty 50\n  api: *fifty\n"));
    const aliasedFleet = parseFleetConfig(aliased);
    expect(() => applyShiftToSources(aliased, aliasedFleet, planShift(aliasedFleet, { weights: { blue: 0 } }))).toThrow("clusters/blue.yaml: weights.api is not a plain number");
  });

  it("changes only the weight values, keeping comments and layout", () => {
    const shifts = planShift(fleet, { weights: { blue: 0, green: 100 } });
    const shifted = applyShiftToSources(example, fleet, shifts);
    const diff = (file: string) => {
      const before = example.clusters.find((c) => c.file === file)!.text.split("\n");
      const after = shifted.clusters.find((c) => c.file === file)!.text.split("\n");
      expect(after).toHaveLength(before.length);
      return after.map((line, i) => [before[i], line]).filter(([a, b]) => a !== b);
    };
    expect(diff("clusters/blue.yaml")).toEqual([["  web: 50", "  web: 0"]]);
    expect(diff("clusters/green.yaml")).toEqual([["  web: 50", "  web: 100"]]);
    expect(shifted.clusters[0].text).toContain("# Share of each service's traffic this cluster receives");
    expect(parseFleetConfig(shifted).clusters.map((c) => c.config.weights.web)).toEqual([0, 100]);
  });

  it("prints before → after per service", () => {
    expect(formatShifts(planShift(fleet, { to: "green", step: 25 }))).toBe(
      "web: blue 50 → 25 (50% → 25%) *, green 50 → 75 (50% → 75%) *",
    );
  });
});

describe("npm run shift", () => {
  const script = entryPoint("scripts/shift.ts");
  const projectCopy = () => writeConfigProject(example);
  const run = (dir: string, args: string[]) =>
    spawnSync(process.execPath, [...script, "--config-dir", dir, ...args], { encoding: "utf8" });

  it("edits the cluster files in place and prints the change", () => {
    const dir = projectCopy();
    const result = run(dir, ["blue=0", "green=100"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("web: blue 50 → 0 (50% → 0%) *, green 50 → 100 (50% → 100%) *");
    expect(result.stdout).toContain("edited clusters/blue.yaml, clusters/green.yaml");
    expect(fs.readFileSync(path.join(dir, "clusters/blue.yaml"), "utf8")).toContain("weights:\n  web: 0\n");
  });

  it("lists a progressive shift's steps on --dry-run, touching nothing live", async () => {
    const dir = projectCopy();
    // AWS is a stand-in that records every call: a dry run makes none.
    const standIn = new AwsStandIn(worldOf(fleet));
    await standIn.start();
    const args = ["--config-dir", dir, "--to", "green", "--step", "30", "--now", "--interval", "2m", "--dry-run"];
    const result = await runScriptAsync("scripts/shift.ts", args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment() } }).finally(() => standIn.stop());
    expect(standIn.calls).toEqual([]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual([
      "step 1: web: blue 50 → 20 (50% → 20%) *, green 50 → 80 (50% → 80%) *",
      "step 2: web: blue 20 → 0 (20% → 0%) *, green 80 → 100 (80% → 100%) *",
    ]);
    for (const source of example.clusters) expect(fs.readFileSync(path.join(dir, source.file), "utf8")).toBe(source.text);
  });

  it.each([
    [["--to", "green", "--step", "25", "--now", "--interval", "2h"], "--interval 2h must be a duration such as 2m or 90s, between 1s and 60m"],
    [["--to", "green", "--step", "25", "--interval", "2m"], "--interval needs --now, --to and --step"],
    [["--to", "green", "--force", "because"], "--force applies to --now only"],
  ])("refuses %j without touching the files", (args, message) => {
    const dir = projectCopy();
    const result = run(dir, args);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain("    at ");
    for (const source of example.clusters) expect(fs.readFileSync(path.join(dir, source.file), "utf8")).toBe(source.text);
  });

  it("writes nothing on --dry-run or on a refusal, and exits 1 on a refusal", () => {
    const dir = projectCopy();
    expect(run(dir, ["--dry-run", "--to", "green"]).status).toBe(0);
    const refused = run(dir, ["blue=0", "green=0"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("shift would leave web with weight 0 everywhere");
    for (const source of example.clusters) {
      expect(fs.readFileSync(path.join(dir, source.file), "utf8")).toBe(source.text);
    }
  });
});
