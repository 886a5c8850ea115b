import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CLUSTERS_DIR, ConfigSources } from "../../modules/config/load";

/** Writes configuration files into a new temporary project folder and returns it. */
export function writeConfigProject(sources: ConfigSources, prefix = "fleet-project-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.mkdirSync(path.join(dir, CLUSTERS_DIR));
  for (const source of [sources.platform, ...sources.clusters]) fs.writeFileSync(path.join(dir, source.file), source.text);
  return dir;
}
