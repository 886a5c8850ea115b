import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadFleetConfig, loadFleetSnapshot } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { synthesizeFleet, synthesizeFleetInProcesses } from "../modules/synth";
import { synthesizeInPartitions, synthesizePartition } from "../modules/synth/partitions";
import { partitionClusters, PROCESSES_VARIABLE, startPartitions, StartedPartitions, synthesisProcesses } from "../modules/synth/processes";
import { UserError } from "../modules/user-error";
import { writeConfigProject } from "../scripts/lib/config-project";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { folderFiles } from "./helpers/folder-files";
import { exampleSources, shifted } from "./helpers/fleet";
import { STACK_TRACE } from "./helpers/stack-trace";

const mainJs = path.join(projectRoot(), "dist", "main.js");

/** Runs `body` with FLEET_SYNTH_PROCESSES set to `processes` (unset when undefined). */
async function withProcesses<T>(processes: string | undefined, body: () => T | Promise<T>): Promise<T> {
  const before = process.env[PROCESSES_VARIABLE];
  if (processes === undefined) delete process.env[PROCESSES_VARIABLE];
  else process.env[PROCESSES_VARIABLE] = processes;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env[PROCESSES_VARIABLE];
    else process.env[PROCESSES_VARIABLE] = before;
  }
}

/** The output of a project synthesized in one process, as the reference. */
function synthesizedInOneProcess(dir: string): Record<string, string> {
  const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-one-process-")), "cdktf.out");
  synthesizeFleet(loadFleetConfig(dir), outdir);
  return folderFiles(outdir);
}

/** Synthesizes a project with `processes` processes, as `npm run synth` does. */
async function synthesizedIn(processes: number, dir: string): Promise<Record<string, string>> {
  const outdir = path.join(dir, "cdktf.out");
  await withProcesses(String(processes), async () => {
    const started = startPartitions(dir, outdir);
    expect(started.processes).toBe(processes);
    await synthesizeFleetInProcesses(loadFleetSnapshot(dir), outdir, started);
  });
  return folderFiles(outdir);
}

function partitionFolders(dir: string): string[] {
  return fs.readdirSync(dir).filter((entry) => entry.includes(".partition-") || entry.includes(".staging-"));
}

/** A started partition process that already wrote `outdir`. */
function finishedPartitions(outdirs: string[]): StartedPartitions {
  return { processes: outdirs.length + 1, outputs: outdirs.map((outdir) => Promise.resolve({ outdir })), stop: () => undefined };
}

describe("synthesis in several processes", () => {
  it.each([
    ["the example", exampleSources(), [2, 3]],
    ["a generated fleet of 9 clusters", generatedFleetSources(9), [2, 4]],
  ])("gives %s the same output, byte for byte, as one process", async (_name, sources, counts) => {
    const dir = writeConfigProject(sources);
    const reference = synthesizedInOneProcess(dir);
    for (const processes of counts) {
      expect(await synthesizedIn(processes, dir)).toEqual(reference);
      expect(partitionFolders(dir)).toEqual([]);
    }
  });

  it("refuses partitions synthesized from configurations that differ, naming the cause", async () => {
    const dir = writeConfigProject(generatedFleetSources(4));
    const changed = writeConfigProject(shifted(generatedFleetSources(4), { c03: 0 }));
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-partition-"));
    synthesizePartition(loadFleetSnapshot(changed), 1, 2, other);
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-partition-"));
    await expect(synthesizeInPartitions(loadFleetSnapshot(dir), outdir, finishedPartitions([other]))).rejects.toThrow(
      new UserError("the configuration changed while synth was reading it: run synth again"),
    );
  });

  it("refuses a partition whose network or edge stack differs from this process's", async () => {
    const dir = writeConfigProject(generatedFleetSources(4));
    const loaded = loadFleetSnapshot(dir);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-partition-"));
    synthesizePartition(loaded, 1, 2, other);
    const edge = path.join(other, "stacks", "edge", "cdk.tf.json");
    fs.writeFileSync(edge, fs.readFileSync(edge, "utf8").replace('"deployed-weights"', '"deployed-weight"'));
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-partition-"));
    await expect(synthesizeInPartitions(loaded, outdir, finishedPartitions([other]))).rejects.toThrow(
      /separate processes gave two different edge stacks \(cdk\.tf\.json differs\): a cluster stack reads a value of it not declared with shareWithClusterStacks/,
    );
  });

  it("shares the clusters out in fleet order, every cluster once, as evenly as can be", () => {
    const clusters = Array.from({ length: 11 }, (_, i) => `c${i}`);
    const partitions = partitionClusters(clusters, 3);
    expect(partitions.flat()).toEqual(clusters);
    expect(partitions.map((p) => p.length)).toEqual([4, 3, 4]);
    expect(partitionClusters(["a"], 2)).toEqual([["a"], []]);
  });

  it("uses one process for a small fleet, one per core for a large one, or FLEET_SYNTH_PROCESSES", async () => {
    await withProcesses(undefined, () => {
      expect(synthesisProcesses(2)).toBe(1);
      expect(synthesisProcesses(15)).toBe(1);
      expect(synthesisProcesses(200)).toBe(os.availableParallelism());
    });
    await withProcesses("3", () => expect(synthesisProcesses(2)).toBe(3));
    for (const bad of ["0", "two", "1.5", "100"]) {
      await withProcesses(bad, () => expect(() => synthesisProcesses(2)).toThrow(new UserError(`FLEET_SYNTH_PROCESSES must be a whole number of processes from 1 to 99, not "${bad}"`)));
    }
  });
});

describe("npm run synth in several processes", () => {
  function synth(dir: string, processes: string) {
    const env: NodeJS.ProcessEnv = { ...process.env, [PROCESSES_VARIABLE]: processes };
    delete env.CDKTF_OUTDIR;
    return spawnSync(process.execPath, [mainJs, dir], { encoding: "utf8", env });
  }

  it("writes what one process writes, and on bad input leaves the previous output and no other folder", () => {
    const dir = writeConfigProject(exampleSources());
    const reference = synthesizedInOneProcess(dir);
    const result = synth(dir, "2");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(folderFiles(path.join(dir, "cdktf.out"))).toEqual(reference);

    fs.writeFileSync(path.join(dir, "clusters", "green.yaml"), fs.readFileSync(path.join(dir, "clusters", "green.yaml"), "utf8") + "\nsurprise: 1\n");
    const bad = synth(dir, "2");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('clusters/green.yaml: unknown key "surprise"');
    expect(bad.stderr).not.toMatch(STACK_TRACE);
    expect(folderFiles(path.join(dir, "cdktf.out"))).toEqual(reference);
    expect(partitionFolders(dir)).toEqual([]);

    const refused = synth(dir, "many");
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split("\n")[0]).toBe('FLEET_SYNTH_PROCESSES must be a whole number of processes from 1 to 99, not "many"');
  });
});
