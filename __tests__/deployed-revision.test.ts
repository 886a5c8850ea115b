import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DeployedRevisionRecord } from "../modules/deploy/deployed-revision";
import { writeConfigProject } from "../scripts/lib/config-project";
import { entryPoint } from "./helpers/entry-point";
import { exampleSources } from "./helpers/fleet";
import { fleetRepository } from "./helpers/fleet-repository";
import { describeWithTerraform } from "./helpers/terraform-checks";

/** No AWS: every endpoint refuses the connection at once. */
const NO_AWS = { ...process.env, AWS_ENDPOINT_URL: "http://127.0.0.1:1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "", AWS_DEFAULT_REGION: "" };
const run = (script: string, args: string[]) => spawnSync(process.execPath, [...entryPoint(`scripts/${script}.ts`), ...args], { encoding: "utf8", env: NO_AWS });

describe("the deployed revision record", () => {
  it("is nothing until written, then the commit written; a record that is no commit id is refused, naming the file", async () => {
    const dir = writeConfigProject(exampleSources());
    const record = new DeployedRevisionRecord({ type: "local", directory: "state" }, { name: "demo", region: "eu-west-1" }, dir);
    expect(record.location).toBe(path.join(dir, "state", "deployed-revision"));
    expect(await record.read()).toBeUndefined();
    await record.write("0123456789abcdef0123456789abcdef01234567");
    expect(await record.read()).toBe("0123456789abcdef0123456789abcdef01234567");
    fs.writeFileSync(record.location, "main\n");
    await expect(record.read()).rejects.toThrow(`${record.location}: holds 'main', not a git commit id`);
    const s3 = new DeployedRevisionRecord({ type: "s3", bucket: "demo-state" }, { name: "demo", region: "eu-west-1" }, dir);
    expect(s3.location).toBe("s3://demo-state/demo/deployed-revision");
  });
});

describe("the commands' help", () => {
  it("names the deployed revision in plan and deploy", () => {
    expect(run("plan", ["--help"]).stdout).toContain("REV 'deployed': the revision the last successful deploy recorded beside the state");
    expect(run("deploy", ["--help"]).stdout).toContain("--record-deployed  once the deploy succeeds, record the checked-out commit as deployed beside the state");
    expect(run("plan-summary", ["--help"]).stdout).toContain("--deploy-gate SINCE");
  });
});

describeWithTerraform("npm run plan -- --changed-since deployed", (terraform) => {
  const mirror = terraform.providerSource === "registry" ? [] : ["--plugin-dir", terraform.providerSource];

  it("plans what changed since the last successful deploy, so a skipped or failed run is caught up", () => {
    const { dir, commit } = fleetRepository();
    const recordFile = path.join(dir, "state", "deployed-revision");
    // No record yet: every stack.
    let plan = run("plan", ["--offline", "--changed-since", "deployed", "--stack", "cluster-blue-k8s", "--config-dir", dir, ...mirror]);
    expect(plan.stdout).toContain(`planning every stack: no deployed revision recorded at ${recordFile} yet`);

    // A deploy job that had nothing to deploy records its commit.
    const first = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const recorded = run("deploy", ["--only", "--record-deployed", "--config-dir", dir]);
    expect(recorded.stderr).toBe("");
    expect(recorded.stdout).toContain(`nothing to deploy\nrecorded ${first} as deployed in ${recordFile}`);
    expect(fs.readFileSync(recordFile, "utf8")).toBe(`${first}\n`);

    // Two merges: a weight shift (its run cancelled), then a node group change whose deploy fails.
    expect(run("shift", ["blue=0", "green=100", "--config-dir", dir]).status).toBe(0);
    commit("shift");
    fs.writeFileSync(path.join(dir, "clusters", "green.yaml"), fs.readFileSync(path.join(dir, "clusters", "green.yaml"), "utf8").replace("desiredSize: 2", "desiredSize: 3"));
    commit("green nodes");
    const failed = run("deploy", ["--only", "edge", "--auto-approve", "--record-deployed", "--config-dir", dir]);
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain("AWS call failed");
    expect(fs.readFileSync(recordFile, "utf8")).toBe(`${first}\n`);

    // The next run plans both changes; comparing with the previous commit would have missed the shift.
    plan = run("plan", ["--offline", "--changed-since", "deployed", "--stack", "cluster-blue-k8s", "--config-dir", dir, ...mirror]);
    expect(plan.stderr).toBe("");
    expect(plan.stdout).toContain(`last deployed revision: ${first} (${recordFile})`);
    expect(plan.stdout).toMatch(new RegExp(`^edge may change since ${first}: changed: aws_lb_listener_rule`, "m"));
    expect(plan.stdout).toMatch(new RegExp(`^cluster-green may change since ${first}: changed: aws_eks_node_group`, "m"));
    expect(plan.stdout).not.toMatch(/^cluster-blue may change/m);
  });

  it("refuses to record over a newer deploy, or with uncommitted changes, and changes nothing", () => {
    const { dir, commit } = fleetRepository();
    const older = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    expect(run("shift", ["blue=0", "green=100", "--config-dir", dir]).status).toBe(0);
    const newer = commit("shift");
    expect(run("deploy", ["--only", "--record-deployed", "--config-dir", dir]).status).toBe(0);
    const recordFile = path.join(dir, "state", "deployed-revision");

    execFileSync("git", ["-C", dir, "checkout", "-q", older]);
    const rerun = run("deploy", ["--only", "--record-deployed", "--config-dir", dir]);
    expect(rerun.status).toBe(1);
    expect(rerun.stderr).toContain(`${recordFile} records ${newer}, which is not an ancestor of the checked-out ${older}: deploying it could put older files over what is live`);
    expect(fs.readFileSync(recordFile, "utf8")).toBe(`${newer}\n`);

    execFileSync("git", ["-C", dir, "checkout", "-q", "-"]);
    fs.appendFileSync(path.join(dir, "clusters", "blue.yaml"), "# edited\n");
    const edited = run("deploy", ["--only", "--record-deployed", "--config-dir", dir]);
    expect(edited.status).toBe(1);
    expect(edited.stderr).toContain("--record-deployed: uncommitted changes (M clusters/blue.yaml, …)");
    expect(fs.readFileSync(recordFile, "utf8")).toBe(`${newer}\n`);

    execFileSync("git", ["-C", dir, "checkout", "-q", "--", "clusters/blue.yaml"]);
    const green = fs.readFileSync(path.join(dir, "clusters", "green.yaml"), "utf8");
    fs.writeFileSync(path.join(dir, "clusters", "purple.yaml"), green.replace("name: green", "name: purple").replace(/web: \d+/, "web: 0"));
    const added = run("deploy", ["--only", "--record-deployed", "--config-dir", dir]);
    expect(added.status).toBe(1);
    expect(added.stderr).toContain("--record-deployed: uncommitted changes (?? clusters/purple.yaml, …)");
  });
});
