import { Document, isScalar, LineCounter, parseDocument, visit, YAMLParseError } from "yaml";

/**
 * Parses YAML text as the configuration files are read: errors collected in
 * the document, a key repeated in a mapping among them. The yaml library's
 * own check (`uniqueKeys`) compares every key with every other, minutes for a
 * mapping of 100,000 keys; this one remembers the keys seen, in linear time,
 * and treats keys alike as it does (same scalar value, or the same node).
 */
export function parseYamlDocument(text: string, lineCounter?: LineCounter): Document.Parsed {
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: false, lineCounter });
  visit(document, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        const identity = isScalar(key) ? key.value : key;
        if (seen.has(identity)) {
          const range = (key as { range?: [number, number] } | null)?.range ?? [0, 0];
          document.errors.push(new YAMLParseError([range[0], range[1]], "DUPLICATE_KEY", "Map keys must be unique"));
        }
        seen.add(identity);
      }
    },
  });
  return document;
}
