import * as path from "path";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { printable } from "../modules/support/wording";
import { runCommand } from "../modules/cli/run-command";
import { parseCommandLine, UsageError } from "../modules/cli/args";
import { rethrowAwsError } from "../modules/traffic/aws-clients";
import { breakTrafficLock, describeHolder, isExpired, readTrafficLock } from "../modules/traffic/traffic-lock";
import { commandLockStore } from "./lib/traffic-lock-hold";

const USAGE = `usage: npm run lock -- [--clear-expired | --break REASON] [--config-dir DIR]
  shows who holds the traffic lock on the live weights (where the state lives: the S3 state bucket,
  or the local state folder), and since when, until when, why
  --clear-expired   removes the lock only if its lease has ended (its holder stopped renewing it)
  --break REASON    removes the lock whoever holds it, for this reason (echoed): only once you know its
                    holder is dead (docs/runbooks.md, "Clear a stale traffic lock")
  --config-dir DIR  folder holding platform.yaml and clusters/ (default: the project root)`;

async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      "clear-expired": { type: "boolean", default: false },
      break: { type: "string" },
      "config-dir": { type: "string" },
    },
  });
  if (!commandLine) return;
  const { values } = commandLine;
  if (values["clear-expired"] && values.break !== undefined) throw new UsageError("give --clear-expired or --break, not both", USAGE);
  if (values.break !== undefined && values.break.trim() === "") throw new UsageError('--break needs a reason: --break "<why its holder is known to be dead>"', USAGE);
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const store = await commandLockStore(parseFleetConfig(readConfigSources(configDir)), configDir);
  if (!values["clear-expired"] && values.break === undefined) {
    const holder = await readTrafficLock(store);
    console.log(
      holder
        ? `${store.location}: held by ${describeHolder(holder)}${isExpired(holder) ? " (EXPIRED: the next writer takes it over; npm run lock -- --clear-expired removes it)" : ""}`
        : `${store.location}: free`,
    );
    return;
  }
  const removed = await breakTrafficLock(store, { expiredOnly: values["clear-expired"] });
  if (!removed) {
    console.log(`${store.location}: free, nothing to remove`);
    return;
  }
  const why = values.break === undefined ? "its lease had ended" : `reason: ${printable(values.break)}`;
  console.log(`removed the traffic lock of ${describeHolder(removed)} from ${store.location}; ${why}`);
  if (values.break !== undefined) console.log("check what is live before the next change: npm run status");
}

runCommand(() => main().catch(rethrowAwsError));
