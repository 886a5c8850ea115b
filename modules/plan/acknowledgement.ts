import { git } from "../support/git";

/**
 * The commit-message trailer by which a merged change accepts the critical
 * dangers of its deploy, with a reason: `Allow-dangerous-changes: replacing
 * cluster blue's node group, drained first`. Only a change merged into the
 * deployed branch carries it; nothing a pull request's own job does can.
 */
export const DANGER_TRAILER = "Allow-dangerous-changes";

/** A commit accepting critical dangers, and why. */
export interface Acknowledgement {
  readonly commit: string;
  readonly reason: string;
}

/**
 * The acknowledgements in the commits after `since` up to `head` (every
 * commit of `head`'s history when `since` is undefined: nothing deployed yet),
 * newest first; trailers with an empty reason do not count.
 */
export function dangerAcknowledgements(root: string, since: string | undefined, head = "HEAD"): Acknowledgement[] {
  const range = since === undefined ? head : `${since}..${head}`;
  const log = git(root, ["log", `--format=%H%x00%(trailers:key=${DANGER_TRAILER},valueonly,separator=%x01)%x00`, range]);
  return [...log.matchAll(/([0-9a-f]{40})\0([^\0]*)\0/g)].flatMap(([, commit, reasons]) =>
    reasons
      .split("\x01")
      .map((reason) => reason.trim())
      .filter((reason) => reason !== "")
      .map((reason) => ({ commit, reason })),
  );
}
