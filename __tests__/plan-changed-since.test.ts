import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "../modules/support/project-root";
import { writeConfigProject } from "../scripts/lib/config-project";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { describeWithTerraform } from "./helpers/terraform-checks";

const launcher = path.join(projectRoot(), "bin", "run.js");
const run = (script: string, args: string[]) => spawnSync(process.execPath, [launcher, `scripts/${script}.ts`, ...args], { encoding: "utf8" });

describeWithTerraform("npm run plan -- --changed-since", (terraform) => {
  it("plans only the edge for a weight shift, and the summary lists the stacks left unchanged", () => {
    const dir = writeConfigProject(generatedFleetSources(3));
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "pipe" });
    git("init", "-q");
    git("add", "-A");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "fleet");
    expect(run("shift", ["c00=0", "--config-dir", dir]).status).toBe(0);

    const mirror = terraform.providerSource === "registry" ? [] : ["--plugin-dir", terraform.providerSource];
    const plan = run("plan", ["--offline", "--changed-since", "HEAD", "--config-dir", dir, ...mirror]);
    expect(plan.stderr).toBe("");
    expect(plan.status).toBe(0);
    expect(plan.stdout).toMatch(/^edge may change since HEAD: changed: aws_lb_listener_rule\./m);
    expect(plan.stdout).toContain("1 of 8 stacks planned into cdktf.out/plans");
    const statuses = JSON.parse(fs.readFileSync(path.join(dir, "cdktf.out", "plans", "status.json"), "utf8"));
    expect(statuses.map((s: { stack: string; status: string }) => `${s.stack} ${s.status}`)).toEqual([
      "cluster-c00 unchanged",
      "cluster-c00-k8s unchanged",
      "cluster-c01 unchanged",
      "cluster-c01-k8s unchanged",
      "cluster-c02 unchanged",
      "cluster-c02-k8s unchanged",
      "edge planned",
      "network unchanged",
    ]);

    const summary = run("plan-summary", ["--outdir", path.join(dir, "cdktf.out")]);
    expect(summary.status).toBe(0);
    expect(summary.stdout).toContain("1 of 8 stacks change · 7 unchanged");
    expect(summary.stdout).toContain(
      "Not planned, unchanged since HEAD (7): `cluster-c00`, `cluster-c00-k8s`, `cluster-c01`, `cluster-c01-k8s`, `cluster-c02`, `cluster-c02-k8s`, `network`",
    );
    expect(summary.stdout).toContain("| svc0 | c00 | – → 0 **changed** |");
  });
});
