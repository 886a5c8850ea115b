import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { Labels } from "@cdktf/provider-kubernetes/lib/labels";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";

/**
 * With this label the Load Balancer Controller gives the pods of a bound Service
 * a readiness gate: a pod counts as ready only once its target is healthy in
 * the target group, so rollouts and drains never leave a target group with only
 * initial or draining targets.
 */
export const POD_READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject";

/** Namespaces every cluster has from the start: labelled, never created. */
const BUILT_IN_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export interface ServiceNamespacesProps {
  /** Namespaces of routed services that the fleet manages. */
  readonly names: readonly string[];
}

/**
 * The namespaces of routed services, with pod readiness gates: created, or
 * labelled in place for the namespaces Kubernetes creates itself.
 */
export class ServiceNamespaces extends Construct {
  private readonly byName = new Map<string, ITerraformDependable>();

  constructor(scope: Construct, id: string, props: ServiceNamespacesProps) {
    super(scope, id);
    for (const name of [...new Set(props.names)].sort()) {
      const labels = { [POD_READINESS_GATE_LABEL]: "enabled" };
      this.byName.set(
        name,
        BUILT_IN_NAMESPACES.includes(name)
          ? new Labels(this, `labels-${name}`, { apiVersion: "v1", kind: "Namespace", metadata: { name }, labels, fieldManager: "weighted-eks-fleet" })
          : new NamespaceV1(this, name, { metadata: { name, labels } }),
      );
    }
  }

  /** What creates or labels the namespace; undefined for a namespace managed elsewhere. */
  namespace(name: string): ITerraformDependable | undefined {
    return this.byName.get(name);
  }
}
