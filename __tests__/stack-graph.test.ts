import { deployInvocation, destroyInvocation } from "../modules/deploy/cdktf-commands";
import { inDependencyOrder, selectStacks, StackGraph, withDependants, withDependencies } from "../modules/deploy/stack-graph";

/** The graph of a two-cluster fleet, as its manifest.json records it. */
const graph: StackGraph = {
  stacks: ["cluster-blue", "cluster-blue-k8s", "cluster-green", "cluster-green-k8s", "edge", "network"],
  dependencies: new Map([
    ["network", []],
    ["edge", ["network"]],
    ["cluster-blue", ["edge", "network"]],
    ["cluster-blue-k8s", ["cluster-blue", "edge", "network"]],
    ["cluster-green", ["edge", "network"]],
    ["cluster-green-k8s", ["cluster-green", "edge", "network"]],
  ]),
  directories: new Map(),
};

describe("stack selection", () => {
  it("matches names and globs, every stack for none or *", () => {
    expect(selectStacks(graph.stacks, ["edge", "cluster-blue*"])).toEqual(["edge", "cluster-blue", "cluster-blue-k8s"]);
    expect(selectStacks(graph.stacks, ["cluster-?????"])).toEqual(["cluster-green"]);
    expect(selectStacks(graph.stacks, [])).toEqual(graph.stacks);
    expect(selectStacks(graph.stacks, ["*"])).toEqual(graph.stacks);
  });

  it("refuses a pattern that matches nothing, listing the stacks", () => {
    expect(() => selectStacks(graph.stacks, ["cluster-purple*"])).toThrow(
      "no stack matches 'cluster-purple*'; stacks: cluster-blue, cluster-blue-k8s, cluster-green, cluster-green-k8s, edge, network",
    );
  });

  it("closes over dependencies and dependants", () => {
    expect(withDependencies(graph, ["cluster-blue-k8s"]).sort()).toEqual(["cluster-blue", "cluster-blue-k8s", "edge", "network"]);
    expect(withDependants(graph, ["cluster-green"]).sort()).toEqual(["cluster-green", "cluster-green-k8s"]);
    expect(withDependants(graph, ["edge"]).sort()).toEqual(["cluster-blue", "cluster-blue-k8s", "cluster-green", "cluster-green-k8s", "edge"]);
  });

  it("orders stacks after their dependencies, whatever the order given", () => {
    expect(inDependencyOrder(graph, ["cluster-green-k8s", "edge", "cluster-green", "network"])).toEqual(["network", "edge", "cluster-green", "cluster-green-k8s"]);
  });
});

describe("cdktf command lines", () => {
  it("deploys a stack with its dependencies, letting cdktf order them", () => {
    expect(deployInvocation(graph, ["cluster-blue"]).argv.join(" ")).toBe("npx cdktf deploy network edge cluster-blue --skip-synth");
  });

  it("deploys only the given stacks one at a time in dependency order", () => {
    expect(deployInvocation(graph, ["cluster-blue-k8s", "cluster-blue", "edge"], { only: true, autoApprove: true }).argv.join(" ")).toBe(
      "npx cdktf deploy edge cluster-blue cluster-blue-k8s --skip-synth --ignore-missing-stack-dependencies --parallelism 1 --auto-approve",
    );
  });

  it("leaves out cdktf's provider lock when told (behind a provider mirror)", () => {
    expect(deployInvocation(graph, ["edge"], { only: true, skipProviderLock: true }).argv.join(" ")).toBe(
      "npx cdktf deploy edge --skip-synth --ignore-missing-stack-dependencies --parallelism 1 --skip-provider-lock",
    );
    expect(destroyInvocation(graph, ["cluster-blue-k8s"], { skipProviderLock: true }).argv).toContain("--skip-provider-lock");
  });

  it("destroys a stack with its dependants, dependants first", () => {
    expect(destroyInvocation(graph, ["cluster-blue"], { autoApprove: true }).argv.join(" ")).toBe(
      "npx cdktf destroy cluster-blue-k8s cluster-blue --skip-synth --auto-approve",
    );
  });
});
