import * as fs from "fs";
import * as path from "path";
import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { retireSteps } from "../modules/traffic/retire";
import { writeConfigProject } from "../scripts/lib/config-project";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { AwsStandIn, worldOf } from "./helpers/aws-stand-in";
import { runScriptAsync } from "./helpers/run-async";
import { withClusterFile } from "./helpers/fleet";

const base = generatedFleetSources(2);
const c00 = base.clusters.find((c) => c.file === "clusters/c00.yaml")!;
const retiring = withClusterFile(base, c00.file, c00.text.replace("name: c00\n", "name: c00\nstate: retiring\n").replace("svc0: 10", "svc0: 0"));

describe("retireSteps", () => {
  it("destroys the in-cluster stack, then the cluster stack, then deletes the file and deploys the edge", () => {
    const steps = retireSteps(parseFleetConfig(retiring), "c00", true);
    expect(steps.map((s) => (s.kind === "run" ? s.command.join(" ") : `rm ${s.file}`))).toEqual([
      "npx cdktf destroy cluster-c00-k8s --auto-approve",
      "npx cdktf destroy cluster-c00 --auto-approve",
      "rm clusters/c00.yaml",
      "npx cdktf deploy edge --auto-approve",
    ]);
  });

  it.each<[string, ConfigSources, string]>([
    ["a cluster carrying traffic", base, "c00 still carries traffic (svc0=10): shift it away"],
    [
      "a cluster that is not retiring",
      withClusterFile(base, c00.file, c00.text.replace("svc0: 10", "svc0: 0")),
      "c00 is active: set state: retiring in clusters/c00.yaml",
    ],
  ])("refuses %s", (_title, sources, message) => {
    expect(() => retireSteps(parseFleetConfig(sources), "c00", false)).toThrow(message);
  });

  it("refuses an unknown cluster", () => {
    expect(() => retireSteps(parseFleetConfig(retiring), "c09", false)).toThrow("unknown cluster c09; clusters: c00, c01");
  });
});

describe("npm run retire", () => {
  const script = path.join(projectRoot(), "dist", "scripts", "retire.js");
  const project = () => writeConfigProject(retiring);
  // The live fleet its first check reads before anything is destroyed.
  let aws: AwsStandIn;
  beforeEach(() => {
    aws = new AwsStandIn(worldOf(parseFleetConfig(retiring)));
    return aws.start();
  });
  afterEach(() => aws.stop());

  /** Runs the compiled command against the stand-in. */
  const retire = (args: string[], env: NodeJS.ProcessEnv = process.env) => runScriptAsync(script, args, { env: { ...env, ...aws.environment() } });

  /** A stand-in `npx` that records its arguments and whether the cluster file still exists, then exits with `exitCode`. */
  function fakeNpx(dir: string, exitCode: number): NodeJS.ProcessEnv {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, "npx"),
      `#!/bin/sh\necho "$* file=$(test -f clusters/c00.yaml && echo yes || echo no)" >> "${path.join(dir, "calls.log")}"\nexit ${exitCode}\n`,
      { mode: 0o755 },
    );
    return { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
  }

  it("runs the steps in order and deletes the file between the destroys and the edge deploy", async () => {
    const dir = project();
    const result = await retire(["c00", "--auto-approve", "--config-dir", dir], fakeNpx(dir, 0));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("edge: svc0: live c00=0 c01=10 → files c01=10\n");
    expect(fs.readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n")).toEqual([
      "cdktf destroy cluster-c00-k8s --auto-approve file=yes",
      "cdktf destroy cluster-c00 --auto-approve file=yes",
      "cdktf deploy edge --auto-approve file=no",
    ]);
  });

  it("refuses before destroying anything when the final edge deploy would revert a live failover", async () => {
    const dir = project();
    aws.rule("svc0").forward[1].weight = 20;
    const result = await retire(["c00", "--auto-approve", "--config-dir", dir], fakeNpx(dir, 0));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("svc0: a live failover (live c00=0 c01=20, last deployed c00=0 c01=10) would be reverted to the files' c01=10");
    expect(fs.existsSync(path.join(dir, "calls.log"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "clusters", "c00.yaml"))).toBe(true);
  });

  it("stops at the first failing step and keeps the cluster file", async () => {
    const dir = project();
    const result = await retire(["c00", "--config-dir", dir], fakeNpx(dir, 1));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("step 1 failed (exit 1); fix it and run npm run retire -- c00 again");
    expect(fs.readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n")).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, "clusters", "c00.yaml"))).toBe(true);
  });

  it("lists the steps on --dry-run and changes nothing", async () => {
    const dir = project();
    const result = await retire(["c00", "--dry-run", "--config-dir", dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("step 1/4: destroy cluster-c00-k8s (controller and bindings)\n  npx cdktf destroy cluster-c00-k8s");
    expect(result.stdout).toContain("step 3/4: delete clusters/c00.yaml");
    expect(fs.existsSync(path.join(dir, "clusters", "c00.yaml"))).toBe(true);
  });
});
