import { ConfigSources, FleetConfig, parseFleetConfig } from "../modules/config/load";
import { cloudWatchClient, elbClient, stsClient } from "../modules/traffic/aws-clients";
import { checkCaller } from "../modules/traffic/caller-check";
import { checkEdgeDeploy } from "../modules/traffic/edge-deploy-gate";
import { runPreflight } from "../modules/traffic/preflight";
import { checkStandbyDeploy, StandbyGateOptions } from "../modules/traffic/standby-gate";
import { AwsStandIn, sessionOf, worldOf } from "../scripts/lib/aws-stand-in";
import { exampleSources, twoAlbSources, withClusterFile } from "./helpers/fleet";

/**
 * The live checks before a deploy (npm run preflight, and npm run deploy
 * before cdktf), called in process: the real AWS SDK clients reach a local
 * ELBv2, CloudWatch and STS stand-in over HTTP through AWS_ENDPOINT_URL.
 */

const DEPLOYER_SESSION = "arn:aws:sts::111122223333:assumed-role/demo-deploy/stand-in (role arn:aws:iam::111122223333:role/demo-deploy)";
const REVERT_ADVICE = "merge the failover's change (the files shift --now wrote) first, or make the files carry the live weights or their shares";

const saved = { ...process.env };
let standIn: AwsStandIn | undefined;

/** A stand-in serving `deployed` as deployed; the commands' clients reach it through the environment. */
async function startStandIn(deployed: FleetConfig): Promise<void> {
  standIn = new AwsStandIn(worldOf(deployed));
  await standIn.start();
  Object.assign(process.env, standIn.environment());
}

afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
  process.env = { ...saved };
});

/** The sources with `from` replaced by `to` in one file (`platform.yaml`, `clusters/<name>.yaml`). */
function edited(sources: ConfigSources, file: string, from: string, to: string): ConfigSources {
  const text = file === sources.platform.file ? sources.platform.text : sources.clusters.find((c) => c.file === file)!.text;
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`${file} has no ${JSON.stringify(from)}`);
  return file === sources.platform.file ? { ...sources, platform: { ...sources.platform, text: changed } } : withClusterFile(sources, file, changed);
}

/** The example with its blue cluster going to standby, its web weight 0. */
function blueOnStandby(sources: ConfigSources = exampleSources()): ConfigSources {
  return edited(edited(sources, "clusters/blue.yaml", "name: blue\n", "name: blue\nstate: standby\n"), "clusters/blue.yaml", "web: 50", "web: 0");
}

/** The example with a cluster purple added, at these weights. */
function withPurple(sources: ConfigSources, weights: string): ConfigSources {
  const green = sources.clusters.find((c) => c.file === "clusters/green.yaml")!.text;
  return withClusterFile(sources, "clusters/purple.yaml", green.replace("name: green", "name: purple").replace(/weights:\n(  .*\n)+/, `weights:\n${weights}`));
}

/** The refusals a check threw: a GateRefusal, which the commands print before exiting 1 with nothing changed. */
async function refusalsOf(check: Promise<unknown>): Promise<readonly string[]> {
  const error = await check.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toMatchObject({ name: "GateRefusal" });
  return (error as { refusals: readonly string[] }).refusals;
}

/** The caller check's refusal of an in-cluster stack. */
function refusal(cluster: string, caller: string): string {
  return (
    `cluster-${cluster}-k8s: the caller ${caller} has no access entry in ${cluster}: only platform.yaml clusterAccess.deployerPrincipalArn (arn:aws:iam::111122223333:role/demo-deploy) ` +
    `and clusters/${cluster}.yaml adminPrincipalArns reach its Kubernetes API, so the deploy would create the AWS resources and then fail Unauthorized at cluster-${cluster}-k8s: ` +
    "deploy as the deployer, or add the principal to adminPrincipalArns"
  );
}

