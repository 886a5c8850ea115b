import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { elbClient } from "../modules/traffic/aws-clients";
import { metricTargetsOf, readLiveFleet, readLiveFleetIfDeployed, readRouteHealth, targetGroupNameOf } from "../modules/traffic/live-fleet";
import type { AwsStandIn } from "../scripts/lib/aws-stand-in";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { exampleSources, twoAlbSources } from "./helpers/fleet";
import { standInServing } from "./helpers/stand-in-project";

/**
 * Reading the live fleet (its ALBs, listener rules, target groups and their
 * health) in process: the real SDK client reaches the ELBv2 stand-in over HTTP.
 */

const serve = standInServing();

/** Three ALBs: web on that of `alb:`, api on `internal`, admin on `alpha`. */
function threeAlbSources(): ConfigSources {
  const sources = twoAlbSources();
  const admin = ["  - name: admin", "    alb: alpha", "    namespace: admin", "    servicePort: 80", "    containerPort: 7070", '    paths: ["/*"]', "    priority: 100", "    healthCheck:", "      path: /healthz", ""].join("\n");
  const text = sources.platform.text.replace("albs:\n", `${admin}albs:\n  alpha:\n    internal: true\n    httpOnly: true\n    deletionProtection: false\n`);
  return {
    platform: { ...sources.platform, text },
    clusters: sources.clusters.map((c) => ({ ...c, text: c.text.replace("  api: 50\n", "  api: 50\n  admin: 50\n") })),
  };
}

/** {@link threeAlbSources} with admin on another of its ALBs. */
const withAdminOn = (alb: string): ConfigSources => {
  const sources = threeAlbSources();
  const text = sources.platform.text.replace("    alb: alpha\n", `    alb: ${alb}\n`).replace('containerPort: 7070\n    paths: ["/*"]\n    priority: 100', 'containerPort: 7070\n    paths: ["/*"]\n    priority: 110');
  return { ...sources, platform: { ...sources.platform, text } };
};

const calls = (standIn: AwsStandIn, action: string) => standIn.calls.filter((c) => c.action === action).map((c) => c.input);

describe("the live fleet's ALBs", () => {
  it("are looked for once each, that of alb: first, then those of albs: by name, whatever the services' order", async () => {
    const fleet = parseFleetConfig(threeAlbSources());
    const standIn = await serve(fleet);
    const live = await readLiveFleet(await elbClient(fleet), fleet, ["api", "admin", "web"]);
    expect(calls(standIn, "DescribeLoadBalancers")).toEqual([{ Names: ["demo-alb"] }, { Names: ["demo-alpha-alb"] }, { Names: ["demo-internal-alb"] }]);
    expect([...live.routes].map(([service, route]) => [service, route.loadBalancer.name, route.loadBalancer.stack])).toEqual([
      ["web", "demo-alb", "edge"],
      ["admin", "demo-alpha-alb", "edge-alpha"],
      ["api", "demo-internal-alb", "edge-internal"],
    ]);
  });

  it("must all be deployed for a command that writes, the missing one named with its stack and services", async () => {
    const fleet = parseFleetConfig(threeAlbSources());
    const standIn = await serve(fleet);
    const client = await elbClient(fleet);
    standIn.loadBalancer("edge-internal").deployed = false;
    await expect(readLiveFleet(client, fleet, ["web", "api"])).rejects.toThrow("no load balancer named demo-internal-alb in eu-west-1 (stack edge-internal, for api)");
    standIn.loadBalancer("edge").deployed = false;
    await expect(readLiveFleet(client, fleet, ["web"])).rejects.toThrow(/^no load balancer named demo-alb in eu-west-1$/);

    const bothOnInternal = parseFleetConfig(withAdminOn("internal"));
    (await serve(bothOnInternal)).loadBalancer("edge-internal").deployed = false;
    await expect(readLiveFleet(await elbClient(bothOnInternal), bothOnInternal, ["api", "admin"])).rejects.toThrow(
      "no load balancer named demo-internal-alb in eu-west-1 (stack edge-internal, for api, admin)",
    );
  });

  it("are never taken for missing when ELBv2 refuses to say (access denied): the refusal is passed on", async () => {
    const fleet = parseFleetConfig(threeAlbSources());
    const standIn = await serve(fleet);
    standIn.faults.set("DescribeLoadBalancers", { error: { code: "AccessDenied", status: 403 } });
    await expect(readLiveFleetIfDeployed(await elbClient(fleet), fleet, ["web"])).rejects.toMatchObject({ name: "AccessDenied" });
  });

  it("may be missing for a deploy: the deployed ones are read, none deployed reads as nothing, no service as no route", async () => {
    const fleet = parseFleetConfig(threeAlbSources());
    const standIn = await serve(fleet);
    const client = await elbClient(fleet);
    standIn.loadBalancer("edge-internal").deployed = false;
    expect([...(await readLiveFleetIfDeployed(client, fleet, ["web", "api"]))!.routes.keys()]).toEqual(["web"]);
    standIn.loadBalancer("edge").deployed = false;
    expect(await readLiveFleetIfDeployed(client, fleet, ["web", "api"])).toBeUndefined();
    expect(await readLiveFleetIfDeployed(client, fleet, [])).toEqual({ routes: new Map() });
  });
});

