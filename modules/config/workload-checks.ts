import type { ConfigProblem, LoadedCluster } from "./fleet-config";
import { PlatformConfig } from "./schema";
import { parseYamlDocument } from "./yaml-document";

/** Reads a project file by its path relative to the project root; undefined when it does not exist. */
export type ProjectFileReader = (file: string) => string | undefined;

/**
 * Checks across files of what the fleet runs in clusters: shared namespaces
 * agree on who manages them, overrides in cluster files name services the
 * cluster runs, and values files exist and hold YAML mappings. Returns the text
 * of each chart's values file by service name.
 */
export function checkWorkloads(
  platformFile: string,
  platform: PlatformConfig,
  clusters: readonly LoadedCluster[],
  readFile: ProjectFileReader,
  problems: ConfigProblem[],
): Record<string, string> {
  checkSharedNamespaces(platformFile, platform, problems);
  checkOverrides(platform, clusters, problems);
  return readChartValues(platformFile, platform, readFile, problems);
}

function checkSharedNamespaces(file: string, platform: PlatformConfig, problems: ConfigProblem[]): void {
  const firstByNamespace = new Map<string, number>();
  platform.services.forEach((service, i) => {
    const first = firstByNamespace.get(service.namespace);
    if (first === undefined) {
      firstByNamespace.set(service.namespace, i);
    } else if (platform.services[first].manageNamespace !== service.manageNamespace) {
      problems.push({
        file,
        field: `services[${i}].manageNamespace`,
        message: `is ${service.manageNamespace}, but services[${first}] shares namespace "${service.namespace}" with manageNamespace ${platform.services[first].manageNamespace}`,
      });
    }
  });
}

function checkOverrides(platform: PlatformConfig, clusters: readonly LoadedCluster[], problems: ConfigProblem[]): void {
  for (const { file, config } of clusters) {
    for (const [name, override] of Object.entries(config.workloads)) {
      const field = `workloads.${name}`;
      const service = platform.services.find((s) => s.name === name);
      if (!service) {
        problems.push({ file, field, message: `unknown service "${name}"; services in platform.yaml: ${platform.services.map((s) => s.name).join(", ")}` });
        continue;
      }
      if (!service.workload && !service.chart) {
        problems.push({ file, field, message: `service ${name} has no workload or chart in platform.yaml: the fleet does not run it` });
        continue;
      }
      if (config.weights[name] === undefined) {
        problems.push({ file, field, message: `service ${name} is not routed to this cluster (no weight), so it does not run here` });
      }
      const autoscaled = service.workload?.minReplicas !== undefined;
      for (const bound of ["minReplicas", "maxReplicas"] as const) {
        if (override[bound] !== undefined && !autoscaled) {
          problems.push({ file, field: `${field}.${bound}`, message: `service ${name} does not autoscale: set minReplicas and maxReplicas on its workload in platform.yaml, or override replicas` });
        }
      }
      if (autoscaled) {
        const min = override.minReplicas ?? service.workload!.minReplicas!;
        const max = override.maxReplicas ?? service.workload!.maxReplicas!;
        if (max < min) problems.push({ file, field: `${field}.maxReplicas`, message: `the autoscaler's maxReplicas (${max}) is below its minReplicas (${min}) in this cluster` });
      }
    }
  }
}

function readChartValues(file: string, platform: PlatformConfig, readFile: ProjectFileReader, problems: ConfigProblem[]): Record<string, string> {
  const values: Record<string, string> = {};
  platform.services.forEach((service, i) => {
    const valuesFile = service.chart?.valuesFile;
    if (!valuesFile) return;
    const field = `services[${i}].chart.valuesFile`;
    const text = readFile(valuesFile);
    if (text === undefined) {
      problems.push({ file, field, message: `${valuesFile} does not exist` });
      return;
    }
    const document = parseYamlDocument(text);
    const content: unknown = document.errors.length === 0 ? document.toJS() : undefined;
    if (document.errors.length > 0 || (content !== null && (typeof content !== "object" || Array.isArray(content)))) {
      problems.push({ file, field, message: `${valuesFile} is not a YAML mapping of chart values${document.errors.length > 0 ? `: ${document.errors[0].message.split("\n")[0]}` : ""}` });
      return;
    }
    values[service.name] = text;
  });
  return values;
}
