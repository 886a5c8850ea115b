import type { PolicyRule, ResourceJson } from "./rule";

/**
 * Lambda runtimes past their deprecation date: those Checkov's CKV_AWS_363
 * lists, and python3.9 (deprecated 2025-12-15) and nodejs20.x (2026-04-30)
 * beside them. Check AWS's table of runtimes when adding a function.
 */
const DEPRECATED_RUNTIMES = /^(nodejs(4\.3|6\.10|8\.10|10\.x|12\.x|14\.x|16\.x|18\.x|20\.x)?|python(2\.7|3\.6|3\.7|3\.8|3\.9)|ruby2\.[57]|java8|dotnetcore[123]\.\d|dotnet(5\.0|6)|go1\.x|provided)(-edge)?$/;

/** A nested block: cdktf writes single blocks as objects, Terraform JSON also allows lists. */
function block(value: unknown): ResourceJson | undefined {
  return (Array.isArray(value) ? value[0] : value) as ResourceJson | undefined;
}

/** Rules on Lambda functions and SNS topics, as Checkov and Trivy judge them. */
export const FUNCTION_POLICY_RULES: readonly PolicyRule[] = [
  {
    id: "lambda-concurrency-limit",
    title: "Lambda functions have a concurrency limit",
    checkov: ["CKV_AWS_115"],
    trivy: [],
    resourceTypes: ["aws_lambda_function"],
    check: (fn) => (fn.reserved_concurrent_executions === undefined || Number(fn.reserved_concurrent_executions) < 0 ? "no reserved concurrency limit" : undefined),
  },
  {
    id: "lambda-dead-letter-queue",
    title: "Lambda functions send failed asynchronous invocations to a dead-letter queue",
    checkov: ["CKV_AWS_116"],
    trivy: [],
    resourceTypes: ["aws_lambda_function"],
    check: (fn) => (block(fn.dead_letter_config)?.target_arn ? undefined : "no dead-letter queue"),
  },
  {
    id: "lambda-in-vpc",
    title: "Lambda functions run in a VPC",
    checkov: ["CKV_AWS_117"],
    trivy: [],
    resourceTypes: ["aws_lambda_function"],
    check: (fn) => (block(fn.vpc_config)?.subnet_ids ? undefined : "not attached to a VPC"),
  },
  {
    id: "lambda-supported-runtime",
    title: "Lambda functions run on a runtime that is not deprecated",
    checkov: ["CKV_AWS_363"],
    trivy: [],
    resourceTypes: ["aws_lambda_function"],
    check: (fn) => (typeof fn.runtime !== "string" || DEPRECATED_RUNTIMES.test(fn.runtime) ? `runtime ${String(fn.runtime)} is deprecated` : undefined),
  },
  {
    id: "sns-topic-encrypted",
    title: "SNS topics are encrypted with a KMS key",
    checkov: ["CKV_AWS_26"],
    trivy: ["AWS-0095"],
    resourceTypes: ["aws_sns_topic"],
    check: (topic) => (topic.kms_master_key_id ? undefined : "not encrypted (kms_master_key_id)"),
  },
];
