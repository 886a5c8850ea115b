import * as path from "path";
import { ConfigError, loadFleetConfig } from "./modules/config/load";
import { projectRoot } from "./modules/project-root";
import { synthesizeFleet } from "./modules/synth";

const root = projectRoot();
try {
  const fleet = loadFleetConfig(root);
  const outdir = path.resolve(root, process.env.CDKTF_OUTDIR ?? "cdktf.out");
  synthesizeFleet(fleet, outdir);
  console.log(`synthesized ${2 + 2 * fleet.clusters.length} stacks for ${fleet.clusters.length} clusters into ${path.relative(root, outdir)}`);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    console.error("nothing was synthesized; the previous output is unchanged");
    process.exit(1);
  }
  throw error;
}
