import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { checkTransition } from "../modules/config/lifecycle";
import { loadStackPlans } from "../modules/plan/plan-json";
import { runPlans } from "../modules/plan/runner";
import { stacksToPlan } from "../modules/plan/changed-stacks";
import { summarizePlans } from "../modules/plan/summary";
import { generatedMultiAlbFleetSources } from "../scripts/lib/generated-fleet";
import { problemsOf } from "./helpers/config-problems";
import { exampleSources, resourcesOf, shifted, synthFleet } from "./helpers/fleet";
import { describeWithTerraform } from "./helpers/terraform-checks";

const example = exampleSources();

/** Edits platform.yaml's text. */
function withPlatform(sources: ConfigSources, edit: (text: string) => string): ConfigSources {
  return { ...sources, platform: { ...sources.platform, text: edit(sources.platform.text) } };
}

/** The example with an internal ALB beside its own, and a service `api` on it, routed to both clusters. */
function withInternalAlb(sources: ConfigSources, weights = { blue: 50, green: 50 }): ConfigSources {
  const platform = withPlatform(sources, (text) =>
    text
      .replace("\n# Who reaches", "\nalbs:\n  internal:\n    internal: true\n    httpOnly: true\n    deletionProtection: false\n\n# Who reaches")
      .concat(
        [
          "  - name: api",
          "    alb: internal",
          "    namespace: api",
          "    servicePort: 80",
          "    containerPort: 9090",
          "    hosts: [api.internal.example.com]",
          "    priority: 100",
          "",
        ].join("\n"),
      ),
  );
  return {
    ...platform,
    clusters: platform.clusters.map((c) => {
      const cluster = c.file.includes("blue") ? "blue" : "green";
      return { ...c, text: `${c.text.trimEnd()}\n  api: ${weights[cluster]}\n` };
    }),
  };
}

const twoAlbs = withInternalAlb(example);

