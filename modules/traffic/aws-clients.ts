import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { STSClient } from "@aws-sdk/client-sts";
import { FleetConfig, PLATFORM_FILE } from "../config/load";
import { UserError } from "../support/user-error";

/**
 * The fleet's region, checked against AWS_REGION / AWS_DEFAULT_REGION when
 * set: a different one would look for the ALB in the wrong place.
 */
function fleetRegion(fleet: FleetConfig): string {
  const region = fleet.platform.region;
  for (const variable of ["AWS_REGION", "AWS_DEFAULT_REGION"]) {
    const value = process.env[variable];
    if (value && value !== region) throw new UserError(`${variable}=${value} but the fleet is in ${region} (${PLATFORM_FILE}: region); unset it or set it to ${region}`);
  }
  return region;
}

/**
 * ELBv2 client for the fleet's region. Credentials and endpoints come from the
 * SDK's standard settings (AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL,
 * AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2, ...).
 */
export async function elbClient(fleet: FleetConfig): Promise<ElasticLoadBalancingV2Client> {
  const { ElasticLoadBalancingV2Client } = await import("@aws-sdk/client-elastic-load-balancing-v2");
  return new ElasticLoadBalancingV2Client({ region: fleetRegion(fleet) });
}

/** CloudWatch client for the fleet's region (AWS_ENDPOINT_URL_CLOUDWATCH and the other standard settings apply). */
export async function cloudWatchClient(fleet: FleetConfig): Promise<CloudWatchClient> {
  const { CloudWatchClient } = await import("@aws-sdk/client-cloudwatch");
  return new CloudWatchClient({ region: fleetRegion(fleet) });
}

/** CloudWatch Logs client for the fleet's region (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS and the other standard settings apply). */
export async function logsClient(fleet: FleetConfig): Promise<CloudWatchLogsClient> {
  const { CloudWatchLogsClient } = await import("@aws-sdk/client-cloudwatch-logs");
  return new CloudWatchLogsClient({ region: fleetRegion(fleet) });
}

/** STS client for the fleet's region, answering within seconds (AWS_ENDPOINT_URL_STS and the other standard settings apply). */
export async function stsClient(fleet: FleetConfig): Promise<STSClient> {
  const { STSClient } = await import("@aws-sdk/client-sts");
  return new STSClient({ region: fleetRegion(fleet), requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 } });
}

/**
 * Rethrows an AWS failure (a refused call, missing credentials, an endpoint
 * that cannot be reached) as a {@link UserError} naming it; other errors as they are.
 */
export function rethrowAwsError(error: unknown): never {
  const e = error as { name?: string; message?: string; $metadata?: unknown; code?: string } | undefined;
  const isAws = e !== undefined && (e.$metadata !== undefined || e.name === "CredentialsProviderError" || /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET)$/.test(e.code ?? ""));
  if (isAws && !(error instanceof UserError)) {
    const hint = e.name === "CredentialsProviderError" ? "; set AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an SSO login)" : "";
    throw new UserError(`AWS call failed: ${e.name}: ${e.message}${hint}`);
  }
  throw error;
}
