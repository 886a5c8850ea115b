import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { ConfigError, ConfigSources, loadFleetConfig, parseFleetConfig, readConfigSources } from "../modules/config/load";
import { assertSafeTransition } from "../modules/config/lifecycle";
import { OUTPUT_MARKER, synthesizeFleet } from "../modules/synth/synth";
import { applyShiftToSources, planShift, ShiftRequest } from "../modules/traffic/shift";
import { verifyShiftedSources, writeShiftedSources } from "../modules/traffic/shift-files";
import { UserError } from "../modules/support/user-error";
import { exampleSources } from "./helpers/fleet";
import { STACK_TRACE } from "./helpers/stack-trace";
import { entryPoint } from "./helpers/entry-point";

/**
 * Generated inputs: every mutated configuration is either synthesized or
 * refused with `file: field: message` lines, and every shift either writes
 * exactly the weights it prints or leaves the files as they were. Runs are
 * few by default to keep the suite fast; FLEET_PROPERTY_RUNS raises them and
 * FC_SEED replays a failure (fast-check prints the seed of a failing run).
 */
const RUNS = Number(process.env.FLEET_PROPERTY_RUNS ?? 1);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const settings = (runs: number): fc.Parameters<unknown> => ({ numRuns: runs * RUNS, seed: SEED });


/** The example fleet with a second service, api, so that shifts and anchors have two weights to mix up. */
function baseSources(): ConfigSources {
  const example = exampleSources();
  return {
    platform: {
      ...example.platform,
      text: `${example.platform.text}  - name: api\n    servicePort: 80\n    containerPort: 8081\n    hosts: [api.example.com]\n    priority: 90\n`,
    },
    clusters: example.clusters.map((c) => ({ ...c, text: c.text.replace("  web: 50\n", "  web: 50\n  api: 50\n") })),
  };
}

/** A project on disk: files by relative path, plus folders and dangling links named like files. */
interface Project {
  files: Map<string, string>;
  folders: Set<string>;
  danglingLinks: Set<string>;
}

function projectOf(sources: ConfigSources): Project {
  return { files: new Map([sources.platform, ...sources.clusters].map((s) => [s.file, s.text])), folders: new Set(), danglingLinks: new Set() };
}

function writeProject(project: Project): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-property-"));
  fs.mkdirSync(path.join(dir, "clusters"));
  for (const [file, text] of project.files) fs.writeFileSync(path.join(dir, file), text);
  const free = (entry: string) => !fs.existsSync(path.join(dir, entry));
  for (const folder of [...project.folders].filter(free)) fs.mkdirSync(path.join(dir, folder), { recursive: true });
  for (const link of [...project.danglingLinks].filter(free)) fs.symlinkSync(path.join(dir, "nowhere", link), path.join(dir, link));
  return dir;
}

/** Hash of every file under `dir`, with its path: equal hashes mean byte-identical folders. */
function folderHash(dir: string): string {
  const hash = crypto.createHash("sha256");
  const entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).sort((a, b) =>
    path.join(a.parentPath, a.name).localeCompare(path.join(b.parentPath, b.name)),
  );
  for (const entry of entries) {
    const full = path.join(entry.parentPath, entry.name);
    hash.update(`${path.relative(dir, full)}\0`);
    if (entry.isFile()) hash.update(fs.readFileSync(full));
  }
  return hash.digest("hex");
}

// ---- mutations of configuration files ----

interface Mutation {
  apply(project: Project): void;
  /** How fast-check prints the mutation in a counterexample. */
  [fc.toStringMethod](): string;
}
type Json = unknown;

