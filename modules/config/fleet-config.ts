/** The validated configuration of a fleet as the loader hands it out, and the problems it reports. */
import { UserError } from "../support/user-error";
import { counted } from "../support/wording";
import type { ClusterConfig, PlatformConfig } from "./schema";

/** One problem found in the configuration, located by file and field path. */
export interface ConfigProblem {
  /** File relative to the project root, in POSIX form. */
  readonly file: string;
  /** Dotted field path such as `nodeGroups[0].minSize`; empty for the whole file. */
  readonly field: string;
  readonly message: string;
}

export class ConfigError extends UserError {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${counted(problems.length, "problem")}):\n` +
        problems.map((p) => `  ${p.file}${p.field ? `: ${p.field}` : ""}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface LoadedCluster {
  /** Cluster file relative to the project root. */
  readonly file: string;
  readonly config: ClusterConfig;
}

/** The whole validated configuration of a fleet. */
export interface FleetConfig {
  readonly platform: PlatformConfig;
  /** Subnet CIDRs per AZ, in the order of `platform.availabilityZones`. */
  readonly subnets: { readonly private: readonly string[]; readonly public: readonly string[] };
  /** Clusters sorted by name. */
  readonly clusters: readonly LoadedCluster[];
  /** Text of each chart's values file, by service name. */
  readonly chartValues: Readonly<Record<string, string>>;
}
