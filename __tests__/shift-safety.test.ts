import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { applyShiftToSources, clustersLeftOut, planShift, ServiceShift, ShiftRequest } from "../modules/traffic/shift";
import { verifyShiftedSources, writeShiftedSources } from "../modules/traffic/shift-files";
import { writeConfigProject } from "../scripts/lib/config-project";
import { exampleSources, withClusterFile } from "./helpers/fleet";
import { STACK_TRACE } from "./helpers/stack-trace";
import { entryPoint } from "./helpers/entry-point";

const example = exampleSources();
const blue100 = example.clusters[0].text.replace("web: 50", "web: 100");

/** The example fleet with a second service, api, routed to blue and green. */
function withApi(blueWeights = "  web: 50\n  api: 50\n"): ConfigSources {
  const platform = {
    ...example.platform,
    text: `${example.platform.text}  - name: api\n    servicePort: 80\n    containerPort: 8081\n    paths: ["/api/*"]\n    priority: 90\n`,
  };
  const text = (file: string) => example.clusters.find((c) => c.file === file)!.text;
  let sources: ConfigSources = { ...example, platform };
  sources = withClusterFile(sources, "clusters/blue.yaml", text("clusters/blue.yaml").replace("  web: 50\n", blueWeights));
  sources = withClusterFile(sources, "clusters/green.yaml", text("clusters/green.yaml").replace("  web: 50\n", "  web: 50\n  api: 50\n"));
  return sources;
}

const shiftScript = entryPoint("scripts/shift.ts");
function shift(dir: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [...shiftScript, "--config-dir", dir, ...args], { encoding: "utf8", env });
}
function filesOf(dir: string, sources: ConfigSources): string[] {
  return sources.clusters.map((c) => fs.readFileSync(path.join(dir, c.file), "utf8"));
}

