import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { S3Client } from "@aws-sdk/client-s3";
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

/** Seconds one attempt of an AWS call may take, unless AWS_CALL_TIMEOUT_SECONDS says otherwise. */
export const DEFAULT_CALL_TIMEOUT_SECONDS = 10;
/** What AWS_CALL_TIMEOUT_SECONDS accepts. */
const CALL_TIMEOUT_BOUNDS = { min: 1, max: 300 } as const;

/** Seconds per attempt: AWS_CALL_TIMEOUT_SECONDS, or {@link DEFAULT_CALL_TIMEOUT_SECONDS}. */
function callTimeoutSeconds(): number {
  const text = process.env.AWS_CALL_TIMEOUT_SECONDS;
  if (text === undefined || text === "") return DEFAULT_CALL_TIMEOUT_SECONDS;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < CALL_TIMEOUT_BOUNDS.min || seconds > CALL_TIMEOUT_BOUNDS.max) {
    throw new UserError(`AWS_CALL_TIMEOUT_SECONDS=${text} must be a whole number of seconds from ${CALL_TIMEOUT_BOUNDS.min} to ${CALL_TIMEOUT_BOUNDS.max}`);
  }
  return seconds;
}

/** A client's stack of middleware, as far as naming the endpoint of a failed call needs it. */
interface MiddlewareStackOwner {
  readonly middlewareStack: {
    // `never`: the SDK's own middleware types come from a package the project does not depend on directly.
    add(middleware: never, options: { step: "initialize"; name: string }): void;
  };
}

/** What the SDK knows about a call when it fails. */
interface CallContext {
  readonly commandName?: string;
  readonly endpointV2?: { readonly url?: URL };
}

/** A failed call's name and endpoint, added to the SDK's error. */
interface FailedCall {
  /** The API action, such as `ModifyRule`. */
  readonly awsOperation?: string;
  /** The URL the call went to. */
  readonly awsEndpoint?: string;
  readonly timeoutSeconds?: number;
}

/**
 * Client settings shared by every AWS client of the commands: a connection and
 * request timeout on each attempt (the SDK has none by default, so a hung
 * endpoint would hang the command), and the SDK's standard retries, which are
 * bounded (3 attempts, or AWS_MAX_ATTEMPTS).
 */
function clientSettings(region: string) {
  const timeoutMs = callTimeoutSeconds() * 1000;
  return { region, requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true } };
}

/** Makes every failure of the client's calls carry the call's name and endpoint, for {@link rethrowAwsError}. */
function namingFailedCalls<Client extends MiddlewareStackOwner>(client: Client): Client {
  const timeoutSeconds = callTimeoutSeconds();
  const middleware = (next: (args: unknown) => Promise<unknown>, context: CallContext) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (error) {
      if (typeof error === "object" && error !== null) {
        const failed: FailedCall = { awsOperation: context.commandName?.replace(/Command$/, ""), awsEndpoint: context.endpointV2?.url?.href, timeoutSeconds };
        Object.assign(error, failed);
      }
      throw error;
    }
  };
  client.middlewareStack.add(middleware as never, { step: "initialize", name: "namingFailedCalls" });
  return client;
}

/**
 * ELBv2 client for the fleet's region. Credentials and endpoints come from the
 * SDK's standard settings (AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL,
 * AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2, ...).
 */
export async function elbClient(fleet: FleetConfig): Promise<ElasticLoadBalancingV2Client> {
  const { ElasticLoadBalancingV2Client } = await import("@aws-sdk/client-elastic-load-balancing-v2");
  return namingFailedCalls(new ElasticLoadBalancingV2Client(clientSettings(fleetRegion(fleet))));
}

/** CloudWatch client for the fleet's region (AWS_ENDPOINT_URL_CLOUDWATCH and the other standard settings apply). */
export async function cloudWatchClient(fleet: FleetConfig): Promise<CloudWatchClient> {
  const { CloudWatchClient } = await import("@aws-sdk/client-cloudwatch");
  return namingFailedCalls(new CloudWatchClient(clientSettings(fleetRegion(fleet))));
}

/** CloudWatch Logs client for the fleet's region (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS and the other standard settings apply). */
export async function logsClient(fleet: FleetConfig): Promise<CloudWatchLogsClient> {
  const { CloudWatchLogsClient } = await import("@aws-sdk/client-cloudwatch-logs");
  return namingFailedCalls(new CloudWatchLogsClient(clientSettings(fleetRegion(fleet))));
}

/**
 * S3 client for a region (the state bucket's; AWS_ENDPOINT_URL_S3 and the
 * other standard settings apply). A custom endpoint (an emulator, an endpoint
 * by host name) takes the bucket in the path, where a host name of its own
 * would not resolve.
 */
export async function s3Client(region: string): Promise<S3Client> {
  const { S3Client } = await import("@aws-sdk/client-s3");
  const forcePathStyle = Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
  return namingFailedCalls(new S3Client({ ...clientSettings(region), forcePathStyle }));
}

/** True for an SDK error of a call that got no answer in time. */
function isTimeout(error: { name?: string; code?: string }): boolean {
  return error.name === "TimeoutError" || error.code === "ETIMEDOUT";
}

/** STS client for the fleet's region, with the commands' time limits (AWS_ENDPOINT_URL_STS and the other standard settings apply). */
export async function stsClient(fleet: FleetConfig): Promise<STSClient> {
  const { STSClient } = await import("@aws-sdk/client-sts");
  return namingFailedCalls(new STSClient(clientSettings(fleetRegion(fleet))));
}

/**
 * What went wrong in an AWS call (a refused call, missing credentials, an
 * endpoint that cannot be reached or does not answer in time), naming the call
 * and its endpoint; undefined for an error that is not an AWS failure.
 */
export function describeAwsFailure(error: unknown): string | undefined {
  const e = error as ({ name?: string; message?: string; $metadata?: { attempts?: number }; code?: string } & FailedCall) | undefined;
  const isAws =
    e !== undefined && (e.$metadata !== undefined || e.awsOperation !== undefined || e.name === "CredentialsProviderError" || /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET)$/.test(e.code ?? ""));
  if (!isAws || error instanceof UserError) return undefined;
  const call = e.awsOperation ? `${e.awsOperation}${e.awsEndpoint ? ` to ${e.awsEndpoint}` : ""}` : undefined;
  const attempts = e.$metadata?.attempts ?? 1;
  if (isTimeout(e) && call) {
    return (
      `AWS call ${call} got no answer within ${e.timeoutSeconds} s (${attempts} attempt${attempts === 1 ? "" : "s"}): the endpoint hangs or is unreachable; ` +
      "check AWS_ENDPOINT_URL and the network (AWS_CALL_TIMEOUT_SECONDS sets the time per attempt, AWS_MAX_ATTEMPTS the attempts)"
    );
  }
  const hint = e.name === "CredentialsProviderError" ? "; set AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an SSO login)" : "";
  return `AWS call failed: ${e.name}: ${e.message}${call ? ` (${call})` : ""}${hint}`;
}

/** Rethrows an AWS failure as a {@link UserError} saying what went wrong ({@link describeAwsFailure}); other errors as they are. */
export function rethrowAwsError(error: unknown): never {
  const failure = describeAwsFailure(error);
  throw failure === undefined ? error : new UserError(failure);
}

/** What went wrong, for a message: an AWS failure described, any other error's message. */
export function failureText(error: unknown): string {
  return describeAwsFailure(error) ?? (error as Error).message;
}
