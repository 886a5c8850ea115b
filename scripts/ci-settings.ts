import { loadFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/project-root";
import { UserError } from "../modules/user-error";
import { runCommand } from "../modules/run-command";

/**
 * Prints `region=…` for the CI workflow (GITHUB_OUTPUT format), and fails when
 * state is local: runners are thrown away, so CI needs the S3 state backend.
 */
runCommand(() => {
  const fleet = loadFleetConfig(projectRoot());
  if (fleet.platform.stateBackend.type !== "s3") {
    throw new UserError(
      "platform.yaml: stateBackend: CI runners keep no files; configure stateBackend: {type: s3, bucket: ...} to plan and deploy from CI",
    );
  }
  console.log(`region=${fleet.platform.region}`);
});
