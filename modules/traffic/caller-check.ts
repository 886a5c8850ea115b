import type { STSClient } from "@aws-sdk/client-sts";
import { FleetConfig, PLATFORM_FILE } from "../config/load";
import { inClusterStackName } from "../constructs/naming";
import { enforceGate } from "./health-gate";

/**
 * The IAM principal an ARN stands for, as EKS access entries match it: an
 * assumed-role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`)
 * is its role, a role or user is known by account and name (its path left
 * out, as a session's ARN leaves it out; IAM names ignore case). Undefined for
 * anything else (the root user, federated users).
 */
export function principalOf(arn: string): string | undefined {
  const match = /^arn:([^:]+):(iam|sts)::(\d{12}):(assumed-role|role|user)\/(.+)$/.exec(arn);
  if (!match) return undefined;
  const [, partition, service, account, kind, rest] = match;
  const parts = rest.split("/");
  if (service === "sts" && kind === "assumed-role") return `${partition}:${account}:role:${parts[0]}`.toLowerCase();
  if (service === "iam" && kind !== "assumed-role") return `${partition}:${account}:${kind}:${parts[parts.length - 1]}`.toLowerCase();
  return undefined;
}

/** An assumed-role session's role ARN (without the role's path, which a session's ARN does not hold). */
function roleOfSession(arn: string): string | undefined {
  const match = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : undefined;
}

export interface CallerCheckOptions {
  /** Pass despite refusals, for this reason (echoed). */
  readonly forceReason?: string;
}

/**
 * Before in-cluster stacks are deployed, checks that the caller can reach the
 * Kubernetes API of each of their clusters: only the deployer and the
 * cluster's admins have access entries, so anyone else would create the AWS
 * resources and then fail Unauthorized at the first in-cluster stack. Throws a
 * refusal unless forced; returns the lines saying what was checked. `sts` is
 * called only when such stacks are deployed.
 */
export async function checkCaller(sts: () => Promise<STSClient>, fleet: FleetConfig, stacks: readonly string[], options: CallerCheckOptions = {}): Promise<string[]> {
  const clusters = fleet.clusters.filter(({ config }) => stacks.includes(inClusterStackName(config.name)));
  if (clusters.length === 0) return [];
  const { GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
  const arn = (await (await sts()).send(new GetCallerIdentityCommand({}))).Arn ?? "";
  const role = roleOfSession(arn);
  const caller = `${arn}${role ? ` (role ${role})` : ""}`;
  const deployer = fleet.platform.clusterAccess.deployerPrincipalArn;
  const key = principalOf(arn);
  const hasAccess = ({ config }: (typeof clusters)[number]) =>
    key !== undefined && [deployer, ...config.adminPrincipalArns].some((principal) => principalOf(principal) === key);
  const allowed = clusters.filter(hasAccess);
  const refusals = clusters
    .filter((cluster) => !hasAccess(cluster))
    .map(({ file, config }) => {
      const stack = inClusterStackName(config.name);
      return (
        `${stack}: the caller ${caller} has no access entry in ${config.name}: only ${PLATFORM_FILE} clusterAccess.deployerPrincipalArn (${deployer}) ` +
        `and ${file} adminPrincipalArns reach its Kubernetes API, so the deploy would create the AWS resources and then fail Unauthorized at ${stack}: ` +
        `deploy as the deployer, or add the principal to adminPrincipalArns`
      );
    });
  return [
    ...(allowed.length > 0 ? [`caller: ${caller} has access to the Kubernetes API of ${allowed.map((c) => c.config.name).join(", ")}`] : []),
    ...enforceGate(refusals, options.forceReason),
  ];
}
