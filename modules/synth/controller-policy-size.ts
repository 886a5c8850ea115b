import { ConfigError, ConfigProblem, FleetConfig } from "../config/load";
import { partitionOf } from "../constructs/encryption-key";
import { controllerPolicy, MAX_INLINE_POLICY_CHARACTERS } from "../constructs/load-balancer-controller-identity";
import { targetGroupName } from "../constructs/naming";
import { targetGroupIdentityOf } from "../constructs/weighted-alb";

/** Digits of the id AWS gives a target group, the end of its ARN. */
const TARGET_GROUP_ID_DIGITS = 16;

/**
 * Refuses a cluster whose Load Balancer Controller policy, listing the ARN of
 * each target group the cluster fills, would exceed IAM's limit on a role's
 * inline policies: the ARNs are those the target groups will have, their ids
 * stood in for by as many digits.
 */
export function assertControllerPoliciesFit(fleet: FleetConfig): void {
  const { platform } = fleet;
  const problems: ConfigProblem[] = [];
  for (const { file, config } of fleet.clusters) {
    const routed = platform.services.filter((s) => config.weights[s.name] !== undefined);
    const arns = routed.map(
      (service) =>
        `arn:${partitionOf(platform.region)}:elasticloadbalancing:${platform.region}:${platform.accountId}:targetgroup/` +
        `${targetGroupName(targetGroupIdentityOf(platform.name, config.name, service))}/${"0".repeat(TARGET_GROUP_ID_DIGITS)}`,
    );
    const size = controllerPolicy(arns).length;
    if (size > MAX_INLINE_POLICY_CHARACTERS) {
      problems.push({
        file,
        field: "weights",
        message:
          `routes ${routed.length} services: the Load Balancer Controller's IAM policy lists each one's target group ARN, ${size.toLocaleString("en")} characters; ` +
          `IAM takes at most ${MAX_INLINE_POLICY_CHARACTERS.toLocaleString("en")} in a role's inline policies: route fewer services to ${config.name}`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
