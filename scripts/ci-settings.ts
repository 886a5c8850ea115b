import { loadFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { UserError } from "../modules/support/user-error";
import { runCommand } from "../modules/cli/run-command";
import { parseCommandLine } from "../modules/cli/args";

const USAGE = `usage: npm run ci-settings
  prints region=<region> for GITHUB_OUTPUT; fails unless stateBackend is s3`;

/**
 * Prints `region=…` for the CI workflow (GITHUB_OUTPUT format), and fails when
 * state is local: runners are thrown away, so CI needs the S3 state backend.
 */
runCommand(() => {
  if (!parseCommandLine({ usage: USAGE, options: {} })) return;
  const fleet = loadFleetConfig(projectRoot());
  if (fleet.platform.stateBackend.type !== "s3") {
    throw new UserError(
      "platform.yaml: stateBackend: CI runners keep no files; configure stateBackend: {type: s3, bucket: ...} to plan and deploy from CI",
    );
  }
  console.log(`region=${fleet.platform.region}`);
});
