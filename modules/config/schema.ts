import { z } from "zod";
import { cidrProblem } from "./cidr";
import { MODERN_TLS_POLICY, MODERN_TLS_POLICY_REQUIREMENT } from "./tls-policies";
import { nameMap } from "./name-map";
import { chartSchema, workloadOverrideSchema, workloadSchema } from "./workload-schema";

import { addonVersionProblem, EKS_ADDONS, SUPPORTED_KUBERNETES_VERSIONS } from "./versions";

export { SUPPORTED_KUBERNETES_VERSIONS };

/** An ALB forward action takes at most this many target groups. */
export const MAX_TARGET_GROUPS_PER_FORWARD = 5;
/** Largest weight an ALB forward action accepts for one target group. */
export const MAX_WEIGHT = 999;

/**
 * Names that end up inside AWS names. A target group name is
 * `<fleet>-<cluster>-<service>` and may not exceed 32 characters, which is
 * where these lengths come from.
 */
const awsName = (what: string, maxLength: number) =>
  z
    .string()
    .min(1)
    .max(maxLength, `${what} is at most ${maxLength} characters (it becomes part of AWS names)`)
    .regex(
      /^[a-z]([a-z0-9-]*[a-z0-9])?$/,
      `${what} must start with a lowercase letter and contain only lowercase letters, digits and inner hyphens`,
    );

export const FLEET_NAME_MAX = 8;
export const CLUSTER_NAME_MAX = 11;
export const SERVICE_NAME_MAX = 11;
/** An ALB's name under `albs:`: `<fleet>-<name>-alb` names it in AWS (at most 32 characters). */
export const ALB_NAME_MAX = 12;

/** An IPv4 CIDR in canonical form: no leading zeros, no host bits ("10.0.0.0/16"). */
const ipv4Cidr = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, { message: "must be an IPv4 CIDR such as 10.0.0.0/16", abort: true })
  .superRefine((cidr, ctx) => {
    const problem = cidrProblem(cidr);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** A list whose entries must differ; a repeated entry is reported where it repeats. */
function uniqueList<T extends z.ZodType>(item: T) {
  return z.array(item).superRefine((items, ctx) => {
    items.forEach((value, i) => {
      const first = items.findIndex((other) => JSON.stringify(other) === JSON.stringify(value));
      if (first !== i) ctx.addIssue({ code: "custom", path: [i], message: `${JSON.stringify(value)} is listed twice (also entry ${first})` });
    });
  });
}

const arn = z.string().regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$/, "must be an AWS ARN");

/** An IAM role or user: what an EKS access entry names (never an assumed-role session). */
const iamPrincipalArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
    "must be an IAM role or user ARN such as arn:aws:iam::111122223333:role/deploy (not an assumed-role session ARN)",
  );

const region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "must be an AWS region such as eu-west-1");

const stateBackendSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("local"),
      /**
       * Folder for state files, relative to the project root.
       * @default "state"
       */
      directory: z
        .string()
        .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "must be a relative path inside the project")
        .refine((dir) => !dir.split("/").includes(".."), "must stay inside the project")
        .default("state"),
    })
    .strict(),
  z
    .object({
      type: z.literal("s3"),
      bucket: z.string().min(3).max(63),
      /** @default the fleet's region */
      region: region.optional(),
      /** @default the fleet name */
      keyPrefix: z.string().regex(/^[A-Za-z0-9._\/-]+$/).optional(),
    })
    .strict(),
]);

/** What the automatic failover may do: move traffic, only raise the alarm, or nothing. */
export const FAILOVER_MODES = ["auto", "alarm-only", "off"] as const;

/** Who hears of every failover, and of every failure it could not move traffic away from. */
const failoverSubscriptionSchema = z
  .object({
    protocol: z.enum(["email", "https", "sqs", "lambda"]),
    /** An address, an https:// URL, or the queue's or function's ARN. */
    endpoint: z.string().min(1).max(2048),
  })
  .strict()
  .refine((s) => (s.protocol === "https" ? /^https:\/\/\S+$/.test(s.endpoint) : s.protocol === "email" ? /^[^@\s]+@[^@\s]+$/.test(s.endpoint) : /^arn:aws[a-z-]*:/.test(s.endpoint)), {
    message: "endpoint does not fit the protocol: an address for email, an https:// URL for https, an ARN for sqs and lambda",
    path: ["endpoint"],
  });

