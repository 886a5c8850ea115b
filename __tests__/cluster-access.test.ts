import { ConfigSources } from "../modules/config/load";
import { exampleSources, resourcesOf, synthFleet } from "./helpers/fleet";

const example = exampleSources();
const withoutPlanRole: ConfigSources = {
  ...example,
  platform: { ...example.platform, text: example.platform.text.replace(/ *planPrincipalArn:.*\n/, "") },
};

describe("access to a cluster's Kubernetes API", () => {
  const fleet = synthFleet(example);
  const aws = fleet.stack("cluster-blue");
  const inCluster = fleet.stack("cluster-blue-k8s");

  it("names the deployer explicitly and gives EKS's bootstrap entry to nobody", () => {
    const cluster = Object.values(resourcesOf(aws, "aws_eks_cluster"))[0];
    expect(cluster.access_config).toEqual({ authentication_mode: "API", bootstrap_cluster_creator_admin_permissions: false });
    const entries = Object.values(resourcesOf(aws, "aws_eks_access_entry")).map((e) => [e.principal_arn, e.kubernetes_groups]);
    expect(entries.sort()).toEqual([
      ["arn:aws:iam::111122223333:role/demo-deploy", undefined],
      ["arn:aws:iam::111122223333:role/demo-plan", ["fleet-plan-readers"]],
    ]);
  });

  it("lets the plan role's group get and list Secrets (Helm's release reads) in the release namespaces only, and write nothing", () => {
    const roles = Object.values(resourcesOf(inCluster, "kubernetes_role_v1"));
    expect(roles.map((r) => (r.metadata as { namespace: string }).namespace).sort()).toEqual(["kube-system", "web"]);
    for (const role of roles) {
      // Helm reads a release by listing its Secrets by label (name, owner=helm), then getting one: no watch.
      expect(role.rule).toEqual([{ api_groups: [""], resources: ["secrets"], verbs: ["get", "list"] }]);
    }
    const bindings = Object.values(resourcesOf(inCluster, "kubernetes_role_binding_v1"));
    expect(bindings).toHaveLength(2);
    for (const binding of bindings) {
      expect(binding.subject).toEqual([{ kind: "Group", name: "fleet-plan-readers", api_group: "rbac.authorization.k8s.io" }]);
      expect(binding.role_ref).toMatchObject({ kind: "Role" });
    }
    const clusterRoles = Object.values(resourcesOf(inCluster, "kubernetes_cluster_role_v1"));
    expect(clusterRoles.flatMap((r) => (r.rule as { verbs: string[] }[]).flatMap((rule) => rule.verbs)).every((verb) => ["get", "list", "watch"].includes(verb))).toBe(true);
    expect(JSON.stringify(clusterRoles)).not.toContain("secrets");
  });

  it("lets the plan role's group read the CustomResourceDefinitions the stack manages, by name, and no other", () => {
    const [clusterRole] = Object.values(resourcesOf(inCluster, "kubernetes_cluster_role_v1"));
    const rules = clusterRole.rule as { api_groups: string[]; resources: string[]; resource_names?: string; verbs: string[] }[];
    const crdRule = rules.find((rule) => rule.resources.includes("customresourcedefinitions"));
    expect(crdRule).toEqual({
      api_groups: ["apiextensions.k8s.io"],
      resources: ["customresourcedefinitions"],
      // The names of the CRDs the stack applies (rendered from the pinned chart while planning).
      resource_names: expect.stringMatching(/^\$\{keys\(local\.[A-Za-z0-9_-]+\)\}$/),
      verbs: ["get", "list", "watch"],
    });
    const crdNames = /^\$\{keys\((local\.[A-Za-z0-9_-]+)\)\}$/.exec(crdRule!.resource_names!)![1];
    const crds = Object.values(resourcesOf(inCluster, "kubernetes_manifest")).filter((m) => String(m.for_each).includes(crdNames));
    expect(crds).toHaveLength(1);
  });

  it("reaches the API with a token fetched on each run", () => {
    const provider = inCluster.provider!.kubernetes[0];
    expect(provider.exec).toEqual([expect.objectContaining({ command: "aws", args: expect.arrayContaining(["eks", "get-token"]) })]);
  });

  it("has no plan-role entry or RBAC when the deployer also plans", () => {
    const single = synthFleet(withoutPlanRole);
    expect(Object.values(resourcesOf(single.stack("cluster-blue"), "aws_eks_access_entry")).map((e) => e.principal_arn)).toEqual([
      "arn:aws:iam::111122223333:role/demo-deploy",
    ]);
    expect(resourcesOf(single.stack("cluster-blue-k8s"), "kubernetes_role_v1")).toEqual({});
  });
});