const callNames = () => standIn!.callNames();
/** Sets a service's live weights by cluster (as shift --now does), and its deployed-weights tag when given (as a deploy does). */
const liveWeights = (service: string, weights: Record<string, number>, deployedTag?: string) => {
  const rule = standIn!.rule(service);
  for (const target of rule.forward) target.weight = weights[standIn!.world.targetGroups.find((g) => g.arn === target.arn)!.tags.cluster];
  if (deployedTag !== undefined) rule.tags["deployed-weights"] = deployedTag;
};
/** The name of a cluster's target group of a service, as the stand-in serves it. */
const groupName = (cluster: string, service: string, aws = standIn!) => aws.targetGroup(cluster, service).arn.split(":targetgroup/")[1].split("/")[0];

describe("the edge deploy gate", () => {
  it("refuses to revert a live failover (a shift --now not yet in the files), and passes once the files carry it", async () => {
    const fleet = parseFleetConfig(exampleSources());
    await startStandIn(fleet);
    liveWeights("web", { blue: 0, green: 100 });
    const elb = await elbClient(fleet);
    expect(await refusalsOf(checkEdgeDeploy(elb, fleet, undefined))).toEqual([
      `web: a live failover (live blue=0 green=100, last deployed blue=50 green=50) would be reverted to the files' blue=50 green=50: ${REVERT_ADVICE}`,
    ]);
    await expect(checkEdgeDeploy(elb, fleet, undefined)).rejects.toThrow(
      `refused, nothing was changed:\n  web: a live failover (live blue=0 green=100, last deployed blue=50 green=50) would be reverted to the files' blue=50 green=50: ${REVERT_ADVICE}\noverride only knowingly: --force "<reason>"`,
    );

    const merged = parseFleetConfig(edited(edited(exampleSources(), "clusters/blue.yaml", "web: 50", "web: 0"), "clusters/green.yaml", "web: 50", "web: 100"));
    expect(await checkEdgeDeploy(elb, merged, undefined)).toEqual(["edge: web: live blue=0 green=100 → files blue=0 green=100"]);
    // Read-only: the gate never writes.
    expect(callNames().filter((name) => !/^elbv2:Describe/.test(name))).toEqual([]);
  });

  it("lets files through that give each cluster a live failover's share, in other weights, and refuses other shares", async () => {
    await startStandIn(parseFleetConfig(exampleSources()));
    liveWeights("web", { blue: 0, green: 100 });
    const weight = (sources: ConfigSources, cluster: string, web: number) => (web === 50 ? sources : edited(sources, `clusters/${cluster}.yaml`, "web: 50", `web: ${web}`));
    const files = (blue: number, green: number) => parseFleetConfig(weight(weight(exampleSources(), "blue", blue), "green", green));
    const elb = await elbClient(files(0, 50));
    expect(await checkEdgeDeploy(elb, files(0, 50), undefined)).toEqual(["edge: web: live blue=0 green=100 → files blue=0 green=50"]);
    expect(await refusalsOf(checkEdgeDeploy(elb, files(1, 99), undefined))).toEqual([
      `web: a live failover (live blue=0 green=100, last deployed blue=50 green=50) would be reverted to the files' blue=1 green=99: ${REVERT_ADVICE}`,
    ]);
    liveWeights("web", { blue: 20, green: 60 });
    expect(await checkEdgeDeploy(elb, files(25, 75), undefined)).toEqual(["edge: web: live blue=20 green=60 → files blue=25 green=75"]);
    expect(await refusalsOf(checkEdgeDeploy(elb, files(26, 74), undefined))).toEqual([
      `web: a live failover (live blue=20 green=60, last deployed blue=50 green=50) would be reverted to the files' blue=26 green=74: ${REVERT_ADVICE}`,
    ]);
  });

  it("lets the files change the weights Terraform deployed when no failover is live", async () => {
    await startStandIn(parseFleetConfig(exampleSources()));
    const files = parseFleetConfig(edited(edited(exampleSources(), "clusters/blue.yaml", "web: 50", "web: 20"), "clusters/green.yaml", "web: 50", "web: 80"));
    expect(await checkEdgeDeploy(await elbClient(files), files, undefined)).toEqual(["edge: web: live blue=50 green=50 → files blue=20 green=80"]);
  });

  it("refuses live weights that differ from the files on a rule without a deployed-weights tag, which cannot tell a failover from drift", async () => {
    const fleet = parseFleetConfig(exampleSources());
    await startStandIn(fleet);
    delete standIn!.rule("web").tags["deployed-weights"];
    const elb = await elbClient(fleet);
    // Where live and files agree, there is nothing to tell apart.
    expect(await checkEdgeDeploy(elb, fleet, undefined)).toEqual(["edge: web: live blue=50 green=50 → files blue=50 green=50"]);
    liveWeights("web", { blue: 30, green: 70 });
    expect(await refusalsOf(checkEdgeDeploy(elb, fleet, undefined))).toEqual([
      "web: live weights blue=30 green=70 differ from the files' blue=50 green=50 and the rule has no deployed-weights tag to tell a live failover from drift",
    ]);
  });

  it("does not take a cluster the deploy adds (its target group not live yet) for a revert or a replaced group", async () => {
    await startStandIn(parseFleetConfig(exampleSources()));
    liveWeights("web", { blue: 0, green: 100 });
    const failoverMerged = edited(edited(exampleSources(), "clusters/blue.yaml", "web: 50", "web: 0"), "clusters/green.yaml", "web: 50", "web: 100");
    const purpleAtZero = parseFleetConfig(withPurple(failoverMerged, "  web: 0\n"));
    const elb = await elbClient(purpleAtZero);
    expect(await checkEdgeDeploy(elb, purpleAtZero, undefined)).toEqual(["edge: web: live blue=0 green=100 → files blue=0 green=100 purple=0"]);
    // With weight (which the lifecycle rules refuse in a plan), the new group is still neither: the health gate judges live groups only.
    const purpleWeighted = parseFleetConfig(withPurple(failoverMerged, "  web: 10\n"));
    expect(await checkEdgeDeploy(elb, purpleWeighted, undefined)).toEqual(["edge: web: live blue=0 green=100 → files blue=0 green=100 purple=10"]);
  });

  it("refuses weight for a cluster with fewer healthy targets than minHealthyTargets, by its share of the traffic", async () => {
    await startStandIn(parseFleetConfig(exampleSources()));
    standIn!.targetGroup("blue", "web").targets.forEach((t) => (t.state = "unhealthy"));
    const files = parseFleetConfig(edited(exampleSources(), "clusters/blue.yaml", "web: 50", "web: 80"));
    const elb = await elbClient(files);
    expect(await refusalsOf(checkEdgeDeploy(elb, files, undefined))).toEqual([
      "web: cluster blue would get weight 80 (now 50), 62% of the traffic (now 50%), with 0 healthy, 2 unhealthy targets; minHealthyTargets is 1",
    ]);
    // Health is read for the live groups of the ALB's services.
    expect(callNames().filter((name) => name === "elbv2:DescribeTargetHealth")).toHaveLength(2);
    // Taking weight away from the unhealthy cluster passes.
    const away = parseFleetConfig(edited(exampleSources(), "clusters/blue.yaml", "web: 50", "web: 10"));
    expect(await checkEdgeDeploy(elb, away, undefined)).toEqual(["edge: web: live blue=50 green=50 → files blue=10 green=50"]);
  });

  it("refuses a replaced target group (a containerPort change) for every cluster where it still has weight", async () => {
    const deployed = parseFleetConfig(exampleSources());
    await startStandIn(deployed);
    const portChanged = edited(exampleSources(), "platform.yaml", "containerPort: 8080", "containerPort: 9090");
    const replacement = new AwsStandIn(worldOf(parseFleetConfig(portChanged)));
    const replaced = (cluster: string, weight: number) =>
      `web: cluster ${cluster}'s target group is replaced (${groupName(cluster, "web")} → ${groupName(cluster, "web", replacement)}) while it has weight ${weight}: ` +
      `the new group has no targets until cluster-${cluster}-k8s binds them, so its share would get 503s; ` +
      "shift its weight to 0 first, or add the service under a new name (docs/runbooks.md, \"Change a service's container port\")";
    expect(groupName("blue", "web")).not.toBe(groupName("blue", "web", replacement));
    const files = parseFleetConfig(portChanged);
    const elb = await elbClient(files);
    expect(await refusalsOf(checkEdgeDeploy(elb, files, undefined))).toEqual([replaced("blue", 50), replaced("green", 50)]);

    // Blue drained and deployed so: only green's group still carries weight.
    liveWeights("web", { blue: 0, green: 50 }, "blue=0 green=50");
    const blueDrained = parseFleetConfig(edited(portChanged, "clusters/blue.yaml", "web: 50", "web: 0"));
    expect(await refusalsOf(checkEdgeDeploy(elb, blueDrained, undefined))).toEqual([replaced("green", 50)]);
  });

  it("says which services get their rule from this deploy", async () => {
    await startStandIn(parseFleetConfig(exampleSources()));
    const api = ["  - name: api", "    namespace: api", "    servicePort: 80", "    containerPort: 9090", '    paths: ["/api/*"]', "    priority: 200", "    healthCheck:", "      path: /healthz", ""].join("\n");
    const example = exampleSources();
    let sources: ConfigSources = { ...example, platform: { ...example.platform, text: `${example.platform.text}${api}` } };
    for (const cluster of ["blue", "green"]) sources = edited(sources, `clusters/${cluster}.yaml`, "  web: 50\n", "  web: 50\n  api: 0\n");
    sources = edited(sources, "clusters/green.yaml", "  api: 0\n", "  api: 100\n");
    const withApi = parseFleetConfig(sources);
    expect(await checkEdgeDeploy(await elbClient(withApi), withApi, undefined)).toEqual([
      "edge: web: live blue=50 green=50 → files blue=50 green=50",
      "edge: api: no live rule yet (created by this deploy)",
    ]);
  });

  it("passes a refusal with --force's reason, echoing it with what it passed", async () => {
    const fleet = parseFleetConfig(exampleSources());
    await startStandIn(fleet);
    liveWeights("web", { blue: 0, green: 100 });
    expect(await checkEdgeDeploy(await elbClient(fleet), fleet, undefined, { forceReason: "failover over, blue is back" })).toEqual([
      "edge: web: live blue=0 green=100 → files blue=50 green=50",
      "FORCED past 1 refusal, reason: failover over, blue is back",
      `  forced: web: a live failover (live blue=0 green=100, last deployed blue=50 green=50) would be reverted to the files' blue=50 green=50: ${REVERT_ADVICE}`,
    ]);
  });

  it("has nothing live to protect before its ALB is deployed", async () => {
    const fleet = parseFleetConfig(exampleSources());
    await startStandIn(fleet);
    standIn!.loadBalancer("edge").deployed = false;
    expect(await checkEdgeDeploy(await elbClient(fleet), fleet, undefined)).toEqual(["edge: no load balancer deployed yet, nothing live to protect"]);
  });
});

