import * as fs from "fs";
import * as path from "path";
import { FleetConfig } from "../config/load";
import { describeFileError } from "../support/file-errors";
import { clusterOfStack } from "../constructs/naming";

/** A state file of a cluster stack whose cluster file is gone, still holding resources (or unreadable). */
export interface OrphanedState {
  readonly cluster: string;
  readonly stateFile: string;
  /** Resources it holds; undefined when the file cannot be read as state. */
  readonly resources: number | undefined;
  /** Why the file cannot be read as state, when it cannot. */
  readonly problem?: string;
}

/**
 * Finds local state of cluster stacks that no cluster file describes any more:
 * their resources still exist in AWS but nothing manages them. Remote (S3)
 * state is not reachable without credentials and is not checked.
 */
export function findOrphanedClusterStates(projectDir: string, fleet: FleetConfig): OrphanedState[] {
  const backend = fleet.platform.stateBackend;
  if (backend.type !== "local") return [];
  const dir = path.join(projectDir, backend.directory);
  if (!fs.existsSync(dir)) return [];
  const known = new Set(fleet.clusters.map((c) => c.config.name));
  const orphans: OrphanedState[] = [];
  for (const file of fs.readdirSync(dir).sort()) {
    const cluster = file.endsWith(".tfstate") ? clusterOfStack(file.slice(0, -".tfstate".length)) : undefined;
    if (cluster === undefined || known.has(cluster)) continue;
    const stateFile = path.join(backend.directory, file);
    let state: { resources?: unknown[] };
    try {
      state = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    } catch (error) {
      const problem = error instanceof SyntaxError ? "is not valid JSON" : `cannot be read: ${describeFileError(error)}`;
      orphans.push({ cluster, stateFile, resources: undefined, problem });
      continue;
    }
    const resources = Array.isArray(state?.resources) ? state.resources.length : 0;
    if (resources > 0) orphans.push({ cluster, stateFile, resources });
  }
  return orphans;
}
