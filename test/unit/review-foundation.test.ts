/**
 * Regression tests from the security review of the foundation (sources, tar,
 * manifests, registry, cache, formatting). Each test failed before its fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarParser, type TarHeader } from '../../src/core/layers/tar.js';
import { VouchError } from '../../src/core/errors.js';
import { mkdir, mkdtemp, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { ContentCache } from '../../src/core/cache/cache.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TarFile } from '../../src/core/sources/tarfile.js';
import { gzipSync } from 'node:zlib';
import { duplicateKey, parseConfig, parseManifest } from '../../src/core/oci/manifest.js';
import { MediaType } from '../../src/core/oci/mediatypes.js';
import { openDockerArchive } from '../../src/core/sources/archive.js';
import { openLayout } from '../../src/core/sources/layout.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { formatInspect } from '../../src/cli/format/inspect.js';
import type { ImageAnalysis } from '../../src/core/layers/image-analysis.js';
import { MAX_LAYER_ENTRIES, MAX_LAYER_UNCOMPRESSED_BYTES, walkLayer } from '../../src/core/layers/walk.js';
import { END, entry, header, memoryLayer, metaEntry, pad, paxRecords, tar } from '../helpers/tar-writer.js';

function names(bytes: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const p = new TarParser({ what: 'layer sha256:test', onEntry: (h: TarHeader) => void out.push([h.name, h.typeflag]) });
  p.write(bytes);
  p.end();
  return out;
}

function fixChecksum(b: Buffer): Buffer {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b.subarray(0, 512)) sum += c;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

// ---------------------------------------------------------------------------
// Layer tar parser: what Go's archive/tar (docker, containerd) would extract

test('tar: a global PAX path does not rename later entries (Go ignores global headers)', () => {
  const bytes = Buffer.concat([metaEntry('g', paxRecords({ path: 'harmless' })), entry({ name: 'usr/bin/evil', mode: 0o4755, data: 'x' }), entry({ name: 'etc/passwd', data: 'y' }), END]);
  assert.deepEqual(names(bytes), [
    ['usr/bin/evil', '0'],
    ['etc/passwd', '0'],
  ]);
});

test('tar: a global PAX size does not change how much data is skipped (no parser desync)', () => {
  // Go skips each entry's own header size; honouring the global size would swallow the next header.
  const bytes = Buffer.concat([metaEntry('g', paxRecords({ size: '512' })), entry({ name: 'a', data: '' }), entry({ name: 'hidden-setuid', mode: 0o4755, data: 'z' }), END]);
  assert.deepEqual(names(bytes), [
    ['a', '0'],
    ['hidden-setuid', '0'],
  ]);
});

test('tar: a second per-entry PAX header replaces the first, as in Go', () => {
  const bytes = Buffer.concat([metaEntry('x', paxRecords({ path: 'decoy' })), metaEntry('x', paxRecords({ mtime: '1' })), entry({ name: 'bin/real' }), END]);
  assert.deepEqual(names(bytes), [['bin/real', '0']]);
});

test('tar: a global header drops the pending per-entry PAX and GNU long name (Go returns it as its own entry)', () => {
  const bytes = Buffer.concat([
    metaEntry('x', paxRecords({ path: 'decoy-pax' })),
    metaEntry('L', Buffer.from('decoy-gnu\0'), '././@LongLink'),
    metaEntry('g', paxRecords({ comment: 'x' })),
    entry({ name: 'bin/real' }),
    END,
  ]);
  assert.deepEqual(names(bytes), [['bin/real', '0']]);
});

test('tar: the prefix field is read only for the exact "ustar\\0" magic, as Go detects formats', () => {
  // Magic "ustarX": Go reads a v7 header (no prefix); the name is "evil", not "decoy/evil".
  const h = header({ name: 'evil', typeflag: '0', size: 0, prefix: 'decoy' });
  h.write('ustarX00', 257, 8, 'latin1');
  assert.deepEqual(names(Buffer.concat([fixChecksum(h), END])), [['evil', '0']]);
  // STAR (trailer "tar\0" at 508): the prefix is 131 bytes, atime/ctime follow it.
  const s = header({ name: 'f', typeflag: '0', size: 0, prefix: 'p'.repeat(131) });
  s.write('12345670123', 476, 'latin1');
  s.write('tar\0', 508, 'latin1');
  assert.deepEqual(names(Buffer.concat([fixChecksum(s), END])), [[`${'p'.repeat(131)}/f`, '0']]);
  void pad;
  void VouchError;
});

test('tar: a PAX GNU sparse entry is seen under GNU.sparse.name with its real size, as Go extracts it', () => {
  const data = Buffer.concat([Buffer.from('1\n0\n5\n'), Buffer.alloc(512 - 6), Buffer.from('hello')]);
  const bytes = Buffer.concat([
    entry({ name: 'GNUSparseFile.0/decoy', mode: 0o4755, data, pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'usr/bin/evil', 'GNU.sparse.realsize': '4096' } }),
    entry({ name: 'after', data: 'a' }),
    END,
  ]);
  const seen: Array<[string, number]> = [];
  const p = new TarParser({ onEntry: (h) => void seen.push([h.name, h.size]) });
  p.write(bytes);
  p.end();
  assert.deepEqual(seen, [
    ['usr/bin/evil', 4096],
    ['after', 1],
  ]);
  // Unknown sparse versions are left alone (Go does not rename them either).
  assert.deepEqual(names(Buffer.concat([entry({ name: 'plain', pax: { 'GNU.sparse.major': '9', 'GNU.sparse.name': 'x' } }), END])), [['plain', '0']]);
});

// ---------------------------------------------------------------------------
// Archive index (tarfile.ts): the members `docker load` would see

async function tarFileOf(bytes: Buffer): Promise<{ tf: TarFile; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-review-'));
  const path = join(dir, 'a.tar');
  await writeFile(path, bytes);
  return { tf: await TarFile.open(path), dir };
}

test('tarfile: a symlink whose size field is not zero does not swallow the members after it', async () => {
  const link = header({ name: 'x', typeflag: '2', size: 1024, linkname: 'y' });
  const bytes = Buffer.concat([link, entry({ name: 'manifest.json', data: '[]' }), entry({ name: 'other', data: 'o' }), END]);
  const { tf, dir } = await tarFileOf(bytes);
  try {
    assert.ok(tf.has('manifest.json'), 'manifest.json must be indexed');
    assert.equal((await tf.readEntry('manifest.json')).toString(), '[]');
  } finally {
    await tf.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('tarfile: a PAX size that is not a decimal integer is rejected (Go refuses it)', async () => {
  const bytes = Buffer.concat([metaEntry('x', paxRecords({ size: '0x200' })), entry({ name: 'm', data: Buffer.alloc(512) }), END]);
  const dir = await mkdtemp(join(tmpdir(), 'vouch-review-'));
  try {
    await writeFile(join(dir, 'a.tar'), bytes);
    await assert.rejects(TarFile.open(join(dir, 'a.tar')), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_TAR' && /bad size/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tarfile: a global PAX header ends the pending per-entry path', async () => {
  const bytes = Buffer.concat([metaEntry('x', paxRecords({ path: 'manifest.json' })), metaEntry('g', paxRecords({ comment: 'c' })), entry({ name: 'real', data: 'r' }), END]);
  const { tf, dir } = await tarFileOf(bytes);
  try {
    assert.deepEqual(tf.names(), ['real']);
  } finally {
    await tf.close();
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// Decompression bombs: bounded entries and bytes per layer

test('walk: a layer with more entries than the limit is LIMIT_EXCEEDED naming the layer', async () => {
  const bytes = tar(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}` })));
  const layer = memoryLayer(gzipSync(bytes), { tarBytes: bytes, compression: 'gzip' });
  await assert.rejects(walkLayer(layer, { maxEntries: 10 }), (e: unknown) => {
    assert.ok(e instanceof VouchError && e.code === 'LIMIT_EXCEEDED', String(e));
    assert.match(e.message, new RegExp(`layer ${layer.digest}: more than 10 tar entries`));
    return true;
  });
  assert.equal((await walkLayer(layer, { maxEntries: 50 })).entries.length, 50);
});

test('walk: a layer that expands past the byte limit is LIMIT_EXCEEDED naming the layer; defaults are bounded', async () => {
  const bytes = tar([{ name: 'zeros', data: Buffer.alloc(4 << 20) }]);
  const layer = memoryLayer(gzipSync(bytes), { tarBytes: bytes, compression: 'gzip' });
  await assert.rejects(walkLayer(layer, { maxUncompressedBytes: 1 << 20 }), (e: unknown) => {
    assert.ok(e instanceof VouchError && e.code === 'LIMIT_EXCEEDED', String(e));
    assert.match(e.message, new RegExp(`layer ${layer.digest}: uncompressed content exceeds the limit of 1048576 bytes`));
    return true;
  });
  assert.ok(MAX_LAYER_ENTRIES > 0 && MAX_LAYER_ENTRIES <= 10_000_000);
  assert.ok(MAX_LAYER_UNCOMPRESSED_BYTES > 0 && Number.isSafeInteger(MAX_LAYER_UNCOMPRESSED_BYTES));
});

// ---------------------------------------------------------------------------
// Manifests and configs: one reading, the same as the runtime's

const D = (c: string) => `sha256:${c.repeat(64)}`;
const desc = (c: string, extra: Record<string, unknown> = {}) => ({ mediaType: MediaType.OciManifest, digest: D(c), size: 10, ...extra });
const bytesOf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function rejectsWith(f: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof VouchError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.ok(!/[\n\r]/.test(e.message));
    return true;
  });
}

test('manifest: a document that is both an index and an image manifest is refused (CVE-2021-41190)', () => {
  const config = { mediaType: MediaType.OciConfig, digest: D('c'), size: 2 };
  const layers = [{ mediaType: MediaType.OciLayerGzip, digest: D('d'), size: 3 }];
  rejectsWith(() => parseManifest(bytesOf({ schemaVersion: 2, config, layers, manifests: [desc('a')] }), 'manifest m'), 'INVALID_MANIFEST', /manifest m: manifests: .*ambiguous/);
  rejectsWith(
    () => parseManifest(bytesOf({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [desc('a')], layers }), 'manifest m'),
    'INVALID_MANIFEST',
    /manifest m: layers: .*ambiguous/,
  );
});

test('manifest: duplicate keys are refused (parsers disagree on which one wins)', () => {
  const text = `{"schemaVersion":2,"mediaType":"${MediaType.OciIndex}","manifests":[${JSON.stringify(desc('a'))}],"manifests":[${JSON.stringify(desc('b'))}]}`;
  rejectsWith(() => parseManifest(bytesOf(text), 'index i'), 'INVALID_MANIFEST', /index i: duplicate key "manifests"/);
  // Escaped spellings of the same key are the same key.
  const esc = `{"schemaVersion":2,"manifests":[],"m\\u0061nifests":[]}`;
  rejectsWith(() => parseManifest(bytesOf(esc), 'index i'), 'INVALID_MANIFEST', /duplicate key "manifests"/);
  // Same key in different objects, and keys inside strings, are fine.
  const ok = { schemaVersion: 2, manifests: [desc('a', { annotations: { digest: '"digest":' } }), desc('b')] };
  assert.equal(parseManifest(bytesOf(ok), 'index i').kind, 'index');
  // Deep nesting does not blow the stack.
  assert.equal(duplicateKey(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), undefined);
});

test("manifest: keys Go would read case-insensitively as a field we read are refused (platform selection differential)", () => {
  // containerd sees the first entry's "Platform" (linux/amd64) and picks it; we would have skipped it.
  const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [desc('a', { Platform: { os: 'linux', architecture: 'amd64' } }), desc('b', { platform: { os: 'linux', architecture: 'amd64' } })] };
  rejectsWith(() => parseManifest(bytesOf(index), 'index i'), 'INVALID_MANIFEST', /index i: manifests\[0\]: key "Platform" is not "platform"/);
  // Go also folds U+017F (long s) onto "s".
  rejectsWith(() => parseManifest(bytesOf({ schemaVersion: 2, manifests: [], layer\u017f: [] }), 'm'), 'INVALID_MANIFEST', /key "layerſ" is not "layers"/);
  // Label and annotation keys are map keys, not fields: any case is theirs.
  const cfg = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { User: 'app', Labels: { user: 'x', USER: 'y' } } };
  assert.equal(parseConfig(bytesOf(cfg), 'config c').config?.User, 'app');
  // A config whose lowercase "user" Go would read as User (root here) over the "User" we would show.
  rejectsWith(() => parseConfig(bytesOf({ ...cfg, config: { User: 'app', user: 'root' } }), 'config c'), 'INVALID_CONFIG', /config c: config: key "user" is not "User"/);
  rejectsWith(() => parseConfig(bytesOf({ ...cfg, RootFS: { type: 'layers', diff_ids: [D('e')] } }), 'config c'), 'INVALID_CONFIG', /key "RootFS" is not "rootfs"/);
});

test('docker-archive: manifest.json keys Go reads case-insensitively ("config" next to "Config") are refused', async () => {
  const manifest = JSON.stringify([{ Config: 'a.json', config: 'b.json', RepoTags: [], Layers: [] }]);
  const dir = await mkdtemp(join(tmpdir(), 'vouch-review-'));
  try {
    const path = join(dir, 'x.tar');
    await writeFile(path, tar([{ name: 'manifest.json', data: manifest }, { name: 'a.json', data: '{}' }, { name: 'b.json', data: '{}' }]));
    await assert.rejects(openDockerArchive(path), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_ARCHIVE' && /\[0\]: key "config" is not "Config"/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// OCI layout directories: nothing outside the layout is read

test('layout: a blob that is a symlink to a file outside the layout is refused, even with the right bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-review-'));
  try {
    const layoutDir = join(dir, 'layout');
    const l = await writeMiniLayout(layoutDir, { tag: 't', platforms: [{ os: 'linux', architecture: 'amd64' }] });
    const blob = (d: string) => join(layoutDir, 'blobs', 'sha256', d.slice('sha256:'.length));
    const platform = { os: 'linux', architecture: 'amd64' };
    // Inside the layout, a link is fine (some tools dedupe blobs so).
    await rename(blob(l.images[0]!.configDigest), join(layoutDir, 'config-copy'));
    await symlink(join(layoutDir, 'config-copy'), blob(l.images[0]!.configDigest));
    const img = await openLayout(layoutDir, {}, { platform });
    await img.close();
    // Outside: refused before any byte is read, naming the blob.
    await mkdir(join(dir, 'outside'));
    await rename(blob(l.images[0]!.layerDigest), join(dir, 'outside', 'layer'));
    await symlink(join(dir, 'outside', 'layer'), blob(l.images[0]!.layerDigest));
    await assert.rejects(
      (async () => {
        const i = await openLayout(layoutDir, {}, { platform });
        try {
          for await (const _ of await i.layers[0]!.open());
        } finally {
          await i.close();
        }
      })(),
      (e: unknown) => e instanceof VouchError && e.code === 'INVALID_LAYOUT' && e.message.includes(l.images[0]!.layerDigest.slice(7)) && /outside the layout/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// Human output: config strings never carry terminal escapes

test('inspect summary: the platform from the config is sanitised (escape sequences in os/architecture/variant)', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  const evil = '\u001b]0;pwned\u0007\u001b[2J';
  const a = {
    analyzerVersion: 1, reference: 'oci:/x', transport: 'oci', name: 'n', digest: d, synthesizedManifest: false, mediaType: MediaType.OciManifest, index: null,
    platform: { os: `linux${evil}`, architecture: `amd64${evil}`, variant: `v1${evil}` },
    config: { digest: d, user: 'u', env: [], entrypoint: null, cmd: null, workingDir: '', exposedPorts: [], volumes: [], labels: {}, created: null, stopSignal: null, healthcheck: null },
    history: [], layers: [], files: 0, totalBytes: 0, efficiency: 1, sizeBytes: 0, userSizeBytes: 0, wastedBytes: 0, userWastedPercent: 0, inefficientFiles: [],
    source: { repository: null, revision: null },
    traceability: { repository: null, revision: null, created: null, version: null, baseName: null, baseDigest: null, evidence: {}, conflicts: [] },
    warnings: [],
  } as unknown as ImageAnalysis;
  const out = formatInspect(a);
  assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(out, /Platform +linux\\x1b\]0;pwned\\x07\\x1b\[2J\/amd64/);
});

// ---------------------------------------------------------------------------
// Cache: private to the user

test('cache: directories and entries it creates are private to the user (no planted analyses)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-review-'));
  const old = process.umask(0o022);
  try {
    const cache = new ContentCache(join(dir, 'cache'));
    const d = `sha256:${'b'.repeat(64)}`;
    await cache.putJson('analysis/v1', d, { ok: true });
    for (const p of [join(dir, 'cache'), join(dir, 'cache', 'analysis'), join(dir, 'cache', 'analysis', 'v1', 'sha256')]) {
      assert.equal((await stat(p)).mode & 0o777, 0o700, p);
    }
    assert.equal((await stat(cache.pathFor('analysis/v1', d))).mode & 0o777, 0o600);
    assert.deepEqual(await cache.getJson('analysis/v1', d), { ok: true });
  } finally {
    process.umask(old);
    await rm(dir, { recursive: true, force: true });
  }
});
