import * as fs from "fs";
import * as path from "path";
import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { jsonSchemas } from "../modules/config/json-schema";
import { projectRoot } from "../modules/support/project-root";
import { clusterText, generatedFleetSources } from "../scripts/lib/generated-fleet";
import { exampleSources, withClusterFile } from "./helpers/fleet";
import { problemsOf } from "./helpers/config-problems";

const base = generatedFleetSources(2);
const withPlatform = (edit: (text: string) => string): ConfigSources => ({
  ...base,
  platform: { ...base.platform, text: edit(base.platform.text) },
});
const withCluster0 = (edit: (text: string) => string): ConfigSources =>
  withClusterFile(base, "clusters/c00.yaml", edit(base.clusters[0].text));

describe("the example configuration", () => {
  it("is valid and has the blue and green clusters", () => {
    const fleet = parseFleetConfig(exampleSources());
    expect(fleet.clusters.map((c) => c.config.name)).toEqual(["blue", "green"]);
    expect(fleet.subnets.private).toEqual(["10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19"]);
    expect(fleet.subnets.public).toEqual(["10.40.128.0/22", "10.40.132.0/22", "10.40.136.0/22"]);
  });

  it("applies documented defaults", () => {
    const fleet = parseFleetConfig(base);
    const cluster = fleet.clusters[0].config;
    expect(cluster.endpoint.privateAccess).toBe(true);
    expect(cluster.loadBalancerController).toEqual({ replicas: 2 });
    expect(cluster.supportType).toBe("STANDARD");
    expect(fleet.platform.alb.deletionProtection).toBe(true);
    expect(fleet.platform.stateBackend).toEqual({ type: "local", directory: "state" });
    expect(fleet.platform.services[0].healthCheck.path).toBe("/");
  });
});

