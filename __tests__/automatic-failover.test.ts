import * as fs from "fs";
import * as path from "path";
import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { exampleSources, resourcesOf, synthFleet, withClusterFile, withS3Backend } from "./helpers/fleet";
import { problemsOf } from "./helpers/config-problems";

const withPlatform = (sources: ConfigSources, extra: string): ConfigSources => ({ ...sources, platform: { ...sources.platform, text: `${sources.platform.text}${extra}` } });
const only = <T>(resources: Record<string, T>): T => {
  const values = Object.values(resources);
  expect(values).toHaveLength(1);
  return values[0];
};

describe("the automatic failover in the edge stack", () => {
  const fleet = synthFleet(exampleSources());
  const edge = fleet.stack("edge");

  it("is a function of one instance at a time on a supported Node.js runtime, packaged at synth as an asset of the stack", () => {
    const fn = only(resourcesOf(edge, "aws_lambda_function")) as Record<string, any>;
    expect(fn).toMatchObject({ function_name: "demo-failover", runtime: "nodejs22.x", handler: "index.handler", reserved_concurrent_executions: 1, timeout: 60 });
    const zip = path.join(fleet.outdir, "stacks", "edge", fn.filename);
    expect(fs.readFileSync(zip).subarray(0, 4).toString("hex")).toBe("504b0304");
    expect(fn.source_code_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(fn.environment.variables.FAILOVER_TOPIC_ARN).toMatch(/^\$\{aws_sns_topic\.[\w-]+\.arn\}$/);
  });

  it("runs every minute, and when an alarm on a target group's healthy targets or 5xx share fires", () => {
    const schedule = only(resourcesOf(edge, "aws_scheduler_schedule")) as Record<string, any>;
    expect(schedule).toMatchObject({ schedule_expression: "rate(1 minute)", flexible_time_window: { mode: "OFF" } });
    const alarms = Object.values(resourcesOf(edge, "aws_cloudwatch_metric_alarm")) as Record<string, any>[];
    expect(alarms.map((a) => a.alarm_name).sort()).toEqual(["demo-failover.web.blue.5xx", "demo-failover.web.blue.healthy", "demo-failover.web.green.5xx", "demo-failover.web.green.healthy"]);
    const healthy = alarms.find((a) => a.alarm_name === "demo-failover.web.blue.healthy")!;
    expect(healthy).toMatchObject({ metric_name: "HealthyHostCount", statistic: "Minimum", threshold: 1, comparison_operator: "LessThanThreshold", period: 60 });
    const errors = alarms.find((a) => a.alarm_name === "demo-failover.web.blue.5xx")!;
    expect(errors).toMatchObject({ threshold: 1, evaluation_periods: 2, datapoints_to_alarm: 2, comparison_operator: "GreaterThanThreshold" });
    expect(errors.metric_query.find((q: any) => q.return_data).expression).toBe("IF(requests >= 20, 100 * errors / requests, 0)");
    for (const alarm of alarms) expect(alarm.alarm_actions).toEqual(["${aws_lambda_function.automatic-failover_function_DD9BA613.arn}"]);
    expect(only(resourcesOf(edge, "aws_lambda_function_event_invoke_config"))).toMatchObject({ maximum_retry_attempts: 0, maximum_event_age_in_seconds: 60 });
    const permission = only(resourcesOf(edge, "aws_lambda_permission")) as Record<string, any>;
    expect(permission).toMatchObject({ principal: "lambda.alarms.cloudwatch.amazonaws.com", source_arn: "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:demo-failover.*" });
  });

  it("may change only this ALB's listener rules, and only read the rest", () => {
    const policy = JSON.parse((Object.values(resourcesOf(edge, "aws_iam_role_policy")).find((p: any) => p.name === "failover") as any).policy);
    const writes = policy.Statement.filter((s: any) => s.Action.some((a: string) => !/:(Describe|Get)/.test(a)));
    expect(writes.map((s: any) => [s.Sid, s.Action, s.Resource])).toEqual([
      ["ListenerRulesOfThisAlb", ["elasticloadbalancing:ModifyRule", "elasticloadbalancing:AddTags"], "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/demo-alb/*"],
      ["Notify", ["sns:Publish"], expect.stringMatching(/^\$\{aws_sns_topic\./)],
      ["EncryptedTopic", ["kms:Decrypt", "kms:GenerateDataKey"], expect.stringMatching(/^\$\{aws_kms_key\./)],
      ["Log", ["logs:CreateLogStream", "logs:PutLogEvents"], expect.stringMatching(/^\$\{aws_cloudwatch_log_group\..*\}:\*$/)],
    ]);
    const topic = only(resourcesOf(edge, "aws_sns_topic")) as Record<string, any>;
    expect(topic.kms_master_key_id).toMatch(/^\$\{aws_kms_key\./);
  });

  it("is left out with failover mode off, watches no target group of a service whose own mode is off, and subscribes what notify lists", () => {
    const off = synthFleet(withPlatform(exampleSources(), 'failover:\n  mode: "off"\n')).stack("edge");
    expect(resourcesOf(off, "aws_lambda_function")).toEqual({});
    expect(resourcesOf(off, "aws_cloudwatch_metric_alarm")).toEqual({});

    const sources = exampleSources();
    const webOff = { ...sources, platform: { ...sources.platform, text: sources.platform.text.replace("    priority: 100\n", '    priority: 100\n    failover: { mode: "off" }\n') } };
    const notify = withPlatform(webOff, "failover:\n  mode: alarm-only\n  notify:\n    - { protocol: email, endpoint: ops@example.com }\n");
    const edgeOfNotify = synthFleet(notify).stack("edge");
    // The only service is off: nothing to watch, so no function either.
    expect(resourcesOf(edgeOfNotify, "aws_lambda_function")).toEqual({});

    const alarmOnly = synthFleet(withPlatform(exampleSources(), "failover:\n  mode: alarm-only\n  notify:\n    - { protocol: email, endpoint: ops@example.com }\n")).stack("edge");
    expect(Object.keys(resourcesOf(alarmOnly, "aws_cloudwatch_metric_alarm"))).toHaveLength(4);
    expect(Object.values(resourcesOf(alarmOnly, "aws_sns_topic_subscription"))).toEqual([
      expect.objectContaining({ protocol: "email", endpoint: "ops@example.com" }),
    ]);
    // Only telling: no statement lets it change a rule.
    const policy = JSON.parse((Object.values(resourcesOf(alarmOnly, "aws_iam_role_policy")).find((p: any) => p.name === "failover") as any).policy);
    expect(policy.Statement.map((s: any) => s.Sid)).toEqual(["Read", "Notify", "EncryptedTopic", "Log"]);
  });

  it("may take the traffic lock beside S3 state, and only that object; with local state it has no lock to take", () => {
    const s3 = synthFleet(withS3Backend(exampleSources(), "  type: s3\n  bucket: acme-fleet-state\n  keyPrefix: fleets/demo\n")).stack("edge");
    const policy = JSON.parse((Object.values(resourcesOf(s3, "aws_iam_role_policy")).find((p: any) => p.name === "failover") as any).policy);
    expect(policy.Statement.find((s: any) => s.Sid === "TrafficLock")).toEqual({
      Sid: "TrafficLock",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: "arn:aws:s3:::acme-fleet-state/fleets/demo/traffic.lock",
    });
    const local = JSON.parse((Object.values(resourcesOf(edge, "aws_iam_role_policy")).find((p: any) => p.name === "failover") as any).policy);
    expect(local.Statement.map((s: any) => s.Sid)).not.toContain("TrafficLock");
  });

  it("refuses a service whose routine node drain would trip the failover, naming the numbers", () => {
    const sources = exampleSources();
    const strict = { ...sources, platform: { ...sources.platform, text: sources.platform.text.replace("    priority: 100\n", "    priority: 100\n    minHealthyTargets: 2\n") } };
    expect(problemsOf(strict)).toEqual(
      ["blue", "green"].map(
        (cluster) =>
          `platform.yaml: services[0].minHealthyTargets: a node drain may leave web 1 healthy pod in ${cluster} (2 replicas, podDisruptionBudget.maxUnavailable 1), ` +
          "fewer than minHealthyTargets 2: the automatic failover would move its traffic at every drain; raise the replicas, lower minHealthyTargets, or set the service's failover.mode to alarm-only",
      ),
    );
    const blue = strict.clusters.find((c) => c.file === "clusters/blue.yaml")!;
    const green = strict.clusters.find((c) => c.file === "clusters/green.yaml")!;
    const moreInBlue = withClusterFile(strict, blue.file, `${blue.text}workloads:\n  web:\n    replicas: 3\n`);
    expect(problemsOf(moreInBlue)).toEqual([expect.stringMatching(/^platform\.yaml: services\[0\]\.minHealthyTargets: a node drain may leave web 1 healthy pod in green /)]);
    expect(() => parseFleetConfig(withClusterFile(moreInBlue, green.file, `${green.text}workloads:\n  web:\n    replicas: 3\n`))).not.toThrow();
    expect(() => parseFleetConfig(withPlatform(strict, "failover:\n  mode: alarm-only\n"))).not.toThrow();
  });

  it("refuses settings that cannot work, naming the field", () => {
    expect(problemsOf(withPlatform(exampleSources(), "failover:\n  mode: sometimes\n"))).toEqual([
      'platform.yaml: failover.mode: Invalid option: expected one of "auto"|"alarm-only"|"off"',
    ]);
    expect(problemsOf(withPlatform(exampleSources(), "failover:\n  breachMinutes: 0\n  notify:\n    - { protocol: https, endpoint: http://example.com }\n"))).toEqual([
      "platform.yaml: failover.breachMinutes: Too small: expected number to be >=1",
      "platform.yaml: failover.notify[0].endpoint: endpoint does not fit the protocol: an address for email, an https:// URL for https, an ARN for sqs and lambda",
    ]);
  });
});
