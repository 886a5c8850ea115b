import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { exampleSources, SynthesizedFleet, synthFleet } from "./helpers/fleet";
import { isAwsOnlyStack, terraformSetup, prepareOfflinePlan } from "./helpers/terraform";

/**
 * terraform init, validate and an offline plan of every AWS-only stack, on the
 * real provider schema. The in-cluster stacks need the helm provider, which no
 * offline mirror here has; their structure is covered by the synth tests.
 */
const setup = terraformSetup();
const run = promisify(execFile);
const explicitlyOff = process.env.TERRAFORM_CHECKS === "off";

async function terraform(dir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("terraform", [`-chdir=${dir}`, ...args], { env: setup.env, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`terraform ${args[0]} failed in ${path.basename(dir)}:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

interface PlannedChange {
  address: string;
  type: string;
  change: { actions: string[]; after: Record<string, unknown> };
}

/** Plans one stack offline and returns its planned resource changes. */
async function planOffline(fleet: SynthesizedFleet, stack: string, region: string): Promise<PlannedChange[]> {
  const stacksDir = path.join(fleet.outdir, "stacks");
  const dir = path.join(stacksDir, stack);
  prepareOfflinePlan(stacksDir, stack, region);
  await terraform(dir, ["init", "-input=false", "-no-color"]);
  const validate = JSON.parse(await terraform(dir, ["validate", "-json", "-no-color"]));
  expect(validate).toMatchObject({ valid: true, error_count: 0 });
  await terraform(dir, ["plan", "-input=false", "-lock=false", "-no-color", "-out=offline.tfplan"]);
  const plan = JSON.parse(await terraform(dir, ["show", "-json", "offline.tfplan"]));
  return plan.resource_changes as PlannedChange[];
}

function awsOnlyStacks(fleet: SynthesizedFleet): string[] {
  return Object.keys(fleet.stackTexts).filter((s) => isAwsOnlyStack(fleet.stack(s)));
}

if (setup.unavailable && !explicitlyOff) {
  describe("Terraform checks", () => {
    it("can run on this machine", () => {
      throw new Error(`Terraform checks cannot run: ${setup.unavailable}. Set TERRAFORM_CHECKS=off to skip them knowingly.`);
    });
  });
} else {
  const describeTerraform = explicitlyOff ? describe.skip : describe;

  describeTerraform(`terraform validate and offline plan (provider from ${setup.source})`, () => {
    const example = synthFleet(exampleSources());
    const plans: Record<string, Promise<PlannedChange[]>> = {};
    const planOf = (fleet: SynthesizedFleet, stack: string, region: string) =>
      (plans[`${fleet.outdir}/${stack}`] ??= planOffline(fleet, stack, region));
    // Independent stacks plan side by side; each test awaits its own.
    beforeAll(() => {
      for (const stack of awsOnlyStacks(example)) planOf(example, stack, "eu-west-1").catch(() => undefined);
    });

    it("covers every AWS-only stack of the example and leaves out only the in-cluster ones", () => {
      expect(awsOnlyStacks(example)).toEqual(["cluster-blue", "cluster-green", "edge", "network"]);
    });

    it.each(["network", "edge", "cluster-blue", "cluster-green"])("%s validates and plans only creations", async (stack) => {
      const changes = await planOf(example, stack, "eu-west-1");
      expect(changes.length).toBeGreaterThan(5);
      expect(changes.filter((c) => c.change.actions.join() !== "create")).toEqual([]);
    });

    it("plans the weighted listener rule and the cluster's control plane", async () => {
      const edge = await planOf(example, "edge", "eu-west-1");
      const rule = edge.find((c) => c.type === "aws_lb_listener_rule");
      expect(rule?.change.after).toMatchObject({ priority: 100, action: [{ type: "forward" }] });
      const blue = await planOf(example, "cluster-blue", "eu-west-1");
      const cluster = blue.find((c) => c.type === "aws_eks_cluster");
      expect(cluster?.change.after).toMatchObject({ name: "demo-blue", version: "1.33" });
    });

    it("validates and plans the HTTPS edge of a fleet with a certificate", async () => {
      const fleet = synthFleet(generatedFleetSources(1));
      const edge = await planOffline(fleet, "edge", "us-east-1");
      const listeners = edge.filter((c) => c.type === "aws_lb_listener").map((c) => c.change.after);
      expect(listeners).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }),
          expect.objectContaining({ port: 80, protocol: "HTTP" }),
        ]),
      );
    });
  });
}
