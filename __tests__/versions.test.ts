import { ConfigSources } from "../modules/config/load";
import {
  addonVersionProblem,
  EKS_ADDONS,
  kubernetesVersionsOf,
  LOAD_BALANCER_CONTROLLER_CHART,
  SUPPORTED_KUBERNETES_VERSIONS,
  VERSION_CATALOGUE,
} from "../modules/config/versions";
import { exampleSources, synthFleet, withClusterFile } from "./helpers/fleet";

describe("the version catalogue", () => {
  it("has defaults for every Kubernetes version the configuration accepts, each supporting that version", () => {
    expect(Object.keys(VERSION_CATALOGUE).sort()).toEqual([...SUPPORTED_KUBERNETES_VERSIONS]);
    for (const kubernetesVersion of SUPPORTED_KUBERNETES_VERSIONS) {
      for (const addon of EKS_ADDONS) {
        expect([addon, kubernetesVersion, addonVersionProblem(addon, VERSION_CATALOGUE[kubernetesVersion].addons[addon], kubernetesVersion)]).toEqual([
          addon,
          kubernetesVersion,
          undefined,
        ]);
      }
    }
  });

  it("pins one controller chart for every Kubernetes version", () => {
    expect(new Set(Object.values(VERSION_CATALOGUE).map((d) => d.loadBalancerControllerChart))).toEqual(new Set([LOAD_BALANCER_CONTROLLER_CHART]));
  });

  it("ties kube-proxy to its own Kubernetes minor version", () => {
    expect(kubernetesVersionsOf("kube-proxy", "v1.34.6-eksbuild.2")).toEqual(["1.34"]);
    expect(kubernetesVersionsOf("kube-proxy", "v1.29.15-eksbuild.16")).toBeUndefined();
    expect(kubernetesVersionsOf("coredns", "not-a-version")).toBeUndefined();
  });
});

function clusterFile(sources: ConfigSources, name: string): string {
  return sources.clusters.find((c) => c.file === `clusters/${name}.yaml`)!.text;
}

/** Add-on versions and the controller chart of cluster blue, as synthesized. */
function synthesizedVersions(sources: ConfigSources) {
  const fleet = synthFleet(sources);
  const addons = Object.values(fleet.stack("cluster-blue").resource!.aws_eks_addon);
  const releases = Object.values(fleet.stack("cluster-blue-k8s").resource!.helm_release);
  return {
    addons: Object.fromEntries(addons.map((a) => [a.addon_name, a.addon_version])),
    chart: releases.find((r) => r.name === "aws-load-balancer-controller")!.version,
    cluster: Object.values(fleet.stack("cluster-blue").resource!.aws_eks_cluster)[0],
  };
}

describe("a cluster's versions", () => {
  const example = exampleSources();
  const upgraded = withClusterFile(example, "clusters/blue.yaml", clusterFile(example, "blue").replace('"1.33"', '"1.34"'));

  it("come from the catalogue when not pinned, and follow the control plane on an upgrade", () => {
    const before = synthesizedVersions(example);
    const after = synthesizedVersions(upgraded);
    expect(before.addons).toEqual(VERSION_CATALOGUE["1.33"].addons);
    expect(after.addons).toEqual(VERSION_CATALOGUE["1.34"].addons);
    expect(after.addons["kube-proxy"]).not.toEqual(before.addons["kube-proxy"]);
    expect(before.chart).toBe("3.5.0");
    expect(before.cluster.upgrade_policy).toEqual({ support_type: "STANDARD" });
  });

  it("keep a pinned add-on and a pinned chart, and extended support when asked", () => {
    const pinned = withClusterFile(
      example,
      "clusters/blue.yaml",
      `${clusterFile(example, "blue")}supportType: EXTENDED\naddonVersions:\n  coredns: v1.12.1-eksbuild.2\nloadBalancerController:\n  chartVersion: 1.17.1\n`,
    );
    const versions = synthesizedVersions(pinned);
    expect(versions.addons).toEqual({ ...VERSION_CATALOGUE["1.33"].addons, coredns: "v1.12.1-eksbuild.2" });
    expect(versions.chart).toBe("1.17.1");
    expect(versions.cluster.upgrade_policy).toEqual({ support_type: "EXTENDED" });
  });
});
