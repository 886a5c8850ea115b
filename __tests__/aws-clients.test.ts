import * as net from "net";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { parseFleetConfig } from "../modules/config/load";
import { UserError } from "../modules/support/user-error";
import { cloudWatchClient, describeAwsFailure, elbClient, failureText, logsClient, rethrowAwsError, s3Client, stsClient } from "../modules/traffic/aws-clients";
import { exampleSources } from "./helpers/fleet";

/**
 * The settings every AWS client of the commands shares (region, time per
 * attempt, the failed call named) and the words of a failure, in process.
 */
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});
const fleet = () => parseFleetConfig(exampleSources());

describe("the fleet's region", () => {
  const clients = { elbClient, cloudWatchClient, logsClient, stsClient };

  it.each(Object.entries(clients))("%s is in the fleet's region, and AWS_REGION or AWS_DEFAULT_REGION may only agree", async (_, make) => {
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    expect(await (await make(fleet())).config.region()).toBe("eu-west-1");
    Object.assign(process.env, { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "" });
    expect(await (await make(fleet())).config.region()).toBe("eu-west-1");
    process.env.AWS_REGION = "us-east-1";
    await expect(make(fleet())).rejects.toThrow(new UserError("AWS_REGION=us-east-1 but the fleet is in eu-west-1 (platform.yaml: region); unset it or set it to eu-west-1"));
    Object.assign(process.env, { AWS_REGION: "", AWS_DEFAULT_REGION: "us-west-2" });
    await expect(make(fleet())).rejects.toThrow(new UserError("AWS_DEFAULT_REGION=us-west-2 but the fleet is in eu-west-1 (platform.yaml: region); unset it or set it to eu-west-1"));
  });

  it("of the state bucket is the one asked for, with the bucket in the path only at a custom endpoint", async () => {
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_S3;
    const plain = await s3Client("us-east-2");
    expect([await plain.config.region(), plain.config.forcePathStyle]).toEqual(["us-east-2", false]);
    process.env.AWS_ENDPOINT_URL = "http://localhost:4566";
    expect((await s3Client("us-east-2")).config.forcePathStyle).toBe(true);
    delete process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL_S3 = "http://localhost:4566";
    expect((await s3Client("us-east-2")).config.forcePathStyle).toBe(true);
  });
});

