import * as os from "os";
import { FleetConfig } from "../../modules/config/load";
import { printable } from "../../modules/support/wording";
import { s3Client } from "../../modules/traffic/aws-clients";
import { fleetLockStore, holdTrafficLock, LockStore } from "../../modules/traffic/traffic-lock";

/** Lease of a command that renews it while it runs (a shift): a dead command blocks the others this long at most. */
export const COMMAND_LEASE_SECONDS = 300;
/**
 * Lease of a command that runs cdktf (deploy, retire): renewals stop while
 * cdktf runs, so the lease covers a long deploy.
 */
export const DEPLOY_LEASE_SECONDS = 7200;

/** The fleet's traffic lock for a configuration folder. */
export function commandLockStore(fleet: FleetConfig, configDir: string): Promise<LockStore> {
  return fleetLockStore(fleet, configDir, s3Client);
}

/** `alice@laptop pid 42`: who runs this command. */
function commandOwner(): string {
  let user = process.env.USER ?? "unknown";
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (a container): the environment's USER stands.
  }
  return `${user}@${os.hostname()} pid ${process.pid}`;
}

/**
 * Runs `body` holding the fleet's traffic lock, owned by this command and
 * with its command line as the reason; `body` calls its argument before each
 * write to the live weights.
 */
export async function withTrafficLock<T>(
  fleet: FleetConfig,
  configDir: string,
  command: string,
  leaseSeconds: number,
  body: (assertHeld: () => void) => Promise<T>,
): Promise<T> {
  const reason = printable(`npm run ${command} -- ${process.argv.slice(2).join(" ")}`.trim());
  return holdTrafficLock(await commandLockStore(fleet, configDir), { owner: commandOwner(), reason, leaseSeconds }, body);
}
