import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { configureStateBackend } from "../constructs/backend";
import { FleetAlb, servicesOnAlb } from "../config/albs";
import { ClusterConfig, RoutedService } from "../config/schema";
import { clustersRouting, FleetConfig } from "../config/load";
import { effectiveNodeGroups } from "../config/lifecycle";
import { clusterDefaultTags, fleetDefaultTags } from "../config/tags";
import { PLAN_READERS_GROUP } from "../constructs/cluster-access-entries";
import { EksClusterWithNodes } from "../constructs/eks-cluster";
import { kubernetesApiAccess } from "../constructs/kubernetes-api-access";
import { LoadBalancerController } from "../constructs/load-balancer-controller";
import { CONTROLLER_NAMESPACE, LoadBalancerControllerIdentity } from "../constructs/load-balancer-controller-identity";
import { albName, clusterStackName, edgeStackName, eksClusterName, failoverName, inClusterStackName, NETWORK_STACK } from "../constructs/naming";
import { Network } from "../constructs/network";
import { PlanReaderRbac } from "../constructs/plan-reader-rbac";
import { effectiveAddonVersions, VERSION_CATALOGUE } from "../config/versions";
import { WeightedAlb, WeightedRoute } from "../constructs/weighted-alb";
import { AutomaticFailover } from "../constructs/automatic-failover";
import { failoverSettingsOf } from "../config/failover";
import { functionBundle } from "./function-bundle";
import { ClusterServices } from "../workloads/cluster-services";

/** A stack with its own state and, for AWS stacks, an AWS provider tagging everything. */
abstract class FleetStack extends TerraformStack {
  constructor(scope: Construct, name: string, fleet: FleetConfig) {
    super(scope, name);
    configureStateBackend(this, {
      backend: fleet.platform.stateBackend,
      stackName: name,
      fleetName: fleet.platform.name,
      region: fleet.platform.region,
    });
  }

  protected addAwsProvider(fleet: FleetConfig, extraTags: Record<string, string> = {}): void {
    new AwsProvider(this, "aws", {
      region: fleet.platform.region,
      allowedAccountIds: [fleet.platform.accountId],
      defaultTags: [{ tags: { ...fleetDefaultTags(fleet.platform.name), ...fleet.platform.tags, ...extraTags } }],
    });
  }
}

/** The VPC every cluster shares. */
export class NetworkStack extends FleetStack {
  readonly network: Network;

  constructor(scope: Construct, fleet: FleetConfig) {
    super(scope, NETWORK_STACK, fleet);
    this.addAwsProvider(fleet);
    const { platform } = fleet;
    this.network = new Network(this, "network", {
      namePrefix: platform.name,
      accountId: platform.accountId,
      region: platform.region,
      cidr: platform.vpc.cidr,
      availabilityZones: platform.availabilityZones,
      privateSubnetCidrs: fleet.subnets.private,
      publicSubnetCidrs: fleet.subnets.public,
      natGateways: platform.vpc.natGateways,
      flowLogRetentionDays: platform.vpc.flowLogRetentionDays,
    });
  }
}

/** Routes of the services on one ALB (undefined: the ALB of `alb:`): the clusters that give each a weight, by cluster name. */
export function weightedRoutes(fleet: FleetConfig, albKey?: string): WeightedRoute[] {
  return servicesOnAlb(fleet.platform.services, albKey).map((service) => ({
    service,
    clusters: clustersRouting(fleet.clusters, service.name).map(({ config }) => ({ cluster: config.name, weight: config.weights[service.name] })),
  }));
}

/** The module and factory of the failover function's handler (modules/traffic/failover-handler.ts). */
const FAILOVER_HANDLER = { entry: "modules/traffic/failover-handler.ts", factory: "createFailoverHandler" };

/** One weighted ALB with a target group per (service, cluster), and its automatic failover: stack `edge` for `alb:`, `edge-<name>` for one of `albs:`. */
export class EdgeStack extends FleetStack {
  readonly alb: WeightedAlb;
  /** Its name under `albs:`; undefined for the ALB of `alb:`. */
  readonly albKey?: string;

  constructor(scope: Construct, fleet: FleetConfig, network: NetworkStack, { key, settings }: FleetAlb) {
    super(scope, edgeStackName(key), fleet);
    this.albKey = key;
    this.addAwsProvider(fleet);
    const subnets = settings.internal ? network.network.privateSubnets : network.network.publicSubnets;
    this.alb = new WeightedAlb(this, "weighted-alb", {
      fleetName: fleet.platform.name,
      albKey: key,
      vpcId: network.network.vpc.id,
      vpcCidr: fleet.platform.vpc.cidr,
      subnetIds: subnets.map((s) => s.id),
      internal: settings.internal,
      ingressCidrs: settings.ingressCidrs,
      certificateArn: settings.certificateArn,
      sslPolicy: settings.sslPolicy,
      deletionProtection: settings.deletionProtection,
      idleTimeoutSeconds: settings.idleTimeoutSeconds,
      accessLogsBucket: settings.accessLogsBucket,
      webAclArn: settings.webAclArn,
      routes: weightedRoutes(fleet, key),
    });
    this.addAutomaticFailover(fleet);
  }

  /** True when the ALB routes the service. */
  routes(service: RoutedService): boolean {
    return service.alb === this.albKey;
  }

