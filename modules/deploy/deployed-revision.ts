import * as fs from "fs";
import * as path from "path";
import type { S3Client } from "@aws-sdk/client-s3";
import { git, isCommit } from "../support/git";
import { UserError } from "../support/user-error";

/** Name of the record beside the stacks' state: the git revision last deployed in full. */
export const DEPLOYED_REVISION_RECORD = "deployed-revision";

/** Where the fleet's state lives, as `platform.yaml`'s `stateBackend` says (paths relative to the project root). */
export type StateLocation =
  | { readonly type: "local"; readonly directory: string }
  | { readonly type: "s3"; readonly bucket: string; readonly keyPrefix?: string; readonly region?: string };

/** Makes an S3 client for a region, with the time limits of the commands' AWS calls; the record destroys it after each use. */
export type S3ClientFactory = (region: string) => Promise<S3Client>;

/**
 * The git revision last deployed successfully, kept durably beside the state:
 * `<keyPrefix>/deployed-revision` in the state bucket, or `deployed-revision` in
 * the local state folder. Only a deploy that succeeded writes it, so a failed or
 * cancelled deploy leaves it where it was and the next one catches up.
 */
export class DeployedRevisionRecord {
  /** Where the record is, for messages (`s3://bucket/key` or a path). */
  readonly location: string;

  constructor(
    private readonly state: StateLocation,
    /** The fleet's name (the default key prefix) and region (the default bucket region). */
    private readonly fleet: { readonly name: string; readonly region: string },
    /** The project root, which a local state folder is relative to. */
    root: string,
    /** The S3 client of a state bucket, for a record in S3. */
    private readonly s3: S3ClientFactory,
  ) {
    this.location = state.type === "s3" ? `s3://${state.bucket}/${this.key()}` : path.join(root, state.directory, DEPLOYED_REVISION_RECORD);
  }

  private key(): string {
    const state = this.state as Extract<StateLocation, { type: "s3" }>;
    return `${state.keyPrefix ?? this.fleet.name}/${DEPLOYED_REVISION_RECORD}`;
  }

  private client(): Promise<S3Client> {
    const state = this.state as Extract<StateLocation, { type: "s3" }>;
    return this.s3(state.region ?? this.fleet.region);
  }

  /** The recorded revision; undefined when nothing was recorded yet. A record that is not a commit id is an error naming it. */
  async read(): Promise<string | undefined> {
    let text: string | undefined;
    if (this.state.type === "local") {
      text = fs.existsSync(this.location) ? fs.readFileSync(this.location, "utf8") : undefined;
    } else {
      const { GetObjectCommand } = await import("@aws-sdk/client-s3");
      const client = await this.client();
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: this.state.bucket, Key: this.key() }));
        text = await object.Body?.transformToString();
      } catch (error) {
        if ((error as { name?: string }).name !== "NoSuchKey") throw error;
      } finally {
        client.destroy();
      }
    }
    if (text === undefined) return undefined;
    const revision = text.trim();
    if (!/^[0-9a-f]{40}$/.test(revision)) throw new UserError(`${this.location}: holds '${revision.slice(0, 60)}', not a git commit id; write the last deployed commit there or delete it to plan every stack`);
    return revision;
  }

  /** Records `revision` (a full commit id) as deployed. */
  async write(revision: string): Promise<void> {
    const text = `${revision}\n`;
    if (this.state.type === "local") {
      fs.mkdirSync(path.dirname(this.location), { recursive: true });
      // Written whole or not at all: a process killed mid-way leaves the previous record.
      const partial = `${this.location}.${process.pid}.partial`;
      fs.writeFileSync(partial, text);
      fs.renameSync(partial, this.location);
      return;
    }
    const { PutObjectCommand } = await import("@aws-sdk/client-s3");
    const client = await this.client();
    try {
      await client.send(new PutObjectCommand({ Bucket: this.state.bucket, Key: this.key(), Body: text, ContentType: "text/plain", ServerSideEncryption: "AES256" }));
    } finally {
      client.destroy();
    }
  }
}

/** The record of a fleet (its `platform.yaml`'s name, region and state backend) whose project is `root`. */
export function deployedRevisionRecord(
  platform: { readonly name: string; readonly region: string; readonly stateBackend: StateLocation },
  root: string,
  s3: S3ClientFactory,
): DeployedRevisionRecord {
  return new DeployedRevisionRecord(platform.stateBackend, platform, root, s3);
}

/**
 * The commit checked out in `root`, to record as deployed; refused when tracked
 * files have uncommitted changes (the record would name files that were not
 * deployed) or when the recorded commit is not its ancestor (an older run re-run,
 * or a rewritten history, would put older files over newer ones and move the
 * record back).
 */
export function checkedOutCommitFollows(root: string, recorded: string | undefined, location: string): string {
  if (!isCommit(root, "HEAD")) throw new UserError(`--record-deployed: ${root} is not a git checkout with a commit; deploy without recording`);
  const commit = git(root, ["rev-parse", "HEAD^{commit}"]).trim();
  // Changed tracked files anywhere, and new configuration files (the ones a deploy reads).
  const edited = [git(root, ["status", "--porcelain", "--untracked-files=no"]), git(root, ["status", "--porcelain", "--", "platform.yaml", "clusters"])].join("\n").trim();
  if (edited !== "") throw new UserError(`--record-deployed: uncommitted changes (${edited.split("\n")[0]}, …); commit them or deploy without recording`);
  if (recorded === undefined || recorded === commit) return commit;
  const known = isCommit(root, recorded);
  if (!known || !gitSucceeds(root, ["merge-base", "--is-ancestor", recorded, commit])) {
    throw new UserError(
      `${location} records ${recorded}, which ${known ? "is not an ancestor of" : "this repository does not have, so cannot be compared with"} the checked-out ${commit}: ` +
        "deploying it could put older files over what is live. Deploy the branch's newest commit, or correct the record by hand",
    );
  }
  return commit;
}

function gitSucceeds(root: string, args: readonly string[]): boolean {
  try {
    git(root, args);
    return true;
  } catch {
    return false;
  }
}
