import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigSources, loadFleetConfig, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { synthesizeFleet } from "../modules/synth/synth";
import { writeConfigProject } from "./lib/config-project";
import { generatedFleetSources, generatedMultiAlbFleetSources } from "./lib/generated-fleet";
import { parseCommandLine } from "../modules/cli/args";
import { runCommand } from "../modules/cli/run-command";

const USAGE = `usage: npm run bench
  wall time, CPU time and peak memory of synth, shift, cdktf synth and offline plans for the example and generated fleets,
  and the automatic failover's run and worst-case time from failed targets to ModifyRule
  BENCH_RUNS (default 5), BENCH_PLAN_RUNS (default 5), BENCH_CLUSTERS (default 10,50; empty: the example only); plans need TF_PLUGIN_DIR or the registry`;

/**
 * What a user waits for, as typed, on the example configuration and on
 * generated fleets: `npm run synth`, the synthesis alone, a dry-run shift,
 * `cdktf synth` through the CLI, and the offline plan of a weight shift with
 * and without `--changed-since`. Prints the median wall time and the peak
 * memory of the largest Node process of each (terraform's own not counted).
 *
 * BENCH_RUNS (default 5) runs per command; BENCH_PLAN_RUNS (default 5) per
 * plan (a 50-cluster fleet's full plan takes minutes: all of it about half an
 * hour on 2 cores; 1 for a quick look); BENCH_CLUSTERS (default 10,50) the
 * generated fleet sizes, empty for the example only. Plans need terraform and a provider mirror in
 * TF_PLUGIN_DIR (or the registry).
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PLAN_RUNS = Number(process.env.BENCH_PLAN_RUNS ?? 5);
const CLUSTER_COUNTS = (process.env.BENCH_CLUSTERS ?? "10,50").split(",").filter(Boolean).map(Number);
/** Past one ALB's quotas: 200 services over 6 ALBs, each on all 3 clusters where the ALB's 100 target groups allow. */
const MULTI_ALB_FLEET = { services: 200, clusters: 3, clustersPerService: 3, albs: 6 };
const root = projectRoot();
const reporter = path.join(root, "scripts", "lib", "report-peak-memory.js");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const npx = process.platform === "win32" ? "npx.cmd" : "npx";

interface Measurement {
  readonly seconds: number;
  /** CPU time of the whole process tree (terraform included), where the system tells. */
  readonly cpuSeconds?: number;
  readonly megabytes?: number;
  readonly stdout: string;
}

/** CPU time used by this process's finished children (Linux: /proc/self/stat cutime + cstime, in 1/100 s). */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

