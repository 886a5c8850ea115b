import { z } from "zod";

/**
 * A map from names to values, without a prototype: keys such as `constructor`
 * or `toString` are plain keys, never inherited members. (`__proto__` never
 * reaches it: loading refuses that key in any file.)
 */
export function nameMap<V extends z.ZodType>(key: z.ZodString, value: V) {
  return z.record(key, value).transform((entries) => Object.assign(Object.create(null) as Record<string, z.output<V>>, entries));
}
