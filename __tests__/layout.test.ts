import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "../modules/support/project-root";

const root = projectRoot();
const modulesDir = path.join(root, "modules");

/** Every .ts file under a folder of the project, relative to the project root, in POSIX form. */
function sourcesUnder(folder: string): string[] {
  return fs
    .readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

/** The project files a source imports (static, dynamic and type-only imports alike). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
  return specifiers
    .filter((specifier) => !/\.(json|js)$/.test(specifier))
    .map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) + ".ts");
}

/** The folder of `modules/` a file belongs to, or undefined for a command (main.ts, scripts/). */
function folderOf(file: string): string | undefined {
  const match = /^modules\/([^/]+)\//.exec(file);
  return match?.[1];
}

/** What each folder's README declares it may import: its `May import:` line. */
function declaredImports(): Map<string, Set<string>> {
  const declared = new Map<string, Set<string>>();
  for (const entry of fs.readdirSync(modulesDir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const readme = path.join(modulesDir, entry.name, "README.md");
    const line = fs.existsSync(readme) ? /^May import: (.+)$/m.exec(fs.readFileSync(readme, "utf8"))?.[1] : undefined;
    if (line === undefined) throw new Error(`modules/${entry.name}/README.md has no "May import:" line`);
    declared.set(entry.name, new Set(line.startsWith("nothing") ? [] : line.replace(/\.$/, "").split(/,\s*/)));
  }
  return declared;
}

/** Each import cycle of a graph, as `a → b → a`, found by a depth-first walk. */
function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const cycles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): void => {
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(" → "));
      else if (!done.has(next)) visit(next);
    }
    path.pop();
    done.add(node);
  };
  for (const node of edges.keys()) if (!done.has(node)) visit(node);
  return cycles;
}

const sources = [...sourcesUnder("modules"), ...sourcesUnder("scripts"), "main.ts"];
const graph = new Map(sources.map((file) => [file, importsOf(file)]));

describe("the layout of modules/", () => {
  it("every import names a file that exists", () => {
    const missing = [...graph].flatMap(([file, imports]) => imports.filter((target) => !graph.has(target)).map((target) => `${file} → ${target}`));
    expect(missing).toEqual([]);
  });

  it("keeps at most 4 loose files at its top, each concern in a folder", () => {
    const loose = fs.readdirSync(modulesDir, { withFileTypes: true }).filter((entry) => entry.isFile() && entry.name !== "README.md");
    expect(loose.length).toBeLessThanOrEqual(4);
  });

  it("has a README in every folder, naming what it may import, and only folders that exist", () => {
    const declared = declaredImports();
    for (const [folder, allowed] of declared) {
      for (const name of allowed) expect({ folder, name, exists: declared.has(name) }).toEqual({ folder, name, exists: true });
    }
  });

  it("imports flow one way: each folder imports only what its README allows, and no module imports a command", () => {
    const declared = declaredImports();
    const violations: string[] = [];
    for (const [file, imports] of graph) {
      const from = folderOf(file);
      if (from === undefined) continue;
      for (const target of imports) {
        const to = folderOf(target);
        if (to === undefined) violations.push(`${file} imports the command ${target}`);
        else if (to !== from && !declared.get(from)!.has(to)) violations.push(`${file} imports ${target}: modules/${from}/README.md does not allow ${to}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("has no import cycle between files", () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it("has no cycle among what the folders may import", () => {
    expect(findCycles(new Map([...declaredImports()].map(([folder, allowed]) => [folder, [...allowed]])))).toEqual([]);
  });

  it("finds a cycle where there is one, and reads type-only imports", () => {
    const probe = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
    ]);
    expect(findCycles(probe)).toEqual(["a → b → c → a"]);
    expect(importsOf("modules/config/access-check.ts")).toContain("modules/config/fleet-config.ts");
  });
});

describe("the documentation", () => {
  const pages = ["README.md", ...fs.readdirSync(path.join(root, "docs")).map((f) => `docs/${f}`), "modules/README.md"];

  it("has a README that is a front door: under 250 lines, linking every page of docs/", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThan(250);
    for (const page of fs.readdirSync(path.join(root, "docs"))) expect(readme).toContain(`](docs/${page})`);
  });

  it("links only to files that exist", () => {
    const broken = pages.flatMap((page) => {
      const text = fs.readFileSync(path.join(root, page), "utf8");
      return [...text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)]
        .map((m) => m[1])
        .filter((target) => !/^[a-z]+:/.test(target))
        .filter((target) => !fs.existsSync(path.join(root, path.dirname(page), target)))
        .map((target) => `${page} → ${target}`);
    });
    expect(broken).toEqual([]);
  });

  it("names only source files that exist", () => {
    const missing = pages.flatMap((page) =>
      [...fs.readFileSync(path.join(root, page), "utf8").matchAll(/`((?:modules|scripts|__tests__)\/[\w./-]+\.ts)`/g)]
        .map((m) => m[1])
        .filter((file) => !fs.existsSync(path.join(root, file)))
        .map((file) => `${page} → ${file}`),
    );
    expect(missing).toEqual([]);
  });
});
