import * as fs from "fs";
import * as path from "path";
import { ConfigSources } from "../modules/config/load";
import { loadStackPlans, ResourceChange, StackPlan } from "../modules/plan/plan-json";
import { EXIT_DANGER, EXIT_NOT_PLANNED, EXIT_OK, MAX_SUMMARY_LENGTH, summarizePlans } from "../modules/plan/summary";
import { runPlans } from "../modules/plan/runner";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { exampleSources, shifted, synthFleet, withClusterFile } from "./helpers/fleet";
import { planBaseline, PlannedBaseline } from "./helpers/plan-fixtures";
import { describeWithTerraform } from "./helpers/terraform-checks";

const example = exampleSources();

function editCluster(sources: ConfigSources, cluster: string, edit: (text: string) => string): ConfigSources {
  const file = `clusters/${cluster}.yaml`;
  return withClusterFile(sources, file, edit(sources.clusters.find((c) => c.file === file)!.text));
}

/** The danger table's rows as [severity, stack, resource type, change]. */
function dangerRows(summary: ReturnType<typeof summarizePlans>) {
  return summary.dangers.map((d) => [d.severity, d.stack, d.address.split(".")[0], d.kind]);
}

function changesOf(plans: readonly StackPlan[], stack: string): ResourceChange[] {
  const plan = plans.find((p) => p.stack === stack);
  if (plan?.status !== "planned") throw new Error(`not planned: ${JSON.stringify(plan)}`);
  return plan.plan?.resource_changes ?? [];
}

/**
 * Real plans of the example on the provider's real schemas (terraform init,
 * plan and show -json per AWS-only stack, offline), shared by the runner's
 * checks and the summary's: the in-cluster stacks need the helm and
 * kubernetes providers and a live cluster, and the runner reports them as skipped.
 */
