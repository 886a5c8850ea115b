import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash, randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { FleetConfig } from "../config/load";
import { lockLocationOf } from "../config/lock-location";
import { UserError } from "../support/user-error";

/**
 * The lease lock on a fleet's live weights: one writer at a time (a shift, a
 * progressive shift, a deploy of the edge, a retirement, an automatic
 * failover). It lives where the fleet's state lives: an S3 object beside the
 * state, written with conditional requests, or a file in the local state
 * folder created exclusively. A lease ends at its expiry unless renewed, so a
 * writer that died blocks the others only until then.
 *
 * The API: {@link acquireTrafficLock}, {@link renewTrafficLock},
 * {@link releaseTrafficLock}, {@link readTrafficLock}, {@link breakTrafficLock},
 * on a {@link LockStore} ({@link s3LockStore}, {@link fileLockStore}, or
 * {@link fleetLockStore} for a fleet's state backend).
 */

/** Who holds the lock, why, and until when. */
export interface LockHolder {
  /** Who: `user@host pid N` for a command, a function's name for an automatic failover. */
  readonly owner: string;
  /** Why: the command, or what triggered the failover. */
  readonly reason: string;
  /** When it was acquired (ISO 8601). */
  readonly since: string;
  /** When the lease ends unless renewed (ISO 8601). */
  readonly expires: string;
  /** Identifies this acquisition: only its holder renews or releases it. */
  readonly id: string;
}

/** A held lock: the holder record and the version of the stored lock that carries it. */
export interface Lease {
  readonly holder: LockHolder;
  readonly version: string;
}

/** A stored lock's text and version (an S3 ETag, or the SHA-256 of a file's text). */
export interface StoredLock {
  readonly text: string;
  readonly version: string;
}

/**
 * Where a lock lives. Each operation is atomic on the store: two writers
 * racing, exactly one succeeds.
 */
export interface LockStore {
  /** Where, for messages: `s3://bucket/key` or a file path. */
  readonly location: string;
  /** Stores the lock unless one exists; the version stored, or undefined when one exists. */
  create(text: string): Promise<string | undefined>;
  /** The stored lock; undefined when there is none. */
  read(): Promise<StoredLock | undefined>;
  /** Replaces the lock if it is still at `version`; the new version, or undefined when it is not. */
  replace(text: string, version: string): Promise<string | undefined>;
  /** Deletes the lock if it is still at `version`; false when it is not. */
  remove(version: string): Promise<boolean>;
}

/** What an acquisition asks for. */
export interface LockRequest {
  readonly owner: string;
  readonly reason: string;
  /** How long the lease lasts without renewal, seconds. */
  readonly leaseSeconds: number;
  /** The current time. @default now */
  readonly now?: Date;
}

/** Another writer holds the lock: nothing was changed. */
export class LockHeldError extends UserError {
  constructor(
    readonly holder: LockHolder,
    readonly location: string,
  ) {
    super(
      `the live weights are locked by ${describeHolder(holder)}: nothing was changed; ` +
        `wait for it to finish and run again (npm run status shows the holder; a lock whose holder is dead clears at its expiry: docs/runbooks.md, "Clear a stale traffic lock")`,
    );
  }
}

/** A lease that is no longer the stored lock (it expired and another writer took it, or it was broken). */
export class LockLostError extends UserError {
  constructor(lease: Lease, now: LockHolder | undefined) {
    super(
      `the traffic lock acquired at ${lease.holder.since} is no longer held by this command (${now ? `now held by ${describeHolder(now)}` : "it was removed"}): stopping without further changes`,
    );
  }
}

/** "alice@laptop pid 42 (shift --to green --now) since 2026-12-01T15:00:00.000Z, expires 2026-12-01T15:05:00.000Z" */
export function describeHolder(holder: LockHolder): string {
  return `${holder.owner} (${holder.reason}) since ${holder.since}, expires ${holder.expires}`;
}

/** True when the lease has ended by `now`. */
export function isExpired(holder: LockHolder, now: Date = new Date()): boolean {
  return Date.parse(holder.expires) <= now.getTime();
}

function parseHolder(stored: StoredLock, location: string): LockHolder {
  let data: Partial<Record<keyof LockHolder, unknown>>;
  try {
    data = JSON.parse(stored.text);
  } catch {
    data = {};
  }
  const fields = ["owner", "reason", "since", "expires", "id"] as const;
  if (fields.some((f) => typeof data[f] !== "string") || Number.isNaN(Date.parse(String(data.expires)))) {
    throw new UserError(`${location} is not a traffic lock (expected JSON with ${fields.join(", ")}): look at it and remove it by hand if it is debris`);
  }
  return data as LockHolder;
}

