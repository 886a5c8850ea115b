/** File of fleet-wide settings, relative to the project root. */
export const PLATFORM_FILE = "platform.yaml";
/** Folder of cluster files, one per cluster, relative to the project root. */
export const CLUSTERS_DIR = "clusters";

/** True for a cluster file's name (`blue.yaml`): YAML, not hidden. */
export function isClusterFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !name.startsWith(".");
}
