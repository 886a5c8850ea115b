import { ConfigError, ConfigSources, parseFleetConfig } from "../../modules/config/load";

/** The problems reported for `sources`, as "file: field: message" lines; throws if they are accepted. */
export function problemsOf(sources: ConfigSources): string[] {
  try {
    parseFleetConfig(sources);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.file}: ${p.field}: ${p.message}`);
    throw error;
  }
  throw new Error("configuration was accepted");
}
