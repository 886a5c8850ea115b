import * as fs from "fs";
import * as path from "path";
import { runPlans, StackPlanStatus } from "../modules/plan/runner";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { exampleSources, SynthesizedFleet, synthFleet } from "./helpers/fleet";
import { describeWithTerraform } from "./helpers/terraform-checks";

interface PlannedChange {
  address: string;
  type: string;
  change: { actions: string[]; after: Record<string, unknown> };
}

function changesOf(fleet: SynthesizedFleet, status: StackPlanStatus | undefined): PlannedChange[] {
  if (status?.status !== "planned") throw new Error(`not planned: ${JSON.stringify(status)}`);
  return JSON.parse(fs.readFileSync(path.join(fleet.outdir, status.planFile), "utf8")).resource_changes;
}

/**
 * The plan runner on real provider schemas: terraform init, validate and an
 * offline plan of every AWS-only stack. The in-cluster stacks need the helm
 * and kubernetes providers and a live cluster; the runner reports them as skipped.
 */
describeWithTerraform("terraform validate and offline plan", (terraform) => {
  const example = synthFleet(exampleSources());
  let statuses: Promise<StackPlanStatus[]>;
  const statusOf = async (stack: string) => (await statuses).find((s) => s.stack === stack);
  beforeAll(() => {
    statuses = runPlans({ outdir: example.outdir, terraform, offline: true, region: "eu-west-1" });
  });

  it("plans every AWS-only stack and reports the in-cluster ones as skipped, with why", async () => {
    const result = await statuses;
    expect(result.map((s) => [s.stack, s.status])).toEqual([
      ["cluster-blue", "planned"],
      ["cluster-blue-k8s", "skipped"],
      ["cluster-green", "planned"],
      ["cluster-green-k8s", "skipped"],
      ["edge", "planned"],
      ["network", "planned"],
    ]);
    expect(await statusOf("cluster-blue-k8s")).toMatchObject({ reason: expect.stringContaining("needs the helm and kubernetes providers and a live cluster") });
    expect(JSON.parse(fs.readFileSync(path.join(example.outdir, "plans", "status.json"), "utf8"))).toEqual(result);
  });

  it.each(["network", "edge", "cluster-blue", "cluster-green"])("%s validates and plans only creations", async (stack) => {
    const changes = changesOf(example, await statusOf(stack));
    expect(changes.length).toBeGreaterThan(5);
    expect(changes.filter((c) => c.change.actions.join() !== "create")).toEqual([]);
  });

  it("plans the weighted listener rule and the cluster's control plane", async () => {
    const rule = changesOf(example, await statusOf("edge")).find((c) => c.type === "aws_lb_listener_rule");
    expect(rule?.change.after).toMatchObject({ priority: 100, action: [{ type: "forward" }] });
    const cluster = changesOf(example, await statusOf("cluster-blue")).find((c) => c.type === "aws_eks_cluster");
    expect(cluster?.change.after).toMatchObject({ name: "demo-blue", version: "1.33" });
  });

  it("validates and plans the HTTPS edge of a fleet with a certificate", async () => {
    const fleet = synthFleet(generatedFleetSources(1));
    const [edge] = (await runPlans({ outdir: fleet.outdir, terraform, offline: true, region: "us-east-1", stacks: ["edge"] })).filter(
      (s) => s.stack === "edge",
    );
    const listeners = changesOf(fleet, edge).filter((c) => c.type === "aws_lb_listener").map((c) => c.change.after);
    expect(listeners).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }),
        expect.objectContaining({ port: 80, protocol: "HTTP" }),
      ]),
    );
  });
});
