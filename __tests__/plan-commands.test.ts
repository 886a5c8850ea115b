import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cdktfTerraformSettings, installsFromMirror } from "../modules/plan/terraform";
import { projectRoot } from "../modules/support/project-root";
import { writeConfigProject } from "../scripts/lib/config-project";
import { exampleSources } from "./helpers/fleet";
import { describeWithTerraform } from "./helpers/terraform-checks";
import { STACK_TRACE } from "./helpers/stack-trace";
import { entryPoint } from "./helpers/entry-point";

const run = (script: string, args: string[]) => spawnSync(process.execPath, [...entryPoint(`scripts/${script}`), ...args], { encoding: "utf8" });

/** A project whose cdktf.out/plans holds one planned stack, made at `plannedAt`. */
function plannedProject(plannedAt: Date): string {
  const dir = writeConfigProject(exampleSources());
  const plans = path.join(dir, "cdktf.out", "plans");
  fs.mkdirSync(plans, { recursive: true });
  fs.writeFileSync(path.join(plans, "edge.json"), JSON.stringify({ resource_changes: [] }));
  fs.writeFileSync(path.join(plans, "status.json"), JSON.stringify([{ stack: "edge", status: "planned", planFile: "plans/edge.json" }]));
  fs.utimesSync(path.join(plans, "status.json"), plannedAt, plannedAt);
  const edited = new Date(plannedAt.getTime() - 60_000);
  for (const file of ["platform.yaml", "clusters/blue.yaml", "clusters/green.yaml"]) fs.utimesSync(path.join(dir, file), edited, edited);
  return dir;
}

describe("npm run plan", () => {
  it("refuses an unknown --stack before synthesizing or planning anything", () => {
    const dir = writeConfigProject(exampleSources());
    const result = run("plan.ts", ["--config-dir", dir, "--stack", "edge", "--stack", "cluster-purple"]);
    expect(result.status).toBe(1);
    expect(result.stderr.split("\n")[0]).toBe("no stack matches 'cluster-purple'; stacks: cluster-blue, cluster-blue-k8s, cluster-green, cluster-green-k8s, edge, network");
    expect(fs.existsSync(path.join(dir, "cdktf.out"))).toBe(false);
  });
});

describe("npm run plan-summary", () => {
  it("says to plan first when there are no plans", () => {
    const dir = writeConfigProject(exampleSources());
    const result = run("plan-summary.ts", ["--config-dir", dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`no plans in ${path.join(dir, "cdktf.out", "plans")}: run npm run plan first\n`);
  });

  it("refuses an --out it cannot write, without a stack trace", () => {
    const dir = plannedProject(new Date());
    const out = path.join(dir, "missing", "summary.md");
    const result = run("plan-summary.ts", ["--config-dir", dir, "--out", out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`cannot write the summary to ${out}: does not exist (or a folder on its path does not)\n`);
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it("reports a corrupt plan file as a user error", () => {
    const dir = plannedProject(new Date());
    fs.writeFileSync(path.join(dir, "cdktf.out", "plans", "edge.json"), '{"resource_changes": [');
    const result = run("plan-summary.ts", ["--config-dir", dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("plans/edge.json: not valid JSON (cut short or edited?); run npm run plan again");
    expect(result.stderr).not.toMatch(STACK_TRACE);
  });

  it("warns, on stderr and in the summary, when the configuration changed after the plans were made", () => {
    const dir = plannedProject(new Date(Date.now() - 60_000));
    const fresh = run("plan-summary.ts", ["--config-dir", dir]);
    expect(fresh.stderr).toBe("");
    fs.appendFileSync(path.join(dir, "clusters", "blue.yaml"), "# changed\n");
    const stale = run("plan-summary.ts", ["--config-dir", dir]);
    expect(stale.status).toBe(0);
    expect(stale.stderr).toBe("WARNING: the plans are older than clusters/blue.yaml: run npm run plan again before trusting this summary\n");
    expect(stale.stdout).toMatch(/^> \*\*Warning:\*\* these plans are older than clusters\/blue\.yaml/);
  });
});

describeWithTerraform("the Terraform environment of npm run plan", (terraform) => {
  it("reuses one CLI configuration per provider mirror instead of leaving a temporary file per run", () => {
    // Two runs in a process with a temporary folder of its own, so that every file they leave is seen, whatever its name.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-tmpdir-"));
    const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-two-runs-"));
    const script = path.join(scriptDir, "two-runs.ts");
    fs.writeFileSync(
      script,
      `import { terraformEnvironment } from ${JSON.stringify(path.join(projectRoot(), "modules/plan/terraform"))};\n` +
        `const runs = [1, 2].map(() => terraformEnvironment({ pluginDir: ${JSON.stringify(terraform.providerSource)} }).env.TF_CLI_CONFIG_FILE);\n` +
        "console.log(JSON.stringify(runs));\n",
    );
    try {
      const result = spawnSync(process.execPath, [path.join(projectRoot(), "bin", "run.js"), script], { encoding: "utf8", env: { ...process.env, TMPDIR: tmp } });
      expect(result.stderr).toBe("");
      const [first, second] = JSON.parse(result.stdout) as string[];
      expect(second).toBe(first);
      expect(path.dirname(first)).toBe(path.join(tmp, "fleet-terraform-plugin-cache"));
      expect(fs.readdirSync(tmp, { recursive: true }).map(String).sort()).toEqual(["fleet-terraform-plugin-cache", path.join("fleet-terraform-plugin-cache", path.basename(first))]);
      expect(fs.readFileSync(first, "utf8")).toContain(`path = "${terraform.providerSource}"`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.rmSync(scriptDir, { recursive: true, force: true });
    }
  });

  it("tells cdktf to leave out its registry-bound provider lock behind a mirror, and only there", () => {
    expect(cdktfTerraformSettings(terraform.providerSource).skipProviderLock).toBe(true);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cli-home-"));
    const config = (text: string) => {
      fs.writeFileSync(path.join(home, ".terraformrc"), text);
      return installsFromMirror({ HOME: home });
    };
    expect(config('provider_installation {\n  network_mirror {\n    url = "https://mirror.example/"\n  }\n}\n')).toBe(true);
    expect(config('provider_installation {\n  direct {}\n}\n')).toBe(false);
    expect(config('plugin_cache_dir = "/tmp/cache"\n')).toBe(false);
    fs.rmSync(path.join(home, ".terraformrc"));
    expect(installsFromMirror({ HOME: home })).toBe(false);
    expect(installsFromMirror({ HOME: home, TF_CLI_CONFIG_FILE: terraform.env.TF_CLI_CONFIG_FILE })).toBe(terraform.providerSource !== "registry");
  });
});
