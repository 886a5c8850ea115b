#!/usr/bin/env node
"use strict";
/*
 * Runs one of the project's TypeScript entry points without a type-check, so a
 * command starts at once:
 *
 *   node bin/run.js main.ts [args...]
 *   node bin/run.js scripts/<name>.ts [args...]
 *
 * Every .ts file the entry loads is transpiled with swc into dist/run/ (same
 * relative path), and that output is reused only while the SHA-256 of the
 * source it came from matches: an edited, checked-out or reverted source is
 * transpiled again, and a deleted one cannot load at all (modules resolve
 * against the sources, never against dist/run/). The type-check stays in
 * `npm test`, `npm run build`, CI and the editor. Outputs carry inline source
 * maps: NODE_OPTIONS=--enable-source-maps makes stack traces show TypeScript
 * lines (off by default, it slows the start).
 */
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

const root = path.resolve(__dirname, "..");
const outRoot = path.join(root, "dist", "run");
const USAGE = "usage: node bin/run.js <file.ts> [args...]   (e.g. main.ts, scripts/shift.ts)";

/** swc settings: what tsc makes of tsconfig.json (CommonJS, ES2022) with types stripped. */
const SWC_OPTIONS = {
  jsc: { parser: { syntax: "typescript" }, target: "es2022" },
  module: { type: "commonjs" },
  sourceMaps: "inline",
  swcrc: false,
  configFile: false,
};

/** Identifies the transpiler and its settings: upgrading swc or changing them transpiles everything again. */
const TRANSPILER = `swc ${require("@swc/core/package.json").version} ${JSON.stringify(SWC_OPTIONS)}`;
let swc;

/** JavaScript for a source file: the cached transpilation when made from these exact bytes, else a fresh one. */
function javascriptFor(filename) {
  const source = fs.readFileSync(filename, "utf8");
  const relative = path.relative(root, filename);
  const outside = relative.startsWith("..") || path.isAbsolute(relative);
  const outFile = path.join(outRoot, outside ? path.join("_external", filename) : relative).replace(/\.ts$/, ".js");
  const header = `// source-sha256 ${crypto.createHash("sha256").update(TRANSPILER).update("\0").update(source).digest("hex")}\n`;
  const cached = readIfExists(outFile);
  if (cached !== undefined && cached.startsWith(header)) return cached;
  swc ??= require("@swc/core");
  const code = header + swc.transformSync(source, { ...SWC_OPTIONS, filename }).code;
  writeAtomically(outFile, code);
  return code;
}

function readIfExists(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return undefined;
    throw error;
  }
}

/** Writes through a temporary file and a rename, so a concurrent run never reads half a file. */
function writeAtomically(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

const [entryArgument, ...args] = process.argv.slice(2);
if (!entryArgument || !entryArgument.endsWith(".ts")) {
  console.error(USAGE);
  process.exit(2);
}
const entry = path.resolve(root, entryArgument);
if (!fs.existsSync(entry)) {
  console.error(`no ${entryArgument} in ${root}\n${USAGE}`);
  process.exit(2);
}

// Node 22.1 and later keep V8's compiled code of every module between runs; older Node has no such switch.
Module.enableCompileCache?.(path.join(root, "dist", "compile-cache"));
Module._extensions[".ts"] = (module, filename) => module._compile(javascriptFor(filename), filename);
// The entry sees its own arguments, as if started with `node entry.js args...`.
process.argv = [process.argv[0], entry, ...args];
require(entry);
