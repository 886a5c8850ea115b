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

/**
 * RequestCount, HTTPCode_Target_5XX_Count and TargetResponseTime of each
 * target group over the `minutes` one-minute periods up to `end` (the minute
 * in progress counts as the last), by ARN. Read-only: cloudwatch:GetMetricData.
 */
export async function readTargetGroupMetrics(
  client: CloudWatchClient,
  loadBalancerArn: string,
  targetGroupArns: readonly string[],
  end: Date,
  minutes: number,
): Promise<Map<string, TargetGroupMetrics>> {
  const arns = [...new Set(targetGroupArns)];
  const minute = PERIOD_SECONDS * 1000;
  const endTime = new Date(Math.ceil(end.getTime() / minute) * minute);
  const startTime = new Date(endTime.getTime() - Math.max(1, minutes) * minute);
  const query = (id: string, arn: string, metricName: string, stat: string): MetricDataQuery => ({
    Id: id,
    ReturnData: true,
    MetricStat: {
      Metric: {
        Namespace: "AWS/ApplicationELB",
        MetricName: metricName,
        Dimensions: [
          { Name: "LoadBalancer", Value: loadBalancerDimension(loadBalancerArn) },
          { Name: "TargetGroup", Value: targetGroupDimension(arn) },
        ],
      },
      Period: PERIOD_SECONDS,
      Stat: stat,
    },
  });
  const queries = arns.flatMap((arn, i) => [
    query(`requests${i}`, arn, "RequestCount", "Sum"),
    query(`errors${i}`, arn, "HTTPCode_Target_5XX_Count", "Sum"),
    query(`latency${i}`, arn, "TargetResponseTime", "Average"),
  ]);

  const series = new Map<string, Map<number, number>>();
  for (let i = 0; i < queries.length; i += QUERIES_PER_CALL) {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new GetMetricDataCommand({ MetricDataQueries: queries.slice(i, i + QUERIES_PER_CALL), StartTime: startTime, EndTime: endTime, NextToken: nextToken }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const points = series.get(result.Id!) ?? new Map<number, number>();
        (result.Timestamps ?? []).forEach((t, j) => points.set(t.getTime(), (result.Values ?? [])[j]));
        series.set(result.Id!, points);
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }

  const sum = (points: Map<number, number> | undefined) => [...(points ?? new Map<number, number>()).values()].reduce((a, b) => a + b, 0);
  return new Map(
    arns.map((arn, i) => {
      const requests = series.get(`requests${i}`);
      const latency = series.get(`latency${i}`) ?? new Map<number, number>();
      // Average over requests: each minute's average weighted by that minute's requests.
      let weighted = 0;
      let counted = 0;
      for (const [time, average] of latency) {
        const count = requests?.get(time) ?? 0;
        weighted += average * count;
        counted += count;
      }
      return [arn, { requests: sum(requests), target5xx: sum(series.get(`errors${i}`)), responseTimeSeconds: counted > 0 ? weighted / counted : undefined }];
    }),
  );
}

/** The whole minutes from `since` to `now`, at least one: the window of metrics covering that time. */
export function minutesSince(since: Date, now: Date): number {
  return Math.max(1, Math.ceil((now.getTime() - since.getTime()) / (PERIOD_SECONDS * 1000)));
}

/** Target 5xx as a percentage of requests; 0 without requests. */
export function errorPercent(metrics: TargetGroupMetrics | undefined): number {
  return metrics && metrics.requests > 0 ? (metrics.target5xx / metrics.requests) * 100 : 0;
}