const builtinName = fc.constantFrom("constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "prototype");
const keyArb = fc.oneof(builtinName, fc.constantFrom("name", "state", "weights", "tags", "web", "api", "cidr", "priority"), fc.string({ minLength: 1, maxLength: 6 }));
const scalarArb: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -5, max: 1200 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 10 }),
  builtinName,
  fc.constantFrom("0.0.0.0/00", "000.0.0.0/0", "1.2.3.4/0", "0.0.0.0/1", "128.0.0.0/1", "10.40.0.0/16", "203.0.113.0/24"),
  fc.constantFrom("1.32", "1.33", "1.34", "1.35", "active", "draining", "standby", "retiring", "web", "api", "", "eu-west-1a"),
);
const valueArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: scalarArb },
  { weight: 1, arbitrary: fc.array(scalarArb, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(keyArb, scalarArb, { maxKeys: 2 }) },
);

/** Every path to a value inside parsed YAML data. */
function pathsOf(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const own = at.length > 0 ? [at] : [];
  if (Array.isArray(value)) return [...own, ...value.flatMap((v, i) => pathsOf(v, [...at, i]))];
  if (value && typeof value === "object") return [...own, ...Object.keys(value).flatMap((k) => pathsOf((value as Record<string, Json>)[k], [...at, k]))];
  return own;
}

