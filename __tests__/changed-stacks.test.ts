import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigSources } from "../modules/config/load";
import { stacksToPlan } from "../modules/plan/changed-stacks";
import { synthesizeAtRevision } from "../modules/plan/synth-at-revision";
import { projectRoot } from "../modules/support/project-root";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { exampleSources, shifted, synthFleet, withClusterFile, withS3Backend } from "./helpers/fleet";

const example = exampleSources();
const exampleOut = synthFleet(example).outdir;

function editFile(sources: ConfigSources, file: string, edit: (text: string) => string): ConfigSources {
  if (file === sources.platform.file) return { ...sources, platform: { ...sources.platform, text: edit(sources.platform.text) } };
  return withClusterFile(sources, file, edit(sources.clusters.find((c) => c.file === file)!.text));
}

/** The stacks to plan for a change of the example, sorted. */
function toPlan(after: ConfigSources, before = exampleOut): string[] {
  return [...stacksToPlan(synthFleet(after).outdir, before).toPlan.keys()].sort();
}

describe("stacks to plan since a base synthesis", () => {
  it("none when nothing changed; every stack is reported unchanged", () => {
    const selection = stacksToPlan(synthFleet(example).outdir, exampleOut);
    expect([...selection.toPlan.keys()]).toEqual([]);
    expect(selection.unchanged).toEqual(["cluster-blue", "cluster-blue-k8s", "cluster-green", "cluster-green-k8s", "edge", "network"]);
    expect(selection.removed).toEqual([]);
  });

  it("only the edge for a weight shift, with the listener rule as the reason", () => {
    const selection = stacksToPlan(synthFleet(shifted(example, { blue: 0, green: 100 })).outdir, exampleOut);
    expect([...selection.toPlan.keys()]).toEqual(["edge"]);
    expect(selection.toPlan.get("edge")).toMatch(/^changed: aws_lb_listener_rule\./);
  });

  it("only the edge for a weight shift in a 10-cluster fleet", () => {
    const fleet = generatedFleetSources(10);
    const moved = shifted(fleet, { c00: 0, c01: 40 });
    expect(toPlan(moved, synthFleet(fleet).outdir)).toEqual(["edge"]);
  });

  it("the edge and the new cluster's stacks when a cluster is added, no other cluster's", () => {
    const green = example.clusters.find((c) => c.file === "clusters/green.yaml")!.text;
    const purple = green.replace(/^name: green$/m, "name: purple").replace(/^(\s+web:) \d+$/m, "$1 0");
    expect(purple).not.toBe(green);
    const added = withClusterFile(example, "clusters/purple.yaml", purple);
    expect(toPlan(added)).toEqual(["cluster-purple", "cluster-purple-k8s", "edge"]);
    // The other way round, the cluster's stacks are gone: nothing can plan them.
    expect(stacksToPlan(exampleOut, synthFleet(added).outdir).removed).toEqual(["cluster-purple", "cluster-purple-k8s"]);
  });

  it("a cluster upgrade plans that cluster and its in-cluster stack, which reads the cluster's outputs", () => {
    const upgraded = editFile(example, "clusters/blue.yaml", (t) => t.replace('kubernetesVersion: "1.33"', 'kubernetesVersion: "1.34"'));
    const selection = stacksToPlan(synthFleet(upgraded).outdir, exampleOut);
    expect([...selection.toPlan.keys()].sort()).toEqual(["cluster-blue", "cluster-blue-k8s"]);
    expect(selection.toPlan.get("cluster-blue-k8s")).toMatch(/^reads outputs of other stacks that may change/);
  });

  it("replaced target groups pull in every stack reading their ARNs", () => {
    const newPort = editFile(example, "platform.yaml", (t) => t.replace("containerPort: 8080", "containerPort: 9090"));
    expect(toPlan(newPort)).toEqual(["cluster-blue", "cluster-blue-k8s", "cluster-green", "cluster-green-k8s", "edge"]);
  });

  it("finds who reads which output through S3 state as well", () => {
    const fleet = withS3Backend(generatedFleetSources(3), "  type: s3\n  bucket: acme-terraform-state\n");
    const base = synthFleet(fleet).outdir;
    expect(toPlan(shifted(fleet, { c00: 0 }), base)).toEqual(["edge"]);
    const newPort = editFile(fleet, "platform.yaml", (t) => t.replace("containerPort: 8080", "containerPort: 9090"));
    expect(toPlan(newPort, base)).toEqual(["cluster-c00", "cluster-c00-k8s", "cluster-c01", "cluster-c01-k8s", "cluster-c02", "cluster-c02-k8s", "edge"]);
  });

  it("a stack with a data source reading live infrastructure is planned with any stack it depends on", () => {
    const withLiveData = (outdir: string, edgeChange: boolean) => {
      const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-copy-")), "cdktf.out");
      fs.cpSync(outdir, copy, { recursive: true });
      const edit = (stack: string, change: (json: Record<string, Record<string, unknown>>) => void) => {
        const file = path.join(copy, "stacks", stack, "cdk.tf.json");
        const json = JSON.parse(fs.readFileSync(file, "utf8"));
        change(json);
        fs.writeFileSync(file, JSON.stringify(json));
      };
      edit("cluster-green", (json) => (json.data = { ...json.data, aws_vpcs: { all: {} } }));
      if (edgeChange) edit("edge", (json) => (json.resource = { ...json.resource, aws_sns_topic: { ...(json.resource.aws_sns_topic as object), alerts: { name: "alerts" } } }));
      return copy;
    };
    const selection = stacksToPlan(withLiveData(exampleOut, true), withLiveData(exampleOut, false));
    expect([...selection.toPlan]).toEqual([
      ["edge", "changed: aws_sns_topic.alerts"],
      ["cluster-green", "reads live infrastructure and depends on edge, which is planned"],
      // What the data source reads may change any output: the stack reading them follows.
      ["cluster-green-k8s", expect.stringMatching(/^reads outputs of other stacks that may change/)],
    ]);
  });

  it("a changed asset plans its stack; a changed `//` comment plans nothing", () => {
    const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-copy-")), "cdktf.out");
    fs.cpSync(exampleOut, copy, { recursive: true });
    const assets = path.join(copy, "stacks", "cluster-green-k8s", "assets");
    const chart = execFileSync("find", [assets, "-name", "values.yaml"], { encoding: "utf8" }).trim().split("\n")[0];
    fs.appendFileSync(chart, "# edited\n");
    const edgeFile = path.join(copy, "stacks", "edge", "cdk.tf.json");
    const edge = JSON.parse(fs.readFileSync(edgeFile, "utf8"));
    edge["//"] = { note: "comments are not Terraform" };
    fs.writeFileSync(edgeFile, JSON.stringify(edge));
    const selection = stacksToPlan(copy, exampleOut);
    expect([...selection.toPlan]).toEqual([["cluster-green-k8s", "changed: assets"]]);
  });
});