/** Runs a command as a user would, with every Node process in it reporting its peak memory. */
function measure(command: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Measurement {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${reporter}`.trim() };
  delete env.CDKTF_OUTDIR;
  const start = process.hrtime.bigint();
  const cpuBefore = childrenCpuSeconds();
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env, maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuAfter = childrenCpuSeconds();
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
  const peaks = [...result.stderr.matchAll(/PEAK_RSS_KB=(\d+)/g)].map((m) => Number(m[1]) / 1024);
  const cpuSeconds = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return { seconds, cpuSeconds, megabytes: Math.max(0, ...peaks), stdout: result.stdout };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Median wall time and memory of `runs` runs, after `prepare` before each. */
function repeat(runs: number, run: () => Measurement, prepare: () => void = () => undefined): Measurement & { runs: number } {
  const results = Array.from({ length: runs }, () => {
    prepare();
    return run();
  });
  const middle = results.find((r) => r.seconds === median(results.map((m) => m.seconds)))!;
  const cpu = results.map((r) => r.cpuSeconds);
  return {
    ...middle,
    cpuSeconds: cpu.includes(undefined) ? undefined : median(cpu as number[]),
    megabytes: median(results.map((r) => r.megabytes ?? 0)),
    runs,
  };
}

const column = (value: number | undefined, unit: string, digits: number, width: number) =>
  (value === undefined ? "–" : `${value.toFixed(digits)} ${unit}`).padStart(width);

function report(label: string, m: Omit<Measurement, "stdout"> & { runs: number }, note = ""): void {
  const runs = `(${m.runs} run${m.runs === 1 ? "" : "s"})`;
  console.log(
    `  ${label.padEnd(46)} ${column(m.seconds, "s", 2, 9)} ${column(m.cpuSeconds, "s", 2, 9)} ${column(m.megabytes, "MB", 0, 7)}  ${runs.padEnd(9)} ${note}`,
  );
}

/** A project folder for a configuration: its own git repository, and what `cdktf synth` needs there. */
function benchProject(sources: ConfigSources): string {
  const dir = writeConfigProject(sources, "fleet-bench-");
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  const cdktfJson = { language: "typescript", app: `node ${path.join(root, "bin", "run.js")} main.ts .`, output: "cdktf.out", sendCrashReports: "false" };
  fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify(cdktfJson, null, 2));
  fs.writeFileSync(path.join(dir, ".gitignore"), "node_modules\ncdktf.out/\nstate/\n");
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { stdio: "pipe" });
  git("init", "-q");
  git("add", "-A");
  git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "fleet");
  return dir;
}

function terraformMissing(): string | undefined {
  if (spawnSync("terraform", ["version"]).status !== 0) return "terraform is not on PATH";
  return undefined;
}

function benchCase(name: string, sources: ConfigSources): void {
  const dir = benchProject(sources);
  const fleet = loadFleetConfig(dir);
  const first = fleet.clusters[0].config.name;
  const stacks = 2 + Object.keys(fleet.platform.albs).length + 2 * fleet.clusters.length;
  const target = name.startsWith("example") ? "target ≤ 1 s, ≤ 200 MB" : fleet.clusters.length === 50 || name.includes("ALBs") ? "target ≤ 2 s" : "";
  console.log(`\n${name}: ${fleet.clusters.length} clusters, ${stacks} stacks`.padEnd(49) + "     wall       cpu  memory");

  report("npm run synth", repeat(RUNS, () => measure(npm, ["run", "synth", "--", dir], root)), target);

  const inProcess = Array.from({ length: RUNS }, () => {
    const start = process.hrtime.bigint();
    synthesizeFleet(loadFleetConfig(dir), path.join(dir, "cdktf.out"));
    return Number(process.hrtime.bigint() - start) / 1e9;
  });
  report("synthesis alone (loading + synth, in-process)", { seconds: median(inProcess), runs: RUNS });

  report(`npm run shift -- --to ${first} --dry-run`, repeat(RUNS, () => measure(npm, ["run", "shift", "--", "--to", first, "--dry-run", "--config-dir", dir], root)), target);
  report("npx cdktf synth", repeat(RUNS, () => measure(npx, ["cdktf", "synth"], dir)), "the CLI's own start included");

  const missing = PLAN_RUNS < 1 ? "BENCH_PLAN_RUNS=0" : terraformMissing();
  if (missing) {
    console.log(`  offline plans skipped: ${missing}`);
    return;
  }
  const shift = () => measure(npm, ["run", "shift", "--", `${first}=0`, "--config-dir", dir], root);
  const restore = () => execFileSync("git", ["-C", dir, "checkout", "--", "clusters"], { stdio: "pipe" });
  shift();
  const plan = (extra: string[]) => {
    const m = measure(npm, ["run", "plan", "--", "--offline", "--config-dir", dir, ...extra], root);
    const planned = /(\d+ of \d+) stacks planned/.exec(m.stdout)?.[1] ?? "?";
    return { ...m, stdout: planned };
  };
  const full = repeat(PLAN_RUNS, () => plan([]));
  report(`offline plan of a weight shift (${first}=0)`, full, `${full.stdout} stacks planned (AWS-only offline)`);
  const changed = repeat(PLAN_RUNS, () => plan(["--changed-since", "HEAD"]));
  report("  the same with --changed-since HEAD", changed, `${changed.stdout} stacks planned`);
  restore();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Seconds between two runs of the failover function (its EventBridge schedule, rate(1 minute)). */
const FAILOVER_SCHEDULE_SECONDS = 60;

/**
 * How long traffic stays on a cluster whose targets all failed, with the
 * example's settings: the ALB's health checks take interval × unhealthy
 * threshold to mark the targets unhealthy, the function's next scheduled run
 * comes at most a minute later (an alarm may start it sooner), and the run
 * itself is measured: `npm run failover -- --once`, from a cold start, against
 * a stand-in whose blue targets are unhealthy, until its ModifyRule is answered.
 */
async function failoverBench(sources: ConfigSources): Promise<void> {
  const dir = benchProject(sources);
  const healthCheck = loadFleetConfig(dir).platform.services[0].healthCheck;
  const results: Measurement[] = [];
  for (let run = 0; run < RUNS; run++) results.push(await measureFailoverRun(dir));
  const runs = repeat(RUNS, () => results.shift()!);
  const detection = healthCheck.intervalSeconds * healthCheck.unhealthyThreshold;
  const worst = detection + FAILOVER_SCHEDULE_SECONDS + runs.seconds;
  console.log("\nautomatic failover, example settings".padEnd(49) + "     wall       cpu  memory");
  report("npm run failover -- --once (blue down)", runs, "against the stand-in, from a cold start");
  console.log(
    `  targets failed → ModifyRule, worst case: health checks ${healthCheck.intervalSeconds} s × ${healthCheck.unhealthyThreshold}` +
      ` + schedule ≤ ${FAILOVER_SCHEDULE_SECONDS} s + run ${runs.seconds.toFixed(2)} s = ${worst.toFixed(1)} s  target ≤ 90 s`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

/** One `npm run failover -- --once` against a fresh stand-in process whose blue targets are unhealthy. */
async function measureFailoverRun(dir: string): Promise<Measurement> {
  const standIn = spawn(process.execPath, [path.join(root, "bin", "run.js"), "scripts/stand-in.ts", "--scenario", "unhealthy", "--cluster", "blue", "--config-dir", dir], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const printed = await new Promise<string>((resolve, reject) => {
      let text = "";
      standIn.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=")) resolve(text);
      });
      standIn.on("exit", () => reject(new Error(`the stand-in stopped: ${text}`)));
    });
    const env = Object.fromEntries([...printed.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    const m = measure(npm, ["run", "failover", "--", "--once", "--config-dir", dir], root, env);
    if (!m.stdout.includes("web: moved")) throw new Error(`the failover did not move web:\n${m.stdout}`);
    return m;
  } finally {
    standIn.kill();
  }
}

runCommand(async () => {
  if (!parseCommandLine({ usage: USAGE, options: {} })) return;
  console.log(
    `benchmark: node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}; ` +
      `median of ${RUNS} runs, plans ${PLAN_RUNS}; cpu: the whole process tree; memory: peak RSS of the largest Node process`,
  );
  benchCase("example", readConfigSources(root));
  await failoverBench(readConfigSources(root));
  for (const count of CLUSTER_COUNTS) benchCase(`generated fleet`, generatedFleetSources(count));
  if (CLUSTER_COUNTS.length > 0) benchCase("generated fleet of 200 services across 6 ALBs", generatedMultiAlbFleetSources(MULTI_ALB_FLEET));
  console.log(`\nload average at the end ${os.loadavg()[0].toFixed(1)} (other work on the machine slows every figure)`);
});
