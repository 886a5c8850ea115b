import { TerraformResource } from "cdktf";

/** A policy rule that knowingly does not hold for one resource, and why. */
export interface PolicyException {
  /** Id of the rule in `modules/policy/rules.ts`. */
  readonly rule: string;
  readonly reason: string;
}

/** Key under the resource's `//` comment object where exceptions are written. */
export const EXCEPTIONS_KEY = "policy_exceptions";

const declared = new WeakMap<TerraformResource, PolicyException[]>();

/**
 * Declares, next to the resource that needs it, that a policy rule does not
 * hold for it and why. The exception travels in the synthesized JSON (inside
 * the `//` comment Terraform ignores), where the policy suite reports it as an
 * accepted exception instead of a finding.
 */
export function acceptPolicyException(resource: TerraformResource, rule: string, reason: string): void {
  const exceptions = [...(declared.get(resource) ?? []), { rule, reason }];
  declared.set(resource, exceptions);
  resource.addOverride(`//.${EXCEPTIONS_KEY}`, exceptions);
}