describeWithTerraform("real plans of the example", (terraform) => {
  let baseline: Promise<PlannedBaseline>;
  beforeAll(() => {
    baseline = planBaseline(terraform, example, "eu-west-1");
  });

  describe("terraform validate and offline plan", () => {
    it("plans every AWS-only stack and reports the in-cluster ones as skipped, with why", async () => {
      const { firstDeployStatuses, outdir } = await baseline;
      expect(firstDeployStatuses.map((s) => [s.stack, s.status])).toEqual([
        ["cluster-blue", "planned"],
        ["cluster-blue-k8s", "skipped"],
        ["cluster-green", "planned"],
        ["cluster-green-k8s", "skipped"],
        ["edge", "planned"],
        ["network", "planned"],
      ]);
      expect(firstDeployStatuses.find((s) => s.stack === "cluster-blue-k8s")).toMatchObject({
        reason: expect.stringContaining("needs the helm and kubernetes providers and a live cluster"),
      });
      expect(JSON.parse(fs.readFileSync(path.join(outdir, "plans", "status.json"), "utf8"))).toEqual(firstDeployStatuses);
    });

    it.each(["network", "edge", "cluster-blue", "cluster-green"])("%s validates and plans only creations", async (stack) => {
      const changes = changesOf((await baseline).firstDeploy, stack);
      expect(changes.length).toBeGreaterThan(5);
      expect(changes.filter((c) => c.change.actions.join() !== "create")).toEqual([]);
    });

    it("plans the weighted listener rule and the cluster's control plane", async () => {
      const { firstDeploy } = await baseline;
      const rule = changesOf(firstDeploy, "edge").find((c) => c.type === "aws_lb_listener_rule");
      expect(rule?.change.after).toMatchObject({ priority: 100, action: [{ type: "forward" }] });
      const cluster = changesOf(firstDeploy, "cluster-blue").find((c) => c.type === "aws_eks_cluster");
      expect(cluster?.change.after).toMatchObject({ name: "demo-blue", version: "1.33" });
    });

    it("validates and plans the HTTPS edge of a fleet with a certificate", async () => {
      const fleet = synthFleet(generatedFleetSources(1));
      await runPlans({ outdir: fleet.outdir, terraform, offline: true, region: "us-east-1", stacks: ["edge"] });
      const listeners = changesOf(loadStackPlans(fleet.outdir), "edge").filter((c) => c.type === "aws_lb_listener").map((c) => c.change.after);
      expect(listeners).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }),
          expect.objectContaining({ port: 80, protocol: "HTTP" }),
        ]),
      );
    });
  });

  describe("plan summary", () => {

    it("of a first deploy counts creations, shows the traffic to be, and lists the stacks not planned", async () => {
      const summary = summarizePlans((await baseline).firstDeploy);
      expect(summary.dangers).toEqual([]);
      expect(summary.exitCode).toBe(EXIT_OK);
      expect(summary.traffic).toEqual([
        { stack: "edge", service: "web", cluster: "blue", before: undefined, after: 50 },
        { stack: "edge", service: "web", cluster: "green", before: undefined, after: 50 },
      ]);
      expect(summary.markdown).toMatch(/\| edge \| \d+ \| 0 \| 0 \| 0 \|/);
      expect(summary.markdown).toMatch(/\| network \| \d+ \| 0 \| 0 \| 0 \|/);
      expect(summary.markdown).toContain("| cluster-blue-k8s | – | – | – | – | ⚠️ not planned (skipped): needs the helm and kubernetes providers and a live cluster");
      expect(summary.markdown.indexOf("### Traffic")).toBeLessThan(summary.markdown.indexOf("### Stacks"));
    });

    it("of a weight shift shows exactly the traffic table and no danger", async () => {
      const plans = await (await baseline).planChange(shifted(example, { blue: 0, green: 100 }), ["edge", "cluster-blue"]);
      const summary = summarizePlans(plans);
      // Before: the refreshed live weights; deployed: the rule's deployed-weights tag (no failover here).
      expect(summary.traffic).toEqual([
        { stack: "edge", service: "web", cluster: "blue", before: 50, after: 0, deployed: 50 },
        { stack: "edge", service: "web", cluster: "green", before: 50, after: 100, deployed: 50 },
      ]);
      expect(summary.dangers).toEqual([]);
      expect(summary.exitCode).toBe(EXIT_OK);
      expect(summary.markdown).toContain("| web | blue | 50 → 0 **changed** | 50% → 0% |");
      expect(summary.markdown).toContain("| edge | 0 | 1 | 0 | 0 |");
      expect(summary.markdown).toContain("| cluster-blue | 0 | 0 | 0 | 0 | no changes |");
      expect(summary.markdown).toMatch(/action\[0\]\.forward\[0\]\.target_group\[\d\]\.weight: 50 → (0|100)/);
    });

    it("of an EKS cluster replacement puts that danger first, with what forces it, and exits non-zero", async () => {
      const replaced = editCluster(example, "blue", (t) => t.replace("nodeGroups:", "serviceIpv4Cidr: 172.21.0.0/16\nnodeGroups:"));
      // Only the cluster stack changes.
      const plans = await (await baseline).planChange(replaced, ["cluster-blue"]);
      const summary = summarizePlans(plans);
      expect(dangerRows(summary)[0]).toEqual(["critical", "cluster-blue", "aws_eks_cluster", "replace"]);
      expect(summary.dangers[0].replacePaths).toContain("kubernetes_network_config.0.service_ipv4_cidr");
      expect(summary.exitCode).toBe(EXIT_DANGER);
      expect(summary.markdown.indexOf("### ⚠️ Dangers")).toBeLessThan(summary.markdown.indexOf("### Stacks"));
      expect(summary.markdown).toContain("EKS cluster replaced: its workloads go down");
      expect(summarizePlans(plans, { allowDangerous: true }).exitCode).toBe(EXIT_OK);
    });

    it("of a new container port creates each new target group before destroying the old, moves the rule in between, and flags the replacements that carry weight", async () => {
      const newPort = { ...example, platform: { ...example.platform, text: example.platform.text.replace("containerPort: 8080", "containerPort: 9090") } };
      // The target groups and the rule are in the edge stack.
      const plans = await (await baseline).planChange(newPort, ["edge"]);
      const changes = changesOf(plans, "edge").filter((c) => c.change.actions.join() !== "no-op");
      const replacedGroups = changes.filter((c) => c.type === "aws_lb_target_group");
      expect(replacedGroups).toHaveLength(2);
      for (const group of replacedGroups) {
        expect(group.change.actions).toEqual(["create", "delete"]);
        expect(group.change.after?.name).not.toEqual(group.change.before?.name);
        expect(group.change.after).toMatchObject({ port: 9090 });
      }
      expect(changes.some((c) => c.change.actions.join() === "delete,create")).toBe(false);
      expect(changes.find((c) => c.type === "aws_lb_listener_rule")!.change.actions).toEqual(["update"]);

      const summary = summarizePlans(plans);
      const targetGroups = summary.dangers.filter((d) => d.address.startsWith("aws_lb_target_group."));
      expect(targetGroups.map((d) => [d.severity, d.kind])).toEqual([
        ["critical", "replace"],
        ["critical", "replace"],
      ]);
      expect(targetGroups[0].reason).toMatch(
        /^target group of web on (blue|green) replaced while it carries weight 50: the new group has no targets, and its share answers 503, until cluster-\1-k8s is deployed/,
      );
      expect(summary.exitCode).toBe(EXIT_DANGER);
    });

    it("of new instance types creates the new node group before destroying the only one, and plans nothing when unchanged", async () => {
      const newTypes = editCluster(example, "blue", (t) => t.replace("instanceTypes: [m6i.large]", "instanceTypes: [m7i.large]"));
      const plans = await (await baseline).planChange(newTypes, ["cluster-blue"]);
      const changes = changesOf(plans, "cluster-blue").filter((c) => c.change.actions.join() !== "no-op");
      const groups = changes.filter((c) => c.type === "aws_eks_node_group");
      expect(groups.map((c) => c.change.actions)).toEqual([["create", "delete"]]);
      expect(groups[0].change.after).toMatchObject({ instance_types: ["m7i.large"], node_group_name_prefix: "general-" });
      expect(groups[0].change.replace_paths).toContainEqual(["instance_types"]);
      expect(changes.some((c) => c.change.actions.join() === "delete,create")).toBe(false);
      const unchanged = changesOf(await (await baseline).planChange(example, ["cluster-blue"]), "cluster-blue");
      expect(unchanged.filter((c) => c.change.actions.join() !== "no-op")).toEqual([]);
    });

    it("replaces a node group applied with a fixed name once, new before old, and nothing else", async () => {
      const fixedName = (stack: string, state: string) =>
        stack !== "cluster-blue" ? state : state.replace('"node_group_name_prefix":"general-"', '"node_group_name_prefix":""').replace(/"node_group_name":"[^"]*"/, '"node_group_name":"general"');
      const changes = changesOf(await (await baseline).planChange(example, ["cluster-blue"], fixedName), "cluster-blue").filter((c) => c.change.actions.join() !== "no-op");
      expect(changes.map((c) => [c.type, c.change.actions, c.change.replace_paths, c.change.before?.node_group_name])).toEqual([
        ["aws_eks_node_group", ["create", "delete"], [["node_group_name_prefix"]], "general"],
      ]);
    });

    it("flags weight moved onto a cluster whose version changes in the same plan", async () => {
      const upgradedAndShifted = editCluster(shifted(example, { blue: 100, green: 0 }), "blue", (t) => t.replace('"1.33"', '"1.34"'));
      const summary = summarizePlans(await (await baseline).planChange(upgradedAndShifted, ["edge", "cluster-blue"]));
      expect(summary.dangers.map((d) => d.reason)).toEqual([
        "weight on blue rises 50 → 100 while its Kubernetes version changes 1.33 → 1.34 in the same plan: upgrade first, shift later",
      ]);
      expect(summary.exitCode).toBe(EXIT_DANGER);
    });
  });
});

