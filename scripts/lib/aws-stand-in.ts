import * as http from "http";
import { AddressInfo } from "net";
import { fleetAlbs, servicesOnAlb } from "../../modules/config/albs";
import { FleetConfig, clustersRouting } from "../../modules/config/load";
import { albName, edgeStackName, targetGroupName } from "../../modules/constructs/naming";
import { DEPLOYED_WEIGHTS_TAG, formatWeights } from "../../modules/config/weights";
import { targetGroupIdentityOf } from "../../modules/constructs/weighted-alb";

/**
 * A local stand-in for the parts of the ELBv2 API (Query protocol: form POST,
 * XML answers), the CloudWatch API (AWS JSON 1.0) and the CloudWatch Logs API
 * (AWS JSON 1.1) that the traffic commands use, SNS Publish (Query) for the
 * failover's notices, and an STS that tells the fleet's commands who they are
 * but refuses every other client (Terraform's AWS provider stops at its first
 * call), so the real AWS SDK reaches it over HTTP through AWS_ENDPOINT_URL.
 * Loopback only; bodies and the call log are bounded.
 */

export type TargetState = "healthy" | "unhealthy" | "initial" | "draining" | "unused" | "unavailable";

export interface StandInTargetGroup {
  readonly arn: string;
  /** The ALB whose listener rule forwards to it (the `LoadBalancer` dimension of its metrics). */
  readonly loadBalancerArn: string;
  readonly tags: Record<string, string>;
  targets: { id: string; port: number; state: TargetState }[];
  /** Share of requests answered with a 5xx by the targets (0-1). */
  errorRate: number;
  /** Average target response time, seconds. */
  responseTimeSeconds: number;
  /**
   * Requests the group served in any window asked about, whatever the rule's
   * weights now (traffic from before a drain that the window still covers).
   * @default its weight's share of the rule's requests
   */
  servedRequests?: number;
  /**
   * The datapoints CloudWatch holds for it, by the minute's start (epoch
   * milliseconds), served instead of those derived from the rule's weights;
   * a metric missing from a minute has no datapoint that minute.
   * @default derived from the weights, the same every minute
   */
  minutes?: ReadonlyMap<number, StandInMinute>;
}

/** One minute of a target group's metrics in CloudWatch. */
export interface StandInMinute {
  readonly RequestCount?: number;
  readonly HTTPCode_Target_5XX_Count?: number;
  /** Average, seconds. */
  readonly TargetResponseTime?: number;
}

export interface StandInRule {
  readonly arn: string;
  readonly listenerArn: string;
  readonly priority: string;
  tags: Record<string, string>;
  /** Target group ARN → weight, in the forward action's order. */
  forward: { arn: string; weight: number }[];
  /** Requests per second the rule receives, split by weight. */
  requestsPerSecond: number;
}

/** One ALB of the fleet, with one listener. */
export interface StandInLoadBalancer {
  readonly arn: string;
  readonly name: string;
  /** Its stack: `edge`, or `edge-<name>` for one of `albs:`. */
  readonly stack: string;
  readonly listenerArn: string;
  /** False for an ALB not deployed yet: it is not found. */
  deployed: boolean;
}

export interface StandInWorld {
  /** The fleet's ALBs: that of `alb:` first, then those of `albs:` by name. */
  readonly loadBalancers: StandInLoadBalancer[];
  readonly rules: StandInRule[];
  readonly targetGroups: StandInTargetGroup[];
  /** CloudWatch Logs log group names. */
  readonly logGroups: Set<string>;
  /** The identity STS GetCallerIdentity returns to the AWS SDK for JavaScript (the fleet's commands). */
  caller: { arn: string; account: string };
}

/**
 * Trouble on one API action (`ModifyRule`, `GetMetricData`, ...), to try the
 * commands under faults. `delayMs` holds the answer back; `until` holds it
 * until that promise settles (another command has ended, say); `hang` never
 * answers (the connection stays open until the stand-in stops); `error`
 * answers it with that API error instead; `onCall` runs as the call arrives
 * (to change the world between a command's read and its write). Applies to
 * the next `times` calls, or to every call when `times` is not given.
 */
