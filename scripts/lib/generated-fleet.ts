import { ConfigSources } from "../../modules/config/load";
import { MAX_TARGET_GROUPS_PER_ALB } from "../../modules/config/quotas";
import { MAX_TARGET_GROUPS_PER_FORWARD } from "../../modules/config/schema";

/** The first lines of a generated fleet's platform.yaml: its name, account, region and VPC. */
const PLATFORM_HEAD = [
  "name: gen",
  'accountId: "123456789012"',
  "region: us-east-1",
  "availabilityZones: [us-east-1a, us-east-1b]",
  "vpc:",
  "  cidr: 10.0.0.0/16",
  "  natGateways: single",
];
/** The certificate of every generated ALB's HTTPS listener. */
const CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000";

/** The platform.yaml entry of generated service `svc<index>`, on the ALB of `alb:` or of `albs.<alb>`. */
function serviceEntry(index: number, containerPort: number, alb?: string): string {
  return [
    `  - name: svc${index}`,
    ...(alb ? [`    alb: ${alb}`] : []),
    `    servicePort: 80`,
    `    containerPort: ${containerPort}`,
    `    hosts: [svc${index}.example.com]`,
    `    priority: ${10 + index}`,
  ].join("\n");
}

/** Name of the i-th generated cluster: c00, c01, ... */
export function generatedClusterName(index: number): string {
  return `c${String(index).padStart(2, "0")}`;
}

/**
 * Configuration text for a fleet of `clusterCount` clusters, with one service
 * per 5 clusters (an ALB forward action takes at most 5 target groups).
 */
export function generatedFleetSources(clusterCount: number): ConfigSources {
  const serviceCount = Math.ceil(clusterCount / MAX_TARGET_GROUPS_PER_FORWARD);
  const services = Array.from({ length: serviceCount }, (_, s) => serviceEntry(s, 8080 + s));
  const platform = [
    ...PLATFORM_HEAD,
    "alb:",
    `  certificateArn: ${CERTIFICATE_ARN}`,
    "clusterAccess:",
    "  deployerPrincipalArn: arn:aws:iam::123456789012:role/gen-deploy",
    "  planPrincipalArn: arn:aws:iam::123456789012:role/gen-plan",
    "services:",
    ...services,
    "",
  ].join("\n");
  const clusters = Array.from({ length: clusterCount }, (_, i) => ({
    file: `clusters/${generatedClusterName(i)}.yaml`,
    text: clusterText(generatedClusterName(i), `svc${Math.floor(i / MAX_TARGET_GROUPS_PER_FORWARD)}`, 10),
  }));
  return { platform: { file: "platform.yaml", text: platform }, clusters };
}

/** A cluster file routing one service with the given weight. */
export function clusterText(name: string, service: string, weight: number, kubernetesVersion = "1.33"): string {
  return [
    `name: ${name}`,
    `kubernetesVersion: "${kubernetesVersion}"`,
    "endpoint:",
    "  publicAccess: true",
    "  publicAccessCidrs: [198.51.100.0/24]",
    "nodeGroups:",
    "  - name: general",
    "    minSize: 1",
    "    desiredSize: 2",
    "    maxSize: 3",
    "weights:",
    `  ${service}: ${weight}`,
    "",
  ].join("\n");
}

/** What {@link generatedMultiAlbFleetSources} makes. */
export interface MultiAlbFleetShape {
  readonly services: number;
  /** Clusters of the fleet. */
  readonly clusters: number;
  /** Clusters each service is routed to, taken in turn so that every cluster routes about as many services. */
  readonly clustersPerService: number;
  /** ALBs: the one of `alb:` and `albs: a1, a2, ...`, each with an equal run of services. */
  readonly albs: number;
}

/**
 * A fleet of many services over several ALBs. Every service routes to
 * `clustersPerService` clusters, except where its ALB would pass 100 target
 * groups: the last service of a full ALB routes to the clusters that still
 * fit. All listen on one container port, as most fleets' do.
 */
export function generatedMultiAlbFleetSources(shape: MultiAlbFleetShape): ConfigSources {
  const perAlb = Math.ceil(shape.services / shape.albs);
  const albKey = (service: number) => (Math.floor(service / perAlb) === 0 ? undefined : `a${Math.floor(service / perAlb)}`);
  const routes: number[][] = [];
  const groupsOnAlb = new Map<string | undefined, number>();
  for (let s = 0; s < shape.services; s++) {
    const used = groupsOnAlb.get(albKey(s)) ?? 0;
    const count = Math.min(shape.clustersPerService, MAX_TARGET_GROUPS_PER_ALB - used);
    routes.push(Array.from({ length: count }, (_, k) => (s * shape.clustersPerService + k) % shape.clusters));
    groupsOnAlb.set(albKey(s), used + count);
  }
  const services = Array.from({ length: shape.services }, (_, s) => serviceEntry(s, 8080, albKey(s)));
  const platform = [
    ...PLATFORM_HEAD,
    "alb:",
    `  certificateArn: ${CERTIFICATE_ARN}`,
    ...(shape.albs > 1 ? ["albs:"] : []),
    ...Array.from({ length: shape.albs - 1 }, (_, a) => [`  a${a + 1}:`, `    certificateArn: ${CERTIFICATE_ARN}`]).flat(),
    "clusterAccess:",
    "  deployerPrincipalArn: arn:aws:iam::123456789012:role/gen-deploy",
    "services:",
    ...services,
    "",
  ].join("\n");
  const clusters = Array.from({ length: shape.clusters }, (_, c) => {
    const name = generatedClusterName(c);
    const weights = routes.flatMap((clusters, s) => (clusters.includes(c) ? [`  svc${s}: 10`] : []));
    const text = clusterText(name, "svc0", 10).replace(/weights:\n.*\n$/, `weights:\n${weights.join("\n")}\n`);
    return { file: `clusters/${name}.yaml`, text };
  });
  return { platform: { file: "platform.yaml", text: platform }, clusters };
}
