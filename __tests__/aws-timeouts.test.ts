import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { writeConfigProject } from "../scripts/lib/config-project";
import { AwsStandIn, worldOf } from "../scripts/lib/aws-stand-in";
import { parseFleetConfig } from "../modules/config/load";
import { exampleSources } from "./helpers/fleet";
import { runScriptAsync } from "./helpers/run-async";
import { STACK_TRACE } from "./helpers/stack-trace";

/**
 * Every AWS call has a timeout and bounded retries: the real SDK against an
 * endpoint that accepts connections and never answers, and against the
 * stand-in hanging one chosen call.
 */
const example = exampleSources();
const fleet = parseFleetConfig(example);
/** One second per attempt, two attempts: a hang costs seconds here, not minutes. */
const FAST_TIMEOUTS = { AWS_CALL_TIMEOUT_SECONDS: "1", AWS_MAX_ATTEMPTS: "2" };

let silent: net.Server;
let silentUrl: string;
const sockets = new Set<net.Socket>();
beforeAll(async () => {
  silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await new Promise((resolve) => silent.close(resolve));
});

function environment(endpoint: string): NodeJS.ProcessEnv {
  const standIn = new AwsStandIn(worldOf(fleet));
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment(), AWS_ENDPOINT_URL: endpoint, ...FAST_TIMEOUTS };
}

describe("an endpoint that accepts and never answers", () => {
  it("status ends with an error naming the endpoint and the call, in seconds", async () => {
    const project = writeConfigProject(example);
    const started = Date.now();
    const result = await runScriptAsync("scripts/status.ts", ["--config-dir", project], { env: environment(silentUrl) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`DescribeLoadBalancers to ${silentUrl}/ got no answer within 1 s (2 attempts)`);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 20_000);

  it("shift --now ends with the same error and changes no file", async () => {
    const project = writeConfigProject(example);
    const result = await runScriptAsync("scripts/shift.ts", ["--config-dir", project, "--to", "green", "--now"], { env: environment(silentUrl) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`got no answer within 1 s (2 attempts)`);
    expect(result.stderr).toContain(silentUrl);
    for (const source of example.clusters) expect(fs.readFileSync(path.join(project, source.file), "utf8")).toBe(source.text);
  }, 20_000);
});

describe("one call hanging on the stand-in", () => {
  it("a hung ModifyRule is retried, then reported as a timeout naming ModifyRule", async () => {
    const standIn = new AwsStandIn(worldOf(fleet));
    await standIn.start();
    try {
      standIn.faults.set("ModifyRule", { hang: true });
      const project = writeConfigProject(example);
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...standIn.environment(), ...FAST_TIMEOUTS };
      const result = await runScriptAsync("scripts/shift.ts", ["--config-dir", project, "--to", "green", "--now"], { env });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`ModifyRule to ${standIn.url}/ got no answer within 1 s (2 attempts)`);
    } finally {
      await standIn.stop();
    }
  }, 20_000);
});