describe("the live listener rules", () => {
  it("are read page by page, and found by their fleet and service tags among other fleets' rules, whose tags are read 20 at a time", async () => {
    const fleet = parseFleetConfig(exampleSources());
    const standIn = await serve(fleet);
    const web = standIn.rule("web");
    // Another fleet's rules on the same listener, one of them for a service of the same name.
    for (let i = 0; i < 25; i++) standIn.world.rules.push({ ...web, arn: `${web.arn}-other-${i}`, priority: String(200 + i), tags: { fleet: "other", service: i === 0 ? "web" : `svc${i}` } });
    standIn.rulesPerPage = 10;
    const live = await readLiveFleet(await elbClient(fleet), fleet, ["web"]);
    expect(live.routes.get("web")!.rule.RuleArn).toBe(web.arn);
    expect(calls(standIn, "DescribeRules").map((input) => input.Marker)).toEqual([undefined, "10", "20"]);
    expect(calls(standIn, "DescribeTags").map((input) => (input.ResourceArns as string[]).length)).toEqual([20, 6, 2]);
  });

  it("read for a deploy skips a service whose rule is not deployed yet, asking no tags of an empty listener", async () => {
    const fleet = parseFleetConfig(exampleSources());
    const standIn = await serve(fleet);
    standIn.world.rules.splice(0, standIn.world.rules.length);
    expect(await readLiveFleetIfDeployed(await elbClient(fleet), fleet, ["web"])).toEqual({ routes: new Map() });
    expect(calls(standIn, "DescribeTags")).toEqual([]);
  });

  it("are refused, naming what is wrong, when a service's rule is missing or twice there, forwards nowhere, or forwards to a group of no cluster", async () => {
    const fleet = parseFleetConfig(exampleSources());
    const standIn = await serve(fleet);
    const client = await elbClient(fleet);
    const web = standIn.rule("web");
    standIn.world.rules.push({ ...web, arn: `${web.arn}-copy` });
    await expect(readLiveFleet(client, fleet, ["web"])).rejects.toThrow("expected one listener rule tagged fleet=demo service=web on demo-alb, found 2; nothing was changed");
    standIn.world.rules.pop();
    web.tags = { ...web.tags, service: "website" };
    await expect(readLiveFleet(client, fleet, ["web"])).rejects.toThrow("expected one listener rule tagged fleet=demo service=web on demo-alb, found 0; nothing was changed");
    web.tags = { ...web.tags, service: "web" };
    const forward = web.forward;
    web.forward = [];
    await expect(readLiveFleet(client, fleet, ["web"])).rejects.toThrow("the live rule of web does not forward to target groups; nothing was changed");
    web.forward = forward;
    const blue = standIn.targetGroup("blue", "web");
    delete blue.tags.cluster;
    await expect(readLiveFleet(client, fleet, ["web"])).rejects.toThrow(`target group ${blue.arn} of web has no cluster tag; nothing was changed`);
  });
});

describe("the live target groups", () => {
  it("have their health read once each, draining counted apart", async () => {
    // Ten clusters: two services of five target groups each.
    const fleet = parseFleetConfig(generatedFleetSources(10));
    const standIn = await serve(fleet);
    const client = await elbClient(fleet);
    const live = await readLiveFleet(client, fleet, ["svc0", "svc1"]);
    standIn.targetGroup("c00", "svc0").targets = [
      { id: "10.0.0.1", port: 8080, state: "healthy" },
      { id: "10.0.0.2", port: 8080, state: "unhealthy" },
      { id: "10.0.0.3", port: 8080, state: "draining" },
    ];
    const health = await readRouteHealth(client, live);
    expect(calls(standIn, "DescribeTargetHealth")).toHaveLength(10);
    expect(new Set(calls(standIn, "DescribeTargetHealth").map((input) => input.TargetGroupArn)).size).toBe(10);
    expect(health.get("svc0")!.get("c00")).toEqual({ healthy: 1, unhealthy: 1, initial: 0, draining: 1, unused: 0, unavailable: 0 });
    expect(health.get("svc1")!.get("c05")).toEqual({ healthy: 2, unhealthy: 0, initial: 0, draining: 0, unused: 0, unavailable: 0 });
  });

  it("are named by their ARN, and the metrics of one cluster's are asked under their ALB", async () => {
    const fleet = parseFleetConfig(twoAlbSources());
    const standIn = await serve(fleet);
    const live = await readLiveFleet(await elbClient(fleet), fleet, ["web", "api"]);
    const blueWeb = standIn.targetGroup("blue", "web");
    expect(targetGroupNameOf(blueWeb.arn)).toBe(blueWeb.arn.split(":targetgroup/")[1].split("/")[0]);
    expect(targetGroupNameOf("not-a-target-group")).toBe("not-a-target-group");
    expect(metricTargetsOf(live.routes.values(), "blue")).toEqual([
      { loadBalancerArn: standIn.loadBalancer("edge").arn, targetGroupArn: blueWeb.arn },
      { loadBalancerArn: standIn.loadBalancer("edge-internal").arn, targetGroupArn: standIn.targetGroup("blue", "api").arn },
    ]);
    expect(metricTargetsOf(live.routes.values())).toHaveLength(4);
  });
});
