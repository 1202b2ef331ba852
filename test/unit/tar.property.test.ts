import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { TarParser, type TarHeader } from '../../src/core/layers/tar.js';
import { walkLayer } from '../../src/core/layers/walk.js';
import { memoryLayer, tar } from '../helpers/tar-writer.js';
// The entry generator is shared with the fuzz targets.
import { specArb } from '../fuzz/targets/layers.js';

function parseChunks(bytes: Uint8Array, chunk: number): TarHeader[] {
  const out: TarHeader[] = [];
  const p = new TarParser({ what: 'fuzz', onEntry: (h) => (out.push(h), h.size < 4096), onContent: () => {}, maxContentBytes: 4096 });
  for (let i = 0; i < bytes.length; i += chunk) p.write(bytes.subarray(i, i + chunk));
  p.end();
  return out;
}

// Any bytes and mutated archives → a result or a typed error: the fuzz targets `tar` and `layer-walk` (test/fuzz/targets/layers.ts).

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

test('walkLayer round trip: every generated entry comes back, cleaned to an absolute path', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(specArb, { selector: (s) => s.name, maxLength: 8 }), async (specs) => {
      // An entry below an earlier symlink of the same layer lands where the link points
      // (with a warning): test/unit/filesystem.test.ts covers that; here names stay as written.
      const links = specs.flatMap((s, i) => (s.type === 'symlink' ? [{ i, prefix: `${s.name}/` }] : []));
      fc.pre(!specs.some((s, j) => links.some((l) => l.i < j && s.name.startsWith(l.prefix))));
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
