import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { writeConfigProject } from "../scripts/lib/config-project";
import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { folderFiles } from "./helpers/folder-files";
import { entryPoint } from "./helpers/entry-point";

/** The app, as `npm run synth` runs it. */
const mainTs = entryPoint("main.ts");

function synth(dir: string) {
  const env = { ...process.env };
  delete env.CDKTF_OUTDIR;
  return spawnSync(process.execPath, [...mainTs, dir], { encoding: "utf8", env });
}

describe("npm run synth", () => {
  it("writes cdktf.out beside the configuration", () => {
    const dir = writeConfigProject(generatedFleetSources(2));
    const result = synth(dir);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("synthesized 6 stacks (2 clusters) into cdktf.out");
    expect(fs.existsSync(path.join(dir, "cdktf.out", "stacks", "cluster-c01-k8s", "cdk.tf.json"))).toBe(true);
  });

  it("counts in words: 1 cluster, 4 stacks", () => {
    const result = synth(writeConfigProject(generatedFleetSources(1)));
    expect(result.stdout).toContain("synthesized 4 stacks (1 cluster) into cdktf.out");
  });

  it("rejects a bad file naming file and field, exits non-zero and leaves the previous output untouched", () => {
    const dir = writeConfigProject(generatedFleetSources(2));
    expect(synth(dir).status).toBe(0);
    const before = folderFiles(path.join(dir, "cdktf.out"));
    fs.writeFileSync(path.join(dir, "clusters", "c00.yaml"), fs.readFileSync(path.join(dir, "clusters", "c00.yaml"), "utf8").replace("maxSize: 3", "maxSize: 1"));
    fs.writeFileSync(path.join(dir, "clusters", "c02.yaml"), "name: c02\n");
    const result = synth(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("clusters/c00.yaml: nodeGroups[0].desiredSize: desiredSize (2) is above maxSize (1)");
    expect(result.stderr).toContain("clusters/c02.yaml: kubernetesVersion: is required");
    expect(result.stderr).toContain("the previous output is unchanged");
    expect(folderFiles(path.join(dir, "cdktf.out"))).toEqual(before);
  });

  it("drops the stacks of a removed cluster file from the output", () => {
    const dir = writeConfigProject(generatedFleetSources(3));
    expect(synth(dir).status).toBe(0);
    fs.rmSync(path.join(dir, "clusters", "c02.yaml"));
    expect(synth(dir).status).toBe(0);
    expect(fs.readdirSync(path.join(dir, "cdktf.out", "stacks")).sort()).toEqual([
      "cluster-c00",
      "cluster-c00-k8s",
      "cluster-c01",
      "cluster-c01-k8s",
      "edge",
      "network",
    ]);
  });
});
