import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from "@aws-sdk/client-cloudwatch";

/** What a target group served over a window (CloudWatch AWS/ApplicationELB). */
export interface TargetGroupMetrics {
  /** RequestCount, summed. */
  readonly requests: number;
  /** HTTPCode_Target_5XX_Count, summed. */
  readonly target5xx: number;
  /** TargetResponseTime averaged over the requests, seconds; undefined without requests. */
  readonly responseTimeSeconds?: number;
}

/** A target group and the ALB it is under: CloudWatch files its metrics under both. */
export interface MetricTarget {
  readonly loadBalancerArn: string;
  readonly targetGroupArn: string;
}

/** ALB metrics have one-minute datapoints. */
const PERIOD_SECONDS = 60;
/** GetMetricData takes at most this many queries per call. */
const QUERIES_PER_CALL = 500;

/** The `LoadBalancer` dimension of an ALB ARN: `app/<name>/<id>`. */
function loadBalancerDimension(loadBalancerArn: string): string {
  return loadBalancerArn.split(":loadbalancer/")[1] ?? loadBalancerArn;
}

/** The `TargetGroup` dimension of a target group ARN: `targetgroup/<name>/<id>`. */
function targetGroupDimension(targetGroupArn: string): string {
  return targetGroupArn.slice(targetGroupArn.lastIndexOf(":") + 1);
}

/** One minute of a target group's metrics; a metric without a datapoint that minute is absent. */
export interface MinuteMetrics {
  readonly requests?: number;
  readonly target5xx?: number;
  /** TargetResponseTime averaged over that minute's requests, seconds. */
  readonly responseTimeSeconds?: number;
}

/**
 * RequestCount, HTTPCode_Target_5XX_Count and TargetResponseTime of each
 * target group (under its ALB) between `start` and `end` (widened to whole
 * minutes), minute by minute: by target group ARN, then by the minute's
 * start (epoch milliseconds). Read-only: cloudwatch:GetMetricData.
 */
export async function readMinuteMetrics(
  client: CloudWatchClient,
  targets: readonly MetricTarget[],
  start: Date,
  end: Date,
): Promise<Map<string, Map<number, MinuteMetrics>>> {
  const albOf = new Map(targets.map((t) => [t.targetGroupArn, t.loadBalancerArn]));
  const arns = [...albOf.keys()];
  const minute = PERIOD_SECONDS * 1000;
  const startTime = new Date(Math.floor(start.getTime() / minute) * minute);
  const endTime = new Date(Math.max(Math.ceil(end.getTime() / minute) * minute, startTime.getTime() + minute));
  const query = (id: string, arn: string, metricName: string, stat: string): MetricDataQuery => ({
    Id: id,
    ReturnData: true,
    MetricStat: {
      Metric: {
        Namespace: "AWS/ApplicationELB",
        MetricName: metricName,
        Dimensions: [
          { Name: "LoadBalancer", Value: loadBalancerDimension(albOf.get(arn)!) },
          { Name: "TargetGroup", Value: targetGroupDimension(arn) },
        ],
      },
      Period: PERIOD_SECONDS,
      Stat: stat,
    },
  });
  const metrics = [
    { key: "requests", name: "RequestCount", stat: "Sum" },
    { key: "target5xx", name: "HTTPCode_Target_5XX_Count", stat: "Sum" },
    { key: "responseTimeSeconds", name: "TargetResponseTime", stat: "Average" },
  ] as const;
  const queries = arns.flatMap((arn, i) => metrics.map((m) => query(`${m.key}${i}`, arn, m.name, m.stat)));

  const byArn = new Map(arns.map((arn) => [arn, new Map<number, Record<string, number>>()]));
  for (let i = 0; i < queries.length; i += QUERIES_PER_CALL) {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new GetMetricDataCommand({ MetricDataQueries: queries.slice(i, i + QUERIES_PER_CALL), StartTime: startTime, EndTime: endTime, NextToken: nextToken }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const [, key, index] = /^([a-zA-Z0-9]+?)(\d+)$/.exec(result.Id!)!;
        const minutes = byArn.get(arns[Number(index)])!;
        (result.Timestamps ?? []).forEach((t, j) => {
          const entry = minutes.get(t.getTime()) ?? {};
          entry[key] = (result.Values ?? [])[j];
          minutes.set(t.getTime(), entry);
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return byArn as Map<string, Map<number, MinuteMetrics>>;
}

/**
 * RequestCount, HTTPCode_Target_5XX_Count and TargetResponseTime of each
 * target group (under its ALB) over the `minutes` one-minute periods up to
 * `end` (the minute in progress counts as the last), by target group ARN.
 * Read-only: cloudwatch:GetMetricData.
 */
export async function readTargetGroupMetrics(
  client: CloudWatchClient,
  targets: readonly MetricTarget[],
  end: Date,
  minutes: number,
): Promise<Map<string, TargetGroupMetrics>> {
  const minute = PERIOD_SECONDS * 1000;
  const endTime = new Date(Math.ceil(end.getTime() / minute) * minute);
  const startTime = new Date(endTime.getTime() - Math.max(1, minutes) * minute);
  const series = await readMinuteMetrics(client, targets, startTime, endTime);
  return new Map(
    [...series].map(([arn, byMinute]) => {
      let requests = 0;
      let target5xx = 0;
      // Average over requests: each minute's average weighted by that minute's requests.
      let weighted = 0;
      let counted = 0;
      for (const point of byMinute.values()) {
        requests += point.requests ?? 0;
        target5xx += point.target5xx ?? 0;
        if (point.responseTimeSeconds !== undefined) {
          weighted += point.responseTimeSeconds * (point.requests ?? 0);
          counted += point.requests ?? 0;
        }
      }
      return [arn, { requests, target5xx, responseTimeSeconds: counted > 0 ? weighted / counted : undefined }];
    }),
  );
}

/** The whole minutes from `since` to `now`, at least one: the window of metrics covering that time. */
export function minutesSince(since: Date, now: Date): number {
  return Math.max(1, Math.ceil((now.getTime() - since.getTime()) / (PERIOD_SECONDS * 1000)));
}

/**
 * The one-minute periods that hold any of the `minutes` before `end`: one more
 * than `minutes` when `end` falls inside a minute, since a datapoint cannot be
 * split (the window may reach up to a minute further back, never less far).
 */
export function periodsCovering(minutes: number, end: Date): number {
  const minute = PERIOD_SECONDS * 1000;
  const since = end.getTime() - minutes * minute;
  return minutesSince(new Date(Math.floor(since / minute) * minute), end);
}

/** Target 5xx as a percentage of requests; 0 without requests. */
export function errorPercent(metrics: TargetGroupMetrics | undefined): number {
  return metrics && metrics.requests > 0 ? (metrics.target5xx / metrics.requests) * 100 : 0;
}