describe("the edge deploy gate with several ALBs", () => {
  it("checks only its own ALB's services: the internal ALB's stack is not held up by a failover on the other", async () => {
    const fleet = parseFleetConfig(twoAlbSources());
    await startStandIn(fleet);
    liveWeights("web", { blue: 0, green: 50 });
    const elb = await elbClient(fleet);
    expect(await checkEdgeDeploy(elb, fleet, "internal")).toEqual(["edge-internal: api: live blue=50 green=50 → files blue=50 green=50"]);
    const asked = (action: string) => standIn!.calls.filter((c) => c.action === action).map((c) => c.input);
    expect(asked("DescribeLoadBalancers")).toEqual([{ Names: ["demo-internal-alb"] }]);
    expect(asked("DescribeTargetHealth").map((input) => input.TargetGroupArn)).toEqual([standIn!.targetGroup("blue", "api").arn, standIn!.targetGroup("green", "api").arn]);

    expect(await refusalsOf(checkEdgeDeploy(elb, fleet, undefined))).toEqual([
      `web: a live failover (live blue=0 green=50, last deployed blue=50 green=50) would be reverted to the files' blue=50 green=50: ${REVERT_ADVICE}`,
    ]);
  });

  it("names the ALB not deployed yet, and one that routes no service, with nothing live to protect", async () => {
    const sources = edited(twoAlbSources(), "platform.yaml", "albs:\n", "albs:\n  spare:\n    internal: true\n    httpOnly: true\n    deletionProtection: false\n");
    const fleet = parseFleetConfig(sources);
    await startStandIn(fleet);
    standIn!.loadBalancer("edge-internal").deployed = false;
    const elb = await elbClient(fleet);
    expect(await checkEdgeDeploy(elb, fleet, "internal")).toEqual(["edge-internal: no load balancer deployed yet (demo-internal-alb), nothing live to protect"]);
    standIn!.calls.length = 0;
    expect(await checkEdgeDeploy(elb, fleet, "spare")).toEqual(["edge-spare: demo-spare-alb routes no service, nothing live to protect"]);
    expect(callNames()).toEqual([]);
  });
});

