import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { deployInvocation } from "../modules/deploy/cdktf-commands";
import { readStackGraph } from "../modules/deploy/stack-graph";
import { changedStackNames, loadStackPlans } from "../modules/plan/plan-json";
import { runPlans } from "../modules/plan/runner";
import { summarizePlans } from "../modules/plan/summary";
import { cdktfTerraformSettings, runTerraform, TerraformEnvironment } from "../modules/plan/terraform";
import { projectRoot } from "../modules/support/project-root";
import { describeWithTerraform } from "./helpers/terraform-checks";

/**
 * Two stacks as cdktf synthesizes them: `producer` holds values
 * (terraform_data, no provider needed) and exports them as cross-stack outputs;
 * `consumer` reads some of them from the producer's state, as a cluster stack
 * reads the edge's target group ARNs.
 */
function writeApp(dir: string, produced: Record<string, string>, read: readonly string[]): string {
  const outdir = path.join(dir, "cdktf.out");
  const stack = (name: string, json: object) => {
    fs.mkdirSync(path.join(outdir, "stacks", name), { recursive: true });
    const metadata = { "//": { metadata: { backend: "local", stackName: name, version: "0.21.0" } } };
    fs.writeFileSync(path.join(outdir, "stacks", name, "cdk.tf.json"), JSON.stringify({ ...metadata, ...json }, null, 2));
  };
  const backend = (name: string) => ({ backend: { local: { path: `../../../state/${name}.tfstate` } } });
  stack("producer", {
    terraform: backend("producer"),
    resource: { terraform_data: Object.fromEntries(Object.entries(produced).map(([name, value]) => [name, { input: value }])) },
    output: Object.fromEntries(Object.keys(produced).map((name) => [`cross-stack-output-terraform_data${name}output`, { value: `\${terraform_data.${name}.output}`, sensitive: true }])),
  });
  stack("consumer", {
    terraform: backend("consumer"),
    data: { terraform_remote_state: { "cross-stack-reference-input-producer": { backend: "local", config: { path: "../../../state/producer.tfstate" }, workspace: "${terraform.workspace}" } } },
    resource: {
      terraform_data: Object.fromEntries(
        read.map((name) => [`copy-${name}`, { input: `\${data.terraform_remote_state.cross-stack-reference-input-producer.outputs.cross-stack-output-terraform_data${name}output}` }]),
      ),
    },
  });
  const entry = (name: string, dependencies: string[]) => ({
    name,
    constructPath: name,
    annotations: [],
    dependencies,
    synthesizedStackPath: `stacks/${name}/cdk.tf.json`,
    stackMetadataPath: `stacks/${name}/metadata.json`,
    workingDirectory: `stacks/${name}`,
  });
  for (const name of ["producer", "consumer"]) fs.writeFileSync(path.join(outdir, "stacks", name, "metadata.json"), "{}");
  fs.writeFileSync(path.join(outdir, "manifest.json"), JSON.stringify({ version: "0.21.0", stacks: { producer: entry("producer", []), consumer: entry("consumer", ["producer"]) } }, null, 2));
  return outdir;
}

/** The consumer's applied values, by resource name. */
function consumerValues(dir: string): Record<string, unknown> {
  const state = JSON.parse(fs.readFileSync(path.join(dir, "state", "consumer.tfstate"), "utf8"));
  const resources = state.resources as { mode: string; name: string; instances: { attributes: { output: { value: unknown } } }[] }[];
  return Object.fromEntries(resources.filter((r) => r.mode === "managed").map((r) => [r.name, r.instances[0].attributes.output.value]));
}

const statusOf = (outdir: string) => Object.fromEntries(loadStackPlans(outdir).map((s) => [s.stack, s.status]));

