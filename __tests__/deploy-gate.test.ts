import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { dangerAcknowledgements } from "../modules/plan/acknowledgement";
import { findDangers } from "../modules/plan/dangers";
import { entryPoint } from "./helpers/entry-point";
import { fleetRepository } from "./helpers/fleet-repository";

const summary = (dir: string, args: string[]) =>
  spawnSync(process.execPath, [...entryPoint("scripts/plan-summary.ts"), "--config-dir", dir, ...args], { encoding: "utf8", env: { ...process.env, PLAN_ALLOW_DANGEROUS: "" } });

/** Plans in the project's cdktf.out: cluster-blue's EKS cluster replaced (critical), or a log group replaced (a warning). */
function writePlans(dir: string, type: "aws_eks_cluster" | "aws_cloudwatch_log_group"): void {
  const plans = path.join(dir, "cdktf.out", "plans");
  fs.mkdirSync(plans, { recursive: true });
  const change = { address: `${type}.x`, type, mode: "managed", change: { actions: ["delete", "create"], before: {}, after: {}, replace_paths: [["name"]] } };
  fs.writeFileSync(path.join(plans, "cluster-blue.json"), JSON.stringify({ resource_changes: [change] }));
  fs.writeFileSync(path.join(plans, "status.json"), JSON.stringify([{ stack: "cluster-blue", status: "planned", planFile: "plans/cluster-blue.json" }]));
}

describe("the deploy's gate on critical dangers (plan-summary --deploy-gate)", () => {
  it("refuses critical dangers until a merged commit carries the Allow-dangerous-changes trailer", () => {
    const { dir, commit } = fleetRepository();
    const base = commit("base");
    commit("replace the blue cluster");
    writePlans(dir, "aws_eks_cluster");

    const refused = summary(dir, ["--deploy-gate", base, "--out", path.join(dir, "summary.md")]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`refusing to deploy 1 critical danger that no merged commit acknowledged (${base.slice(0, 12)}..HEAD):\n  cluster-blue aws_eks_cluster.x: EKS cluster replaced`);
    expect(refused.stderr).toContain("merge a commit whose message ends with the trailer 'Allow-dangerous-changes: <reason>'");
    // The pull request's label or flag is not the merged change's word.
    expect(summary(dir, ["--deploy-gate", base, "--allow-dangerous", "--out", path.join(dir, "summary.md")]).status).toBe(2);

    // A trailer without a reason does not count; one with a reason, in any commit since the base, does.
    commit("follow-up\n\nAllow-dangerous-changes:");
    expect(summary(dir, ["--deploy-gate", base, "--out", path.join(dir, "summary.md")]).status).toBe(2);
    const acknowledging = commit("Rebuild blue\n\nBlue is drained.\n\nAllow-dangerous-changes: blue rebuilt on a new VPC, drained first");
    commit("later change");
    const accepted = summary(dir, ["--deploy-gate", base, "--out", path.join(dir, "summary.md")]);
    expect(accepted.stderr).toContain(`critical dangers accepted by ${acknowledging.slice(0, 12)}: blue rebuilt on a new VPC, drained first`);
    expect(accepted.status).toBe(0);
    // Not once deployed past it.
    expect(summary(dir, ["--deploy-gate", acknowledging, "--out", path.join(dir, "summary.md")]).status).toBe(2);
  });

  it("reads the range from the recorded deploy, and lets warnings through", () => {
    const { dir, commit } = fleetRepository();
    const deployed = commit("deployed");
    fs.mkdirSync(path.join(dir, "state"));
    fs.writeFileSync(path.join(dir, "state", "deployed-revision"), `${deployed}\n`);
    commit("Rebuild blue\n\nAllow-dangerous-changes: rebuilt");
    writePlans(dir, "aws_eks_cluster");
    expect(summary(dir, ["--deploy-gate", "deployed", "--out", path.join(dir, "summary.md")]).status).toBe(0);
    fs.writeFileSync(path.join(dir, "state", "deployed-revision"), `${commit("after")}\n`);
    expect(summary(dir, ["--deploy-gate", "deployed", "--out", path.join(dir, "summary.md")]).status).toBe(2);
    writePlans(dir, "aws_cloudwatch_log_group");
    expect(summary(dir, ["--deploy-gate", "deployed", "--out", path.join(dir, "summary.md")]).status).toBe(0);
  });

  it("reads the trailers of every commit in the range, newest first", () => {
    const { dir, commit } = fleetRepository();
    const base = commit("base");
    const first = commit("a\n\nAllow-dangerous-changes: one");
    const second = commit("b\n\nAllow-dangerous-changes: two\nAllow-dangerous-changes: three");
    expect(dangerAcknowledgements(dir, base)).toEqual([
      { commit: second, reason: "two" },
      { commit: second, reason: "three" },
      { commit: first, reason: "one" },
    ]);
    expect(dangerAcknowledgements(dir, second)).toEqual([]);
  });

  it("does not take a cluster added at weight 0 during a live failover for a revert of it", () => {
    const failover = [
      { stack: "edge", service: "web", cluster: "blue", before: 0, after: 0, deployed: 50 },
      { stack: "edge", service: "web", cluster: "green", before: 100, after: 100, deployed: 50 },
    ];
    expect(findDangers([], [...failover, { stack: "edge", service: "web", cluster: "purple", after: 0 }])).toEqual([]);
    expect(findDangers([], [...failover, { stack: "edge", service: "web", cluster: "purple", after: 10 }]).map((d) => d.reason)).toEqual([expect.stringContaining("reverts a live failover")]);
  });
});
