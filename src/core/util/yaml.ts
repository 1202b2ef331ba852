/**
 * YAML with duplicate keys refused in linear time. The yaml package's own
 * check (uniqueKeys) scans the whole mapping for every key it adds: 16,000
 * keys took 15 s, and a manifest the gate reads may hold a million. Keys are
 * compared as that check compares them: scalars with equal values.
 */
import { isMap, isScalar, parseDocument, visit, type Document, type DocumentOptions, type ParseOptions, type SchemaOptions, type ToJSOptions } from 'yaml';

/** The first repeated key of any mapping in `doc`, as yaml's error ("Map keys must be unique at line N, column M"), or undefined. */
export function duplicateKeyError(doc: Document.Parsed | Document, text: string): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key)) continue; // collection and alias keys: each reader refuses or compares them itself
        const v = key.value;
        const id = `${typeof v}:${typeof v === 'symbol' ? v.description : String(v)}`;
        if (seen.has(id)) {
          const at = key.range?.[0] ?? 0;
          const lines = text.slice(0, at).split('\n');
          found = `Map keys must be unique at line ${lines.length}, column ${lines[lines.length - 1]!.length + 1}`;
          return visit.BREAK;
        }
        seen.add(id);
      }
    },
  });
  return found;
}

/** As yaml's parse(text, {uniqueKeys: true, …}): throws the first error (a duplicate key included), else the value. */
export function parseYamlUnique(text: string, opts: ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions = {}): unknown {
  const doc = parseDocument(text, { ...opts, uniqueKeys: false });
  if (doc.errors.length > 0) throw doc.errors[0];
  const dup = duplicateKeyError(doc, text);
  if (dup) throw new Error(dup);
  // yaml's parse() would emitWarning() these with the raw source line: bytes from a file someone else wrote
  // (a pull request's manifest) reaching the terminal unescaped. Warnings (unknown tags, %YAML versions) change nothing read.
  return doc.toJS(opts);
}