  /** The failover function of the ALB, watching every target group of its services whose failover is not off. */
  private addAutomaticFailover(fleet: FleetConfig): void {
    const settings = failoverSettingsOf(fleet, this.albKey);
    const watched = settings.policies.filter((policy) => policy.mode !== "off");
    if (watched.length === 0) return;
    new AutomaticFailover(this, "automatic-failover", {
      name: failoverName(fleet.platform.name, this.albKey),
      accountId: fleet.platform.accountId,
      region: fleet.platform.region,
      albName: albName(fleet.platform.name, this.albKey),
      albArnSuffix: this.alb.loadBalancer.arnSuffix,
      bundle: functionBundle({ entry: FAILOVER_HANDLER.entry, factory: FAILOVER_HANDLER.factory, settings }),
      subscriptions: fleet.platform.failover.notify,
      movesTraffic: watched.some((policy) => policy.mode === "auto"),
      lock: settings.lock,
      targetGroups: watched.flatMap((policy) =>
        clustersRouting(fleet.clusters, policy.service).map(({ config }) => ({
          ...policy,
          cluster: config.name,
          arnSuffix: this.alb.targetGroupArnSuffix(policy.service, config.name),
        })),
      ),
    });
  }
}

function routedServices(fleet: FleetConfig, cluster: ClusterConfig) {
  return fleet.platform.services.filter((s) => cluster.weights[s.name] !== undefined);
}

/** The edge stack of the ALB that routes the service. */
function edgeOf(edges: readonly EdgeStack[], service: RoutedService): EdgeStack {
  return edges.find((edge) => edge.routes(service))!;
}

/** One cluster's AWS resources. */
export class ClusterStack extends FleetStack {
  readonly eks: EksClusterWithNodes;

  constructor(scope: Construct, fleet: FleetConfig, cluster: ClusterConfig, network: NetworkStack, edges: readonly EdgeStack[]) {
    super(scope, clusterStackName(cluster.name), fleet);
    this.addAwsProvider(fleet, { ...clusterDefaultTags(cluster.name), ...cluster.tags });
    const services = routedServices(fleet, cluster);
    this.eks = new EksClusterWithNodes(this, "eks", {
      clusterName: eksClusterName(fleet.platform.name, cluster.name),
      accountId: fleet.platform.accountId,
      region: fleet.platform.region,
      kubernetesVersion: cluster.kubernetesVersion,
      privateSubnetIds: network.network.privateSubnets.map((s) => s.id),
      endpointPrivateAccess: cluster.endpoint.privateAccess,
      endpointPublicAccess: cluster.endpoint.publicAccess,
      publicAccessCidrs: cluster.endpoint.publicAccessCidrs,
      privateAccessCidrs: cluster.endpoint.privateAccessCidrs,
      access: { ...fleet.platform.clusterAccess, adminPrincipalArns: cluster.adminPrincipalArns },
      bootstrapCreatorAdmin: cluster.bootstrapCreatorAdmin,
      serviceIpv4Cidr: cluster.serviceIpv4Cidr,
      logRetentionDays: cluster.logRetentionDays,
      nodeGroups: effectiveNodeGroups(cluster),
      supportType: cluster.supportType,
      addonVersions: effectiveAddonVersions(cluster.kubernetesVersion, cluster.addonVersions),
      // The ALBs of the services it routes, and only those, reach its pods.
      albs: edges
        .map((edge) => ({
          albKey: edge.albKey,
          securityGroupId: edge.alb.securityGroup.id,
          targetPorts: [...new Set(services.filter((s) => edge.routes(s)).map((s) => s.containerPort))].sort((a, b) => a - b),
        }))
        .filter((alb) => alb.targetPorts.length > 0),
    });
    new LoadBalancerControllerIdentity(this, "lb-controller-identity", {
      clusterName: this.eks.cluster.name,
      region: fleet.platform.region,
      accountId: fleet.platform.accountId,
      targetGroupArns: services.map((s) => edgeOf(edges, s).alb.targetGroupArn(s.name, cluster.name)),
    });
  }
}

/** What runs inside one cluster: the controller, the routed services' namespaces and workloads, the TargetGroupBindings. */
export class InClusterStack extends FleetStack {
  constructor(
    scope: Construct,
    fleet: FleetConfig,
    cluster: ClusterConfig,
    network: NetworkStack,
    edges: readonly EdgeStack[],
    clusterStack: ClusterStack,
  ) {
    super(scope, inClusterStackName(cluster.name), fleet);
    const eks = clusterStack.eks.cluster;
    const access = kubernetesApiAccess(eks, fleet.platform.region);
    new HelmProvider(this, "helm", { kubernetes: access });
    new KubernetesProvider(this, "kubernetes", { ...access, exec: [access.exec] });
    const services = routedServices(fleet, cluster);
    const running = new ClusterServices(this, "services", {
      fleetName: fleet.platform.name,
      cluster,
      services,
      chartValues: fleet.chartValues,
    });
    const controller = new LoadBalancerController(this, "lb-controller", {
      clusterName: eks.name,
      region: fleet.platform.region,
      vpcId: network.network.vpc.id,
      chartVersion: cluster.loadBalancerController.chartVersion ?? VERSION_CATALOGUE[cluster.kubernetesVersion].loadBalancerControllerChart,
      replicas: cluster.loadBalancerController.replicas,
      bindings: services.map((service) => {
        const { alb } = edgeOf(edges, service);
        return {
          service: service.name,
          name: alb.targetGroupBindingName(service.name, cluster.name),
          namespace: service.namespace,
          serviceName: service.serviceName ?? service.name,
          servicePort: service.servicePort,
          targetGroupArn: alb.targetGroupArn(service.name, cluster.name),
          dependsOn: running.bindingDependencies(service),
        };
      }),
    });
    running.runAfter(controller.release);
    if (fleet.platform.clusterAccess.planPrincipalArn) {
      new PlanReaderRbac(this, "plan-reader", {
        group: PLAN_READERS_GROUP,
        namespaces: [CONTROLLER_NAMESPACE, ...services.map((s) => s.namespace)],
        customResourceDefinitions: controller.crds.names,
        dependsOn: [controller.release, ...controller.bindingReleases],
      });
    }
  }
}
