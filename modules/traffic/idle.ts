import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { LiveFleet, metricTargetsOf, targetGroupNameOf } from "./live-fleet";
import { periodsCovering, readTargetGroupMetrics } from "./metrics";

/** Minutes a cluster must have served no request before it goes on standby or is retired, unless told otherwise. */
export const DEFAULT_IDLE_MINUTES = 30;

/** What `--idle-minutes` accepts: up to a day. */
export const IDLE_MINUTES_BOUNDS = { min: 1, max: 1440 } as const;

/**
 * One refusal for each live target group of `cluster` that served requests
 * (CloudWatch RequestCount) in the `idleMinutes` before `end` (every minute
 * of datapoints that holds part of them: {@link periodsCovering}), naming the
 * service, the cluster, the target group and the count. A target group
 * without datapoints served nothing: ALBs publish RequestCount only for
 * minutes with requests. Read-only: cloudwatch:GetMetricData.
 */
export async function servedRequestRefusals(
  cloudWatch: CloudWatchClient,
  live: LiveFleet,
  cluster: string,
  idleMinutes: number,
  end: Date,
): Promise<string[]> {
  const groups = [...live.routes.values()].filter((r) => r.targetGroups.has(cluster)).map((r) => ({ service: r.service, arn: r.targetGroups.get(cluster)! }));
  const metrics = await readTargetGroupMetrics(cloudWatch, metricTargetsOf(live.routes.values(), cluster), end, periodsCovering(idleMinutes, end));
  return groups
    .map(({ service, arn }) => ({ service, arn, requests: metrics.get(arn)?.requests ?? 0 }))
    .filter(({ requests }) => requests > 0)
    .map(
      ({ service, arn, requests }) =>
        `${service}: ${cluster}'s target group ${targetGroupNameOf(arn)} served ${requests} requests in the last ${idleMinutes} min: wait until npm run status shows it idle`,
    );
}