/** Sets an own property, even one named `__proto__`. */
function setOwn(target: Record<string | number, Json>, key: string | number, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function parentOf(data: Json, at: (string | number)[]): Record<string | number, Json> | undefined {
  let current = data as Record<string | number, Json>;
  for (const segment of at.slice(0, -1)) current = current?.[segment] as Record<string | number, Json>;
  return current && typeof current === "object" ? current : undefined;
}

const configFile = fc.constantFrom("platform.yaml", "clusters/blue.yaml", "clusters/green.yaml");

/** A change of the data in one file: a value set, a key removed or added, a list entry repeated. */
const dataMutation: fc.Arbitrary<Mutation> = fc
  .record({ file: configFile, pick: fc.nat(), op: fc.constantFrom("set", "delete", "add", "repeat"), key: keyArb, value: valueArb })
  .map(({ file, pick, op, key, value }) => ({
    [fc.toStringMethod]: () => `${op} ${file} #${pick} ${key} ${JSON.stringify(value)}`,
    apply(project: Project) {
      const text = project.files.get(file);
      if (text === undefined) return;
      let data: Json;
      try {
        data = parse(text);
      } catch {
        return;
      }
      const paths = pathsOf(data);
      if (paths.length === 0 || !data || typeof data !== "object") return;
      const at = paths[pick % paths.length];
      const parent = parentOf(data, at);
      const last = at[at.length - 1];
      if (!parent) return;
      if (op === "set") setOwn(parent, last, value);
      if (op === "delete") {
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
      }
      if (op === "add") {
        const target = parent[last];
        if (Array.isArray(target)) target.push(value);
        else if (target && typeof target === "object") setOwn(target as Record<string, Json>, key, value);
        else setOwn(data as Record<string, Json>, key, value);
      }
      if (op === "repeat" && Array.isArray(parent)) parent.push(parent[Number(last)]);
      project.files.set(file, stringify(data));
    },
  }));

/** YAML features written into the text: anchors and aliases, tags, duplicate keys, tabs, several documents, stray characters. */
const textMutation: fc.Arbitrary<Mutation> = fc
  .record({
    file: configFile,
    first: fc.nat(),
    second: fc.nat(),
    feature: fc.constantFrom("alias", "tag", "duplicate-line", "tab", "documents", "delete-char", "insert-char", "alias-bomb", "merge-key", "empty"),
    tag: fc.constantFrom("!!binary aGVsbG8=", "!!set {a, b}", "!!timestamp 2001-12-14", "!!str 5", "!!int 5", "!!float 5", "!!omap [a: 1]", "!custom x"),
    char: fc.constantFrom(":", "-", "#", "&", "*", "!", "{", "[", "'", '"', "\t", "\u0000", "é", "\n"),
  })
  .map(({ file, first, second, feature, tag, char }) => ({
    [fc.toStringMethod]: () => `${feature} in ${file} at ${first}/${second}`,
    apply(project: Project) {
      const text = project.files.get(file);
      if (text === undefined) return;
      const lines = text.split("\n");
      const scalars = lines.map((line, i) => [line, i] as const).filter(([line]) => /^\s*[\w-]+: [^&*\s#][^#]*$/.test(line)).map(([, i]) => i);
      const a = scalars.length > 0 ? scalars[first % scalars.length] : 0;
      const b = scalars.length > 0 ? scalars[second % scalars.length] : 0;
      switch (feature) {
        case "alias":
          if (a === b || scalars.length === 0) return;
          lines[Math.min(a, b)] = lines[Math.min(a, b)].replace(/: /, ": &shared ");
          lines[Math.max(a, b)] = lines[Math.max(a, b)].replace(/: .*$/, ": *shared");
          break;
        case "tag":
          if (scalars.length > 0) lines[a] = lines[a].replace(/: .*$/, `: ${tag}`);
          break;
        case "duplicate-line":
          lines.splice(a, 0, lines[a]);
          break;
        case "tab":
          lines[a] = `\t${lines[a]}`;
          break;
        case "documents":
          lines.push("---", "name: other");
          break;
        case "delete-char": {
          const at = first % Math.max(text.length, 1);
          project.files.set(file, text.slice(0, at) + text.slice(at + 1));
          return;
        }
        case "insert-char": {
          const at = first % Math.max(text.length, 1);
          project.files.set(file, text.slice(0, at) + char + text.slice(at));
          return;
        }
        case "alias-bomb":
          lines.push("bomb: &b0 [x, x, x, x, x, x, x, x, x, x]", ...[1, 2, 3, 4].map((n) => `b${n}: &b${n} [${Array(10).fill(`*b${n - 1}`).join(", ")}]`));
          break;
        case "merge-key":
          lines.unshift("base: &base {}");
          lines.push("<<: *base");
          break;
        case "empty":
          project.files.set(file, "");
          return;
      }
      project.files.set(file, lines.join("\n"));
    },
  }));

/** Files added, removed or renamed, and things in clusters/ that are not cluster files. */
const fileMutation: fc.Arbitrary<Mutation> = fc
  .record({
    op: fc.constantFrom("remove", "rename", "copy", "folder", "dangling-link", "other-file"),
    file: fc.constantFrom("clusters/blue.yaml", "clusters/green.yaml", "platform.yaml"),
    name: fc.constantFrom("purple.yaml", "purple.yml", "purple.YAML", "purple.json", ".purple.yaml", "README.md", "constructor.yaml", "__proto__.yaml", "blue.yaml"),
  })
  .map(({ op, file, name }) => ({
    [fc.toStringMethod]: () => `${op} ${file} ${name}`,
    apply(project: Project) {
      const target = `clusters/${name}`;
      const text = project.files.get(file);
      if (op === "remove") project.files.delete(file);
      if (op === "rename" && text !== undefined) {
        project.files.delete(file);
        project.files.set(target, text);
      }
      if (op === "copy" && text !== undefined) project.files.set(target, text.replace(/^name: .*$/m, `name: ${name.split(".")[0] || "x"}`));
      if (op === "folder" && !project.files.has(target)) project.folders.add(target);
      if (op === "dangling-link" && !project.files.has(target)) project.danglingLinks.add(target);
      if (op === "other-file") project.files.set(target, "notes: not a cluster\n");
    },
  }));

const mutations = fc.array(fc.oneof(dataMutation, textMutation, fileMutation), { minLength: 1, maxLength: 3 });

/** Checks a refusal: a user error, as `file: field: message` lines for configuration problems, each once, no stack trace. */
function expectUserFacing(error: unknown): void {
  if (!(error instanceof UserError)) throw error;
  expect(error.message).not.toMatch(STACK_TRACE);
  expect(error.message).not.toContain("[object Object]");
  if (error instanceof ConfigError) {
    const lines = error.message.split("\n").slice(1);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^ {2}\S+: \S.*$/);
    expect(new Set(lines).size).toBe(lines.length);
    for (const problem of error.problems) expect(problem.file).not.toBe("");
  }
}

describe("generated configurations", () => {
  const template = writeProject(projectOf(baseSources()));
  synthesizeFleet(loadFleetConfig(template), path.join(template, "cdktf.out"));
  const outputHash = folderHash(path.join(template, "cdktf.out"));

  it("are synthesized, or refused with file: field: message lines and the previous output byte-identical", () => {
    fc.assert(
      fc.property(mutations, (changes) => {
        const project = projectOf(baseSources());
        for (const change of changes) change.apply(project);
        const dir = writeProject(project);
        const outdir = path.join(dir, "cdktf.out");
        fs.cpSync(path.join(template, "cdktf.out"), outdir, { recursive: true });
        try {
          const fleet = loadFleetConfig(dir);
          synthesizeFleet(fleet, outdir);
          // Nothing in clusters/ is left out in silence: every entry that is not a hidden non-YAML file is a cluster of the fleet.
          const entries = fs.readdirSync(path.join(dir, "clusters")).filter((name) => !name.startsWith(".") || /\.ya?ml$/i.test(name));
          expect(fleet.clusters.map((c) => c.file).sort()).toEqual(entries.map((name) => `clusters/${name}`).sort());
          expect(fs.existsSync(path.join(outdir, OUTPUT_MARKER))).toBe(true);
          expect(fs.readdirSync(path.join(outdir, "stacks"))).toHaveLength(2 + 2 * fleet.clusters.length);
        } catch (error) {
          expectUserFacing(error);
          expect(folderHash(outdir)).toBe(outputHash);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      settings(40),
    );
  });
});

// ---- shifts ----

/** Base configurations to shift: plain, or with weights shared through a YAML anchor. */
const shiftBase = fc.constantFrom("plain", "anchored").map((kind) => {
  const sources = baseSources();
  if (kind === "plain") return sources;
  return { ...sources, clusters: sources.clusters.map((c, i) => (i === 0 ? { ...c, text: c.text.replace("  web: 50\n  api: 50\n", "  web: &w 50\n  api: *w\n") } : c)) };
});

const clusterName = fc.constantFrom("blue", "green", "purple", "constructor");
const weightText = fc.oneof(fc.integer({ min: -1, max: 1000 }).map(String), fc.constantFrom("abc", "1.5", "", "0x10", "007"));
const shiftArgs = fc
  .array(
    fc.oneof(
      fc.tuple(clusterName, weightText).map(([c, w]) => [`${c}=${w}`]),
      clusterName.map((c) => ["--to", c]),
      fc.oneof(fc.integer({ min: -1, max: 101 }).map(String), fc.constantFrom("0.5", "abc", "")).map((s) => ["--step", s]),
      fc.constantFrom("web", "api", "nope", "constructor").map((s) => ["--service", s]),
      fc.constantFrom(["--dry-run"], ["--bogus"], ["stray"], ["--help"]),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((groups) => groups.flat());

/** Arguments of a shift that must succeed: weights that leave each service some traffic, or --to with an optional step. */
const wellFormedShiftArgs = fc
  .tuple(
    fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 1, max: 999 }), fc.boolean()).map(([a, b, swap]) =>
        swap ? [`green=${a}`, `blue=${b}`] : [`blue=${a}`, `green=${b}`],
      ),
      fc.tuple(fc.constantFrom("blue", "green"), fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined })).map(([to, step]) =>
        step === undefined ? ["--to", to] : ["--to", to, "--step", String(step)],
      ),
    ),
    fc.subarray(["web", "api"]),
  )
  .map(([request, services]) => [...request, ...services.flatMap((s) => ["--service", s])]);

/** Weights by cluster as the files in `dir` hold them. */
const weightsOf = (dir: string) => new Map(parseFleetConfig(readConfigSources(dir)).clusters.map((c) => [c.config.name, { ...c.config.weights }]));

describe("generated shifts", () => {
  it("in process: files hold exactly the planned weights, or are unchanged", () => {
    const request: fc.Arbitrary<ShiftRequest> = fc.oneof(
      fc.record({ weights: fc.dictionary(clusterName, fc.integer({ min: -1, max: 1000 }), { minKeys: 1, maxKeys: 3 }), services: fc.option(fc.array(fc.constantFrom("web", "api", "nope"), { maxLength: 3 }), { nil: undefined }) }),
      fc.record({ to: clusterName, step: fc.option(fc.integer({ min: 0, max: 101 }), { nil: undefined }), services: fc.option(fc.array(fc.constantFrom("web", "api"), { maxLength: 2 }), { nil: undefined }) }),
    );
    fc.assert(
      fc.property(shiftBase, request, (sources, shiftRequest) => {
        const dir = writeProject(projectOf(sources));
        try {
          const fleet = parseFleetConfig(sources);
          const shifts = planShift(fleet, shiftRequest);
          const shifted = applyShiftToSources(sources, fleet, shifts);
          assertSafeTransition(fleet, parseFleetConfig(shifted));
          verifyShiftedSources(sources, shifted, fleet, shifts);
          writeShiftedSources(dir, sources, shifted);
          const written = weightsOf(dir);
          for (const { service, after } of shifts) {
            for (const [cluster, weight] of Object.entries(after)) expect(written.get(cluster)![service]).toBe(weight);
          }
          const untouched = (text: string) => parse(text, { maxAliasCount: -1 }) as { weights: Record<string, number> };
          sources.clusters.forEach((source, i) => {
            const before = untouched(source.text);
            const after = untouched(fs.readFileSync(path.join(dir, source.file), "utf8"));
            expect({ ...after, weights: undefined }).toEqual({ ...before, weights: undefined });
            expect(Object.keys(after.weights).sort()).toEqual(Object.keys(before.weights).sort());
            expect(shifted.clusters[i].file).toBe(source.file);
          });
        } catch (error) {
          expectUserFacing(error);
          for (const source of sources.clusters) expect(fs.readFileSync(path.join(dir, source.file), "utf8")).toBe(source.text);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      settings(60),
    );
  });

  it("through npm run shift: exit 0 and the files hold the printed weights, or exit 1 with the files unchanged", () => {
    const script = entryPoint("scripts/shift.ts");
    let written = 0;
    const shiftsAs = (mustWrite: boolean) =>
      // Weights shared through an anchor are refused (the files could not hold different weights), so shifts that must succeed start plain.
      fc.property(mustWrite ? fc.constant(baseSources()) : shiftBase, mustWrite ? wellFormedShiftArgs : shiftArgs, (sources, args) => {
        const dir = writeProject(projectOf(sources));
        try {
          const result = spawnSync(process.execPath, [...script, "--config-dir", dir, ...args], { encoding: "utf8" });
          expect(result.stderr).not.toMatch(STACK_TRACE);
          const texts = sources.clusters.map((c) => fs.readFileSync(path.join(dir, c.file), "utf8"));
          if (mustWrite) expect({ args, status: result.status, stderr: result.stderr }).toEqual({ args, status: 0, stderr: "" });
          if (result.status !== 0 || args.includes("--dry-run") || args.includes("--help")) {
            expect([0, 1]).toContain(result.status);
            expect(texts).toEqual(sources.clusters.map((c) => c.text));
            return;
          }
          const weights = weightsOf(dir);
          const printed = result.stdout.split("\n").filter((line) => / → /.test(line) && !line.startsWith("note:"));
          expect(printed.length).toBeGreaterThan(0);
          for (const line of printed) {
            const [service, rest] = line.split(": ");
            for (const part of rest.split(", ")) {
              const [, cluster, weight] = /^(\S+) \d+ → (\d+)/.exec(part)!;
              expect(weights.get(cluster)![service]).toBe(Number(weight));
            }
          }
          written += 1;
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    // Half the runs are shifts that must succeed, so that every run of the suite checks the files against the printed weights.
    fc.assert(shiftsAs(true), settings(4));
    expect(written).toBe(4 * RUNS);
    fc.assert(shiftsAs(false), settings(4));
    expect(written).toBeGreaterThanOrEqual(4 * RUNS);
  });
});
