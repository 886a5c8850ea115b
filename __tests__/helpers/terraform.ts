import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** AWS provider version the bindings in package.json are generated for. */
export const AWS_PROVIDER_VERSION = "5.100.0";

/** Where the test harness looks for an offline provider mirror when TF_PLUGIN_DIR is unset. */
const DEFAULT_PLUGIN_DIRS = ["/opt/tf-plugins"];

export interface TerraformSetup {
  /** Why the Terraform checks cannot run here; undefined when they can. */
  readonly unavailable?: string;
  /** Environment for terraform commands. */
  readonly env: NodeJS.ProcessEnv;
  readonly source: string;
}

/**
 * Finds terraform and the AWS provider: from the mirror in TF_PLUGIN_DIR (or a
 * known mirror on this machine), else from the registry (TERRAFORM_USE_REGISTRY=1).
 */
export function terraformSetup(): TerraformSetup {
  const version = spawnSync("terraform", ["version", "-json"], { encoding: "utf8" });
  if (version.status !== 0) {
    return { unavailable: "terraform is not on PATH", env: process.env, source: "none" };
  }
  const pluginDir = process.env.TF_PLUGIN_DIR ?? DEFAULT_PLUGIN_DIRS.find((dir) => fs.existsSync(dir));
  const cacheDir = path.join(os.tmpdir(), "fleet-terraform-plugin-cache");
  fs.mkdirSync(cacheDir, { recursive: true });
  const cliConfig = path.join(os.tmpdir(), `fleet-terraformrc-${process.pid}`);
  if (pluginDir) {
    const binary = path.join(pluginDir, "registry.terraform.io/hashicorp/aws", AWS_PROVIDER_VERSION);
    if (!fs.existsSync(binary)) {
      return { unavailable: `no AWS provider ${AWS_PROVIDER_VERSION} under ${pluginDir}`, env: process.env, source: pluginDir };
    }
    fs.writeFileSync(
      cliConfig,
      `plugin_cache_dir = "${cacheDir}"\nplugin_cache_may_break_dependency_lock_file = true\n` +
        `provider_installation {\n  filesystem_mirror {\n    path = "${pluginDir}"\n  }\n}\n`,
    );
  } else if (process.env.TERRAFORM_USE_REGISTRY === "1") {
    fs.writeFileSync(cliConfig, `plugin_cache_dir = "${cacheDir}"\n`);
  } else {
    return {
      unavailable: "no provider mirror: set TF_PLUGIN_DIR to one, or TERRAFORM_USE_REGISTRY=1 to download from the registry",
      env: process.env,
      source: "none",
    };
  }
  return {
    env: { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" },
    source: pluginDir ?? "registry",
  };
}

type StackJson = {
  provider?: Record<string, unknown>;
  output?: Record<string, { value: string }>;
  data?: { terraform_remote_state?: Record<string, unknown> };
};

/** A stack whose providers are all available offline (AWS only). */
export function isAwsOnlyStack(stackJson: { provider?: Record<string, unknown> }): boolean {
  return Object.keys(stackJson.provider ?? {}).every((name) => name === "aws");
}

/**
 * Prepares a stack so `plan` runs with no AWS account: an override file with
 * fake credentials and the provider's skip flags, and for every stack it reads
 * by cross-stack reference a state file holding only plausible outputs (that
 * state does not exist offline). Nothing here is part of the product's output.
 */
export function prepareOfflinePlan(stacksDir: string, stack: string, region: string): void {
  const override = {
    provider: {
      aws: [
        {
          access_key: "offline-test",
          secret_key: "offline-test",
          skip_credentials_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
          skip_region_validation: true,
          // The fake credentials belong to no account, so the fleet's account pin cannot be checked.
          allowed_account_ids: null,
        },
      ],
    },
  };
  fs.writeFileSync(path.join(stacksDir, stack, "harness_override.tf.json"), JSON.stringify(override, null, 2));

  const remoteStates = readStack(stacksDir, stack).data?.terraform_remote_state ?? {};
  for (const [name, remoteState] of Object.entries(remoteStates)) {
    const statePath = path.resolve(stacksDir, stack, (remoteState as { config: { path: string } }).config.path);
    const producer = name.replace(/^cross-stack-reference-input-/, "");
    const outputs = Object.entries(readStack(stacksDir, producer).output ?? {}).map(([output, { value }], i) => [
      output,
      { value: fakeValue(value, i, region), type: "string", sensitive: true },
    ]);
    fs.mkdirSync(path.dirname(statePath), { recursive: true });
    fs.writeFileSync(
      statePath,
      JSON.stringify({ version: 4, terraform_version: "1.11.0", serial: 1, lineage: "offline-harness", outputs: Object.fromEntries(outputs), resources: [] }),
    );
  }
}

function readStack(stacksDir: string, stack: string): StackJson {
  return JSON.parse(fs.readFileSync(path.join(stacksDir, stack, "cdk.tf.json"), "utf8"));
}

/** A value shaped like what `${type.name.attribute}` holds after apply. */
function fakeValue(expression: string, index: number, region: string): string {
  const match = /^\$\{([a-z0-9_]+)\.[^.]+\.([a-z_]+)\}$/.exec(expression);
  const hex = index.toString(16).padStart(17, "0");
  const key = match ? `${match[1]}.${match[2]}` : expression;
  switch (key) {
    case "aws_vpc.id":
      return `vpc-${hex}`;
    case "aws_subnet.id":
      return `subnet-${hex}`;
    case "aws_security_group.id":
      return `sg-${hex}`;
    case "aws_lb_target_group.arn":
      return `arn:aws:elasticloadbalancing:${region}:123456789012:targetgroup/offline-${index}/${hex.slice(1)}`;
    default:
      throw new Error(`the offline harness has no fake value for cross-stack output ${expression}: add one`);
  }
}
