/**
 * The tar parser and the layer walk (gzip, zstd and plain streams, digest
 * checks, content collection). Folds in the "a result or a typed error"
 * properties test/unit/tar.property.test.ts had; its round trips stay there.
 */
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { TarParser, type TarHeader } from '../../../src/core/layers/tar.js';
import { walkLayer } from '../../../src/core/layers/walk.js';
import type { Compression } from '../../../src/core/oci/mediatypes.js';
import { memoryLayer, sha256, tar, type EntrySpec } from '../../helpers/tar-writer.js';
import { fuzzTarget, showBytes, typedError } from '../harness.js';
import { mutateBytes } from '../mutate.js';

const segment = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,20}$/).filter((s) => s !== '.' && s !== '..' && !s.startsWith('.wh.'));
const pathArb = fc.array(segment, { minLength: 1, maxLength: 12 }).map((a) => a.join('/'));
/** One tar entry of any type, with ids and sizes that need base-256, long names (PAX or GNU). */
export const specArb: fc.Arbitrary<EntrySpec> = fc
  .record({
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
  })
  .map((s) => {
    const header = s.type === 'file' ? s : { ...s, data: Buffer.alloc(0) };
    // Big ids need base-256 (GNU) or PAX; use base-256 for the gid beyond octal range.
    return { ...header, base256: s.gid > 0o7777777 };
  });

/** Entries a real layer has that the plain generator does not: whiteouts, PAX records, odd names. */
const layerish: fc.Arbitrary<EntrySpec> = fc.oneof(
  specArb,
  fc.constantFrom<EntrySpec>(
    { name: 'etc/.wh.passwd', data: '' },
    { name: 'usr/.wh..wh..opq', data: '' },
    { name: './', type: 'dir' },
    { name: '../../escape', data: 'x' },
    { name: '/abs/path', data: 'x' },
    { name: 'a/b', type: 'symlink', linkname: '../../..' },
    { name: 'a/b/c', data: 'through a symlink' },
    { name: 'x', type: 'hardlink', linkname: 'missing' },
    { name: 'caps', data: 'x', pax: { 'SCHILY.xattr.security.capability': 'abc' } },
    { name: 'sparse', data: 'x', pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'real', 'GNU.sparse.realsize': '99' } },
    { name: 'bad-pax', data: 'x', pax: { size: '-1' } },
    { name: 'weird\u0000name', data: 'x' },
    { name: 'long/'.repeat(40) + 'name', data: 'x', long: 'gnu' },
  ),
);

export const tarArb = fc.tuple(fc.array(layerish, { maxLength: 6 }), fc.constantFrom<'marker' | 'single' | 'none'>('marker', 'single', 'none')).map(([specs, end]) => tar(specs, end));

function parseChunks(bytes: Uint8Array, chunk: number): TarHeader[] {
  const out: TarHeader[] = [];
  const p = new TarParser({ what: 'fuzz', onEntry: (h) => (out.push(h), h.size < 4096), onContent: () => {}, maxContentBytes: 4096 });
  for (let i = 0; i < bytes.length; i += chunk) p.write(bytes.subarray(i, i + chunk));
  p.end();
  return out;
}

export const tarTarget = fuzzTarget({
  name: 'tar',
  entry: 'layers/tar.ts TarParser (write in chunks, end)',
  arbitrary: fc.record({ bytes: fc.oneof(tarArb, mutateBytes(tarArb), fc.uint8Array({ maxLength: 3000 })), chunk: fc.integer({ min: 1, max: 1024 }) }),
  run: ({ bytes, chunk }: { bytes: Uint8Array; chunk: number }) => parseChunks(bytes, chunk),
  isExpectedError: typedError('INVALID_TAR', 'LIMIT_EXCEEDED'),
  ciRuns: 1000,
  show: ({ bytes, chunk }) => `chunk ${chunk}, ${showBytes(bytes)}`,
});

