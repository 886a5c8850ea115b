import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigSources, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { writeConfigProject } from "./lib/config-project";
import { generatedFleetSources } from "./lib/generated-fleet";
import { parseCommandLine } from "../modules/cli/args";
import { runCommand } from "../modules/run-command";

const USAGE = `usage: npm run bench
  synth wall time and peak memory for the example, 10 and 50 clusters (BENCH_RUNS runs each, default 5)`;

/**
 * Measures `node dist/main.js` (what `npm run synth` runs after compiling):
 * wall time including Node's start, and peak resident memory, for the example
 * configuration and generated fleets. Prints the median and worst of several runs.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = projectRoot();
const mainJs = path.join(root, "dist", "main.js");
const reporter = path.join(root, "dist", "scripts", "lib", "report-peak-memory.js");

function measure(dir: string): { seconds: number; megabytes: number } {
  const env = { ...process.env };
  delete env.CDKTF_OUTDIR;
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ["-r", reporter, mainJs, dir], { encoding: "utf8", env });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`synth failed:\n${result.stderr}`);
  const rss = /PEAK_RSS_KB=(\d+)/.exec(result.stderr);
  if (!rss) throw new Error("no peak memory reported");
  return { seconds, megabytes: Number(rss[1]) / 1024 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const cases: [string, ConfigSources, string][] = [
  ["example (2 clusters)", readConfigSources(root), "< 1 s, < 200 MB"],
  ["10 clusters", generatedFleetSources(10), ""],
  ["50 clusters", generatedFleetSources(50), "< 2 s"],
];

runCommand(() => {
  if (!parseCommandLine({ usage: USAGE, options: {} })) return;
  console.log(`synth benchmark: node ${process.version}, ${os.cpus().length} cores, ${RUNS} runs each`);
  console.log("case                   stacks  wall median  wall max  peak RSS max  target");
  for (const [name, sources, target] of cases) {
    const dir = writeConfigProject(sources, "fleet-bench-");
    const runs = Array.from({ length: RUNS }, () => measure(dir));
    const stacks = fs.readdirSync(path.join(dir, "cdktf.out", "stacks")).length;
    const seconds = runs.map((r) => r.seconds);
    console.log(
      `${name.padEnd(22)} ${String(stacks).padStart(6)}  ${median(seconds).toFixed(2).padStart(9)} s  ${Math.max(...seconds).toFixed(2).padStart(6)} s  ${Math.max(...runs.map((r) => r.megabytes)).toFixed(0).padStart(9)} MB  ${target}`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