const failoverSchema = z
  .object({
    /**
     * `auto`: a function in the edge stack moves a failed cluster's traffic to its healthy peers;
     * `alarm-only`: it only notifies what it would move; `off`: no function at all.
     * @default "auto"
     */
    mode: z.enum(FAILOVER_MODES).default("auto"),
    /** Consecutive minutes of target 5xx above `shiftLimits.max5xxPercent` that make a cluster failed. @default 2 */
    breachMinutes: z.number().int().min(1).max(10).default(2),
    /** Requests a minute needs before its 5xx share counts. @default 20 */
    minRequestsPerMinute: z.number().int().min(1).max(1_000_000).default(20),
    /** Minutes after a failover of a service during which it moves nothing more (against flapping). @default 10 */
    cooldownMinutes: z.number().int().min(1).max(1440).default(10),
    /** Subscriptions of the failover's SNS topic. @default [] */
    notify: z.array(failoverSubscriptionSchema).max(20).default([]),
  })
  .strict();

const routedServiceSchema = z
  .object({
    name: awsName("service name", SERVICE_NAME_MAX),
    /** Kubernetes namespace of the Service whose pods are registered. @default "default" */
    namespace: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a Kubernetes namespace name")
      .default("default"),
    /** Name of the Kubernetes Service. @default the service name */
    serviceName: z
      .string()
      .regex(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a Kubernetes Service name")
      .optional(),
    /** Port of the Kubernetes Service that the binding refers to. */
    servicePort: z.number().int().min(1).max(65535),
    /** Port the pods listen on: the target group's port and the port the ALB may reach. */
    containerPort: z.number().int().min(1).max(65535),
    /** Host headers the listener rule matches. */
    hosts: uniqueList(z.string().min(1).max(128)).min(1).max(5).optional(),
    /** Path patterns the listener rule matches. */
    paths: uniqueList(z.string().min(1).max(128)).min(1).max(5).optional(),
    /** Listener rule priority; unique per ALB, lower wins. */
    priority: z.number().int().min(1).max(50000),
    /**
     * The ALB that routes it: a name under `albs`. Moving a service to another ALB replaces
     * its target groups and its address: add it there under a new name instead (docs/runbooks.md).
     * @default the ALB of `alb`
     */
    alb: z.string().optional(),
    healthCheck: z
      .object({
        /** @default "/" */
        path: z.string().startsWith("/").max(1024).default("/"),
        /** @default "200-399" */
        matcher: z.string().regex(/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/).default("200-399"),
        /** @default 10 */
        intervalSeconds: z.number().int().min(5).max(300).default(10),
        /** @default 2 */
        healthyThreshold: z.number().int().min(2).max(10).default(2),
        /** @default 2 */
        unhealthyThreshold: z.number().int().min(2).max(10).default(2),
      })
      .strict()
      .prefault({}),
    /** Seconds a deregistered target keeps its connections. @default 30 */
    deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(30),
    /**
     * Create the namespace (or label an existing one such as `default`) with pod readiness
     * gates; false when it is managed elsewhere and already exists.
     * @default true
     */
    manageNamespace: z.boolean().default(true),
    /** What runs the service, deployed by the fleet in each cluster routing it; none when it is deployed elsewhere. */
    workload: workloadSchema.optional(),
    /** A Helm chart that runs the service, released in each cluster routing it. */
    chart: chartSchema.optional(),
    /**
     * Healthy targets a cluster's target group needs before a shift (or a
     * deploy of the edge) raises its weight. @default 1
     */
    minHealthyTargets: z.number().int().min(1).max(1000).default(1),
    /** Limits a progressive shift checks after each step, per cluster; a breach restores the starting weights. */
    shiftLimits: z
      .object({
        /** Largest share of requests answered with a target 5xx, in percent. @default 1 */
        max5xxPercent: z.number().min(0).max(100).default(1),
        /** Largest average target response time, in milliseconds. @default 1000 */
        maxResponseTimeMs: z.number().int().min(1).max(600_000).default(1000),
      })
      .strict()
      .prefault({}),
    /** This service's failover mode. @default the fleet's `failover.mode` */
    failover: z.object({ mode: z.enum(FAILOVER_MODES).optional() }).strict().prefault({}),
  })
  .strict()
  .refine((s) => s.hosts !== undefined || s.paths !== undefined, {
    message: "needs `hosts` or `paths`: a listener rule matches on at least one condition",
    path: ["hosts"],
  })
  .refine((s) => s.workload === undefined || s.chart === undefined, {
    message: "give `workload` or `chart`, not both",
    path: ["chart"],
  })
  .superRefine((s, ctx) => {
    const grace = s.workload?.terminationGracePeriodSeconds;
    if (grace === undefined || grace > drainSeconds(s)) return;
    ctx.addIssue({
      code: "custom",
      path: ["workload", "terminationGracePeriodSeconds"],
      message: `${grace} s ends before the pod has drained: it must exceed preStopSleepSeconds (${s.workload!.preStopSleepSeconds}) plus the target group's deregistrationDelaySeconds (${s.deregistrationDelaySeconds}), ${drainSeconds(s)} s; leave it unset for ${drainSeconds(s) + GRACE_MARGIN_SECONDS}`,
    });
  });

/** Seconds a stopping pod of the service may still receive requests: its preStop sleep, then the target group's deregistration delay. */
function drainSeconds(service: { readonly deregistrationDelaySeconds: number; readonly workload?: { readonly preStopSleepSeconds: number } }): number {
  return (service.workload?.preStopSleepSeconds ?? 0) + service.deregistrationDelaySeconds;
}

/** Seconds the default grace period leaves beyond {@link drainSeconds} for the process to exit. */
const GRACE_MARGIN_SECONDS = 10;

/** A workload's grace period: its own, or {@link drainSeconds} and a margin. */
export function terminationGracePeriodOf(service: RoutedService): number {
  return service.workload?.terminationGracePeriodSeconds ?? drainSeconds(service) + GRACE_MARGIN_SECONDS;
}

/** The settings of one ALB: `alb:` and each of `albs:`. */
const albSettingsSchema = z
  .object({
    /** @default false */
    internal: z.boolean().default(false),
    /** Who may reach the listeners. @default ["0.0.0.0/0"] */
    ingressCidrs: uniqueList(ipv4Cidr).min(1).default(["0.0.0.0/0"]),
    /** ACM certificate for the HTTPS listener. */
    certificateArn: arn.optional(),
    /** Serve plain HTTP only, with no certificate: for trying the fleet out. @default false */
    httpOnly: z.boolean().default(false),
    /** @default "ELBSecurityPolicy-TLS13-1-2-2021-06" */
    sslPolicy: z.string().regex(MODERN_TLS_POLICY, MODERN_TLS_POLICY_REQUIREMENT).default("ELBSecurityPolicy-TLS13-1-2-2021-06"),
    /** @default true */
    deletionProtection: z.boolean().default(true),
    /** @default 60 */
    idleTimeoutSeconds: z.number().int().min(1).max(4000).default(60),
    /** S3 bucket (SSE-S3 encrypted) that receives access logs. */
    accessLogsBucket: z.string().min(3).max(63).optional(),
    /** WAFv2 web ACL to associate with the ALB. */
    webAclArn: arn.optional(),
  })
  .strict();

export const platformConfigSchema = z
  .object({
    /** Name of this fleet; prefixes every AWS name. */
    name: awsName("fleet name", FLEET_NAME_MAX),
    /** The AWS account the fleet deploys into; Terraform refuses to apply to any other. */
    accountId: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account ID (quote it)"),
    region,
    /** Availability zones of the VPC's subnets (2 to 4). */
    availabilityZones: uniqueList(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, "must be an availability zone such as eu-west-1a"))
      .min(2)
      .max(4),
    vpc: z
      .object({
        cidr: ipv4Cidr,
        /** Private subnets, one per AZ. @default computed: the first half of the VPC in equal blocks */
        privateSubnetCidrs: z.array(ipv4Cidr).optional(),
        /** Public subnets, one per AZ. @default computed: small blocks in the second half of the VPC */
        publicSubnetCidrs: z.array(ipv4Cidr).optional(),
        /** `single` saves cost, `perAz` survives the loss of an AZ. @default "perAz" */
        natGateways: z.enum(["single", "perAz"]).default("perAz"),
        /** Days to keep VPC flow logs. @default 365 */
        flowLogRetentionDays: z.number().int().min(1).default(365),
      })
      .strict(),
    /** The ALB of stack `edge`: every service's unless it names another with `alb`. */
    alb: albSettingsSchema,
    /**
     * More ALBs by name, each in its own stack `edge-<name>` with the same settings as `alb`:
     * internal beside internet-facing, or more services than one ALB's quotas take.
     * @default {}
     */
    albs: nameMap(z.string(), albSettingsSchema)
      .superRefine((albs, ctx) => {
        for (const key of Object.keys(albs)) {
          for (const issue of awsName("ALB name", ALB_NAME_MAX).safeParse(key).error?.issues ?? []) ctx.addIssue({ code: "custom", path: [key], message: issue.message });
        }
      })
      .prefault({}),
    /** The services routed through the ALBs. */
    services: z.array(routedServiceSchema).min(1),
    /** Who reaches every cluster's Kubernetes API, through EKS access entries. */
    clusterAccess: z
      .object({
        /** The IAM role (or user) that runs the deploys: cluster-admin in every cluster. */
        deployerPrincipalArn: iamPrincipalArn,
        /**
         * The IAM role that plans pull requests: EKS's view policy, and read access to the
         * Secrets where Helm keeps its releases, in the namespaces the in-cluster stacks use.
         * @default none: the deployer plans too
         */
        planPrincipalArn: iamPrincipalArn.optional(),
      })
      .strict(),
    /** The automatic failover in the edge stack. @default mode auto, 2 breach minutes, 10 cooldown minutes */
    failover: failoverSchema.prefault({}),
    /** Where Terraform keeps state. @default local files under `state/` */
    stateBackend: stateBackendSchema.default({ type: "local", directory: "state" }),
    /** Tags on every AWS resource. @default {} */
    tags: nameMap(z.string().min(1).max(128), z.string().max(256)).prefault({}),
  })
  .strict();

