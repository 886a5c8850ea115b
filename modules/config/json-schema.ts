import { z } from "zod";
import { clusterConfigSchema, platformConfigSchema } from "./schema";

/** JSON Schemas of the config files, for editors, keyed by file name under `schema/`. */
export function jsonSchemas(): Record<string, object> {
  const toJsonSchema = (schema: z.ZodType, title: string) => ({
    title,
    ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }),
  });
  return {
    "platform.schema.json": toJsonSchema(platformConfigSchema, "Fleet settings (platform.yaml)"),
    "cluster.schema.json": toJsonSchema(clusterConfigSchema, "One cluster (clusters/<name>.yaml)"),
  };
}
