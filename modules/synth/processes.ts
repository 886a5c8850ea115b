import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CLUSTERS_DIR, isClusterFileName } from "../config/files";
import { projectRoot } from "../project-root";
import { UserError } from "../user-error";

/*
 * Which processes synthesize a fleet, and the start of all but the first.
 * This module loads no synthesis code, so the other processes start before
 * this one loads it and the loading happens side by side.
 */

/** Sets how many processes synthesize a fleet (1: this one alone); unset, synth chooses. */
export const PROCESSES_VARIABLE = "FLEET_SYNTH_PROCESSES";

/** Fewest clusters a process is started for: fewer are synthesized faster than another process starts. */
const MIN_CLUSTERS_PER_PROCESS = 8;

/** The entry point of a partition process, relative to the project root. */
const PARTITION_ENTRY = "modules/synth/partition-process.ts";

/**
 * How many processes synthesize a fleet of `clusterCount` clusters: the
 * {@link PROCESSES_VARIABLE} variable when set, else one per core while each
 * gets at least {@link MIN_CLUSTERS_PER_PROCESS} clusters.
 */
export function synthesisProcesses(clusterCount: number): number {
  const setting = process.env[PROCESSES_VARIABLE];
  if (setting !== undefined && setting !== "") {
    if (!/^[1-9][0-9]?$/.test(setting)) {
      throw new UserError(`${PROCESSES_VARIABLE} must be a whole number of processes from 1 to 99, not "${setting}"`);
    }
    return Number(setting);
  }
  return Math.max(1, Math.min(os.availableParallelism(), Math.floor(clusterCount / MIN_CLUSTERS_PER_PROCESS)));
}

/** The clusters of each of `processes` partitions: consecutive runs of the fleet's clusters, as even as can be. */
export function partitionClusters(clusters: readonly string[], processes: number): string[][] {
  return Array.from({ length: processes }, (_, i) =>
    clusters.slice(Math.round((clusters.length * i) / processes), Math.round((clusters.length * (i + 1)) / processes)),
  );
}

/** The outcome of a partition process: the folder it synthesized into, or why it did not. */
export type PartitionOutput = { readonly outdir: string } | { readonly error: Error };

/** The partition processes of one synth, started before the configuration is loaded. */
export interface StartedPartitions {
  /** Processes in all, this one included: partition 0 is this process's. */
  readonly processes: number;
  /** The outcome of partitions 1, 2, ... */
  readonly outputs: readonly Promise<PartitionOutput>[];
  /** Stops the processes still running and removes their folders. */
  stop(): void;
}

/**
 * Starts the processes that synthesize partitions 1, 2, ... of the fleet in
 * `configDir`, as many as {@link synthesisProcesses} gives for its cluster
 * files. Each loads the configuration itself and writes into a folder of its
 * own beside `outdir`. Starts none when the folders cannot be made: synth
 * then reports the problem with `outdir` itself.
 */
export function startPartitions(configDir: string, outdir: string): StartedPartitions {
  const processes = synthesisProcesses(countClusterFiles(configDir));
  const workDirs: string[] = [];
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
    for (const workDir of workDirs) fs.rmSync(workDir, { recursive: true, force: true });
  };
  if (processes === 1) return { processes, outputs: [], stop };
  try {
    fs.mkdirSync(path.dirname(outdir), { recursive: true });
    for (let i = 1; i < processes; i++) workDirs.push(fs.mkdtempSync(path.join(path.dirname(outdir), `.${path.basename(outdir)}.partition-`)));
  } catch {
    stop();
    return { processes: 1, outputs: [], stop };
  }
  const outputs = workDirs.map((workDir, i) => {
    const child = spawn(process.execPath, [path.join(projectRoot(), "bin", "run.js"), PARTITION_ENTRY, configDir, String(i + 1), String(processes), workDir], {
      cwd: projectRoot(),
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    return partitionOutput(child, i + 1, workDir);
  });
  return { processes, outputs, stop };
}

/** The cluster files in `configDir`, as the configuration will read them; 0 when the folder cannot be read. */
function countClusterFiles(configDir: string): number {
  try {
    return fs.readdirSync(path.join(configDir, CLUSTERS_DIR)).filter(isClusterFileName).length;
  } catch {
    return 0;
  }
}

function partitionOutput(child: ChildProcess, index: number, outdir: string): Promise<PartitionOutput> {
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    child.on("error", (error) => resolve({ error }));
    child.on("close", (code, signal) => {
      if (code === 0) resolve({ outdir });
      else resolve({ error: new Error(`the process synthesizing partition ${index} failed (${signal ?? `exit ${code}`}):\n${stderr.trim()}`) });
    });
  });
}