function holderText(holder: LockHolder): string {
  return `${JSON.stringify(holder, null, 2)}\n`;
}

function newHolder(request: LockRequest, id: string, since?: string): LockHolder {
  const now = request.now ?? new Date();
  return { owner: request.owner, reason: request.reason, since: since ?? now.toISOString(), expires: new Date(now.getTime() + request.leaseSeconds * 1000).toISOString(), id };
}

/** The current holder; undefined when the lock is free (an expired lease is returned: {@link isExpired} tells). */
export async function readTrafficLock(store: LockStore): Promise<LockHolder | undefined> {
  const stored = await store.read();
  return stored && parseHolder(stored, store.location);
}

/**
 * Takes the lock, or the lock of a holder whose lease has expired; throws
 * {@link LockHeldError} naming the holder while another lease runs.
 */
export async function acquireTrafficLock(store: LockStore, request: LockRequest): Promise<Lease> {
  const holder = newHolder(request, randomUUID());
  const created = await store.create(holderText(holder));
  if (created !== undefined) return { holder, version: created };
  const stored = await store.read();
  // Released in between: one more try, which a third writer may win.
  if (!stored) return acquireOnce(store, holder);
  const current = parseHolder(stored, store.location);
  if (!isExpired(current, request.now)) throw new LockHeldError(current, store.location);
  const replaced = await store.replace(holderText(holder), stored.version);
  if (replaced === undefined) throw new LockHeldError((await readTrafficLock(store)) ?? current, store.location);
  return { holder, version: replaced };
}

async function acquireOnce(store: LockStore, holder: LockHolder): Promise<Lease> {
  const created = await store.create(holderText(holder));
  if (created !== undefined) return { holder, version: created };
  const current = await readTrafficLock(store);
  throw new LockHeldError(current ?? holder, store.location);
}

/** Extends a held lease by `leaseSeconds` from now; throws {@link LockLostError} when it is no longer held. */
export async function renewTrafficLock(store: LockStore, lease: Lease, leaseSeconds: number, now: Date = new Date()): Promise<Lease> {
  const holder = newHolder({ ...lease.holder, leaseSeconds, now }, lease.holder.id, lease.holder.since);
  const version = await store.replace(holderText(holder), lease.version);
  if (version === undefined) throw new LockLostError(lease, await readTrafficLock(store));
  return { holder, version };
}

/** Gives the lock up; false when it was no longer held by this lease (nothing is removed then). */
export async function releaseTrafficLock(store: LockStore, lease: Lease): Promise<boolean> {
  return store.remove(lease.version);
}

/**
 * Removes the lock whoever holds it (for a holder known to be dead), or with
 * `expiredOnly` only when its lease has ended. Removes exactly the lock read:
 * a lock taken in between stays. Returns the holder removed, or undefined when
 * the lock was free; throws when the lock is live and `expiredOnly`, or changed.
 */
export async function breakTrafficLock(store: LockStore, options: { readonly expiredOnly: boolean; readonly now?: Date }): Promise<LockHolder | undefined> {
  const stored = await store.read();
  if (!stored) return undefined;
  const holder = parseHolder(stored, store.location);
  if (options.expiredOnly && !isExpired(holder, options.now)) throw new LockHeldError(holder, store.location);
  if (!(await store.remove(stored.version))) throw new UserError(`the traffic lock at ${store.location} changed while it was being removed: nothing was removed; look again`);
  return holder;
}

/** The lock in an S3 bucket: conditional writes (If-None-Match: * to create, If-Match: <ETag> to replace or delete). */
export function s3LockStore(client: S3Client, bucket: string, key: string): LockStore {
  // 412: the condition failed; 409: a concurrent conditional write won; 404: the object is gone (not the bucket).
  const conditionFailed = (error: unknown) => {
    const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    const status = $metadata?.httpStatusCode;
    return status === 412 || status === 409 || (status === 404 && name !== "NoSuchBucket");
  };
  const put = async (text: string, condition: { IfNoneMatch: string } | { IfMatch: string }) => {
    try {
      const result = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: "application/json", ...condition }));
      return result.ETag ?? "";
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  };
  return {
    location: `s3://${bucket}/${key}`,
    create: (text) => put(text, { IfNoneMatch: "*" }),
    replace: (text, version) => put(text, { IfMatch: version }),
    async read() {
      try {
        const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { text: (await result.Body?.transformToString("utf8")) ?? "", version: result.ETag ?? "" };
      } catch (error) {
        if ((error as { name?: string }).name === "NoSuchKey") return undefined;
        throw error;
      }
    },
    async remove(version) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: version }));
        return true;
      } catch (error) {
        if (conditionFailed(error)) return false;
        throw error;
      }
    },
  };
}