describe("the standby gate", () => {
  const NOW = new Date("2026-12-01T12:00:30Z");
  /** The standby gate of blue, with the commands' clients, at NOW over 10 idle minutes unless told. */
  const checkBlue = async (fleet: FleetConfig, options: StandbyGateOptions = {}) =>
    checkStandbyDeploy(await elbClient(fleet), await cloudWatchClient(fleet), fleet, "blue", { idleMinutes: 10, now: NOW, ...options });
  const stillWeighted = (service: string) => `${service}: blue still has live weight 50: shift its traffic away first`;
  const served = (service: string, requests: number, minutes = 10) =>
    `${service}: blue's target group ${groupName("blue", service)} served ${requests} requests in the last ${minutes} min: wait until npm run status shows it idle`;

  it("refuses standby while the cluster has live weight and served requests in the last idle minutes", async () => {
    await startStandIn(parseFleetConfig(exampleSources()));
    // 50 requests a second, half of them to blue, in the 11 minutes of datapoints that hold the last 10 (NOW is 12:00:30).
    expect(await refusalsOf(checkBlue(parseFleetConfig(blueOnStandby())))).toEqual([stillWeighted("web"), served("web", 16500)]);
  });

  it("refuses a drained cluster that still served requests within the window, and passes once it served none", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(fleet);
    standIn!.targetGroup("blue", "web").servedRequests = 1;
    expect(await refusalsOf(checkBlue(fleet))).toEqual([served("web", 1)]);
    delete standIn!.targetGroup("blue", "web").servedRequests;
    expect(await checkBlue(fleet)).toEqual(["cluster-blue: standby after 10 idle minutes"]);
  });

  it("counts the requests of every minute holding part of the idle minutes up to now, the minute in progress the last, and none from before", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(fleet);
    const minute = (time: string) => Date.parse(`2026-12-01T${time}:00Z`);
    const blue = standIn!.targetGroup("blue", "web");
    // NOW is 12:00:30: the last 10 minutes are 11:50:30 to 12:00:30, held by the minutes 11:50 to 12:00, the minute in progress.
    blue.minutes = new Map([[minute("11:49"), { RequestCount: 40 }]]);
    expect(await checkBlue(fleet)).toEqual(["cluster-blue: standby after 10 idle minutes"]);
    blue.minutes = new Map([[minute("11:50"), { RequestCount: 4 }]]);
    expect(await refusalsOf(checkBlue(fleet))).toEqual([served("web", 4)]);
    blue.minutes = new Map([[minute("12:00"), { RequestCount: 2 }]]);
    expect(await refusalsOf(checkBlue(fleet))).toEqual([served("web", 2)]);
    // On the minute, the minute before is the first: 11:50:00 to 12:00:00 is held by 11:50 to 11:59.
    blue.minutes = new Map([[minute("11:49"), { RequestCount: 40 }], [minute("11:50"), { RequestCount: 4 }]]);
    expect(await refusalsOf(checkBlue(fleet, { now: new Date("2026-12-01T12:00:00Z") }))).toEqual([served("web", 4)]);
    blue.minutes = new Map([40, 4, 2].map((requests, i) => [minute(["11:49", "11:50", "12:00"][i]), { RequestCount: requests }]));
    expect(await refusalsOf(checkBlue(fleet, { idleMinutes: 11 }))).toEqual([served("web", 46, 11)]);
  });

  it("reads the minutes holding the idle minutes up to now, the minute in progress the last, 30 unless told, for the cluster's groups only", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(fleet);
    const windows = () => standIn!.calls.filter((c) => c.api === "cloudwatch").map((c) => [c.input.StartTime, c.input.EndTime].map((t) => new Date(Number(t) * 1000).toISOString()));
    expect(await checkBlue(fleet)).toEqual(["cluster-blue: standby after 10 idle minutes"]);
    expect(await checkBlue(fleet, { idleMinutes: 1, now: new Date("2026-12-01T12:00:00Z") })).toEqual(["cluster-blue: standby after 1 idle minutes"]);
    expect(await checkBlue(fleet, { idleMinutes: undefined })).toEqual(["cluster-blue: standby after 30 idle minutes"]);
    expect(windows()).toEqual([
      ["2026-12-01T11:50:00.000Z", "2026-12-01T12:01:00.000Z"],
      ["2026-12-01T11:59:00.000Z", "2026-12-01T12:00:00.000Z"],
      ["2026-12-01T11:30:00.000Z", "2026-12-01T12:01:00.000Z"],
    ]);
    type Query = { MetricStat: { Metric: { Dimensions: { Name: string; Value: string }[] } } };
    const queried = standIn!.calls.filter((c) => c.api === "cloudwatch").flatMap((c) => (c.input.MetricDataQueries as Query[]).map((q) => q.MetricStat.Metric.Dimensions.map((d) => d.Value).join(" ")));
    const blueWeb = standIn!.targetGroup("blue", "web");
    expect(new Set(queried)).toEqual(new Set([`${blueWeb.loadBalancerArn.split(":loadbalancer/")[1]} targetgroup/${blueWeb.arn.split(":targetgroup/")[1]}`]));
  });

  it("reads the window up to the current time when not told", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(fleet);
    const before = Date.now();
    await checkBlue(fleet, { now: undefined });
    const end = Number(standIn!.calls.find((c) => c.api === "cloudwatch")!.input.EndTime) * 1000;
    expect(end).toBeGreaterThanOrEqual(before);
    expect(end).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it("checks nothing for a cluster not going to standby, and passes when no ALB is deployed", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(fleet);
    const [elb, cloudWatch] = [await elbClient(fleet), await cloudWatchClient(fleet)];
    expect(await checkStandbyDeploy(elb, cloudWatch, fleet, "green")).toEqual(["cluster-green: not going to standby, nothing to check"]);
    expect(await checkStandbyDeploy(elb, cloudWatch, fleet, "purple")).toEqual(["cluster-purple: not going to standby, nothing to check"]);
    expect(callNames()).toEqual([]);
    standIn!.loadBalancer("edge").deployed = false;
    expect(await checkBlue(fleet)).toEqual(["cluster-blue: no load balancer deployed, nothing is served"]);
  });

  it("reads the weights and requests on every ALB, naming each service still sending the cluster traffic", async () => {
    await startStandIn(parseFleetConfig(twoAlbSources()));
    liveWeights("web", { blue: 0, green: 50 });
    const fleet = parseFleetConfig(edited(blueOnStandby(twoAlbSources()), "clusters/blue.yaml", "api: 50", "api: 0"));
    expect(await refusalsOf(checkBlue(fleet))).toEqual([stillWeighted("api"), served("api", 16500)]);
  });

  it("passes with --force's reason, echoing it with the refusals it passed", async () => {
    await startStandIn(parseFleetConfig(exampleSources()));
    standIn!.targetGroup("blue", "web").servedRequests = 7;
    liveWeights("web", { blue: 0, green: 50 });
    expect(await checkBlue(parseFleetConfig(blueOnStandby()), { forceReason: "blue's traffic is synthetic" })).toEqual([
      "cluster-blue: standby after 10 idle minutes",
      "FORCED past 1 refusal, reason: blue's traffic is synthetic",
      `  forced: ${served("web", 7)}`,
    ]);
  });
});

