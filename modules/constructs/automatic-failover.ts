import { createHash } from "crypto";
import { Construct } from "constructs";
import { AssetType, TerraformAsset } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaFunctionEventInvokeConfig } from "@cdktf/provider-aws/lib/lambda-function-event-invoke-config";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { SchedulerSchedule } from "@cdktf/provider-aws/lib/scheduler-schedule";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { FAILOVER_TOPIC_VARIABLE } from "../config/failover";
import { acceptPolicyException } from "../policy/exceptions";
import { EncryptionKey, partitionOf } from "./encryption-key";
import { policyDocument, servicePrincipalTrust } from "./iam";

/** The Lambda runtime the function runs on. */
export const FAILOVER_RUNTIME = "nodejs22.x";

/** A target group the failover watches, with the limits its alarms fire at. */
export interface WatchedTargetGroup {
  readonly service: string;
  readonly cluster: string;
  /** The `targetgroup/<name>/<id>` end of its ARN. */
  readonly arnSuffix: string;
  /** The alarm on healthy targets fires below this. */
  readonly minHealthyTargets: number;
  /** The alarm on target 5xx fires above this share, in percent, of a minute's requests... */
  readonly max5xxPercent: number;
  /** ...for this many consecutive minutes... */
  readonly breachMinutes: number;
  /** ...each with at least this many requests. */
  readonly minRequestsPerMinute: number;
}

export interface AutomaticFailoverProps {
  /** The name of the function and of its role, topic, log group and alarms (`<fleet>-failover` for the ALB of `alb:`): unique in the account and region. */
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  /** The ALB whose listener rules the function may change, and only those. */
  readonly albName: string;
  /** The `app/<name>/<id>` end of the ALB's ARN: its CloudWatch dimension. */
  readonly albArnSuffix: string;
  /** The function's deployment package (built at synth) and its SHA-256 in base64. */
  readonly bundle: { readonly path: string; readonly sha256: string };
  /** Target groups whose alarms start the function at once. */
  readonly targetGroups: readonly WatchedTargetGroup[];
  /** Some service's mode is `auto`: the function may change the rules; with `alarm-only` everywhere it only reads and tells. */
  readonly movesTraffic: boolean;
  /** The traffic lock's object beside the state, which the function takes before it writes. @default none (local state) */
  readonly lock?: { readonly bucket: string; readonly key: string };
  /** Subscriptions of the topic told of every failover. @default none */
  readonly subscriptions?: readonly { readonly protocol: string; readonly endpoint: string }[];
  /** Days the function's log is kept. @default 365 */
  readonly logRetentionDays?: number;
}

/**
 * The automatic failover of one ALB: a Lambda function (the project's own
 * traffic code, packaged at synth) that EventBridge Scheduler runs every
 * minute and CloudWatch alarms on each target group's healthy targets and 5xx
 * share run at once; one instance at a time. It may change only this ALB's
 * listener rules, read what it judges by, and publish to its encrypted topic.
 */
export class AutomaticFailover extends Construct {
  readonly function: LambdaFunction;
  readonly topic: SnsTopic;

