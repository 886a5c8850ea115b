import { z } from "zod";
import { nameMap } from "./name-map";

/** Variables every workload container receives from the fleet; config may not set them. */
const FLEET_ENV_VARS = ["CLUSTER_NAME", "FLEET_NAME"] as const;

/** Values files of charts are read from the project, relative to its root. */
const relativeProjectPath = z
  .string()
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "must be a relative path inside the project")
  .refine((file) => !file.split("/").includes(".."), "must stay inside the project");

const absolutePath = z.string().regex(/^\/[A-Za-z0-9._\/-]*$/, "must be an absolute path in the container");

/**
 * A container image pinned to a version: a digest, or a tag holding a digit
 * (`1.30.4-alpine`), never `latest` or a moving name such as `stable`.
 */
const pinnedImage = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9._-]+)+(:[A-Za-z0-9._-]{1,128})?(@sha256:[a-f0-9]{64})?$/, "must be a container image reference such as public.ecr.aws/nginx/nginx-unprivileged:1.30.4-alpine")
  .refine((image) => {
    if (image.includes("@sha256:")) return true;
    const tag = /:([A-Za-z0-9._-]+)$/.exec(image.split("/").pop()!)?.[1];
    return tag !== undefined && tag !== "latest" && /\d/.test(tag);
  }, "must be pinned: give a version tag (such as 1.30.4-alpine) or a digest (@sha256:...), not latest or a moving tag");

const cpuQuantity = z.string().regex(/^\d+(\.\d+)?m?$/, "must be a CPU quantity such as 250m or 1");
const memoryQuantity = z.string().regex(/^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$/, "must be a memory quantity such as 256Mi");

const httpProbeSchema = z
  .object({
    /** Path of the HTTP GET on the container port. @default the target group's health-check path */
    path: z.string().startsWith("/").max(1024).optional(),
    /** @default 0 */
    initialDelaySeconds: z.number().int().min(0).max(600).default(0),
    /** @default 5 */
    periodSeconds: z.number().int().min(1).max(300).default(5),
    /** @default 2 */
    timeoutSeconds: z.number().int().min(1).max(60).default(2),
    /** @default 3 */
    failureThreshold: z.number().int().min(1).max(30).default(3),
  })
  .strict();

