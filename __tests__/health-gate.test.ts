import { FleetConfig, parseFleetConfig } from "../modules/config/load";
import { enforceGate, healthRefusals } from "../modules/traffic/health-gate";
import { HealthCounts } from "../modules/traffic/live-fleet";
import { UserError } from "../modules/support/user-error";
import { exampleSources } from "./helpers/fleet";

const example = exampleSources();
// Parsed in each test (not when the file loads), so that mutation testing counts the code it runs to that test.
let fleet: FleetConfig;
beforeEach(() => {
  fleet = parseFleetConfig(example);
});
const counts = (healthy: number, unhealthy = 0): HealthCounts => ({ healthy, unhealthy, initial: 0, draining: 0, unused: 0, unavailable: 0 });
const health = (blue: HealthCounts, green: HealthCounts) => new Map([["web", new Map([["blue", blue], ["green", green]])]]);

describe("the health gate", () => {
  it("lets weight move onto healthy clusters, and judges only services whose weights change", () => {
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 0, green: 100 } }], health(counts(0, 2), counts(1)))).toEqual([]);
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 50, green: 50 } }], health(counts(0), counts(0)))).toEqual([]);
  });

  it("lets weight leave an unhealthy cluster while another healthy one carries the service", () => {
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 25, green: 75 } }], health(counts(0, 2), counts(2)))).toEqual([]);
  });

  it("judges shares: a cluster without healthy targets may not gain share when its peers' weights fall", () => {
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 50, green: 1 } }], health(counts(0, 2), counts(2)))).toEqual([
      "web: cluster blue would get weight 50 (now 50), 98% of the traffic (now 50%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1",
    ]);
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 100, green: 200 } }], health(counts(0, 2), counts(2)))).toEqual([]);
  });

  it("counts against the service's minHealthyTargets", () => {
    const strict = parseFleetConfig({ ...example, platform: { ...example.platform, text: example.platform.text.replace("priority: 100", "priority: 100\n    minHealthyTargets: 3\n    failover: { mode: alarm-only }") } });
    expect(healthRefusals(strict, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 0, green: 100 } }], health(counts(3), counts(2, 1)))).toEqual([
      "web: cluster green would get weight 100 (now 50), 100% of the traffic (now 50%), with 2 healthy, 1 unhealthy targets; minHealthyTargets is 3",
      "web: no weighted cluster would have 3 healthy targets (green: 2 healthy, 1 unhealthy targets)",
    ]);
  });

  it("treats a target group not live yet as one without healthy targets", () => {
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 100 }, after: { blue: 50, green: 50 } }], new Map([["web", new Map([["blue", counts(2)]])]]))).toEqual([
      "web: cluster green would get weight 50 (now 0), 50% of the traffic (now 0%), with no live target group; minHealthyTargets is 1",
    ]);
  });

  it("names every target state present, healthy always, and judges a share kept or lowered only by the service's capacity", () => {
    const mixed: HealthCounts = { healthy: 0, unhealthy: 1, initial: 2, draining: 3, unused: 4, unavailable: 5 };
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 50, green: 60 } }], health(mixed, counts(1)))).toEqual([]);
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 60, green: 40 } }], health(mixed, counts(1)))).toEqual([
      "web: cluster blue would get weight 60 (now 50), 60% of the traffic (now 50%), with 0 healthy, 1 unhealthy, 2 initial, 3 draining, 4 unused, 5 unavailable targets; minHealthyTargets is 1",
    ]);
    // A lowered weight can still be a larger share: blue would carry all of it.
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 40, green: 0 } }], health(mixed, counts(1)))).toEqual([
      "web: cluster blue would get weight 40 (now 50), 100% of the traffic (now 50%), with 0 healthy, 1 unhealthy, 2 initial, 3 draining, 4 unused, 5 unavailable targets; minHealthyTargets is 1",
      "web: no weighted cluster would have 1 healthy target (blue: 0 healthy, 1 unhealthy, 2 initial, 3 draining, 4 unused, 5 unavailable targets)",
    ]);
    expect(healthRefusals(fleet, [{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 40, green: 40 } }], health(mixed, counts(1)))).toEqual([]);
  });

  it("lists clusters by name, whatever the order of the weights", () => {
    // Raising every weight alike keeps every share: no cluster gains traffic, only the capacity is judged.
    expect(healthRefusals(fleet, [{ service: "web", before: { green: 50, blue: 50 }, after: { green: 60, blue: 60 } }], health(counts(0, 2), counts(0, 2)))).toEqual([
      "web: no weighted cluster would have 1 healthy target (blue: 0 healthy, 2 unhealthy targets; green: 0 healthy, 2 unhealthy targets)",
    ]);
  });

  it("refuses unless forced with a reason, which it echoes", () => {
    expect(() => enforceGate(["web: x"], undefined)).toThrow(expect.objectContaining({ name: "GateRefusal" }));
    expect(() => enforceGate(["web: x"], undefined)).toThrow("refused, nothing was changed:\n  web: x\noverride only knowingly: --force \"<reason>\"");
    expect(() => enforceGate(["web: x", "api: y"], undefined)).toThrow("refused, nothing was changed:\n  web: x\n  api: y\noverride only knowingly");
    expect(() => enforceGate(["web: x"], " ")).toThrow(new UserError('--force needs a reason: --force "<why this is safe>"'));
    expect(enforceGate(["web: x", "api: y"], "drill")).toEqual(["FORCED past 2 refusals, reason: drill", "  forced: web: x", "  forced: api: y"]);
    expect(enforceGate(["web: x"], "green's health check is broken")).toEqual(["FORCED past 1 refusal, reason: green's health check is broken", "  forced: web: x"]);
    expect(enforceGate([], undefined)).toEqual([]);
    expect(enforceGate(["web: x"], "ok\u001b[2J\u001b]0;owned\u0007\nFORCED")[0]).toBe("FORCED past 1 refusal, reason: ok\\x1b[2J\\x1b]0;owned\\x07\\nFORCED");
  });

  it("defaults minHealthyTargets to 1 and the shift limits to 1% target 5xx and 1000 ms", () => {
    expect(fleet.platform.services[0]).toMatchObject({ minHealthyTargets: 1, shiftLimits: { max5xxPercent: 1, maxResponseTimeMs: 1000 } });
    const zero = { ...example, platform: { ...example.platform, text: example.platform.text.replace("priority: 100", "priority: 100\n    minHealthyTargets: 0") } };
    expect(() => parseFleetConfig(zero)).toThrow("platform.yaml: services[0].minHealthyTargets:");
  });
});
