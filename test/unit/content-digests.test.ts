/**
 * The content digests now come from a worker thread (layers/content-digests.ts):
 * every file's sha256 must still be the sha256 of exactly its bytes, whatever
 * the chunking, for files inside one chunk, across chunks and across the
 * digester's 1 MiB buffers, empty files, and after entries the walker rejects;
 * the diff_id is still verified; lazy walks hold the same digests as raw slots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { walkLayer } from '../../src/core/layers/walk.js';
import { materializeDigests } from '../../src/core/layers/content-digests.js';
import { memoryLayer, tar } from '../helpers/tar-writer.js';
import { isVouchError } from '../../src/core/errors.js';

const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

const SIZES = [0, 1, 511, 512, 513, 4096, (1 << 20) - 1, (1 << 20) + 7, 0, 5 * (1 << 20) + 3, 17, 0];

function layerTar(): { tarBytes: Buffer; files: Map<string, Buffer> } {
  const files = new Map<string, Buffer>();
  const specs: Parameters<typeof tar>[0] = [];
  SIZES.forEach((n, i) => {
    const data = bytes(n, i + 1);
    files.set(`/f/${i}`, data);
    specs.push({ name: `f/${i}`, data });
    // An entry climbing above the root, with data, between files: clamped to /escape (as the runtimes extract
    // it), hashed as its own file, shifting nothing.
    if (i === 3) {
      const escape = bytes(3000, 99);
      files.set('/escape', escape);
      specs.push({ name: '../escape', data: escape });
    }
  });
  for (let i = 0; i < 300; i++) {
    const data = bytes(i * 7, 1000 + i);
    files.set(`/small/${i}`, data);
    specs.push({ name: `small/${i}`, data });
  }
  return { tarBytes: tar(specs), files };
}

test('every file digest is the sha256 of its bytes, for any chunking and compression', async () => {
  const { tarBytes, files } = layerTar();
  for (const [chunk, gz] of [[7777, false], [512, false], [3 << 20, false], [65536, true]] as const) {
    const stored = gz ? gzipSync(tarBytes, { level: 1 }) : tarBytes;
    const w = await walkLayer(memoryLayer(stored, { tarBytes, chunk, ...(gz ? { compression: 'gzip' as const } : {}) }));
    assert.equal(w.diffId, `sha256:${hex(tarBytes)}`);
    const got = new Map(w.entries.filter((e) => e.type === 'file').map((e) => [e.path, e.sha256]));
    assert.equal(got.size, files.size, `chunk ${chunk}`);
    for (const [path, data] of files) assert.equal(got.get(path), hex(data), `${path} (${data.length} bytes), chunk ${chunk}`);
    assert.equal(w.contentDigests, undefined, 'digests are on the entries, not left in slots');
  }
});

test('a lazy walk keeps raw 32-byte slots; materializeDigests gives the same hex digests', async () => {
  const { tarBytes, files } = layerTar();
  const w = await walkLayer(memoryLayer(tarBytes, { chunk: 100_000 }), { lazyDigests: true });
  assert.ok(w.contentDigests);
  // One slot per regular file of the tar.
  assert.equal(w.contentDigests.slots.length, files.size * 32);
  assert.ok(w.entries.every((e) => e.sha256 === undefined));
  materializeDigests(w);
  assert.equal(w.contentDigests, undefined);
  for (const e of w.entries) if (e.type === 'file') assert.equal(e.sha256, hex(files.get(e.path)!), e.path);
});

test('a stream whose bytes do not match the diff_id is still refused (the digest is taken on the worker)', async () => {
  const { tarBytes } = layerTar();
  const other = Buffer.from(tarBytes);
  other[other.length - 2000] ^= 1; // inside the end padding: the tar still parses
  await assert.rejects(
    walkLayer(memoryLayer(other, { tarBytes, chunk: 65536 })),
    (e: unknown) => isVouchError(e) && e.code === 'DIGEST_MISMATCH',
  );
});

test('several layers at once each get their own digests (one worker, separate jobs)', async () => {
  const tars = [0, 1, 2, 3].map((k) => tar([{ name: `only/${k}`, data: bytes(300_000 + k, 50 + k) }, { name: 'same', data: 'x'.repeat(k) }]));
  const walks = await Promise.all(tars.map((t) => walkLayer(memoryLayer(t, { chunk: 4096 }))));
  walks.forEach((w, k) => {
    assert.equal(w.entries.find((e) => e.path === `/only/${k}`)!.sha256, hex(bytes(300_000 + k, 50 + k)));
    assert.equal(w.entries.find((e) => e.path === '/same')!.sha256, hex(Buffer.from('x'.repeat(k))));
  });
});