describe("more than one ALB: the configuration", () => {
  it("accepts a service on an ALB of albs, with the priority of a service on another ALB", () => {
    const fleet = parseFleetConfig(twoAlbs);
    expect(fleet.platform.services.map((s) => [s.name, s.alb, s.priority])).toEqual([
      ["web", undefined, 100],
      ["api", "internal", 100],
    ]);
    expect(fleet.platform.albs.internal).toMatchObject({ internal: true, httpOnly: true, deletionProtection: false, idleTimeoutSeconds: 60 });
  });

  it("refuses an ALB that albs does not declare, suggesting the closest", () => {
    expect(problemsOf(withPlatform(twoAlbs, (text) => text.replace("alb: internal", "alb: internl")))).toEqual([
      'platform.yaml: services[1].alb: unknown ALB "internl" (did you mean "internal"?); ALBs under albs: internal',
    ]);
    expect(problemsOf(withPlatform(example, (text) => text.replace("    priority: 100", "    priority: 100\n    alb: internal")))).toEqual([
      'platform.yaml: services[0].alb: unknown ALB "internal"; declare it under albs, or leave alb unset for the ALB of alb',
    ]);
  });

  it("refuses two services of one ALB with the same priority", () => {
    const third = ["  - name: admin", "    alb: internal", "    servicePort: 80", "    containerPort: 9090", "    paths: [/admin/*]", "    priority: 100", ""].join("\n");
    const sources = withPlatform(twoAlbs, (text) => text + third);
    expect(problemsOf({ ...sources, clusters: sources.clusters.map((c) => ({ ...c, text: `${c.text}  admin: 10\n` })) })).toEqual([
      "platform.yaml: services[2].priority: 100 is also the priority of services[1] on the same ALB; listener rule priorities are unique per ALB",
    ]);
  });

  it("checks each ALB's listener: HTTPS needs a certificate, named by the ALB's field", () => {
    expect(problemsOf(withPlatform(twoAlbs, (text) => text.replace("    httpOnly: true\n    deletionProtection: false\n\n", "    deletionProtection: false\n\n")))).toEqual([
      "platform.yaml: albs.internal.certificateArn: is required for the HTTPS listener; set albs.internal.httpOnly: true to serve plain HTTP instead",
    ]);
  });

  it("refuses an ALB name that cannot be part of AWS names", () => {
    expect(problemsOf(withPlatform(twoAlbs, (text) => text.replace(/internal:\n {4}internal/, "Internal_1:\n    internal")))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^platform\.yaml: albs\.Internal_1: ALB name must start with a lowercase letter/)]),
    );
    expect(problemsOf(withPlatform(twoAlbs, (text) => text.replace(/internal:\n {4}internal/, "internal-facing:\n    internal")))).toEqual(
      expect.arrayContaining(["platform.yaml: albs.internal-facing: ALB name is at most 12 characters (it becomes part of AWS names)"]),
    );
  });

  it("checks the quotas per ALB: 200 services on 3 clusters fit across 6 ALBs, and the message for a full one suggests albs", () => {
    const shape = { services: 200, clusters: 3, clustersPerService: 3, albs: 6 };
    const spread = parseFleetConfig(generatedMultiAlbFleetSources(shape));
    expect(Object.keys(spread.platform.albs)).toEqual(["a1", "a2", "a3", "a4", "a5"]);
    expect(spread.platform.services.filter((s) => s.alb === undefined)).toHaveLength(34);
    const onOne = generatedMultiAlbFleetSources({ ...shape, albs: 1 });
    expect(problemsOf(onOne)).toEqual(
      expect.arrayContaining([
        "platform.yaml: services: 200 services on alb need 200 listener rules; an ALB takes at most 100: declare another ALB under albs and put services on it (services[].alb)",
      ]),
    );
  });

  it("refuses with --base to move a service to another ALB, or to remove an ALB that routes services, and points at the safe path", () => {
    const moved = withPlatform(twoAlbs, (text) => text.replace("    priority: 100\n    healthCheck", "    priority: 200\n    alb: internal\n    healthCheck"));
    expect(checkTransition(parseFleetConfig(twoAlbs), parseFleetConfig(moved)).map((p) => `${p.file}: ${p.field}: ${p.message}`)).toEqual([
      "platform.yaml: services[0].alb: moves web from alb to albs.internal: that replaces its target groups and its listener rule on an ALB with another address; " +
        'instead add the service on albs.internal under a new name, move DNS to it, then remove it from alb (docs/runbooks.md, "Move a service to another ALB")',
    ]);
    // Removing an ALB with its services would leave its stack running unmanaged; removing one that routes nothing is the last step.
    expect(checkTransition(parseFleetConfig(twoAlbs), parseFleetConfig(example)).map((p) => `${p.file}: ${p.field}: ${p.message}`)).toEqual([
      "platform.yaml: albs: removes albs.internal, which routes api as deployed: its stack would be left running with nothing to destroy it; " +
        'first remove its services and deploy, then destroy its stack, then remove it (docs/runbooks.md, "Move a service to another ALB")',
    ]);
    const emptied = withPlatform(example, (text) => text.replace("\n# Who reaches", "\nalbs:\n  internal:\n    internal: true\n    httpOnly: true\n    deletionProtection: false\n\n# Who reaches"));
    expect(checkTransition(parseFleetConfig(emptied), parseFleetConfig(example))).toEqual([]);
    // Adding an ALB and a new service on it is no move.
    expect(checkTransition(parseFleetConfig(example), parseFleetConfig(withInternalAlb(example, { blue: 50, green: 0 })))).toEqual([]);
  });
});

