/** One statement of an IAM policy document. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string[];
  readonly Resource: string | string[];
}

/**
 * An IAM policy document as JSON text. IAM refuses a statement with no
 * action or no resource (MalformedPolicyDocument), so leave such a statement out.
 */
export function policyDocument(statements: PolicyStatement[]): string {
  if (statements.length === 0) throw new Error("an IAM policy document needs at least one statement");
  for (const statement of statements) {
    if (statement.Action.length === 0 || statement.Resource.length === 0) {
      throw new Error(`IAM policy statement ${statement.Sid ?? JSON.stringify(statement)} has an empty Action or Resource list`);
    }
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** Conditions of a policy statement: operator → key → value(s). */
export type PolicyCondition = Record<string, Record<string, string | string[]>>;

/**
 * A role trust policy that lets an AWS service principal assume the role,
 * optionally only under `condition` (e.g. `aws:SourceAccount`, against the confused deputy).
 */
export function servicePrincipalTrust(service: string, actions: string[], condition?: PolicyCondition): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions, ...(condition ? { Condition: condition } : {}) }],
  });
}
