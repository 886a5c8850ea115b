/*
 * A partition process: synthesizes one partition of a fleet (the network, the
 * edge and some clusters) for modules/synth/partitions.ts.
 *
 *   node bin/run.js modules/synth/partition-process.ts <config-dir> <index> <processes> <outdir>
 */
import { loadFleetSnapshot } from "../config/load";
import { synthesizePartition } from "./partitions";

const [configDir, index, processes, outdir] = process.argv.slice(2);
synthesizePartition(loadFleetSnapshot(configDir), Number(index), Number(processes), outdir);