describe("more than one ALB: the synthesized stacks", () => {
  const single = synthFleet(example);
  const double = synthFleet(twoAlbs);

  it("puts each ALB of albs in a stack edge-<name> of its own, named <fleet>-<name>-alb, internal in the private subnets", () => {
    expect(Object.keys(double.stackTexts)).toEqual(["cluster-blue", "cluster-blue-k8s", "cluster-green", "cluster-green-k8s", "edge", "edge-internal", "network"]);
    const [alb] = Object.values(resourcesOf(double.stack("edge-internal"), "aws_lb"));
    expect(alb).toMatchObject({ name: "demo-internal-alb", internal: true });
    expect(JSON.stringify(alb.subnets).match(/aws_subnetnetwork_(private|public)-/g)).toEqual(Array(3).fill("aws_subnetnetwork_private-"));
    expect(Object.values(resourcesOf(double.stack("edge-internal"), "aws_lb_listener_rule")).map((r) => r.priority)).toEqual([100]);
  });

  it("leaves the stack edge of the ALB of alb byte-identical when an ALB and its services are added", () => {
    expect(double.stackTexts.edge).toBe(single.stackTexts.edge);
    expect(double.stackTexts.network).toBe(single.stackTexts.network);
  });

  it("gives a service of another ALB target groups of other names, and its own failover watching only them", () => {
    const groups = (stack: string) => Object.values(resourcesOf(double.stack(stack), "aws_lb_target_group")).map((g) => g.name as string);
    expect(groups("edge")).toEqual([expect.stringMatching(/^demo-blue-web-[0-9a-f]{6}$/), expect.stringMatching(/^demo-green-web-[0-9a-f]{6}$/)]);
    expect(groups("edge-internal")).toEqual([expect.stringMatching(/^demo-blue-api-[0-9a-f]{6}$/), expect.stringMatching(/^demo-green-api-[0-9a-f]{6}$/)]);
    const [fn] = Object.values(resourcesOf(double.stack("edge-internal"), "aws_lambda_function"));
    expect(fn.function_name).toBe("demo-internal-failover");
    const alarms = Object.values(resourcesOf(double.stack("edge-internal"), "aws_cloudwatch_metric_alarm")).map((a) => a.alarm_name as string);
    expect(alarms.sort()).toEqual([
      "demo-internal-failover.api.blue.5xx",
      "demo-internal-failover.api.blue.healthy",
      "demo-internal-failover.api.green.5xx",
      "demo-internal-failover.api.green.healthy",
    ]);
    // It may change the listener rules of its own ALB only.
    const [policy] = Object.values(resourcesOf(double.stack("edge-internal"), "aws_iam_role_policy"));
    expect(policy.policy).toContain("listener-rule/app/demo-internal-alb/*");
    expect(policy.policy).not.toContain("listener-rule/app/demo-alb/");
  });

  it("lets each ALB reach the pods of its services only, and a cluster reads the stacks of the ALBs it serves and only those", () => {
    const ingress = Object.values(resourcesOf(double.stack("cluster-blue"), "aws_vpc_security_group_ingress_rule"))
      .filter((r) => String(r.description).startsWith("ALB"))
      .map((r) => [r.description, r.from_port])
      .sort();
    expect(ingress).toEqual([
      ["ALB internal to pods on port 9090", 9090],
      ["ALB to pods on port 8080", 8080],
    ]);
    expect(double.manifest.stacks["cluster-blue"].dependencies.sort()).toEqual(["edge", "edge-internal", "network"]);
    expect(double.manifest.stacks["cluster-green-k8s"].dependencies).toContain("edge-internal");
    const greenWithoutApi = synthFleet({
      ...twoAlbs,
      clusters: twoAlbs.clusters.map((c) => (c.file.includes("green") ? { ...c, text: c.text.replace(/\n {2}api: \d+/, "") } : c)),
    });
    expect(greenWithoutApi.manifest.stacks["cluster-green"].dependencies.sort()).toEqual(["edge", "network"]);
    expect(greenWithoutApi.manifest.stacks["cluster-green-k8s"].dependencies.sort()).toEqual(["cluster-green", "edge", "network"]);
  });

  it("plans only the edge stack of a service's ALB after a weight change", () => {
    const after = synthFleet(shifted(twoAlbs, { blue: 0, green: 100 }));
    const onlyApi = synthFleet(withInternalAlb(example, { blue: 0, green: 100 }));
    expect([...stacksToPlan(after.outdir, double.outdir).toPlan.keys()].sort()).toEqual(["edge", "edge-internal"]);
    expect([...stacksToPlan(onlyApi.outdir, double.outdir).toPlan.keys()]).toEqual(["edge-internal"]);
  });
});

describeWithTerraform("more than one ALB: real plans", (terraform) => {
  it("validates and plans the stack of an internal ALB on the provider's schemas; the summary shows each ALB's traffic apart", async () => {
    const fleet = synthFleet(twoAlbs);
    const statuses = await runPlans({ outdir: fleet.outdir, terraform, offline: true, region: "eu-west-1", stacks: ["edge", "edge-internal"] });
    expect(statuses.filter((s) => s.status !== "skipped").map((s) => [s.stack, s.status])).toEqual([
      ["edge", "planned"],
      ["edge-internal", "planned"],
    ]);
    const plans = loadStackPlans(fleet.outdir).filter((s) => s.stack.startsWith("edge"));
    const summary = summarizePlans(plans);
    expect(summary.traffic.filter((r) => r.stack === "edge-internal")).toEqual([
      { stack: "edge-internal", service: "api", cluster: "blue", before: undefined, after: 50 },
      { stack: "edge-internal", service: "api", cluster: "green", before: undefined, after: 50 },
    ]);
    expect(summary.traffic.filter((r) => r.stack === "edge").map((r) => r.service)).toEqual(["web", "web"]);
    // A table and a subgraph per edge stack.
    expect(summary.markdown).toMatch(/#### edge\n\n\| service \| cluster \|[^#]*\| web \| blue \|[^#]*#### edge-internal\n\n\| service \| cluster \|[^#]*\| api \| blue \|/);
    expect(summary.markdown).toContain('subgraph edge["edge"]');
    expect(summary.markdown).toContain('subgraph edge_internal["edge-internal"]');
    const lb = plans.find((p) => p.stack === "edge-internal")!.plan!.resource_changes!.find((c) => c.type === "aws_lb");
    expect(lb?.change.after).toMatchObject({ name: "demo-internal-alb", internal: true });
  }, 180_000);
});
