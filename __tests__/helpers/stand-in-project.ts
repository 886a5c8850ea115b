import { ConfigSources, FleetConfig, parseFleetConfig } from "../../modules/config/load";
import { writeConfigProject } from "../../scripts/lib/config-project";
import { AwsStandIn, worldOf } from "../../scripts/lib/aws-stand-in";

/** A test's AWS stand-in and its scratch configuration folder. */
export interface StandInProject {
  readonly standIn: AwsStandIn;
  readonly project: string;
}

/**
 * Before each test of the calling file: a stand-in serving the fleet of
 * `sources` as deployed, and a scratch copy of the configuration; the
 * stand-in stops after the test. Returns the current test's pair.
 */
export function standInProjectPerTest(sources: ConfigSources): () => StandInProject {
  let current: StandInProject | undefined;
  beforeEach(async () => {
    const standIn = new AwsStandIn(worldOf(parseFleetConfig(sources)));
    await standIn.start();
    current = { standIn, project: writeConfigProject(sources) };
  });
  afterEach(() => current?.standIn.stop());
  return () => current!;
}

/**
 * For the calling file's tests: starts a stand-in serving `fleet` as deployed
 * and points this process's AWS SDK at it (AWS_ENDPOINT_URL and the rest);
 * after each test the stand-in stops and the environment is put back.
 */
export function standInServing(): (fleet: FleetConfig) => Promise<AwsStandIn> {
  const saved = { ...process.env };
  let current: AwsStandIn | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
    process.env = { ...saved };
  });
  return async (fleet) => {
    // A test may serve another fleet: the stand-in before it stops first.
    await current?.stop();
    current = new AwsStandIn(worldOf(fleet));
    await current.start();
    Object.assign(process.env, current.environment());
    return current;
  };
}
