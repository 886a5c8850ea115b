import * as fs from "fs";
import * as path from "path";
import { isScalar, LineCounter } from "yaml";
import { z } from "zod";
import { describeFileError } from "../support/file-errors";
import { UserError } from "../support/user-error";
import { counted } from "../support/wording";
import { checkClusterAccess } from "./access-check";
import { ConfigError, ConfigProblem, FleetConfig, LoadedCluster } from "./fleet-config";
import { cidrContains, cidrSubnet, cidrsOverlap, parseCidr } from "./cidr";
import {
  ClusterConfig,
  clusterConfigSchema,
  MAX_TARGET_GROUPS_PER_FORWARD,
  PlatformConfig,
  platformConfigSchema,
} from "./schema";
import { fleetAlbs } from "./albs";
import { checkFailoverHeadroom } from "./failover";
import { checkQuotas } from "./quotas";
import { checkWorkloads, ProjectFileReader } from "./workload-checks";
import { parseYamlDocument } from "./yaml-document";

export { ConfigError } from "./fleet-config";
export type { ConfigProblem, FleetConfig, LoadedCluster } from "./fleet-config";

/** File of fleet-wide settings, relative to the project root. */
export const PLATFORM_FILE = "platform.yaml";
/** Folder of cluster files, one per cluster, relative to the project root. */
export const CLUSTERS_DIR = "clusters";

/** True for a cluster file's name (`blue.yaml`): YAML, not hidden. */
export function isClusterFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !name.startsWith(".");
}

/**
 * The fleet's clusters of these names, in the order given; a name the fleet
 * has no cluster of is a {@link UserError} listing the clusters.
 */
export function clustersNamed(fleet: FleetConfig, names: readonly string[]): LoadedCluster[] {
  const unknown = names.filter((name) => !fleet.clusters.some((c) => c.config.name === name));
  if (unknown.length > 0) {
    const clusters = fleet.clusters.map((c) => c.config.name).join(", ");
    throw new UserError(`unknown cluster${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; clusters: ${clusters}`);
  }
  return names.map((name) => fleet.clusters.find((c) => c.config.name === name)!);
}

/** Clusters that route the service: those giving it a weight, 0 included. */
export function clustersRouting<T extends { readonly config: ClusterConfig }>(clusters: readonly T[], service: string): T[] {
  return clusters.filter((c) => c.config.weights[service] !== undefined);
}

/** Raw text of the configuration files, keyed by path relative to the project root. */
export interface ConfigSources {
  readonly platform: { readonly file: string; readonly text: string };
  readonly clusters: readonly { readonly file: string; readonly text: string }[];
  /** Other project files the configuration refers to (chart values files); none when unset. */
  readonly readFile?: ProjectFileReader;
}

/**
 * Reads `platform.yaml` and every `clusters/*.yaml` under `projectDir`.
 * Anything else in `clusters/` (`blue.json`, `blue.YAML`, a folder, a
 * dangling link) is a problem, as is a file that cannot be read; hidden
 * files that are not YAML (`.gitkeep`, editor swap files) are left alone.
 */
export function readConfigSources(projectDir: string): ConfigSources {
  const problems: ConfigProblem[] = [];
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(path.join(projectDir, file), "utf8");
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      const dangling = missing && fs.lstatSync(path.join(projectDir, file), { throwIfNoEntry: false })?.isSymbolicLink();
      problems.push({ file, field: "", message: dangling ? "is a link to a file that does not exist" : missing ? "file not found" : `cannot be read: ${describeFileError(error)}` });
      return undefined;
    }
  };
  const platformText = read(PLATFORM_FILE);
  const clustersPath = path.join(projectDir, CLUSTERS_DIR);
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(clustersPath).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      problems.push({ file: CLUSTERS_DIR, field: "", message: `cannot be read as a folder: ${describeFileError(error)}` });
    }
  }
  const clusters: { file: string; text: string }[] = [];
  for (const name of entries) {
    const file = `${CLUSTERS_DIR}/${name}`;
    const problem = clusterEntryProblem(name);
    if (problem) problems.push({ file, field: "", message: problem });
    if (problem || !isClusterFileName(name)) continue;
    const text = read(file);
    if (text !== undefined) clusters.push({ file, text });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    platform: { file: PLATFORM_FILE, text: platformText! },
    clusters,
    readFile: (file) => {
      const filePath = path.join(projectDir, file);
      return fs.existsSync(filePath) && fs.statSync(filePath).isFile() ? fs.readFileSync(filePath, "utf8") : undefined;
    },
  };
}

