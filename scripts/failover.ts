import * as os from "os";
import * as path from "path";
import { fleetAlbs } from "../modules/config/albs";
import { failoverSettingsOf } from "../modules/config/failover";
import { albName, edgeStackName } from "../modules/constructs/naming";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { parseCommandLine, UsageError } from "../modules/cli/args";
import { runCommand } from "../modules/cli/run-command";
import { projectRoot } from "../modules/support/project-root";
import { cloudWatchClient, elbClient, failureText, rethrowAwsError } from "../modules/traffic/aws-clients";
import { UserError } from "../modules/support/user-error";
import { runFailover } from "../modules/traffic/failover";
import { commandLockStore } from "./lib/traffic-lock-hold";

const USAGE = `usage: npm run failover -- --once [--dry-run] [--config-dir DIR]
  runs the automatic failover's decision once against the live fleet, for each ALB as its function
  in its edge stack (edge, edge-<name>) does every minute: a weighted cluster with fewer healthy targets than minHealthyTargets, or
  with target 5xx above shiftLimits.max5xxPercent for failover.breachMinutes, loses its weight to its
  serving peers; nothing moves when no peer serves, in the cooldown, or in alarm-only mode
  --once           run once (required: a schedule that runs it is the edge stack's function, or yours)
  --dry-run        decide and print, change nothing
  --config-dir DIR folder holding platform.yaml and clusters/ (default: the project root)
exits 1 when a failed cluster still carries traffic (nothing could be moved, or it was not tried), or when
the failover of an ALB could not run (the others still run)`;

async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: { once: { type: "boolean", default: false }, "dry-run": { type: "boolean", default: false }, "config-dir": { type: "string" } },
  });
  if (!commandLine) return;
  const { values } = commandLine;
  if (!values.once) throw new UsageError("give --once: each run decides once", USAGE);
  const configDir = path.resolve(values["config-dir"] ?? projectRoot());
  const fleet = parseFleetConfig(readConfigSources(configDir));
  const clients = { elb: await elbClient(fleet), cloudWatch: await cloudWatchClient(fleet) };
  const lock = await commandLockStore(fleet, configDir);
  // One run per ALB, each with its own settings, as each ALB's function runs; one that fails leaves the others judged.
  const failures: string[] = [];
  for (const { key } of fleetAlbs(fleet.platform)) {
    const name = albName(fleet.platform.name, key);
    console.log(`failover of ${name} (stack ${edgeStackName(key)}):`);
    try {
      const run = await runFailover(clients, failoverSettingsOf(fleet, key), {
        now: new Date(),
        actor: `${os.userInfo().username}-failover-once`,
        dryRun: values["dry-run"],
        lock,
        log: (line) => console.log(line),
      });
      if (run.unresolved) process.exitCode = 1;
    } catch (error) {
      console.log(`${name}: not judged: ${failureText(error)}`);
      failures.push(`${name} (${failureText(error)})`);
    }
  }
  if (failures.length > 0) throw new UserError(`the failover of ${failures.join(", ")} could not run; the other ALBs were judged`);
}

runCommand(() => main().catch(rethrowAwsError));
