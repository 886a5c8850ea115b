import * as path from "path";
import { parseFleetConfig, readConfigSources } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { integerFlag, parseCommandLine, UsageError } from "../modules/cli/args";
import { runCommand } from "../modules/cli/run-command";
import { UserError } from "../modules/support/user-error";
import { AwsStandIn, StandInWorld, worldOf } from "./lib/aws-stand-in";

/** Trouble to start the stand-in with, on a named cluster (and every service it serves). */
const SCENARIOS: Record<string, (world: StandInWorld, cluster: string) => void> = {
  healthy: () => {},
  unhealthy: (world, cluster) => world.targetGroups.filter((g) => g.tags.cluster === cluster).forEach((g) => g.targets.forEach((t) => (t.state = "unhealthy"))),
  "5xx": (world, cluster) => world.targetGroups.filter((g) => g.tags.cluster === cluster).forEach((g) => (g.errorRate = 0.2)),
  slow: (world, cluster) => world.targetGroups.filter((g) => g.tags.cluster === cluster).forEach((g) => (g.responseTimeSeconds = 3)),
};

const USAGE = `usage: npm run stand-in -- [--port N] [--scenario ${Object.keys(SCENARIOS).join("|")}] [--cluster NAME] [--config-dir DIR]
  serves a local ELBv2, CloudWatch, CloudWatch Logs and STS stand-in for the fleet until interrupted (port 0: any free port);
  STS tells the fleet's commands they run as the deployer`;

/** Serves the ELBv2, CloudWatch, CloudWatch Logs and STS stand-in for the configuration in --config-dir until interrupted. */
async function main(): Promise<void> {
  const commandLine = parseCommandLine({
    usage: USAGE,
    options: {
      port: { type: "string", default: "0" },
      scenario: { type: "string", default: "healthy" },
      cluster: { type: "string", default: "green" },
      "config-dir": { type: "string" },
    },
  });
  if (!commandLine) return;
  const { values } = commandLine;
  const port = integerFlag(values.port, "--port", { min: 0, max: 65535 }, USAGE)!;
  const apply = Object.hasOwn(SCENARIOS, values.scenario) ? SCENARIOS[values.scenario] : undefined;
  if (!apply) throw new UsageError(`--scenario must be one of ${Object.keys(SCENARIOS).join(", ")}`, USAGE);
  const fleet = parseFleetConfig(readConfigSources(path.resolve(values["config-dir"] ?? projectRoot())));
  const clusters = fleet.clusters.map((c) => c.config.name);
  if (!clusters.includes(values.cluster)) throw new UsageError(`--cluster ${values.cluster} is not a cluster of fleet ${fleet.platform.name}; clusters: ${clusters.join(", ")}`, USAGE);
  const world = worldOf(fleet);
  apply(world, values.cluster);
  const standIn = new AwsStandIn(world);
  try {
    await standIn.start(port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UserError(`port ${port} on 127.0.0.1 is in use (another stand-in?): stop what uses it, or choose another with --port (--port 0: any free port)`);
    if (code === "EACCES") throw new UserError(`port ${port} on 127.0.0.1 needs privileges: choose one above 1023 with --port`);
    throw error;
  }
  const albs = world.loadBalancers.map((lb) => lb.name).join(", ");
  console.log(
    `ELBv2, CloudWatch, CloudWatch Logs, SNS and STS stand-in for fleet ${fleet.platform.name} (${albs}; ${values.scenario}${values.scenario === "healthy" ? "" : ` on ${values.cluster}`}) at ${standIn.url}; in another shell:`,
  );
  for (const [name, value] of Object.entries(standIn.environment())) console.log(`export ${name}=${value}`);
  process.on("SIGINT", () => void standIn.stop().then(() => process.exit(0)));
}

runCommand(main);