describe("a shift writes exactly the planned weights, or nothing", () => {
  it("shifts a service named twice once", () => {
    const fleet = parseFleetConfig(example);
    const shifts = planShift(fleet, { weights: { blue: 10 }, services: ["web", "web"] });
    expect(shifts).toEqual([{ service: "web", before: { blue: 50, green: 50 }, after: { blue: 10, green: 50 } }]);
    const shifted = applyShiftToSources(example, fleet, shifts);
    expect(parseFleetConfig(shifted).clusters.map((c) => c.config.weights.web)).toEqual([10, 50]);
  });

  it("refuses a weight shared with another through a YAML anchor, leaving the files untouched", () => {
    const sources = withApi("  web: &w 50\n  api: *w\n");
    const fleet = parseFleetConfig(sources);
    const request: ShiftRequest = { weights: { blue: 10 }, services: ["web"] };
    const shifts = planShift(fleet, request);
    expect(() => verifyShiftedSources(sources, applyShiftToSources(sources, fleet, shifts), fleet, shifts)).toThrow(
      "clusters/blue.yaml: weights.api: would change too: it shares its value with a shifted weight through a YAML anchor (&) and alias (*)",
    );

    const dir = writeConfigProject(sources);
    const result = shift(dir, ["blue=10", "--service", "web"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("refusing to shift; no file was changed");
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(filesOf(dir, sources)).toEqual(sources.clusters.map((c) => c.text));
  });

  it("accepts what it verified: the files hold exactly the printed weights", () => {
    const sources = withApi();
    const dir = writeConfigProject(sources);
    const result = shift(dir, ["--to", "green", "--step", "30"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("web: blue 50 → 20 (50% → 20%) *, green 50 → 80 (50% → 80%) *");
    expect(result.stdout).toContain("api: blue 50 → 20 (50% → 20%) *, green 50 → 80 (50% → 80%) *");
    const written = parseFleetConfig({ ...sources, clusters: sources.clusters.map((c) => ({ ...c, text: fs.readFileSync(path.join(dir, c.file), "utf8") })) });
    expect(written.clusters.map((c) => ({ ...c.config.weights }))).toEqual([{ web: 20, api: 20 }, { web: 80, api: 80 }]);
    expect(fs.readdirSync(path.join(dir, "clusters")).sort()).toEqual(["blue.yaml", "green.yaml"]);
  });
});

describe("a cluster named constructor", () => {
  it("is shifted like any other, and never counted as serving what it does not", () => {
    const renamed = { ...example, clusters: example.clusters.map((c) => (c.file === "clusters/green.yaml" ? { file: "clusters/constructor.yaml", text: c.text.replace("name: green", "name: constructor") } : c)) };
    const fleet = parseFleetConfig(renamed);
    expect(planShift(fleet, { to: "constructor" })).toEqual([{ service: "web", before: { blue: 50, constructor: 50 }, after: { blue: 0, constructor: 100 } }]);
    const lonely = withClusterFile(renamed, "clusters/constructor.yaml", renamed.clusters[1].text.replace("weights:\n  web: 50\n", ""));
    expect(() => planShift(parseFleetConfig(withClusterFile(lonely, "clusters/blue.yaml", blue100)), { weights: { blue: 10, constructor: 90 } })).toThrow(
      "constructor serves none of web, so its weight cannot be set",
    );
  });
});

describe("clusters left out of a shift", () => {
  const purple = withClusterFile(example, "clusters/purple.yaml", example.clusters[0].text.replace("name: blue", "name: purple").replace("weights:\n  web: 50\n", ""));

  it("refuses to set the weight of a cluster that serves none of the services, saying how to route one to it", () => {
    expect(() => planShift(parseFleetConfig(purple), { weights: { blue: 0, purple: 100 } })).toThrow(
      'purple serves none of web, so its weight cannot be set: to route web to purple, add "web: 0" under weights: in clusters/purple.yaml and deploy that first, then shift',
    );
  });

  it("names a cluster skipped for one service of several", () => {
    const sources = withClusterFile(withApi(), "clusters/green.yaml", withApi().clusters[1].text.replace("  api: 50\n", ""));
    const fleet = parseFleetConfig(withClusterFile(sources, "clusters/blue.yaml", sources.clusters[0].text.replace("api: 50", "api: 100")));
    const request: ShiftRequest = { weights: { blue: 40, green: 60 } };
    expect(clustersLeftOut(fleet, request, planShift(fleet, request))).toEqual([
      'green does not serve api, so its api traffic is unchanged; to route api to it, add "api: 0" under weights: in clusters/green.yaml and deploy that first',
    ]);
  });
});

describe("writing the shifted files", () => {
  let shifts: ServiceShift[];
  let shifted: ConfigSources;
  beforeEach(() => {
    const fleet = parseFleetConfig(example);
    shifts = planShift(fleet, { weights: { blue: 0, green: 100 } });
    shifted = applyShiftToSources(example, fleet, shifts);
  });

  it("writes all files or none, leaving no temporary file, and after a live change says what is live and what the files hold", () => {
    const dir = writeConfigProject(example);
    // Something where the second file's temporary copy would go makes its write fail.
    fs.mkdirSync(path.join(dir, "clusters", `.green.yaml.shift-${process.pid}`));
    expect(() => writeShiftedSources(dir, example, shifted, shifts)).toThrow(
      `cannot write clusters/.green.yaml.shift-${process.pid}: already exists; no file was changed\n` +
        "The live listener rules DO have the new weights (web blue=0 green=100), but the files hold web blue=50 green=50",
    );
    expect(filesOf(dir, example)).toEqual(example.clusters.map((c) => c.text));
    expect(fs.readdirSync(path.join(dir, "clusters")).sort()).toEqual([`.green.yaml.shift-${process.pid}`, "blue.yaml", "green.yaml"]);
  });

  it("refuses when a file changed on disk since it was read", () => {
    const dir = writeConfigProject(example);
    fs.appendFileSync(path.join(dir, "clusters", "blue.yaml"), "# edited meanwhile\n");
    expect(() => writeShiftedSources(dir, example, shifted)).toThrow("clusters/blue.yaml changed on disk while shifting; no file was changed");
    expect(filesOf(dir, example)).toEqual([`${example.clusters[0].text}# edited meanwhile\n`, example.clusters[1].text]);
    expect(fs.readdirSync(path.join(dir, "clusters")).sort()).toEqual(["blue.yaml", "green.yaml"]);
  });
});

describe("shift --now without AWS credentials", () => {
  it("says what is missing, changes nothing, shows no stack trace", () => {
    const dir = writeConfigProject(example);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: path.join(dir, "none"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "none"),
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const result = shift(dir, ["--to", "green", "--now"], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("AWS call failed: CredentialsProviderError");
    expect(result.stderr).toContain("set AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an SSO login)");
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(filesOf(dir, example)).toEqual(example.clusters.map((c) => c.text));
  });
});

describe("cluster files as people keep them", () => {
  it("writes through a symbolic link to its file, keeping the link", () => {
    const dir = writeConfigProject(example);
    const shared = fs.mkdtempSync(path.join(dir, "..", "shared-clusters-"));
    fs.renameSync(path.join(dir, "clusters/blue.yaml"), path.join(shared, "blue.yaml"));
    fs.symlinkSync(path.join(shared, "blue.yaml"), path.join(dir, "clusters/blue.yaml"));
    const result = shift(dir, ["blue=0", "green=100"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(fs.lstatSync(path.join(dir, "clusters/blue.yaml")).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(shared, "blue.yaml"), "utf8")).toContain("web: 0");
    expect(fs.readdirSync(shared)).toEqual(["blue.yaml"]);
  });

  it("names the YAML tag that made a weight text", () => {
    const tagged = withClusterFile(example, "clusters/blue.yaml", example.clusters[0].text.replace("web: 50", "web: !!float 50"));
    expect(() => parseFleetConfig(tagged)).toThrow('clusters/blue.yaml: weights.web: expected number, got "50"; the YAML tag !!float made it text: write the value plain, without a tag (50)');
  });

  it("says a file has CR-only line breaks rather than reporting its fields missing", () => {
    const classicMac = withClusterFile(example, "clusters/blue.yaml", example.clusters[0].text.replace(/\n/g, "\r"));
    expect(() => parseFleetConfig(classicMac)).toThrow("clusters/blue.yaml: has CR-only line breaks (classic Mac OS): YAML reads them as one line; save the file with LF (or CRLF) line endings");
    const windows = withClusterFile(example, "clusters/blue.yaml", example.clusters[0].text.replace(/\n/g, "\r\n"));
    expect(() => parseFleetConfig(windows)).not.toThrow();
  });
});
