import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  Rule,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { mockClient } from "aws-sdk-client-mock";
import { parseFleetConfig } from "../modules/config/load";
import { applyShiftLive } from "../modules/traffic/live-rules";
import { planShift, ShiftError } from "../modules/traffic/shift";
import { exampleSources } from "./helpers/fleet";

const fleet = parseFleetConfig(exampleSources());
const arn = (kind: string, id: string) => `arn:aws:elasticloadbalancing:eu-west-1:111122223333:${kind}/${id}`;
const blueGroup = arn("targetgroup", "demo-blue-web/1");
const greenGroup = arn("targetgroup", "demo-green-web/2");
const webRule = arn("listener-rule", "app/demo-alb/x/y/web");
const otherRule = arn("listener-rule", "app/demo-alb/x/y/other");

function liveRule(blueWeight: number, greenWeight: number): Rule {
  return {
    RuleArn: webRule,
    Priority: "100",
    IsDefault: false,
    Actions: [
      {
        Type: "forward",
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: blueGroup, Weight: blueWeight },
            { TargetGroupArn: greenGroup, Weight: greenWeight },
          ],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ],
  };
}

const tags: Record<string, Record<string, string>> = {
  [webRule]: { fleet: "demo", service: "web" },
  [otherRule]: { fleet: "other", service: "web" },
  [blueGroup]: { fleet: "demo", cluster: "blue", service: "web" },
  [greenGroup]: { fleet: "demo", cluster: "green", service: "web" },
};

function mockAlb(blueWeight: number, greenWeight: number) {
  const elb = mockClient(ElasticLoadBalancingV2Client);
  elb.on(DescribeLoadBalancersCommand, { Names: ["demo-alb"] }).resolves({ LoadBalancers: [{ LoadBalancerArn: arn("loadbalancer", "app/demo-alb/x") }] });
  elb.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: arn("listener", "app/demo-alb/x/y") }] });
  elb.on(DescribeRulesCommand).resolves({
    Rules: [liveRule(blueWeight, greenWeight), { RuleArn: otherRule, IsDefault: false, Actions: [] }, { RuleArn: arn("listener-rule", "default"), IsDefault: true }],
  });
  elb.on(DescribeTagsCommand).callsFake((input: { ResourceArns: string[] }) => ({
    TagDescriptions: input.ResourceArns.map((resourceArn) => ({
      ResourceArn: resourceArn,
      Tags: Object.entries(tags[resourceArn] ?? {}).map(([Key, Value]) => ({ Key, Value })),
    })),
  }));
  elb.on(ModifyRuleCommand).resolves({});
  return elb;
}

const client = () => new ElasticLoadBalancingV2Client({ region: "eu-west-1" });
const drainBlue = planShift(fleet, { weights: { blue: 0, green: 100 } });

describe("shift --now", () => {
  it("finds the rule by its tags and applies the new weights with ModifyRule", async () => {
    const elb = mockAlb(50, 50);
    const lines = await applyShiftLive(client(), fleet, drainBlue);
    const calls = elb.commandCalls(ModifyRuleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      RuleArn: webRule,
      Actions: [
        {
          Type: "forward",
          Order: undefined,
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: blueGroup, Weight: 0 },
              { TargetGroupArn: greenGroup, Weight: 100 },
            ],
            TargetGroupStickinessConfig: { Enabled: false },
          },
        },
      ],
    });
    expect(lines).toEqual([`web: rule ${webRule} now blue=0 green=100 (was blue=50 green=50)`]);
    elb.restore();
  });

  it("refuses, changing nothing, when the live rule differs from the configuration", async () => {
    const elb = mockAlb(30, 70);
    await expect(applyShiftLive(client(), fleet, drainBlue)).rejects.toThrow(
      "the live rule of web (blue=30 green=70) differs from the configuration (blue=50 green=50)",
    );
    expect(elb.commandCalls(ModifyRuleCommand)).toHaveLength(0);
    elb.restore();
  });

  it("refuses when the ALB or the tagged rule cannot be found", async () => {
    const elb = mockAlb(50, 50);
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [] });
    await expect(applyShiftLive(client(), fleet, drainBlue)).rejects.toThrow("no load balancer named demo-alb in eu-west-1");
    elb.restore();

    const untagged = mockAlb(50, 50);
    untagged.on(DescribeTagsCommand).resolves({ TagDescriptions: [] });
    await expect(applyShiftLive(client(), fleet, drainBlue)).rejects.toThrow(ShiftError);
    await expect(applyShiftLive(client(), fleet, drainBlue)).rejects.toThrow("expected one listener rule tagged fleet=demo service=web on demo-alb, found 0");
    expect(untagged.commandCalls(ModifyRuleCommand)).toHaveLength(0);
    untagged.restore();
  });

  it("puts back the rules it changed when a later ModifyRule fails", async () => {
    const sources = exampleSources();
    const twoServices = parseFleetConfig({
      platform: {
        ...sources.platform,
        text: sources.platform.text.replace(
          "services:\n",
          "services:\n  - name: api\n    servicePort: 80\n    containerPort: 8080\n    paths: [/api/*]\n    priority: 10\n",
        ),
      },
      clusters: sources.clusters.map((c) => ({ ...c, text: c.text.replace("  web: 50", "  web: 50\n  api: 50") })),
    });
    const apiRule = arn("listener-rule", "app/demo-alb/x/y/api");
    tags[apiRule] = { fleet: "demo", service: "api" };
    const elb = mockAlb(50, 50);
    elb.on(DescribeRulesCommand).resolves({ Rules: [{ ...liveRule(50, 50), RuleArn: apiRule }, liveRule(50, 50)] });
    elb.on(ModifyRuleCommand).callsFake((input: { RuleArn: string; Actions: { ForwardConfig: { TargetGroups: { Weight: number }[] } }[] }) => {
      if (input.RuleArn === webRule) throw new Error("Throttling");
      return {};
    });
    const shifts = planShift(twoServices, { weights: { blue: 0, green: 100 } });
    expect(shifts.map((s) => s.service)).toEqual(["api", "web"]);
    await expect(applyShiftLive(client(), twoServices, shifts)).rejects.toThrow("the rules already changed were restored");
    const apiWeights = elb
      .commandCalls(ModifyRuleCommand)
      .filter((c) => c.args[0].input.RuleArn === apiRule)
      .map((c) => c.args[0].input.Actions![0].ForwardConfig!.TargetGroups!.map((g) => g.Weight));
    expect(apiWeights).toEqual([
      [0, 100],
      [50, 50],
    ]);
    elb.restore();
  });

  it("reports a failed ModifyRule", async () => {
    const elb = mockAlb(50, 50);
    elb.on(ModifyRuleCommand).rejects(new Error("AccessDenied"));
    await expect(applyShiftLive(client(), fleet, drainBlue)).rejects.toThrow(
      "changing the live rules failed: AccessDenied; the rules already changed were restored",
    );
    elb.restore();
  });
});
