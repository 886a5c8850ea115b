/** The shape of a security policy rule: what every rule module declares and the evaluation runs. */

/** A resource's body as synthesized into cdk.tf.json. */
export type ResourceJson = Record<string, unknown>;

/** What a rule may look at besides the resource itself. */
export interface RuleContext {
  /** `type.name` of the resource being checked. */
  readonly address: string;
  /** Every resource of a type in the same stack, with its address. */
  resourcesOfType(type: string): [string, ResourceJson][];
}

export interface PolicyRule {
  readonly id: string;
  readonly title: string;
  /** Equivalent Checkov checks. */
  readonly checkov: readonly string[];
  /** Equivalent Trivy (AVD) checks. */
  readonly trivy: readonly string[];
  /** Equivalent IAM Access Analyzer policy checks, for rules no scanner has. */
  readonly accessAnalyzer?: readonly string[];
  /** Resource types the rule applies to; `*` for every type. */
  readonly resourceTypes: readonly string[];
  /** Why the resource violates the rule, or undefined when it holds. */
  check(resource: ResourceJson, context: RuleContext): string | undefined;
}
