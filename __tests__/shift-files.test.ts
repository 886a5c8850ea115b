import * as fs from "fs";
import * as path from "path";
import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { applyShiftToSources, planShift, ServiceShift } from "../modules/traffic/shift";
import { assertSourcesUnchanged, verifyShiftedSources, writeShiftedSources } from "../modules/traffic/shift-files";
import { writeConfigProject } from "../scripts/lib/config-project";
import { exampleSources, twoAlbSources, withClusterFile } from "./helpers/fleet";

/** Faults of the file system for the test at hand: run before the real call, throwing to fail it. */
const mockFileFaults: { rename?: (to: string) => void; afterRename?: (to: string) => void; write?: (file: string) => void } = {};
jest.mock("fs", () => {
  const actual = jest.requireActual<typeof import("fs")>("fs");
  return {
    ...actual,
    renameSync: (from: fs.PathLike, to: fs.PathLike) => {
      mockFileFaults.rename?.(String(to));
      actual.renameSync(from, to);
      mockFileFaults.afterRename?.(String(to));
    },
    writeFileSync: (file: fs.PathOrFileDescriptor, data: string, options?: fs.WriteFileOptions) => {
      mockFileFaults.write?.(String(file));
      actual.writeFileSync(file, data, options);
    },
  };
});
const diskFull = () => Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });

/**
 * The cluster files a shift writes: checked before (only the planned weights
 * change), compared with the disk before each write (no hand edit or other
 * shift overwritten), written all or nothing, and read back after.
 */
let example: ConfigSources;
let shifts: ServiceShift[];
let shifted: ConfigSources;
beforeEach(() => {
  example = exampleSources();
  const fleet = parseFleetConfig(example);
  shifts = planShift(fleet, { weights: { blue: 0, green: 100 } });
  shifted = applyShiftToSources(example, fleet, shifts);
});
afterEach(() => {
  delete mockFileFaults.rename;
  delete mockFileFaults.afterRename;
  delete mockFileFaults.write;
});

const textOf = (sources: ConfigSources, file: string) => sources.clusters.find((c) => c.file === file)!.text;
const onDisk = (dir: string) => fs.readdirSync(path.join(dir, "clusters")).sort().map((file) => [file, fs.readFileSync(path.join(dir, "clusters", file), "utf8")]);
const verify = (next: ConfigSources) => () => verifyShiftedSources(example, next, parseFleetConfig(example), shifts);
/** Two services on two ALBs (web on edge, api on edge-internal), shifted to green. */
const twoServices = () => {
  const sources = twoAlbSources();
  const fleet = parseFleetConfig(sources);
  const planned = planShift(fleet, { to: "green" });
  return { sources, fleet, planned, shifted: applyShiftToSources(sources, fleet, planned) };
};
/** The example with a third cluster, purple, and all three shifted. */
const threeClusters = () => {
  const sources = withClusterFile(example, "clusters/purple.yaml", textOf(example, "clusters/green.yaml").replace("name: green", "name: purple"));
  const fleet = parseFleetConfig(sources);
  return { sources, shifted: applyShiftToSources(sources, fleet, planShift(fleet, { weights: { blue: 0, green: 20, purple: 80 } })) };
};

