/** How Terraform's Kubernetes and Helm providers fail when a cluster's API server cannot be reached. */
const UNREACHABLE = [
  /Kubernetes cluster unreachable/,
  /dial tcp [^\s]+: (i\/o timeout|connect: connection refused|connect: no route to host)/,
  /dial tcp: lookup [^\s]+ (on [^\s]+ )?: no such host/,
  /context deadline exceeded/,
  /TLS handshake timeout/,
];

const EKS_ENDPOINT = /https:\/\/[A-Za-z0-9.-]+\.eks\.amazonaws\.com(\.cn)?/;

/**
 * Says plainly why an in-cluster stack could not be planned when the cause is
 * that its cluster's Kubernetes API was not reachable from where the plan ran
 * (a private endpoint, or a public one whose allow-list leaves this machine
 * out); undefined for any other failure.
 */
export function unreachableApiReason(stack: string, terraformOutput: string): string | undefined {
  const cause = UNREACHABLE.map((pattern) => pattern.exec(terraformOutput)).find((match) => match !== null);
  if (!cause) return undefined;
  const endpoint = EKS_ENDPOINT.exec(terraformOutput)?.[0] ?? "its endpoint";
  return (
    `the Kubernetes API of ${stack} (${endpoint}) could not be reached from this machine (${cause[0]}): ` +
    "plan it from a runner inside the VPC listed in endpoint.privateAccessCidrs, or from an address in " +
    'endpoint.publicAccessCidrs (docs/pull-requests.md: "Reaching the cluster APIs")'
  );
}
