import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { TarParser, type TarHeader } from '../../src/core/layers/tar.js';
import { walkLayer } from '../../src/core/layers/walk.js';
import { VouchError } from '../../src/core/errors.js';
import { memoryLayer, tar, type EntrySpec } from '../helpers/tar-writer.js';

function parseChunks(bytes: Uint8Array, chunk: number): TarHeader[] {
  const out: TarHeader[] = [];
  const p = new TarParser({ what: 'fuzz', onEntry: (h) => (out.push(h), h.size < 4096), onContent: () => {}, maxContentBytes: 4096 });
  for (let i = 0; i < bytes.length; i += chunk) p.write(bytes.subarray(i, i + chunk));
  p.end();
  return out;
}

function typedOrResult(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof VouchError, `unexpected ${e instanceof Error ? e.stack : String(e)}`);
    assert.ok(e.code === 'INVALID_TAR' || e.code === 'LIMIT_EXCEEDED', e.code);
  }
}

const segment = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,20}$/).filter((s) => s !== '.' && s !== '..' && !s.startsWith('.wh.'));
const pathArb = fc.array(segment, { minLength: 1, maxLength: 12 }).map((a) => a.join('/'));
const specArb: fc.Arbitrary<EntrySpec> = fc.record({
  name: pathArb,
  type: fc.constantFrom('file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo') as fc.Arbitrary<EntrySpec['type'] & string>,
  data: fc.uint8Array({ maxLength: 1500 }).map((a) => Buffer.from(a)),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.integer({ min: 0, max: 0o7777777 }),
  gid: fc.integer({ min: 0, max: 2 ** 40 }),
  mtime: fc.integer({ min: 0, max: 2 ** 33 - 1 }),
  linkname: pathArb,
  long: fc.constantFrom('pax', 'gnu') as fc.Arbitrary<'pax' | 'gnu'>,
  devmajor: fc.integer({ min: 0, max: 4095 }),
  devminor: fc.integer({ min: 0, max: 4095 }),
}).map((s) => {
  const header = s.type === 'file' ? s : { ...s, data: Buffer.alloc(0) };
  // Big ids need base-256 (GNU) or PAX; use base-256 for the gid beyond octal range.
  return { ...header, base256: s.gid > 0o7777777 };
});

test('any bytes: a result or a typed error, whatever the chunking', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 700 }), (bytes, chunk) => {
      typedOrResult(() => parseChunks(bytes, chunk));
    }),
    { numRuns: 2000 },
  );
});

test('mutated valid archives: a result or a typed error', () => {
  fc.assert(
    fc.property(
      fc.array(specArb, { minLength: 1, maxLength: 5 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.nat(),
      fc.integer({ min: 1, max: 1024 }),
      (specs, flips, cut, chunk) => {
        const bytes = Buffer.from(tar(specs));
        for (const [at, v] of flips) bytes[at % bytes.length] = v;
        const truncated = bytes.subarray(0, cut % (bytes.length + 1));
        typedOrResult(() => parseChunks(truncated, chunk));
      },
    ),
    { numRuns: 1000 },
  );
});

test('round trip: generated archives parse back to what was written', () => {
  fc.assert(
    fc.property(fc.array(specArb, { minLength: 0, maxLength: 8 }), fc.integer({ min: 1, max: 2000 }), (specs, chunk) => {
      const headers = parseChunks(tar(specs), chunk);
      assert.equal(headers.length, specs.length);
      headers.forEach((h, i) => {
        const s = specs[i]!;
        assert.equal(h.name, s.name);
        assert.equal(h.mode, s.mode);
        assert.equal(h.uid, s.uid);
        assert.equal(h.gid, s.gid);
        assert.equal(h.mtime, s.mtime);
        assert.equal(h.size, (s.data as Buffer).length);
        assert.equal(h.linkname, s.linkname);
        if (s.type === 'char' || s.type === 'block') assert.deepEqual([h.devmajor, h.devminor], [s.devmajor, s.devminor]);
      });
    }),
    { numRuns: 500 },
  );
});

test('walkLayer on arbitrary bytes (plain and gzipped): a walk or a typed error', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), async (bytes, gz) => {
      const stored = gz ? gzipSync(bytes) : Buffer.from(bytes);
      try {
        await walkLayer(memoryLayer(stored, { tarBytes: Buffer.from(bytes), chunk: 97 }));
      } catch (e) {
        assert.ok(e instanceof VouchError, `unexpected ${String(e)}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('walkLayer round trip: every generated entry comes back, cleaned to an absolute path', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(specArb, { selector: (s) => s.name, maxLength: 8 }), async (specs) => {
      const t = tar(specs);
      const w = await walkLayer(memoryLayer(gzipSync(t), { tarBytes: t, chunk: 333 }));
      assert.deepEqual(
        w.entries.map((e) => e.path),
        specs.map((s) => `/${s.name}`),
      );
      assert.deepEqual(w.warnings, []);
    }),
    { numRuns: 200 },
  );
});
