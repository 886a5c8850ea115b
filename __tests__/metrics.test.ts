import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { parseFleetConfig } from "../modules/config/load";
import { cloudWatchClient } from "../modules/traffic/aws-clients";
import { errorPercent, MetricTarget, minutesSince, readMinuteMetrics, readTargetGroupMetrics } from "../modules/traffic/metrics";
import type { AwsStandIn } from "../scripts/lib/aws-stand-in";
import { exampleSources } from "./helpers/fleet";
import { standInServing } from "./helpers/stand-in-project";

/**
 * The CloudWatch readers of the status, the progressive shift and the
 * failover: the real SDK client asking the stand-in over HTTP (AWS JSON 1.0).
 */

const serve = standInServing();
let standIn: AwsStandIn;
let cloudWatch: CloudWatchClient;
beforeEach(async () => {
  const fleet = parseFleetConfig(exampleSources());
  standIn = await serve(fleet);
  cloudWatch = await cloudWatchClient(fleet);
});

const at = (time: string) => new Date(`2026-12-01T${time}Z`);
const ms = (time: string) => at(time).getTime();
/** The web target group of a cluster, under the ALB. */
const target = (cluster: string): MetricTarget => ({ loadBalancerArn: standIn.loadBalancer("edge").arn, targetGroupArn: standIn.targetGroup(cluster, "web").arn });
/** Each web group's minutes from 11:56 to 11:59 at 50 requests a second split evenly: 1,500 a minute, 5 target 5xx over the 3 minutes (0.1 %). */
const evenMinutes = () =>
  new Map([
    [ms("11:56:00"), { requests: 1500, target5xx: 2, responseTimeSeconds: 0.08 }],
    [ms("11:57:00"), { requests: 1500, target5xx: 1, responseTimeSeconds: 0.08 }],
    [ms("11:58:00"), { requests: 1500, target5xx: 2, responseTimeSeconds: 0.08 }],
  ]);
const metricReads = () => standIn.calls.filter((c) => c.api === "cloudwatch").map((c) => c.input as { MetricDataQueries: unknown[]; StartTime: number; EndTime: number; NextToken?: string });

describe("minute by minute", () => {
  it("asks for each target group's requests, target 5xx and response time under its ALB, over the window widened to whole minutes", async () => {
    const series = await readMinuteMetrics(cloudWatch, [target("blue"), target("green")], at("11:56:30"), at("11:58:10"));
    const [read] = metricReads();
    expect([read.StartTime, read.EndTime]).toEqual([ms("11:56:00") / 1000, ms("11:59:00") / 1000]);
    const dimensions = (cluster: string) => [
      { Name: "LoadBalancer", Value: standIn.loadBalancer("edge").arn.split(":loadbalancer/")[1] },
      { Name: "TargetGroup", Value: `targetgroup/${standIn.targetGroup(cluster, "web").arn.split(":targetgroup/")[1]}` },
    ];
    const query = (id: string, cluster: string, name: string, stat: string) => ({
      Id: id,
      ReturnData: true,
      MetricStat: { Metric: { Namespace: "AWS/ApplicationELB", MetricName: name, Dimensions: dimensions(cluster) }, Period: 60, Stat: stat },
    });
    expect(read.MetricDataQueries).toEqual([
      query("requests0", "blue", "RequestCount", "Sum"),
      query("target5xx0", "blue", "HTTPCode_Target_5XX_Count", "Sum"),
      query("responseTimeSeconds0", "blue", "TargetResponseTime", "Average"),
      query("requests1", "green", "RequestCount", "Sum"),
      query("target5xx1", "green", "HTTPCode_Target_5XX_Count", "Sum"),
      query("responseTimeSeconds1", "green", "TargetResponseTime", "Average"),
    ]);
    expect(series).toEqual(new Map([[target("blue").targetGroupArn, evenMinutes()], [target("green").targetGroupArn, evenMinutes()]]));
  });

  it("a window inside one minute reads that whole minute; a group without datapoints has no minutes", async () => {
    standIn.rule("web").forward[1].weight = 0;
    const series = await readMinuteMetrics(cloudWatch, [target("blue"), target("green")], at("12:00:00"), at("12:00:00"));
    expect(metricReads().map((r) => [r.StartTime, r.EndTime])).toEqual([[ms("12:00:00") / 1000, ms("12:01:00") / 1000]]);
    expect(series).toEqual(
      new Map([
        [target("blue").targetGroupArn, new Map([[ms("12:00:00"), { requests: 3000, target5xx: 3, responseTimeSeconds: 0.08 }]])],
        [target("green").targetGroupArn, new Map()],
      ]),
    );
  });

  it("gives what CloudWatch holds, a metric without a datapoint absent from its minute", async () => {
    standIn.targetGroup("blue", "web").minutes = new Map([
      [ms("11:57:00"), { RequestCount: 10, HTTPCode_Target_5XX_Count: 1, TargetResponseTime: 0.5 }],
      [ms("11:58:00"), { RequestCount: 30 }],
    ]);
    const series = await readMinuteMetrics(cloudWatch, [target("blue")], at("11:56:00"), at("11:59:00"));
    expect(series).toEqual(
      new Map([
        [
          target("blue").targetGroupArn,
          new Map<number, object>([
            [ms("11:57:00"), { requests: 10, target5xx: 1, responseTimeSeconds: 0.5 }],
            [ms("11:58:00"), { requests: 30 }],
          ]),
        ],
      ]),
    );
  });

  it("follows CloudWatch's pages, a group's minutes split across them", async () => {
    standIn.metricDatapointsPerPage = 4;
    const series = await readMinuteMetrics(cloudWatch, [target("blue"), target("green")], at("11:56:00"), at("11:59:00"));
    // 18 datapoints (2 groups, 3 metrics, 3 minutes), 4 a page.
    expect(metricReads().map((r) => r.NextToken)).toEqual([undefined, "4", "8", "12", "16"]);
    expect(series).toEqual(new Map([[target("blue").targetGroupArn, evenMinutes()], [target("green").targetGroupArn, evenMinutes()]]));
  });

  it("asks at most 500 queries a call, each answer going to its own target group", async () => {
    // 200 target groups under the ALB: the example's two, and 198 that served nothing.
    const others = Array.from({ length: 198 }, (_, i): MetricTarget => ({
      loadBalancerArn: target("blue").loadBalancerArn,
      targetGroupArn: target("blue").targetGroupArn.replace(/\/[0-9a-f]+$/, `/${(i + 1).toString(16).padStart(16, "0")}`),
    }));
    standIn.rule("web").forward[1].weight = 150;
    const series = await readMinuteMetrics(cloudWatch, [target("blue"), ...others, target("green")], at("12:00:00"), at("12:01:00"));
    expect(metricReads().map((r) => r.MetricDataQueries.length)).toEqual([500, 100]);
    expect(series.size).toBe(200);
    expect(series.get(target("blue").targetGroupArn)).toEqual(new Map([[ms("12:00:00"), { requests: 750, target5xx: 1, responseTimeSeconds: 0.08 }]]));
    expect(series.get(target("green").targetGroupArn)).toEqual(new Map([[ms("12:00:00"), { requests: 2250, target5xx: 2, responseTimeSeconds: 0.08 }]]));
    expect([...series.values()].filter((minutes) => minutes.size > 0)).toHaveLength(2);
  });

  it("takes an ALB given by its LoadBalancer dimension as it is", async () => {
    const dimension = standIn.loadBalancer("edge").arn.split(":loadbalancer/")[1];
    const series = await readMinuteMetrics(cloudWatch, [{ ...target("blue"), loadBalancerArn: dimension }], at("11:56:00"), at("11:59:00"));
    expect(series).toEqual(new Map([[target("blue").targetGroupArn, evenMinutes()]]));
  });

  it("asks nothing for no target groups", async () => {
    expect(await readMinuteMetrics(cloudWatch, [], at("11:56:00"), at("11:59:00"))).toEqual(new Map());
    expect(metricReads()).toEqual([]);
  });
});

