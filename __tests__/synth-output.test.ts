import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Lazy } from "cdktf";
import { parseFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { OUTPUT_MARKER, synthesizeFleet } from "../modules/synth/synth";
import { TOKEN_TRACES_VARIABLE, withoutTokenTraces } from "../modules/synth/token-traces";
import { UserError } from "../modules/support/user-error";
import { writeConfigProject } from "../scripts/lib/config-project";
import { exampleSources } from "./helpers/fleet";
import { STACK_TRACE } from "./helpers/stack-trace";
import { folderFiles } from "./helpers/folder-files";
import { entryPoint } from "./helpers/entry-point";

const root = projectRoot();
const mainTs = entryPoint("main.ts");

/** `npm run synth` of a project folder, with CDKTF_OUTDIR as the cdktf CLI sets it. */
function synth(dir: string, outdir?: string) {
  const env = { ...process.env };
  delete env.CDKTF_OUTDIR;
  if (outdir) env.CDKTF_OUTDIR = outdir;
  return spawnSync(process.execPath, [...mainTs, dir], { encoding: "utf8", env, cwd: dir });
}

describe("the output folder", () => {
  it("is refused when it holds files synth did not write, and left as it was", () => {
    const dir = writeConfigProject(exampleSources());
    fs.mkdirSync(path.join(dir, "docs"));
    fs.writeFileSync(path.join(dir, "docs", "notes.md"), "mine\n");
    const result = synth(dir, "docs");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`cannot write the output to ${path.join(dir, "docs")}: it holds files synth did not write (it has no ${OUTPUT_MARKER} file)`);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(folderFiles(path.join(dir, "docs"))).toEqual({ "notes.md": "mine\n" });
    expect(fs.readdirSync(dir).sort()).toEqual(["clusters", "docs", "platform.yaml"]);
  });

  it("never is the local state folder", () => {
    const dir = writeConfigProject(exampleSources());
    fs.mkdirSync(path.join(dir, "state"));
    fs.writeFileSync(path.join(dir, "state", "edge.tfstate"), '{"version": 4, "resources": []}\n');
    const result = synth(dir, "state");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`it would overlap the Terraform state folder ${path.join(dir, "state")} (stateBackend.directory)`);
    expect(folderFiles(path.join(dir, "state"))).toEqual({ "edge.tfstate": '{"version": 4, "resources": []}\n' });
    fs.rmSync(path.join(dir, "state"), { recursive: true });
    expect(synth(dir, "state").status).toBe(1);
    expect(fs.existsSync(path.join(dir, "state"))).toBe(false);
  });

  it("is replaced when synth made it (marker), or when it is a cdktf output from before the marker, leaving no temporary folder", () => {
    const dir = writeConfigProject(exampleSources());
    expect(synth(dir).status).toBe(0);
    const out = path.join(dir, "cdktf.out");
    expect(fs.existsSync(path.join(out, OUTPUT_MARKER))).toBe(true);
    fs.writeFileSync(path.join(out, "stacks", "edge", "stale.txt"), "");
    expect(synth(dir).status).toBe(0);
    expect(fs.existsSync(path.join(out, "stacks", "edge", "stale.txt"))).toBe(false);

    fs.rmSync(path.join(out, OUTPUT_MARKER));
    fs.mkdirSync(path.join(out, "plans"));
    expect(synth(dir).status).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(["cdktf.out", "clusters", "platform.yaml"]);
  });

  it("is not created when the parent cannot take it, and no temporary folder is left (in process)", () => {
    const dir = writeConfigProject(exampleSources());
    fs.writeFileSync(path.join(dir, "file"), "");
    const fleet = parseFleetConfig(exampleSources());
    expect(() => synthesizeFleet(fleet, path.join(dir, "file"))).toThrow("it exists and is not a folder");
    expect(() => synthesizeFleet(fleet, path.join(dir, "file", "out"))).toThrow(
      new UserError(`cannot write the output to ${path.join(dir, "file", "out")}: a part of its path is not a folder`),
    );
    expect(fs.readdirSync(dir).sort()).toEqual(["clusters", "file", "platform.yaml"]);
  });
});

describe("cdktf synth --output", () => {
  it("refuses a folder of other files through the real cdktf CLI", () => {
    const dir = writeConfigProject(exampleSources());
    fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ language: "typescript", app: `"${process.execPath}" ${mainTs.map((arg) => `"${arg}"`).join(" ")} .`, output: "cdktf.out", sendCrashReports: "false" }));
    fs.mkdirSync(path.join(dir, "other"));
    fs.writeFileSync(path.join(dir, "other", "file.txt"), "keep\n");
    const cli = path.join(root, "node_modules", ".bin", "cdktf");
    const result = spawnSync(cli, ["synth", "--output", "other"], { cwd: dir, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: "" } });
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain("it holds files synth did not write");
    expect(folderFiles(path.join(dir, "other"))).toEqual({ "file.txt": "keep\n" });
  });
});

describe("token creation traces", () => {
  function synthesizedExample(): Record<string, string> {
    const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-traces-")), "cdktf.out");
    synthesizeFleet(parseFleetConfig(exampleSources()), outdir);
    return folderFiles(outdir);
  }

  it("are left empty while synthesizing, which changes nothing in the output", () => {
    const without = synthesizedExample();
    process.env[TOKEN_TRACES_VARIABLE] = "1";
    try {
      expect(synthesizedExample()).toEqual(without);
    } finally {
      delete process.env[TOKEN_TRACES_VARIABLE];
    }
    const lazyToken = () => Lazy.anyValue({ produce: () => 1 });
    expect(withoutTokenTraces(lazyToken).creationStack).toEqual([]);
    expect(lazyToken().creationStack.length).toBeGreaterThan(0);
  });

  it("leave an error thrown while synthesizing its full trace, and the trace hooks as they were", () => {
    const hook = Error.prepareStackTrace;
    const capture = Error.captureStackTrace;
    let thrown: Error | undefined;
    try {
      withoutTokenTraces(function buildingTheFleet() {
        throw new Error("a bug");
      });
    } catch (error) {
      thrown = error as Error;
    }
    expect(Error.prepareStackTrace).toBe(hook);
    expect(Error.captureStackTrace).toBe(capture);
    expect(thrown?.stack).toMatch(/a bug\n\s+at buildingTheFleet /);
  });
});
