import { ModifyRuleCommandInput } from "@aws-sdk/client-elastic-load-balancing-v2";
import { FleetConfig, parseFleetConfig } from "../modules/config/load";
import { UserError } from "../modules/support/user-error";
import { elbClient } from "../modules/traffic/aws-clients";
import { applyShiftLive } from "../modules/traffic/live-rules";
import { planShift, ServiceShift } from "../modules/traffic/shift";
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
      "the live rule of web (blue=30 green=70) differs from the configuration (blue=50 green=50)",
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
    const sources = exampleSources();
    const twoServices = parseFleetConfig({
      platform: {
        ...sources.platform,
        text: sources.platform.text.replace("services:\n", "services:\n  - name: api\n    servicePort: 80\n    containerPort: 8080\n    paths: [/api/*]\n    priority: 10\n"),
      },
      clusters: sources.clusters.map((c) => ({ ...c, text: c.text.replace("  web: 50", "  web: 50\n  api: 50") })),
    });
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
