import * as path from "path";
import { loadFleetConfigAtRevision } from "./modules/config/git-base";
import { assertSafeTransition } from "./modules/config/lifecycle";
import { loadFleetConfig, PLATFORM_FILE } from "./modules/config/load";
import { findOrphanedClusterStates } from "./modules/synth/orphaned-state";
import { fleetStackNames } from "./modules/constructs/naming";
import { projectRoot } from "./modules/support/project-root";
import { synthesizeFleet } from "./modules/synth/synth";
import { UserError } from "./modules/support/user-error";
import { runCommand } from "./modules/cli/run-command";
import { parseCommandLine } from "./modules/cli/args";
import { counted } from "./modules/support/wording";

const USAGE = `usage: npm run synth -- [config-dir] [--base <git-revision>]
  config-dir     folder holding platform.yaml and clusters/ (default: the project root)
  --base REV     also check the change from git revision REV against the lifecycle rules
  Output goes to config-dir/cdktf.out, or CDKTF_OUTDIR as cdktf synth --output sets it.`;

/**
 * Synthesizes the fleet described by `platform.yaml` and `clusters/` in the
 * folder given as first argument (default: the project root) into its
 * `cdktf.out` (or CDKTF_OUTDIR, as the cdktf CLI sets it). With --base, the
 * change from that git revision must also be a safe one (lifecycle rules).
 */
function main(): void {
  const commandLine = parseCommandLine({ usage: USAGE, options: { base: { type: "string" } }, positionals: { max: 1 } });
  if (!commandLine) return;
  const { values, positionals } = commandLine;
  const configDir = path.resolve(positionals[0] ?? projectRoot());
  const fleet = loadFleetConfig(configDir);
  if (values.base) {
    const base = loadFleetConfigAtRevision(configDir, values.base);
    if (base) assertSafeTransition(base, fleet);
    else console.log(`--base ${values.base} has no ${PLATFORM_FILE}: no fleet to compare with, so the lifecycle rules have nothing to check`);
  }
  const outdir = path.resolve(configDir, process.env.CDKTF_OUTDIR || "cdktf.out");
  if (!path.relative(outdir, configDir).startsWith("..")) {
    throw new UserError(`output folder ${outdir} would replace the configuration folder ${configDir}`);
  }
  synthesizeFleet(fleet, outdir);
  console.log(`synthesized ${counted(fleetStackNames(fleet.clusters.map((c) => c.config.name), Object.keys(fleet.platform.albs)).length, "stack")} (${counted(fleet.clusters.length, "cluster")}) into ${path.relative(configDir, outdir) || "."}`);
  for (const orphan of findOrphanedClusterStates(configDir, fleet)) {
    const restore = `restore clusters/${orphan.cluster}.yaml and retire it with npm run retire -- ${orphan.cluster}`;
    console.error(
      orphan.resources === undefined
        ? `WARNING: ${orphan.stateFile} ${orphan.problem}, so whether cluster ${orphan.cluster}, whose file is gone, still has resources is unknown. ` +
            `Repair it from its backup (${orphan.stateFile}.backup) and check; if it has resources, ${restore}.`
        : `WARNING: ${orphan.stateFile} still holds ${counted(orphan.resources, "resource")} of cluster ${orphan.cluster}, whose file is gone. ` +
            `They keep running and nothing manages them: ${restore}.`,
    );
  }
}

runCommand(main, "nothing was synthesized; the previous output is unchanged");
