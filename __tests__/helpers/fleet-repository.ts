import { execFileSync } from "child_process";
import { writeConfigProject } from "../../scripts/lib/config-project";
import { exampleSources } from "./fleet";

/** The example fleet in a git repository, one commit. */
export function fleetRepository(): { dir: string; commit: (message: string) => string } {
  const dir = writeConfigProject(exampleSources());
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: "pipe" }).trim();
  git("init", "-q");
  const commit = (message: string) => {
    git("add", "-A");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD");
  };
  commit("fleet");
  return { dir, commit };
}
