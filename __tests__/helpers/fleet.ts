import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigSources, parseFleetConfig, readConfigSources } from "../../modules/config/load";
import { projectRoot } from "../../modules/support/project-root";
import { applyShiftToSources, planShift } from "../../modules/traffic/shift";
import { synthesizeFleet } from "../../modules/synth/synth";

/** The example configuration shipped in the repository. */
export function exampleSources(): ConfigSources {
  return readConfigSources(projectRoot());
}

export interface SynthesizedFleet {
  readonly outdir: string;
  /** Raw cdk.tf.json text per stack name. */
  readonly stackTexts: Record<string, string>;
  readonly manifest: { stacks: Record<string, { dependencies: string[] }> };
  stack(name: string): StackJson;
}

export interface StackJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown }>;
  readonly provider?: Record<string, Record<string, unknown>[]>;
  readonly terraform?: Record<string, unknown>;
}

/** Validates and synthesizes configuration text into a fresh temporary folder. */
export function synthFleet(sources: ConfigSources): SynthesizedFleet {
  const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-synth-")), "cdktf.out");
  synthesizeFleet(parseFleetConfig(sources), outdir);
  const stacksDir = path.join(outdir, "stacks");
  const stackTexts = Object.fromEntries(
    fs
      .readdirSync(stacksDir)
      .sort()
      .map((name) => [name, fs.readFileSync(path.join(stacksDir, name, "cdk.tf.json"), "utf8")]),
  );
  return {
    outdir,
    stackTexts,
    manifest: JSON.parse(fs.readFileSync(path.join(outdir, "manifest.json"), "utf8")),
    stack: (name: string) => {
      if (!(name in stackTexts)) throw new Error(`no stack ${name}; stacks: ${Object.keys(stackTexts).join(", ")}`);
      return JSON.parse(stackTexts[name]);
    },
  };
}

/** Resources of one type in a stack, keyed by their Terraform name. */
export function resourcesOf(stack: StackJson, type: string): Record<string, Record<string, unknown>> {
  return stack.resource?.[type] ?? {};
}

/** `type.name` addresses of every resource in a stack, with their JSON. */
export function resourceAddresses(stack: StackJson): Map<string, string> {
  const addresses = new Map<string, string>();
  for (const [type, byName] of Object.entries(stack.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) addresses.set(`${type}.${name}`, JSON.stringify(body));
  }
  return addresses;
}

/**
 * A fleet of two ALBs: the example's (`alb:`, stack `edge`, serving web) and
 * an internal one (`albs.internal`, stack `edge-internal`, serving api), both
 * services weighted 50 in blue and green.
 */
export function twoAlbSources(): ConfigSources {
  const example = exampleSources();
  const api = [
    "  - name: api",
    "    alb: internal",
    "    namespace: api",
    "    servicePort: 80",
    "    containerPort: 9090",
    '    paths: ["/*"]',
    "    priority: 100",
    "    healthCheck:",
    "      path: /healthz",
    "albs:",
    "  internal:",
    "    internal: true",
    "    httpOnly: true",
    "    deletionProtection: false",
    "",
  ].join("\n");
  let sources: ConfigSources = { ...example, platform: { ...example.platform, text: `${example.platform.text}${api}` } };
  for (const cluster of example.clusters) sources = withClusterFile(sources, cluster.file, cluster.text.replace("  web: 50\n", "  web: 50\n  api: 50\n"));
  return sources;
}

/** Replaces one cluster file's text, or adds the file. */
export function withClusterFile(sources: ConfigSources, file: string, text: string): ConfigSources {
  const others = sources.clusters.filter((c) => c.file !== file);
  return { ...sources, clusters: [...others, { file, text }].sort((a, b) => a.file.localeCompare(b.file)) };
}

/**
 * The configuration with more services on the ALB of `alb:`, each routed by
 * its host name (`<name>.example.com`) at weight 50 in every cluster file.
 */
export function withMoreServices(sources: ConfigSources, names: readonly string[]): ConfigSources {
  const entries = names.map((name, i) => `  - name: ${name}\n    servicePort: 80\n    containerPort: ${8081 + i}\n    hosts: [${name}.example.com]\n    priority: ${90 + i}\n`);
  const weights = names.map((name) => `  ${name}: 50\n`).join("");
  return {
    platform: { ...sources.platform, text: `${sources.platform.text}${entries.join("")}` },
    clusters: sources.clusters.map((c) => ({ ...c, text: c.text.replace("  web: 50\n", `  web: 50\n${weights}`) })),
  };
}

/** Adds a `stateBackend` block (YAML lines below the key) to platform.yaml. */
export function withS3Backend(sources: ConfigSources, backend: string): ConfigSources {
  return { ...sources, platform: { ...sources.platform, text: `${sources.platform.text}stateBackend:\n${backend}` } };
}

/** The configuration with these weights, written as `npm run shift -- blue=0 green=100` writes them. */
export function shifted(sources: ConfigSources, weights: Record<string, number>): ConfigSources {
  const fleet = parseFleetConfig(sources);
  return applyShiftToSources(sources, fleet, planShift(fleet, { weights }));
}
