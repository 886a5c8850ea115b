import { ConfigSources, parseFleetConfig } from "../modules/config/load";
import { clusterText, generatedFleetSources } from "../scripts/lib/generated-fleet";
import { problemsOf } from "./helpers/config-problems";
import { withClusterFile } from "./helpers/fleet";

/**
 * The checks across platform.yaml and the cluster files, at their edges: the
 * last value each accepts beside the first it refuses, and a problem reported
 * once, where it is.
 */
const base = generatedFleetSources(2);
const withPlatform = (edit: (text: string) => string): ConfigSources => ({ ...base, platform: { ...base.platform, text: edit(base.platform.text) } });
const withCluster0 = (edit: (text: string) => string): ConfigSources => withClusterFile(base, "clusters/c00.yaml", edit(base.clusters[0].text));
const accepted = (sources: ConfigSources) => expect(() => parseFleetConfig(sources)).not.toThrow();

describe("the VPC", () => {
  it.each(["10.0.0.0/16", "10.0.0.0/20"])("may be %s", (cidr) => {
    accepted(withPlatform((t) => t.replace("cidr: 10.0.0.0/16", `cidr: ${cidr}`)));
  });

  it.each(["10.0.0.0/15", "10.0.0.0/21"])("may not be %s", (cidr) => {
    expect(problemsOf(withPlatform((t) => t.replace("cidr: 10.0.0.0/16", `cidr: ${cidr}`)))).toEqual([
      `platform.yaml: vpc.cidr: prefix /${cidr.split("/")[1]} is outside /16 to /20`,
    ]);
  });

  it("takes subnets down to /28, one per availability zone", () => {
    const subnets = (privateCidrs: string) => withPlatform((t) => t.replace("cidr: 10.0.0.0/16", `cidr: 10.0.0.0/16\n  privateSubnetCidrs: [${privateCidrs}]\n  publicSubnetCidrs: [10.0.200.0/24, 10.0.201.0/24]`));
    accepted(subnets("10.0.0.0/28, 10.0.1.0/28"));
    expect(problemsOf(subnets("10.0.0.0/29, 10.0.1.0/28"))).toEqual(["platform.yaml: vpc.privateSubnetCidrs[0]: 10.0.0.0/29 is smaller than /28, the smallest subnet AWS allows"]);
    expect(problemsOf(subnets("10.0.0.0/28"))).toEqual(["platform.yaml: vpc.privateSubnetCidrs: has 1 entry; give one per availability zone (2)"]);
  });
});

describe("a cluster's service address range", () => {
  it.each(["172.16.0.0/12", "192.168.0.0/24", "10.100.0.0/16"])("may be %s, private and /12 to /24", (cidr) => {
    accepted(withCluster0((t) => t.replace("nodeGroups:", `serviceIpv4Cidr: ${cidr}\nnodeGroups:`)));
  });

  it.each(["10.0.0.0/11", "192.168.0.0/25", "100.64.0.0/16"])("may not be %s", (cidr) => {
    expect(problemsOf(withCluster0((t) => t.replace("nodeGroups:", `serviceIpv4Cidr: ${cidr}\nnodeGroups:`)))).toEqual([
      `clusters/c00.yaml: serviceIpv4Cidr: ${cidr} must be a /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16`,
    ]);
  });
});

describe("names", () => {
  it("of two services may not be the same", () => {
    const twice = withPlatform((t) => t.replace(/services:\n((?:.*\n)*)$/, (_all, list: string) => `services:\n${list}${list.replace("priority: 100", "priority: 101")}`));
    expect(problemsOf(twice)).toContain('platform.yaml: services[1].name: "svc0" is also the name of services[0]');
  });

  it("of two node groups of a cluster may not be the same", () => {
    const twice = withCluster0((t) => t.replace("nodeGroups:\n", "nodeGroups:\n  - name: general\n    minSize: 1\n    desiredSize: 1\n    maxSize: 1\n"));
    expect(problemsOf(twice)).toEqual(['clusters/c00.yaml: nodeGroups[1].name: "general" is used by another node group of this cluster']);
  });
});

describe("weights", () => {
  it("may be 0 in some clusters when another carries the service", () => {
    accepted(withCluster0((t) => t.replace("svc0: 10", "svc0: 0")));
  });

  it("of a standby or retiring cluster must be 0", () => {
    for (const state of ["standby", "retiring"]) {
      expect(problemsOf(withCluster0((t) => t.replace("nodeGroups:", `state: ${state}\nnodeGroups:`)))).toEqual([
        `clusters/c00.yaml: weights.svc0: is 10, but a ${state} cluster takes no traffic: set weight 0, or set state: active before giving it traffic`,
      ]);
    }
    accepted(withCluster0((t) => t.replace("nodeGroups:", "state: standby\nnodeGroups:").replace("svc0: 10", "svc0: 0")));
  });

  it("for an unknown service name every service of platform.yaml", () => {
    const twoServices = generatedFleetSources(10);
    const c00 = twoServices.clusters.find((c) => c.file === "clusters/c00.yaml")!;
    const withUnknown = { ...twoServices, clusters: twoServices.clusters.map((c) => (c === c00 ? { ...c, text: c.text.replace("weights:\n", "weights:\n  payments: 0\n") } : c)) };
    expect(problemsOf(withUnknown)).toEqual(['clusters/c00.yaml: weights.payments: unknown service "payments"; services in platform.yaml: svc0, svc1']);
  });

  it("for a misspelled service are the one problem: the service they were meant for is not reported as unrouted", () => {
    const sources = { ...base, clusters: base.clusters.map((c) => ({ ...c, text: c.text.replace("svc0: 10", "svc9: 10") })) };
    expect(problemsOf(sources)).toEqual([
      'clusters/c00.yaml: weights.svc9: unknown service "svc9" (did you mean "svc0"?); services in platform.yaml: svc0',
      'clusters/c01.yaml: weights.svc9: unknown service "svc9" (did you mean "svc0"?); services in platform.yaml: svc0',
    ]);
  });

  it("route a service to at most 5 clusters, the most one forward action takes", () => {
    accepted(generatedFleetSources(5));
    expect(problemsOf(withClusterFile(generatedFleetSources(5), "clusters/c05.yaml", clusterText("c05", "svc0", 1)))).toHaveLength(1);
  });
});
