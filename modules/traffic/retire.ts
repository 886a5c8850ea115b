import { type CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { clustersNamed, FleetConfig } from "../config/load";
import { carriesTraffic } from "../config/lifecycle";
import { clusterStackName, controlPlaneLogGroup, eksClusterName } from "../constructs/naming";
import { enforceGate } from "./health-gate";
import { DEFAULT_IDLE_MINUTES, servedRequestRefusals } from "./idle";
import { readLiveFleet } from "./live-fleet";
import { edgeStacksOf } from "./shift";
import { UserError } from "../support/user-error";

/** What retiring one cluster removes. */
export interface Retirement {
  readonly cluster: string;
  /** The cluster's file, relative to the configuration folder. */
  readonly file: string;
  /** The cluster's AWS stack; its in-cluster stack, which depends on it, goes with it. */
  readonly stack: string;
  /** Services whose listener rules forward to the cluster's target groups. */
  readonly services: readonly string[];
  /** The edge stacks of the ALBs routing those services (`edge`, `edge-<name>`), sorted: deployed last, they drop its target groups. */
  readonly edgeStacks: readonly string[];
  /** The control-plane log group, which EKS may create again while the cluster is being deleted. */
  readonly logGroup: string;
}

/**
 * What retiring `cluster` removes. Refuses unless the cluster's file says it
 * is `retiring` and carries no traffic.
 */
export function planRetirement(fleet: FleetConfig, cluster: string): Retirement {
  const [{ config, file }] = clustersNamed(fleet, [cluster]);
  if (carriesTraffic(config)) {
    const weights = Object.entries(config.weights).filter(([, w]) => w > 0).map(([s, w]) => `${s}=${w}`);
    throw new UserError(`${cluster} still carries traffic (${weights.join(", ")}): shift it away (npm run shift -- ${cluster}=0) and deploy first`);
  }
  if (config.state !== "retiring") {
    throw new UserError(`${cluster} is ${config.state}: set state: retiring in ${file}, merge and deploy that, then retire`);
  }
  const services = Object.keys(config.weights).sort();
  return {
    cluster,
    file,
    stack: clusterStackName(cluster),
    services,
    edgeStacks: edgeStacksOf(fleet.platform.services, services),
    logGroup: controlPlaneLogGroup(eksClusterName(fleet.platform.name, cluster)),
  };
}

export interface RetirementCheckOptions {
  /** Minutes the cluster must have served no request. @default 30 */
  readonly idleMinutes?: number;
  /** Retire despite requests served, for this reason (echoed). */
  readonly forceReason?: string;
  /** End of the window. @default the current time */
  readonly now?: Date;
}

/**
 * Refuses unless the deployed listener rules, on every ALB routing its
 * services, give the cluster weight 0 for every service it is in (the file
 * may say 0 while the edge still sends it traffic: not deployed yet, or
 * changed live), and unless its target groups
 * served no request in the last `idleMinutes`, as the standby gate requires
 * (forced past with a reason). Returns the lines to print.
 */
export async function checkLiveRetirement(
  elb: ElasticLoadBalancingV2Client,
  cloudWatch: CloudWatchClient,
  fleet: FleetConfig,
  retirement: Retirement,
  options: RetirementCheckOptions = {},
): Promise<string[]> {
  if (retirement.services.length === 0) return [`${retirement.cluster} is in no listener rule`];
  const live = await readLiveFleet(elb, fleet, retirement.services);
  const weights = retirement.services.map((service) => [service, live.routes.get(service)!.weights[retirement.cluster] ?? 0] as const);
  const carrying = weights.filter(([, weight]) => weight > 0);
  if (carrying.length > 0) {
    const stacks = edgeStacksOf(fleet.platform.services, carrying.map(([service]) => service));
    throw new UserError(
      `the live listener rules still send ${retirement.cluster} traffic (${carrying.map(([s, w]) => `${s}=${w}`).join(", ")}): ` +
        `deploy the edge (npm run deploy -- --only ${stacks.join(" ")}) and retire again; nothing was destroyed`,
    );
  }
  const idleMinutes = options.idleMinutes ?? DEFAULT_IDLE_MINUTES;
  const served = await servedRequestRefusals(cloudWatch, live, retirement.cluster, idleMinutes, options.now ?? new Date());
  return [
    `the live listener rules give ${retirement.cluster} weight 0 (${retirement.services.join(", ")})`,
    ...(served.length === 0 ? [`${retirement.cluster} served no request in the last ${idleMinutes} min`] : enforceGate(served, options.forceReason)),
  ];
}

/**
 * Deletes the control-plane log group if it exists after the cluster is gone:
 * EKS creates it again, unencrypted and kept forever, for logs written while
 * the cluster was being deleted, and a cluster of the same name could then not
 * be created (Terraform's log group would already exist). Returns what it did.
 */
export async function deleteLeftoverLogGroup(client: CloudWatchLogsClient, logGroup: string): Promise<string> {
  const found = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroup }));
  if (!(found.logGroups ?? []).some((group) => group.logGroupName === logGroup)) return `no log group ${logGroup} left`;
  await client.send(new DeleteLogGroupCommand({ logGroupName: logGroup }));
  return `deleted ${logGroup}, which EKS had created again`;
}
