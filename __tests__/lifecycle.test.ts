import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { assertSafeTransition, carriesTraffic, checkTransition, effectiveNodeGroups } from "../modules/config/lifecycle";
import { effectiveChartReplicas, effectiveWorkloadScale } from "../modules/config/scale";
import { ConfigError, ConfigSources, parseFleetConfig } from "../modules/config/load";
import type { ClusterConfig } from "../modules/config/schema";
import type { WorkloadConfig } from "../modules/config/workload-schema";
import { writeConfigProject } from "../scripts/lib/config-project";
import { clusterText, generatedFleetSources } from "../scripts/lib/generated-fleet";
import { resourcesOf, synthFleet, withClusterFile } from "./helpers/fleet";
import { entryPoint } from "./helpers/entry-point";

const base = generatedFleetSources(2);
const edit = (sources: ConfigSources, cluster: string, change: (text: string) => string) =>
  withClusterFile(sources, `clusters/${cluster}.yaml`, change(sources.clusters.find((c) => c.file === `clusters/${cluster}.yaml`)!.text));
const drained = edit(base, "c00", (t) => t.replace("svc0: 10", "svc0: 0"));

function transitionProblems(from: ConfigSources, to: ConfigSources): string[] {
  return checkTransition(parseFleetConfig(from), parseFleetConfig(to)).map((p) => `${p.file}: ${p.field}: ${p.message}`);
}

