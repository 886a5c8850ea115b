import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { App, Manifest, StackManifest } from "cdktf";
import { ConfigSnapshot, LoadedFleet } from "../config/load";
import { buildFleet } from "../fleet";
import { EDGE_STACK, NETWORK_STACK } from "../naming";
import { UserError } from "../user-error";
import { partitionClusters, PROCESSES_VARIABLE, StartedPartitions } from "./processes";

/** Stacks every partition synthesizes: they must come out the same in each. */
const SHARED_STACKS = [NETWORK_STACK, EDGE_STACK];

/** What a partition process records beside its output: what it synthesized, from which configuration. */
const RECEIPT_FILE = "partition.json";

interface PartitionReceipt {
  /** SHA-256 of the configuration the partition was synthesized from. */
  readonly configuration: string;
  readonly clusters: readonly string[];
}

function configurationDigest(snapshot: ConfigSnapshot): string {
  return crypto.createHash("sha256").update(JSON.stringify(snapshot)).digest("hex");
}

/**
 * Synthesizes partition `index` of `processes` of a fleet into the empty
 * folder `outdir`: the network, the edge, and that partition's clusters.
 */
export function synthesizePartition(loaded: LoadedFleet, index: number, processes: number, outdir: string): App {
  const clusters = partitionClusters(
    loaded.fleet.clusters.map(({ config }) => config.name),
    processes,
  )[index];
  const app = new App({ outdir });
  buildFleet(app, loaded.fleet, clusters);
  app.synth();
  const receipt: PartitionReceipt = { configuration: configurationDigest(loaded.snapshot), clusters };
  fs.writeFileSync(path.join(outdir, RECEIPT_FILE), JSON.stringify(receipt));
  return app;
}

/**
 * Synthesizes a fleet into the empty folder `outdir`, partition 0 in this
 * process and the others in the processes `started` runs. Each partition
 * builds the network, the edge and its clusters' stacks, which come out as in
 * one process: the cluster stacks read values of the network and the edge
 * only through outputs these declare whatever else is built
 * (modules/shared-outputs.ts). The network and edge of every partition are
 * checked to be the same, and every partition to come from the same
 * configuration, before its clusters' stacks join the output.
 */
export async function synthesizeInPartitions(loaded: LoadedFleet, outdir: string, started: StartedPartitions): Promise<void> {
  const app = synthesizePartition(loaded, 0, started.processes, outdir);
  const own = readReceipt(outdir);
  fs.rmSync(path.join(outdir, RECEIPT_FILE));
  for (const output of await Promise.all(started.outputs)) {
    if ("error" in output) throw output.error;
    if (readReceipt(output.outdir).configuration !== own.configuration) {
      throw new UserError("the configuration changed while synth was reading it: run synth again");
    }
    mergePartition(app.manifest, outdir, output.outdir);
  }
  app.manifest.writeToFile();
}

function readReceipt(outdir: string): PartitionReceipt {
  return JSON.parse(fs.readFileSync(path.join(outdir, RECEIPT_FILE), "utf8")) as PartitionReceipt;
}

/**
 * Moves the clusters' stacks a partition synthesized into `outdir` and adds
 * them to its manifest, once its shared stacks are found identical to those
 * already in `outdir`.
 */
function mergePartition(manifest: Manifest, outdir: string, partitionDir: string): void {
  const partition = JSON.parse(fs.readFileSync(path.join(partitionDir, Manifest.fileName), "utf8")) as { stacks: Record<string, StackManifest> };
  for (const [name, stack] of Object.entries(partition.stacks)) {
    if (SHARED_STACKS.includes(name)) {
      const difference = firstDifference(path.join(outdir, stack.workingDirectory), path.join(partitionDir, stack.workingDirectory));
      if (difference !== undefined || !isDeepStrictEqual({ ...manifest.stacks[name] }, stack)) {
        throw new Error(
          `synthesizing the clusters in separate processes gave two different ${name} stacks (${difference ?? "manifest entry"} differs): ` +
            `a cluster stack reads a value of it not declared with shareWithClusterStacks; ${PROCESSES_VARIABLE}=1 synthesizes in one process`,
        );
      }
      continue;
    }
    fs.renameSync(path.join(partitionDir, stack.workingDirectory), path.join(outdir, stack.workingDirectory));
    manifest.stacks[name] = stack;
  }
}

/** The first file that differs between two folders (relative path), or undefined when they hold the same files with the same bytes. */
function firstDifference(a: string, b: string): string | undefined {
  const files = (dir: string) => (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
  const inA = files(a);
  const inB = files(b);
  const missing = inA.find((file) => !inB.includes(file)) ?? inB.find((file) => !inA.includes(file));
  if (missing !== undefined) return missing;
  return inA.find((file) => {
    const fileA = path.join(a, file);
    return !fs.statSync(fileA).isDirectory() && !fs.readFileSync(fileA).equals(fs.readFileSync(path.join(b, file)));
  });
}
