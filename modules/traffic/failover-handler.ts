import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { FAILOVER_TOPIC_VARIABLE, FailoverSettings } from "../config/failover";
import { runFailover } from "./failover";
import { s3LockStore } from "./traffic-lock";

/** Every AWS call of the function gives up after these (two tries of 5 s at most), so a hung endpoint cannot hold the one running instance past its timeout. */
const CLIENT_SETTINGS = { maxAttempts: 2, requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true } };

/** What the function answers: the services it moved, and whether a failed cluster still carries traffic. */
export interface FailoverResult {
  readonly moved: readonly string[];
  readonly unresolved: boolean;
}

/** True for an invocation by a CloudWatch alarm (its state change), false for the schedule's. */
function startedByAlarm(event: unknown): boolean {
  return typeof event === "object" && event !== null && "alarmData" in event;
}

/**
 * The handler of the failover function in the edge stack: one
 * {@link runFailover} per invocation, every minute on its schedule and at once
 * when an alarm of a target group fires. It logs what it saw and did, and
 * publishes every failover to the topic as soon as it is written (and, when
 * an alarm started it, a failure it left in place and why). An error reading
 * the live fleet moves nothing and fails the invocation; an error moving one
 * service's traffic fails it after the other services were judged.
 */
export function createFailoverHandler(settings: FailoverSettings): (event: unknown) => Promise<FailoverResult> {
  const elb = new ElasticLoadBalancingV2Client({ region: settings.region, ...CLIENT_SETTINGS });
  const cloudWatch = new CloudWatchClient({ region: settings.region, ...CLIENT_SETTINGS });
  const sns = new SNSClient({ region: settings.region, ...CLIENT_SETTINGS });
  const lock = settings.lock && s3LockStore(new S3Client({ region: settings.lock.region, ...CLIENT_SETTINGS }), settings.lock.bucket, settings.lock.key);
  return async (event) => {
    const topicArn = process.env[FAILOVER_TOPIC_VARIABLE];
    const run = await runFailover({ elb, cloudWatch }, settings, {
      now: new Date(),
      actor: "automatic-failover",
      lock,
      log: (line) => console.log(line),
      notify: topicArn ? async (subject, message) => void (await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }))) : undefined,
      notifyHeld: startedByAlarm(event),
    });
    // A service whose traffic could not be moved, or whose move could not be told, fails the invocation (its Errors metric), after the others were judged.
    if (run.errors.length > 0) throw new Error(run.errors.join("\n"));
    return { moved: run.moved, unresolved: run.unresolved };
  };
}