describe("the caller check", () => {
  const OPS = "arn:aws:iam::111122223333:role/platform/ops";
  const withOpsAdminOfBlue = () => parseFleetConfig(edited(exampleSources(), "clusters/blue.yaml", "adminPrincipalArns: []", `adminPrincipalArns: [${OPS}]`));

  it("passes the deployer's session for every cluster whose in-cluster stack is deployed", async () => {
    const fleet = parseFleetConfig(exampleSources());
    await startStandIn(fleet);
    expect(await checkCaller(() => stsClient(fleet), fleet, ["cluster-blue", "cluster-blue-k8s", "cluster-green-k8s"])).toEqual([
      `caller: ${DEPLOYER_SESSION} has access to the Kubernetes API of blue, green`,
    ]);
    expect(callNames()).toEqual(["sts:GetCallerIdentity"]);
  });

  it("refuses anyone else for each cluster, naming who may deploy", async () => {
    const fleet = parseFleetConfig(exampleSources());
    await startStandIn(fleet);
    standIn!.world.caller = sessionOf("arn:aws:iam::111122223333:role/someone-else");
    const caller = "arn:aws:sts::111122223333:assumed-role/someone-else/stand-in (role arn:aws:iam::111122223333:role/someone-else)";
    expect(await refusalsOf(checkCaller(() => stsClient(fleet), fleet, ["cluster-blue-k8s", "cluster-green-k8s"]))).toEqual([refusal("blue", caller), refusal("green", caller)]);
    // A user is named as it is: it has no role.
    standIn!.world.caller = sessionOf("arn:aws:iam::111122223333:user/alice");
    expect(await refusalsOf(checkCaller(() => stsClient(fleet), fleet, ["cluster-green-k8s"]))).toEqual([refusal("green", "arn:aws:iam::111122223333:user/alice")]);
    // The deployer of another account is not the deployer.
    standIn!.world.caller = sessionOf("arn:aws:iam::444455556666:role/demo-deploy");
    expect(await refusalsOf(checkCaller(() => stsClient(fleet), fleet, ["cluster-green-k8s"]))).toHaveLength(1);
  });

  it("passes a cluster's admin for that cluster only; --force passes the others, echoing the reason", async () => {
    const fleet = withOpsAdminOfBlue();
    await startStandIn(fleet);
    standIn!.world.caller = sessionOf(OPS, "alice");
    const caller = "arn:aws:sts::111122223333:assumed-role/ops/alice (role arn:aws:iam::111122223333:role/ops)";
    expect(await checkCaller(() => stsClient(fleet), fleet, ["cluster-blue-k8s"])).toEqual([`caller: ${caller} has access to the Kubernetes API of blue`]);
    expect(await refusalsOf(checkCaller(() => stsClient(fleet), fleet, ["cluster-blue-k8s", "cluster-green-k8s"]))).toEqual([refusal("green", caller)]);
    expect(await checkCaller(() => stsClient(fleet), fleet, ["cluster-blue-k8s", "cluster-green-k8s"], { forceReason: "green's access entry is being added" })).toEqual([
      `caller: ${caller} has access to the Kubernetes API of blue`,
      "FORCED past 1 refusal, reason: green's access entry is being added",
      `  forced: ${refusal("green", caller)}`,
    ]);
    expect(await checkCaller(() => stsClient(fleet), fleet, ["cluster-green-k8s"], { forceReason: "first deploy" })).toEqual([
      "FORCED past 1 refusal, reason: first deploy",
      `  forced: ${refusal("green", caller)}`,
    ]);
  });

  it("asks STS nothing when no in-cluster stack is deployed", async () => {
    const fleet = parseFleetConfig(exampleSources());
    const sts = jest.fn(() => stsClient(fleet));
    expect(await checkCaller(sts, fleet, ["cluster-blue", "edge"])).toEqual([]);
    expect(sts).not.toHaveBeenCalled();
  });
});

