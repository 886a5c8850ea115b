import { generatedFleetSources } from "../scripts/lib/generated-fleet";
import { synthFleet, withS3Backend } from "./helpers/fleet";

describe("S3 state backend", () => {
  const fleet = synthFleet(
    withS3Backend(generatedFleetSources(1), "  type: s3\n  bucket: acme-terraform-state\n  keyPrefix: fleets/gen\n"),
  );

  it("gives every stack its own key, encryption and S3-native locking", () => {
    for (const stack of Object.keys(fleet.stackTexts)) {
      expect(fleet.stack(stack).terraform?.backend).toEqual({
        s3: {
          bucket: "acme-terraform-state",
          key: `fleets/gen/${stack}.tfstate`,
          region: "us-east-1",
          encrypt: true,
          use_lockfile: true,
        },
      });
    }
  });

  it("reads other stacks' outputs from the same bucket", () => {
    const remoteState = fleet.stack("edge").data?.terraform_remote_state?.["cross-stack-reference-input-network"];
    expect(remoteState).toMatchObject({
      backend: "s3",
      config: { bucket: "acme-terraform-state", key: "fleets/gen/network.tfstate", region: "us-east-1" },
    });
  });
});

describe("AWS provider", () => {
  it("refuses to apply to any account but the fleet's", () => {
    const fleet = synthFleet(generatedFleetSources(1));
    for (const stack of ["network", "edge", "cluster-c00"]) {
      expect(fleet.stack(stack).provider?.aws[0]).toMatchObject({ allowed_account_ids: ["123456789012"], region: "us-east-1" });
    }
  });
});
