/**
 * The version catalogue: the Kubernetes versions the fleet accepts and, for
 * each, the EKS add-on versions and the AWS Load Balancer Controller chart that
 * a cluster gets when its file pins none. Add-ons therefore follow the control
 * plane when `kubernetesVersion` changes. Update this file when EKS adds or
 * retires a version; `aws eks describe-addon-versions --kubernetes-version 1.35
 * --addon-name coredns` lists what EKS offers.
 */

/** Kubernetes minor versions that EKS offers (standard and extended support). */
export const SUPPORTED_KUBERNETES_VERSIONS = ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35"] as const;
export type KubernetesVersion = (typeof SUPPORTED_KUBERNETES_VERSIONS)[number];

/** The EKS add-ons every cluster runs. */
export const EKS_ADDONS = ["vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"] as const;
export type EksAddon = (typeof EKS_ADDONS)[number];

/**
 * aws-load-balancer-controller chart (controller v3.5.0). The chart declares no
 * `kubeVersion`; its README requires Kubernetes 1.22+ from chart 1.5.0 on, so it
 * supports every version above.
 */
export const LOAD_BALANCER_CONTROLLER_CHART = "3.5.0";

/** What a cluster of one Kubernetes version runs when its file pins nothing. */
export interface VersionDefaults {
  readonly addons: Readonly<Record<EksAddon, string>>;
  readonly loadBalancerControllerChart: string;
}

const defaults = (vpcCni: string, kubeProxy: string, coredns: string, podIdentityAgent: string): VersionDefaults => ({
  addons: { "vpc-cni": vpcCni, "kube-proxy": kubeProxy, coredns, "eks-pod-identity-agent": podIdentityAgent },
  loadBalancerControllerChart: LOAD_BALANCER_CONTROLLER_CHART,
});

/** Default versions per Kubernetes version, from the EKS add-on version tables. */
export const VERSION_CATALOGUE: Readonly<Record<KubernetesVersion, VersionDefaults>> = {
  "1.30": defaults("v1.20.1-eksbuild.3", "v1.30.14-eksbuild.28", "v1.11.4-eksbuild.33", "v1.3.2-eksbuild.2"),
  "1.31": defaults("v1.20.1-eksbuild.3", "v1.31.14-eksbuild.9", "v1.11.4-eksbuild.33", "v1.3.10-eksbuild.2"),
  "1.32": defaults("v1.20.1-eksbuild.3", "v1.32.13-eksbuild.5", "v1.11.4-eksbuild.33", "v1.3.10-eksbuild.2"),
  "1.33": defaults("v1.20.1-eksbuild.3", "v1.33.10-eksbuild.2", "v1.13.2-eksbuild.4", "v1.3.10-eksbuild.2"),
  "1.34": defaults("v1.20.4-eksbuild.2", "v1.34.6-eksbuild.2", "v1.13.2-eksbuild.4", "v1.3.10-eksbuild.2"),
  "1.35": defaults("v1.21.1-eksbuild.1", "v1.35.3-eksbuild.2", "v1.13.2-eksbuild.4", "v1.3.10-eksbuild.2"),
};

const range = (from: KubernetesVersion, to: KubernetesVersion): KubernetesVersion[] =>
  SUPPORTED_KUBERNETES_VERSIONS.slice(SUPPORTED_KUBERNETES_VERSIONS.indexOf(from), SUPPORTED_KUBERNETES_VERSIONS.indexOf(to) + 1);

/**
 * Kubernetes versions each add-on release line (`vMAJOR.MINOR`) runs on, as far
 * as the EKS tables tell; kube-proxy's line is the Kubernetes version itself.
 */
const ADDON_RELEASE_LINES: Readonly<Record<Exclude<EksAddon, "kube-proxy">, Readonly<Record<string, readonly KubernetesVersion[]>>>> = {
  "vpc-cni": { "v1.19": range("1.30", "1.32"), "v1.20": range("1.30", "1.34"), "v1.21": range("1.33", "1.35") },
  coredns: { "v1.11": range("1.30", "1.32"), "v1.12": range("1.33", "1.34"), "v1.13": range("1.33", "1.35"), "v1.14": range("1.35", "1.35") },
  "eks-pod-identity-agent": { "v1.3": range("1.30", "1.35") },
};

/** The Kubernetes versions a release of an add-on runs on; undefined when the catalogue does not know the release line. */
export function kubernetesVersionsOf(addon: EksAddon, version: string): readonly KubernetesVersion[] | undefined {
  const line = /^(v\d+\.\d+)\.\d+(-|$)/.exec(version)?.[1];
  if (!line) return undefined;
  if (addon === "kube-proxy") {
    const minor = line.slice(1) as KubernetesVersion;
    return SUPPORTED_KUBERNETES_VERSIONS.includes(minor) ? [minor] : undefined;
  }
  return ADDON_RELEASE_LINES[addon][line];
}

/** Why a pinned add-on version cannot run on a Kubernetes version, or undefined when it can. */
export function addonVersionProblem(addon: EksAddon, version: string, kubernetesVersion: KubernetesVersion): string | undefined {
  const supported = kubernetesVersionsOf(addon, version);
  const suggestion = `; ${VERSION_CATALOGUE[kubernetesVersion].addons[addon]} is the default for ${kubernetesVersion} (remove the pin to use it)`;
  if (!supported) {
    return `${version} is not a ${addon} release the version catalogue (modules/config/versions.ts) knows${suggestion}`;
  }
  if (!supported.includes(kubernetesVersion)) {
    return `${addon} ${version} does not support Kubernetes ${kubernetesVersion} (it runs on ${supported.join(", ")})${suggestion}`;
  }
  return undefined;
}

/** The add-on versions a cluster runs: its pins, else the catalogue's defaults for its Kubernetes version. */
export function effectiveAddonVersions(
  kubernetesVersion: KubernetesVersion,
  pinned: Readonly<Partial<Record<EksAddon, string>>>,
): Record<EksAddon, string> {
  const chosen = { ...VERSION_CATALOGUE[kubernetesVersion].addons };
  for (const addon of EKS_ADDONS) chosen[addon] = pinned[addon] ?? chosen[addon];
  return chosen;
}