describe("over a window", () => {
  it("sums requests and target 5xx over the last minutes up to the minute in progress, and averages response time over the requests", async () => {
    standIn.targetGroup("blue", "web").minutes = new Map([
      [ms("11:57:00"), { RequestCount: 100, HTTPCode_Target_5XX_Count: 1, TargetResponseTime: 0.2 }],
      [ms("11:58:00"), { RequestCount: 300, HTTPCode_Target_5XX_Count: 6, TargetResponseTime: 0.1 }],
      // A minute with a response time but no request count counts for no request.
      [ms("11:59:00"), { TargetResponseTime: 9 }],
      [ms("12:00:00"), { RequestCount: 100 }],
      // Outside the window.
      [ms("11:56:00"), { RequestCount: 1000, TargetResponseTime: 5 }],
    ]);
    const metrics = await readTargetGroupMetrics(cloudWatch, [target("blue"), target("green")], at("12:00:30"), 4);
    expect(metricReads().map((r) => [r.StartTime, r.EndTime])).toEqual([[ms("11:57:00") / 1000, ms("12:01:00") / 1000]]);
    expect(metrics.get(target("blue").targetGroupArn)).toEqual({ requests: 500, target5xx: 7, responseTimeSeconds: (100 * 0.2 + 300 * 0.1) / 400 });
    // 50 requests a second for 4 minutes, half to green.
    expect(metrics.get(target("green").targetGroupArn)).toEqual({ requests: 6000, target5xx: 6, responseTimeSeconds: expect.closeTo(0.08, 10) });
  });

  it("a group that served nothing: no requests, no 5xx, no response time; 0 minutes reads the minute in progress", async () => {
    standIn.rule("web").forward[1].weight = 0;
    const metrics = await readTargetGroupMetrics(cloudWatch, [target("green")], at("12:00:00"), 0);
    expect(metricReads().map((r) => [r.StartTime, r.EndTime])).toEqual([[ms("11:59:00") / 1000, ms("12:00:00") / 1000]]);
    expect(metrics).toEqual(new Map([[target("green").targetGroupArn, { requests: 0, target5xx: 0, responseTimeSeconds: undefined }]]));
  });
});

describe("figures", () => {
  it("target 5xx as a percentage of requests, 0 without requests", () => {
    expect(errorPercent({ requests: 400, target5xx: 7 })).toBeCloseTo(1.75, 10);
    expect(errorPercent({ requests: 0, target5xx: 3 })).toBe(0);
    expect(errorPercent(undefined)).toBe(0);
  });

  it("the whole minutes since a time, at least one", () => {
    expect(minutesSince(at("12:00:00"), at("12:00:00"))).toBe(1);
    expect(minutesSince(at("12:00:00"), at("12:01:00"))).toBe(1);
    expect(minutesSince(at("12:00:00"), at("12:01:01"))).toBe(2);
    expect(minutesSince(at("12:00:00"), at("12:10:00"))).toBe(10);
  });
});