  constructor(scope: Construct, id: string, props: AutomaticFailoverProps) {
    super(scope, id);
    const { name } = props;
    const partition = partitionOf(props.region);
    const logGroupName = `/aws/lambda/${name}`;
    // Alarm names join fleet, service and cluster with dots, which none of these names holds: no two can collide.
    const alarmPrefix = `${name}.`;

    const key = new EncryptionKey(this, "key", {
      description: `${name}: its log and its topic`,
      accountId: props.accountId,
      region: props.region,
      logGroupNamePattern: logGroupName,
    }).key;
    const logGroup = new CloudwatchLogGroup(this, "log-group", { name: logGroupName, retentionInDays: props.logRetentionDays ?? 365, kmsKeyId: key.arn });
    this.topic = new SnsTopic(this, "topic", { name, kmsMasterKeyId: key.arn });
    for (const subscription of props.subscriptions ?? []) {
      // Keyed by what it subscribes, so removing one leaves the others (and their confirmations) alone.
      const key = createHash("sha256").update(`${subscription.protocol}\0${subscription.endpoint}`).digest("hex").slice(0, 12);
      new SnsTopicSubscription(this, `subscription-${key}`, { topicArn: this.topic.arn, protocol: subscription.protocol, endpoint: subscription.endpoint });
    }

    const role = new IamRole(this, "role", {
      name,
      description: `${name}: moves traffic off failed clusters on ${props.albName}`,
      assumeRolePolicy: servicePrincipalTrust("lambda.amazonaws.com", ["sts:AssumeRole"], { StringEquals: { "aws:SourceAccount": props.accountId } }),
    });
    new IamRolePolicy(this, "policy", {
      role: role.id,
      name: "failover",
      policy: policyDocument([
        {
          Sid: "Read",
          Effect: "Allow",
          Action: [
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeTargetHealth",
            "cloudwatch:GetMetricData",
          ],
          Resource: "*",
        },
        ...(props.movesTraffic
          ? [
              {
                Sid: "ListenerRulesOfThisAlb",
                Effect: "Allow" as const,
                Action: ["elasticloadbalancing:ModifyRule", "elasticloadbalancing:AddTags"],
                Resource: `arn:${partition}:elasticloadbalancing:${props.region}:${props.accountId}:listener-rule/app/${props.albName}/*`,
              },
            ]
          : []),
        ...(props.movesTraffic && props.lock
          ? [{ Sid: "TrafficLock", Effect: "Allow" as const, Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `arn:${partition}:s3:::${props.lock.bucket}/${props.lock.key}` }]
          : []),
        { Sid: "Notify", Effect: "Allow", Action: ["sns:Publish"], Resource: this.topic.arn },
        { Sid: "EncryptedTopic", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: key.arn },
        { Sid: "Log", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroup.arn}:*` },
      ]),
    });

    const asset = new TerraformAsset(this, "bundle", { path: props.bundle.path, type: AssetType.FILE });
    this.function = new LambdaFunction(this, "function", {
      functionName: name,
      description: `Moves traffic off failed clusters of ${props.albName}; never back`,
      role: role.arn,
      runtime: FAILOVER_RUNTIME,
      handler: "index.handler",
      filename: asset.path,
      sourceCodeHash: props.bundle.sha256,
      memorySize: 256,
      timeout: 60,
      // One writer of the rules from this side: a second invocation waits its turn (throttled, retried).
      reservedConcurrentExecutions: 1,
      environment: { variables: { [FAILOVER_TOPIC_VARIABLE]: this.topic.arn } },
      // Its log goes to Lambda's default group, /aws/lambda/<name>: the one above, encrypted and kept, made first.
      dependsOn: [logGroup],
    });
    // An invocation that failed or waited is not replayed: each run judges the live state of its own minute.
    new LambdaFunctionEventInvokeConfig(this, "invoke-config", { functionName: this.function.functionName, maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 });
    acceptPolicyException(
      this.function,
      "lambda-dead-letter-queue",
      "every run reads the live state afresh and the schedule runs it again within a minute: a lost invocation has nothing to replay",
    );
    acceptPolicyException(
      this.function,
      "lambda-in-vpc",
      "it calls only AWS APIs; outside the VPC it needs no NAT gateway, which the zone failure it reacts to may have taken down",
    );

    const schedulerRole = new IamRole(this, "scheduler-role", {
      name: `${name}-schedule`,
      description: `${name}: lets EventBridge Scheduler run it every minute`,
      assumeRolePolicy: servicePrincipalTrust("scheduler.amazonaws.com", ["sts:AssumeRole"], { StringEquals: { "aws:SourceAccount": props.accountId } }),
    });
    new IamRolePolicy(this, "scheduler-policy", {
      role: schedulerRole.id,
      name: "invoke",
      policy: policyDocument([{ Sid: "Invoke", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: this.function.arn }]),
    });
    new SchedulerSchedule(this, "schedule", {
      name,
      description: "runs the failover every minute",
      scheduleExpression: "rate(1 minute)",
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: this.function.arn,
        roleArn: schedulerRole.arn,
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
      },
    });

    new LambdaPermission(this, "alarm-invoke", {
      statementId: "alarms",
      action: "lambda:InvokeFunction",
      functionName: this.function.functionName,
      principal: "lambda.alarms.cloudwatch.amazonaws.com",
      sourceAccount: props.accountId,
      sourceArn: `arn:${partition}:cloudwatch:${props.region}:${props.accountId}:alarm:${alarmPrefix}*`,
    });
    for (const group of props.targetGroups) {
      this.addAlarms(`${alarmPrefix}${group.service}.${group.cluster}`, props.albArnSuffix, group);
    }
  }

  /** The two alarms of a target group: too few healthy targets, and too many 5xx for too long. */
  private addAlarms(prefix: string, albArnSuffix: string, group: WatchedTargetGroup): void {
    const dimensions = { LoadBalancer: albArnSuffix, TargetGroup: group.arnSuffix };
    const id = `${group.service}_${group.cluster}`;
    new CloudwatchMetricAlarm(this, `healthy-${id}`, {
      alarmName: `${prefix}.healthy`,
      alarmDescription: `${group.service} in ${group.cluster}: fewer than ${group.minHealthyTargets} healthy targets; runs the failover`,
      namespace: "AWS/ApplicationELB",
      metricName: "HealthyHostCount",
      dimensions,
      statistic: "Minimum",
      period: 60,
      evaluationPeriods: 1,
      threshold: group.minHealthyTargets,
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "missing",
      alarmActions: [this.function.arn],
    });
    const metric = (metricName: string) => ({ namespace: "AWS/ApplicationELB", metricName, dimensions, period: 60, stat: "Sum" });
    new CloudwatchMetricAlarm(this, `target-5xx-${id}`, {
      alarmName: `${prefix}.5xx`,
      alarmDescription: `${group.service} in ${group.cluster}: target 5xx above ${group.max5xxPercent} % for ${group.breachMinutes} minutes; runs the failover`,
      evaluationPeriods: group.breachMinutes,
      datapointsToAlarm: group.breachMinutes,
      threshold: group.max5xxPercent,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [this.function.arn],
      metricQuery: [
        { id: "errors", metric: metric("HTTPCode_Target_5XX_Count") },
        { id: "requests", metric: metric("RequestCount") },
        {
          id: "share",
          label: "target 5xx, percent of requests",
          expression: `IF(requests >= ${group.minRequestsPerMinute}, 100 * errors / requests, 0)`,
          returnData: true,
        },
      ],
    });
  }
}
