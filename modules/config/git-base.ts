import { execFileSync } from "child_process";
import { CLUSTERS_DIR, ConfigError, ConfigSources, isClusterFileName, PLATFORM_FILE } from "./load";

function git(projectDir: string, args: string[]): string {
  return execFileSync("git", ["-C", projectDir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * The configuration files as they were at a git revision (e.g. `origin/main`),
 * for comparing a change with what is deployed.
 */
export function readConfigSourcesAtRevision(projectDir: string, revision: string): ConfigSources {
  try {
    git(projectDir, ["rev-parse", "--verify", "--quiet", `${revision}^{commit}`]);
  } catch {
    throw new ConfigError([{ file: "--base", field: "", message: `${revision} is not a git revision of ${projectDir}` }]);
  }
  const show = (file: string) => git(projectDir, ["show", `${revision}:./${file}`]);
  const clusterFiles = git(projectDir, ["ls-tree", "--name-only", revision, "--", `${CLUSTERS_DIR}/`])
    .split("\n")
    .filter((f) => isClusterFileName(f.split("/").pop()!))
    .sort();
  return {
    platform: { file: PLATFORM_FILE, text: show(PLATFORM_FILE) },
    clusters: clusterFiles.map((file) => ({ file, text: show(file) })),
    readFile: (file) => {
      try {
        return show(file);
      } catch {
        return undefined;
      }
    },
  };
}
