/** The fleet's ALBs: the one of `alb:` and those of `albs:`, and the services each routes. */
import type { PlatformConfig, RoutedService } from "./schema";

export type AlbSettings = PlatformConfig["alb"];

/** One ALB of the fleet. */
export interface FleetAlb {
  /** Its name under `albs:`; undefined for the ALB of `alb:`. */
  readonly key?: string;
  /** Where platform.yaml configures it: `alb` or `albs.<name>`. */
  readonly field: string;
  readonly settings: AlbSettings;
}

/** Where platform.yaml configures the ALB of this key: `alb`, or `albs.<name>`. */
export function albField(key: string | undefined): string {
  return key === undefined ? "alb" : `albs.${key}`;
}

/** Every ALB of the fleet: the one of `alb:` first, then those of `albs:` by name. */
export function fleetAlbs(platform: Pick<PlatformConfig, "alb" | "albs">): FleetAlb[] {
  return [
    { field: albField(undefined), settings: platform.alb },
    ...Object.keys(platform.albs)
      .sort()
      .map((key) => ({ key, field: albField(key), settings: platform.albs[key] })),
  ];
}

/** The services the ALB of this key routes (undefined: the ALB of `alb:`), in the order of platform.yaml. */
export function servicesOnAlb<S extends Pick<RoutedService, "alb">>(services: readonly S[], key: string | undefined): S[] {
  return services.filter((service) => service.alb === key);
}

/** The key of each service's ALB, by service name (undefined: the ALB of `alb:`). */
export function albKeysByService(services: readonly Pick<RoutedService, "name" | "alb">[]): ReadonlyMap<string, string | undefined> {
  return new Map(services.map((service) => [service.name, service.alb]));
}
