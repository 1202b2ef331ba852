/**
 * Shared pieces of the trust/approval fuzz targets: the target shape, the
 * "result or typed error" oracle, and structure-aware mutators that start from
 * a valid document (JSON value or YAML text) and break it a few places at a
 * time, so the cases reach the deep branches that random bytes never do.
 */
import fc from 'fast-check';
import { VouchError } from '../../src/core/errors.js';

/** A property the parser broke (a verified mutation, a message with a newline…), as opposed to an untyped exception it let out. */
export class PropertyBroken extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyBroken';
  }
}

export function broken(message: string): never {
  throw new PropertyBroken(message);
}

/** A typed error with a usable message: one line, non-empty. */
export function checkTypedError(e: unknown, extraTypes: Array<new (...a: any[]) => Error> = []): void {
  if (e instanceof PropertyBroken) throw e;
  if (!(e instanceof VouchError) && !extraTypes.some((t) => e instanceof t)) throw e; // untyped: the finding itself
  const m = (e as Error).message;
  if (typeof m !== 'string' || m.trim().length === 0) broken(`${(e as Error).name} with an empty message`);
  // One line (the CLI's errorLine strips other control characters when it prints).
  if (/[\r\n]/.test(m)) broken(`${(e as Error).name} message is not one line: ${JSON.stringify(m.slice(0, 200))}`);
}

/** Run `f`; a result passes, a typed error passes after its message is checked, anything else propagates. */
export function resultOrTyped<R>(f: () => R, extraTypes: Array<new (...a: any[]) => Error> = []): R | undefined {
  try {
    return f();
  } catch (e) {
    checkTypedError(e, extraTypes);
    return undefined;
  }
}

export async function resultOrTypedAsync<R>(f: () => Promise<R>, extraTypes: Array<new (...a: any[]) => Error> = []): Promise<R | undefined> {
  try {
    return await f();
  } catch (e) {
    checkTypedError(e, extraTypes);
    return undefined;
  }
}

/** A string result (the "reason" some readers return instead of throwing) must be one clean line too. */
export function checkReason(r: unknown): void {
  if (typeof r === 'string' && (r.length === 0 || /[\r\n]/.test(r))) broken(`reason is not one line: ${JSON.stringify(r.slice(0, 200))}`);
}

// ---------------------------------------------------------------- hostile values

const deepArray = (n: number): unknown => {
  let v: unknown = [];
  for (let i = 0; i < n; i++) v = [v];
  return v;
};
const deepObject = (n: number): unknown => {
  let v: unknown = {};
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
};

/** Values that break naive readers: wrong types, extremes, deep nesting, prototype keys, lookalikes. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    -0,
    1.5,
    2 ** 53 + 1,
    1e308,
    -1e308,
    '',
    ' ',
    '0',
    '-1',
    '18446744073709551616',
    '99999999999999999999999999',
    'null',
    '\u0000',
    '\u001b[2J\u001b]8;;x\u0007',
    'high\u200b',
    '=',
    '====',
    'AA==',
    'A',
    'not base64!',
    'sha256:',
    'sha256:' + 'a'.repeat(64),
    'sha256:' + 'A'.repeat(64),
    '__proto__',
    'constructor',
    [],
    [null],
    {},
    { __proto__: null },
    JSON.parse('{"__proto__":{"polluted":1}}'),
    { toString: 1, valueOf: 2 },
  ),
  fc.integer({ min: 100, max: 3000 }).map(deepArray),
  fc.integer({ min: 100, max: 3000 }).map(deepObject),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'A'.repeat(n)),
  fc.string({ maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
);

// ---------------------------------------------------------------- JSON mutation

type Json = unknown;
type Path = Array<string | number>;

/** Paths in a JSON value (root first, breadth first), for picking mutation sites by index; iterative and bounded (hostile values nest thousands deep). */
export function jsonPaths(v: Json, maxDepth = 24, maxPaths = 4000): Path[] {
  const out: Path[] = [];
  const queue: Array<[Json, Path]> = [[v, []]];
  for (let i = 0; i < queue.length && out.length < maxPaths; i++) {
    const [x, at] = queue[i]!;
    out.push(at);
    if (at.length >= maxDepth) continue;
    if (Array.isArray(x)) x.forEach((y, j) => queue.push([y, [...at, j]]));
    else if (typeof x === 'object' && x !== null) for (const [k, y] of Object.entries(x)) queue.push([y, [...at, k]]);
  }
  return out;
}

