import * as path from "path";
import type { FleetConfig } from "./fleet-config";

/** The traffic lock's name beside the state. */
const LOCK_NAME = "traffic.lock";

/** Where a fleet's traffic lock lives: an object in the state bucket, or a file in the local state folder. */
export type LockLocation =
  | { readonly type: "s3"; readonly bucket: string; readonly key: string; readonly region: string }
  | { readonly type: "file"; readonly path: string };

/**
 * Where the traffic lock of a fleet lives, from its `stateBackend`:
 * `<keyPrefix>/traffic.lock` in the state bucket, or `traffic.lock` in the
 * local state folder under `configDir`.
 */
export function lockLocationOf(fleet: FleetConfig, configDir: string): LockLocation {
  const backend = fleet.platform.stateBackend;
  if (backend.type === "local") return { type: "file", path: path.join(configDir, backend.directory, LOCK_NAME) };
  return { type: "s3", bucket: backend.bucket, key: `${backend.keyPrefix ?? fleet.platform.name}/${LOCK_NAME}`, region: backend.region ?? fleet.platform.region };
}