describe("cluster lifecycle, checked against the previous configuration", () => {
  it("allows a one-minor upgrade of a cluster without traffic", () => {
    expect(transitionProblems(drained, edit(drained, "c00", (t) => t.replace('"1.33"', '"1.34"')))).toEqual([]);
  });

  it("refuses a version change while the cluster carries traffic", () => {
    expect(transitionProblems(base, edit(base, "c00", (t) => t.replace('"1.33"', '"1.34"')))).toEqual([
      "clusters/c00.yaml: kubernetesVersion: changes 1.33 → 1.34 while c00 carries traffic: shift its weights to 0 and merge that first",
    ]);
  });

  it("refuses draining and upgrading in the same change", () => {
    const drainAndUpgrade = edit(base, "c00", (t) => t.replace("svc0: 10", "svc0: 0").replace('"1.33"', '"1.34"'));
    expect(transitionProblems(base, drainAndUpgrade).join("\n")).toContain("shift its weights to 0 and merge that first");
  });

  it("judges traffic on the new configuration too: a drained cluster is not upgraded and given weight again in one change", () => {
    const upgradeAndRefill = edit(drained, "c00", (t) => t.replace("svc0: 0", "svc0: 10").replace('"1.33"', '"1.34"'));
    expect(transitionProblems(drained, upgradeAndRefill)).toEqual([
      "clusters/c00.yaml: kubernetesVersion: changes 1.33 → 1.34 while c00 carries traffic: shift its weights to 0 and merge that first",
    ]);
    const repinAndRefill = edit(drained, "c00", (t) => t.replace("svc0: 0", "svc0: 10").replace("    maxSize: 3", "    maxSize: 3\n    amiType: BOTTLEROCKET_x86_64"));
    expect(transitionProblems(drained, repinAndRefill)).toEqual([
      "clusters/c00.yaml: nodeGroups[0].amiType: changes AL2023_x86_64_STANDARD → BOTTLEROCKET_x86_64 while c00 carries traffic: shift its weights to 0 and merge that first",
    ]);
  });

  it("refuses skipping a minor version and downgrading", () => {
    expect(transitionProblems(drained, edit(drained, "c00", (t) => t.replace('"1.33"', '"1.35"')))).toEqual([
      "clusters/c00.yaml: kubernetesVersion: 1.33 → 1.35 skips a version: EKS upgrades one minor version at a time (1.33 → 1.34 first)",
    ]);
    expect(transitionProblems(drained, edit(drained, "c00", (t) => t.replace('"1.33"', '"1.32"')))).toEqual([
      "clusters/c00.yaml: kubernetesVersion: 1.33 → 1.32 is a downgrade, which EKS cannot do",
    ]);
  });

  it("refuses a node AMI change while the cluster carries traffic", () => {
    const pinned = edit(base, "c00", (t) => t.replace("    maxSize: 3", "    maxSize: 3\n    releaseVersion: 1.33.0-20250101"));
    expect(transitionProblems(base, pinned)).toEqual([
      "clusters/c00.yaml: nodeGroups[0].releaseVersion: changes (latest) → 1.33.0-20250101 while c00 carries traffic: shift its weights to 0 and merge that first",
    ]);
  });

  const withState = (sources: ConfigSources, state: string) => edit(sources, "c00", (t) => t.replace("name: c00\n", `name: c00\nstate: ${state}\n`));

  it.each([
    ["standby", "draining", "a standby cluster may become active"],
    ["standby", "retiring", "a standby cluster may become active"],
    ["retiring", "active", "a retiring cluster is only removed, with npm run retire -- c00"],
    ["retiring", "standby", "a retiring cluster is only removed, with npm run retire -- c00"],
  ])("refuses %s → %s, which the runbook's state machine does not allow", (from, to, allowed) => {
    expect(transitionProblems(withState(drained, from), withState(drained, to))).toEqual([`clusters/c00.yaml: state: ${from} → ${to} is not a lifecycle step: ${allowed}`]);
  });

  it.each([
    ["active", "draining"],
    ["active", "standby"],
    ["active", "retiring"],
    ["draining", "active"],
    ["draining", "standby"],
    ["draining", "retiring"],
    ["standby", "active"],
  ])("allows %s → %s", (from, to) => {
    expect(transitionProblems(withState(drained, from), withState(drained, to))).toEqual([]);
  });

  it("refuses standby → active together with traffic: edge would deploy before the nodes scale up", () => {
    expect(transitionProblems(withState(drained, "standby"), edit(withState(drained, "active"), "c00", (t) => t.replace("svc0: 0", "svc0: 10")))).toEqual([
      "clusters/c00.yaml: weights.svc0: is 10 in the change that brings c00 back from standby: edge deploys before its nodes scale up; set state: active alone, deploy, check health, then give it traffic in a later change",
    ]);
  });

  it("starts a new cluster at weight 0", () => {
    expect(transitionProblems(base, withClusterFile(base, "clusters/new.yaml", clusterText("new", "svc0", 0)))).toEqual([]);
    expect(transitionProblems(base, withClusterFile(base, "clusters/new.yaml", clusterText("new", "svc0", 5)))).toEqual([
      "clusters/new.yaml: weights.svc0: is 5, but new is a new cluster: it starts at weight 0 and gets traffic in a later change, once it is deployed and healthy",
    ]);
  });

  it("routes an existing service to an existing cluster at weight 0 first: edge would apply before the cluster's binding exists", () => {
    const six = generatedFleetSources(6);
    const routeSvc1 = (weight: number) => edit(six, "c00", (t) => t.replace("svc0: 10", `svc0: 10\n  svc1: ${weight}`));
    expect(transitionProblems(six, routeSvc1(0))).toEqual([]);
    expect(transitionProblems(six, routeSvc1(7))).toEqual([
      "clusters/c00.yaml: weights.svc1: is 7, but svc1 is newly routed to c00: a new route starts at weight 0; deploy it, then shift traffic to it in a later change (npm run shift, health-gated)",
    ]);
    // Then shifting it up is an ordinary change.
    expect(transitionProblems(routeSvc1(0), routeSvc1(7))).toEqual([]);
  });

  it("lets a service new to the fleet start with weight where its clusters already run", () => {
    const withSvc9 = (sources: ConfigSources) => ({
      ...sources,
      platform: { ...sources.platform, text: `${sources.platform.text}  - name: svc9\n    servicePort: 80\n    containerPort: 9090\n    hosts: [svc9.example.com]\n    priority: 99\n` },
    });
    expect(transitionProblems(base, edit(withSvc9(base), "c00", (t) => t.replace("svc0: 10", "svc0: 10\n  svc9: 5")))).toEqual([]);
  });

  it("removes only a retiring cluster without traffic", () => {
    const withoutC00 = { ...base, clusters: base.clusters.filter((c) => c.file !== "clusters/c00.yaml") };
    expect(transitionProblems(base, withoutC00)).toEqual([
      "clusters/c00.yaml: : cluster c00 was removed, but it was active and carried traffic: first merge a change that sets state: retiring and every weight to 0, then run npm run retire -- c00",
    ]);
    const retiring = edit(drained, "c00", (t) => t.replace("name: c00\n", "name: c00\nstate: retiring\n"));
    expect(transitionProblems(retiring, withoutC00)).toEqual([]);
  });

  it("names the state of a removed cluster, and traffic only when it carried some", () => {
    const withoutC00 = { ...base, clusters: base.clusters.filter((c) => c.file !== "clusters/c00.yaml") };
    expect(transitionProblems(drained, withoutC00)).toEqual([
      "clusters/c00.yaml: : cluster c00 was removed, but it was active: first merge a change that sets state: retiring and every weight to 0, then run npm run retire -- c00",
    ]);
  });

  it("leaves a cluster's state as it is without a lifecycle step, and changes node groups freely without traffic", () => {
    const retiring = withState(drained, "retiring");
    expect(transitionProblems(retiring, retiring)).toEqual([]);
    const repinned = edit(drained, "c00", (t) => t.replace("    maxSize: 3", "    maxSize: 3\n    amiType: BOTTLEROCKET_x86_64\n    releaseVersion: 1.33.0-20250101"));
    expect(transitionProblems(drained, repinned)).toEqual([]);
    const newGroup = edit(base, "c00", (t) => t.replace("weights:", "  - name: extra\n    minSize: 1\n    desiredSize: 1\n    maxSize: 2\n    amiType: BOTTLEROCKET_x86_64\nweights:"));
    expect(transitionProblems(base, newGroup)).toEqual([]);
  });

  it("throws the problems of an unsafe change as a configuration error, and nothing for a safe one", () => {
    const upgraded = parseFleetConfig(edit(base, "c00", (t) => t.replace('"1.33"', '"1.34"')));
    expect(() => assertSafeTransition(parseFleetConfig(base), upgraded)).toThrow(ConfigError);
    expect(() => assertSafeTransition(parseFleetConfig(base), upgraded)).toThrow("clusters/c00.yaml: kubernetesVersion: changes 1.33 → 1.34 while c00 carries traffic");
    expect(() => assertSafeTransition(parseFleetConfig(drained), parseFleetConfig(edit(drained, "c00", (t) => t.replace('"1.33"', '"1.34"'))))).not.toThrow();
  });

  it("refuses leaving standby for a state other than active, without judging the weights as a return to active", () => {
    expect(transitionProblems(withState(drained, "standby"), edit(withState(drained, "draining"), "c00", (t) => t.replace("svc0: 0", "svc0: 10")))).toEqual([
      "clusters/c00.yaml: state: standby → draining is not a lifecycle step: a standby cluster may become active",
      "clusters/c00.yaml: weights.svc0: rises 0 → 10 on a draining cluster: set state: active to give it traffic again",
    ]);
  });

  it("says (latest) for a node image unpinned while the cluster carries traffic", () => {
    const pinned = edit(base, "c00", (t) => t.replace("    maxSize: 3", "    maxSize: 3\n    releaseVersion: 1.33.0-20250101"));
    expect(transitionProblems(pinned, base)).toEqual([
      "clusters/c00.yaml: nodeGroups[0].releaseVersion: changes 1.33.0-20250101 → (latest) while c00 carries traffic: shift its weights to 0 and merge that first",
    ]);
  });

  it("refuses a downgrade of a cluster with traffic for both reasons", () => {
    expect(transitionProblems(base, edit(base, "c00", (t) => t.replace('"1.33"', '"1.32"')))).toEqual([
      "clusters/c00.yaml: kubernetesVersion: 1.33 → 1.32 is a downgrade, which EKS cannot do",
      "clusters/c00.yaml: kubernetesVersion: changes 1.33 → 1.32 while c00 carries traffic: shift its weights to 0 and merge that first",
    ]);
  });

  it("refuses to change how the creator got its access entry, which replaces the cluster", () => {
    const bootstrapped = edit(base, "c00", (t) => `${t}bootstrapCreatorAdmin: true\n`);
    expect(transitionProblems(bootstrapped, base)).toEqual([
      "clusters/c00.yaml: bootstrapCreatorAdmin: changes true → false, which replaces the EKS cluster c00: keep it as the cluster was created, or build a new cluster and retire this one",
    ]);
  });

  it("lets a draining cluster's weights only go down", () => {
    const draining = edit(base, "c00", (t) => t.replace("name: c00\n", "name: c00\nstate: draining\n"));
    expect(transitionProblems(draining, edit(draining, "c00", (t) => t.replace("svc0: 10", "svc0: 5")))).toEqual([]);
    expect(transitionProblems(draining, edit(draining, "c00", (t) => t.replace("svc0: 10", "svc0: 20")))).toEqual([
      "clusters/c00.yaml: weights.svc0: rises 10 → 20 on a draining cluster: set state: active to give it traffic again",
    ]);
  });

  it("lets a draining cluster's share only go down: its peers' weights falling raise it", () => {
    const draining = edit(base, "c00", (t) => t.replace("name: c00\n", "name: c00\nstate: draining\n"));
    expect(transitionProblems(draining, edit(draining, "c01", (t) => t.replace("svc0: 10", "svc0: 1")))).toEqual([
      "clusters/c00.yaml: weights.svc0: stays 10 but its share of svc0 rises 50% → 91% as the other clusters' weights fall, on a draining cluster: lower its weight too",
    ]);
    expect(transitionProblems(draining, edit(edit(draining, "c01", (t) => t.replace("svc0: 10", "svc0: 1")), "c00", (t) => t.replace("svc0: 10", "svc0: 1")))).toEqual([]);
  });
});