function getAt(v: Json, p: Path): Json {
  let cur: any = v;
  for (const k of p) cur = cur?.[k];
  return cur;
}

function setAt(root: Json, p: Path, value: Json | typeof DELETE): Json {
  if (p.length === 0) return value === DELETE ? null : value;
  const [k, ...rest] = p;
  if (Array.isArray(root)) {
    const copy = [...root];
    if (rest.length === 0 && value === DELETE) copy.splice(k as number, 1);
    else copy[k as number] = setAt(copy[k as number], rest, value);
    return copy;
  }
  if (typeof root === 'object' && root !== null) {
    const copy: Record<string, unknown> = { ...(root as Record<string, unknown>) };
    if (rest.length === 0 && value === DELETE) delete copy[k as string];
    else Object.defineProperty(copy, k as string, { value: setAt(copy[k as string], rest, value), enumerable: true, writable: true, configurable: true });
    return copy;
  }
  return root;
}

const DELETE = Symbol('delete');

/** One edit of a JSON document: where (an index into its paths) and what. */
export type JsonEdit =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'addKey'; at: number; key: string; value: unknown }
  | { op: 'caseKey'; at: number }
  | { op: 'dupArray'; at: number }
  | { op: 'string'; at: number; pos: number; char: string }
  | { op: 'number'; at: number; delta: number };

const interestingKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'Payload', 'mediaType', 'extra', ''), fc.string({ maxLength: 8 }));

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ op: fc.constant('addKey' as const), at: fc.nat(), key: interestingKey, value: hostileValue }),
  fc.record({ op: fc.constant('caseKey' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dupArray' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('string' as const), at: fc.nat(), pos: fc.nat(), char: fc.oneof(fc.constantFrom('\u0000', '"', '\\', '\n', '=', '/', '+', '-', '_', 'A', '\u00e9', '\ud800'), fc.string({ minLength: 1, maxLength: 1 })) }),
  fc.record({ op: fc.constant('number' as const), at: fc.nat(), delta: fc.oneof(fc.constantFrom(1, -1, 0.5, 2 ** 53, -(2 ** 63)), fc.integer()) }),
);

/** Apply edits in order; each picks its site among the paths of the document as it is then. */
export function applyJsonEdits(doc: Json, edits: readonly JsonEdit[]): Json {
  let cur = doc;
  for (const e of edits) {
    const paths = jsonPaths(cur);
    const p = paths[e.at % paths.length]!;
    const here = getAt(cur, p);
    switch (e.op) {
      case 'delete':
        cur = p.length === 0 ? cur : setAt(cur, p, DELETE);
        break;
      case 'replace':
        cur = setAt(cur, p, e.value);
        break;
      case 'addKey':
        if (typeof here === 'object' && here !== null && !Array.isArray(here)) {
          const copy = { ...(here as Record<string, unknown>) };
          Object.defineProperty(copy, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
          cur = setAt(cur, p, copy);
        } else if (Array.isArray(here)) cur = setAt(cur, p, [...here, e.value]);
        break;
      case 'caseKey': {
        // Rename the last key of the path to a case variant (Go's decoder would still read it).
        const k = p[p.length - 1];
        if (typeof k !== 'string' || k.length === 0) break;
        const parent = getAt(cur, p.slice(0, -1)) as Record<string, unknown>;
        const v = parent[k];
        const renamed = k[0] === k[0]!.toUpperCase() ? k[0]!.toLowerCase() + k.slice(1) : k[0]!.toUpperCase() + k.slice(1);
        const copy: Record<string, unknown> = {};
        for (const [kk, vv] of Object.entries(parent)) Object.defineProperty(copy, kk === k ? renamed : kk, { value: kk === k ? v : vv, enumerable: true, writable: true, configurable: true });
        cur = setAt(cur, p.slice(0, -1), copy);
        break;
      }
      case 'dupArray':
        if (Array.isArray(here) && here.length > 0) cur = setAt(cur, p, [...here, here[0]]);
        break;
      case 'string':
        if (typeof here === 'string') {
          const i = here.length === 0 ? 0 : e.pos % (here.length + 1);
          cur = setAt(cur, p, here.slice(0, i) + e.char + here.slice(i + 1));
        }
        break;
      case 'number':
        if (typeof here === 'number') cur = setAt(cur, p, here + e.delta);
        else if (typeof here === 'string' && /^\d+$/.test(here)) cur = setAt(cur, p, String(BigInt(here) + BigInt(Math.trunc(e.delta))));
        break;
    }
  }
  return cur;
}

/** A text-level edit of a serialised document: flip, insert, delete or truncate bytes. */
export type TextEdit = { op: 'flip'; pos: number; bit: number } | { op: 'insert'; pos: number; text: string } | { op: 'cut'; pos: number; len: number } | { op: 'truncate'; pos: number };

export const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('insert' as const), pos: fc.nat(), text: fc.oneof(fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '\n', '&a ', '*a', '<<: ', '!!binary ', '---\n', '%YAML 1.1\n', '? ', '- ', '\t', '\u0000', '\ufeff'), fc.string({ maxLength: 6 })) }),
  fc.record({ op: fc.constant('cut' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('truncate' as const), pos: fc.nat() }),
);

