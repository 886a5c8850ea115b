import * as path from "path";
import { ConfigError, loadFleetConfig } from "./modules/config/load";
import { projectRoot } from "./modules/project-root";
import { synthesizeFleet } from "./modules/synth";

/**
 * Synthesizes the fleet described by `platform.yaml` and `clusters/` in the
 * folder given as first argument (default: the project root) into its
 * `cdktf.out` (or CDKTF_OUTDIR, as the cdktf CLI sets it).
 */
function main(): void {
  const configDir = path.resolve(process.argv[2] ?? projectRoot());
  try {
    const fleet = loadFleetConfig(configDir);
    const outdir = path.resolve(configDir, process.env.CDKTF_OUTDIR || "cdktf.out");
    if (!path.relative(outdir, configDir).startsWith("..")) {
      throw new Error(`output folder ${outdir} would replace the configuration folder ${configDir}`);
    }
    synthesizeFleet(fleet, outdir);
    console.log(`synthesized ${2 + 2 * fleet.clusters.length} stacks (${fleet.clusters.length} clusters) into ${path.relative(configDir, outdir) || "."}`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    console.error("nothing was synthesized; the previous output is unchanged");
    process.exitCode = 1;
  }
}

main();
