import * as fs from "fs";
import * as path from "path";

/** Every file under `dir` with its content, by path relative to `dir`. */
export function folderFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isFile()) files[path.relative(dir, full)] = fs.readFileSync(full, "utf8");
  }
  return files;
}