describe("a cluster's effective settings", () => {
  const cluster = (change: Partial<ClusterConfig>): ClusterConfig => ({ ...parseFleetConfig(base).clusters[0].config, ...change });
  const group = { ...parseFleetConfig(base).clusters[0].config.nodeGroups[0], minSize: 1, desiredSize: 2, maxSize: 3 };
  const web = (workload: Partial<WorkloadConfig>) => workload as WorkloadConfig;

  it("carries traffic when some weight is above 0", () => {
    expect(carriesTraffic(cluster({ weights: { a: 0, b: 1 } }))).toBe(true);
    expect(carriesTraffic(cluster({ weights: { a: 0 } }))).toBe(false);
    expect(carriesTraffic(cluster({ weights: {} }))).toBe(false);
  });

  it("keeps the node groups as written, but scales them down to standbyNodes on standby", () => {
    const active = cluster({ nodeGroups: [group] });
    expect(effectiveNodeGroups(active)).toBe(active.nodeGroups);
    expect(effectiveNodeGroups(cluster({ state: "draining", nodeGroups: [group] }))).toEqual([group]);
    expect(effectiveNodeGroups(cluster({ state: "standby", standbyNodes: 2, nodeGroups: [group] }))).toEqual([{ ...group, minSize: 2, desiredSize: 2, maxSize: 3 }]);
    expect(effectiveNodeGroups(cluster({ state: "standby", standbyNodes: 5, nodeGroups: [group] }))).toEqual([{ ...group, minSize: 5, desiredSize: 5, maxSize: 5 }]);
  });

  it("scales a workload by the cluster's overrides over the service's settings, to one pod without autoscaling on standby", () => {
    const fixed = web({ replicas: 3 });
    const autoscaled = web({ replicas: 3, minReplicas: 2, maxReplicas: 6 });
    expect(effectiveWorkloadScale(cluster({}), "web", fixed)).toEqual({ replicas: 3 });
    expect(effectiveWorkloadScale(cluster({}), "web", autoscaled)).toEqual({ replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 6 } });
    expect(effectiveWorkloadScale(cluster({ workloads: { web: { replicas: 4, maxReplicas: 8 } } }), "web", autoscaled)).toEqual({ replicas: 4, autoscaling: { minReplicas: 2, maxReplicas: 8 } });
    expect(effectiveWorkloadScale(cluster({ workloads: { web: { minReplicas: 3 } } }), "web", autoscaled)).toEqual({ replicas: 3, autoscaling: { minReplicas: 3, maxReplicas: 6 } });
    expect(effectiveWorkloadScale(cluster({ workloads: { api: { replicas: 9 } } }), "web", fixed)).toEqual({ replicas: 3 });
    expect(effectiveWorkloadScale(cluster({}), "web", web({ replicas: 3, minReplicas: 2 }))).toEqual({ replicas: 2 });
    expect(effectiveWorkloadScale(cluster({ state: "standby" }), "web", autoscaled)).toEqual({ replicas: 1 });
    expect(effectiveWorkloadScale(cluster({ state: "standby", workloads: { web: { replicas: 0 } } }), "web", fixed)).toEqual({ replicas: 0 });
  });

  it("tells a chart its replicas only when the cluster file overrides them, or one on standby", () => {
    expect(effectiveChartReplicas(cluster({}), "web")).toBeUndefined();
    expect(effectiveChartReplicas(cluster({ workloads: { web: { replicas: 3 } } }), "web")).toBe(3);
    expect(effectiveChartReplicas(cluster({ state: "standby" }), "web")).toBe(1);
    expect(effectiveChartReplicas(cluster({ state: "standby", workloads: { web: { replicas: 3 } } }), "web")).toBe(1);
    expect(effectiveChartReplicas(cluster({ state: "standby", workloads: { web: { replicas: 0 } } }), "web")).toBe(0);
  });
});