/** Why an entry of `clusters/` is not a cluster file, or undefined when it is one or is a hidden non-YAML file. */
function clusterEntryProblem(name: string): string | undefined {
  const yamlAnyCase = /\.ya?ml$/i.test(name);
  if (name.startsWith(".")) return yamlAnyCase ? "is hidden, so it would be left out of the fleet: remove the leading dot or move it out of clusters/" : undefined;
  if (isClusterFileName(name)) return undefined;
  if (yamlAnyCase) return `is not read: cluster files end in lowercase .yaml or .yml; rename it to ${name.replace(/\.ya?ml$/i, (ext) => ext.toLowerCase())}`;
  return `is not a cluster file (clusters/ holds only <name>.yaml files): rename it to <name>.yaml or move it out of ${CLUSTERS_DIR}/`;
}

/** Reads and validates the configuration under `projectDir`; throws {@link ConfigError}. */
export function loadFleetConfig(projectDir: string): FleetConfig {
  return parseFleetConfig(readConfigSources(projectDir));
}

/** Validates configuration text; throws {@link ConfigError} listing every problem found. */
export function parseFleetConfig(sources: ConfigSources): FleetConfig {
  const problems: ConfigProblem[] = [];
  const platform = parseFile(sources.platform.file, sources.platform.text, platformConfigSchema, problems);
  const clusters: LoadedCluster[] = [];
  for (const source of sources.clusters) {
    const config = parseFile(source.file, source.text, clusterConfigSchema, problems);
    if (config) clusters.push({ file: source.file, config });
  }
  if (sources.clusters.length === 0) {
    problems.push({ file: CLUSTERS_DIR, field: "", message: "no cluster files: add at least one clusters/<name>.yaml" });
  }
  if (!platform || problems.length > 0) {
    throw new ConfigError(problems);
  }
  const subnets = checkNetwork(sources.platform.file, platform, problems);
  checkServices(sources.platform.file, platform, problems);
  checkClusters(platform, clusters, problems);
  problems.push(...checkClusterAccess(sources.platform.file, platform, clusters));
  const chartValues = checkWorkloads(sources.platform.file, platform, clusters, sources.readFile ?? (() => undefined), problems);
  problems.push(...checkQuotas(sources.platform.file, platform, clusters, chartValues));
  problems.push(...checkFailoverHeadroom(sources.platform.file, platform, clusters));
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return {
    platform,
    subnets,
    clusters: [...clusters].sort((a, b) => a.config.name.localeCompare(b.config.name)),
    chartValues,
  };
}

function parseFile<T extends z.ZodType>(
  file: string,
  text: string,
  schema: T,
  problems: ConfigProblem[],
): z.output<T> | undefined {
  if (/\r(?!\n)/.test(text)) {
    problems.push({ file, field: "", message: "has CR-only line breaks (classic Mac OS): YAML reads them as one line; save the file with LF (or CRLF) line endings" });
    return undefined;
  }
  const lines = new LineCounter();
  const document = parseYamlDocument(text, lines);
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const { line, col } = lines.linePos(error.pos[0]);
      problems.push({ file, field: "", message: `invalid YAML: line ${line}, column ${col}: ${error.message.split("\n")[0]}` });
    }
    return undefined;
  }
  let data: unknown;
  try {
    data = document.toJS() ?? {};
  } catch (error) {
    // The yaml library refuses aliases that expand beyond a limit (an "alias bomb").
    problems.push({ file, field: "", message: `invalid YAML: ${(error as Error).message}; write the values out instead of using anchors (&) and aliases (*)` });
    return undefined;
  }
  const reserved = reservedKeyPaths(data);
  if (reserved.length > 0) {
    for (const field of reserved) problems.push({ file, field, message: `"__proto__" cannot be used as a key` });
    return undefined;
  }
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const node = document.getIn(issue.path as (string | number)[], true);
    const tagged =
      isScalar(node) && node.tag
        ? `; the YAML tag ${node.tag.replace("tag:yaml.org,2002:", "!!")} made it ${typeof node.value === "string" ? "text" : typeof node.value}: write the value plain, without a tag (${String(node.value)})`
        : "";
    problems.push({ file, field: formatPath(issue.path), message: `${describeIssue(schema, issue)}${tagged}` });
  }
  return undefined;
}

/** Paths of `__proto__` keys, which JavaScript objects cannot hold as plain keys. */
function reservedKeyPaths(value: unknown, at: PropertyKey[] = []): string[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.keys(value).flatMap((key) => {
    const segment = Array.isArray(value) ? Number(key) : key;
    const child = (value as Record<string, unknown>)[key];
    return key === "__proto__" ? [formatPath([...at, segment])] : reservedKeyPaths(child, [...at, segment]);
  });
}

function formatPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((s, i) => (typeof s === "number" ? `[${s}]` : `${i === 0 ? "" : "."}${String(s)}`))
    .join("");
}

function describeIssue(schema: z.ZodType, issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(schema, issue.path);
    return issue.keys
      .map((key) => {
        const suggestion = allowed ? closest(key, allowed) : undefined;
        return `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}` +
          (allowed ? `; allowed keys: ${allowed.join(", ")}` : "");
      })
      .join("; ");
  }
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return `is required (${issue.expected})`;
    if (issue.input === null) return `is empty; expected ${issue.expected}`;
    return `expected ${issue.expected}, got ${JSON.stringify(issue.input)}`;
  }
  return issue.message;
}

/** Keys of the object schema found by following `issuePath` through `schema`. */
function allowedKeysAt(schema: z.ZodType, issuePath: readonly PropertyKey[]): string[] | undefined {
  let current: z.core.$ZodType | undefined = schema;
  for (const segment of [...issuePath, undefined]) {
    current = unwrap(current);
    if (segment === undefined) break;
    if (current instanceof z.ZodObject) current = current.shape[String(segment)];
    else if (current instanceof z.ZodArray) current = current.element;
    else return undefined;
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : undefined;
}

function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  while (current && "innerType" in current._zod.def) {
    current = (current._zod.def as { innerType: z.core.$ZodType }).innerType;
  }
  return current;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}

function checkNetwork(file: string, platform: PlatformConfig, problems: ConfigProblem[]): FleetConfig["subnets"] {
  const { vpc, availabilityZones } = platform;
  const vpcPrefix = parseCidr(vpc.cidr).prefix;
  if (vpcPrefix < 16 || vpcPrefix > 20) {
    problems.push({ file, field: "vpc.cidr", message: `prefix /${vpcPrefix} is outside /16 to /20` });
    return { private: [], public: [] };
  }
  const strayZone = availabilityZones.find((zone) => !zone.startsWith(platform.region));
  if (strayZone) {
    problems.push({ file, field: "availabilityZones", message: `${strayZone} is not in region ${platform.region}` });
  }
  const subnets = {
    private: vpc.privateSubnetCidrs ?? availabilityZones.map((_, i) => cidrSubnet(vpc.cidr, 3, i)),
    public: vpc.publicSubnetCidrs ?? availabilityZones.map((_, i) => cidrSubnet(vpc.cidr, 6, 32 + i)),
  };
  const all: { field: string; cidr: string }[] = [];
  for (const [kind, cidrs] of [["privateSubnetCidrs", subnets.private], ["publicSubnetCidrs", subnets.public]] as const) {
    if (cidrs.length !== availabilityZones.length) {
      problems.push({ file, field: `vpc.${kind}`, message: `has ${counted(cidrs.length, "entry", "entries")}; give one per availability zone (${availabilityZones.length})` });
    }
    cidrs.forEach((cidr, i) => {
      const field = `vpc.${kind}[${i}]`;
      if (!cidrContains(vpc.cidr, cidr)) {
        problems.push({ file, field, message: `${cidr} is outside the VPC ${vpc.cidr}` });
      } else if (parseCidr(cidr).prefix > 28) {
        problems.push({ file, field, message: `${cidr} is smaller than /28, the smallest subnet AWS allows` });
      }
      for (const other of all) {
        if (cidrsOverlap(other.cidr, cidr)) {
          problems.push({ file, field, message: `${cidr} overlaps ${other.field} (${other.cidr})` });
        }
      }
      all.push({ field, cidr });
    });
  }
  return subnets;
}

