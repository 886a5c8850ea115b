import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadFleetConfigAtRevision } from "../config/git-base";
import { git, isCommit } from "../support/git";
import { projectRoot } from "../support/project-root";
import { synthesizeFleet } from "../synth/synth";

/** Files whose change can change every plan without changing any synthesized stack: the installed packages. */
const FLEET_WIDE_FILES = ["package-lock.json"];

/** The fleet as synthesized at a revision, or why it cannot be compared (then every stack is planned). */
export type SynthAtRevision = { readonly outdir: string } | { readonly unavailable: string };

/** Whether a folder is a checkout of this project (code and configuration together), not a configuration folder only. */
function isProjectCheckout(dir: string): boolean {
  return ["package.json", "main.ts", "bin/run.js"].every((file) => fs.existsSync(path.join(dir, file)));
}

/**
 * Synthesizes the configuration in `configDir` as it was at a git revision
 * into `outdir`. A checkout of this project is exported at that revision
 * (`git archive`) and synthesizes itself with its own code and charts,
 * against the installed packages; a configuration folder of its own is
 * synthesized with the current code.
 */
export function synthesizeAtRevision(configDir: string, revision: string, outdir: string): SynthAtRevision {
  if (!isCommit(configDir, revision)) return { unavailable: `${revision} is not a commit of the repository holding ${configDir}` };
  if (!isProjectCheckout(configDir)) {
    try {
      const fleet = loadFleetConfigAtRevision(configDir, revision);
      if (!fleet) return { unavailable: `there is no fleet at ${revision}` };
      synthesizeFleet(fleet, outdir);
      return { outdir };
    } catch (error) {
      return { unavailable: `the configuration at ${revision} does not synthesize: ${(error as Error).message}` };
    }
  }
  for (const file of FLEET_WIDE_FILES) {
    const then = spawnSync("git", ["-C", configDir, "show", `${revision}:./${file}`], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    const now = fs.existsSync(path.join(configDir, file)) ? fs.readFileSync(path.join(configDir, file), "utf8") : undefined;
    if (then.status !== 0 || then.stdout !== now) return { unavailable: `${file} changed since ${revision}` };
  }
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-at-revision-"));
  try {
    const prefix = git(configDir, ["rev-parse", "--show-prefix"]).trim();
    const archive = execFileSync("git", ["-C", configDir, "archive", "--format=tar", `${revision}:${prefix}`], { maxBuffer: 1024 * 1024 * 1024 });
    execFileSync("tar", ["-x", "-C", tree], { input: archive });
    fs.symlinkSync(path.join(projectRoot(), "node_modules"), path.join(tree, "node_modules"), "dir");
    // A revision older than the launcher runs with the current one: it transpiles whatever sources it finds.
    const launcher = path.join(tree, "bin", "run.js");
    if (!fs.existsSync(launcher)) {
      fs.mkdirSync(path.dirname(launcher), { recursive: true });
      fs.copyFileSync(path.join(projectRoot(), "bin", "run.js"), launcher);
    }
    const result = spawnSync(process.execPath, [launcher, "main.ts"], { cwd: tree, encoding: "utf8", env: { ...process.env, CDKTF_OUTDIR: outdir } });
    if (result.status !== 0) {
      return { unavailable: `the configuration at ${revision} does not synthesize with its own code: ${(result.stderr || result.stdout).trim().split("\n")[0]}` };
    }
    // Code older than CDKTF_OUTDIR support writes into its own cdktf.out.
    if (!fs.existsSync(path.join(outdir, "manifest.json")) && fs.existsSync(path.join(tree, "cdktf.out", "manifest.json"))) {
      fs.cpSync(path.join(tree, "cdktf.out"), outdir, { recursive: true });
    }
    return fs.existsSync(path.join(outdir, "manifest.json")) ? { outdir } : { unavailable: `the code at ${revision} wrote no synthesized output` };
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
}
