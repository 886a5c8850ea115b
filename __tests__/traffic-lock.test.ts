import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import {
  acquireTrafficLock,
  breakTrafficLock,
  fileLockStore,
  holdTrafficLock,
  LockHeldError,
  LockLostError,
  LockStore,
  readTrafficLock,
  releaseTrafficLock,
  renewTrafficLock,
  s3LockStore,
} from "../modules/traffic/traffic-lock";
import { s3Client } from "../modules/traffic/aws-clients";
import { describeWithMoto, Moto, oneRequestAtATime, SerialEndpoint, startMoto } from "./helpers/moto";

/** Faults of the file system for the test at hand: run before the real call, throwing to fail it. */
const mockFileFaults: { write?: (file: string) => void; read?: (file: string) => void; rename?: (from: string) => void; afterRename?: (from: string) => void } = {};
jest.mock("fs", () => {
  const actual = jest.requireActual<typeof import("fs")>("fs");
  return {
    ...actual,
    writeFileSync: (file: fs.PathOrFileDescriptor, data: string, options?: fs.WriteFileOptions) => {
      mockFileFaults.write?.(String(file));
      actual.writeFileSync(file, data, options);
    },
    readFileSync: (file: fs.PathOrFileDescriptor, options?: { encoding?: null; flag?: string } | null) => {
      mockFileFaults.read?.(String(file));
      return actual.readFileSync(file, options);
    },
    renameSync: (from: fs.PathLike, to: fs.PathLike) => {
      mockFileFaults.rename?.(String(from));
      actual.renameSync(from, to);
      mockFileFaults.afterRename?.(String(from));
    },
  };
});
afterEach(() => {
  for (const fault of Object.keys(mockFileFaults)) delete mockFileFaults[fault as keyof typeof mockFileFaults];
});
const fault = (code: string) => () => {
  throw Object.assign(new Error(`${code}: simulated`), { code });
};

const T0 = new Date("2026-12-01T15:00:00.000Z");
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const alice = { owner: "alice@laptop pid 1", reason: "shift --to green --now", leaseSeconds: 300, now: T0 };
const bob = { owner: "bob@ci pid 2", reason: "deploy edge", leaseSeconds: 300, now: later(10) };

/** The same behaviour whatever the store. */
function lockBehaviour(store: () => LockStore) {
  it("refuses a second writer while the lease runs, naming owner, reason, since and expiry", async () => {
    const lease = await acquireTrafficLock(store(), alice);
    expect(lease.holder).toMatchObject({ owner: alice.owner, reason: alice.reason, since: "2026-12-01T15:00:00.000Z", expires: "2026-12-01T15:05:00.000Z" });
    const refused = acquireTrafficLock(store(), bob);
    await expect(refused).rejects.toThrow(LockHeldError);
    await expect(acquireTrafficLock(store(), bob)).rejects.toThrow(
      "the live weights are locked by alice@laptop pid 1 (shift --to green --now) since 2026-12-01T15:00:00.000Z, expires 2026-12-01T15:05:00.000Z: nothing was changed; " +
        'wait for it to finish and run again (npm run status shows the holder; a lock whose holder is dead clears at its expiry: docs/runbooks.md, "Clear a stale traffic lock")',
    );
    expect(await readTrafficLock(store())).toEqual(lease.holder);
  });

  it("gives the lock to the next writer once released, and not before", async () => {
    const lease = await acquireTrafficLock(store(), alice);
    expect(await releaseTrafficLock(store(), lease)).toBe(true);
    expect(await readTrafficLock(store())).toBeUndefined();
    const next = await acquireTrafficLock(store(), bob);
    expect(next.holder.owner).toBe(bob.owner);
    // A stale lease releases nothing: bob's lock stays.
    expect(await releaseTrafficLock(store(), lease)).toBe(false);
    expect((await readTrafficLock(store()))?.owner).toBe(bob.owner);
  });

  it("takes over an expired lease; the old holder's renewal then fails as lost", async () => {
    const old = await acquireTrafficLock(store(), alice);
    const taken = await acquireTrafficLock(store(), { ...bob, now: later(301) });
    expect(taken.holder.owner).toBe(bob.owner);
    await expect(renewTrafficLock(store(), old, 300, later(302))).rejects.toThrow(LockLostError);
    await expect(renewTrafficLock(store(), old, 300, later(302))).rejects.toThrow("now held by bob@ci pid 2 (deploy edge)");
  });

  it("renews its own lease, keeping since", async () => {
    const lease = await acquireTrafficLock(store(), alice);
    const renewed = await renewTrafficLock(store(), lease, 300, later(200));
    expect(renewed.holder).toMatchObject({ since: "2026-12-01T15:00:00.000Z", expires: "2026-12-01T15:08:20.000Z", id: lease.holder.id });
    await expect(acquireTrafficLock(store(), { ...bob, now: later(400) })).rejects.toThrow(LockHeldError);
    // The version before the renewal no longer releases it.
    expect(await releaseTrafficLock(store(), lease)).toBe(false);
    expect(await releaseTrafficLock(store(), renewed)).toBe(true);
  });

  it("breaks only an expired lock when asked for expired only, and any lock otherwise", async () => {
    await acquireTrafficLock(store(), alice);
    await expect(breakTrafficLock(store(), { expiredOnly: true, now: later(10) })).rejects.toThrow(LockHeldError);
    expect((await breakTrafficLock(store(), { expiredOnly: true, now: later(301) }))?.owner).toBe(alice.owner);
    expect(await readTrafficLock(store())).toBeUndefined();
    await acquireTrafficLock(store(), bob);
    expect((await breakTrafficLock(store(), { expiredOnly: false, now: later(20) }))?.owner).toBe(bob.owner);
    expect(await breakTrafficLock(store(), { expiredOnly: false })).toBeUndefined();
  });

  it("lets exactly one of several racing writers in", async () => {
    const writers = Array.from({ length: 6 }, (_, i) => acquireTrafficLock(store(), { ...alice, owner: `writer ${i}` }));
    const results = await Promise.allSettled(writers);
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<{ holder: { owner: string } }>).value.holder.owner;
    for (const r of results.filter((r) => r.status === "rejected")) expect(String((r as PromiseRejectedResult).reason)).toContain(`locked by ${winner}`);
    expect((await readTrafficLock(store()))?.owner).toBe(winner);
  });
}