const nodeGroupSchema = z
  .object({
    name: awsName("node group name", 20),
    /** @default ["m6i.large"] */
    instanceTypes: uniqueList(z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, "must be an EC2 instance type")).min(1).default(["m6i.large"]),
    /** @default "ON_DEMAND" */
    capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
    /** @default "AL2023_x86_64_STANDARD" */
    amiType: z.enum(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"]).default("AL2023_x86_64_STANDARD"),
    /** AMI release to pin; EKS's latest for the version when unset. */
    releaseVersion: z.string().min(1).optional(),
    minSize: z.number().int().min(0).max(450),
    desiredSize: z.number().int().min(0).max(450),
    maxSize: z.number().int().min(1).max(450),
    /** @default 50 */
    diskSizeGiB: z.number().int().min(20).max(16384).default(50),
  })
  .strict()
  .superRefine((group, ctx) => {
    if (group.minSize > group.desiredSize) {
      ctx.addIssue({ code: "custom", path: ["minSize"], message: `minSize (${group.minSize}) is above desiredSize (${group.desiredSize})` });
    }
    if (group.desiredSize > group.maxSize) {
      ctx.addIssue({ code: "custom", path: ["desiredSize"], message: `desiredSize (${group.desiredSize}) is above maxSize (${group.maxSize})` });
    }
  });