describeWithTerraform("plans of stacks reading each other's outputs", (terraform: TerraformEnvironment) => {
  const plan = (outdir: string, unchanged?: Map<string, string>) => runPlans({ outdir, terraform, region: "eu-west-1", unchanged });

  it("plans after the producer applies, never fails the plan, and the summary says which and why", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-after-apply-"));
    // A first deploy: nothing applied, the consumer reads an output the producer's plan creates.
    let outdir = writeApp(dir, { a: "one" }, ["a"]);
    let statuses = await plan(outdir);
    expect(statuses.map((s) => [s.stack, s.status])).toEqual([
      ["consumer", "deferred"],
      ["producer", "planned"],
    ]);
    expect(statuses[0]).toMatchObject({ after: ["producer"], reason: expect.stringMatching(/^plans after producer applies: producer's plan creates or changes the output it reads/) });
    expect(fs.existsSync(path.join(outdir, "plans", "consumer.json"))).toBe(false);
    const summary = summarizePlans(loadStackPlans(outdir));
    expect(summary.exitCode).toBe(0);
    // The deploy takes both.
    expect(changedStackNames(loadStackPlans(outdir))).toEqual(["consumer", "producer"]);
    expect(summary.markdown).toContain("## Terraform plan: no dangerous changes · 1 of 2 stacks change · 1 plans after another stack applies\n");
    expect(summary.markdown).toMatch(/\| consumer \| – \| – \| – \| – \| ⏳ plans after producer applies: producer's plan creates/);

    // Applied: the consumer plans.
    await runTerraform(terraform, path.join(outdir, "stacks", "producer"), ["apply", "-input=false", "-no-color", "-auto-approve"]);
    expect(statusOf(outdir)).toMatchObject({ consumer: "deferred" });
    await plan(outdir);
    expect(statusOf(outdir)).toEqual({ consumer: "planned", producer: "planned" });

    // The producer gains an output the consumer reads: whether the producer is planned or left unchanged.
    outdir = writeApp(dir, { a: "one", b: "two" }, ["a", "b"]);
    statuses = await plan(outdir);
    expect(statuses[0]).toMatchObject({ status: "deferred", reason: expect.stringContaining("producer's plan creates or changes the output it reads (cross-stack-output-terraform_databoutput)") });
    statuses = await plan(outdir, new Map([["producer", "unchanged since HEAD"]]));
    expect(statuses[0]).toMatchObject({ status: "deferred", reason: "plans after producer applies: producer's state has no output cross-stack-output-terraform_databoutput yet" });

    // A changed value the consumer reads: its plan would show the old one.
    outdir = writeApp(dir, { a: "uno" }, ["a"]);
    statuses = await plan(outdir);
    expect(statuses[0]).toMatchObject({ status: "deferred", after: ["producer"] });

    // A consumer whose own configuration is broken still fails.
    outdir = writeApp(dir, { a: "one" }, ["a"]);
    const consumerFile = path.join(outdir, "stacks", "consumer", "cdk.tf.json");
    fs.writeFileSync(consumerFile, fs.readFileSync(consumerFile, "utf8").replace('"terraform_data"', '"no_such_resource_type"'));
    statuses = await plan(outdir);
    expect(statuses[0]).toMatchObject({ status: "failed" });
  });

  it("deploys producer then consumer in one cdktf deploy, each planned after what it reads from is applied", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-after-apply-deploy-"));
    fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ language: "typescript", app: "false" }));
    fs.symlinkSync(path.join(projectRoot(), "node_modules"), path.join(dir, "node_modules"));
    const settings = cdktfTerraformSettings(terraform.providerSource === "registry" ? undefined : terraform.providerSource);
    const env = { ...settings.env, CI: "1", FORCE_COLOR: "0", CHECKPOINT_DISABLE: "1", CDKTF_DISABLE_TELEMETRY: "true" };
    const deploy = async (only: boolean) => {
      const outdir = path.join(dir, "cdktf.out");
      const invocation = deployInvocation(readStackGraph(outdir), ["consumer", "producer"], { only, autoApprove: true, output: outdir, skipProviderLock: settings.skipProviderLock });
      expect(invocation.stacks).toEqual(["producer", "consumer"]);
      await promisify(execFile)(invocation.argv[0], invocation.argv.slice(1), { cwd: dir, env, maxBuffer: 64 * 1024 * 1024 });
    };
    // The deploy job's line (--only, one at a time in dependency order), from nothing.
    writeApp(dir, { a: "one" }, ["a"]);
    await deploy(true);
    expect(consumerValues(dir)).toEqual({ "copy-a": "one" });
    // A new output and a changed one, with cdktf ordering the stacks itself.
    writeApp(dir, { a: "uno", b: "two" }, ["a", "b"]);
    await deploy(false);
    expect(consumerValues(dir)).toEqual({ "copy-a": "uno", "copy-b": "two" });
  });

  it("plans without taking the state lock, even while another process holds it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-plan-no-lock-"));
    const outdir = writeApp(dir, { a: "one" }, ["a"]);
    await runTerraform(terraform, path.join(outdir, "stacks", "producer"), ["init", "-input=false", "-no-color"]);
    await runTerraform(terraform, path.join(outdir, "stacks", "producer"), ["apply", "-input=false", "-no-color", "-auto-approve"]);
    // A deploy holding the producer's state lock (Terraform's local backend locks the state file with fcntl).
    const holder = spawn("python3", ["-c", "import fcntl,sys,time; f=open(sys.argv[1],'r+'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)", path.join(dir, "state", "producer.tfstate")]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once("data", () => resolve());
        holder.once("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
      });
      const statuses = await plan(outdir);
      expect(statuses.map((s) => [s.stack, s.status, s.status === "failed" ? s.reason.split("\n").slice(0, 3).join(" ") : ""])).toEqual([
        ["consumer", "planned", ""],
        ["producer", "planned", ""],
      ]);
    } finally {
      holder.kill();
    }
  });
});