export interface StandInFault {
  readonly delayMs?: number;
  readonly until?: Promise<unknown>;
  readonly onCall?: () => void;
  readonly hang?: boolean;
  readonly error?: { readonly code: string; readonly status: number };
  times?: number;
}

export interface StandInCall {
  readonly api: "elbv2" | "cloudwatch" | "logs" | "sts" | "sns";
  readonly action: string;
  readonly input: Record<string, unknown>;
}

/** The statistic the stand-in serves of each ALB metric. */
const METRIC_STATS: Readonly<Record<keyof StandInMinute, string>> = { RequestCount: "Sum", HTTPCode_Target_5XX_Count: "Sum", TargetResponseTime: "Average" };
const MAX_BODY_BYTES = 1 << 20;
const STS_VERSION = "2011-06-15";
const SNS_VERSION = "2010-03-31";
const SNS_NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/";
const MAX_CALLS_KEPT = 10_000;
const ELB_NAMESPACE = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
const ACCOUNT = "111122223333";
const hex = (n: number) => n.toString(16).padStart(2, "0");

/** The world of a deployed fleet: for each of its ALBs, one rule per service on it and one target group per (service, cluster), every target healthy. */
export function worldOf(fleet: FleetConfig, targetsPerGroup = 2): StandInWorld {
  const fleetName = fleet.platform.name;
  const region = fleet.platform.region;
  const arn = (kind: string, id: string) => `arn:aws:elasticloadbalancing:${region}:${ACCOUNT}:${kind}/${id}`;
  const targetGroups: StandInTargetGroup[] = [];
  const rules: StandInRule[] = [];
  const loadBalancers = fleetAlbs(fleet.platform).map(({ key }, albIndex): StandInLoadBalancer => {
    const name = albName(fleetName, key);
    const lbId = `app/${name}/50dc6c495c0c91${hex(0x88 + albIndex)}`;
    const listenerArn = arn("listener", `${lbId}/f2f7dc8efc522a${hex(0xb2 + albIndex)}`);
    const loadBalancerArn = arn("loadbalancer", lbId);
    for (const service of servicesOnAlb(fleet.platform.services, key)) {
      const index = fleet.platform.services.indexOf(service);
      const weights: Record<string, number> = {};
      const forward = clustersRouting(fleet.clusters, service.name).map((cluster, clusterIndex) => {
        const groupName = targetGroupName(targetGroupIdentityOf(fleetName, cluster.config.name, service));
        const group: StandInTargetGroup = {
          arn: arn("targetgroup", `${groupName}/6d0ecf831eec${hex(index)}${hex(clusterIndex)}`),
          loadBalancerArn,
          tags: { fleet: fleetName, cluster: cluster.config.name, service: service.name },
          targets: Array.from({ length: targetsPerGroup }, (_, i) => ({ id: `10.40.${clusterIndex}.${10 + i}`, port: service.containerPort, state: "healthy" as const })),
          errorRate: 0.001,
          responseTimeSeconds: 0.08,
        };
        targetGroups.push(group);
        weights[cluster.config.name] = cluster.config.weights[service.name];
        return { arn: group.arn, weight: cluster.config.weights[service.name] };
      });
      rules.push({
        arn: arn("listener-rule", `${lbId}/f2f7dc8efc522a${hex(0xb2 + albIndex)}/9683b2d02a6cab${hex(index)}`),
        listenerArn,
        priority: String(service.priority),
        tags: { fleet: fleetName, service: service.name, [DEPLOYED_WEIGHTS_TAG]: formatWeights(weights) },
        forward,
        requestsPerSecond: 50,
      });
    }
    return { arn: loadBalancerArn, name, stack: edgeStackName(key), listenerArn, deployed: true };
  });
  return { loadBalancers, rules, targetGroups, logGroups: new Set(), caller: sessionOf(fleet.platform.clusterAccess.deployerPrincipalArn) };
}

/** The identity STS gives a session of an IAM principal: an assumed-role session for a role, the user itself for a user. */
export function sessionOf(principalArn: string, session = "stand-in"): { arn: string; account: string } {
  const [, partition, , , account, resource] = principalArn.split(":");
  const role = /^role\/(?:.*\/)?([^/]+)$/.exec(resource)?.[1];
  return { arn: role ? `arn:${partition}:sts::${account}:assumed-role/${role}/${session}` : principalArn, account };
}

