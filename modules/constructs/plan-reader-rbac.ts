import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { ClusterRoleV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-v1";
import { ClusterRoleBindingV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-binding-v1";
import { RoleV1 } from "@cdktf/provider-kubernetes/lib/role-v1";
import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1";

/** Name of the roles and bindings, in each namespace and cluster-wide. */
const PLAN_READER_ROLE = "fleet-plan-reader";

const READ = ["get", "list", "watch"];
/** What Helm needs to read a release: list its Secrets by label (name, owner=helm), then get one. */
const HELM_RELEASE_READ = ["get", "list"];

export interface PlanReaderRbacProps {
  /** Kubernetes group of the plan role's access entry. */
  readonly group: string;
  /** Namespaces where the in-cluster stack has Helm releases. */
  readonly namespaces: readonly string[];
  /** Names of the CustomResourceDefinitions the stack manages (a Terraform list, known while planning). */
  readonly customResourceDefinitions: string[];
  /** What creates those namespaces, to come first. @default nothing */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * What the plan role needs beyond EKS's view policy to refresh an in-cluster
 * stack: get and list on the Secrets where Helm keeps its releases (type
 * helm.sh/release.v1; Helm lists them by label, and RBAC cannot narrow a rule by
 * Secret type or label, so it is every Secret of the release namespaces, and no
 * other namespace), the RBAC objects the stack manages, and the
 * CustomResourceDefinitions it manages, by name; the view policy has none of
 * them. Nothing to write.
 */
export class PlanReaderRbac extends Construct {
  constructor(scope: Construct, id: string, props: PlanReaderRbacProps) {
    super(scope, id);
    const subject = [{ kind: "Group", name: props.group, apiGroup: "rbac.authorization.k8s.io" }];
    for (const namespace of [...new Set(props.namespaces)].sort()) {
      const role = new RoleV1(this, `helm-releases-${namespace}`, {
        metadata: { name: PLAN_READER_ROLE, namespace },
        rule: [{ apiGroups: [""], resources: ["secrets"], verbs: HELM_RELEASE_READ }],
        dependsOn: props.dependsOn,
      });
      new RoleBindingV1(this, `helm-releases-binding-${namespace}`, {
        metadata: { name: PLAN_READER_ROLE, namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subject,
      });
    }
    const clusterRole = new ClusterRoleV1(this, "rbac-objects", {
      metadata: { name: PLAN_READER_ROLE },
      rule: [
        { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings", "clusterroles", "clusterrolebindings"], verbs: READ },
        // Named: list and watch then answer only for those names (a field selector on metadata.name), as refreshing needs.
        { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], resourceNames: props.customResourceDefinitions, verbs: READ },
      ],
    });
    new ClusterRoleBindingV1(this, "rbac-objects-binding", {
      metadata: { name: PLAN_READER_ROLE },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
      subject,
    });
  }
}