describe("the lock in a local state folder", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "traffic-lock-"))));
  const store = () => fileLockStore(path.join(dir, "state", "traffic.lock"));
  lockBehaviour(store);

  it("is a JSON file with the holder's fields, and no temporary file is left", async () => {
    const lease = await acquireTrafficLock(store(), alice);
    await renewTrafficLock(store(), lease, 300, later(1));
    expect(fs.readdirSync(path.join(dir, "state"))).toEqual(["traffic.lock"]);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, "state", "traffic.lock"), "utf8")))).toEqual(["owner", "reason", "since", "expires", "id"]);
  });

  it("refuses a file that is not a lock, naming it", async () => {
    fs.mkdirSync(path.join(dir, "state"));
    fs.writeFileSync(path.join(dir, "state", "traffic.lock"), "garbage");
    await expect(acquireTrafficLock(store(), alice)).rejects.toThrow(`${path.join(dir, "state", "traffic.lock")} is not a traffic lock`);
  });

  it("refuses a lock missing a field, or with an expiry that is no time, naming the fields a lock has", async () => {
    const lease = await acquireTrafficLock(store(), alice);
    const file = path.join(dir, "state", "traffic.lock");
    const { id: _id, ...withoutId } = lease.holder;
    for (const broken of [withoutId, { ...lease.holder, expires: "soon" }]) {
      fs.writeFileSync(file, JSON.stringify(broken));
      await expect(readTrafficLock(store())).rejects.toThrow(
        `${file} is not a traffic lock (expected JSON with owner, reason, since, expires, id): look at it and remove it by hand if it is debris`,
      );
    }
  });

  it("ends a lease at its expiry, to the millisecond", async () => {
    await acquireTrafficLock(store(), alice);
    await expect(acquireTrafficLock(store(), { ...bob, now: new Date(later(300).getTime() - 1) })).rejects.toThrow(LockHeldError);
    await expect(acquireTrafficLock(store(), { ...bob, now: later(300) })).resolves.toMatchObject({ holder: { owner: bob.owner } });
  });

  it("passes on a failure to write the lock, rather than reading it as a lock held, and leaves no lock", async () => {
    mockFileFaults.write = fault("ENOSPC");
    await expect(acquireTrafficLock(store(), alice)).rejects.toThrow("ENOSPC: simulated");
    delete mockFileFaults.write;
    expect(await readTrafficLock(store())).toBeUndefined();
  });

  it("passes on a failure to read the lock other than its absence", async () => {
    await acquireTrafficLock(store(), alice);
    mockFileFaults.read = fault("EIO");
    await expect(readTrafficLock(store())).rejects.toThrow("EIO: simulated");
    await expect(acquireTrafficLock(store(), bob)).rejects.toThrow("EIO: simulated");
  });

  it("passes on a failure to move the lock aside other than its absence, and keeps the lock", async () => {
    const lease = await acquireTrafficLock(store(), alice);
    mockFileFaults.rename = fault("EACCES");
    await expect(releaseTrafficLock(store(), lease)).rejects.toThrow("EACCES: simulated");
    await expect(renewTrafficLock(store(), lease, 300, later(1))).rejects.toThrow("EACCES: simulated");
    delete mockFileFaults.rename;
    expect(await readTrafficLock(store())).toEqual(lease.holder);
  });

  it("leaves alone a lock renewed or taken over since it was read, moving nothing aside", async () => {
    const stale = await acquireTrafficLock(store(), alice);
    const current = await renewTrafficLock(store(), stale, 300, later(1));
    mockFileFaults.rename = fault("EACCES");
    expect(await releaseTrafficLock(store(), stale)).toBe(false);
    await expect(renewTrafficLock(store(), stale, 300, later(2))).rejects.toThrow(LockLostError);
    expect(await readTrafficLock(store())).toEqual(current.holder);
  });

  it("puts back a lock that changed between the read and the move aside, or keeps one created in that moment, leaving no other file", async () => {
    const file = path.join(dir, "state", "traffic.lock");
    const lockOf = (owner: string) => JSON.stringify({ ...alice, owner, since: T0.toISOString(), expires: later(300).toISOString(), id: owner });
    const lease = await acquireTrafficLock(store(), alice);
    // Another writer replaces the lock just before it is moved aside.
    mockFileFaults.rename = () => {
      delete mockFileFaults.rename;
      fs.writeFileSync(file, lockOf("carol"));
    };
    expect(await releaseTrafficLock(store(), lease)).toBe(false);
    expect((await readTrafficLock(store()))?.owner).toBe("carol");
    expect(fs.readdirSync(path.join(dir, "state"))).toEqual(["traffic.lock"]);

    // The lock read is replaced, then, once it is aside, a new one is created: the new one stays.
    const carol = await readTrafficLock(store());
    const carolsVersion = (await store().read())!.version;
    mockFileFaults.rename = () => {
      delete mockFileFaults.rename;
      fs.writeFileSync(file, lockOf("dave"));
    };
    mockFileFaults.afterRename = () => {
      delete mockFileFaults.afterRename;
      fs.writeFileSync(file, lockOf("erin"), { flag: "wx" });
    };
    expect(await releaseTrafficLock(store(), { holder: carol!, version: carolsVersion })).toBe(false);
    expect((await readTrafficLock(store()))?.owner).toBe("erin");
    expect(fs.readdirSync(path.join(dir, "state"))).toEqual(["traffic.lock"]);
  });

  it("reads a lock gone before it could be moved aside as nothing removed", async () => {
    const lease = await acquireTrafficLock(store(), alice);
    // Removed by another writer between the read and the move aside.
    mockFileFaults.rename = (from) => fs.rmSync(from);
    expect(await releaseTrafficLock(store(), lease)).toBe(false);
  });

  it("breaks nothing when the lock changes while it is being removed, and says so", async () => {
    await acquireTrafficLock(store(), alice);
    const file = path.join(dir, "state", "traffic.lock");
    mockFileFaults.rename = () => {
      delete mockFileFaults.rename;
      fs.writeFileSync(file, JSON.stringify({ owner: bob.owner, reason: bob.reason, since: later(10).toISOString(), expires: later(310).toISOString(), id: "bob" }));
    };
    await expect(breakTrafficLock(store(), { expiredOnly: false })).rejects.toThrow(
      `the traffic lock at ${file} changed while it was being removed: nothing was removed; look again`,
    );
    expect((await readTrafficLock(store()))?.owner).toBe(bob.owner);
  });

  it("holdTrafficLock renews while the work runs, releases after, and stops the work once the lease is lost", async () => {
    const seen: string[] = [];
    await holdTrafficLock(store(), { owner: alice.owner, reason: alice.reason, leaseSeconds: 60, renewEveryMs: 20 }, async (assertHeld) => {
      const first = (await readTrafficLock(store()))!.expires;
      await new Promise((resolve) => setTimeout(resolve, 120));
      assertHeld();
      seen.push(first, (await readTrafficLock(store()))!.expires);
    });
    expect(seen[1] > seen[0]).toBe(true);
    expect(await readTrafficLock(store())).toBeUndefined();

    const work = holdTrafficLock(store(), { owner: alice.owner, reason: alice.reason, leaseSeconds: 60, renewEveryMs: 20 }, async (assertHeld) => {
      await breakTrafficLock(store(), { expiredOnly: false });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assertHeld();
    });
    await expect(work).rejects.toThrow("is no longer held by this command (it was removed)");
  });

  it("holdTrafficLock releases a lease whose renewal failed for a passing reason, once the work has stopped", async () => {
    let failures = 1;
    const flaky: LockStore = { ...store(), replace: (text, version) => (failures-- > 0 ? Promise.reject(new Error("the store did not answer")) : store().replace(text, version)) };
    const work = holdTrafficLock(flaky, { owner: alice.owner, reason: alice.reason, leaseSeconds: 60, renewEveryMs: 20 }, async (assertHeld) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      assertHeld();
    });
    await expect(work).rejects.toThrow("the store did not answer");
    expect(await readTrafficLock(store())).toBeUndefined();
  });

  it("holdTrafficLock releases its lock at the version of a renewal whose answer was lost", async () => {
    let lostAnswers = 1;
    const lossy: LockStore = {
      ...store(),
      replace: async (text, version) => {
        const written = await store().replace(text, version);
        if (lostAnswers-- > 0) throw new Error("the answer was lost");
        return written;
      },
    };
    const work = holdTrafficLock(lossy, { owner: alice.owner, reason: alice.reason, leaseSeconds: 60, renewEveryMs: 20 }, async (assertHeld) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      assertHeld();
    });
    await expect(work).rejects.toThrow("the answer was lost");
    expect(await readTrafficLock(store())).toBeUndefined();
  });

  it("holdTrafficLock renews while the work runs, at an interval set by the lease unless told, and a lost lease releases nothing of the next holder's", async () => {
    let renewals = 0;
    const counting: LockStore = { ...store(), replace: (text, version) => (renewals++, store().replace(text, version)) };
    // A lease of 0.3 s: renewed every 100 ms while the work runs for a second.
    await holdTrafficLock(counting, { owner: alice.owner, reason: alice.reason, leaseSeconds: 0.3 }, () => new Promise((resolve) => setTimeout(resolve, 1000)));
    expect(renewals).toBeGreaterThanOrEqual(3);
    expect(renewals).toBeLessThanOrEqual(12);

    const work = holdTrafficLock(store(), { owner: alice.owner, reason: alice.reason, leaseSeconds: 60, renewEveryMs: 20 }, async (assertHeld) => {
      await breakTrafficLock(store(), { expiredOnly: false });
      await acquireTrafficLock(store(), bob);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assertHeld();
    });
    await expect(work).rejects.toThrow(LockLostError);
    expect((await readTrafficLock(store()))?.owner).toBe(bob.owner);
  });

  it("holdTrafficLock gives the work's outcome when the release fails, leaving the lock to its expiry", async () => {
    const unreachable: LockStore = { ...store(), remove: () => Promise.reject(new Error("the store is unreachable")) };
    await expect(holdTrafficLock(unreachable, { owner: alice.owner, reason: alice.reason, leaseSeconds: 60 }, async () => "shifted")).resolves.toBe("shifted");
    expect((await readTrafficLock(store()))?.owner).toBe(alice.owner);
  });
});

