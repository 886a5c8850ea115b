import { FleetConfig } from "../config/load";
import { carriesTraffic } from "../config/lifecycle";
import { clusterStackName, EDGE_STACK, inClusterStackName } from "../naming";
import { ShiftError } from "./shift";

/** One step of retiring a cluster: a command to run, or the cluster file to delete. */
export type RetireStep =
  | { readonly kind: "run"; readonly describe: string; readonly command: readonly string[] }
  | { readonly kind: "delete-file"; readonly describe: string; readonly file: string };

/**
 * The steps that remove a cluster without orphaning anything: destroy what
 * runs in it (the bindings deregister its pods), then its AWS stack, then
 * delete its file and deploy the edge, which drops its target groups.
 * Refuses unless the cluster is `retiring` and carries no traffic.
 */
export function retireSteps(fleet: FleetConfig, cluster: string, autoApprove: boolean): RetireStep[] {
  const loaded = fleet.clusters.find((c) => c.config.name === cluster);
  if (!loaded) throw new ShiftError(`unknown cluster ${cluster}; clusters: ${fleet.clusters.map((c) => c.config.name).join(", ")}`);
  const { config, file } = loaded;
  if (carriesTraffic(config)) {
    const weights = Object.entries(config.weights).filter(([, w]) => w > 0).map(([s, w]) => `${s}=${w}`);
    throw new ShiftError(`${cluster} still carries traffic (${weights.join(", ")}): shift it away (npm run shift -- ${cluster}=0) and deploy first`);
  }
  if (config.state !== "retiring") {
    throw new ShiftError(`${cluster} is ${config.state}: set state: retiring in ${file}, merge and deploy that, then retire`);
  }
  const approve = autoApprove ? ["--auto-approve"] : [];
  return [
    { kind: "run", describe: `destroy ${inClusterStackName(cluster)} (controller and bindings)`, command: ["npx", "cdktf", "destroy", inClusterStackName(cluster), ...approve] },
    { kind: "run", describe: `destroy ${clusterStackName(cluster)} (EKS cluster, nodes, IAM)`, command: ["npx", "cdktf", "destroy", clusterStackName(cluster), ...approve] },
    { kind: "delete-file", describe: `delete ${file}`, file },
    { kind: "run", describe: `deploy ${EDGE_STACK} (drops ${cluster}'s target groups)`, command: ["npx", "cdktf", "deploy", EDGE_STACK, ...approve] },
  ];
}