function checkServices(file: string, platform: PlatformConfig, problems: ConfigProblem[]): void {
  const names = new Map<string, number>();
  /** Index of the service holding each priority, per ALB: priorities are unique on a listener. */
  const priorities = new Map<string | undefined, Map<number, number>>();
  const albKeys = Object.keys(platform.albs);
  platform.services.forEach((service, i) => {
    const sameName = names.get(service.name);
    if (sameName !== undefined) {
      problems.push({ file, field: `services[${i}].name`, message: `"${service.name}" is also the name of services[${sameName}]` });
    }
    names.set(service.name, i);
    if (service.alb !== undefined && !albKeys.includes(service.alb)) {
      const suggestion = closest(service.alb, albKeys);
      const known = albKeys.length > 0 ? `ALBs under albs: ${albKeys.join(", ")}` : "declare it under albs, or leave alb unset for the ALB of alb";
      problems.push({ file, field: `services[${i}].alb`, message: `unknown ALB "${service.alb}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}; ${known}` });
    }
    const onAlb = priorities.get(service.alb) ?? new Map<number, number>();
    priorities.set(service.alb, onAlb);
    const samePriority = onAlb.get(service.priority);
    if (samePriority !== undefined) {
      problems.push({
        file,
        field: `services[${i}].priority`,
        message: `${service.priority} is also the priority of services[${samePriority}] on the same ALB; listener rule priorities are unique per ALB`,
      });
    }
    onAlb.set(service.priority, i);
  });
  for (const { field, settings } of fleetAlbs(platform)) {
    if (!settings.httpOnly && !settings.certificateArn) {
      problems.push({ file, field: `${field}.certificateArn`, message: `is required for the HTTPS listener; set ${field}.httpOnly: true to serve plain HTTP instead` });
    }
    if (settings.httpOnly && settings.certificateArn) {
      problems.push({ file, field: `${field}.httpOnly`, message: `contradicts ${field}.certificateArn: choose HTTPS (certificate) or HTTP only` });
    }
  }
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

function checkClusters(platform: PlatformConfig, clusters: readonly LoadedCluster[], problems: ConfigProblem[]): void {
  const byName = new Map<string, string>();
  const serviceNames = platform.services.map((s) => s.name);
  const misspelled = new Set<string>();
  for (const { file, config } of clusters) {
    const other = byName.get(config.name);
    if (other) {
      problems.push({ file, field: "name", message: `"${config.name}" is also the name of the cluster in ${other}` });
    }
    byName.set(config.name, file);

    const serviceCidr = config.serviceIpv4Cidr;
    const servicePrefix = parseCidr(serviceCidr).prefix;
    if (!PRIVATE_RANGES.some((range) => cidrContains(range, serviceCidr)) || servicePrefix < 12 || servicePrefix > 24) {
      problems.push({ file, field: "serviceIpv4Cidr", message: `${serviceCidr} must be a /12 to /24 inside ${PRIVATE_RANGES.join(", ")}` });
    } else if (cidrsOverlap(serviceCidr, platform.vpc.cidr)) {
      problems.push({ file, field: "serviceIpv4Cidr", message: `${serviceCidr} overlaps the VPC ${platform.vpc.cidr}` });
    }

    const groupNames = new Set<string>();
    config.nodeGroups.forEach((group, i) => {
      if (groupNames.has(group.name)) {
        problems.push({ file, field: `nodeGroups[${i}].name`, message: `"${group.name}" is used by another node group of this cluster` });
      }
      groupNames.add(group.name);
    });

    for (const [service, weight] of Object.entries(config.weights)) {
      const field = `weights.${service}`;
      if (!serviceNames.includes(service)) {
        const suggestion = closest(service, serviceNames);
        if (suggestion) misspelled.add(suggestion);
        problems.push({
          file,
          field,
          message: `unknown service "${service}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}; services in ${PLATFORM_FILE}: ${serviceNames.join(", ")}`,
        });
      } else if ((config.state === "standby" || config.state === "retiring") && weight > 0) {
        problems.push({ file, field, message: `is ${weight}, but a ${config.state} cluster takes no traffic: set weight 0, or set state: active before giving it traffic` });
      }
    }
  }

  for (const service of platform.services) {
    const routed = clustersRouting(clusters, service.name);
    const where = { file: PLATFORM_FILE, field: `services.${service.name}` };
    // A misspelled weight is the one problem; the service it was meant for is not reported again.
    if (misspelled.has(service.name)) continue;
    if (routed.length === 0) {
      problems.push({ ...where, message: `is routed to no cluster: give it a weight in at least one file in ${CLUSTERS_DIR}/` });
    } else if (routed.every((c) => c.config.weights[service.name] === 0)) {
      problems.push({ ...where, message: `has weight 0 in every cluster (${routed.map((c) => c.file).join(", ")}): at least one must carry traffic` });
    }
    if (routed.length > MAX_TARGET_GROUPS_PER_FORWARD) {
      problems.push({
        ...where,
        message: `is routed to ${routed.length} clusters (${routed.map((c) => c.config.name).join(", ")}); an ALB forward action takes at most ${MAX_TARGET_GROUPS_PER_FORWARD} target groups: remove the weight from the clusters that do not serve it`,
      });
    }
  }
}