describe("synthesis at a git revision", () => {
  const git = (dir: string, ...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: "pipe" });

  /** A checkout of this project (as it is now) in a new git repository, with one commit. */
  function projectCheckout(): string {
    const root = projectRoot();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-checkout-"));
    const files = git(root, "ls-files", "--cached", "--others", "--exclude-standard").split("\n").filter((f) => f && fs.existsSync(path.join(root, f)));
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(root, file), path.join(dir, file));
    }
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
    fs.writeFileSync(path.join(dir, ".gitignore"), "node_modules\ndist/\ncdktf.out/\n");
    git(dir, "init", "-q");
    git(dir, "add", "-A");
    git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base");
    return dir;
  }

  it("uses the revision's own files: an edited chart plans only the in-cluster stacks, from a checkout", () => {
    const checkout = projectCheckout();
    fs.appendFileSync(path.join(checkout, "charts", "target-group-bindings", "values.yaml"), "# edited\n");
    const current = path.join(checkout, "cdktf.out");
    const synth = spawnSync(process.execPath, [path.join(checkout, "bin", "run.js"), "main.ts"], { cwd: os.tmpdir(), encoding: "utf8" });
    expect(synth.stderr).toBe("");
    const base = synthesizeAtRevision(checkout, "HEAD", path.join(checkout, "base.out"));
    expect(base).toEqual({ outdir: path.join(checkout, "base.out") });
    expect([...stacksToPlan(current, path.join(checkout, "base.out")).toPlan.keys()].sort()).toEqual(["cluster-blue-k8s", "cluster-green-k8s"]);
  });

  it("cannot compare with an unknown revision, or once the installed packages changed", () => {
    const checkout = projectCheckout();
    expect(synthesizeAtRevision(checkout, "no-such-rev", path.join(checkout, "base.out"))).toEqual({
      unavailable: `no-such-rev is not a commit of the repository holding ${checkout}`,
    });
    fs.appendFileSync(path.join(checkout, "package-lock.json"), "\n");
    expect(synthesizeAtRevision(checkout, "HEAD", path.join(checkout, "base.out"))).toEqual({ unavailable: "package-lock.json changed since HEAD" });
  });
});
