import { Fn } from "cdktf";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";

/** How the Helm and Kubernetes providers reach one EKS cluster's API server. */
export interface KubernetesApiAccess {
  readonly host: string;
  readonly clusterCaCertificate: string;
  /** A token fetched per Terraform run, never a 15-minute token stored in the plan. */
  readonly exec: { readonly apiVersion: string; readonly command: string; readonly args: string[] };
}

/** API server, CA and `aws eks get-token` credentials of an EKS cluster. */
export function kubernetesApiAccess(cluster: EksCluster, region: string): KubernetesApiAccess {
  return {
    host: cluster.endpoint,
    clusterCaCertificate: Fn.base64decode(cluster.certificateAuthority.get(0).data),
    exec: {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "aws",
      args: ["eks", "get-token", "--cluster-name", cluster.name, "--region", region, "--output", "json"],
    },
  };
}
