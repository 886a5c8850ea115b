import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { deployInvocation, destroyInvocation, runCdktf } from "../modules/deploy/cdktf-commands";
import { inDependencyOrder, readStackGraph, selectStacks, StackGraph, withDependants, withDependencies } from "../modules/deploy/stack-graph";
import { UserError } from "../modules/support/user-error";

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

  it("takes only * and ? as wildcards", () => {
    expect(() => selectStacks(["edge", "edgy"], ["edg."])).toThrow("no stack matches 'edg.'; stacks: edge, edgy");
    expect(() => selectStacks(["cluster-a"], ["cluster-a+"])).toThrow("no stack matches 'cluster-a+'");
    expect(() => selectStacks(["edge"], ["edg"])).toThrow("no stack matches 'edg'");
    expect(() => selectStacks(["edge"], ["dge"])).toThrow("no stack matches 'dge'");
    expect(selectStacks(["edge", "edgy", "network"], ["edg?", "edge"])).toEqual(["edge", "edgy"]);
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
    // Ties by name; dependencies left out count as deployed.
    expect(inDependencyOrder(graph, ["cluster-green-k8s", "cluster-green", "cluster-blue-k8s", "cluster-blue"])).toEqual(["cluster-blue", "cluster-green", "cluster-blue-k8s", "cluster-green-k8s"]);
  });

  it("closes over chains whatever their order, stacks without an entry, and cycles", () => {
    const chain: StackGraph = { stacks: ["a", "b", "c"], dependencies: new Map([["a", ["b"]], ["b", ["c"]]]), directories: new Map() };
    expect(withDependants(chain, ["c"]).sort()).toEqual(["a", "b", "c"]);
    expect(withDependencies(chain, ["a"]).sort()).toEqual(["a", "b", "c"]);
    expect(withDependants(chain, ["a"])).toEqual(["a"]);
    const cycle: StackGraph = { stacks: ["a", "b"], dependencies: new Map([["a", ["b"]], ["b", ["a"]]]), directories: new Map() };
    expect(withDependencies(cycle, ["a"]).sort()).toEqual(["a", "b"]);
  });

  it("refuses a dependency cycle", () => {
    const cycle: StackGraph = { stacks: ["a", "b", "c"], dependencies: new Map([["a", ["b"]], ["b", ["a"]], ["c", []]]), directories: new Map() };
    expect(() => inDependencyOrder(cycle, ["a", "b", "c"])).toThrow("dependency cycle among a, b");
  });

  it("reads the graph from cdktf's manifest, names and dependencies sorted", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-manifest-"));
    const manifest = { stacks: { edge: { dependencies: ["network"], workingDirectory: "stacks/edge" }, network: { workingDirectory: "stacks/network" }, "cluster-a": { dependencies: ["network", "edge"], workingDirectory: "stacks/cluster-a" } } };
    fs.writeFileSync(path.join(outdir, "manifest.json"), JSON.stringify(manifest));
    const read = readStackGraph(outdir);
    expect(read.stacks).toEqual(["cluster-a", "edge", "network"]);
    expect([...read.dependencies]).toEqual([["edge", ["network"]], ["network", []], ["cluster-a", ["edge", "network"]]]);
    expect(read.directories.get("cluster-a")).toBe(path.join(outdir, "stacks/cluster-a"));
    fs.rmSync(outdir, { recursive: true });
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

  it("names the output folder only when it is not cdktf.out", () => {
    expect(deployInvocation(graph, ["network"], { output: "elsewhere" }).argv.join(" ")).toBe("npx cdktf deploy network --skip-synth --output elsewhere");
    expect(deployInvocation(graph, ["network"], { output: "cdktf.out" }).argv.join(" ")).toBe("npx cdktf deploy network --skip-synth");
    expect(destroyInvocation(graph, ["cluster-green-k8s"], { output: "elsewhere" })).toEqual({
      argv: ["npx", "cdktf", "destroy", "cluster-green-k8s", "--skip-synth", "--output", "elsewhere"],
      stacks: ["cluster-green-k8s"],
    });
  });

  it("runs an invocation from the project root, where cdktf.json is, wherever it is started", () => {
    const started = process.cwd();
    process.chdir(os.tmpdir());
    try {
      expect(() => runCdktf({ argv: [process.execPath, "-e", "process.exit(require('fs').existsSync('cdktf.json') ? 0 : 3)"], stacks: [] }, "deploy failed")).not.toThrow();
    } finally {
      process.chdir(started);
    }
  });

  it("runs an invocation, and turns its failure into a user error with the exit code and the advice", () => {
    expect(() => runCdktf({ argv: [process.execPath, "-e", ""], stacks: [] }, "deploy failed")).not.toThrow();
    expect(() => runCdktf({ argv: [process.execPath, "-e", "process.exit(3)"], stacks: [] }, "deploy failed", "fix it")).toThrow(new UserError("deploy failed (exit 3); fix it"));
    expect(() => runCdktf({ argv: [process.execPath, "-e", "process.exit(3)"], stacks: [] }, "deploy failed")).toThrow(new UserError("deploy failed (exit 3)"));
  });

  it("destroys a stack with its dependants, dependants first", () => {
    expect(destroyInvocation(graph, ["cluster-blue"], { autoApprove: true }).argv.join(" ")).toBe(
      "npx cdktf destroy cluster-blue-k8s cluster-blue --skip-synth --auto-approve",
    );
  });
});
