import * as path from "path";
import { projectRoot } from "../../modules/support/project-root";

/**
 * The node arguments that run one of the project's TypeScript entry points
 * (`main.ts`, `scripts/<name>.ts`) as its npm script does: through
 * `bin/run.js`, from the sources as they are now, never from a build that an
 * edit has left stale.
 */
export function entryPoint(file: string): string[] {
  const root = projectRoot();
  return [path.join(root, "bin", "run.js"), path.join(root, file)];
}
