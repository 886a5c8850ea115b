import * as fs from "fs";
import * as path from "path";
import { CLUSTERS_DIR, PLATFORM_FILE } from "../config/load";
import { PLANS_DIR, STATUS_FILE } from "./runner";

/**
 * Configuration files (relative to `configDir`) changed after the plans in
 * `outdir` were made: the plans may not show the configuration as it is.
 */
export function plansOlderThanConfig(outdir: string, configDir: string): string[] {
  const plannedAt = fs.statSync(path.join(outdir, PLANS_DIR, STATUS_FILE)).mtimeMs;
  const clustersDir = path.join(configDir, CLUSTERS_DIR);
  const files = [
    PLATFORM_FILE,
    ...(fs.existsSync(clustersDir) ? fs.readdirSync(clustersDir).sort().map((f) => `${CLUSTERS_DIR}/${f}`) : []),
  ];
  return files.filter((file) => {
    const stat = fs.statSync(path.join(configDir, file), { throwIfNoEntry: false });
    return stat !== undefined && stat.mtimeMs > plannedAt;
  });
}