describe("standby clusters", () => {
  const standby = edit(drained, "c00", (t) => t.replace("name: c00\n", "name: c00\nstate: standby\nstandbyNodes: 1\n"));

  it("take no traffic", () => {
    const withWeight = edit(standby, "c00", (t) => t.replace("svc0: 0", "svc0: 5"));
    expect(() => parseFleetConfig(withWeight)).toThrow(ConfigError);
    expect(() => parseFleetConfig(withWeight)).toThrow(
      "clusters/c00.yaml: weights.svc0: is 5, but a standby cluster takes no traffic: set weight 0, or set state: active before giving it traffic",
    );
  });

  it("scale their node groups down to the floor", () => {
    const groups = Object.values(resourcesOf(synthFleet(standby).stack("cluster-c00"), "aws_eks_node_group"));
    expect(groups.map((g) => g.scaling_config)).toEqual([{ min_size: 1, desired_size: 1, max_size: 3 }]);
  });
});

describe("npm run synth", () => {
  const mainTs = entryPoint("main.ts");
  function gitProject(sources: ConfigSources): string {
    const dir = writeConfigProject(sources, "fleet-git-");
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "ignore" });
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base");
    return dir;
  }

  it("with --base refuses an unsafe change and leaves the output alone", () => {
    const dir = gitProject(base);
    fs.writeFileSync(path.join(dir, "clusters/c00.yaml"), clusterText("c00", "svc0", 10, "1.34"));
    const result = spawnSync(process.execPath, [...mainTs, dir, "--base", "main"], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("clusters/c00.yaml: kubernetesVersion: changes 1.33 → 1.34 while c00 carries traffic");
    expect(fs.existsSync(path.join(dir, "cdktf.out"))).toBe(false);
    const unknownRevision = spawnSync(process.execPath, [...mainTs, dir, "--base", "nope"], { encoding: "utf8" });
    expect(unknownRevision.stderr).toContain("--base: nope is not a git revision");
  });

  it("with --base refuses a new route with weight, saying to start at 0", () => {
    const dir = gitProject(generatedFleetSources(6));
    fs.writeFileSync(path.join(dir, "clusters/c00.yaml"), clusterText("c00", "svc0", 10).replace("svc0: 10", "svc0: 10\n  svc1: 7"));
    const result = spawnSync(process.execPath, [...mainTs, dir, "--base", "main"], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("clusters/c00.yaml: weights.svc1: is 7, but svc1 is newly routed to c00: a new route starts at weight 0");
    expect(fs.existsSync(path.join(dir, "cdktf.out"))).toBe(false);
  });

  it("with --base accepts a safe change", () => {
    const dir = gitProject(drained);
    fs.writeFileSync(path.join(dir, "clusters/c00.yaml"), clusterText("c00", "svc0", 0, "1.34"));
    const result = spawnSync(process.execPath, [...mainTs, dir, "--base", "main"], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("with --base says a problem comes from the base revision", () => {
    const broken = edit(base, "c00", (t) => t.replace("maxSize: 3", "maxSize: 1"));
    const dir = gitProject(broken);
    fs.writeFileSync(path.join(dir, "clusters/c00.yaml"), base.clusters[0].text);
    const result = spawnSync(process.execPath, [...mainTs, dir, "--base", "main"], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--base main: the fleet's files at that revision are invalid, so this change cannot be checked against them");
    expect(result.stderr).toContain("  main:clusters/c00.yaml: nodeGroups[0].desiredSize: desiredSize (2) is above maxSize (1)");
  });

  it("with --base outside a git repository says so, without a stack trace", () => {
    const dir = writeConfigProject(base);
    const result = spawnSync(process.execPath, [...mainTs, dir, "--base", "main"], { encoding: "utf8", env: { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(dir) } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--base: main is not a git revision of");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it("with --base accepts a first fleet, whose base has no fleet files", () => {
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "fleet-git-"));
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "ignore" });
    git("init", "-q", "-b", "main");
    fs.writeFileSync(path.join(dir, "README.md"), "infrastructure\n");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "empty");
    const project = writeConfigProject(base);
    fs.cpSync(project, dir, { recursive: true });
    const result = spawnSync(process.execPath, [...mainTs, dir, "--base", "main"], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("--base main has no platform.yaml: no fleet to compare with");
  });

  it("warns, without a stack trace, when a state file of a removed cluster is corrupt", () => {
    const dir = gitProject(base);
    fs.mkdirSync(path.join(dir, "state"));
    fs.writeFileSync(path.join(dir, "state", "cluster-old.tfstate"), '{"version": 4, "resources": [');
    fs.writeFileSync(path.join(dir, "state", "cluster-one.tfstate"), JSON.stringify({ version: 4, resources: [{}] }));
    const result = spawnSync(process.execPath, [...mainTs, dir], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stderr.trim().split("\n")).toEqual([
      "WARNING: state/cluster-old.tfstate is not valid JSON, so whether cluster old, whose file is gone, still has resources is unknown. " +
        "Repair it from its backup (state/cluster-old.tfstate.backup) and check; if it has resources, restore clusters/old.yaml and retire it with npm run retire -- old.",
      "WARNING: state/cluster-one.tfstate still holds 1 resource of cluster one, whose file is gone. They keep running and nothing manages them: restore clusters/one.yaml and retire it with npm run retire -- one.",
    ]);
  });

  it("warns loudly when local state holds resources of a cluster whose file is gone", () => {
    const dir = gitProject(base);
    fs.mkdirSync(path.join(dir, "state"));
    const state = (resources: number) => JSON.stringify({ version: 4, resources: Array.from({ length: resources }, () => ({})) });
    fs.writeFileSync(path.join(dir, "state", "cluster-old.tfstate"), state(12));
    fs.writeFileSync(path.join(dir, "state", "cluster-gone.tfstate"), state(0));
    fs.writeFileSync(path.join(dir, "state", "cluster-c00.tfstate"), state(30));
    const result = spawnSync(process.execPath, [...mainTs, dir], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stderr.trim().split("\n")).toEqual([
      "WARNING: state/cluster-old.tfstate still holds 12 resources of cluster old, whose file is gone. They keep running and nothing manages them: restore clusters/old.yaml and retire it with npm run retire -- old.",
    ]);
  });
});
