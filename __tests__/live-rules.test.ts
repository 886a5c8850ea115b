import { ModifyRuleCommandInput } from "@aws-sdk/client-elastic-load-balancing-v2";
import { FleetConfig, parseFleetConfig } from "../modules/config/load";
import { UserError } from "../modules/support/user-error";
import { elbClient } from "../modules/traffic/aws-clients";
import { applyShiftLive, writeLiveWeights } from "../modules/traffic/live-rules";
import { readLiveFleet } from "../modules/traffic/live-fleet";
import { planShift, ServiceShift, ShiftError } from "../modules/traffic/shift";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { exampleSources } from "./helpers/fleet";

// Parsed in each test (not when the file loads), so that mutation testing counts the code it runs to that test.
let fleet: FleetConfig;
let drainBlue: ServiceShift[];
beforeEach(() => {
  fleet = parseFleetConfig(exampleSources());
  drainBlue = planShift(fleet, { weights: { blue: 0, green: 100 } });
});
const saved = { ...process.env };
let standIn: AwsStandIn;

/** The real SDK client, reaching the stand-in through AWS_ENDPOINT_URL. */
async function startStandIn(world = worldOf(fleet)) {
  standIn = new AwsStandIn(world);
  await standIn.start();
  Object.assign(process.env, standIn.environment());
  return elbClient(fleet);
}

afterEach(async () => {
  await standIn.stop();
  process.env = { ...saved };
});

/** The example fleet with a second service, api, before web on blue and green. */
function withApi(): FleetConfig {
  const sources = exampleSources();
  return parseFleetConfig({
    platform: {
      ...sources.platform,
      text: sources.platform.text.replace("services:\n", "services:\n  - name: api\n    servicePort: 80\n    containerPort: 8080\n    paths: [/api/*]\n    priority: 10\n"),
    },
    clusters: sources.clusters.map((c) => ({ ...c, text: c.text.replace("  web: 50", "  web: 50\n  api: 50") })),
  });
}

describe("shift --now against the ELBv2 API", () => {
  it("finds the rule by its tags and applies the new weights with ModifyRule", async () => {
    const client = await startStandIn();
    const lines = await applyShiftLive(client, fleet, drainBlue);
    const modify = standIn.calls.filter((c) => c.action === "ModifyRule");
    expect(modify).toHaveLength(1);
    const input = modify[0].input as unknown as ModifyRuleCommandInput;
    expect(input.RuleArn).toBe(standIn.rule("web").arn);
    expect(input.Actions).toEqual([
      {
        Type: "forward",
        Order: "1",
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: standIn.targetGroup("blue", "web").arn, Weight: "0" },
            { TargetGroupArn: standIn.targetGroup("green", "web").arn, Weight: "100" },
          ],
          TargetGroupStickinessConfig: { Enabled: "false" },
        },
      },
    ]);
    expect(standIn.weights("web")).toEqual({ blue: 0, green: 100 });
    expect(lines).toEqual([`web: rule ${standIn.rule("web").arn} now blue=0 green=100 (was blue=50 green=50)`]);
    // One-step shifts need only ELBv2, and only these calls.
    expect(new Set(standIn.callNames())).toEqual(
      new Set(["elbv2:DescribeLoadBalancers", "elbv2:DescribeListeners", "elbv2:DescribeRules", "elbv2:DescribeTags", "elbv2:DescribeTargetHealth", "elbv2:ModifyRule"]),
    );
  });

  it("refuses, changing nothing, when the live rule differs from the configuration", async () => {
    const client = await startStandIn();
    standIn.rule("web").forward[0].weight = 30;
    standIn.rule("web").forward[1].weight = 70;
    await expect(applyShiftLive(client, fleet, drainBlue)).rejects.toThrow(
      "the live rule of web (blue=30 green=70) differs from the configuration (blue=50 green=50): " +
        "something changed it outside this repository (npm run status shows it); reconcile before shifting, nothing was changed",
    );
    expect(standIn.callNames()).not.toContain("elbv2:ModifyRule");
  });

  it("refuses when the ALB or the tagged rule cannot be found", async () => {
    const other = parseFleetConfig({ ...exampleSources(), platform: { ...exampleSources().platform, text: exampleSources().platform.text.replace("name: demo", "name: other") } });
    let client = await startStandIn();
    await expect(applyShiftLive(client, other, drainBlue)).rejects.toThrow("no load balancer named other-alb in eu-west-1");
    await standIn.stop();

    const world = worldOf(fleet);
    world.rules[0].tags = {};
    client = await startStandIn(world);
    const attempt = applyShiftLive(client, fleet, drainBlue);
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow("expected one listener rule tagged fleet=demo service=web on demo-alb, found 0");
    expect(standIn.callNames()).not.toContain("elbv2:ModifyRule");
  });

  it("puts back the rules it changed when a later ModifyRule fails", async () => {
    const twoServices = withApi();
    const world = worldOf(twoServices);
    const client = await startStandIn(world);
    standIn.refusedRules.add(standIn.rule("web").arn);
    const shifts = planShift(twoServices, { weights: { blue: 0, green: 100 } });
    expect(shifts.map((s) => s.service)).toEqual(["api", "web"]);
    await expect(applyShiftLive(client, twoServices, shifts)).rejects.toThrow(
      `changing the live rules failed: AWS call failed: AccessDenied: not authorized to perform: elasticloadbalancing:ModifyRule (ModifyRule to ${standIn.url}/); put back api`,
    );
    const apiWeights = standIn.calls
      .filter((c) => c.action === "ModifyRule" && c.input.RuleArn === standIn.rule("api").arn)
      .map((c) => (c.input as any).Actions[0].ForwardConfig.TargetGroups.map((g: { Weight: string }) => g.Weight));
    expect(apiWeights).toEqual([
      ["0", "100"],
      ["50", "50"],
    ]);
    expect(standIn.weights("api")).toEqual({ blue: 50, green: 50 });
  });
});

