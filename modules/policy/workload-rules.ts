import type { PolicyRule, ResourceJson } from "./rule";

const WORKLOAD_TYPES = ["kubernetes_deployment_v1"];

/** A nested block: cdktf writes single blocks as objects, Terraform JSON also allows lists. */
function first(value: unknown): ResourceJson {
  return ((Array.isArray(value) ? value[0] : value) ?? {}) as ResourceJson;
}

function podSpec(deployment: ResourceJson): ResourceJson {
  return first(first(first(deployment.spec).template).spec);
}

function containers(deployment: ResourceJson): ResourceJson[] {
  const list = podSpec(deployment).container;
  return (Array.isArray(list) ? list : list === undefined ? [] : [list]) as ResourceJson[];
}

const isTrue = (value: unknown) => value === true || value === "true";
const isFalse = (value: unknown) => value === false || value === "false";

/** The names of containers for which `holds` is false, as a finding, or undefined when it holds for all. */
function everyContainer(deployment: ResourceJson, what: string, holds: (container: ResourceJson) => boolean): string | undefined {
  const failing = containers(deployment).filter((c) => !holds(c)).map((c) => String(c.name));
  return failing.length > 0 ? `container ${failing.join(", ")}: ${what}` : undefined;
}

/** Rules on the pods the fleet runs, as Checkov's and Trivy's Kubernetes checks judge them. */
export const WORKLOAD_POLICY_RULES: readonly PolicyRule[] = [
  {
    id: "k8s-non-root",
    title: "Pods run as a non-root user",
    checkov: ["CKV_K8S_23"],
    trivy: ["KSV012"],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) => {
      const podLevel = isTrue(first(podSpec(deployment).security_context).run_as_non_root);
      return everyContainer(deployment, "may run as root (runAsNonRoot)", (c) => podLevel || isTrue(first(c.security_context).run_as_non_root));
    },
  },
  {
    id: "k8s-read-only-root-filesystem",
    title: "Containers have a read-only root filesystem",
    checkov: ["CKV_K8S_22"],
    trivy: ["KSV014"],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) => everyContainer(deployment, "writable root filesystem", (c) => isTrue(first(c.security_context).read_only_root_filesystem)),
  },
  {
    id: "k8s-no-privilege-escalation",
    title: "Containers can neither escalate privileges nor run privileged",
    checkov: ["CKV_K8S_20", "CKV_K8S_16"],
    trivy: ["KSV001", "KSV017"],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) =>
      everyContainer(deployment, "may escalate privileges", (c) => {
        const context = first(c.security_context);
        return isFalse(context.allow_privilege_escalation) && !isTrue(context.privileged);
      }),
  },
  {
    id: "k8s-capabilities-dropped",
    title: "Containers drop all Linux capabilities",
    checkov: ["CKV_K8S_37", "CKV_K8S_28"],
    trivy: ["KSV003"],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) =>
      everyContainer(deployment, "does not drop ALL capabilities", (c) => ((first(first(c.security_context).capabilities).drop as string[] | undefined) ?? []).includes("ALL")),
  },
  {
    id: "k8s-seccomp",
    title: "Pods use the runtime's default seccomp profile",
    checkov: ["CKV_K8S_31"],
    trivy: ["KSV030"],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) => {
      const type = first(first(podSpec(deployment).security_context).seccomp_profile).type;
      return type === "RuntimeDefault" || type === "Localhost" ? undefined : "no seccomp profile";
    },
  },
  {
    id: "k8s-service-account-token",
    title: "Pods do not mount a service account token they do not use",
    checkov: ["CKV_K8S_38"],
    trivy: ["KSV036"],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) => (isFalse(podSpec(deployment).automount_service_account_token) ? undefined : "mounts a service account token"),
  },
  {
    id: "k8s-image-pinned",
    title: "Images are pinned to a version or digest",
    checkov: ["CKV_K8S_14"],
    trivy: ["KSV013"],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) =>
      everyContainer(deployment, "image not pinned", (c) => {
        const image = String(c.image ?? "");
        const tag = /:([^/:@]+)$/.exec(image.split("@")[0])?.[1];
        return image.includes("@sha256:") || (tag !== undefined && tag !== "latest");
      }),
  },
  {
    id: "k8s-resources",
    title: "Containers request CPU and memory and limit memory",
    checkov: ["CKV_K8S_10", "CKV_K8S_12", "CKV_K8S_13"],
    trivy: ["KSV015", "KSV016", "KSV018"],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) =>
      everyContainer(deployment, "missing CPU/memory requests or memory limit", (c) => {
        const resources = first(c.resources);
        const requests = first(resources.requests);
        return requests.cpu !== undefined && requests.memory !== undefined && first(resources.limits).memory !== undefined;
      }),
  },
  {
    id: "k8s-readiness-probe",
    title: "Containers have a readiness probe",
    checkov: ["CKV_K8S_9"],
    trivy: [],
    resourceTypes: WORKLOAD_TYPES,
    check: (deployment) => everyContainer(deployment, "no readiness probe", (c) => c.readiness_probe !== undefined),
  },
];