/** A zstd frame of raw (stored) blocks: the zstd path without a compressor. */
function zstdStored(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const max = 128 << 10;
  for (let i = 0; i === 0 || i < data.length; i += max) {
    const block = data.subarray(i, i + max);
    const last = i + max >= data.length ? 1 : 0;
    const h = (block.length << 3) | last;
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), block);
  }
  return Buffer.concat(parts);
}

/** Real zstd frames (compressed blocks, checksums) from the zstd CLI when it is installed, made once. */
const zstdSeeds: Array<{ tar: Buffer; stored: Buffer }> = (() => {
  const samples = fc.sample(tarArb, { seed: 12, numRuns: 8 });
  const out: Array<{ tar: Buffer; stored: Buffer }> = [];
  for (const [i, t] of samples.entries()) {
    const r = spawnSync('zstd', ['-q', '-c', `-${1 + (i % 19)}`, ...(i % 2 ? ['--no-check'] : [])], { input: t });
    if (r.status === 0 && r.stdout.length) out.push({ tar: t, stored: r.stdout });
  }
  return out;
})();

interface LayerCase {
  tar: Buffer;
  stored: Uint8Array;
  compression: Compression | undefined;
  diffOk: boolean;
  chunk: number;
  wantAll: boolean;
}

const encoded = fc.oneof(
  tarArb.map((t) => ({ tar: t, stored: gzipSync(t) as Buffer, c: 'gzip' as Compression })),
  tarArb.map((t) => ({ tar: t, stored: zstdStored(t), c: 'zstd' as Compression })),
  tarArb.map((t) => ({ tar: t, stored: t, c: 'none' as Compression })),
  ...(zstdSeeds.length ? [fc.constantFrom(...zstdSeeds).map((s) => ({ ...s, c: 'zstd' as Compression }))] : []),
);

const layerCase: fc.Arbitrary<LayerCase> = fc
  .record({
    e: encoded,
    damage: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }) }),
    cut: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
    declared: fc.boolean(),
    diffOk: fc.boolean(),
    chunk: fc.integer({ min: 1, max: 5000 }),
    wantAll: fc.boolean(),
  })
  .map(({ e, damage, cut, declared, diffOk, chunk, wantAll }) => {
    const stored = Buffer.from(e.stored);
    if (damage && stored.length) for (const [at, v] of damage) stored[at % stored.length] = v;
    return { tar: e.tar, stored: cut === undefined ? stored : stored.subarray(0, cut % (stored.length + 1)), compression: declared ? e.c : undefined, diffOk, chunk, wantAll };
  });

export const layerWalkTarget = fuzzTarget({
  name: 'layer-walk',
  entry: 'layers/walk.ts walkLayer (gunzip / fzstd / plain → sha256 → TarParser → entries, content collection)',
  arbitrary: fc.oneof(layerCase, fc.record({ tar: fc.constant(Buffer.alloc(0)), stored: fc.uint8Array({ maxLength: 2048 }), compression: fc.constantFrom<Compression | undefined>(undefined, 'gzip', 'zstd'), diffOk: fc.constant(false), chunk: fc.integer({ min: 1, max: 700 }), wantAll: fc.boolean() })),
  run: async (c: LayerCase) => {
    const layer = memoryLayer(Buffer.from(c.stored), { ...(c.diffOk ? { tarBytes: c.tar } : { diffId: sha256(c.stored) }), ...(c.compression ? { compression: c.compression } : {}), chunk: c.chunk });
    await walkLayer(layer, { wantContent: () => c.wantAll, onContent: () => {}, maxContentBytes: 1 << 16 });
  },
  isExpectedError: typedError(),
  ciRuns: 300,
  show: (c) => `compression ${c.compression}, chunk ${c.chunk}, wantAll ${c.wantAll}, diff_id ${c.diffOk ? 'of the tar' : 'of the stored bytes'}, stored ${showBytes(c.stored)}, tar ${showBytes(c.tar)}`,
});
