import { clusterText, generatedClusterName, generatedFleetSources } from "../scripts/lib/generated-fleet";
import { exampleSources, resourceAddresses, resourcesOf, synthFleet, withClusterFile } from "./helpers/fleet";

describe("the example fleet", () => {
  const fleet = synthFleet(exampleSources());

  it("has a network, an edge and two stacks per cluster", () => {
    expect(Object.keys(fleet.stackTexts)).toEqual([
      "cluster-blue",
      "cluster-blue-k8s",
      "cluster-green",
      "cluster-green-k8s",
      "edge",
      "network",
    ]);
  });

  it("records the deploy order in manifest.json", () => {
    const deps = (stack: string) => [...fleet.manifest.stacks[stack].dependencies].sort();
    expect(deps("network")).toEqual([]);
    expect(deps("edge")).toEqual(["network"]);
    expect(deps("cluster-blue")).toEqual(["edge", "network"]);
    expect(deps("cluster-blue-k8s")).toEqual(["cluster-blue", "edge", "network"]);
  });

  it("forwards each service to its clusters with their weights", () => {
    const rules = Object.values(resourcesOf(fleet.stack("edge"), "aws_lb_listener_rule"));
    expect(rules).toHaveLength(1);
    const forward = (rules[0].action as { forward: { target_group: { arn: string; weight: number }[] } }[])[0].forward;
    expect(forward.target_group.map((t) => t.weight)).toEqual([50, 50]);
    expect(forward.target_group[0].arn).toMatch(/aws_lb_target_group\.weighted-alb_target-group-web-blue_[0-9A-F]+\.arn/);
  });

  it("keeps state in a project folder with a relative path, one file per stack", () => {
    for (const name of Object.keys(fleet.stackTexts)) {
      expect(fleet.stack(name).terraform?.backend).toEqual({ local: { path: `../../../state/${name}.tfstate` } });
    }
  });

  it("contains no absolute paths", () => {
    for (const text of Object.values(fleet.stackTexts)) {
      expect(text).not.toContain(fleet.outdir);
      expect(text).not.toMatch(/"\/(tmp|home|root|work|Users)\//);
    }
  });
});

describe("generated fleets", () => {
  it.each([1, 2, 3, 5])("with %i clusters synthesize 2 + 2N stacks and one target group per cluster", (count) => {
    const fleet = synthFleet(generatedFleetSources(count));
    expect(Object.keys(fleet.stackTexts)).toHaveLength(2 + 2 * count);
    const targetGroups = Object.values(resourcesOf(fleet.stack("edge"), "aws_lb_target_group"));
    expect(targetGroups.map((t) => (t.name as string).slice(0, -7)).sort()).toEqual(
      Array.from({ length: count }, (_, i) => `gen-${generatedClusterName(i)}-svc0`),
    );
    for (let i = 0; i < count; i++) {
      const name = generatedClusterName(i);
      expect(Object.keys(resourcesOf(fleet.stack(`cluster-${name}`), "aws_eks_cluster"))).toHaveLength(1);
      expect(Object.keys(resourcesOf(fleet.stack(`cluster-${name}-k8s`), "helm_release"))).toHaveLength(2);
    }
  });

  it("spread more than 5 clusters over services of at most 5 target groups each", () => {
    const fleet = synthFleet(generatedFleetSources(12));
    const rules = Object.values(resourcesOf(fleet.stack("edge"), "aws_lb_listener_rule"));
    const sizes = rules.map((r) => (r.action as { forward: { target_group: unknown[] } }[])[0].forward.target_group.length);
    expect(sizes).toEqual([5, 5, 2]);
  });
});

describe("synthesized output", () => {
  it("is byte-identical across runs", () => {
    const first = synthFleet(exampleSources());
    const second = synthFleet(exampleSources());
    expect(second.stackTexts).toEqual(first.stackTexts);
    expect(second.manifest).toEqual(first.manifest);
  });
});

describe("adding a cluster", () => {
  const before = synthFleet(generatedFleetSources(2));
  const after = synthFleet(withClusterFile(generatedFleetSources(2), "clusters/new.yaml", clusterText("new", "svc0", 0)));

  it("adds exactly that cluster's two stacks", () => {
    const added = Object.keys(after.stackTexts).filter((s) => !(s in before.stackTexts));
    expect(added).toEqual(["cluster-new", "cluster-new-k8s"]);
    expect(Object.keys(before.stackTexts).every((s) => s in after.stackTexts)).toBe(true);
  });

  it("leaves the network and every other cluster's stacks byte-identical", () => {
    for (const stack of ["network", "cluster-c00", "cluster-c00-k8s", "cluster-c01", "cluster-c01-k8s"]) {
      expect(after.stackTexts[stack]).toBe(before.stackTexts[stack]);
    }
  });

  it("adds only its target group and that group's alarms, and changes only the listener rule in the edge stack", () => {
    const { added, changed, removed } = diffResources(before.stack("edge"), after.stack("edge"));
    expect(removed).toEqual([]);
    // Its target group, and the failover's two alarms on it (healthy targets, target 5xx).
    expect(added.map(typeOf)).toEqual(["aws_cloudwatch_metric_alarm", "aws_cloudwatch_metric_alarm", "aws_lb_target_group"]);
    expect(changed.map(typeOf)).toEqual(["aws_lb_listener_rule"]);
  });
});

describe("changing a weight", () => {
  it("changes only the listener rule", () => {
    const sources = generatedFleetSources(2);
    const before = synthFleet(sources);
    const after = synthFleet(withClusterFile(sources, "clusters/c00.yaml", clusterText("c00", "svc0", 0)));
    const changedStacks = Object.keys(before.stackTexts).filter((s) => before.stackTexts[s] !== after.stackTexts[s]);
    expect(changedStacks).toEqual(["edge"]);
    const { added, changed, removed } = diffResources(before.stack("edge"), after.stack("edge"));
    expect([added, removed]).toEqual([[], []]);
    expect(changed.map(typeOf)).toEqual(["aws_lb_listener_rule"]);
  });
});

function diffResources(before: Parameters<typeof resourceAddresses>[0], after: Parameters<typeof resourceAddresses>[0]) {
  const a = resourceAddresses(before);
  const b = resourceAddresses(after);
  return {
    added: [...b.keys()].filter((k) => !a.has(k)),
    removed: [...a.keys()].filter((k) => !b.has(k)),
    changed: [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)),
  };
}

function typeOf(address: string): string {
  return address.split(".")[0];
}
