import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { integerFlag, parseCommandLine, UsageError } from "../modules/cli/args";
import { AsyncRun, runScriptAsync } from "./helpers/run-async";
import { STACK_TRACE } from "./helpers/stack-trace";
import { projectRoot } from "../modules/support/project-root";
import { entryPoint } from "./helpers/entry-point";

const USAGE = "usage: test [--step N] [--now] [file]";
const spec = { usage: USAGE, options: { step: { type: "string" as const }, now: { type: "boolean" as const } }, positionals: { max: 1 } };

describe("parseCommandLine", () => {
  it("returns flags and positionals", () => {
    expect(parseCommandLine(spec, ["--step", "5", "a", "--now"])).toEqual({ values: { step: "5", now: true }, positionals: ["a"] });
  });

  it.each([
    [["--bogus"], "unknown option --bogus"],
    [["-x"], "unknown option -x"],
    [["--step"], "--step needs a value"],
    [["--now=yes"], "--now takes no value"],
    [["--step", "-5"], '--step needs a value; write --step=<value> for one starting with "-"'],
    [["a", "b"], 'unexpected argument "b"'],
    [["a", "b", "c"], 'unexpected arguments "b" "c"'],
  ])("refuses %j with the problem and the usage", (args, problem) => {
    expect(() => parseCommandLine(spec, args)).toThrow(new UsageError(problem, USAGE));
  });

  it("prints the usage for --help and -h and returns nothing", () => {
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    expect(parseCommandLine(spec, ["--help"])).toBeUndefined();
    expect(parseCommandLine(spec, ["-h"])).toBeUndefined();
    expect(log.mock.calls).toEqual([[USAGE], [USAGE]]);
    log.mockRestore();
  });
});

describe("integerFlag", () => {
  it.each(["0.5", "abc", "", "1e2", "0x10", "101", "0", " ", "9007199254740993"])("refuses --step %j", (value) => {
    expect(() => integerFlag(value, "--step", { min: 1, max: 100 }, USAGE)).toThrow(`--step ${JSON.stringify(value)} must be a whole number from 1 to 100`);
  });

  it("accepts whole numbers in bounds, and an absent flag", () => {
    expect(integerFlag("25", "--step", { min: 1, max: 100 }, USAGE)).toBe(25);
    expect(integerFlag(undefined, "--step", { min: 1, max: 100 }, USAGE)).toBeUndefined();
    expect(() => integerFlag("0", "--concurrency", { min: 1 }, USAGE)).toThrow('--concurrency "0" must be a whole number 1 or more');
  });
});

/** Every command of package.json, by the entry point its npm script runs. */
const COMMANDS: Record<string, string> = {
  synth: "main.ts",
  shift: "scripts/shift.ts",
  retire: "scripts/retire.ts",
  failover: "scripts/failover.ts",
  plan: "scripts/plan.ts",
  "plan-summary": "scripts/plan-summary.ts",
  policy: "scripts/policy.ts",
  "ci-settings": "scripts/ci-settings.ts",
  schema: "scripts/write-json-schema.ts",
  deploy: "scripts/deploy.ts",
  preflight: "scripts/preflight.ts",
  status: "scripts/status.ts",
  bench: "scripts/benchmark.ts",
  "stand-in": "scripts/stand-in.ts",
  lock: "scripts/lock.ts",
};

function run(command: string, args: string[]) {
  return spawnSync(process.execPath, [...entryPoint(COMMANDS[command]), ...args], { encoding: "utf8" });
}

/** Runs every command with the same arguments, a few at a time: node's start-up dominates. */
async function runEach(args: string[]): Promise<Record<string, AsyncRun>> {
  const results: Record<string, AsyncRun> = {};
  const queue = Object.keys(COMMANDS);
  const worker = async () => {
    for (let command = queue.shift(); command; command = queue.shift()) {
      results[command] = await runScriptAsync(COMMANDS[command], args);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return results;
}


describe("every command", () => {
  it("is in this list: every npm script that runs one of the project's entry points", () => {
    const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(projectRoot(), "package.json"), "utf8")).scripts;
    const launched = Object.entries(scripts).filter(([, command]) => command.startsWith("node bin/run.js "));
    expect(Object.fromEntries(launched.map(([name, command]) => [name, command.split(" ")[2]]))).toEqual(COMMANDS);
  });

  it("answers --help with its usage and exit 0", async () => {
    const results = await runEach(["--help"]);
    for (const [command, result] of Object.entries(results)) {
      expect([command, result.stderr, result.status]).toEqual([command, "", 0]);
      expect([command, result.stdout]).toEqual([command, expect.stringMatching(new RegExp(`^usage: npm run ${command}\\b`))]);
    }
  });

  it("refuses an unknown flag with its usage, exit 1, no stack trace", async () => {
    const results = await runEach(["--bogus"]);
    for (const [command, result] of Object.entries(results)) {
      expect([command, result.status]).toEqual([command, 1]);
      expect([command, result.stderr]).toEqual([command, expect.stringMatching(new RegExp(`^unknown option --bogus\nusage: npm run ${command}\\b`))]);
      expect(result.stderr).not.toMatch(STACK_TRACE);
    }
  });
});

describe("number and argument checks come before any file is read", () => {
  const missing = path.join(os.tmpdir(), "no-such-fleet-folder");
  it.each<[string, string[], string]>([
    ["shift", ["--to", "green", "--step", "0.5"], '--step "0.5" must be a whole number from 1 to 100'],
    ["shift", ["--to", "green", "--step", "abc"], '--step "abc" must be a whole number from 1 to 100'],
    ["shift", ["blue=10", "--step", "10"], "--step needs --to <cluster>"],
    ["shift", ["blue=1.5"], "weight blue=1.5: must be a whole number from 0 to 999"],
    ["shift", ["blue=1", "blue=2"], "blue is given a weight twice (blue=1 and blue=2)"],
    ["shift", ["blue=1", "--service", "web", "--service", "web"], "--service web is given twice"],
    ["plan", ["--concurrency", "0"], '--concurrency "0" must be a whole number 1 or more'],
    ["retire", [], "missing argument"],
    ["retire", ["green", "--idle-minutes", "1441"], '--idle-minutes "1441" must be a whole number from 1 to 1440'],
    ["preflight", ["edge", "--idle-minutes", "0"], '--idle-minutes "0" must be a whole number from 1 to 1440'],
    ["status", ["--minutes", ""], '--minutes "" must be a whole number from 0 to 1440'],
    ["deploy", ["--only"], "--only needs the stacks to deploy"],
    ["policy", ["a", "b"], 'unexpected argument "b"'],
  ])("%s %j", (command, args, message) => {
    const result = run(command, [...args, ...(command === "policy" ? [] : ["--config-dir", missing])]);
    expect(result.status).toBe(1);
    expect(result.stderr.split("\n")[0]).toBe(message);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(fs.existsSync(missing)).toBe(false);
  });
});
