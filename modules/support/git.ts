import { execFileSync } from "child_process";

/** A git command that failed: git missing, not a repository, an unknown revision or path. */
export class GitError extends Error {}

/** Standard output of `git -C <dir> <args>`; a failure is a {@link GitError} naming the command and git's first error line. */
export function git(dir: string, args: readonly string[]): string {
  try {
    return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    const why = code === "ENOENT" ? "git is not on PATH" : String(stderr ?? (error as Error).message).trim().split("\n")[0];
    throw new GitError(`git ${args[0]} failed in ${dir}: ${why}`);
  }
}

/** Whether `revision` names a commit of the repository holding `dir`. */
export function isCommit(dir: string, revision: string): boolean {
  try {
    git(dir, ["rev-parse", "--verify", "--quiet", `${revision}^{commit}`]);
    return true;
  } catch (error) {
    if (error instanceof GitError) return false;
    throw error;
  }
}
