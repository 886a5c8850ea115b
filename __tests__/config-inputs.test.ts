import * as fs from "fs";
import * as path from "path";
import { ConfigError, ConfigSources, loadFleetConfig, parseFleetConfig } from "../modules/config/load";
import { writeConfigProject } from "../scripts/lib/config-project";
import { exampleSources, synthFleet, withClusterFile } from "./helpers/fleet";

const example = exampleSources();
const blue = example.clusters.find((c) => c.file === "clusters/blue.yaml")!.text;
const withBlue = (text: string) => withClusterFile(example, "clusters/blue.yaml", text);
const withPlatform = (text: string): ConfigSources => ({ ...example, platform: { ...example.platform, text } });

/** The `file: field: message` lines of the error the configuration raises. */
function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.file}${p.field ? `: ${p.field}` : ""}: ${p.message}`);
  }
  throw new Error("the configuration was accepted");
}

describe("CIDR fields accept only canonical IPv4 CIDRs", () => {
  it.each([
    ["0.0.0.0/00", "0.0.0.0/00 is not in canonical form: write 0.0.0.0/0"],
    ["000.0.0.0/0", "000.0.0.0/0 is not in canonical form: write 0.0.0.0/0"],
    ["1.2.3.4/0", "1.2.3.4/0 has host bits set: the block it means is 0.0.0.0/0; write that"],
    ["203.0.113.7/24", "203.0.113.7/24 has host bits set: the block it means is 203.0.113.0/24; write that"],
    ["203.0.113.0/33", "must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)"],
  ])("publicAccessCidrs %s", (cidr, message) => {
    expect(problemsOf(() => parseFleetConfig(withBlue(blue.replace("[203.0.113.0/24]", `["${cidr}"]`))))).toEqual([
      `clusters/blue.yaml: endpoint.publicAccessCidrs[0]: ${message}`,
    ]);
  });

  it.each(["0.0.0.0/00", "000.0.0.0/0", "1.2.3.4/0"])("alb.ingressCidrs %s", (cidr) => {
    const text = example.platform.text.replace("alb:\n", `alb:\n  ingressCidrs: ["${cidr}"]\n`);
    expect(problemsOf(() => parseFleetConfig(withPlatform(text)))).toEqual([expect.stringMatching(/^platform\.yaml: alb\.ingressCidrs\[0\]: /)]);
  });

  it("reports host bits in vpc.cidr once", () => {
    const text = example.platform.text.replace("cidr: 10.40.0.0/16", "cidr: 10.40.0.1/16");
    expect(problemsOf(() => parseFleetConfig(withPlatform(text)))).toEqual([
      "platform.yaml: vpc.cidr: 10.40.0.1/16 has host bits set: the block it means is 10.40.0.0/16; write that",
    ]);
  });

  it("refuses the same CIDR twice in a list", () => {
    expect(problemsOf(() => parseFleetConfig(withBlue(blue.replace("[203.0.113.0/24]", "[203.0.113.0/24, 198.51.100.0/24, 203.0.113.0/24]"))))).toEqual([
      'clusters/blue.yaml: endpoint.publicAccessCidrs[2]: "203.0.113.0/24" is listed twice (also entry 0)',
    ]);
  });
});

describe("alb.sslPolicy takes TLS 1.3 policies with nothing below TLS 1.2", () => {
  it.each(["ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04"])("accepts %s", (policy) => {
    const fleet = parseFleetConfig(withPlatform(example.platform.text.replace("alb:\n", `alb:\n  sslPolicy: ${policy}\n`)));
    expect(fleet.platform.alb.sslPolicy).toBe(policy);
  });

  it.each(["ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06", "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13"])("refuses %s, naming file and field", (policy) => {
    const text = example.platform.text.replace("alb:\n", `alb:\n  sslPolicy: ${policy}\n`);
    expect(problemsOf(() => parseFleetConfig(withPlatform(text)))).toEqual([
      "platform.yaml: alb.sslPolicy: must be a TLS 1.3 policy with nothing below TLS 1.2 (ELBSecurityPolicy-TLS13-1-2-… or ELBSecurityPolicy-TLS13-1-3-…)",
    ]);
  });
});

describe("the clusters folder holds only cluster files", () => {
  const project = () => writeConfigProject(example);

  it.each([
    ["blue.json", "is not a cluster file (clusters/ holds only <name>.yaml files): rename it to <name>.yaml or move it out of clusters/"],
    ["purple.YAML", "is not read: cluster files end in lowercase .yaml or .yml; rename it to purple.yaml"],
    [".purple.yaml", "is hidden, so it would be left out of the fleet: remove the leading dot or move it out of clusters/"],
  ])("refuses %s", (name, message) => {
    const dir = project();
    fs.writeFileSync(path.join(dir, "clusters", name), blue.replace("name: blue", "name: purple"));
    expect(problemsOf(() => loadFleetConfig(dir))).toEqual([`clusters/${name}: ${message}`]);
  });

  it("refuses a folder and a dangling link named like a cluster file, and ignores hidden non-YAML files", () => {
    const dir = project();
    fs.mkdirSync(path.join(dir, "clusters", "purple.yaml"));
    fs.symlinkSync(path.join(dir, "missing.yaml"), path.join(dir, "clusters", "red.yaml"));
    fs.writeFileSync(path.join(dir, "clusters", ".gitkeep"), "");
    expect(problemsOf(() => loadFleetConfig(dir))).toEqual([
      "clusters/purple.yaml: cannot be read: is a folder, not a file",
      "clusters/red.yaml: is a link to a file that does not exist",
    ]);
  });

  it("names a file it cannot read (a loop of links)", () => {
    const dir = project();
    fs.symlinkSync("loop-b.yaml", path.join(dir, "clusters", "loop-a.yaml"));
    fs.symlinkSync("loop-a.yaml", path.join(dir, "clusters", "loop-b.yaml"));
    expect(problemsOf(() => loadFleetConfig(dir))).toEqual([
      "clusters/loop-a.yaml: cannot be read: is a loop of symbolic links",
      "clusters/loop-b.yaml: cannot be read: is a loop of symbolic links",
    ]);
  });

  it("refuses a platform.yaml that is a folder", () => {
    const dir = project();
    fs.rmSync(path.join(dir, "platform.yaml"));
    fs.mkdirSync(path.join(dir, "platform.yaml"));
    expect(problemsOf(() => loadFleetConfig(dir))).toEqual(["platform.yaml: cannot be read: is a folder, not a file"]);
  });
});

describe("YAML features", () => {
  it("refuses an alias bomb with a problem, not a crash", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]", "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]", "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]", ""].join("\n");
    expect(problemsOf(() => parseFleetConfig(withBlue(`${blue}${bomb}`)))).toEqual([
      expect.stringMatching(/^clusters\/blue\.yaml: invalid YAML: .*alias.*; write the values out instead of using anchors \(&\) and aliases \(\*\)$/),
    ]);
  });
});

describe("names that are JavaScript built-ins", () => {
  const platformWith = (service: string) =>
    `${example.platform.text}  - name: ${service}\n    servicePort: 80\n    containerPort: 8081\n    paths: ["/${service}/*"]\n    priority: 90\n`;

  it("routes a service named constructor only to the clusters that give it a weight", () => {
    const sources = withBlue(blue.replace("  web: 50\n", "  web: 50\n  constructor: 10\n"));
    const fleet = synthFleet({ ...sources, platform: { ...sources.platform, text: platformWith("constructor") } });
    // Target group names end in a hash of the attributes that force a new group (`-` and six hex digits).
    const groups = Object.values(fleet.stack("edge").resource!.aws_lb_target_group).map((g) => (g.name as string).slice(0, -7));
    expect(groups.sort()).toEqual(["demo-blue-constructor", "demo-blue-web", "demo-green-web"]);
  });

  it("keeps tag keys named constructor and toString", () => {
    const sources = withPlatform(`${example.platform.text}tags:\n  constructor: a\n  toString: b\n`);
    const tags = parseFleetConfig(sources).platform.tags;
    expect({ ...tags }).toEqual({ constructor: "a", toString: "b" });
    const provider = synthFleet(sources).stack("network").provider!.aws[0] as { default_tags: { tags: Record<string, string> }[] };
    expect(provider.default_tags[0].tags).toMatchObject({ constructor: "a", toString: "b" });
  });

  it.each([
    ["weights.toString", blue.replace("weights:\n", "weights:\n  toString: 5\n"), 'clusters/blue.yaml: weights.toString: unknown service "toString"'],
    ["weights.__proto__", blue.replace("weights:\n", "weights:\n  __proto__: 5\n"), 'clusters/blue.yaml: weights.__proto__: "__proto__" cannot be used as a key'],
    ["tags.__proto__", `${blue}tags:\n  __proto__: x\n`, 'clusters/blue.yaml: tags.__proto__: "__proto__" cannot be used as a key'],
  ])("reports the key %s", (_key, text, message) => {
    expect(problemsOf(() => parseFleetConfig(withBlue(text)))).toEqual([expect.stringContaining(message)]);
  });
});

describe("wording", () => {
  it("counts in words: 1 entry", () => {
    const text = example.platform.text.replace("  natGateways: perAz\n", "  natGateways: perAz\n  privateSubnetCidrs: [10.40.0.0/19]\n");
    expect(problemsOf(() => parseFleetConfig(withPlatform(text)))).toEqual([
      "platform.yaml: vpc.privateSubnetCidrs: has 1 entry; give one per availability zone (3)",
    ]);
    const two = example.platform.text.replace("  natGateways: perAz\n", "  natGateways: perAz\n  privateSubnetCidrs: [10.40.0.0/19, 10.40.32.0/19]\n");
    expect(problemsOf(() => parseFleetConfig(withPlatform(two)))).toEqual(["platform.yaml: vpc.privateSubnetCidrs: has 2 entries; give one per availability zone (3)"]);
  });
});

describe("one message per problem", () => {
  it("reports a misspelled weight once, not also as a service routed nowhere", () => {
    const sources = { ...example, clusters: example.clusters.map((c) => ({ ...c, text: c.text.replace("  web: 50", "  wbe: 50") })) };
    expect(problemsOf(() => parseFleetConfig(sources))).toEqual([
      'clusters/blue.yaml: weights.wbe: unknown service "wbe" (did you mean "web"?); services in platform.yaml: web',
      'clusters/green.yaml: weights.wbe: unknown service "wbe" (did you mean "web"?); services in platform.yaml: web',
    ]);
  });

  it("reports an unknown service's weight on a standby cluster once", () => {
    const text = blue.replace("name: blue\n", "name: blue\nstate: standby\n").replace("  web: 50", "  web: 0\n  nope: 5");
    expect(problemsOf(() => parseFleetConfig(withBlue(text)))).toEqual([
      'clusters/blue.yaml: weights.nope: unknown service "nope"; services in platform.yaml: web',
    ]);
  });
});
