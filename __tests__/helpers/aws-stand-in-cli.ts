import * as path from "path";
import { parseArgs } from "util";
import { parseFleetConfig, readConfigSources } from "../../modules/config/load";
import { projectRoot } from "../../modules/project-root";
import { AwsStandIn, StandInWorld, worldOf } from "./aws-stand-in";

/** Trouble to start the stand-in with, on a named cluster (and every service it serves). */
const SCENARIOS: Record<string, (world: StandInWorld, cluster: string) => void> = {
  healthy: () => {},
  unhealthy: (world, cluster) => world.targetGroups.filter((g) => g.tags.cluster === cluster).forEach((g) => g.targets.forEach((t) => (t.state = "unhealthy"))),
  "5xx": (world, cluster) => world.targetGroups.filter((g) => g.tags.cluster === cluster).forEach((g) => (g.errorRate = 0.2)),
  slow: (world, cluster) => world.targetGroups.filter((g) => g.tags.cluster === cluster).forEach((g) => (g.responseTimeSeconds = 3)),
};

/** Serves the ELBv2 and CloudWatch stand-in for the configuration in --config-dir until interrupted. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      scenario: { type: "string", default: "healthy" },
      cluster: { type: "string", default: "green" },
      "config-dir": { type: "string" },
    },
  });
  const apply = SCENARIOS[values.scenario];
  if (!apply) throw new Error(`--scenario must be one of ${Object.keys(SCENARIOS).join(", ")}`);
  const fleet = parseFleetConfig(readConfigSources(path.resolve(values["config-dir"] ?? projectRoot())));
  const world = worldOf(fleet);
  apply(world, values.cluster);
  const standIn = new AwsStandIn(world);
  await standIn.start(Number(values.port));
  console.log(`ELBv2 + CloudWatch stand-in for fleet ${fleet.platform.name} (${values.scenario}${values.scenario === "healthy" ? "" : ` on ${values.cluster}`}) at ${standIn.url}; in another shell:`);
  for (const [name, value] of Object.entries(standIn.environment())) console.log(`export ${name}=${value}`);
  process.on("SIGINT", () => void standIn.stop().then(() => process.exit(0)));
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