describe("each write to a live rule", () => {
  const modifyCalls = () => standIn.calls.filter((c) => c.action === "ModifyRule").map((c) => c.input.RuleArn);

  it("is refused when another writer changed the rule after this command read it", async () => {
    const client = await startStandIn();
    // The other writer acts while this command reads target health, between its read of the rule and its write.
    standIn.faults.set("DescribeTargetHealth", {
      times: 1,
      onCall: () => {
        standIn.rule("web").forward[0].weight = 100;
        standIn.rule("web").forward[1].weight = 0;
      },
    });
    const attempt = applyShiftLive(client, fleet, drainBlue);
    await expect(attempt).rejects.toThrow(
      new ShiftError(
        "the live rule of web changed since this command read it (now blue=100 green=0, expected blue=50 green=50): another writer changed it; this write was refused",
      ),
    );
    await expect(attempt).rejects.toMatchObject({ name: "LiveRuleChangedError" });
    expect(modifyCalls()).toEqual([]);
    expect(standIn.weights("web")).toEqual({ blue: 100, green: 0 });
  });

  it("is skipped for a service whose weights do not change", async () => {
    const twoServices = withApi();
    const client = await startStandIn(worldOf(twoServices));
    const live = await readLiveFleet(client, twoServices, ["api", "web"]);
    const same = { blue: 50, green: 50 };
    await writeLiveWeights(client, live, [
      { service: "api", before: same, after: same },
      { service: "web", before: same, after: { blue: 0, green: 100 } },
    ]);
    expect(modifyCalls()).toEqual([standIn.rule("web").arn]);
  });

  it("that fails first changes nothing and says so; a refusal before it is passed on as it is", async () => {
    let client = await startStandIn();
    standIn.refusedRules.add(standIn.rule("web").arn);
    await expect(applyShiftLive(client, fleet, drainBlue)).rejects.toThrow(
      new ShiftError(
        `changing the live rules failed: AWS call failed: AccessDenied: not authorized to perform: elasticloadbalancing:ModifyRule (ModifyRule to ${standIn.url}/); no rule was changed`,
      ),
    );
    await standIn.stop();

    client = await startStandIn();
    const lockLost = new ShiftError("the traffic lock was lost");
    await expect(applyShiftLive(client, fleet, drainBlue, { beforeWrite: () => { throw lockLost; } })).rejects.toBe(lockLost);
    expect(modifyCalls()).toEqual([]);
  });

  it("that fails after two others puts both back, or names both when neither can be", async () => {
    const twoServices = withApi();
    const client = await startStandIn(worldOf(twoServices));
    const live = await readLiveFleet(client, twoServices, ["api", "web"]);
    const half = { blue: 50, green: 50 };
    const green = { blue: 0, green: 100 };
    // A third write, after api and web were written, fails before it is made.
    const changes = [
      { service: "api", before: half, after: green },
      { service: "web", before: half, after: green },
      { service: "web", before: green, after: { blue: 10, green: 90 } },
    ];
    let writes = 0;
    const lockLostAtThird = () => {
      if (++writes === 3) throw new ShiftError("the traffic lock was lost");
    };
    await expect(writeLiveWeights(client, live, changes, lockLostAtThird)).rejects.toThrow(
      new ShiftError("changing the live rules failed: the traffic lock was lost; put back api, web"),
    );
    expect([standIn.weights("api"), standIn.weights("web")]).toEqual([half, half]);

    // Another writer changes both rules as the third write fails: neither is put back over it.
    writes = 0;
    const otherWriterAtThird = () => {
      if (++writes < 3) return;
      for (const service of ["api", "web"]) standIn.rule(service).forward.forEach((f, i) => (f.weight = i === 0 ? 100 : 0));
      throw new ShiftError("the traffic lock was lost");
    };
    await expect(writeLiveWeights(client, live, changes, otherWriterAtThird)).rejects.toThrow(
      new ShiftError("changing the live rules failed: the traffic lock was lost; could not put back api, web: check them now"),
    );
    expect([standIn.weights("api"), standIn.weights("web")]).toEqual([{ blue: 100, green: 0 }, { blue: 100, green: 0 }]);
  });

  it("that fails after others says which rules could not be put back", async () => {
    const twoServices = withApi();
    const client = await startStandIn(worldOf(twoServices));
    const api = standIn.rule("api").arn;
    standIn.refusedRules.add(standIn.rule("web").arn);
    // From the failed write of web on, api refuses writes too: putting it back fails.
    let writes = 0;
    standIn.faults.set("ModifyRule", { onCall: () => ++writes === 2 && standIn.refusedRules.add(api) });
    await expect(applyShiftLive(client, twoServices, planShift(twoServices, { weights: { blue: 0, green: 100 } }))).rejects.toThrow(
      new ShiftError(
        `changing the live rules failed: AWS call failed: AccessDenied: not authorized to perform: elasticloadbalancing:ModifyRule (ModifyRule to ${standIn.url}/); could not put back api: check them now`,
      ),
    );
    expect(standIn.weights("api")).toEqual({ blue: 0, green: 100 });
  });
});