/**
 * The lock in a file, created with O_EXCL. A replace or delete of the version
 * read first renames the file aside (atomic), then checks it is still that
 * version: a lock changed in between is put back. A version already gone
 * (a lease renewed or taken over since) is not moved at all: only a change
 * in the instant between that read and the move takes the live lock aside,
 * for a moment.
 */
export function fileLockStore(file: string): LockStore {
  const versionOf = (text: string) => createHash("sha256").update(text).digest("hex");
  const read = () => {
    try {
      const text = fs.readFileSync(file, "utf8");
      return { text, version: versionOf(text) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  };
  const create = (text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      fs.writeFileSync(file, text, { flag: "wx", mode: 0o644 });
      return versionOf(text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
      throw error;
    }
  };
  /** Moves the lock aside if it is at `version`: true when it was (the file is then gone). */
  const takeAside = (version: string) => {
    if (read()?.version !== version) return false;
    const aside = `${file}.${randomUUID()}`;
    try {
      fs.renameSync(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
    if (versionOf(fs.readFileSync(aside, "utf8")) === version) {
      fs.rmSync(aside);
      return true;
    }
    // Not the lock read: put it back unless a new one was created meanwhile.
    try {
      fs.linkSync(aside, file);
    } catch {
      // A newer lock exists; the one taken aside was already replaced.
    }
    fs.rmSync(aside);
    return false;
  };
  return {
    location: file,
    create: async (text) => create(text),
    read: async () => read(),
    replace: async (text, version) => (takeAside(version) ? create(text) : undefined),
    remove: async (version) => takeAside(version),
  };
}

/**
 * The store of a fleet's lock ({@link lockLocationOf}): its S3 object, or its
 * file. `s3` makes the S3 client for the bucket's region, when needed.
 */
export async function fleetLockStore(fleet: FleetConfig, configDir: string, s3: (region: string) => Promise<S3Client>): Promise<LockStore> {
  const location = lockLocationOf(fleet, configDir);
  if (location.type === "file") return fileLockStore(location.path);
  return s3LockStore(await s3(location.region), location.bucket, location.key);
}

/** What {@link holdTrafficLock} asks for: the acquisition, and how often the lease is renewed. */
export interface HoldOptions extends Omit<LockRequest, "now"> {
  /** Renewed this often while held, milliseconds. @default a third of the lease */
  readonly renewEveryMs?: number;
}

/**
 * Runs `body` holding the lock: acquires it, renews the lease while `body`
 * runs, releases it after (a failed release leaves it to expire). `body` gets a check to call before each write:
 * it throws {@link LockLostError} once a renewal found the lease lost.
 */
export async function holdTrafficLock<T>(store: LockStore, options: HoldOptions, body: (assertHeld: () => void) => Promise<T>): Promise<T> {
  let lease = await acquireTrafficLock(store, options);
  let lost: Error | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = renewTrafficLock(store, lease, options.leaseSeconds).then(
        (renewed) => void (lease = renewed),
        (error: Error) => void (lost ??= error),
      );
    },
    options.renewEveryMs ?? (options.leaseSeconds * 1000) / 3,
  );
  timer.unref();
  try {
    return await body(() => {
      if (lost) throw lost;
    });
  } finally {
    clearInterval(timer);
    await renewing;
    // A release that fails (the store unreachable) leaves the lock to its expiry; it must not hide the work's own outcome.
    await releaseOwnLock(store, lease).catch(() => undefined);
  }
}

/**
 * Releases the lock of `lease`'s holder: at the lease's version, or at the
 * version a renewal wrote whose answer was lost (the same holder id). A lease
 * lost to another holder releases nothing.
 */
async function releaseOwnLock(store: LockStore, lease: Lease): Promise<void> {
  if (await releaseTrafficLock(store, lease)) return;
  const stored = await store.read();
  if (stored && parseHolder(stored, store.location).id === lease.holder.id) await store.remove(stored.version);
}