describe("configuration errors name the file and the field", () => {
  const cases: [string, ConfigSources, string[]][] = [
    [
      "misspelt key, with a suggestion",
      withCluster0((t) => t.replace("kubernetesVersion", "kubernetesVerison")),
      [
        "clusters/c00.yaml: kubernetesVersion: is required",
        "clusters/c00.yaml: : unknown key \"kubernetesVerison\" (did you mean \"kubernetesVersion\"?); allowed keys: name, state, standbyNodes, kubernetesVersion, endpoint, supportType, adminPrincipalArns, bootstrapCreatorAdmin, serviceIpv4Cidr, logRetentionDays, nodeGroups, addonVersions, weights, loadBalancerController, workloads, tags",
      ],
    ],
    [
      "unknown nested key",
      withCluster0((t) => t.replace("  publicAccessCidrs", "  publicAcessCidrs")),
      [
        "clusters/c00.yaml: endpoint: unknown key \"publicAcessCidrs\" (did you mean \"publicAccessCidrs\"?); allowed keys: privateAccess, publicAccess, publicAccessCidrs, privateAccessCidrs",
        "clusters/c00.yaml: endpoint.publicAccessCidrs: is required while publicAccess is true: list the CIDRs that may reach the API server",
      ],
    ],
    [
      "wrong type",
      withCluster0((t) => t.replace("minSize: 1", "minSize: one")),
      [
        "clusters/c00.yaml: nodeGroups[0].minSize: expected number, got \"one\"",
      ],
    ],
    [
      "missing field",
      withCluster0((t) => t.replace(/kubernetesVersion.*\n/, "")),
      [
        "clusters/c00.yaml: kubernetesVersion: is required",
      ],
    ],
    [
      "duplicate cluster names",
      withClusterFile(base, "clusters/other.yaml", clusterText("c00", "svc0", 5)),
      [
        "clusters/other.yaml: name: \"c00\" is also the name of the cluster in clusters/c00.yaml",
      ],
    ],
    [
      "name too long for AWS names",
      withCluster0((t) => t.replace("name: c00", "name: averylongname")),
      [
        "clusters/c00.yaml: name: cluster name is at most 11 characters (it becomes part of AWS names)",
      ],
    ],
    [
      "name with invalid characters",
      withCluster0((t) => t.replace("name: c00", "name: Blue_1")),
      [
        "clusters/c00.yaml: name: cluster name must start with a lowercase letter and contain only lowercase letters, digits and inner hyphens",
      ],
    ],
    [
      "fleet name too long",
      withPlatform((t) => t.replace("name: gen", "name: production")),
      [
        "platform.yaml: name: fleet name is at most 8 characters (it becomes part of AWS names)",
      ],
    ],
    [
      "weight above 999",
      withCluster0((t) => t.replace("svc0: 10", "svc0: 1000")),
      [
        "clusters/c00.yaml: weights.svc0: Too big: expected number to be <=999",
      ],
    ],
    [
      "negative weight",
      withCluster0((t) => t.replace("svc0: 10", "svc0: -1")),
      [
        "clusters/c00.yaml: weights.svc0: Too small: expected number to be >=0",
      ],
    ],
    [
      "all weights 0",
      { ...base, clusters: base.clusters.map((c) => ({ ...c, text: c.text.replace("svc0: 10", "svc0: 0") })) },
      [
        "platform.yaml: services.svc0: has weight 0 in every cluster (clusters/c00.yaml, clusters/c01.yaml): at least one must carry traffic",
      ],
    ],
    [
      "more than 5 clusters on one service",
      withClusterFile(generatedFleetSources(5), "clusters/c05.yaml", clusterText("c05", "svc0", 1)),
      [
        "platform.yaml: services.svc0: is routed to 6 clusters (c00, c01, c02, c03, c04, c05); an ALB forward action takes at most 5 target groups: remove the weight from the clusters that do not serve it",
      ],
    ],
    [
      "weight for an unknown service",
      withCluster0((t) => t.replace("svc0: 10", "svc1: 10")),
      [
        "clusters/c00.yaml: weights.svc1: unknown service \"svc1\" (did you mean \"svc0\"?); services in platform.yaml: svc0",
      ],
    ],
    [
      "unsupported Kubernetes version",
      withCluster0((t) => t.replace('"1.33"', '"1.21"')),
      [
        "clusters/c00.yaml: kubernetesVersion: must be one of the versions EKS supports: 1.30, 1.31, 1.32, 1.33, 1.34, 1.35 (quote it: \"1.33\")",
      ],
    ],
    [
      "version given as a number",
      withCluster0((t) => t.replace('"1.33"', "1.30")),
      [
        "clusters/c00.yaml: kubernetesVersion: must be one of the versions EKS supports: 1.30, 1.31, 1.32, 1.33, 1.34, 1.35 (quote it: \"1.33\")",
      ],
    ],
    [
      "min above desired",
      withCluster0((t) => t.replace("minSize: 1", "minSize: 3")),
      [
        "clusters/c00.yaml: nodeGroups[0].minSize: minSize (3) is above desiredSize (2)",
      ],
    ],
    [
      "desired above max",
      withCluster0((t) => t.replace("desiredSize: 2", "desiredSize: 4")),
      [
        "clusters/c00.yaml: nodeGroups[0].desiredSize: desiredSize (4) is above maxSize (3)",
      ],
    ],
    [
      "overlapping subnets",
      withPlatform((t) => t.replace("  natGateways", "  privateSubnetCidrs: [10.0.0.0/19, 10.0.16.0/20]\n  natGateways")),
      [
        "platform.yaml: vpc.privateSubnetCidrs[1]: 10.0.16.0/20 overlaps vpc.privateSubnetCidrs[0] (10.0.0.0/19)",
      ],
    ],
    [
      "subnet outside the VPC",
      withPlatform((t) => t.replace("  natGateways", "  publicSubnetCidrs: [10.0.128.0/24, 10.1.0.0/24]\n  natGateways")),
      [
        "platform.yaml: vpc.publicSubnetCidrs[1]: 10.1.0.0/24 is outside the VPC 10.0.0.0/16",
      ],
    ],
    [
      "service CIDR overlapping the VPC",
      withCluster0((t) => t.replace("nodeGroups:", "serviceIpv4Cidr: 10.0.0.0/16\nnodeGroups:")),
      [
        "clusters/c00.yaml: serviceIpv4Cidr: 10.0.0.0/16 overlaps the VPC 10.0.0.0/16",
      ],
    ],
    [
      "invalid CIDR",
      withPlatform((t) => t.replace("cidr: 10.0.0.0/16", "cidr: 10.0.0.300/16")),
      [
        "platform.yaml: vpc.cidr: must be an IPv4 CIDR such as 10.0.0.0/16 (octets 0-255, prefix 0-32)",
      ],
    ],
    [
      "invalid YAML",
      withCluster0((t) => t.replace("weights:", "weights: [")),
      [
        "clusters/c00.yaml: : invalid YAML: line 13, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]",
      ],
    ],
    [
      "duplicate YAML key",
      withCluster0((t) => `${t}name: again\n`),
      [
        "clusters/c00.yaml: : invalid YAML: line 13, column 1: Map keys must be unique",
      ],
    ],
    [
      "HTTPS without a certificate",
      withPlatform((t) => t.replace(/  certificateArn.*\n/, "  deletionProtection: true\n")),
      [
        "platform.yaml: alb.certificateArn: is required for the HTTPS listener; set alb.httpOnly: true to serve plain HTTP instead",
      ],
    ],
    [
      "HTTP only and a certificate",
      withPlatform((t) => t.replace("alb:", "alb:\n  httpOnly: true")),
      [
        "platform.yaml: alb.httpOnly: contradicts alb.certificateArn: choose HTTPS (certificate) or HTTP only",
      ],
    ],
    [
      "public endpoint without CIDRs",
      withCluster0((t) => t.replace(/  publicAccessCidrs.*\n/, "")),
      [
        "clusters/c00.yaml: endpoint.publicAccessCidrs: is required while publicAccess is true: list the CIDRs that may reach the API server",
      ],
    ],
    [
      "duplicate listener priorities",
      withPlatform((t) => t.replace("priority: 10", "priority: 10\n  - name: api\n    servicePort: 80\n    containerPort: 80\n    paths: [/api/*]\n    priority: 10")),
      [
        "platform.yaml: services[1].priority: 10 is also the priority of services[0] on the same ALB; listener rule priorities are unique per ALB",
        "platform.yaml: services.api: is routed to no cluster: give it a weight in at least one file in clusters/",
      ],
    ],
    [
      "service routed to no cluster",
      withPlatform((t) => t.replace("priority: 10", "priority: 10\n  - name: api\n    servicePort: 80\n    containerPort: 80\n    paths: [/api/*]\n    priority: 11")),
      [
        "platform.yaml: services.api: is routed to no cluster: give it a weight in at least one file in clusters/",
      ],
    ],
    [
      "rule without condition",
      withPlatform((t) => t.replace(/    hosts: .*\n/, "")),
      [
        "platform.yaml: services[0].hosts: needs `hosts` or `paths`: a listener rule matches on at least one condition",
      ],
    ],
    [
      "availability zone of another region",
      withPlatform((t) => t.replace("us-east-1b", "us-west-2b")),
      [
        "platform.yaml: availabilityZones: us-west-2b is not in region us-east-1",
      ],
    ],
    [
      "account ID not 12 digits",
      withPlatform((t) => t.replace('"123456789012"', '"12345"')),
      [
        "platform.yaml: accountId: must be a 12-digit AWS account ID (quote it)",
      ],
    ],
    [
      "no cluster files",
      { ...base, clusters: [] },
      [
        "clusters: : no cluster files: add at least one clusters/<name>.yaml",
      ],
    ],
    [
      "a cluster admin who is the deployer",
      withCluster0((t) => `${t}adminPrincipalArns: [arn:aws:iam::123456789012:role/GEN-DEPLOY]\n`),
      [
        "clusters/c00.yaml: adminPrincipalArns[0]: arn:aws:iam::123456789012:role/GEN-DEPLOY is the deployer (platform.yaml clusterAccess.deployerPrincipalArn), which is cluster-admin already: remove it here (EKS takes one access entry per principal)",
      ],
    ],
    [
      "private endpoint networks without a private endpoint",
      withCluster0((t) => t.replace("  publicAccess: true", "  publicAccess: true\n  privateAccess: false\n  privateAccessCidrs: [10.99.0.0/24]")),
      [
        "clusters/c00.yaml: endpoint.privateAccessCidrs: needs privateAccess: true (these networks reach the private endpoint)",
      ],
    ],
    [
      "a cluster admin listed twice",
      withCluster0((t) => `${t}adminPrincipalArns: [arn:aws:iam::123456789012:role/ops, arn:aws:iam::123456789012:role/ops]\n`),
      [
        "clusters/c00.yaml: adminPrincipalArns[1]: \"arn:aws:iam::123456789012:role/ops\" is listed twice (also entry 0)",
      ],
    ],
    [
      "a cluster admin listed twice in other letter cases (IAM names ignore case)",
      withCluster0((t) => `${t}adminPrincipalArns: [arn:aws:iam::123456789012:role/ops, arn:aws:iam::123456789012:role/OPS]\n`),
      [
        "clusters/c00.yaml: adminPrincipalArns[1]: arn:aws:iam::123456789012:role/OPS is also adminPrincipalArns[0] (EKS takes one access entry per principal)",
      ],
    ],
    [
      "a cluster admin who is the plan role",
      withCluster0((t) => `${t}adminPrincipalArns: [arn:aws:iam::123456789012:role/gen-plan]\n`),
      [
        "clusters/c00.yaml: adminPrincipalArns[0]: arn:aws:iam::123456789012:role/gen-plan is the plan role (platform.yaml clusterAccess.planPrincipalArn), which has its own access entry: remove it here (EKS takes one access entry per principal)",
      ],
    ],
    [
      "the plan role is the deployer",
      withPlatform((t) => t.replace("role/gen-plan", "role/gen-deploy")),
      [
        "platform.yaml: clusterAccess.planPrincipalArn: is the deployer, which is already cluster-admin: leave planPrincipalArn unset when one role plans and deploys",
      ],
    ],
    [
      "an assumed-role session as a principal",
      withPlatform((t) => t.replace("arn:aws:iam::123456789012:role/gen-deploy", "arn:aws:sts::123456789012:assumed-role/gen-deploy/ci")),
      [
        "platform.yaml: clusterAccess.deployerPrincipalArn: must be an IAM role or user ARN such as arn:aws:iam::111122223333:role/deploy (not an assumed-role session ARN)",
      ],
    ],
    [
      "no deployer",
      withPlatform((t) => t.replace(/  deployerPrincipalArn.*\n/, "")),
      [
        "platform.yaml: clusterAccess.deployerPrincipalArn: is required (string)",
      ],
    ],
    [
      "standby without nodes",
      withCluster0((t) => `${t}standbyNodes: 0\n`),
      [
        "clusters/c00.yaml: standbyNodes: the cluster needs at least 1 node: without one, CoreDNS and the load balancer controller stay Pending and Helm's install and uninstall waits hang",
      ],
    ],
    [
      "no node group keeps a node",
      withCluster0((t) => t.replace("minSize: 1", "minSize: 0")),
      [
        "clusters/c00.yaml: nodeGroups[0].minSize: is 0 in every node group: the cluster needs at least 1 node: without one, CoreDNS and the load balancer controller stay Pending and Helm's install and uninstall waits hang",
      ],
    ],
    [
      "kube-proxy of another Kubernetes version",
      withCluster0((t) => `${t}addonVersions:\n  kube-proxy: v1.32.13-eksbuild.5\n`),
      [
        "clusters/c00.yaml: addonVersions.kube-proxy: kube-proxy v1.32.13-eksbuild.5 does not support Kubernetes 1.33 (it runs on 1.32); v1.33.10-eksbuild.2 is the default for 1.33 (remove the pin to use it)",
      ],
    ],
    [
      "CoreDNS too old for the Kubernetes version",
      withCluster0((t) => t.replace('"1.33"', '"1.35"') + "addonVersions:\n  coredns: v1.11.4-eksbuild.33\n"),
      [
        "clusters/c00.yaml: addonVersions.coredns: coredns v1.11.4-eksbuild.33 does not support Kubernetes 1.35 (it runs on 1.30, 1.31, 1.32); v1.13.2-eksbuild.4 is the default for 1.35 (remove the pin to use it)",
      ],
    ],
    [
      "add-on release the catalogue does not know",
      withCluster0((t) => `${t}addonVersions:\n  vpc-cni: v1.9.0\n`),
      [
        "clusters/c00.yaml: addonVersions.vpc-cni: v1.9.0 is not a vpc-cni release the version catalogue (modules/config/versions.ts) knows; v1.20.1-eksbuild.3 is the default for 1.33 (remove the pin to use it)",
      ],
    ],
  ];

  it.each(cases)("%s", (_title, sources, expected) => {
    expect(problemsOf(sources)).toEqual(expected);
  });

  it("accepts a node group scaled to 0 next to one that keeps a node, and a pinned add-on of the cluster's version", () => {
    const sources = withCluster0((t) =>
      t.replace("nodeGroups:\n", "nodeGroups:\n  - name: batch\n    minSize: 0\n    desiredSize: 0\n    maxSize: 4\n") +
      "addonVersions:\n  kube-proxy: v1.33.3-eksbuild.4\n  coredns: v1.12.1-eksbuild.2\n",
    );
    expect(parseFleetConfig(sources).clusters[0].config.nodeGroups.map((g) => g.minSize)).toEqual([0, 1]);
  });

  it("reports every problem of every file at once", () => {
    const sources = withClusterFile(
      withCluster0((t) => t.replace("minSize: 1", "minSize: 9")),
      "clusters/c01.yaml",
      base.clusters[1].text.replace("name: c01", "name: C01"),
    );
    expect(problemsOf(sources)).toEqual([
      "clusters/c00.yaml: nodeGroups[0].minSize: minSize (9) is above desiredSize (2)",
      "clusters/c01.yaml: name: cluster name must start with a lowercase letter and contain only lowercase letters, digits and inner hyphens",
    ]);
  });
});

describe("JSON Schema for editors", () => {
  it.each(Object.entries(jsonSchemas()))("schema/%s is up to date (npm run schema writes it)", (file, schema) => {
    const committed = fs.readFileSync(path.join(projectRoot(), "schema", file), "utf8");
    expect(JSON.parse(committed)).toEqual(schema);
  });

  it("describes the cluster file's fields and limits", () => {
    const schema = jsonSchemas()["cluster.schema.json"] as {
      properties: Record<string, { enum?: string[] }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(["name", "kubernetesVersion", "nodeGroups"]));
    expect(schema.properties.kubernetesVersion.enum).toContain("1.33");
  });
});
