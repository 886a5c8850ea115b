import { TerraformResource, TerraformStack } from "cdktf";

/**
 * Declares, as its stack is built, the output through which other stacks read
 * an attribute of a resource: the very output cdktf adds the first time
 * another stack refers to it (`cross-stack-output-<type>.<id>.<attribute>`).
 * A stack that declares every value the cluster stacks read has the same
 * outputs whichever cluster stacks are built beside it, so the clusters can be
 * synthesized in separate processes (see modules/synth/partitions.ts).
 */
export function shareWithClusterStacks(resource: TerraformResource, attribute: string): void {
  TerraformStack.of(resource).registerOutgoingCrossStackReference(`${resource.terraformResourceType}.${resource.friendlyUniqueId}.${attribute}`);
}