/**
 * Where a cluster is in its life:
 * - `active`: serves traffic and may receive more;
 * - `draining`: traffic is being moved away; its weights may only go down;
 * - `standby`: no traffic, node groups scaled down to `standbyNodes`;
 * - `retiring`: no traffic, about to be removed (`npm run retire`).
 */
export const CLUSTER_STATES = ["active", "draining", "standby", "retiring"] as const;

const NO_NODES_MESSAGE =
  "the cluster needs at least 1 node: without one, CoreDNS and the load balancer controller stay Pending and Helm's install and uninstall waits hang";

export const clusterConfigSchema = z
  .object({
    name: awsName("cluster name", CLUSTER_NAME_MAX),
    /** @default "active" */
    state: z.enum(CLUSTER_STATES).default("active"),
    /** Nodes per node group while the cluster is on standby; at least 1, for CoreDNS and the controller. @default 1 */
    standbyNodes: z.number().int().min(1, NO_NODES_MESSAGE).max(450).default(1),
    kubernetesVersion: z.enum(SUPPORTED_KUBERNETES_VERSIONS, {
      error: (issue) =>
        issue.input === undefined
          ? "is required"
          : `must be one of the versions EKS supports: ${SUPPORTED_KUBERNETES_VERSIONS.join(", ")} (quote it: "1.33")`,
    }),
    endpoint: z
      .object({
        /** @default true */
        privateAccess: z.boolean().default(true),
        /** Reachable from outside the VPC (within publicAccessCidrs). @default false */
        publicAccess: z.boolean().default(false),
        /** Who may reach a public endpoint; required when it is public. */
        publicAccessCidrs: uniqueList(ipv4Cidr).min(1).optional(),
        /**
         * Networks in the VPC, or connected to it, whose machines (CI runners, a bastion) may reach
         * the private endpoint on port 443; the cluster security group lets nothing else in.
         * @default []
         */
        privateAccessCidrs: uniqueList(ipv4Cidr).default([]),
      })
      .strict()
      .prefault({})
      .superRefine((endpoint, ctx) => {
        if (endpoint.publicAccess && !endpoint.publicAccessCidrs) {
          ctx.addIssue({ code: "custom", path: ["publicAccessCidrs"], message: "is required while publicAccess is true: list the CIDRs that may reach the API server" });
        }
        if (endpoint.privateAccessCidrs.length > 0 && !endpoint.privateAccess) {
          ctx.addIssue({ code: "custom", path: ["privateAccessCidrs"], message: "needs privateAccess: true (these networks reach the private endpoint)" });
        }
        if (!endpoint.publicAccess && !endpoint.privateAccess) {
          ctx.addIssue({ code: "custom", path: ["privateAccess"], message: "the API server needs public or private access" });
        }
      }),
    /**
     * EKS support for the Kubernetes version: `STANDARD`, or `EXTENDED` to stay on a
     * version past its standard support, at several times the hourly price of the
     * control plane. With `STANDARD`, EKS upgrades a control plane whose version
     * leaves standard support.
     * @default "STANDARD"
     */
    supportType: z.enum(["STANDARD", "EXTENDED"]).default("STANDARD"),
    /** IAM principals given cluster-admin through access entries, besides the deployer. @default [] */
    adminPrincipalArns: uniqueList(iamPrincipalArn).default([]),
    /**
     * Let EKS give the identity that creates the cluster an access entry of its own. Off:
     * the deployer's entry is explicit (platform.yaml clusterAccess). Only for clusters
     * created with it on, whose creator must be the deployer; changing it replaces the cluster.
     * @default false
     */
    bootstrapCreatorAdmin: z.boolean().default(false),
    /** Kubernetes Service CIDR; must not overlap the VPC. @default "172.20.0.0/16" */
    serviceIpv4Cidr: ipv4Cidr.default("172.20.0.0/16"),
    /** Days to keep control-plane logs. @default 365 */
    logRetentionDays: z.number().int().min(1).default(365),
    nodeGroups: z.array(nodeGroupSchema).min(1),
    /**
     * Versions of the EKS add-ons (e.g. "v1.20.4-eksbuild.2"); the version catalogue's
     * default for the Kubernetes version when unset (modules/config/versions.ts), so unpinned
     * add-ons follow the control plane. A pin must support the Kubernetes version.
     * @default {}
     */
    addonVersions: z
      .object({
        "vpc-cni": z.string().min(1).optional(),
        "kube-proxy": z.string().min(1).optional(),
        coredns: z.string().min(1).optional(),
        "eks-pod-identity-agent": z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Traffic weight per routed service (0-999). A service absent here is not routed to this cluster. */
    weights: nameMap(z.string(), z.number().int().min(0).max(MAX_WEIGHT)).prefault({}),
    loadBalancerController: z
      .object({
        /** Chart version of aws-load-balancer-controller. @default the version catalogue's, "3.5.0" */
        chartVersion: z.string().regex(/^\d+\.\d+\.\d+$/).optional(),
        /** @default 2 */
        replicas: z.number().int().min(1).max(5).default(2),
      })
      .strict()
      .prefault({}),
    /** Per-service overrides of workloads and charts in this cluster, by service name. @default {} */
    workloads: nameMap(z.string(), workloadOverrideSchema).prefault({}),
    /** Tags on this cluster's resources, over the fleet's. @default {} */
    tags: nameMap(z.string().min(1).max(128), z.string().max(256)).prefault({}),
  })
  .strict()
  .superRefine((cluster, ctx) => {
    for (const addon of EKS_ADDONS) {
      const version = cluster.addonVersions[addon];
      const problem = version === undefined ? undefined : addonVersionProblem(addon, version, cluster.kubernetesVersion);
      if (problem) ctx.addIssue({ code: "custom", path: ["addonVersions", addon], message: problem });
    }
    if (cluster.nodeGroups.every((group) => group.minSize === 0)) {
      ctx.addIssue({ code: "custom", path: ["nodeGroups", 0, "minSize"], message: `is 0 in every node group: ${NO_NODES_MESSAGE}` });
    }
  });

export type PlatformConfig = z.infer<typeof platformConfigSchema>;
export type RoutedService = PlatformConfig["services"][number];
export type ClusterConfig = z.infer<typeof clusterConfigSchema>;
export type NodeGroupConfig = ClusterConfig["nodeGroups"][number];
export type StateBackendConfig = PlatformConfig["stateBackend"];
