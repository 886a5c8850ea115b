import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AWS_PROVIDER_VERSION } from "../../modules/plan/terraform";
import { projectRoot } from "../../modules/support/project-root";

/**
 * Runs command lines as a user types them, with the real cdktf CLI and
 * Terraform, in a scratch copy of the project, up to the point where AWS is
 * first contacted: every AWS endpoint is a local stand-in whose STS refuses
 * every identity, so the first `terraform plan` stops there.
 *
 * Providers come from the offline mirror. The Helm and Kubernetes providers
 * are not in it: `terraform init` gets placeholders for them, which fail when
 * Terraform starts them. A deploy never gets there: it stops at the first AWS
 * stack's plan. A destroy of an in-cluster stack stops there.
 */

const PLACEHOLDER_PROVIDERS = ["helm", "kubernetes"] as const;

function providerVersion(name: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(projectRoot(), "node_modules", `@cdktf/provider-${name}`, "package.json"), "utf8"));
  return manifest.cdktf.provider.version as string;
}

/** A provider mirror holding the real AWS provider and placeholders for the in-cluster providers. */
function offlineMirror(awsMirror: string): string {
  const mirror = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cli-mirror-"));
  const platform = `${os.platform()}_${os.arch() === "x64" ? "amd64" : os.arch()}`;
  const providerDir = (name: string, version: string) => path.join("registry.terraform.io", "hashicorp", name, version, platform);
  // Terraform does not follow a linked folder in a mirror, so the folders are real and the AWS provider's files are linked.
  const aws = providerDir("aws", AWS_PROVIDER_VERSION);
  fs.mkdirSync(path.join(mirror, aws), { recursive: true });
  for (const file of fs.readdirSync(path.join(awsMirror, aws))) fs.symlinkSync(path.join(awsMirror, aws, file), path.join(mirror, aws, file));
  for (const name of PLACEHOLDER_PROVIDERS) {
    const version = providerVersion(name);
    const dir = path.join(mirror, providerDir(name, version));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `terraform-provider-${name}_v${version}`), "#!/bin/sh\necho placeholder provider >&2\nexit 1\n", { mode: 0o755 });
  }
  return mirror;
}

/**
 * The environment of a user with the real tools and providers from a mirror,
 * whose AWS is `aws` (the variables that point the AWS SDK and Terraform's AWS provider at a stand-in).
 */
export function offlineCliEnvironment(awsMirror: string, aws: Record<string, string>): NodeJS.ProcessEnv {
  const mirror = offlineMirror(awsMirror);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cli-home-"));
  const cliConfig = path.join(home, ".terraformrc");
  fs.writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = "${mirror}"\n  }\n}\n`);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("AWS_") && !key.startsWith("TF_") && !key.startsWith("CDKTF_")) env[key] = value;
  }
  return {
    ...env,
    HOME: home,
    // Providers only from the mirror, as in an air-gapped team: the product must not need the registry.
    TF_CLI_CONFIG_FILE: cliConfig,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: path.join(home, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, "no-aws-credentials"),
    ...aws,
    CHECKPOINT_DISABLE: "1",
    CI: "1",
    FORCE_COLOR: "0",
  };
}

/** A copy of the project's tracked files (and its build), sharing its node_modules, committed in a repository of its own. */
export function scratchProject(): string {
  const root = projectRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cli-project-"));
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of files) {
    if (!fs.existsSync(path.join(root, file))) continue;
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(dir, file));
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  // A checkout, as users have: commands that record or compare revisions read its history.
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "pipe" });
  git("init", "-q");
  // The link to the shared packages is not part of the checkout (.gitignore names the folder, not a link).
  fs.appendFileSync(path.join(dir, ".git", "info", "exclude"), "/node_modules\n");
  git("add", "-A");
  git("-c", "user.name=fleet", "-c", "user.email=fleet@example.com", "commit", "-qm", "checkout");
  if (fs.existsSync(path.join(root, "dist"))) fs.cpSync(path.join(root, "dist"), path.join(dir, "dist"), { recursive: true });
  return dir;
}

export interface CliRun {
  readonly status: number | null;
  /** Standard output and error, without terminal colours. */
  readonly output: string;
}

/** Runs a command line with bash in `cwd`, as a user would type it. */
export function runCommandLine(commandLine: string, cwd: string, env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", `${commandLine} 2>&1`], { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      const status = error ? ((error as { code?: number }).code ?? null) : 0;
      resolve({ status: typeof status === "number" ? status : null, output: stdout.replace(/\x1b\[[0-9;]*m/g, "") });
    });
  });
}

/**
 * Each line of cdktf's output with the stack it belongs to, in order: cdktf
 * prefixes the first line of each chunk of a stack's output with the stack's
 * name and indents the lines that follow, and stacks running at once
 * interleave their chunks. Lines of no stack (the command's own) have none.
 */
export function stackLines(output: string): { readonly stack?: string; readonly text: string }[] {
  let stack: string | undefined;
  return output.split("\n").map((line) => {
    // A chunk whose first line is empty leaves the stack's name alone on its line.
    const prefixed = /^([a-z][a-z0-9-]*)(?: {2,}(\S.*))?\s*$/.exec(line);
    if (prefixed) {
      stack = prefixed[1];
      return { stack, text: prefixed[2] ?? "" };
    }
    if (line !== "" && !/^\s/.test(line)) stack = undefined;
    return { stack, text: line.trim() };
  });
}

/** Each `Error:` of a command's output with the lines that follow it, as a failure shows them. */
export function errorsIn(output: string): string[] {
  const lines = output.split("\n");
  return lines.flatMap((line, i) => (/Error:/.test(line) ? [lines.slice(i, i + 6).join("\n")] : [])).slice(0, 10);
}

/** The stacks whose Terraform run reached AWS and stopped there (STS refused the identity). */
export function stacksThatReachedAws(output: string): string[] {
  return [...new Set(stackLines(output).filter((l) => l.stack && l.text.includes("retrieving caller identity from STS")).map((l) => l.stack!))];
}
