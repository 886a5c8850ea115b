import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { parseDocument } from "yaml";
import { ConfigSources, FleetConfig, parseFleetConfig, readConfigSources } from "../config/load";
import { describeFileError } from "../support/file-errors";
import { describeShifts, edgeStacksOf, ServiceShift, ShiftError } from "./shift";

/** Parsed content of a YAML text, as plain data. */
function dataOf(text: string): unknown {
  return parseDocument(text).toJS();
}

/** Dotted paths where two values differ, such as `weights.api`. */
function differences(a: unknown, b: unknown, at = ""): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (!isObject(a) || !isObject(b) || Array.isArray(a) !== Array.isArray(b)) return [at || "(the whole file)"];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((key) => differences(a[key], b[key], Array.isArray(a) ? `${at}[${key}]` : at ? `${at}.${key}` : key));
}

/**
 * Checks that every shifted cluster file holds exactly the planned weights and
 * that nothing else in it changed (a YAML anchor shared by two weights would
 * change both). Throws a {@link ShiftError} naming what would go wrong.
 */
export function verifyShiftedSources(sources: ConfigSources, shifted: ConfigSources, fleet: FleetConfig, shifts: readonly ServiceShift[]): void {
  const fileOf = new Map(fleet.clusters.map((c) => [c.config.name, c.file]));
  const problems: string[] = [];
  if (shifted.platform.text !== sources.platform.text) problems.push(`${sources.platform.file}: would change, but a shift only edits cluster files`);
  sources.clusters.forEach((source) => {
    const expected = dataOf(source.text) as { weights?: Record<string, unknown> };
    for (const { service, after } of shifts) {
      for (const [cluster, weight] of Object.entries(after)) {
        if (fileOf.get(cluster) === source.file) expected.weights![service] = weight;
      }
    }
    const next = shifted.clusters.find((c) => c.file === source.file);
    if (!next) {
      problems.push(`${source.file}: would disappear, but a shift only edits weights`);
      return;
    }
    const actual = dataOf(next.text);
    for (const field of differences(expected, actual)) {
      const shiftedHere = shifts.some((s) => `weights.${s.service}` === field);
      problems.push(
        `${source.file}: ${field}: ` +
          (shiftedHere
            ? "would not hold the planned weight"
            : "would change too: it shares its value with a shifted weight through a YAML anchor (&) and alias (*); write plain numbers under weights:"),
      );
    }
  });
  if (problems.length > 0) throw new ShiftError(`refusing to shift; no file was changed:\n  ${problems.join("\n  ")}`);
}

/**
 * Refuses, with a {@link ShiftError} naming the files, when the configuration
 * in `configDir` is no longer the one a command planned from: a file edited,
 * added or removed since.
 */
export function assertSourcesUnchanged(configDir: string, sources: ConfigSources): void {
  let now: ConfigSources;
  try {
    now = readConfigSources(configDir);
  } catch (error) {
    throw new ShiftError(`the configuration changed since this command read it and cannot be read now (${(error as Error).message}); this write was refused`);
  }
  const textOf = (s: ConfigSources) => new Map([s.platform, ...s.clusters].map((f) => [f.file, f.text]));
  const before = textOf(sources);
  const after = textOf(now);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((file) => before.get(file) !== after.get(file)).sort();
  if (changed.length > 0) {
    throw new ShiftError(`${changed.join(", ")} changed since this command read the configuration (edited by hand, or by another shift): this write was refused; run the command again`);
  }
}

/**
 * Writes the changed cluster files all or nothing: each to a temporary file
 * beside it, then renamed over it; on any failure the files keep their
 * previous text and no temporary file is left. Refuses when a file changed on
 * disk since it was read. Returns the files written.
 * @param liveShifts the shifts already applied to the live rules, if any: a
 *   failure then says what is live and what the files hold.
 */
export function writeShiftedSources(configDir: string, sources: ConfigSources, shifted: ConfigSources, liveShifts?: readonly ServiceShift[]): string[] {
  try {
    return writeAllOrNothing(configDir, sources, shifted);
  } catch (error) {
    if (!liveShifts || !(error instanceof ShiftError)) throw error;
    throw new ShiftError(
      `${error.message}\nThe live listener rules DO have the new weights (${describeShifts(liveShifts, "after")}), ` +
        `but the files hold ${describeShifts(liveShifts, "before")}: set the new weights in the files by hand and commit them, ` +
        `or the next deploy of ${edgeStacksOf(parseFleetConfig(sources).platform.services, liveShifts.map((s) => s.service)).join(", ")} puts the old weights back`,
    );
  }
}

function writeAllOrNothing(configDir: string, sources: ConfigSources, shifted: ConfigSources): string[] {
  const previous = new Map(sources.clusters.map((c) => [c.file, c.text]));
  const changed = shifted.clusters.filter((c) => c.text !== previous.get(c.file));
  // A cluster file that is a symbolic link stays one: the file it points to is written.
  const full = (file: string) => resolveLink(path.join(configDir, file));
  const temporary = (file: string) => path.join(path.dirname(full(file)), `.${path.basename(full(file))}.shift-${process.pid}`);
  for (const { file } of changed) {
    if (readOrUndefined(full(file)) !== previous.get(file)) {
      throw new ShiftError(`${file} changed on disk while shifting; no file was changed: run the shift again`);
    }
  }
  const renamed: string[] = [];
  const temporaries: string[] = [];
  let current = "";
  try {
    for (const { file, text } of changed) {
      current = path.relative(configDir, temporary(file));
      fs.writeFileSync(temporary(file), text, { flag: "wx" });
      temporaries.push(temporary(file));
    }
    for (const { file } of changed) {
      current = file;
      fs.renameSync(temporary(file), full(file));
      renamed.push(file);
    }
  } catch (error) {
    const notRestored = renamed.filter((file) => !tryWrite(full(file), previous.get(file)!));
    for (const file of temporaries) fs.rmSync(file, { force: true });
    throw new ShiftError(
      `cannot write ${current}: ${describeFileError(error)}; ` +
        (notRestored.length > 0 ? `${notRestored.join(", ")} could not be put back and hold the new weights` : "no file was changed"),
    );
  }
  const differing = changed.filter(({ file, text }) => readOrUndefined(full(file)) !== text).map((c) => c.file);
  if (differing.length > 0) throw new ShiftError(`${differing.join(", ")} do not hold what was written: check them`);
  return changed.map((c) => c.file);
}

/** The file a path names, following symbolic links; the path itself when it does not resolve. */
function resolveLink(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function tryWrite(file: string, text: string): boolean {
  try {
    fs.writeFileSync(file, text);
    return true;
  } catch {
    return false;
  }
}
