import { checkTransition } from "../modules/config/lifecycle";
import { ConfigError, ConfigSources, parseFleetConfig } from "../modules/config/load";
import { generatedFleetSources, generatedMultiAlbFleetSources } from "../scripts/lib/generated-fleet";
import { problemsOf } from "./helpers/config-problems";
import { exampleSources, resourcesOf, synthFleet, withClusterFile } from "./helpers/fleet";

const example = exampleSources();
const editPlatform = (sources: ConfigSources, edit: (text: string) => string): ConfigSources => ({
  ...sources,
  platform: { ...sources.platform, text: edit(sources.platform.text) },
});
const editCluster = (sources: ConfigSources, name: string, edit: (text: string) => string): ConfigSources =>
  withClusterFile(sources, `clusters/${name}.yaml`, edit(sources.clusters.find((c) => c.file === `clusters/${name}.yaml`)!.text));
const accepted = (sources: ConfigSources) => expect(() => parseFleetConfig(sources)).not.toThrow();
const tagLines = (count: number, prefix = "t") => Array.from({ length: count }, (_, i) => `  ${prefix}${i}: v`).join("\n");

describe("ALB quotas are refused at synth, naming the file, the field and the limit", () => {
  it("target groups per ALB: 102 refused, 100 accepted", () => {
    expect(problemsOf(generatedFleetSources(102))).toEqual([
      "platform.yaml: services: the routes of the services on alb need 102 target groups (one per service and cluster giving it a weight); an ALB takes at most 100: declare another ALB under albs and put services on it (services[].alb), or route services to fewer clusters",
    ]);
    accepted(generatedFleetSources(100));
  });

  it("target groups per ALB while a change applies: replacements are created before the groups they replace", () => {
    // 98 target groups; svc0 is routed to 5 clusters, and a new container port replaces its 5 groups.
    const base = generatedFleetSources(98);
    const newPort = editPlatform(base, (t) => t.replace("containerPort: 8080", "containerPort: 7000"));
    expect(checkTransition(parseFleetConfig(base), parseFleetConfig(newPort)).map((p) => `${p.file}: ${p.field}: ${p.message}`)).toEqual([
      "platform.yaml: services: the change needs 103 target groups on alb at once while it applies (98 after it, and 5 of the deployed ones replaced by a new container port or removed, which go only once the new ones exist); an ALB takes at most 100: make the change in smaller steps",
    ]);
    const smaller = generatedFleetSources(95);
    expect(checkTransition(parseFleetConfig(smaller), parseFleetConfig(editPlatform(smaller, (t) => t.replace("containerPort: 8080", "containerPort: 7000"))))).toEqual([]);
  });

  it("condition values and match evaluations per rule: 3 hosts with 3 paths refused, as 2 hosts with 3 paths; 2 with 2 accepted", () => {
    const conditions = (hosts: number, paths: number) =>
      editPlatform(example, (t) =>
        t.replace('    paths: ["/*"]', `    hosts: [${Array.from({ length: hosts }, (_, i) => `h${i}.example.com`).join(", ")}]\n    paths: [${Array.from({ length: paths }, (_, i) => `/p${i}/*`).join(", ")}]`),
      );
    expect(problemsOf(conditions(3, 3))).toEqual([
      "platform.yaml: services[0].paths: 3 hosts and 3 paths make 6 condition values and 9 match evaluations (each host with each path) of one listener rule; an ALB rule takes at most 5 of each: use wildcards (*.example.com, /api/*) or split the service",
    ]);
    expect(problemsOf(conditions(2, 3))[0]).toContain("5 condition values and 6 match evaluations");
    accepted(conditions(2, 2));
    accepted(conditions(1, 4));
  });

  it("listener rules per ALB: 101 services refused", () => {
    const services = Array.from({ length: 101 }, (_, i) => `  - { name: s${i}, servicePort: 80, containerPort: 8080, paths: ["/s${i}/*"], priority: ${i + 1} }`).join("\n");
    const many = editPlatform(example, (t) => t.replace(/services:\n[\s\S]*$/, `services:\n${services}\n`));
    const routed = editCluster(editCluster(many, "blue", (t) => t.replace("web: 50", "s0: 50")), "green", (t) => t.replace("web: 50", "s0: 50"));
    expect(problemsOf(routed).filter((p) => p.startsWith("platform.yaml: services: "))).toEqual([
      "platform.yaml: services: 101 services on alb need 101 listener rules; an ALB takes at most 100: declare another ALB under albs and put services on it (services[].alb)",
    ]);
  });

  it("targets per ALB: replicas in every cluster with a rollout's surge, autoscaled workloads at maxReplicas", () => {
    const replicas = (count: number) => editPlatform(example, (t) => t.replace("      replicas: 2", `      replicas: ${count}`));
    // 2 clusters × (400 + 25% surge) = 1,000: the limit itself.
    accepted(replicas(400));
    expect(problemsOf(replicas(401))).toEqual([
      "platform.yaml: services: the services on alb register up to 1004 targets in its target groups (pods per cluster, autoscaled ones at maxReplicas, with a rollout's 25% surge; most: web in blue 502, web in green 502); an ALB takes at most 1,000 targets: lower replicas or maxReplicas, declare another ALB under albs and put services on it (services[].alb), or route services to fewer clusters",
    ]);
    const autoscaled = editPlatform(example, (t) => t.replace("      replicas: 2", "      minReplicas: 2\n      maxReplicas: 450"));
    expect(problemsOf(autoscaled)[0]).toContain("up to 1126 targets");
    // The cluster file's bounds count, not the service's.
    accepted(editCluster(autoscaled, "green", (t) => `${t}workloads:\n  web: { minReplicas: 2, maxReplicas: 300 }\n`));
  });

  it("targets per ALB count a chart's replicas from its values file or the cluster file", () => {
    const withChart = (values: string) => ({
      ...editPlatform(example, (t) => t.replace(/    workload:[\s\S]*$/, "    chart: { repository: https://c.example.com, name: web, version: 1.0.0, valuesFile: web.yaml }\n")),
      readFile: (file: string) => (file === "web.yaml" ? values : undefined),
    });
    expect(problemsOf(withChart("replicaCount: 420\n"))[0]).toContain("up to 1050 targets");
    accepted(editCluster(withChart("replicaCount: 420\n"), "green", (t) => `${t}workloads:\n  web: { replicas: 2 }\n`));
  });
});

describe("tags per resource", () => {
  const withTags = (sources: ConfigSources, count: number) => editPlatform(sources, (t) => `${t}tags:\n${tagLines(count)}\n`);

  it("counts the fleet's own tags: 45 of platform.yaml fit a listener rule's 50 with the failover's record, 46 do not", () => {
    accepted(withTags(example, 45));
    expect(problemsOf(withTags(example, 46))).toEqual([
      "platform.yaml: tags: 46 tags and the fleet's own put 51 tags on a resource (such as a listener rule: fleet, managed-by, service, deployed-weights, last-failover); AWS takes at most 50 tags per resource",
    ]);
  });

  it("counts a cluster's tags with the fleet's, a key in both once", () => {
    const clusterTags = (sources: ConfigSources, lines: string) => editCluster(sources, "blue", (t) => `${t}tags:\n${lines}\n`);
    expect(problemsOf(clusterTags(withTags(example, 40), tagLines(8, "c")))).toEqual([
      "clusters/blue.yaml: tags: 8 tags, with platform.yaml's 40 and the fleet's own (fleet, managed-by, cluster), put 51 tags on each of this cluster's resources; AWS takes at most 50 tags per resource",
    ]);
    accepted(clusterTags(withTags(example, 40), `${tagLines(7, "c")}\n  t0: again`));
  });

  it("refuses 40,000 tags in seconds", () => {
    const started = Date.now();
    expect(problemsOf(withTags(example, 40_000))[0]).toMatch(/^platform\.yaml: tags: 40000 tags and the fleet's own put 40005 tags/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("still refuses a key given twice in a mapping, where it is", () => {
    expect(problemsOf(editPlatform(example, (t) => `${t}tags:\n  a: 1\n  b: 2\n  a: 3\n`))).toEqual([
      "platform.yaml: : invalid YAML: line 60, column 3: Map keys must be unique",
    ]);
  });
});

describe("the Load Balancer Controller's IAM policies", () => {
  it("are refused when a cluster routes more services than 10 managed policies beside the inline one can name", () => {
    let error: unknown;
    try {
      synthFleet(generatedMultiAlbFleetSources({ services: 600, clusters: 1, clustersPerService: 1, albs: 6 }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      {
        file: "clusters/c00.yaml",
        field: "weights",
        message:
          "routes 600 services: the Load Balancer Controller's IAM policies, which name each one's target group, would need 11 managed policies beside the inline one; " +
          "IAM attaches at most 10 to a role: route fewer services to c00",
      },
    ]);
  });

  it("name every target group of a cluster routing 200 services, by ARN, within IAM's limits", () => {
    const fleet = synthFleet(generatedMultiAlbFleetSources({ services: 200, clusters: 1, clustersPerService: 1, albs: 2 }));
    const stack = fleet.stack("cluster-c00");
    const documents = [
      ...Object.values(resourcesOf(stack, "aws_iam_role_policy")).filter((p) => p.name === "target-group-binding"),
      ...Object.values(resourcesOf(stack, "aws_iam_policy")),
    ].map((p) => p.policy as string);
    const listed = documents.flatMap((d) => (JSON.parse(d).Statement as { Sid: string; Resource: string[] }[]).filter((st) => st.Sid === "RegisterTargets").flatMap((st) => st.Resource));
    expect(listed.map((arn) => /aws_lb_target_group\.?weighted-alb_target-group-(svc\d+)-c00_/.exec(arn)?.[1])).toEqual(Array.from({ length: 200 }, (_, i) => `svc${i}`));
    expect(documents.map((d) => (JSON.parse(d).Statement as { Resource: string[] }[]).at(-1)!.Resource.length)).toEqual([82, 51, 51, 16]);
    // Each attached to the controller's role.
    const attached = Object.values(resourcesOf(stack, "aws_iam_role_policy_attachment")).filter((a) => String(a.policy_arn).includes("overflow-policy"));
    expect(attached.map((a) => [a.role, /overflow-policy-\d/.exec(String(a.policy_arn))?.[0]])).toEqual(
      [1, 2, 3].map((i) => [expect.stringMatching(/^\$\{aws_iam_role\.lb-controller-identity_role_[0-9A-F]+\.name\}$/), `overflow-policy-${i}`]),
    );
  });
});

describe("a cluster's security group", () => {
  /** One cluster routing `count` services on one ALB, each on a container port of its own. */
  function portsPerService(count: number): ConfigSources {
    const sources = generatedMultiAlbFleetSources({ services: count, clusters: 1, clustersPerService: 1, albs: 1 });
    let port = 8000;
    return { ...sources, platform: { ...sources.platform, text: sources.platform.text.replace(/containerPort: 8080/g, () => `containerPort: ${port++}`) } };
  }

  it("takes an inbound rule per ALB and container port of the services the cluster routes: 59 ports fit, 60 are refused", () => {
    expect(() => parseFleetConfig(portsPerService(59))).not.toThrow();
    expect(problemsOf(portsPerService(60))).toEqual([
      "clusters/c00.yaml: weights: the cluster's security group needs 61 inbound rules (60 for the ALBs and container ports of the services it routes, " +
        "0 for endpoint.privateAccessCidrs, 1 of EKS's own); a security group takes at most 60: give services one container port, or route fewer services to c00",
    ]);
  });
});
