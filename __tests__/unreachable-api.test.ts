import { unreachableApiReason } from "../modules/plan/unreachable-api";

describe("unreachableApiReason", () => {
  it.each([
    [
      "the Helm provider behind a private endpoint",
      'Error: Kubernetes cluster unreachable: Get "https://0A1B2C.gr7.eu-west-1.eks.amazonaws.com/version": dial tcp 10.40.1.20:443: i/o timeout',
      "Kubernetes cluster unreachable",
    ],
    [
      "the Kubernetes provider refused by the public allow-list",
      'Error: Failed to get namespace: Get "https://0A1B2C.gr7.eu-west-1.eks.amazonaws.com/api/v1/namespaces/web": dial tcp 52.0.0.1:443: i/o timeout',
      "dial tcp 52.0.0.1:443: i/o timeout",
    ],
  ])("explains %s", (_title, output, cause) => {
    const reason = unreachableApiReason("cluster-blue-k8s", output);
    expect(reason).toContain("the Kubernetes API of cluster-blue-k8s (https://0A1B2C.gr7.eu-west-1.eks.amazonaws.com) could not be reached from this machine");
    expect(reason).toContain(`(${cause})`);
    expect(reason).toContain("endpoint.privateAccessCidrs");
  });

  it("leaves other failures alone", () => {
    expect(unreachableApiReason("cluster-blue-k8s", "Error: Unsupported argument: An argument named \"foo\" is not expected here.")).toBeUndefined();
  });
});