describe("runPreflight", () => {
  it("checks the caller first, then each edge stack deployed, then each cluster going to standby", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(fleet);
    expect(await runPreflight(fleet, ["cluster-blue", "cluster-blue-k8s", "edge"], { idleMinutes: 10 })).toEqual([
      `caller: ${DEPLOYER_SESSION} has access to the Kubernetes API of blue`,
      "edge: web: live blue=0 green=50 → files blue=0 green=50",
      "cluster-blue: standby after 10 idle minutes",
    ]);
    expect(callNames()[0]).toBe("sts:GetCallerIdentity");
    expect(callNames().filter((name) => name.startsWith("cloudwatch:"))).toEqual(["cloudwatch:GetMetricData"]);
  });

  it("stops at a caller without access, before anything else is read", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(fleet);
    standIn!.world.caller = sessionOf("arn:aws:iam::111122223333:user/alice");
    expect(await refusalsOf(runPreflight(fleet, ["cluster-blue", "cluster-blue-k8s", "edge"]))).toEqual([
      expect.stringMatching(/^cluster-blue-k8s: the caller arn:aws:iam::111122223333:user\/alice has no access entry in blue: /),
    ]);
    expect(callNames()).toEqual(["sts:GetCallerIdentity"]);
  });

  it("checks each edge stack deployed on its own ALB, and no other", async () => {
    const fleet = parseFleetConfig(twoAlbSources());
    await startStandIn(fleet);
    liveWeights("web", { blue: 0, green: 50 });
    expect(await runPreflight(fleet, ["edge-internal"])).toEqual(["edge-internal: api: live blue=50 green=50 → files blue=50 green=50"]);
    expect(await refusalsOf(runPreflight(fleet, ["edge", "edge-internal"]))).toEqual([expect.stringMatching(/^web: a live failover /)]);
  });

  it("gates standby on cluster-<name> only: its in-cluster stack and active clusters are not gated", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(parseFleetConfig(exampleSources()));
    // Live, blue still has weight: the gate would refuse.
    await expect(runPreflight(fleet, ["cluster-blue"])).rejects.toThrow("web: blue still has live weight 50");
    standIn!.calls.length = 0;
    expect(await runPreflight(fleet, ["cluster-blue-k8s", "cluster-green"])).toEqual([`caller: ${DEPLOYER_SESSION} has access to the Kubernetes API of blue`]);
    expect(callNames()).toEqual(["sts:GetCallerIdentity"]);
  });

  it("builds no ELBv2 or CloudWatch client when no stack deployed has a live check", async () => {
    const fleet = parseFleetConfig(exampleSources());
    await startStandIn(fleet);
    // A client for another region would refuse to be built (its ALBs are not there); none is.
    process.env.AWS_REGION = "us-east-1";
    expect(await runPreflight(fleet, ["cluster-blue", "cluster-green"])).toEqual([]);
    expect(callNames()).toEqual([]);
  });

  it("passes every check's refusals with --force's reason, and the idle minutes to the standby gate", async () => {
    const fleet = parseFleetConfig(blueOnStandby());
    await startStandIn(parseFleetConfig(exampleSources()));
    standIn!.world.caller = sessionOf("arn:aws:iam::111122223333:user/alice");
    liveWeights("web", { blue: 10, green: 90 });
    standIn!.targetGroup("blue", "web").servedRequests = 3;
    const lines = await runPreflight(fleet, ["cluster-blue", "cluster-blue-k8s", "edge"], { forceReason: "drill", idleMinutes: 15 });
    expect(lines).toEqual([
      "FORCED past 1 refusal, reason: drill",
      `  forced: ${refusal("blue", "arn:aws:iam::111122223333:user/alice")}`,
      "edge: web: live blue=10 green=90 → files blue=0 green=50",
      "FORCED past 1 refusal, reason: drill",
      `  forced: web: a live failover (live blue=10 green=90, last deployed blue=50 green=50) would be reverted to the files' blue=0 green=50: ${REVERT_ADVICE}`,
      "cluster-blue: standby after 15 idle minutes",
      "FORCED past 2 refusals, reason: drill",
      "  forced: web: blue still has live weight 10: shift its traffic away first",
      `  forced: web: blue's target group ${groupName("blue", "web")} served 3 requests in the last 15 min: wait until npm run status shows it idle`,
    ]);
  });
});
