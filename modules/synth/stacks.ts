import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import { configureStateBackend } from "../constructs/backend";
import { ClusterConfig } from "../config/schema";
import { clustersRouting, FleetConfig } from "../config/load";
import { effectiveNodeGroups } from "../config/lifecycle";
import { clusterDefaultTags, fleetDefaultTags } from "../config/tags";
import { PLAN_READERS_GROUP } from "../constructs/cluster-access-entries";
import { EksClusterWithNodes } from "../constructs/eks-cluster";
import { kubernetesApiAccess } from "../constructs/kubernetes-api-access";
import { LoadBalancerController } from "../constructs/load-balancer-controller";
import { CONTROLLER_NAMESPACE, LoadBalancerControllerIdentity } from "../constructs/load-balancer-controller-identity";
import { albName, clusterStackName, EDGE_STACK, eksClusterName, inClusterStackName, NETWORK_STACK } from "../constructs/naming";
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

/** Routes of every service: the clusters that give it a weight, by cluster name. */
export function weightedRoutes(fleet: FleetConfig): WeightedRoute[] {
  return fleet.platform.services.map((service) => ({
    service,
    clusters: clustersRouting(fleet.clusters, service.name).map(({ config }) => ({ cluster: config.name, weight: config.weights[service.name] })),
  }));
}

/** The module and factory of the failover function's handler (modules/traffic/failover-handler.ts). */
const FAILOVER_HANDLER = { entry: "modules/traffic/failover-handler.ts", factory: "createFailoverHandler" };

/** The weighted ALB with a target group per (service, cluster), and its automatic failover. */
export class EdgeStack extends FleetStack {
  readonly alb: WeightedAlb;

  constructor(scope: Construct, fleet: FleetConfig, network: NetworkStack) {
    super(scope, EDGE_STACK, fleet);
    this.addAwsProvider(fleet);
    const { alb } = fleet.platform;
    const subnets = alb.internal ? network.network.privateSubnets : network.network.publicSubnets;
    this.alb = new WeightedAlb(this, "weighted-alb", {
      fleetName: fleet.platform.name,
      vpcId: network.network.vpc.id,
      vpcCidr: fleet.platform.vpc.cidr,
      subnetIds: subnets.map((s) => s.id),
      internal: alb.internal,
      ingressCidrs: alb.ingressCidrs,
      certificateArn: alb.certificateArn,
      sslPolicy: alb.sslPolicy,
      deletionProtection: alb.deletionProtection,
      idleTimeoutSeconds: alb.idleTimeoutSeconds,
      accessLogsBucket: alb.accessLogsBucket,
      webAclArn: alb.webAclArn,
      routes: weightedRoutes(fleet),
    });
    this.addAutomaticFailover(fleet);
  }

  /** The failover function of the ALB, watching every target group of the services whose failover is not off. */
  private addAutomaticFailover(fleet: FleetConfig): void {
    const settings = failoverSettingsOf(fleet);
    const watched = settings.policies.filter((policy) => policy.mode !== "off");
    if (watched.length === 0) return;
    new AutomaticFailover(this, "automatic-failover", {
      fleetName: fleet.platform.name,
      accountId: fleet.platform.accountId,
      region: fleet.platform.region,
      albName: albName(fleet.platform.name),
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

/** One cluster's AWS resources. */
export class ClusterStack extends FleetStack {
  readonly eks: EksClusterWithNodes;

  constructor(scope: Construct, fleet: FleetConfig, cluster: ClusterConfig, network: NetworkStack, edge: EdgeStack) {
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
      albSecurityGroupId: edge.alb.securityGroup.id,
      albTargetPorts: [...new Set(services.map((s) => s.containerPort))].sort((a, b) => a - b),
    });
    new LoadBalancerControllerIdentity(this, "lb-controller-identity", {
      clusterName: this.eks.cluster.name,
      targetGroupArns: services.map((s) => edge.alb.targetGroupArn(s.name, cluster.name)),
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
    edge: EdgeStack,
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
      bindings: services.map((service) => ({
        service: service.name,
        name: edge.alb.targetGroupBindingName(service.name, cluster.name),
        namespace: service.namespace,
        serviceName: service.serviceName ?? service.name,
        servicePort: service.servicePort,
        targetGroupArn: edge.alb.targetGroupArn(service.name, cluster.name),
        dependsOn: running.bindingDependencies(service),
      })),
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
