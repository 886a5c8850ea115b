import { ConfigSources, parseFleetConfig } from "../../modules/config/load";
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