describe("plan summary", () => {
  const change = (address: string, type: string, actions: string[], extra: object = {}) => ({
    address,
    type,
    mode: "managed",
    change: { actions, before: {}, after: {}, after_unknown: {}, ...extra },
  });
  const planned = (stack: string, changes: object[]): StackPlan => ({ stack, status: "planned", plan: { resource_changes: changes as never } });

  it("masks sensitive values", () => {
    const secret = change("aws_db_instance.db", "aws_db_instance", ["update"], {
      before: { password: "old-secret", port: 5432 },
      after: { password: "new-secret", port: 5433 },
      before_sensitive: { password: true },
      after_sensitive: { password: true },
    });
    const markdown = summarizePlans([planned("edge", [secret])]).markdown;
    expect(markdown).toContain("password: (sensitive)");
    expect(markdown).toContain("port: 5432 → 5433");
    expect(markdown).not.toContain("secret");
  });

  it("reports a stack that failed to plan as such, never as no changes, and exits 3", () => {
    const summary = summarizePlans([planned("edge", []), { stack: "network", status: "failed", reason: "Error: No valid credential sources found" }]);
    expect(summary.markdown).toContain("| network | – | – | – | – | ⚠️ not planned (failed): Error: No valid credential sources found |");
    expect(summary.markdown).toContain("| edge | 0 | 0 | 0 | 0 | no changes |");
    expect(summary.exitCode).toBe(EXIT_NOT_PLANNED);
  });

  it("lists every delete as a danger", () => {
    const summary = summarizePlans([planned("network", [change("aws_flow_log.f", "aws_flow_log", ["delete"])])]);
    expect(summary.dangers.map((d) => [d.severity, d.kind, d.reason])).toEqual([["warning", "delete", "aws_flow_log deleted"]]);
    expect(summary.exitCode).toBe(EXIT_DANGER);
  });

  it("flags a CustomResourceDefinition deleted or replaced as critical, not other manifests", () => {
    const manifest = (kind: string, name: string) => ({ before: { manifest: { apiVersion: "v1", kind, metadata: { name } } } });
    const summary = summarizePlans([
      planned("cluster-blue-k8s", [
        change('kubernetes_manifest.crd["targetgroupbindings.elbv2.k8s.aws"]', "kubernetes_manifest", ["delete"], manifest("CustomResourceDefinition", "targetgroupbindings.elbv2.k8s.aws")),
        change("kubernetes_manifest.cm", "kubernetes_manifest", ["delete"], manifest("ConfigMap", "cm")),
      ]),
    ]);
    expect(summary.dangers.map((d) => [d.severity, d.reason])).toEqual([
      ["critical", "CustomResourceDefinition targetgroupbindings.elbv2.k8s.aws deleted: every object of that kind goes with it (deleted TargetGroupBindings deregister their targets)"],
      ["warning", "kubernetes_manifest deleted"],
    ]);
  });

  it("stays under GitHub's comment size, leaving out details first", () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      change(`aws_subnet.s${i}`, "aws_subnet", ["update"], { before: { tags: { n: "x".repeat(60) } }, after: { tags: { n: "y".repeat(60) } } }),
    );
    const stacks = Array.from({ length: 8 }, (_, i) => planned(`stack-${i}`, many));
    const markdown = summarizePlans(stacks).markdown;
    expect(markdown.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
    expect(markdown).toContain("left out of the details to stay under GitHub's comment size");
    expect(markdown).toContain("| stack-7 | 0 | 400 | 0 | 0 |");
  });

  /** An edge plan of the web rule: refreshed (live) weights before, the files' after, and the rule's deployed-weights tag. */
  function edgePlan(live: Record<string, number>, files: Record<string, number>, deployed: string): StackPlan {
    const clusters = Object.keys(files);
    const forward = (weights: Record<string, number>) => [{ forward: [{ target_group: clusters.map((c) => ({ arn: `arn:tg-${c}`, weight: weights[c] })) }] }];
    const rule = change("aws_lb_listener_rule.rule-web", "aws_lb_listener_rule", ["update"], {
      before: { tags: { fleet: "demo", service: "web", "deployed-weights": deployed }, action: forward(live) },
      after: { tags: { fleet: "demo", service: "web", "deployed-weights": clusters.map((c) => `${c}=${files[c]}`).join(" ") }, action: forward(files) },
    });
    const groups = clusters.map((c) => ({ address: `aws_lb_target_group.tg-${c}`, type: "aws_lb_target_group", values: { arn: `arn:tg-${c}`, tags: { cluster: c } } }));
    const ruleConfig = {
      address: "aws_lb_listener_rule.rule-web",
      type: "aws_lb_listener_rule",
      expressions: {
        action: [{ forward: [{ target_group: clusters.map((c) => ({ arn: { references: [`aws_lb_target_group.tg-${c}.arn`] }, weight: { constant_value: files[c] } })) }] }],
      },
    };
    const groupConfigs = groups.map((g) => ({ address: g.address, type: g.type, expressions: { tags: { constant_value: g.values.tags } } }));
    return {
      stack: "edge",
      status: "planned",
      plan: { resource_changes: [rule], prior_state: { values: { root_module: { resources: groups } } }, configuration: { root_module: { resources: [...groupConfigs, ruleConfig] } } } as never,
    };
  }

  it("flags a plan that would revert a live failover, with live weights as before", () => {
    const summary = summarizePlans([edgePlan({ blue: 0, green: 100 }, { blue: 50, green: 50 }, "blue=50 green=50")]);
    expect(summary.traffic).toEqual([
      { stack: "edge", service: "web", cluster: "blue", before: 0, after: 50, deployed: 50 },
      { stack: "edge", service: "web", cluster: "green", before: 100, after: 50, deployed: 50 },
    ]);
    expect(summary.dangers.map((d) => [d.severity, d.reason])).toEqual([
      ["critical", "reverts a live failover: live blue=0 green=100 (shift --now), last deployed blue=50 green=50, this plan sets blue=50 green=50: merge the failover's change first"],
    ]);
    expect(summary.exitCode).toBe(EXIT_DANGER);
    expect(summary.markdown).toContain("| web | blue | 0 → 50 **changed** (live failover; last deployed 50) | 0% → 50% |");
  });

  it("lets the failover's own change through: it carries the live weights", () => {
    const summary = summarizePlans([edgePlan({ blue: 0, green: 100 }, { blue: 0, green: 100 }, "blue=50 green=50")]);
    expect(summary.dangers).toEqual([]);
    expect(summary.exitCode).toBe(EXIT_OK);
  });

  it("draws the planned routes as a Mermaid picture", () => {
    const markdown = summarizePlans([edgePlan({ blue: 50, green: 50 }, { blue: 25, green: 75 }, "blue=50 green=50")]).markdown;
    expect(markdown).toContain(
      ["```mermaid", "flowchart LR", '  alb["ALB"]', '  alb --> rule_web["rule web"]', '  rule_web -- "weight 25 (25%)" --> tg_web_blue["web/blue"]'].join("\n"),
    );
    expect(markdown).toContain('  cluster_green(["cluster green"])');
  });

  it("reads the plan files the runner writes", () => {
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "fleet-plans-"));
    fs.mkdirSync(path.join(dir, "plans"));
    fs.writeFileSync(path.join(dir, "plans", "edge.json"), JSON.stringify({ resource_changes: [] }));
    fs.writeFileSync(
      path.join(dir, "plans", "status.json"),
      JSON.stringify([
        { stack: "edge", status: "planned", planFile: "plans/edge.json" },
        { stack: "network", status: "skipped", reason: "not selected" },
      ]),
    );
    expect(loadStackPlans(dir)).toEqual([
      { stack: "edge", status: "planned", plan: { resource_changes: [] } },
      { stack: "network", status: "skipped", reason: "not selected" },
    ]);
  });
});
