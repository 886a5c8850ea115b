import { ConfigError, ConfigProblem, FleetConfig } from "../config/load";
import { partitionOf } from "../constructs/encryption-key";
import { controllerPolicyCapacity, MAX_MANAGED_POLICIES_PER_ROLE } from "../constructs/load-balancer-controller-identity";

/**
 * Refuses a cluster that routes more services than its Load Balancer
 * Controller's policies can name: each of its target groups is listed by ARN,
 * in the inline policy and then in managed policies, of which IAM attaches at
 * most 10 to a role.
 */
export function assertControllerPoliciesFit(fleet: FleetConfig): void {
  const { platform } = fleet;
  const problems: ConfigProblem[] = [];
  const capacity = controllerPolicyCapacity(partitionOf(platform.region), platform.region, platform.accountId);
  for (const { file, config } of fleet.clusters) {
    const routed = platform.services.filter((s) => config.weights[s.name] !== undefined);
    const managed = Math.ceil(Math.max(0, routed.length - capacity.inline) / capacity.perManaged);
    if (managed > MAX_MANAGED_POLICIES_PER_ROLE) {
      problems.push({
        file,
        field: "weights",
        message:
          `routes ${routed.length} services: the Load Balancer Controller's IAM policies, which name each one's target group, would need ${managed} managed policies ` +
          `beside the inline one; IAM attaches at most ${MAX_MANAGED_POLICIES_PER_ROLE} to a role: route fewer services to ${config.name}`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
