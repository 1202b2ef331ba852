/**
 * Mutators shared by the targets: take a valid document and damage it the way a
 * hostile or broken producer would (bytes flipped, cut short, spliced, a JSON
 * value replaced by another type). Shared by every target module.
 */
import fc from 'fast-check';

const interesting = ['\u0000', '\u001b[31m', '\u202e', '/', '..', ':', '@', '%', '\ufffd', '\ud800', '9'.repeat(40), '-1', 'sha256:', '\n'];

/** A string with a few characters replaced, inserted or deleted, or cut short. */
export function mutateString(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.oneof(fc.constantFrom(...interesting), fc.string({ maxLength: 3 }))), { minLength: 1, maxLength: 4 }))
    .map(([s, edits]) => {
      let out = s;
      for (const [at, op, text] of edits) {
        const i = out.length ? at % (out.length + 1) : 0;
        if (op === 0) out = out.slice(0, i) + text + out.slice(i + 1);
        else if (op === 1) out = out.slice(0, i) + text + out.slice(i);
        else out = out.slice(0, i);
      }
      return out;
    });
}

/** Bytes with a few bytes overwritten, then maybe truncated. */
export function mutateBytes(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(base, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.option(fc.nat(), { nil: undefined }))
    .map(([b, flips, cut]) => {
      const out = Buffer.from(b);
      if (out.length) for (const [at, v] of flips) out[at % out.length] = v;
      return cut === undefined ? out : out.subarray(0, cut % (out.length + 1));
    });
}

/** Values of the wrong type (and a few right-looking ones) to put where a field should be. */
export const anyJsonish: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constant(-1),
  fc.constant(2 ** 53),
  fc.string({ maxLength: 20 }),
  fc.constant('sha256:' + 'a'.repeat(64)),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.constant({ __proto__: 'x' }),
  fc.constant({ constructor: 1, toString: 2 }),
);

/** A JSON value with one node (found by walking indices into it) replaced by another value. */
export function mutateJson<T>(base: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.tuple(base, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.oneof(anyJsonish, fc.constant(undefined))).map(([doc, steps, repl]) => {
    const root = structuredClone(doc) as unknown;
    if (typeof root !== 'object' || root === null) return repl;
    let node = root as Record<string, unknown>;
    for (let i = 0; i < steps.length; i++) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const k = keys[steps[i]! % keys.length]!;
      const child = node[k];
      if (i === steps.length - 1 || typeof child !== 'object' || child === null) {
        if (repl === undefined) delete node[k];
        else node[k] = repl;
        break;
      }
      node = child as Record<string, unknown>;
    }
    return root;
  });
}

/** JSON text of a document, sometimes mutated, sometimes cut short; as bytes. */
export function jsonBytes<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 2, arbitrary: valid.map((d) => Buffer.from(JSON.stringify(d))) },
    { weight: 3, arbitrary: mutateJson(valid).map((d) => Buffer.from(JSON.stringify(d) ?? 'null')) },
    { weight: 1, arbitrary: mutateBytes(valid.map((d) => Buffer.from(JSON.stringify(d)))) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }) },
  );
}
