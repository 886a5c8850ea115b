import { ChildProcess, spawn, spawnSync } from "child_process";
import * as net from "net";

/** Why moto_server cannot run here, or undefined when it can. */
export const motoUnavailable: string | undefined = (() => {
  const probe = spawnSync("moto_server", ["--help"], { encoding: "utf8" });
  return probe.error || probe.status !== 0 ? `moto_server is not on PATH (${probe.error?.message ?? `exit ${probe.status}`}): pip install "moto[server]" to run these checks` : undefined;
})();

/** A moto_server (the AWS emulator) on a free loopback port. */
export interface Moto {
  readonly url: string;
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
  for (let waited = 0; waited < 20_000; waited += 100) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      await fetch(`${url}/moto-api/`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`moto_server did not answer at ${url} within 20 s`);
}

/** Starts moto_server on a free 127.0.0.1 port and waits until it answers. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await answering(url, child);
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
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
