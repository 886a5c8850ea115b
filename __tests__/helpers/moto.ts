import { ChildProcess, spawn, spawnSync } from "child_process";
import * as http from "http";
import * as net from "net";

/** Why moto_server cannot run here, or undefined when it can. */
export const motoUnavailable: string | undefined = (() => {
  const probe = spawnSync("moto_server", ["--help"], { encoding: "utf8" });
  return probe.error || probe.status !== 0 ? `moto_server is not on PATH (${probe.error?.message ?? `exit ${probe.status}`}): pip install "moto[server]" to run these checks` : undefined;
})();

/** A running moto_server (the AWS emulator) on a free loopback port. */
export interface Moto {
  readonly url: string;
  /**
   * The response body of one API call in `region`: Query protocol (`params`
   * as a form, e.g. ec2, iam), or JSON protocol (`target`, e.g.
   * `Logs_20140328.DescribeLogGroups`, with `body`), or a REST GET (`restPath`, e.g. eks).
   */
  call(service: string, region: string, request: { params?: string; target?: string; body?: object; restPath?: string }): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function answering(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}) before answering on ${url}`);
    try {
      await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      if (Date.now() > deadline) {
        child.kill();
        throw new Error(`moto_server did not answer on ${url} within 60 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Starts moto_server on a free 127.0.0.1 port and waits until it answers;
 * with `accountId`, as that account with AWS's managed IAM policies loaded
 * (both are read at start).
 */
export async function startMoto(accountId?: string): Promise<Moto> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = accountId ? { ...process.env, MOTO_ACCOUNT_ID: accountId, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" } : process.env;
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { env, stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await answering(url, child);
  return {
    url,
    async call(service, region, { params, target, body: json = {}, restPath }) {
      // moto reads the region and service from the credential scope and checks no signature.
      const headers: Record<string, string> = { Authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0` };
      if (target) Object.assign(headers, { "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1" });
      else if (params) headers["Content-Type"] = "application/x-www-form-urlencoded";
      const response = await fetch(`${url}${restPath ?? "/"}`, {
        method: restPath ? "GET" : "POST",
        headers,
        body: restPath ? undefined : target ? JSON.stringify(json) : params,
        signal: AbortSignal.timeout(60_000),
      });
      const body = await response.text();
      if (!response.ok) throw new Error(`moto ${service} ${target ?? params ?? restPath}: HTTP ${response.status}: ${body.slice(0, 300)}`);
      return body;
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * A describe block of checks against moto_server. Where it is missing, jest
 * reports the block skipped and the reason is printed, never passed silently.
 */
export function describeWithMoto(title: string, body: () => void): void {
  if (motoUnavailable) {
    console.warn(`SKIPPED "${title}": ${motoUnavailable}`);
    describe.skip(`${title} (skipped: ${motoUnavailable})`, body);
    return;
  }
  describe(title, body);
}

/** A local endpoint in front of another, see {@link oneRequestAtATime}. */
export interface SerialEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * An endpoint that forwards each request to `target` only once the one
 * before it was answered. moto_server answers on several threads and checks
 * a conditional write (`If-None-Match: *`, `If-Match`) apart from making it,
 * so two racing writes can both pass the check; S3 makes each conditional
 * write at once. In front of moto, racing writers meet S3's behaviour.
 */
export async function oneRequestAtATime(target: string): Promise<SerialEndpoint> {
  const upstream = new URL(target);
  let previous: Promise<void> = Promise.resolve();
  const forward = (request: http.IncomingMessage, body: Buffer, response: http.ServerResponse) =>
    new Promise<void>((resolve) => {
      const sent = http.request({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        answer.on("close", resolve);
      });
      sent.on("error", (error) => {
        if (response.headersSent) response.destroy(error);
        else response.writeHead(502).end(error.message);
        resolve();
      });
      sent.end(body);
    });
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => (previous = previous.then(() => forward(request, Buffer.concat(chunks), response))));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
