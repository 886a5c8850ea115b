import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { projectRoot } from "../modules/support/project-root";

const root = projectRoot();

/** A project folder with the launcher, the installed packages, and a script importing a module. */
function probeProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-launcher-"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.copyFileSync(path.join(root, "bin", "run.js"), path.join(dir, "bin", "run.js"));
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  fs.mkdirSync(path.join(dir, "scripts"));
  fs.mkdirSync(path.join(dir, "modules"));
  fs.writeFileSync(path.join(dir, "scripts", "probe.ts"), 'import { value } from "../modules/value";\nconsole.log([value, ...process.argv.slice(2)].join(" "));\n');
  fs.writeFileSync(path.join(dir, "modules", "value.ts"), 'export const value: string = "one";\n');
  return dir;
}

/** Runs the probe from another working directory, as a user or cdktf might. */
const probe = (dir: string) => spawnSync(process.execPath, [path.join(dir, "bin", "run.js"), "scripts/probe.ts", "--flag", "x"], { cwd: os.tmpdir(), encoding: "utf8" });

describe("bin/run.js", () => {
  it("runs a script from a fresh checkout, from any folder, with its own arguments", () => {
    const dir = probeProject();
    const result = probe(dir);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("one --flag x\n");
    expect(fs.existsSync(path.join(dir, "dist", "run", "modules", "value.js"))).toBe(true);
  });

  it("never runs stale output: an edit keeping size and modification time is seen", () => {
    const dir = probeProject();
    const source = path.join(dir, "modules", "value.ts");
    expect(probe(dir).stdout).toBe("one --flag x\n");
    const { mtime } = fs.statSync(source);
    fs.writeFileSync(source, 'export const value: string = "two";\n');
    fs.utimesSync(source, mtime, mtime);
    expect(probe(dir).stdout).toBe("two --flag x\n");
  });

  it("never runs the output of a deleted source", () => {
    const dir = probeProject();
    expect(probe(dir).status).toBe(0);
    fs.rmSync(path.join(dir, "modules", "value.ts"));
    const result = probe(dir);
    expect(fs.existsSync(path.join(dir, "dist", "run", "modules", "value.js"))).toBe(true);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("Cannot find module '../modules/value'");
  });

  it("refuses an entry that is not a TypeScript file of the project", () => {
    const result = spawnSync(process.execPath, [path.join(root, "bin", "run.js"), "scripts/no-such-command.ts"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("no scripts/no-such-command.ts in");
  });

  it("is how the tests run the commands: none runs a compiled build, which an edit leaves stale", () => {
    const tests = fs.readdirSync(path.join(root, "__tests__"), { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
    const compiled = tests.filter((file) => /"dist",\s*"(?:scripts|main)|dist\/(?:scripts|main)/.test(fs.readFileSync(path.join(root, "__tests__", file), "utf8")));
    expect(compiled).toEqual([]);
    const packageJson = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    expect(packageJson.scripts.test).toMatch(/^tsc -p \. --noEmit && jest/);
  });

  it("is how every npm command and cdktf's app run the project", () => {
    const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts;
    const launched = Object.values(scripts).filter((command) => command.startsWith("node bin/run.js "));
    expect(launched.length).toBeGreaterThan(8);
    for (const command of launched) expect(fs.existsSync(path.join(root, command.split(" ")[2]))).toBe(true);
    expect(Object.entries(scripts).filter(([, command]) => command.includes("dist/"))).toEqual([]);

    const app: string = JSON.parse(fs.readFileSync(path.join(root, "cdktf.json"), "utf8")).app;
    expect(app).toBe("node bin/run.js main.ts");
    const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-app-")), "cdktf.out");
    const synth = spawnSync(app, { shell: true, cwd: root, encoding: "utf8", env: { ...process.env, CDKTF_OUTDIR: outdir } });
    expect(synth.stderr).toBe("");
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(["cluster-blue", "cluster-blue-k8s", "cluster-green", "cluster-green-k8s", "edge", "network"]);
  });
});
