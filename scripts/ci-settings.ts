import { ConfigError, loadFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";

/**
 * Prints `region=…` for the CI workflow (GITHUB_OUTPUT format), and fails when
 * state is local: runners are thrown away, so CI needs the S3 state backend.
 */
try {
  const fleet = loadFleetConfig(projectRoot());
  if (fleet.platform.stateBackend.type !== "s3") {
    console.error("platform.yaml: stateBackend: CI runners keep no files; configure stateBackend: {type: s3, bucket: ...} to plan and deploy from CI");
    process.exitCode = 1;
  } else {
    console.log(`region=${fleet.platform.region}`);
  }
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