describeWithMoto("the lock in an S3 bucket (moto_server)", () => {
  let moto: Moto;
  let serial: SerialEndpoint;
  let client: S3Client;
  let bucket = 0;
  beforeAll(async () => {
    moto = await startMoto();
    // Racing writers meet S3's conditional writes, each made at once, which moto's threads are not.
    serial = await oneRequestAtATime(moto.url);
    client = new S3Client({ region: "eu-west-1", endpoint: serial.url, forcePathStyle: true, credentials: { accessKeyId: "AKIAMOTO", secretAccessKey: "moto" } });
  }, 90_000);
  afterAll(async () => {
    client?.destroy();
    await serial?.close();
    await moto?.stop();
  });
  let name: string;
  beforeEach(async () => {
    name = `state-${++bucket}`;
    await client.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
  });
  const store = () => s3LockStore(client, name, "demo/traffic.lock");
  lockBehaviour(store);

  it("is an object beside the state holding the holder's fields", async () => {
    const lease = await acquireTrafficLock(store(), alice);
    const object = await client.send(new GetObjectCommand({ Bucket: name, Key: "demo/traffic.lock" }));
    expect(JSON.parse(await object.Body!.transformToString())).toEqual(lease.holder);
    expect(object.ContentType).toBe("application/json");
    expect(store().location).toBe(`s3://${name}/demo/traffic.lock`);
  });

  it("is reached through the commands' S3 client at an endpoint named by host name, the bucket in the path", async () => {
    const variables = ["AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
    const saved = Object.fromEntries(variables.map((variable) => [variable, process.env[variable]]));
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: moto.url.replace("127.0.0.1", "localhost"), AWS_ACCESS_KEY_ID: "AKIAMOTO", AWS_SECRET_ACCESS_KEY: "moto" });
    const commands = await s3Client("eu-west-1");
    try {
      const lease = await acquireTrafficLock(s3LockStore(commands, name, "demo/traffic.lock"), alice);
      expect(await readTrafficLock(store())).toEqual(lease.holder);
    } finally {
      commands.destroy();
      for (const variable of variables) {
        if (saved[variable] === undefined) delete process.env[variable];
        else process.env[variable] = saved[variable];
      }
    }
  });
});