describe("AWS_CALL_TIMEOUT_SECONDS", () => {
  it.each(["0", "301", "1.5", "ten", "-3"])("refuses %j, naming what it takes", async (value) => {
    process.env.AWS_CALL_TIMEOUT_SECONDS = value;
    await expect(elbClient(fleet())).rejects.toThrow(new UserError(`AWS_CALL_TIMEOUT_SECONDS=${value} must be a whole number of seconds from 1 to 300`));
    await expect(s3Client("eu-west-1")).rejects.toThrow(`AWS_CALL_TIMEOUT_SECONDS=${value} must be`);
  });

  it.each([
    ["1", 1],
    ["300", 300],
    ["", 10],
    [undefined, 10],
  ])("%j sets %i s per attempt, to connect and to answer", async (value, seconds) => {
    if (value === undefined) delete process.env.AWS_CALL_TIMEOUT_SECONDS;
    else process.env.AWS_CALL_TIMEOUT_SECONDS = value;
    const client = await elbClient(fleet());
    // The settings the SDK's HTTP handler was made with (not part of the client's typed configuration).
    const handler = client.config.requestHandler as unknown as { configProvider: Promise<{ requestTimeout: number; connectionTimeout: number }> };
    expect(await handler.configProvider).toMatchObject({ requestTimeout: seconds * 1000, connectionTimeout: seconds * 1000 });
  });

  it("ends an attempt at an endpoint that never answers, and the failure names the call, the endpoint, the time and the attempts", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    Object.assign(process.env, { AWS_ENDPOINT_URL: url, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_CALL_TIMEOUT_SECONDS: "1", AWS_MAX_ATTEMPTS: "1" });
    try {
      const failure = await (await elbClient(fleet())).send(new DescribeLoadBalancersCommand({})).catch((error: unknown) => error);
      expect(describeAwsFailure(failure)).toBe(
        `AWS call DescribeLoadBalancers to ${url}/ got no answer within 1 s (1 attempt): the endpoint hangs or is unreachable; ` +
          "check AWS_ENDPOINT_URL and the network (AWS_CALL_TIMEOUT_SECONDS sets the time per attempt, AWS_MAX_ATTEMPTS the attempts)",
      );
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 15_000);
});

describe("the words of a failure", () => {
  const call = { awsOperation: "ModifyRule", awsEndpoint: "https://elasticloadbalancing.eu-west-1.amazonaws.com/", timeoutSeconds: 10 };

  it("names a refused call, its operation and endpoint", () => {
    const refused = Object.assign(new Error("not authorized"), { name: "AccessDenied", $metadata: { httpStatusCode: 403, attempts: 1 }, ...call });
    expect(describeAwsFailure(refused)).toBe("AWS call failed: AccessDenied: not authorized (ModifyRule to https://elasticloadbalancing.eu-west-1.amazonaws.com/)");
    expect(describeAwsFailure({ ...refused, message: "not authorized", awsEndpoint: undefined })).toBe("AWS call failed: AccessDenied: not authorized (ModifyRule)");
  });

  it("counts the attempts of a timeout", () => {
    const timedOut = (attempts: number | undefined) => ({ name: "TimeoutError", message: "timed out", $metadata: { attempts }, ...call });
    expect(describeAwsFailure(timedOut(3))).toMatch(/^AWS call ModifyRule to https:\/\/elasticloadbalancing\.eu-west-1\.amazonaws\.com\/ got no answer within 10 s \(3 attempts\): /);
    expect(describeAwsFailure(timedOut(undefined))).toContain("within 10 s (1 attempt):");
    // Named by this project's clients before the SDK gave it a $metadata.
    expect(describeAwsFailure({ name: "TimeoutError", message: "timed out", ...call })).toContain("AWS call ModifyRule to https://elasticloadbalancing.eu-west-1.amazonaws.com/ got no answer within 10 s (1 attempt):");
    expect(describeAwsFailure({ ...timedOut(2), name: "Error", code: "ETIMEDOUT" })).toContain("within 10 s (2 attempts):");
    // Without the call's name (a client not made here), a timeout is a failure like another.
    expect(describeAwsFailure({ name: "TimeoutError", message: "timed out", $metadata: {} })).toBe("AWS call failed: TimeoutError: timed out");
  });

  it("says how to give credentials when there are none", () => {
    expect(describeAwsFailure(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }))).toBe(
      "AWS call failed: CredentialsProviderError: Could not load credentials from any providers; set AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an SSO login)",
    );
  });

  it.each(["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET"])("takes a network error %s as an AWS failure", (code) => {
    expect(describeAwsFailure(Object.assign(new Error(`connect ${code}`), { code }))).toBe(`AWS call failed: Error: connect ${code}`);
  });

  it("leaves alone what is no AWS failure: another error, a user error, a code that is no network error", () => {
    expect(describeAwsFailure(new Error("boom"))).toBeUndefined();
    expect(describeAwsFailure(Object.assign(new Error("boom"), { code: "EACCES" }))).toBeUndefined();
    expect(describeAwsFailure(Object.assign(new Error("ECONNREFUSED later"), { code: "XECONNREFUSED" }))).toBeUndefined();
    expect(describeAwsFailure(Object.assign(new Error("ECONNRESET later"), { code: "ECONNRESETX" }))).toBeUndefined();
    expect(describeAwsFailure(Object.assign(new UserError("refused"), { $metadata: {} }))).toBeUndefined();
    expect(describeAwsFailure(undefined)).toBeUndefined();
  });

  it("rethrows an AWS failure as a user error saying it, anything else as it is", () => {
    const refused = Object.assign(new Error("not authorized"), { name: "AccessDenied", $metadata: {}, ...call });
    expect(() => rethrowAwsError(refused)).toThrow(new UserError("AWS call failed: AccessDenied: not authorized (ModifyRule to https://elasticloadbalancing.eu-west-1.amazonaws.com/)"));
    const other = new Error("boom");
    expect(() => rethrowAwsError(other)).toThrow(other);
    expect(failureText(refused)).toBe("AWS call failed: AccessDenied: not authorized (ModifyRule to https://elasticloadbalancing.eu-west-1.amazonaws.com/)");
    expect(failureText(other)).toBe("boom");
  });
});
