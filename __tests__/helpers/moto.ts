import { ChildProcess, spawn, spawnSync } from "child_process";
import * as net from "net";

/** Why moto server cannot run here, or undefined when it can. */
export function motoUnavailable(): string | undefined {
  const found = spawnSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" });
  return found.status === 0 ? undefined : "moto_server is not on PATH (pip install 'moto[server]')";
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A running moto server: a real AWS emulator, one account, reached at `endpoint`. */
export interface MotoServer {
  readonly endpoint: string;
  /**
   * The response body of one API call in `region`: Query protocol (`params`
   * as a form, e.g. ec2, iam), or JSON protocol (`target`, e.g.
   * `Logs_20140328.DescribeLogGroups`, with `body`), or a REST GET (`restPath`, e.g. eks).
   */
  call(service: string, region: string, request: { params?: string; target?: string; body?: object; restPath?: string }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts moto server on a free port for `accountId`, with AWS's managed IAM
 * policies loaded (both are read at start), and waits until it answers.
 */
export async function startMoto(accountId: string): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    env: { ...process.env, MOTO_ACCOUNT_ID: accountId, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`moto_server exited (${server.exitCode}) before answering on ${endpoint}`);
    try {
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        server.kill();
        throw new Error(`moto_server did not answer on ${endpoint} within 60 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return {
    endpoint,
    async call(service, region, { params, target, body: json = {}, restPath }) {
      // moto reads the region and service from the credential scope and checks no signature.
      const headers: Record<string, string> = { Authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0` };
      if (target) Object.assign(headers, { "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1" });
      else if (params) headers["Content-Type"] = "application/x-www-form-urlencoded";
      const response = await fetch(`${endpoint}${restPath ?? "/"}`, {
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
      if (server.exitCode === null) server.kill();
      await exited;
    },
  };
}
