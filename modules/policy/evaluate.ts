import * as fs from "fs";
import * as path from "path";
import { EXCEPTIONS_KEY, PolicyException } from "./exceptions";
import type { PolicyRule, ResourceJson } from "./rule";
import { POLICY_RULES } from "./rules";
import { counted } from "../support/wording";

/** A synthesized stack: its name and the parsed cdk.tf.json. */
export interface SynthesizedStack {
  readonly name: string;
  readonly json: { resource?: Record<string, Record<string, ResourceJson>> };
}

/** Where a rule was checked: stack and resource address. */
interface Location {
  readonly rule: PolicyRule;
  readonly stack: string;
  readonly address: string;
}

export interface PolicyFinding extends Location {
  readonly message: string;
}

export interface AcceptedException extends Location {
  readonly message: string;
  readonly reason: string;
}

export interface PolicyReport {
  readonly rules: readonly PolicyRule[];
  readonly findings: readonly PolicyFinding[];
  readonly exceptions: readonly AcceptedException[];
  readonly resourcesEvaluated: number;
}

/** Pseudo-rule for exceptions that name no rule or excuse nothing. */
const STALE_EXCEPTION_RULE: PolicyRule = {
  id: "policy-exception-valid",
  title: "Declared exceptions name a rule and excuse a real violation",
  checkov: [],
  trivy: [],
  resourceTypes: [],
  check: () => undefined,
};

/** Reads every stack of a cdktf.out folder. */
export function readSynthesizedStacks(outdir: string): SynthesizedStack[] {
  const stacksDir = path.join(outdir, "stacks");
  return fs
    .readdirSync(stacksDir)
    .sort()
    .map((name) => ({ name, json: JSON.parse(fs.readFileSync(path.join(stacksDir, name, "cdk.tf.json"), "utf8")) }));
}

/** Evaluates every rule on every resource of every stack. */
export function evaluatePolicies(stacks: readonly SynthesizedStack[], rules: readonly PolicyRule[] = POLICY_RULES): PolicyReport {
  const findings: PolicyFinding[] = [];
  const exceptions: AcceptedException[] = [];
  let resourcesEvaluated = 0;
  const knownRules = new Set(rules.map((r) => r.id));

  for (const stack of stacks) {
    const resources = stack.json.resource ?? {};
    const resourcesOfType = (type: string): [string, ResourceJson][] =>
      Object.entries(resources[type] ?? {}).map(([name, body]) => [`${type}.${name}`, body]);

    for (const [type, byName] of Object.entries(resources)) {
      for (const [name, body] of Object.entries(byName)) {
        resourcesEvaluated++;
        const address = `${type}.${name}`;
        const declared = declaredExceptions(body);
        const used = new Set<string>();
        for (const rule of rules.filter((r) => r.resourceTypes.includes(type) || r.resourceTypes.includes("*"))) {
          const message = rule.check(body, { address, resourcesOfType });
          if (message === undefined) continue;
          const exception = declared.find((e) => e.rule === rule.id);
          if (exception) {
            used.add(rule.id);
            exceptions.push({ rule, stack: stack.name, address, message, reason: exception.reason });
          } else {
            findings.push({ rule, stack: stack.name, address, message });
          }
        }
        for (const exception of declared.filter((e) => !used.has(e.rule))) {
          const message = knownRules.has(exception.rule)
            ? `exception for ${exception.rule} excuses nothing: the rule holds; remove the exception`
            : `exception names unknown rule ${exception.rule}`;
          findings.push({ rule: STALE_EXCEPTION_RULE, stack: stack.name, address, message });
        }
      }
    }
  }
  return { rules, findings, exceptions, resourcesEvaluated };
}

function declaredExceptions(body: ResourceJson): PolicyException[] {
  const comment = body["//"] as Record<string, unknown> | undefined;
  return (comment?.[EXCEPTIONS_KEY] as PolicyException[] | undefined) ?? [];
}

function scannerIds(rule: PolicyRule): string {
  return [...rule.checkov, ...rule.trivy, ...(rule.accessAnalyzer ?? []).map((check) => `Access Analyzer: ${check}`)].join(", ") || "-";
}

/** The report as text: findings first, then accepted exceptions, then the rules evaluated. */
export function formatPolicyReport(report: PolicyReport): string {
  const lines: string[] = [];
  lines.push(
    `policy: ${counted(report.findings.length, "finding")}, ${counted(report.exceptions.length, "accepted exception")}, ` +
      `${counted(report.rules.length, "rule")} over ${counted(report.resourcesEvaluated, "resource")}`,
  );
  lines.push("", "FINDINGS");
  if (report.findings.length === 0) lines.push("  none");
  for (const f of report.findings) {
    lines.push(`  ${f.rule.id} [${scannerIds(f.rule)}] ${f.stack}: ${f.address}`, `    ${f.message}`);
  }
  lines.push("", "ACCEPTED EXCEPTIONS");
  if (report.exceptions.length === 0) lines.push("  none");
  for (const e of report.exceptions) {
    lines.push(`  ${e.rule.id} [${scannerIds(e.rule)}] ${e.stack}: ${e.address}`, `    ${e.message}; accepted: ${e.reason}`);
  }
  lines.push("", "RULES EVALUATED");
  // Two spaces at least between the checks and the title, so that a long list of checks does not run into it.
  for (const rule of report.rules) lines.push(`  ${rule.id.padEnd(32)} ${scannerIds(rule).padEnd(45)}  ${rule.title}`);
  return lines.join("\n");
}