/** An S3 endpoint answering every request with one error, worded as S3 words it. */
async function s3Answering(status: number, code: string): Promise<{ client: S3Client; close: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(status, { "Content-Type": "application/xml" });
      response.end(request.method === "HEAD" ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code}</Message><RequestId>1</RequestId></Error>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const client = new S3Client({ region: "eu-west-1", endpoint, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: "AKIATEST", secretAccessKey: "test" } });
  return { client, close: () => new Promise((resolve) => (client.destroy(), server.close(() => resolve()))) };
}

describe("the lock in an S3 bucket, when S3 answers with an error", () => {
  it("passes on a refusal that is no lost race (access denied) from every call, rather than reading it as a lock held or lost", async () => {
    const s3 = await s3Answering(403, "AccessDenied");
    try {
      const store = s3LockStore(s3.client, "state", "demo/traffic.lock");
      await expect(store.create("{}")).rejects.toMatchObject({ name: "AccessDenied" });
      await expect(store.replace("{}", '"v1"')).rejects.toMatchObject({ name: "AccessDenied" });
      await expect(store.read()).rejects.toMatchObject({ name: "AccessDenied" });
      await expect(store.remove('"v1"')).rejects.toMatchObject({ name: "AccessDenied" });
      await expect(acquireTrafficLock(store, alice)).rejects.toMatchObject({ name: "AccessDenied" });
    } finally {
      await s3.close();
    }
  });

  it.each([
    [412, "PreconditionFailed"],
    [409, "ConditionalRequestConflict"],
    [404, "NoSuchKey"],
  ])("reads %i %s on a conditional write as a lost race: nothing created, replaced or removed", async (status, code) => {
    const s3 = await s3Answering(status, code);
    try {
      const store = s3LockStore(s3.client, "state", "demo/traffic.lock");
      expect(await store.create("{}")).toBeUndefined();
      expect(await store.replace("{}", '"v1"')).toBeUndefined();
      expect(await store.remove('"v1"')).toBe(false);
    } finally {
      await s3.close();
    }
  });

  it("reads a missing object as a free lock, and any other missing thing (the bucket) as an error", async () => {
    const missingKey = await s3Answering(404, "NoSuchKey");
    const missingBucket = await s3Answering(404, "NoSuchBucket");
    try {
      expect(await s3LockStore(missingKey.client, "state", "demo/traffic.lock").read()).toBeUndefined();
      const noBucket = s3LockStore(missingBucket.client, "state", "demo/traffic.lock");
      await expect(noBucket.read()).rejects.toMatchObject({ name: "NoSuchBucket" });
      await expect(noBucket.create("{}")).rejects.toMatchObject({ name: "NoSuchBucket" });
      await expect(noBucket.replace("{}", '"v1"')).rejects.toMatchObject({ name: "NoSuchBucket" });
      await expect(noBucket.remove('"v1"')).rejects.toMatchObject({ name: "NoSuchBucket" });
      await expect(acquireTrafficLock(s3LockStore(missingBucket.client, "state", "demo/traffic.lock"), alice)).rejects.toMatchObject({ name: "NoSuchBucket" });
    } finally {
      await missingKey.close();
      await missingBucket.close();
    }
  });
});