describe("the shifted files, before they are written", () => {
  it("pass when they hold the planned weights and nothing else changed", () => {
    expect(verify(shifted)).not.toThrow();
  });

  it("are refused when a planned weight is not what a file would hold, naming file and field", () => {
    const wrong = withClusterFile(shifted, "clusters/green.yaml", textOf(shifted, "clusters/green.yaml").replace("web: 100", "web: 99"));
    expect(verify(wrong)).toThrow("refusing to shift; no file was changed:\n  clusters/green.yaml: weights.web: would not hold the planned weight");
  });

  it("are refused when anything but a weight would change, each place named", () => {
    const edited = withClusterFile(shifted, "clusters/blue.yaml", textOf(shifted, "clusters/blue.yaml").replace(/kubernetesVersion: "?([\d.]+)"?/, 'kubernetesVersion: "9.99"'));
    const listed = withClusterFile(edited, "clusters/green.yaml", textOf(shifted, "clusters/green.yaml").replace(/^weights:\n {2}web: 100$/m, "weights:\n  - 100"));
    const platform = { ...listed, platform: { ...listed.platform, text: `${listed.platform.text}# note\n` } };
    expect(verify(platform)).toThrow(
      "refusing to shift; no file was changed:\n" +
        "  platform.yaml: would change, but a shift only edits cluster files\n" +
        "  clusters/blue.yaml: kubernetesVersion: would change too: it shares its value with a shifted weight through a YAML anchor (&) and alias (*); write plain numbers under weights:\n" +
        "  clusters/green.yaml: weights: would change too: it shares its value with a shifted weight through a YAML anchor (&) and alias (*); write plain numbers under weights:",
    );
  });

  it("are refused when a file would disappear, or become something other than a mapping", () => {
    const gone = { ...shifted, clusters: shifted.clusters.filter((c) => c.file !== "clusters/blue.yaml") };
    expect(verify(gone)).toThrow("refusing to shift; no file was changed:\n  clusters/blue.yaml: would disappear, but a shift only edits weights");
    const scalar = withClusterFile(shifted, "clusters/blue.yaml", "blue\n");
    expect(verify(scalar)).toThrow("refusing to shift; no file was changed:\n  clusters/blue.yaml: (the whole file): would change too");
  });

  it("name, of two services shifted, the one whose planned weight a file would not hold", () => {
    const { sources, fleet, planned, shifted: both } = twoServices();
    const wrong = withClusterFile(both, "clusters/green.yaml", textOf(both, "clusters/green.yaml").replace("api: 100", "api: 99"));
    expect(() => verifyShiftedSources(sources, wrong, fleet, planned)).toThrow(
      "refusing to shift; no file was changed:\n  clusters/green.yaml: weights.api: would not hold the planned weight",
    );
  });

  it("name a mapping that would become empty (null)", () => {
    const emptied = withClusterFile(shifted, "clusters/blue.yaml", textOf(shifted, "clusters/blue.yaml").replace(/^endpoint:\n(?:  .*\n)+/m, "endpoint:\n"));
    expect(verify(emptied)).toThrow("refusing to shift; no file was changed:\n  clusters/blue.yaml: endpoint: would change too");
  });

  it("name an element of a list by its index", () => {
    const blue = textOf(example, "clusters/blue.yaml");
    const withList = withClusterFile(example, "clusters/blue.yaml", `${blue}tags_list: [a, b]\n`);
    const fleet = parseFleetConfig(example);
    const shiftedList = withClusterFile(shifted, "clusters/blue.yaml", `${textOf(shifted, "clusters/blue.yaml")}tags_list: [a, c]\n`);
    expect(() => verifyShiftedSources(withList, shiftedList, fleet, shifts)).toThrow("clusters/blue.yaml: tags_list[1]: would change too");
  });
});

describe("the configuration a command planned from", () => {
  it("passes while no file changed", () => {
    const dir = writeConfigProject(example);
    expect(() => assertSourcesUnchanged(dir, example)).not.toThrow();
  });

  it("is refused, naming every file edited, added or removed since", () => {
    const dir = writeConfigProject(example);
    fs.appendFileSync(path.join(dir, "clusters", "green.yaml"), "# edited\n");
    fs.writeFileSync(path.join(dir, "clusters", "purple.yaml"), textOf(example, "clusters/green.yaml").replace("name: green", "name: purple"));
    fs.rmSync(path.join(dir, "clusters", "blue.yaml"));
    expect(() => assertSourcesUnchanged(dir, example)).toThrow(
      "clusters/blue.yaml, clusters/green.yaml, clusters/purple.yaml changed since this command read the configuration (edited by hand, or by another shift): this write was refused; run the command again",
    );
  });

  it("is refused naming the files edited in the order of their paths", () => {
    const dir = writeConfigProject(example);
    fs.appendFileSync(path.join(dir, "platform.yaml"), "# edited\n");
    fs.appendFileSync(path.join(dir, "clusters", "blue.yaml"), "# edited\n");
    expect(() => assertSourcesUnchanged(dir, example)).toThrow("clusters/blue.yaml, platform.yaml changed since this command read the configuration");
  });

  it("is refused when it cannot be read any more", () => {
    const dir = writeConfigProject(example);
    fs.rmSync(path.join(dir, "platform.yaml"));
    expect(() => assertSourcesUnchanged(dir, example)).toThrow(
      "the configuration changed since this command read it and cannot be read now (invalid configuration (1 problem):\n  platform.yaml: file not found); this write was refused",
    );
  });
});

