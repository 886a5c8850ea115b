import { App } from "cdktf";
import { FleetConfig } from "../config/load";
import { ClusterStack, EdgeStack, InClusterStack, NetworkStack } from "./stacks";

export interface FleetStacks {
  readonly network: NetworkStack;
  readonly edge: EdgeStack;
  readonly clusters: readonly { readonly aws: ClusterStack; readonly inCluster: InClusterStack }[];
}

/**
 * Every stack of a fleet: the network, the edge (ALB), and per cluster an AWS
 * stack and an in-cluster stack. Cross-stack references set the deploy order.
 */
export function buildFleet(app: App, fleet: FleetConfig): FleetStacks {
  const network = new NetworkStack(app, fleet);
  const edge = new EdgeStack(app, fleet, network);
  const clusters = fleet.clusters.map(({ config }) => {
    const aws = new ClusterStack(app, fleet, config, network, edge);
    const inCluster = new InClusterStack(app, fleet, config, network, edge, aws);
    return { aws, inCluster };
  });
  return { network, edge, clusters };
}
