import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { walkLayer, cleanPath } from '../../src/core/layers/walk.js';
import { DigestMismatchError, VouchError } from '../../src/core/errors.js';
import type { Layer } from '../../src/core/sources/image.js';
import { memoryLayer, sha256, tar, type EntrySpec } from '../helpers/tar-writer.js';

/** A zstd frame made of raw (stored) blocks: enough to exercise the zstd path without a compressor. */
function zstdStored(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])]; // magic, no FCS/checksum, window 128 KiB
  const max = 128 << 10;
  for (let i = 0; i === 0 || i < data.length; i += max) {
    const block = data.subarray(i, i + max);
    const last = i + max >= data.length ? 1 : 0;
    const h = (block.length << 3) | last; // block type 0 = raw
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), block);
  }
  return Buffer.concat(parts);
}

const SAMPLE: EntrySpec[] = [
  { name: './', type: 'dir' },
  { name: './etc/', type: 'dir' },
  { name: './etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\n' },
  { name: 'bin/busybox', data: Buffer.alloc(200_000, 7), mode: 0o755 },
  { name: 'bin/ls', type: 'hardlink', linkname: './bin/busybox' },
  { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
];

async function code(p: Promise<unknown>): Promise<VouchError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VouchError, `not a VouchError: ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

test('plain tar: entries cleaned, diff_id verified, sizes counted', async () => {
  const t = tar(SAMPLE);
  const w = await walkLayer(memoryLayer(t, { chunk: 1000 }));
  assert.equal(w.diffId, sha256(t));
  assert.equal(w.uncompressedSize, t.length);
  assert.deepEqual(
    w.entries.map((e) => [e.path, e.type, e.size, e.linkname]),
    [
      ['/etc', 'dir', 0, undefined],
      ['/etc/passwd', 'file', 30, undefined],
      ['/bin/busybox', 'file', 200000, undefined],
      ['/bin/ls', 'hardlink', 0, '/bin/busybox'],
      ['/bin/sh', 'symlink', 0, '/bin/busybox'],
    ],
  );
  assert.equal(w.headerBytes, 200030);
  assert.deepEqual(w.warnings, []);
});

test('gzip (declared and sniffed), zstd (sniffed), and none give the same walk', async () => {
  const t = tar(SAMPLE);
  const plain = await walkLayer(memoryLayer(t));
  const gz = gzipSync(t);
  const declared = await walkLayer(memoryLayer(gz, { tarBytes: t, compression: 'gzip', chunk: 777 }));
  const sniffed = await walkLayer(memoryLayer(gz, { tarBytes: t }));
  const zst = await walkLayer(memoryLayer(zstdStored(t), { tarBytes: t, chunk: 4096 }));
  for (const w of [declared, sniffed, zst]) {
    assert.deepEqual(w.entries, plain.entries);
    assert.equal(w.diffId, plain.diffId);
    assert.equal(w.uncompressedSize, t.length);
  }
});

test('real zstd compression (when the zstd CLI is installed)', async (t) => {
  const tarBytes = tar([...SAMPLE, { name: 'text', data: 'hello zstd '.repeat(50_000) }]);
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: tarBytes, maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    t.skip('zstd CLI not installed');
    return;
  }
  const w = await walkLayer(memoryLayer(r.stdout, { tarBytes, compression: 'zstd', chunk: 5000 }));
  assert.equal(w.diffId, sha256(tarBytes));
  assert.equal(w.entries.at(-1)!.size, 11 * 50_000);
});

test('a wrong diff_id is a DigestMismatchError naming the layer; an empty diff_id skips the check', async () => {
  const t = tar(SAMPLE);
  const wrong = `sha256:${'0'.repeat(64)}`;
  const err = await code(walkLayer(memoryLayer(t, { diffId: wrong })));
  assert.ok(err instanceof DigestMismatchError);
  assert.match(err.message, /layer sha256:[0-9a-f]{64}.*diff_id.*expected sha256:0{64}/);
  const w = await walkLayer(memoryLayer(t, { diffId: '' }));
  assert.equal(w.diffId, sha256(t));
});

test('paths: ./ and / stripped, . and // cleaned, .. resolved, escapes clamped at the root with a warning', async () => {
  const t = tar([
    { name: '/abs/file' },
    { name: 'a/./b//c/', type: 'dir' },
    { name: 'a/b/../d' },
    { name: '../escape' },
    { name: 'a/../../escape2' },
    { name: 'ok/..' , type: 'dir'},
    { name: '//double' },
  ]);
  const w = await walkLayer(memoryLayer(t));
  // containerd, podman and umoci extract "../escape" at /escape: vouch shows it there (issue 12 review).
  assert.deepEqual(w.entries.map((e) => e.path), ['/abs/file', '/a/b/c', '/a/d', '/escape', '/escape2', '/double']);
  assert.equal(w.warnings.filter((m) => /climbs above the root; clamped there/.test(m)).length, 2);
  assert.equal(cleanPath('./x/./y/'), '/x/y');
  assert.equal(cleanPath('x/y/../../..'), '/');
  assert.equal(cleanPath('.'), '/');
});

test('whiteouts and opaque markers', async () => {
  const t = tar([
    { name: '.wh.topfile' },
    { name: 'etc/.wh.motd' },
    { name: 'var/cache/.wh..wh..opq' },
    { name: '.wh..wh..opq' },
    { name: '.wh..wh.plnk/123.456' },
    { name: 'x/.wh.' },
    { name: 'x/.wh...' },
  ]);
  const w = await walkLayer(memoryLayer(t));
  assert.deepEqual(
    w.entries.map((e) => [e.type, e.path]),
    [['whiteout', '/topfile'], ['whiteout', '/etc/motd'], ['opaque', '/var/cache'], ['opaque', '/']],
  );
  assert.ok(w.warnings.some((m) => /AUFS/.test(m)));
  assert.equal(w.warnings.filter((m) => /malformed whiteout/.test(m)).length, 2);
});

test('hard links are normalised, escaping ones clamped at the root with a warning; symlinks keep their target; devices and modes', async () => {
  const t = tar([
    { name: 'l1', type: 'hardlink', linkname: '/usr/../bin/x' },
    { name: 'l2', type: 'hardlink', linkname: '../../etc/shadow' },
    { name: 's', type: 'symlink', linkname: '../../../../etc/shadow' },
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o20666 },
    { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 },
    { name: 'fifo', type: 'fifo' },
    { name: 'suid', mode: 0o104755, uid: 0 },
  ]);
  const w = await walkLayer(memoryLayer(t));
  const by = new Map(w.entries.map((e) => [e.path, e]));
  assert.equal(by.get('/l1')!.linkname, '/bin/x');
  // containerd's fs.RootPath and umoci's securejoin resolve "../../etc/shadow" to /etc/shadow in the root.
  assert.equal(by.get('/l2')!.linkname, '/etc/shadow');
  assert.ok(w.warnings.some((m) => /hard link target "..\/..\/etc\/shadow" climbs above the root/.test(m)));
  assert.equal(by.get('/s')!.linkname, '../../../../etc/shadow');
  assert.deepEqual([by.get('/dev/null')!.type, by.get('/dev/null')!.devmajor, by.get('/dev/null')!.devminor, by.get('/dev/null')!.mode], ['char', 1, 3, 0o666]);
  assert.equal(by.get('/dev/sda')!.type, 'block');
  assert.equal(by.get('/fifo')!.type, 'fifo');
  assert.equal(by.get('/suid')!.mode, 0o4755);
});

test('duplicate entries: the last wins, with a warning; dive-style header bytes count both', async () => {
  const t = tar([
    { name: 'f', data: 'first' },
    { name: 'g', data: 'g' },
    { name: './f', data: 'second!', mode: 0o600 },
  ]);
  const w = await walkLayer(memoryLayer(t));
  assert.deepEqual(w.entries.map((e) => [e.path, e.size, e.mode]), [['/f', 7, 0o600], ['/g', 1, 0o644]]);
  assert.ok(w.warnings.some((m) => /duplicate entry "\/f"/.test(m)));
  assert.equal(w.headerBytes, 5 + 1 + 7);
});

test('a path with NUL (via PAX) never gets through: the layer is refused, as Go refuses it', async () => {
  const t = tar([{ name: 'x', pax: { path: 'evil\u0000name' } }, { name: 'ok' }]);
  await assert.rejects(walkLayer(memoryLayer(t)), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_TAR' && /NUL in the "path" record/.test(e.message));
});

test('content hook: wanted files arrive complete, oversized ones are skipped with a warning', async () => {
  const big = Buffer.alloc(3000, 0x62);
  const t = tar([
    { name: 'var/lib/dpkg/status', data: 'Package: busybox\n' },
    { name: 'big.json', data: big },
    { name: 'other', data: 'not wanted' },
    { name: 'pkg/package.json', data: '{"name":"x"}' },
  ]);
  const got: Array<[string, string]> = [];
  const w = await walkLayer(memoryLayer(gzipSync(t), { tarBytes: t, chunk: 100 }), {
    wantContent: (e) => e.path !== '/other',
    onContent: (e, d) => got.push([e.path, d.toString()]),
    maxContentBytes: 1000,
  });
  assert.deepEqual(got, [['/var/lib/dpkg/status', 'Package: busybox\n'], ['/pkg/package.json', '{"name":"x"}']]);
  assert.ok(w.warnings.some((m) => /big.json.*not collected.*3000 bytes exceed 1000/.test(m)));
});

test('progress reports cumulative stored bytes', async () => {
  const t = tar(SAMPLE);
  const gz = gzipSync(t);
  const seen: number[] = [];
  await walkLayer(memoryLayer(gz, { tarBytes: t, chunk: 50 }), { onProgress: (n) => seen.push(n) });
  assert.equal(seen.at(-1), gz.length);
  assert.ok(seen.every((n, i) => i === 0 || n >= seen[i - 1]!));
});

test('an aborted walk rejects and stops reading', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(walkLayer(memoryLayer(tar(SAMPLE)), { signal: ac.signal }), { name: 'AbortError' });
  const ac2 = new AbortController();
  let reads = 0;
  const endless: Layer = {
    ...memoryLayer(Buffer.alloc(0)),
    diffId: '',
    compression: 'none',
    async open() {
      return new Readable({
        read() {
          reads++;
          if (reads === 20) ac2.abort();
          this.push(Buffer.alloc(65536)); // zero blocks forever... after the end marker
        },
      });
    },
  };
  await assert.rejects(walkLayer(endless, { signal: ac2.signal }), { name: 'AbortError' });
});

test('broken compression and truncated tars are INVALID_TAR naming the layer', async () => {
  const t = tar([{ name: 'f', data: Buffer.alloc(100_000, 1) }]);
  const gz = gzipSync(t);
  const truncatedGz = gz.subarray(0, gz.length - 100);
  let e = await code(walkLayer(memoryLayer(truncatedGz, { tarBytes: t })));
  assert.equal(e.code, 'INVALID_TAR');
  assert.match(e.message, /^layer sha256:[0-9a-f]{64}: gzip decompression failed/);
  const garbage = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100, 0x55)]);
  e = await code(walkLayer(memoryLayer(garbage, { diffId: '' })));
  assert.equal(e.code, 'INVALID_TAR');
  const cut = t.subarray(0, 50_000);
  e = await code(walkLayer(memoryLayer(gzipSync(cut), { tarBytes: cut })));
  assert.equal(e.code, 'INVALID_TAR');
  assert.match(e.message, /entry "f".*truncated/);
  const badZstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64, 0xff)]);
  e = await code(walkLayer(memoryLayer(badZstd, { diffId: '' })));
  assert.equal(e.code, 'INVALID_TAR');
});

test('errors from the source stream (digest verification) pass through unchanged', async () => {
  const layer: Layer = {
    ...memoryLayer(tar(SAMPLE)),
    async open() {
      const r = new Readable({ read() {} });
      r.push(tar(SAMPLE).subarray(0, 1024));
      setImmediate(() => r.destroy(new DigestMismatchError('blob sha256:abc', 'sha256:abc', 'sha256:def')));
      return r;
    },
  };
  const e = await code(walkLayer(layer));
  assert.ok(e instanceof DigestMismatchError);
  assert.match(e.message, /blob sha256:abc/);
});

test('an empty layer blob is an empty walk', async () => {
  const w = await walkLayer(memoryLayer(Buffer.alloc(0)));
  assert.deepEqual(w.entries, []);
  assert.equal(w.uncompressedSize, 0);
});

test('deep paths within the bound are fine', async () => {
  const deep = 'd/'.repeat(2000) + 'leaf';
  const w = await walkLayer(memoryLayer(tar([{ name: deep }])));
  assert.equal(w.entries[0]!.path, `/${deep}`);
});
