import * as fs from "fs";
import * as path from "path";
import { failoverSettingsOf } from "../modules/config/failover";
import { parseFleetConfig } from "../modules/config/load";
import { functionBundle } from "../modules/synth/function-bundle";
import { exampleSources } from "./helpers/fleet";

/** When set, fs.utimesSync refuses as it does on a folder this user may not touch. */
let mockRefuseUtimes = false;
jest.mock("fs", () => {
  const real = jest.requireActual<typeof import("fs")>("fs");
  return {
    ...real,
    utimesSync: (...args: Parameters<typeof real.utimesSync>) => {
      if (mockRefuseUtimes) throw Object.assign(new Error(`EPERM: operation not permitted, utime '${args[0]}'`), { code: "EPERM" });
      return real.utimesSync(...args);
    },
  };
});

describe("the packages of the project's functions, kept between synths", () => {
  const settings = failoverSettingsOf(parseFleetConfig(exampleSources()));
  const props = { entry: "modules/traffic/failover-handler.ts", factory: "createFailoverHandler", settings };
  /** Props of this file's own packages, so that no other test's package is touched. */
  const ownProps = (marker: string) => ({ ...props, settings: { ...settings, marker: `${marker} ${process.pid} ${Date.now()}` } });
  const made: string[] = [];
  /** Makes (or reuses) a package of this file's own: by a new marker, or by props made before. */
  const bundle = (markerOrProps: string | ReturnType<typeof ownProps>) => {
    const result = functionBundle(typeof markerOrProps === "string" ? ownProps(markerOrProps) : markerOrProps);
    made.push(path.dirname(result.path));
    return result;
  };
  afterEach(() => {
    mockRefuseUtimes = false;
    for (const folder of made.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  });
  const twoDaysAgo = () => new Date(Date.now() - 2 * 24 * 3600 * 1000);

  it("is kept while synths use it, however long ago it was made; one unused for a day goes when another package is made", () => {
    const usedProps = ownProps("used");
    const used = bundle(usedProps);
    const unused = bundle("unused");
    for (const old of [used, unused]) fs.utimesSync(path.dirname(old.path), twoDaysAgo(), twoDaysAgo());
    expect(bundle(usedProps)).toEqual(used);
    bundle("another");
    expect(fs.existsSync(used.path)).toBe(true);
    expect(fs.existsSync(unused.path)).toBe(false);
  });

  it("is read as it is from a folder this user may not mark as used (a read-only checkout, another user's cache)", () => {
    const usedProps = ownProps("read-only");
    const first = bundle(usedProps);
    const madeAt = fs.statSync(first.path).mtimeMs;
    mockRefuseUtimes = true;
    expect(bundle(usedProps)).toEqual(first);
    expect(fs.statSync(first.path).mtimeMs).toBe(madeAt);
  });
});
