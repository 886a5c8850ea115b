import { App } from "cdktf";
import { fleetAlbs } from "../config/albs";
import { FleetConfig } from "../config/load";
import { ClusterStack, EdgeStack, InClusterStack, NetworkStack } from "./stacks";

export interface FleetStacks {
  readonly network: NetworkStack;
  /** The stacks of every ALB: `edge` (the ALB of `alb:`) first, then those of `albs:` by name. */
  readonly edges: readonly EdgeStack[];
  readonly clusters: readonly { readonly aws: ClusterStack; readonly inCluster: InClusterStack }[];
}

/**
 * Every stack of a fleet: the network, an edge stack per ALB, and per cluster an AWS
 * stack and an in-cluster stack. Cross-stack references set the deploy order.
 */
export function buildFleet(app: App, fleet: FleetConfig): FleetStacks {
  const network = new NetworkStack(app, fleet);
  const edges = fleetAlbs(fleet.platform).map((alb) => new EdgeStack(app, fleet, network, alb));
  const clusters = fleet.clusters.map(({ config }) => {
    const aws = new ClusterStack(app, fleet, config, network, edges);
    const inCluster = new InClusterStack(app, fleet, config, network, edges, aws);
    return { aws, inCluster };
  });
  return { network, edges, clusters };
}