describe("writing the shifted files, when the disk fails", () => {
  it("puts back the files already renamed and leaves no temporary file", () => {
    const dir = writeConfigProject(example);
    mockFileFaults.rename = (to) => {
      if (to.endsWith("green.yaml")) throw diskFull();
    };
    expect(() => writeShiftedSources(dir, example, shifted)).toThrow(/^cannot write clusters\/green\.yaml: .*; no file was changed$/);
    expect(onDisk(dir)).toEqual([
      ["blue.yaml", textOf(example, "clusters/blue.yaml")],
      ["green.yaml", textOf(example, "clusters/green.yaml")],
    ]);
  });

  it("says which file could not be put back and holds the new weights", () => {
    const dir = writeConfigProject(example);
    mockFileFaults.rename = (to) => {
      if (to.endsWith("green.yaml")) throw diskFull();
    };
    mockFileFaults.write = (file) => {
      if (file.endsWith("/blue.yaml")) throw diskFull();
    };
    expect(() => writeShiftedSources(dir, example, shifted)).toThrow(/^cannot write clusters\/green\.yaml: .*; clusters\/blue\.yaml could not be put back and hold the new weights$/);
    expect(onDisk(dir)).toEqual([
      ["blue.yaml", textOf(shifted, "clusters/blue.yaml")],
      ["green.yaml", textOf(example, "clusters/green.yaml")],
    ]);
  });

  it("names every file that could not be put back", () => {
    const { sources, shifted: all } = threeClusters();
    const dir = writeConfigProject(sources);
    mockFileFaults.rename = (to) => {
      if (to.endsWith("purple.yaml")) throw diskFull();
    };
    mockFileFaults.write = (file) => {
      if (/\/(blue|green)\.yaml$/.test(file)) throw diskFull();
    };
    expect(() => writeShiftedSources(dir, sources, all)).toThrow(/; clusters\/blue\.yaml, clusters\/green\.yaml could not be put back and hold the new weights$/);
  });

  it("says, when the live rules were already shifted, what is live, what the files hold and which edge stacks would put the old weights back", () => {
    const { sources, planned, shifted: both } = twoServices();
    const dir = writeConfigProject(sources);
    mockFileFaults.rename = (to) => {
      if (to.endsWith("green.yaml")) throw diskFull();
    };
    expect(() => writeShiftedSources(dir, sources, both, planned)).toThrow(
      /; no file was changed\nThe live listener rules DO have the new weights \(.+\), but the files hold .+: set the new weights in the files by hand and commit them, or the next deploy of edge, edge-internal puts the old weights back$/,
    );
  });

  it("reads every file back, and says so when one does not hold what was written", () => {
    const dir = writeConfigProject(example);
    // Another writer between the rename and the read back.
    mockFileFaults.afterRename = (to) => {
      if (to.endsWith("green.yaml")) fs.appendFileSync(to, "# someone else\n");
    };
    expect(() => writeShiftedSources(dir, example, shifted)).toThrow("clusters/green.yaml do not hold what was written: check them");
    const again = writeConfigProject(example);
    mockFileFaults.afterRename = (to) => fs.appendFileSync(to, "# someone else\n");
    expect(() => writeShiftedSources(again, example, shifted)).toThrow("clusters/blue.yaml, clusters/green.yaml do not hold what was written: check them");
  });

  it("writes only the files that change, and returns them", () => {
    const dir = writeConfigProject(example);
    const blueOnly = withClusterFile(example, "clusters/blue.yaml", textOf(shifted, "clusters/blue.yaml"));
    expect(writeShiftedSources(dir, example, blueOnly)).toEqual(["clusters/blue.yaml"]);
    expect(onDisk(dir)).toEqual([
      ["blue.yaml", textOf(shifted, "clusters/blue.yaml")],
      ["green.yaml", textOf(example, "clusters/green.yaml")],
    ]);
  });
});