/** The stand-in server. `url` is set once `start` resolves. */
export class AwsStandIn {
  readonly calls: StandInCall[] = [];
  /** Seconds after its minute ends before a metric datapoint is served, as CloudWatch's arrive late; 0: at once. */
  metricDelaySeconds = 0;
  /** Datapoints GetMetricData returns per page at most, continuing with a NextToken as CloudWatch does; 0: all at once. */
  metricDatapointsPerPage = 0;
  /** Rules DescribeRules returns per page at most, continuing with a NextMarker as ELBv2 does; 0: all at once. */
  rulesPerPage = 0;
  /** Rule ARNs whose ModifyRule is refused (AccessDenied), to try failures. */
  readonly refusedRules = new Set<string>();
  /** Faults by API action name, such as `ModifyRule`. */
  readonly faults = new Map<string, StandInFault>();
  url = "";
  private readonly server: http.Server;

  constructor(readonly world: StandInWorld) {
    this.server = http.createServer((request, response) => this.handle(request, response));
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 10_000;
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", resolve);
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Environment for a process whose AWS SDK clients should reach this stand-in. */
  environment(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      // The fleet's region, as in its ARNs.
      AWS_REGION: this.world.loadBalancers[0].arn.split(":")[3],
      AWS_ACCESS_KEY_ID: "AKIASTANDIN000000000",
      AWS_SECRET_ACCESS_KEY: "stand-in-secret",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
  }

  /** The ALB of this stack (`edge`, `edge-<name>`). */
  loadBalancer(stack: string): StandInLoadBalancer {
    const loadBalancer = this.world.loadBalancers.find((lb) => lb.stack === stack);
    if (!loadBalancer) throw new Error(`no load balancer of stack ${stack}`);
    return loadBalancer;
  }

  targetGroup(cluster: string, service: string): StandInTargetGroup {
    const group = this.world.targetGroups.find((g) => g.tags.cluster === cluster && g.tags.service === service);
    if (!group) throw new Error(`no target group for ${service} in ${cluster}`);
    return group;
  }

  rule(service: string): StandInRule {
    const rule = this.world.rules.find((r) => r.tags.service === service);
    if (!rule) throw new Error(`no rule for ${service}`);
    return rule;
  }

  /** Live weights of a service's rule by cluster. */
  weights(service: string): Record<string, number> {
    const clusterOf = (arn: string) => this.world.targetGroups.find((g) => g.arn === arn)!.tags.cluster;
    return Object.fromEntries(this.rule(service).forward.map((f) => [clusterOf(f.arn), f.weight]));
  }

  /** Names of the calls made, in order, e.g. `elbv2:ModifyRule`. */
  callNames(): string[] {
    return this.calls.map((c) => `${c.api}:${c.action}`);
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        response.writeHead(413).end();
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (response.writableEnded) return;
      const body = Buffer.concat(chunks).toString("utf8");
      const target = request.headers["x-amz-target"];
      const fault = this.takeFault(typeof target === "string" ? (target.split(".")[1] ?? "") : (new URLSearchParams(body).get("Action") ?? ""));
      if (fault?.hang) return;
      const answer = () => this.answer(request, response, body, fault);
      const answerInTime = () => (fault?.delayMs ? setTimeout(answer, fault.delayMs) : answer());
      if (fault?.until) void fault.until.then(answerInTime, answerInTime);
      else answerInTime();
    });
  }

  /** The fault for this call of `action`, counting it down. */
  private takeFault(action: string): StandInFault | undefined {
    const fault = this.faults.get(action);
    if (!fault) return undefined;
    if (fault.times !== undefined && --fault.times <= 0) this.faults.delete(action);
    fault.onCall?.();
    return fault;
  }

  private answer(request: http.IncomingMessage, response: http.ServerResponse, body: string, fault: StandInFault | undefined): void {
    if (response.destroyed) return;
    const target = request.headers["x-amz-target"];
    try {
      if (fault?.error) throw new ApiError(fault.error.code, `stand-in fault on this call`, fault.error.status);
      if (typeof target === "string" && target.startsWith("GraniteServiceVersion20100801.")) {
        if (request.headers["content-type"] !== "application/x-amz-json-1.0") throw new ApiError("UnsupportedMediaType", "expected AWS JSON 1.0");
        this.answerCloudWatch(target.split(".")[1], JSON.parse(body || "{}"), response);
      } else if (typeof target === "string" && target.startsWith("Logs_20140328.")) {
        if (request.headers["content-type"] !== "application/x-amz-json-1.1") throw new ApiError("UnsupportedMediaType", "expected AWS JSON 1.1");
        this.answerLogs(target.split(".")[1], JSON.parse(body || "{}"), response);
      } else if (new URLSearchParams(body).get("Version") === SNS_VERSION) {
        this.answerSns(new URLSearchParams(body), response);
      } else if (new URLSearchParams(body).get("Version") === STS_VERSION) {
        this.answerSts(new URLSearchParams(body).get("Action") ?? "", String(request.headers["user-agent"] ?? ""), response);
      } else {
        this.answerElb(new URLSearchParams(body), response);
      }
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError("InternalFailure", String(error), 500);
      if (typeof target === "string") {
        response.writeHead(apiError.status, { "content-type": request.headers["content-type"] ?? "application/x-amz-json-1.0" });
        response.end(JSON.stringify({ __type: apiError.code, message: apiError.message }));
      } else {
        response.writeHead(apiError.status, { "content-type": "text/xml" });
        response.end(
          `<ErrorResponse xmlns="${ELB_NAMESPACE}"><Error><Type>Sender</Type><Code>${apiError.code}</Code><Message>${escapeXml(apiError.message)}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`,
        );
      }
    }
  }

  private record(call: StandInCall): void {
    if (this.calls.length < MAX_CALLS_KEPT) this.calls.push(call);
  }

  private answerElb(form: URLSearchParams, response: http.ServerResponse): void {
    const action = form.get("Action") ?? "";
    const input = unflatten(form);
    this.record({ api: "elbv2", action, input });
    const result = this.elbResult(action, input);
    response.writeHead(200, { "content-type": "text/xml" });
    response.end(
      `<${action}Response xmlns="${ELB_NAMESPACE}"><${action}Result>${toXml(result)}</${action}Result>` +
        `<ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></${action}Response>`,
    );
  }

  private elbResult(action: string, input: Record<string, any>): Record<string, unknown> {
    const { world } = this;
    switch (action) {
      case "DescribeLoadBalancers": {
        const names: string[] = input.Names ?? [];
        const found = names.map((n) => world.loadBalancers.find((lb) => lb.deployed && lb.name === n));
        if (found.some((lb) => lb === undefined)) throw new ApiError("LoadBalancerNotFound", `One or more load balancers not found`);
        return { LoadBalancers: found.map((lb) => ({ LoadBalancerArn: lb!.arn, LoadBalancerName: lb!.name, Type: "application" })) };
      }
      case "DescribeListeners": {
        const loadBalancer = world.loadBalancers.find((lb) => lb.deployed && lb.arn === input.LoadBalancerArn);
        if (!loadBalancer) throw new ApiError("LoadBalancerNotFound", "load balancer not found");
        return { Listeners: [{ ListenerArn: loadBalancer.listenerArn, LoadBalancerArn: loadBalancer.arn, Port: 80, Protocol: "HTTP" }] };
      }
      case "DescribeRules": {
        if (input.RuleArns) {
          const asked: string[] = input.RuleArns;
          const found = world.rules.filter((r) => asked.includes(r.arn));
          if (found.length !== asked.length) throw new ApiError("RuleNotFound", "One or more rules not found");
          return { Rules: found.map((rule) => this.ruleXml(rule)) };
        }
        const listenerArn = String(input.ListenerArn);
        if (!world.loadBalancers.some((lb) => lb.deployed && lb.listenerArn === listenerArn)) throw new ApiError("ListenerNotFound", "listener not found");
        const rules = world.rules.filter((r) => r.listenerArn === listenerArn).map((rule) => this.ruleXml(rule));
        rules.push({ RuleArn: `${listenerArn.replace(":listener/", ":listener-rule/")}/default`, Priority: "default", IsDefault: true, Actions: [{ Type: "fixed-response" }] });
        const from = Number(input.Marker ?? 0);
        const to = from + (this.rulesPerPage || rules.length);
        return { Rules: rules.slice(from, to), NextMarker: to < rules.length ? String(to) : undefined };
      }
      case "DescribeTags": {
        const arns: string[] = input.ResourceArns ?? [];
        if (arns.length === 0 || arns.length > 20) throw new ApiError("ValidationError", "1 to 20 resource ARNs");
        const tagsOf = (arn: string) => world.rules.find((r) => r.arn === arn)?.tags ?? world.targetGroups.find((g) => g.arn === arn)?.tags ?? {};
        return { TagDescriptions: arns.map((arn) => ({ ResourceArn: arn, Tags: Object.entries(tagsOf(arn)).map(([Key, Value]) => ({ Key, Value })) })) };
      }
      case "DescribeTargetHealth": {
        const group = world.targetGroups.find((g) => g.arn === input.TargetGroupArn);
        if (!group) throw new ApiError("TargetGroupNotFound", `target group ${input.TargetGroupArn} not found`);
        return {
          TargetHealthDescriptions: group.targets.map((t) => ({
            Target: { Id: t.id, Port: t.port },
            HealthCheckPort: String(t.port),
            TargetHealth: { State: t.state, ...(t.state === "healthy" ? {} : { Reason: "Target.FailedHealthChecks" }) },
          })),
        };
      }
      case "AddTags": {
        const arns: string[] = input.ResourceArns ?? [];
        const tags: { Key: string; Value?: string }[] = input.Tags ?? [];
        for (const arn of arns) {
          const owner = world.rules.find((r) => r.arn === arn) ?? world.targetGroups.find((g) => g.arn === arn);
          if (!owner) throw new ApiError("RuleNotFound", `resource ${arn} not found`);
          if (tags.some((t) => !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(t.Value ?? ""))) throw new ApiError("ValidationError", "tag values take letters, digits, spaces and _.:/=+-@");
          for (const tag of tags) owner.tags[tag.Key] = tag.Value ?? "";
        }
        return {};
      }
      case "ModifyRule": {
        const rule = world.rules.find((r) => r.arn === input.RuleArn);
        if (!rule) throw new ApiError("RuleNotFound", `rule ${input.RuleArn} not found`);
        if (this.refusedRules.has(rule.arn)) throw new ApiError("AccessDenied", "not authorized to perform: elasticloadbalancing:ModifyRule", 403);
        const forward = (input.Actions ?? []).find((a: any) => a.Type === "forward");
        const groups: any[] = forward?.ForwardConfig?.TargetGroups ?? [];
        if (groups.length === 0 || groups.length > 5) throw new ApiError("ValidationError", "a forward action takes 1 to 5 target groups");
        const next = groups.map((g) => ({ arn: String(g.TargetGroupArn), weight: Number(g.Weight ?? 1) }));
        if (next.some((g) => !world.targetGroups.some((t) => t.arn === g.arn))) throw new ApiError("TargetGroupNotFound", "target group not found");
        if (next.some((g) => !Number.isInteger(g.weight) || g.weight < 0 || g.weight > 999)) throw new ApiError("ValidationError", "weights are 0-999");
        rule.forward = next;
        return { Rules: [this.ruleXml(rule)] };
      }
      default:
        throw new ApiError("InvalidAction", `the stand-in does not implement ${action}`);
    }
  }

  private ruleXml(rule: StandInRule): Record<string, unknown> {
    return {
      RuleArn: rule.arn,
      Priority: rule.priority,
      IsDefault: false,
      Conditions: [{ Field: "path-pattern", Values: ["/*"] }],
      Actions: [
        {
          Type: "forward",
          Order: 1,
          ForwardConfig: {
            TargetGroups: rule.forward.map((f) => ({ TargetGroupArn: f.arn, Weight: f.weight })),
            TargetGroupStickinessConfig: { Enabled: false },
          },
        },
      ],
    };
  }

  private answerSns(form: URLSearchParams, response: http.ServerResponse): void {
    const action = form.get("Action") ?? "";
    const input = unflatten(form);
    this.record({ api: "sns", action, input });
    if (action !== "Publish") throw new ApiError("InvalidAction", `the stand-in does not implement ${action}`);
    if (!input.TopicArn || !input.Message) throw new ApiError("InvalidParameter", "Publish needs TopicArn and Message");
    response.writeHead(200, { "content-type": "text/xml" });
    response.end(
      `<PublishResponse xmlns="${SNS_NAMESPACE}"><PublishResult><MessageId>stand-in-${this.calls.length}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }

  private answerSts(action: string, userAgent: string, response: http.ServerResponse): void {
    this.record({ api: "sts", action, input: {} });
    // Only the fleet's commands learn who they are: any other client (Terraform's AWS provider) stops at its first call.
    if (!userAgent.startsWith("aws-sdk-js/")) throw new ApiError("InvalidClientTokenId", "The security token included in the request is invalid.", 403);
    if (action !== "GetCallerIdentity") throw new ApiError("InvalidAction", `the stand-in does not implement ${action}`);
    const { arn, account } = this.world.caller;
    const result = { Arn: arn, UserId: `AROASTANDIN:${arn.split("/").pop()}`, Account: account };
    response.writeHead(200, { "content-type": "text/xml" });
    response.end(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/${STS_VERSION}/"><GetCallerIdentityResult>${toXml(result)}</GetCallerIdentityResult>` +
        `<ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  }

  private answerLogs(action: string, input: Record<string, any>, response: http.ServerResponse): void {
    this.record({ api: "logs", action, input });
    const { logGroups } = this.world;
    let result: Record<string, unknown>;
    switch (action) {
      case "DescribeLogGroups": {
        const prefix = String(input.logGroupNamePrefix ?? "");
        result = { logGroups: [...logGroups].filter((name) => name.startsWith(prefix)).map((logGroupName) => ({ logGroupName })) };
        break;
      }
      case "DeleteLogGroup":
        if (!logGroups.delete(String(input.logGroupName))) throw new ApiError("ResourceNotFoundException", "The specified log group does not exist.");
        result = {};
        break;
      default:
        throw new ApiError("InvalidAction", `the stand-in does not implement ${action}`);
    }
    response.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
    response.end(JSON.stringify(result));
  }

  private answerCloudWatch(action: string, input: Record<string, any>, response: http.ServerResponse): void {
    this.record({ api: "cloudwatch", action, input });
    if (action !== "GetMetricData") throw new ApiError("InvalidAction", `the stand-in does not implement ${action}`);
    const start = Number(input.StartTime);
    const end = Number(input.EndTime);
    if (!(end > start)) throw new ApiError("InvalidParameterCombination", "EndTime must be after StartTime");
    const results = (input.MetricDataQueries ?? []).map((query: any) => {
      const metric = query.MetricStat.Metric;
      const dimension = (name: string) => metric.Dimensions.find((d: any) => d.Name === name)?.Value as string | undefined;
      const arrived = Date.now() / 1000 - this.metricDelaySeconds;
      const points = this.metricPoints(metric.MetricName, query.MetricStat.Stat, dimension("LoadBalancer"), dimension("TargetGroup"), start, end).filter(
        (point) => this.metricDelaySeconds === 0 || point.time + 60 <= arrived,
      );
      return { Id: query.Id, Label: metric.MetricName, StatusCode: "Complete", Timestamps: points.map((p) => p.time), Values: points.map((p) => p.value) };
    });
    const page = this.metricPage(results, Number(input.NextToken ?? 0));
    response.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
    response.end(JSON.stringify({ ...page, Messages: [] }));
  }

  /** The datapoints from the `skip`-th on, at most {@link metricDatapointsPerPage}, with the token of the next page when more remain. */
  private metricPage(results: { Id: string; Timestamps: number[]; Values: number[] }[], skip: number): { MetricDataResults: unknown[]; NextToken?: string } {
    const limit = this.metricDatapointsPerPage || Infinity;
    let offset = 0;
    const page = results.map((result) => {
      const from = Math.min(Math.max(skip - offset, 0), result.Timestamps.length);
      const to = Math.min(Math.max(skip + limit - offset, 0), result.Timestamps.length);
      offset += result.Timestamps.length;
      return { ...result, StatusCode: to < result.Timestamps.length ? "PartialData" : "Complete", Timestamps: result.Timestamps.slice(from, to), Values: result.Values.slice(from, to) };
    });
    return { MetricDataResults: page, NextToken: skip + limit < offset ? String(skip + limit) : undefined };
  }

  /** A target group's datapoints of a metric between `start` and `end` (epoch seconds): those recorded for it, or its share of the rule's requests. */
  private metricPoints(name: string, stat: string, loadBalancer: string | undefined, targetGroup: string | undefined, start: number, end: number): { time: number; value: number }[] {
    if (METRIC_STATS[name as keyof StandInMinute] !== stat) throw new ApiError("InvalidParameterValue", `the stand-in has no ${stat} of ${name}`);
    const group = this.world.targetGroups.find((g) => `targetgroup/${g.arn.split(":targetgroup/")[1]}` === targetGroup);
    // CloudWatch has no datapoints for a target group under another ALB's dimension.
    if (!group || loadBalancer !== group.loadBalancerArn.split(":loadbalancer/")[1]) return [];
    if (group.minutes) {
      return [...group.minutes]
        .filter(([minute]) => minute >= start * 1000 && minute < end * 1000)
        .sort(([a], [b]) => a - b)
        .flatMap(([minute, values]) => {
          const value = values[name as keyof StandInMinute];
          return value === undefined ? [] : [{ time: minute / 1000, value }];
        });
    }
    const value = this.metricValue(name, group, end - start);
    return value === undefined ? [] : spreadOverMinutes(value, stat === "Sum", start, end);
  }

  /** A group's metric over a window, from the rules' current weights; undefined where no datapoint exists (nothing served). */
  private metricValue(name: string, group: StandInTargetGroup, seconds: number): number | undefined {
    const requests = group.servedRequests ?? this.shareOfRequests(group, seconds);
    if (requests === 0) return undefined;
    if (name === "RequestCount") return requests;
    if (name === "HTTPCode_Target_5XX_Count") return Math.round(requests * group.errorRate);
    return group.responseTimeSeconds;
  }

  /** The requests a group gets over `seconds` from its rule's current weights. */
  private shareOfRequests(group: StandInTargetGroup, seconds: number): number {
    const rule = this.world.rules.find((r) => r.forward.some((f) => f.arn === group.arn))!;
    const total = rule.forward.reduce((sum, f) => sum + f.weight, 0);
    const weight = rule.forward.find((f) => f.arn === group.arn)!.weight;
    return total === 0 ? 0 : Math.round((rule.requestsPerSecond * seconds * weight) / total);
  }
}

/**
 * A window's value as one datapoint a minute, as CloudWatch answers a
 * 60-second period: a sum split so that the minutes add up to it exactly, an
 * average the same every minute. Times in epoch seconds.
 */
function spreadOverMinutes(value: number, isSum: boolean, start: number, end: number): { time: number; value: number }[] {
  const minutes = Math.max(1, Math.round((end - start) / 60));
  const cumulative = (i: number) => Math.round((value * i) / minutes);
  return Array.from({ length: minutes }, (_, i) => ({ time: start + i * 60, value: isSum ? cumulative(i + 1) - cumulative(i) : value }));
}

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Query-protocol XML: arrays as `<member>` lists. */
function toXml(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join("");
  if (typeof value === "object" && value !== null) {
    return Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => `<${key}>${toXml(item)}</${key}>`)
      .join("");
  }
  return escapeXml(String(value));
}

/** `Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight=5` → nested objects and arrays. */
function unflatten(form: URLSearchParams): Record<string, any> {
  const root: Record<string, any> = {};
  for (const [key, value] of form) {
    if (key === "Action" || key === "Version") continue;
    const parts = key.split(".");
    let node: any = root;
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      if (parts[i + 1] === "member") {
        node[parts[i]] ??= [];
        const index = Number(parts[i + 2]) - 1;
        if (i + 2 === parts.length - 1) {
          node[parts[i]][index] = value;
          break;
        }
        node = node[parts[i]][index] ??= {};
        i += 2;
      } else if (last) {
        node[parts[i]] = value;
      } else {
        node = node[parts[i]] ??= {};
      }
    }
  }
  return root;
}
