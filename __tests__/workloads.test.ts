import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { projectRoot } from "../modules/support/project-root";
import { POD_READINESS_GATE_LABEL } from "../modules/workloads/namespaces";
import { describeWithTerraform } from "./helpers/terraform-checks";
import { exampleSources, resourcesOf, StackJson, synthFleet, withClusterFile } from "./helpers/fleet";
import { problemsOf } from "./helpers/config-problems";

type Resource = Record<string, unknown> & { depends_on?: string[] };

const example = exampleSources();
const clusterFile = (sources: ConfigSources, name: string) => sources.clusters.find((c) => c.file === `clusters/${name}.yaml`)!.text;
const editPlatform = (sources: ConfigSources, edit: (text: string) => string): ConfigSources => ({
  ...sources,
  platform: { ...sources.platform, text: edit(sources.platform.text) },
});
const editCluster = (sources: ConfigSources, name: string, edit: (text: string) => string): ConfigSources =>
  withClusterFile(sources, `clusters/${name}.yaml`, edit(clusterFile(sources, name)));
/** Replaces the example web service's `workload:` block (the end of platform.yaml's service) with `block`. */
const withWebRunner = (sources: ConfigSources, block: string): ConfigSources =>
  editPlatform(sources, (text) => text.replace(/    # What runs it[\s\S]*$/, () => block));

function only(stack: StackJson, type: string): Resource {
  const resources = Object.values(resourcesOf(stack, type));
  expect(resources).toHaveLength(1);
  return resources[0] as Resource;
}

function addressOf(stack: StackJson, type: string): string {
  return `${type}.${Object.keys(resourcesOf(stack, type))[0]}`;
}

function changedStacks(before: ReturnType<typeof synthFleet>, after: ReturnType<typeof synthFleet>): string[] {
  return Object.keys(after.stackTexts).filter((s) => before.stackTexts[s] !== after.stackTexts[s]);
}

describe("the example's web service in cluster-blue-k8s", () => {
  const fleet = synthFleet(example);
  const stack = fleet.stack("cluster-blue-k8s");
  const deployment = only(stack, "kubernetes_deployment_v1");
  const spec = deployment.spec as {
    replicas: string;
    template: { metadata: { annotations: Record<string, string> }; spec: Record<string, unknown> & { container: Record<string, unknown>[] } };
  };
  const container = spec.template.spec.container[0];

  it("lists exactly these in-cluster resources", () => {
    const types = Object.fromEntries(Object.entries(stack.resource!).map(([type, byName]) => [type, Object.keys(byName).length]));
    expect(types).toEqual({
      helm_release: 2,
      // The plan role's read access (platform.yaml clusterAccess.planPrincipalArn).
      kubernetes_cluster_role_v1: 1,
      kubernetes_cluster_role_binding_v1: 1,
      kubernetes_role_v1: 2,
      kubernetes_role_binding_v1: 2,
      kubernetes_config_map_v1: 1,
      kubernetes_deployment_v1: 1,
      kubernetes_manifest: 1,
      kubernetes_namespace_v1: 1,
      kubernetes_pod_disruption_budget_v1: 1,
      kubernetes_service_v1: 1,
    });
    expect(Object.keys(stack.data!.helm_template)).toHaveLength(1);
  });

  it("creates the namespace with pod readiness gates", () => {
    expect(only(stack, "kubernetes_namespace_v1").metadata).toEqual({ name: "web", labels: { [POD_READINESS_GATE_LABEL]: "enabled" } });
  });

  it("runs the pinned nginx image, told which cluster it is in", () => {
    expect(container.image).toBe("public.ecr.aws/nginx/nginx-unprivileged:1.30.4-alpine");
    expect(container.env).toEqual([
      { name: "CLUSTER_NAME", value: "blue" },
      { name: "FLEET_NAME", value: "demo" },
    ]);
    expect(spec.replicas).toBe("2");
    expect(only(fleet.stack("cluster-green-k8s"), "kubernetes_deployment_v1").spec).toMatchObject({
      template: { spec: { container: [{ env: [{ name: "CLUSTER_NAME", value: "green" }, { name: "FLEET_NAME", value: "demo" }] }] } },
    });
  });

  it("configures nginx with a ConfigMap whose ${...} reaches the pod literally, and rolls pods when it changes", () => {
    const config = only(stack, "kubernetes_config_map_v1");
    const template = (config.data as Record<string, string>)["default.conf.template"];
    expect(template).toContain('return 200 "$${CLUSTER_NAME}\\n"');
    expect(template).toContain("location = /healthz");
    expect(template).not.toMatch(/(^|[^$])\$\{/);
    expect(container.volume_mount).toEqual([
      { name: "config", mount_path: "/etc/nginx/templates", read_only: true },
      { name: "writable-0", mount_path: "/etc/nginx/conf.d" },
      { name: "writable-1", mount_path: "/tmp" },
    ]);
    expect(spec.template.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is ready only when the health-check path answers, on the container port", () => {
    expect(container.readiness_probe).toMatchObject({ http_get: { path: "/healthz", port: "8080" } });
    expect(container.port).toEqual([{ name: "http", container_port: 8080, protocol: "TCP" }]);
  });

  it("runs as non-root with a read-only root filesystem and no capabilities", () => {
    expect(spec.template.spec.security_context).toEqual({ run_as_non_root: true, seccomp_profile: { type: "RuntimeDefault" } });
    expect(container.security_context).toEqual({
      allow_privilege_escalation: false,
      read_only_root_filesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(spec.template.spec.automount_service_account_token).toBe(false);
  });

  it("drains before stopping: a preStop sleep, then SIGTERM, with a grace period beyond the deregistration delay", () => {
    // 15 s preStop sleep, the target group's 30 s deregistration delay, 10 s more to finish requests.
    expect(container.lifecycle).toEqual({ pre_stop: [{ exec: { command: ["sleep", "15"] } }] });
    expect(spec.template.spec.termination_grace_period_seconds).toBe(55);
  });

  it("spreads pods across zones and keeps all of them through voluntary disruptions but one", () => {
    expect(spec.template.spec.topology_spread_constraint).toEqual([
      { topology_key: "topology.kubernetes.io/zone", max_skew: 1, when_unsatisfiable: "ScheduleAnyway", label_selector: [{ match_labels: { "app.kubernetes.io/name": "web" } }] },
    ]);
    expect(only(stack, "kubernetes_pod_disruption_budget_v1").spec).toEqual({ max_unavailable: "1", selector: { match_labels: { "app.kubernetes.io/name": "web" } } });
  });

  it("exposes the Service the binding refers to: service port to container port", () => {
    const service = only(stack, "kubernetes_service_v1");
    expect(service.metadata).toMatchObject({ name: "web", namespace: "web" });
    expect(service.spec).toEqual({
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": "web" },
      port: [{ name: "http", port: 80, target_port: "8080", protocol: "TCP" }],
    });
  });

  it("orders a first deploy: CRDs, controller, then pods, then the binding", () => {
    const releases = resourcesOf(stack, "helm_release") as Record<string, Resource>;
    const [controllerKey, controller] = Object.entries(releases).find(([, r]) => r.name === "aws-load-balancer-controller")!;
    const binding = Object.values(releases).find((r) => String(r.name).startsWith("target-group-binding-web-"))!;
    expect(controller.depends_on).toEqual([addressOf(stack, "kubernetes_manifest")]);
    expect(deployment.depends_on).toEqual([addressOf(stack, "kubernetes_namespace_v1"), `helm_release.${controllerKey}`]);
    expect(binding.depends_on).toEqual([
      `helm_release.${controllerKey}`,
      addressOf(stack, "kubernetes_namespace_v1"),
      addressOf(stack, "kubernetes_service_v1"),
    ]);
  });

  it("uses no kubernetes_manifest of a kind that the same apply installs", () => {
    for (const name of Object.keys(fleet.stackTexts)) {
      for (const manifest of Object.values(resourcesOf(fleet.stack(name), "kubernetes_manifest"))) {
        // The only manifests are the chart's CRDs, a built-in kind, filtered by kind.
        expect(manifest.for_each).toMatch(/^\$\{local\.lb-controller_crds_by-name_[0-9A-F]+\}$/);
      }
    }
    const local = Object.values((stack as { locals: Record<string, string> }).locals)[0];
    expect(local).toContain('if crd.kind == "CustomResourceDefinition"');
  });

  it("has the addresses that the runbook imports adopted objects into", () => {
    const runbook = fs.readFileSync(path.join(projectRoot(), "docs/runbooks.md"), "utf8");
    const addresses = [...runbook.matchAll(/terraform import "?(kubernetes_[a-z0-9_]+\.[A-Za-z0-9_-]+)/g)].map((m) => m[1]);
    expect(addresses).toHaveLength(2);
    for (const address of addresses) expect(Object.keys(resourcesOf(stack, address.split(".")[0]))).toContain(address.split(".")[1]);
  });

  it("authenticates the Kubernetes provider like the Helm provider, and pins both", () => {
    const kubernetes = stack.provider!.kubernetes[0] as { exec: unknown[]; host: string; cluster_ca_certificate: string };
    const helm = (stack.provider!.helm[0] as { kubernetes: { exec: unknown; host: string; cluster_ca_certificate: string } }).kubernetes;
    expect(kubernetes.exec).toEqual([helm.exec]);
    expect(kubernetes.host).toBe(helm.host);
    expect(kubernetes.cluster_ca_certificate).toBe(helm.cluster_ca_certificate);
    expect(helm.exec).toMatchObject({ command: "aws", args: expect.arrayContaining(["eks", "get-token"]) });
    expect(stack.terraform!.required_providers).toMatchObject({ kubernetes: { version: "2.38.0" }, helm: { version: "3.1.1" } });
  });
});

describe("stack layout", () => {
  const before = synthFleet(example);

  it("a per-cluster replica override changes only that cluster's in-cluster stack", () => {
    const after = synthFleet(editCluster(example, "blue", (t) => `${t}workloads:\n  web:\n    replicas: 4\n`));
    expect(changedStacks(before, after)).toEqual(["cluster-blue-k8s"]);
    expect((only(after.stack("cluster-blue-k8s"), "kubernetes_deployment_v1").spec as { replicas: string }).replicas).toBe("4");
  });

  it("an image change plans only the in-cluster stacks", () => {
    const after = synthFleet(editPlatform(example, (t) => t.replace("1.30.4-alpine", "1.30.5-alpine")));
    expect(changedStacks(before, after)).toEqual(["cluster-blue-k8s", "cluster-green-k8s"]);
  });

  it("a weight change still touches only the listener rule", () => {
    const after = synthFleet(editCluster(example, "green", (t) => t.replace("web: 50", "web: 20")));
    expect(changedStacks(before, after)).toEqual(["edge"]);
  });

  it("a controller chart bump changes that cluster's CRDs, their source and the release", () => {
    const after = synthFleet(editCluster(example, "blue", (t) => `${t}loadBalancerController:\n  chartVersion: 3.6.0\n`));
    expect(changedStacks(before, after)).toEqual(["cluster-blue-k8s"]);
    const [crdBefore, crdAfter] = [before, after].map((f) => only(f.stack("cluster-blue-k8s"), "kubernetes_manifest"));
    expect(crdBefore.manifest).toContain('"helm.sh/chart" = "aws-load-balancer-controller-3.5.0"');
    expect(crdAfter.manifest).toContain('"helm.sh/chart" = "aws-load-balancer-controller-3.6.0"');
    const template = Object.values(after.stack("cluster-blue-k8s").data!.helm_template)[0];
    expect(template).toMatchObject({ chart: "aws-load-balancer-controller", version: "3.6.0", include_crds: true });
    const controller = Object.values(resourcesOf(after.stack("cluster-blue-k8s"), "helm_release")).find((r) => r.name === "aws-load-balancer-controller")!;
    expect(controller).toMatchObject({ version: "3.6.0", skip_crds: true });
  });
});

describe("workload options", () => {
  const autoscaled = withWebRunner(
    example,
    ["    workload:", "      image: registry.example.com/team/web@sha256:" + "a".repeat(64), "      minReplicas: 3", "      maxReplicas: 9", "      env: { GREETING: 'hi ${USER}' }", ""].join("\n"),
  );

  it("adds a HorizontalPodAutoscaler when min and max replicas are given, which then owns the replica count", () => {
    const stack = synthFleet(autoscaled).stack("cluster-blue-k8s");
    expect(only(stack, "kubernetes_horizontal_pod_autoscaler_v2").spec).toMatchObject({
      min_replicas: 3,
      max_replicas: 9,
      scale_target_ref: { kind: "Deployment" },
      metric: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", average_utilization: 70 } } }],
    });
    const deployment = only(stack, "kubernetes_deployment_v1");
    expect(deployment.lifecycle).toEqual({ ignore_changes: ["spec[0].replicas"] });
    expect((deployment.spec as { replicas: string }).replicas).toBe("3");
    expect(resourcesOf(stack, "kubernetes_config_map_v1")).toEqual({});
    expect(JSON.stringify(deployment)).toContain('"value":"hi $${USER}"');
  });

  it("passes variables named constructor and toString as plain names, kept in a map without a prototype", () => {
    const sources = withWebRunner(example, "    workload:\n      image: a.io/b:1.0\n      env: { constructor: a, toString: b }\n");
    const env = parseFleetConfig(sources).platform.services[0].workload!.env;
    expect(Object.getPrototypeOf(env)).toBeNull();
    expect({ ...env }).toEqual({ constructor: "a", toString: "b" });
    const spec = only(synthFleet(sources).stack("cluster-blue-k8s"), "kubernetes_deployment_v1").spec as { template: { spec: { container: { env: unknown }[] } } };
    expect(spec.template.spec.container[0].env).toEqual([
      { name: "CLUSTER_NAME", value: "blue" },
      { name: "FLEET_NAME", value: "demo" },
      { name: "constructor", value: "a" },
      { name: "toString", value: "b" },
    ]);
  });

  it("writes configuration files named constructor and toString as plain names, kept in a map without a prototype", () => {
    const sources = withWebRunner(example, "    workload:\n      image: a.io/b:1.0\n      config: { mountPath: /etc/app, files: { constructor: a, toString: b } }\n");
    const files = parseFleetConfig(sources).platform.services[0].workload!.config!.files;
    expect(Object.getPrototypeOf(files)).toBeNull();
    expect(only(synthFleet(sources).stack("cluster-blue-k8s"), "kubernetes_config_map_v1").data).toEqual({ constructor: "a", toString: "b" });
  });

  it("takes the preStop sleep and grace period from the workload, the grace period's default following both delays", () => {
    const deploymentOf = (lines: string, delay = "") => {
      const sources = editPlatform(withWebRunner(example, `    workload:\n      image: a.io/b:1.0\n${lines}`), (t) => t.replace("priority: 100", `priority: 100${delay}`));
      return (only(synthFleet(sources).stack("cluster-blue-k8s"), "kubernetes_deployment_v1").spec as { template: { spec: Record<string, unknown> & { container: Record<string, unknown>[] } } }).template.spec;
    };
    const noSleep = deploymentOf("      preStopSleepSeconds: 0\n", "\n    deregistrationDelaySeconds: 120");
    expect(noSleep.container[0].lifecycle).toBeUndefined();
    expect(noSleep.termination_grace_period_seconds).toBe(130);
    const explicit = deploymentOf("      preStopSleepSeconds: 5\n      terminationGracePeriodSeconds: 36\n");
    expect(explicit.container[0].lifecycle).toEqual({ pre_stop: [{ exec: { command: ["sleep", "5"] } }] });
    expect(explicit.termination_grace_period_seconds).toBe(36);
  });

  it("takes autoscaler bounds from the cluster file", () => {
    const stack = synthFleet(editCluster(autoscaled, "green", (t) => `${t}workloads:\n  web: { minReplicas: 2, maxReplicas: 4 }\n`)).stack("cluster-green-k8s");
    expect(only(stack, "kubernetes_horizontal_pod_autoscaler_v2").spec).toMatchObject({ min_replicas: 2, max_replicas: 4 });
  });

  const standby = (sources: ConfigSources, standbyNodes: number) =>
    editCluster(editCluster(sources, "green", (t) => t.replace("web: 50", "web: 0").replace("weights:", `state: standby\nstandbyNodes: ${standbyNodes}\nweights:`)), "blue", (t) => t);

  it("scales a standby cluster's workloads down with its nodes, without autoscaling", () => {
    const one = synthFleet(standby(autoscaled, 1)).stack("cluster-green-k8s");
    expect((only(one, "kubernetes_deployment_v1").spec as { replicas: string }).replicas).toBe("1");
    expect(resourcesOf(one, "kubernetes_horizontal_pod_autoscaler_v2")).toEqual({});
  });

  it("keeps today's behaviour for a service with neither workload nor chart: namespace and binding only", () => {
    const stack = synthFleet(withWebRunner(example, "")).stack("cluster-blue-k8s");
    const kinds = Object.keys(stack.resource!).filter((type) => !/^kubernetes_(cluster_)?role/.test(type));
    expect(kinds.sort()).toEqual(["helm_release", "kubernetes_manifest", "kubernetes_namespace_v1"]);
    const binding = Object.values(resourcesOf(stack, "helm_release")).find((r) => String(r.name).startsWith("target-group-binding-web-")) as Resource;
    expect(binding.depends_on).toEqual([expect.stringMatching(/^helm_release\./), addressOf(stack, "kubernetes_namespace_v1")]);
  });

  it("creates no namespace managed elsewhere, and labels the default namespace instead of creating it", () => {
    const elsewhere = synthFleet(withWebRunner(example, "    manageNamespace: false\n")).stack("cluster-blue-k8s");
    expect(resourcesOf(elsewhere, "kubernetes_namespace_v1")).toEqual({});
    expect(resourcesOf(elsewhere, "kubernetes_labels")).toEqual({});
    const inDefault = synthFleet(editPlatform(withWebRunner(example, ""), (t) => t.replace("namespace: web", "namespace: default"))).stack("cluster-blue-k8s");
    expect(resourcesOf(inDefault, "kubernetes_namespace_v1")).toEqual({});
    expect(only(inDefault, "kubernetes_labels")).toMatchObject({
      api_version: "v1",
      kind: "Namespace",
      metadata: { name: "default" },
      labels: { [POD_READINESS_GATE_LABEL]: "enabled" },
    });
  });
});

describe("chart services", () => {
  const values = "replicaCount: 3\nimage:\n  tag: '1.2.3'\nannotation: '${not-terraform}'\n";
  const withChart = (sources: ConfigSources) => ({
    ...withWebRunner(
      sources,
      ["    chart:", "      repository: oci://registry.example.com/charts", "      name: web", "      version: 1.2.3", "      valuesFile: apps/web/values.yaml", ""].join("\n"),
    ),
    readFile: (file: string) => (file === "apps/web/values.yaml" ? values : undefined),
  });

  it("releases the pinned chart with its values file in each cluster routing the service", () => {
    const stack = synthFleet(withChart(example)).stack("cluster-blue-k8s");
    const release = Object.values(resourcesOf(stack, "helm_release")).find((r) => r.name === "web") as Resource;
    expect(release).toMatchObject({ namespace: "web", repository: "oci://registry.example.com/charts", chart: "web", version: "1.2.3", atomic: true, wait: true });
    expect(release.values).toEqual([values.replace("${not", () => "$${not")]);
    expect(release.set).toBeUndefined();
    expect(resourcesOf(stack, "kubernetes_deployment_v1")).toEqual({});
    const binding = Object.values(resourcesOf(stack, "helm_release")).find((r) => String(r.name).startsWith("target-group-binding-web-")) as Resource;
    expect(binding.depends_on).toContain(`helm_release.${Object.entries(resourcesOf(stack, "helm_release")).find(([, r]) => r.name === "web")![0]}`);
  });

  it("sets the replica value from the cluster file and on standby", () => {
    const overridden = synthFleet(editCluster(withChart(example), "blue", (t) => `${t}workloads:\n  web:\n    replicas: 5\n`)).stack("cluster-blue-k8s");
    const release = Object.values(resourcesOf(overridden, "helm_release")).find((r) => r.name === "web");
    expect(release!.set).toEqual([{ name: "replicaCount", value: "5", type: "auto" }]);
    const onStandby = synthFleet(editCluster(withChart(example), "green", (t) => t.replace("web: 50", "web: 0").replace("weights:", "state: standby\nweights:"))).stack("cluster-green-k8s");
    expect(Object.values(resourcesOf(onStandby, "helm_release")).find((r) => r.name === "web")!.set).toEqual([{ name: "replicaCount", value: "1", type: "auto" }]);
  });

  it("rejects a missing or malformed values file, naming the field", () => {
    expect(problemsOf({ ...withChart(example), readFile: () => undefined })).toEqual([
      "platform.yaml: services[0].chart.valuesFile: apps/web/values.yaml does not exist",
    ]);
    expect(problemsOf({ ...withChart(example), readFile: () => "- a list\n" })[0]).toMatch(/^platform\.yaml: services\[0\]\.chart\.valuesFile: apps\/web\/values\.yaml is not a YAML mapping/);
  });
});

describe("workload configuration errors name the file and the field", () => {
  const workload = (lines: string[]) => withWebRunner(example, ["    workload:", ...lines.map((l) => `      ${l}`), ""].join("\n"));
  const cases: [string, ConfigSources, RegExp][] = [
    ["an unpinned image", workload(["image: public.ecr.aws/nginx/nginx:latest"]), /^platform\.yaml: services\[0\]\.workload\.image: must be pinned/],
    ["an image with a moving tag", workload(["image: nginx/nginx:stable-alpine"]), /^platform\.yaml: services\[0\]\.workload\.image: must be pinned/],
    ["only one autoscaler bound", workload(["image: a.io/b:1.0", "minReplicas: 2"]), /^platform\.yaml: services\[0\]\.workload\.maxReplicas: give both minReplicas and maxReplicas/],
    ["bounds the wrong way round", workload(["image: a.io/b:1.0", "minReplicas: 4", "maxReplicas: 2"]), /^platform\.yaml: services\[0\]\.workload\.maxReplicas: maxReplicas \(2\) is below minReplicas \(4\)/],
    ["a variable the fleet sets", workload(["image: a.io/b:1.0", "env: { CLUSTER_NAME: x }"]), /^platform\.yaml: services\[0\]\.workload\.env\.CLUSTER_NAME: is set by the fleet/],
    [
      "a variable named __proto__",
      workload(["image: a.io/b:1.0", "env: { __proto__: x }"]),
      /^platform\.yaml: services\[0\]\.workload\.env\.__proto__: "__proto__" cannot be used as a key$/,
    ],
    [
      "a grace period that ends before the target group has drained",
      workload(["image: a.io/b:1.0", "preStopSleepSeconds: 20", "terminationGracePeriodSeconds: 50"]),
      /^platform\.yaml: services\[0\]\.workload\.terminationGracePeriodSeconds: 50 s ends before the pod has drained: it must exceed preStopSleepSeconds \(20\) plus the target group's deregistrationDelaySeconds \(30\)/,
    ],
    ["a relative writable directory", workload(["image: a.io/b:1.0", "writableDirs: [tmp]"]), /^platform\.yaml: services\[0\]\.workload\.writableDirs\[0\]: must be an absolute path/],
    [
      "both workload and chart",
      withWebRunner(example, "    workload: { image: a.io/b:1.0 }\n    chart: { repository: https://c.io, name: c, version: 1.0.0 }\n"),
      /^platform\.yaml: services\[0\]\.chart: give `workload` or `chart`, not both/,
    ],
    ["a chart without an exact version", withWebRunner(example, "    chart: { repository: https://c.io, name: c, version: '^1.0' }\n"), /^platform\.yaml: services\[0\]\.chart\.version: must be an exact chart version/],
    [
      "an override of an unknown service",
      editCluster(example, "blue", (t) => `${t}workloads:\n  api: { replicas: 2 }\n`),
      /^clusters\/blue\.yaml: workloads\.api: unknown service "api"/,
    ],
    [
      "an override of a service the fleet does not run",
      editCluster(withWebRunner(example, ""), "blue", (t) => `${t}workloads:\n  web: { replicas: 2 }\n`),
      /^clusters\/blue\.yaml: workloads\.web: service web has no workload or chart/,
    ],
    [
      "autoscaler bounds for a workload that does not autoscale",
      editCluster(example, "blue", (t) => `${t}workloads:\n  web: { maxReplicas: 2 }\n`),
      /^clusters\/blue\.yaml: workloads\.web\.maxReplicas: service web does not autoscale/,
    ],
  ];

  it.each(cases)("%s", (_, sources, expected) => {
    expect(problemsOf(sources).join("\n")).toMatch(expected);
  });

  it("rejects services sharing a namespace that disagree on who manages it", () => {
    const twoServices = editPlatform(withWebRunner(example, ""), (t) =>
      `${t}  - name: api\n    namespace: web\n    manageNamespace: false\n    servicePort: 80\n    containerPort: 8080\n    paths: ["/api/*"]\n    priority: 90\n`,
    );
    const routed = editCluster(twoServices, "blue", (t) => t.replace("web: 50", "web: 50\n  api: 10"));
    expect(problemsOf(routed)).toContain(
      'platform.yaml: services[1].manageNamespace: is false, but services[0] shares namespace "web" with manageNamespace true',
    );
  });
});

describeWithTerraform("user text in the synthesized JSON", (terraform) => {
  it("reaches Kubernetes as written: Terraform evaluates the ConfigMap's and the environment's strings to the original text", () => {
    const sources = withWebRunner(example, "    workload:\n      image: a.io/b:1.0\n      env: { TEMPLATE: 'a ${b} %{c} $${d}' }\n      config: { mountPath: /etc/app, files: { x: '${CLUSTER_NAME} %{ if y }' } }\n");
    const stack = synthFleet(sources).stack("cluster-blue-k8s");
    const data = only(stack, "kubernetes_config_map_v1").data as Record<string, string>;
    const env = ((only(stack, "kubernetes_deployment_v1").spec as { template: { spec: { container: { env: { name: string; value: string }[] }[] } } })
      .template.spec.container[0].env).find((e) => e.name === "TEMPLATE")!.value;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "literal-"));
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ output: { file: { value: data.x }, env: { value: env } } }));
    const run = (args: string[]) => execFileSync("terraform", args, { cwd: dir, env: terraform.env, encoding: "utf8" });
    run(["init", "-input=false", "-no-color"]);
    run(["apply", "-auto-approve", "-input=false", "-no-color"]);
    const outputs = JSON.parse(run(["output", "-json"])) as Record<string, { value: string }>;
    expect(outputs.file.value).toBe("${CLUSTER_NAME} %{ if y }");
    expect(outputs.env.value).toBe("a ${b} %{c} $${d}");
  });
});
