import { git, GitError, isCommit } from "../support/git";
import { UserError } from "../support/user-error";
import { CLUSTERS_DIR, ConfigError, ConfigSources, FleetConfig, isClusterFileName, parseFleetConfig, PLATFORM_FILE } from "./load";

/** Output of a git command in `projectDir`; a failure (git missing, not a repository) is a {@link UserError}. */
function gitForBase(projectDir: string, args: string[]): string {
  try {
    return git(projectDir, args);
  } catch (error) {
    if (error instanceof GitError) throw new UserError(`--base: ${error.message}`);
    throw error;
  }
}

/**
 * The configuration files as they were at a git revision (e.g. `origin/main`),
 * for comparing a change with what is deployed; undefined when the revision
 * has no `platform.yaml` (no fleet yet: the change that adds it).
 */
function readConfigSourcesAtRevision(projectDir: string, revision: string): ConfigSources | undefined {
  if (!isCommit(projectDir, revision)) {
    throw new ConfigError([{ file: "--base", field: "", message: `${revision} is not a git revision of ${projectDir}` }]);
  }
  const show = (file: string) => gitForBase(projectDir, ["show", `${revision}:./${file}`]);
  const platformListed = gitForBase(projectDir, ["ls-tree", "--name-only", revision, "--", PLATFORM_FILE]).trim();
  if (platformListed === "") return undefined;
  const clusterFiles = gitForBase(projectDir, ["ls-tree", "--name-only", revision, "--", `${CLUSTERS_DIR}/`])
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

/**
 * The validated configuration at a git revision, or undefined when it has no
 * fleet. Its problems name their files as `<revision>:<file>`, so they are
 * not taken for problems of the working tree.
 */
export function loadFleetConfigAtRevision(projectDir: string, revision: string): FleetConfig | undefined {
  const sources = readConfigSourcesAtRevision(projectDir, revision);
  if (!sources) return undefined;
  try {
    return parseFleetConfig(sources);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const atRevision = new ConfigError(error.problems.map((p) => ({ ...p, file: `${revision}:${p.file}` })));
    throw new UserError(`--base ${revision}: the fleet's files at that revision are invalid, so this change cannot be checked against them; ${atRevision.message}`);
  }
}
