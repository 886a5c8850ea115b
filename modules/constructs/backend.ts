import { LocalBackend, S3Backend, TerraformStack } from "cdktf";
import { StateBackendConfig } from "../config/schema";

/** How deep a stack's working directory sits below the project root: cdktf.out/stacks/<stack>. */
const STACK_DIR_TO_PROJECT_ROOT = "../../..";

export interface StateBackendProps {
  readonly backend: StateBackendConfig;
  readonly stackName: string;
  readonly fleetName: string;
  readonly region: string;
}

/**
 * One state per stack. Local state sits in a folder of the project (relative
 * path, so output is the same on every machine); S3 state uses S3-native
 * locking (`use_lockfile`) and one key per stack.
 */
export function configureStateBackend(stack: TerraformStack, props: StateBackendProps): void {
  const { backend } = props;
  if (backend.type === "local") {
    new LocalBackend(stack, { path: `${STACK_DIR_TO_PROJECT_ROOT}/${backend.directory}/${props.stackName}.tfstate` });
    return;
  }
  const s3 = new S3Backend(stack, {
    bucket: backend.bucket,
    key: `${backend.keyPrefix ?? props.fleetName}/${props.stackName}.tfstate`,
    region: backend.region ?? props.region,
    encrypt: true,
  });
  // The cdktf binding predates S3-native locking; the backend argument exists since Terraform 1.10.
  s3.addOverride("use_lockfile", true);
}
