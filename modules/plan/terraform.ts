import { execFile, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { UserError } from "../support/user-error";

/** AWS provider version the bindings in package.json are generated for. */
export const AWS_PROVIDER_VERSION = "5.100.0";

/** How terraform commands run: their environment, and where providers come from. */
export interface TerraformEnvironment {
  readonly env: NodeJS.ProcessEnv;
  /** The provider mirror, or "registry". */
  readonly providerSource: string;
}

export interface TerraformEnvironmentOptions {
  /**
   * Folder of a provider mirror (`registry.terraform.io/hashicorp/aws/<version>/<os_arch>/`).
   * @default providers come from the registry, as the user's Terraform configuration says
   */
  readonly pluginDir?: string;
}

/**
 * The environment for terraform: with a mirror, a CLI configuration that
 * installs providers only from it; in every case a shared plugin cache, so
 * each stack links the provider instead of copying it.
 * Throws when terraform or the mirror's AWS provider is missing.
 */
export function terraformEnvironment(options: TerraformEnvironmentOptions = {}): TerraformEnvironment {
  if (spawnSync("terraform", ["version"], { encoding: "utf8" }).status !== 0) {
    throw new UserError("terraform is not on PATH");
  }
  const cacheDir = path.join(os.tmpdir(), "fleet-terraform-plugin-cache");
  fs.mkdirSync(cacheDir, { recursive: true });
  const base = { ...process.env, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
  if (!options.pluginDir) {
    return { env: { ...base, TF_PLUGIN_CACHE_DIR: process.env.TF_PLUGIN_CACHE_DIR ?? cacheDir }, providerSource: "registry" };
  }
  const provider = path.join(options.pluginDir, "registry.terraform.io/hashicorp/aws", AWS_PROVIDER_VERSION);
  if (!fs.existsSync(provider)) throw new UserError(`no AWS provider ${AWS_PROVIDER_VERSION} under ${options.pluginDir}`);
  const settings =
    `plugin_cache_dir = "${cacheDir}"\nplugin_cache_may_break_dependency_lock_file = true\n` +
    `provider_installation {\n  filesystem_mirror {\n    path = "${options.pluginDir}"\n  }\n}\n`;
  // One CLI configuration per mirror, kept in the shared cache folder: runs reuse it instead of leaving one file each.
  const cliConfig = path.join(cacheDir, `terraformrc-${createHash("sha256").update(settings).digest("hex").slice(0, 16)}`);
  if (!fs.existsSync(cliConfig)) fs.writeFileSync(cliConfig, settings);
  return { env: { ...base, TF_CLI_CONFIG_FILE: cliConfig }, providerSource: options.pluginDir };
}

/** A CLI configuration's `provider_installation` block naming a filesystem or network mirror. */
const MIRROR_INSTALLATION = /provider_installation\s*\{[^]*?\b(?:filesystem_mirror|network_mirror)\s*\{/;

/**
 * Whether terraform run in `env` installs providers from a mirror: its CLI
 * configuration (`TF_CLI_CONFIG_FILE`, else `~/.terraformrc`) has a
 * `provider_installation` block with a filesystem or network mirror.
 */
export function installsFromMirror(env: NodeJS.ProcessEnv): boolean {
  const cliConfig = env.TF_CLI_CONFIG_FILE || (env.HOME ? path.join(env.HOME, ".terraformrc") : undefined);
  if (!cliConfig || !fs.existsSync(cliConfig)) return false;
  return MIRROR_INSTALLATION.test(fs.readFileSync(cliConfig, "utf8"));
}

/** How the cdktf CLI runs terraform: its environment, and whether to leave out its `terraform providers lock`. */
export interface CdktfTerraformSettings {
  readonly env: NodeJS.ProcessEnv;
  /** True behind a mirror: `terraform providers lock` asks the registry whatever the mirrors are. */
  readonly skipProviderLock: boolean;
}

/**
 * The settings for `cdktf deploy` / `destroy`: with a plugin folder (`TF_PLUGIN_DIR`),
 * a CLI configuration installing providers only from it; else the user's own
 * environment and CLI configuration. Behind a mirror either way, no provider lock.
 */
export function cdktfTerraformSettings(pluginDir: string | undefined = process.env.TF_PLUGIN_DIR): CdktfTerraformSettings {
  const env = pluginDir ? terraformEnvironment({ pluginDir }).env : process.env;
  return { env, skipProviderLock: installsFromMirror(env) };
}

const execFileAsync = promisify(execFile);

/** Runs terraform in `dir`; rejects with its output when it fails. */
export async function runTerraform(environment: TerraformEnvironment, dir: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync("terraform", [`-chdir=${dir}`, ...args], {
      env: environment.env,
      maxBuffer: 512 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`terraform ${args[0]} failed in ${path.basename(dir)}:\n${(e.stderr || e.stdout || String(error)).trim()}`);
  }
}

type StackJson = {
  provider?: Record<string, unknown>;
  output?: Record<string, { value: string }>;
  data?: { terraform_remote_state?: Record<string, unknown> };
};

/** Providers of a synthesized stack that an offline AWS mirror cannot supply. */
export function providersMissingOffline(stackJson: { provider?: Record<string, unknown> }): string[] {
  return Object.keys(stackJson.provider ?? {}).filter((name) => name !== "aws");
}

/**
 * Prepares a stack so `plan` runs with no AWS account: an override file with
 * fake credentials and the provider's skip flags, and for every stack it reads
 * by cross-stack reference a state file holding only plausible outputs (that
 * state does not exist offline). Only for offline plans and tests; never part
 * of the synthesized output.
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
  fs.writeFileSync(path.join(stacksDir, stack, "offline_override.tf.json"), JSON.stringify(override, null, 2));

  const remoteStates = readStack(stacksDir, stack).data?.terraform_remote_state ?? {};
  for (const [name, remoteState] of Object.entries(remoteStates)) {
    const statePath = path.resolve(stacksDir, stack, (remoteState as { config: { path: string } }).config.path);
    if (fs.existsSync(statePath)) continue;
    const producer = name.replace(/^cross-stack-reference-input-/, "");
    fs.mkdirSync(path.dirname(statePath), { recursive: true });
    fs.writeFileSync(
      statePath,
      JSON.stringify({ version: 4, terraform_version: "1.11.0", serial: 1, lineage: "offline", outputs: standInOutputs(stacksDir, producer, region), resources: [] }),
    );
  }
}

/** State outputs of a stack with plausible stand-in values, as its consumers read them. */
export function standInOutputs(stacksDir: string, stack: string, region: string): Record<string, { value: string; type: string; sensitive: boolean }> {
  return Object.fromEntries(
    Object.entries(readStack(stacksDir, stack).output ?? {}).map(([output, { value }], i) => [
      output,
      { value: fakeValue(value, i, region), type: "string", sensitive: true },
    ]),
  );
}

function readStack(stacksDir: string, stack: string): StackJson {
  return JSON.parse(fs.readFileSync(path.join(stacksDir, stack, "cdk.tf.json"), "utf8"));
}

/** A value shaped like what `${type.name.attribute}` holds after apply. */
function fakeValue(expression: string, index: number, region: string): string {
  const match = /^\$\{([a-z0-9_]+)\.[^.]+\.([a-z_]+(?:\[0\]\.[a-z_]+)?)\}$/.exec(expression);
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
    case "aws_eks_cluster.name":
      return `offline-cluster-${index}`;
    case "aws_eks_cluster.endpoint":
      return `https://${hex}.gr7.${region}.eks.amazonaws.com`;
    case "aws_eks_cluster.certificate_authority[0].data":
      return Buffer.from("offline certificate authority").toString("base64");
    default:
      throw new Error(`offline plans have no stand-in value for cross-stack output ${expression}`);
  }
}
