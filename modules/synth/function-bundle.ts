import { createHash } from "crypto";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import { projectRoot } from "../support/project-root";
import { zipArchive } from "./zip-archive";

/** Packages the AWS Lambda Node.js runtimes provide: the AWS SDK v3 and its Smithy core. */
const RUNTIME_PACKAGES = /^@(aws-sdk|smithy)\//;
/** Settings of the transpilation: CommonJS for the Node.js runtime, types stripped. */
const SWC_OPTIONS = { jsc: { parser: { syntax: "typescript" as const }, target: "es2022" as const }, module: { type: "commonjs" as const }, swcrc: false, configFile: false };

/** A Lambda deployment package made at synth. */
export interface FunctionBundle {
  /** The zip file. */
  readonly path: string;
  /** Its SHA-256 in base64, as Lambda's `source_code_hash` takes it. */
  readonly sha256: string;
}

export interface FunctionBundleProps {
  /** The TypeScript module, relative to the project root, that exports the handler's factory. */
  readonly entry: string;
  /** The name of that factory: called with `settings`, it returns the handler. */
  readonly factory: string;
  /** JSON the handler is made with, bundled as `settings.json`. */
  readonly settings: unknown;
}

/**
 * The deployment package of a Lambda function built from the project's own
 * code: `index.js` exports `handler = <factory>(settings)`, beside the entry
 * module and every module it requires, transpiled to CommonJS, and the npm
 * packages they require (the runtime's AWS SDK aside). The same sources and
 * settings give the same bytes. Packages are kept in `dist/function-bundles/`
 * by a hash of what they are made from, so a synth that changed none of it
 * makes nothing; those no synth has used for a day are removed.
 */
export function functionBundle(props: FunctionBundleProps): FunctionBundle {
  const root = projectRoot();
  const settings = JSON.stringify(props.settings, null, 2) + "\n";
  const key = sourceKey(root, props, settings);
  // The file's name is the same whatever the key: Terraform sees the package's path, which may change only with its bytes.
  const file = path.join(root, "dist", "function-bundles", key.slice(0, 16), `${path.basename(props.entry, ".ts")}.zip`);
  let zip: Buffer;
  try {
    markUsed(path.dirname(file));
    zip = fs.readFileSync(file);
  } catch {
    zip = zipArchive(bundleFiles(root, props, settings));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, zip);
    fs.renameSync(temporary, file);
    removeStalePackages(path.dirname(path.dirname(file)));
  }
  return { path: file, sha256: createHash("sha256").update(zip).digest("base64") };
}

/**
 * Marks a package's folder as used now, before it is read, so that no synth
 * making another package removes it as stale. A folder this user may not
 * touch (a read-only checkout, a cache another user made) keeps its age.
 */
function markUsed(folder: string): void {
  const now = new Date();
  try {
    fs.utimesSync(folder, now, now);
  } catch {
    // Read as it is; a missing folder fails the read after.
  }
}

/** A package no synth has used for a day is from sources long changed: removed (a younger one may still be in use by a synth running beside). */
function removeStalePackages(folder: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory() && fs.statSync(full).mtimeMs < dayAgo) fs.rmSync(full, { recursive: true, force: true });
  }
}

/** What a package is made from: the transpiler, the project's sources and lock file, the settings. */
function sourceKey(root: string, props: FunctionBundleProps, settings: string): string {
  const hash = createHash("sha256").update(`swc ${require("@swc/core/package.json").version} ${JSON.stringify(SWC_OPTIONS)}\0${props.entry}\0${props.factory}\0${settings}\0`);
  const sources = fs
    .readdirSync(path.join(root, "modules"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .sort();
  for (const file of sources) hash.update(`${file}\0`).update(fs.readFileSync(path.join(root, "modules", file))).update("\0");
  hash.update(fs.readFileSync(path.join(root, "package-lock.json")));
  return hash.digest("hex");
}

/** The files of the package, by path inside it. */
function bundleFiles(root: string, props: FunctionBundleProps, settings: string): Map<string, Buffer> {
  const swc: typeof import("@swc/core") = require("@swc/core");
  const files = new Map<string, Buffer>();
  const pending = [path.join(root, props.entry)];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const inPackage = pathInPackage(root, file);
    const code = file.endsWith(".ts") ? swc.transformSync(fs.readFileSync(file, "utf8"), { ...SWC_OPTIONS, filename: file }).code : fs.readFileSync(file, "utf8");
    files.set(inPackage.replace(/\.ts$/, ".js"), Buffer.from(code));
    for (const match of code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
      const required = resolveRequire(root, file, match[1]);
      if (required) pending.push(required);
    }
    const packageJson = nearestPackageJson(file);
    if (packageJson) files.set(pathInPackage(root, packageJson), fs.readFileSync(packageJson));
  }
  const entry = `./${props.entry.replace(/\.ts$/, ".js")}`;
  files.set("index.js", Buffer.from(`"use strict";\nexports.handler = require(${JSON.stringify(entry)}).${props.factory}(require("./settings.json"));\n`));
  files.set("settings.json", Buffer.from(settings));
  return files;
}

/** The file a `require` names, or undefined for what the runtime provides; throws for a module the package cannot carry. */
function resolveRequire(root: string, from: string, specifier: string): string | undefined {
  const bare = specifier.replace(/^node:/, "");
  if (builtinModules.includes(bare) || builtinModules.includes(bare.split("/")[0]) || RUNTIME_PACKAGES.test(specifier)) return undefined;
  if (specifier.startsWith(".") && from.endsWith(".ts")) {
    const base = path.resolve(path.dirname(from), specifier);
    for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(candidate)) return candidate;
  }
  let resolved: string;
  try {
    resolved = require.resolve(specifier, { paths: [path.dirname(from)] });
  } catch {
    throw new Error(`${path.relative(root, from)} requires ${specifier}, which cannot be found for the function's package`);
  }
  if (!resolved.split(path.sep).includes("node_modules") && path.relative(root, resolved).startsWith("..")) {
    throw new Error(`${path.relative(root, from)} requires ${specifier} from outside the project (${resolved})`);
  }
  return resolved;
}

/**
 * Where a file goes in the package: the project's own files at their path
 * from the project root; an npm package's from its `node_modules` folder on,
 * wherever that folder really is (a checkout may link to another's).
 */
function pathInPackage(root: string, file: string): string {
  const relative = path.relative(root, file);
  if (!relative.startsWith("..")) return relative.split(path.sep).join("/");
  const parts = file.split(path.sep);
  return parts.slice(parts.indexOf("node_modules")).join("/");
}

/** The package.json of the npm package a file belongs to, which Node reads to resolve it; undefined for the project's own files. */
function nearestPackageJson(file: string): string | undefined {
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return undefined;
  const depth = parts[at + 1].startsWith("@") ? 3 : 2;
  return parts.slice(0, at + depth).concat("package.json").join(path.sep);
}
