import type { ConfigProblem, LoadedCluster } from "./fleet-config";
import type { PlatformConfig } from "./schema";

/** EKS keeps one access entry per principal; IAM names are unique regardless of case. */
const samePrincipal = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Every principal gets one access entry per cluster: a second entry for the
 * same principal fails with 409 ResourceInUseException, so no principal may be
 * listed twice among the deployer, the plan role and a cluster's admins.
 */
export function checkClusterAccess(platformFile: string, platform: PlatformConfig, clusters: readonly LoadedCluster[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { deployerPrincipalArn, planPrincipalArn } = platform.clusterAccess;
  if (planPrincipalArn && samePrincipal(planPrincipalArn, deployerPrincipalArn)) {
    problems.push({
      file: platformFile,
      field: "clusterAccess.planPrincipalArn",
      message: "is the deployer, which is already cluster-admin: leave planPrincipalArn unset when one role plans and deploys",
    });
  }
  const named = [
    { arn: deployerPrincipalArn, as: `the deployer (${platformFile} clusterAccess.deployerPrincipalArn), which is cluster-admin already` },
    ...(planPrincipalArn ? [{ arn: planPrincipalArn, as: `the plan role (${platformFile} clusterAccess.planPrincipalArn), which has its own access entry` }] : []),
  ];
  for (const { file, config } of clusters) {
    config.adminPrincipalArns.forEach((arn, i) => {
      const field = `adminPrincipalArns[${i}]`;
      const fleetWide = named.find((n) => samePrincipal(n.arn, arn));
      const earlier = config.adminPrincipalArns.findIndex((other) => samePrincipal(other, arn));
      if (fleetWide) {
        problems.push({ file, field, message: `${arn} is ${fleetWide.as}: remove it here (EKS takes one access entry per principal)` });
      } else if (earlier < i) {
        problems.push({ file, field, message: `${arn} is also adminPrincipalArns[${earlier}] (EKS takes one access entry per principal)` });
      }
    });
  }
  return problems;
}