export function applyTextEdits(bytes: Buffer, edits: readonly TextEdit[]): Buffer {
  let b = bytes;
  for (const e of edits) {
    const pos = b.length === 0 ? 0 : e.pos % (b.length + 1);
    switch (e.op) {
      case 'flip':
        if (b.length > 0) {
          b = Buffer.from(b);
          const i = e.pos % b.length;
          b[i] = b[i]! ^ (1 << e.bit);
        }
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, pos), Buffer.from(e.text), b.subarray(pos)]);
        break;
      case 'cut':
        b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + e.len)]);
        break;
      case 'truncate':
        b = b.subarray(0, pos);
        break;
    }
  }
  return b;
}

/**
 * Inputs for a JSON reader built from seed documents: the seed itself, structural
 * edits of it, text edits of its serialisation, and raw bytes. Yields bytes.
 */
export function jsonDocuments(seeds: readonly unknown[], opts: { maxEdits?: number; rawBytes?: number } = {}): fc.Arbitrary<Buffer> {
  const seed = fc.constantFrom(...seeds);
  const maxEdits = opts.maxEdits ?? 4;
  return fc.oneof(
    { weight: 1, arbitrary: seed.map((s) => Buffer.from(JSON.stringify(s))) },
    { weight: 5, arbitrary: fc.tuple(seed, fc.array(jsonEdit, { minLength: 1, maxLength: maxEdits })).map(([s, e]) => Buffer.from(JSON.stringify(applyJsonEdits(s, e)) ?? 'null')) },
    { weight: 3, arbitrary: fc.tuple(seed, fc.array(textEdit, { minLength: 1, maxLength: maxEdits })).map(([s, e]) => applyTextEdits(Buffer.from(JSON.stringify(s)), e)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: opts.rawBytes ?? 256 }).map((u) => Buffer.from(u)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  );
}

/** Hostile YAML fragments: billion laughs, deep nesting, merge keys, tags, huge numbers, odd scalars. */
export const hostileYaml: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 2, max: 12 }).map((n) => {
    // Billion laughs: each level refers to the previous one ten times.
    const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= n; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    return lines.join('\n') + '\n';
  }),
  // Deep nesting (the parser's stack gives out near 1000 levels; deeper costs time, not coverage).
  fc.integer({ min: 50, max: 1000 }).map((n) => `x: ${'['.repeat(n)}${']'.repeat(n)}\n`),
  fc.integer({ min: 50, max: 1000 }).map((n) => `x: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`),
  fc.integer({ min: 10, max: 400 }).map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}- `).join('\n') + 'x\n'),
  fc.integer({ min: 10, max: 400 }).map((n) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n'),
  fc.constantFrom(
    'x: 1e99999\n',
    'x: 0x' + 'f'.repeat(400) + '\n',
    'x: 99999999999999999999999999999999999\n',
    'x: .nan\n',
    'x: -.inf\n',
    'x: !!binary aGVsbG8=\n',
    'x: !custom 1\n',
    '<<: {a: 1}\n',
    'base: &b {a: 1}\nx:\n  <<: *b\n',
    '? [a, b]\n: 1\n',
    '? {a: 1}\n: 1\n',
    '*undefined_alias\n',
    '&a [*a]\n',
    'x: &a\n  y: *a\n',
    '%YAML 1.1\n---\nx: yes\n',
    '%YAML 9.9\n---\nx: 1\n',
    '%TAG ! tag:example.com,2000:\n---\nx: !foo 1\n',
    'x: 1\nx: 2\n',
    '__proto__: {polluted: 1}\n',
    'constructor: {prototype: {polluted: 1}}\n',
    'x: "\\u0000\\x1b[2J"\n',
    '\ufeffx: 1\n',
    '---\n---\n---\n',
    '- - - - -\n',
    'x: |\n  a\n b\n',
    'x: >-\n\n\n',
    '"x\n',
    "'\n",
    '{',
    ': :\n',
    '\t- x\n',
    'x: 2001-12-14t21:59:43.10-05:00\n',
    'x: 0o777\n',
    'x: ~\n',
  ),
);

/** Inputs for a YAML reader: seed documents, line/text edits of them, hostile fragments, raw bytes. */
export function yamlDocuments(seeds: readonly string[], opts: { maxEdits?: number } = {}): fc.Arbitrary<string> {
  const seed = fc.constantFrom(...seeds);
  const maxEdits = opts.maxEdits ?? 4;
  // Replace one line's value, or insert a hostile fragment (indented to the line's depth) after a line.
  const lineEdit = fc.record({ line: fc.nat(), kind: fc.constantFrom('value', 'insert', 'delete', 'dup'), value: fc.oneof(hostileYaml, fc.string({ maxLength: 12 }), fc.constantFrom('null', '~', '[]', '{}', '-1', '0', '101', '1.10', 'true', '"', "'", '&x 1', '*x', '!!str 1', '!!int x', 'sha256:' + '0'.repeat(64))) });
  return fc.oneof(
    { weight: 1, arbitrary: seed },
    {
      weight: 5,
      arbitrary: fc.tuple(seed, fc.array(lineEdit, { minLength: 1, maxLength: maxEdits })).map(([s, edits]) => {
        let lines = s.split('\n');
        for (const e of edits) {
          const i = e.line % Math.max(lines.length, 1);
          const l = lines[i] ?? '';
          const indent = /^\s*(?:- )?/.exec(l)![0].replace('- ', '  ');
          if (e.kind === 'value') {
            const m = /^(\s*(?:- )?[^:#]+:)\s?.*$/.exec(l);
            lines[i] = m ? `${m[1]} ${e.value.split('\n')[0]}` : `${indent}${e.value.split('\n')[0]}`;
          } else if (e.kind === 'insert') lines.splice(i + 1, 0, ...e.value.split('\n').map((x) => indent + x));
          else if (e.kind === 'delete') lines.splice(i, 1);
          else lines.splice(i, 0, l);
        }
        return lines.join('\n');
      }),
    },
    { weight: 2, arbitrary: fc.tuple(seed, fc.array(textEdit, { minLength: 1, maxLength: maxEdits })).map(([s, e]) => applyTextEdits(Buffer.from(s), e).toString('utf8')) },
    { weight: 1, arbitrary: hostileYaml },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u).toString('utf8')) },
  );
}

/** Flip one bit of base64-encoded bytes (the decoded bytes change; the encoding stays canonical). */
export function flipBase64(b64: string, pos: number, bit: number): string {
  const urlSafe = /[-_]/.test(b64);
  const buf = Buffer.from(b64, urlSafe ? 'base64url' : 'base64');
  if (buf.length === 0) return Buffer.from([1 << bit]).toString('base64');
  const i = pos % buf.length;
  buf[i] = buf[i]! ^ (1 << bit);
  const out = buf.toString(urlSafe ? 'base64url' : 'base64');
  return /=$/.test(b64) || !urlSafe ? out : out.replace(/=+$/, '');
}
