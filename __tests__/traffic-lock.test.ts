import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import * as fs from "fs";
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
import { describeWithMoto, Moto, startMoto } from "./helpers/moto";

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
      "the live weights are locked by alice@laptop pid 1 (shift --to green --now) since 2026-12-01T15:00:00.000Z, expires 2026-12-01T15:05:00.000Z: nothing was changed",
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

  it("holdTrafficLock renews while the work runs, releases after, and stops the work once the lease is lost", async () => {
    const seen: string[] = [];
    await holdTrafficLock(store(), { owner: alice.owner, reason: alice.reason, leaseSeconds: 60, renewEveryMs: 20 }, async () => {
      const first = (await readTrafficLock(store()))!.expires;
      await new Promise((resolve) => setTimeout(resolve, 120));
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
});

describeWithMoto("the lock in an S3 bucket (moto_server)", () => {
  let moto: Moto;
  let client: S3Client;
  let bucket = 0;
  beforeAll(async () => {
    moto = await startMoto();
    client = new S3Client({ region: "eu-west-1", endpoint: moto.url, forcePathStyle: true, credentials: { accessKeyId: "AKIAMOTO", secretAccessKey: "moto" } });
  }, 30_000);
  afterAll(() => moto?.stop());
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
    expect(store().location).toBe(`s3://${name}/demo/traffic.lock`);
  });
});