/** A Kubernetes Deployment, Service and PodDisruptionBudget run by the fleet in each cluster routing the service. */
export const workloadSchema = z
  .object({
    /** Container image, pinned by version tag or digest. */
    image: pinnedImage,
    /** Pods per cluster; per-cluster overrides in the cluster files. @default 2 */
    replicas: z.number().int().min(0).max(500).default(2),
    /** With maxReplicas: a HorizontalPodAutoscaler scales between the two on CPU. */
    minReplicas: z.number().int().min(1).max(500).optional(),
    /** With minReplicas: a HorizontalPodAutoscaler scales between the two on CPU. */
    maxReplicas: z.number().int().min(1).max(500).optional(),
    /** Average CPU use, in percent of the request, the autoscaler aims at. @default 70 */
    targetCpuUtilizationPercent: z.number().int().min(10).max(100).default(70),
    resources: z
      .object({
        requests: z
          .object({
            /** @default "100m" */
            cpu: cpuQuantity.default("100m"),
            /** @default "128Mi" */
            memory: memoryQuantity.default("128Mi"),
          })
          .strict()
          .prefault({}),
        limits: z
          .object({
            /** No CPU limit by default: throttling hurts latency more than it protects neighbours. */
            cpu: cpuQuantity.optional(),
            /** @default the memory request */
            memory: memoryQuantity.optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Environment variables of the container (CLUSTER_NAME and FLEET_NAME are set by the fleet). @default {} */
    env: nameMap(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), z.string())
      .superRefine((env, ctx) => {
        for (const name of FLEET_ENV_VARS.filter((reserved) => reserved in env)) {
          ctx.addIssue({ code: "custom", path: [name], message: `is set by the fleet (${FLEET_ENV_VARS.join(", ")}); choose another name` });
        }
      })
      .prefault({}),
    /** Overrides the image's entrypoint. */
    command: z.array(z.string()).min(1).optional(),
    /** Overrides the image's arguments. */
    args: z.array(z.string()).optional(),
    /** HTTP readiness probe on the container port. @default GET on the health-check path every 5 s */
    readinessProbe: httpProbeSchema.prefault({}),
    /** HTTP liveness probe on the container port; none when unset. */
    livenessProbe: httpProbeSchema.optional(),
    podDisruptionBudget: z
      .object({
        /** Pods a voluntary disruption (drain, upgrade) may take at once. @default 1 */
        maxUnavailable: z.number().int().min(1).max(500).default(1),
      })
      .strict()
      .prefault({}),
    zoneSpread: z
      .object({
        /** Largest difference of pod counts between zones. @default 1 */
        maxSkew: z.number().int().min(1).max(10).default(1),
        /** `DoNotSchedule` keeps pods pending rather than unbalance zones. @default "ScheduleAnyway" */
        whenUnsatisfiable: z.enum(["ScheduleAnyway", "DoNotSchedule"]).default("ScheduleAnyway"),
      })
      .strict()
      .prefault({}),
    /** Files of a ConfigMap mounted read-only into the container; a change rolls the pods. */
    config: z
      .object({
        mountPath: absolutePath,
        /** File name to content. */
        files: nameMap(z.string().regex(/^[A-Za-z0-9._-]+$/, "must be a file name"), z.string()).refine((files) => Object.keys(files).length > 0, "needs at least one file"),
      })
      .strict()
      .optional(),
    /**
     * Seconds a stopping pod keeps serving before it gets SIGTERM: a preStop `sleep` (run in the
     * container, so the image needs a `sleep` on its PATH) covering the time the controller and the
     * ALB take to stop sending it new requests. 0: no preStop hook, for images without `sleep`.
     * @default 15
     */
    preStopSleepSeconds: z.number().int().min(0).max(600).default(15),
    /**
     * Seconds between a pod's stop and its SIGKILL; must exceed preStopSleepSeconds plus the target
     * group's deregistrationDelaySeconds, so requests in flight finish.
     * @default preStopSleepSeconds + deregistrationDelaySeconds + 10
     */
    terminationGracePeriodSeconds: z.number().int().min(1).max(7200).optional(),
    /** Writable empty directories: the root filesystem is read-only. @default ["/tmp"] */
    writableDirs: z.array(absolutePath).default(["/tmp"]),
    /** User ID to run as, for images whose user is not numeric; never 0. */
    runAsUser: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((workload, ctx) => {
    if ((workload.minReplicas === undefined) !== (workload.maxReplicas === undefined)) {
      ctx.addIssue({ code: "custom", path: [workload.minReplicas === undefined ? "minReplicas" : "maxReplicas"], message: "give both minReplicas and maxReplicas for autoscaling, or neither" });
    } else if (workload.minReplicas !== undefined && workload.maxReplicas! < workload.minReplicas) {
      ctx.addIssue({ code: "custom", path: ["maxReplicas"], message: `maxReplicas (${workload.maxReplicas}) is below minReplicas (${workload.minReplicas})` });
    }
  });

/** A Helm chart released by the fleet in each cluster routing the service. */
export const chartSchema = z
  .object({
    /** Chart repository: an https:// index or an oci:// registry. */
    repository: z.string().regex(/^(https|oci):\/\/[^\s]+$/, "must be an https:// or oci:// chart repository"),
    /** Chart name in the repository. */
    name: z.string().regex(/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, "must be a chart name"),
    /** Exact chart version. */
    version: z.string().regex(/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, "must be an exact chart version such as 1.4.2"),
    /** Values file, relative to the project root. */
    valuesFile: relativeProjectPath.optional(),
    /**
     * The chart value that sets the replica count, set from per-cluster overrides and on standby.
     * @default "replicaCount"
     */
    replicasValue: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be a dotted value path").default("replicaCount"),
  })
  .strict();

/** Per-cluster overrides of a service's workload or chart, in the cluster file. */
export const workloadOverrideSchema = z
  .object({
    /** Pods in this cluster. */
    replicas: z.number().int().min(0).max(500).optional(),
    /** Autoscaler bounds in this cluster (workloads with autoscaling). */
    minReplicas: z.number().int().min(1).max(500).optional(),
    maxReplicas: z.number().int().min(1).max(500).optional(),
  })
  .strict();

export type WorkloadConfig = z.infer<typeof workloadSchema>;
export type ChartConfig = z.infer<typeof chartSchema>;
