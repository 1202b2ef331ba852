/**
 * Issue 9, item 3: a warm cache must not skip verification. A cached analysis
 * describes bytes the source must still hold: every cached read checks each
 * blob's presence and size, `--verify` re-hashes them, and the output says the
 * analysis came from the cache and how it was checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/inspect.js';
import { tar } from '../helpers/tar-writer.js';
import { writeLayersLayout, type LayersLayout } from '../helpers/layer-layout.js';

async function setup(t: { after: (f: () => Promise<void>) => void }): Promise<{ l: LayersLayout; cacheArgs: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-cachev-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const l = await writeLayersLayout(join(dir, 'layout'), [
    tar([{ name: 'bin/', type: 'dir' }, { name: 'bin/app', data: 'A'.repeat(5000), mode: 0o755 }]),
    tar([{ name: 'etc/', type: 'dir' }, { name: 'etc/motd', data: 'hello\n' }]),
  ]);
  process.env.VOUCH_CACHE_DIR = join(dir, 'cache');
  return { l, cacheArgs: [] };
}

async function inspect(ref: string, ...extra: string[]): Promise<{ code: number; doc: any; stderr: string; stdout: string }> {
  const r = await runCli(['inspect', ref, ...extra]);
  let doc: any = null;
  if (r.code === 0 && extra.includes('--json')) doc = JSON.parse(r.stdout);
  return { code: r.code, doc, stderr: r.stderr, stdout: r.stdout };
}

test('the JSON and the text say whether the analysis came from the cache and how it was verified', async (t) => {
  const { l } = await setup(t);
  const cold = await inspect(l.ref, '--json');
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal(cold.doc.cache.hit, false);
  assert.equal(cold.doc.cache.verification, 'full');
  assert.match(cold.doc.cache.analysedAt, /^\d{4}-\d\d-\d\dT/);
  const warm = await inspect(l.ref, '--json');
  assert.deepEqual([warm.doc.cache.hit, warm.doc.cache.verification, warm.doc.cache.analysedAt], [true, 'sizes', cold.doc.cache.analysedAt]);
  assert.ok(warm.doc.cache.verifiedAt >= warm.doc.cache.analysedAt);
  const text = await inspect(l.ref);
  assert.match(text.stdout, /Analysis +from the cache \(analysed .*\); verified .*: every blob present with its manifest size/);
  const full = await inspect(l.ref, '--json', '--verify');
  assert.deepEqual([full.doc.cache.hit, full.doc.cache.verification], [true, 'full']);
});

test('a flipped byte in a cached layout: --verify fails naming the blob (exit 2)', async (t) => {
  const { l } = await setup(t);
  assert.equal((await inspect(l.ref, '--json')).code, 0);
  const blob = l.layers[0]!;
  const bytes = await readFile(blob.path);
  bytes[bytes.length >> 1]! ^= 0x01;
  await writeFile(blob.path, bytes);
  const v = await inspect(l.ref, '--json', '--verify');
  assert.equal(v.code, 2);
  assert.match(v.stderr, new RegExp(`${blob.digest}.*digest mismatch`));
  // Without --verify the sizes still match: the analysis is served, and says it checked sizes only.
  const plain = await inspect(l.ref, '--json');
  assert.equal(plain.code, 0);
  assert.equal(plain.doc.cache.verification, 'sizes');
});

test('a deleted blob fails a plain cached inspect, naming the blob', async (t) => {
  const { l } = await setup(t);
  assert.equal((await inspect(l.ref, '--json')).code, 0);
  await rm(l.layers[1]!.path);
  const r = await inspect(l.ref, '--json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`layer ${l.layers[1]!.digest}: the source no longer holds this blob`));
  // check goes through the same cached read.
  const c = await runCli(['check', l.ref, '--format', 'json']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, new RegExp(l.layers[1]!.digest));
});

test('a truncated blob fails a plain cached inspect on its size', async (t) => {
  const { l } = await setup(t);
  assert.equal((await inspect(l.ref, '--json')).code, 0);
  await truncate(l.layers[0]!.path, l.layers[0]!.size - 10);
  const r = await inspect(l.ref, '--json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`layer ${l.layers[0]!.digest}: the source holds ${l.layers[0]!.size - 10} bytes, the manifest says ${l.layers[0]!.size}`));
});

test('a foreign layer the layout does not hold is reported with its urls, never fetched', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-foreign-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  process.env.VOUCH_CACHE_DIR = join(dir, 'cache');
  // The URL points at a port nothing listens on: fetching it would fail the inspect.
  const urls = ['http://127.0.0.1:9/foreign/base.tar.gz'];
  const l = await writeLayersLayout(
    join(dir, 'layout'),
    [tar([{ name: 'Files/', type: 'dir' }, { name: 'Files/base.dll', data: 'MZ' }]), tar([{ name: 'app.exe', data: 'MZ app' }])],
    'test',
    {},
    [{ mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', urls }],
  );
  await rm(l.layers[0]!.path);
  for (let round = 0; round < 2; round++) {
    const r = await inspect(l.ref, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc.layers[0].urls, urls);
    assert.match(r.doc.layers[0].warnings[0], /^foreign layer: its blob is not in the source but distributed from http:\/\/127\.0\.0\.1:9\/foreign\/base\.tar\.gz; not fetched/);
    assert.equal(r.doc.files, 1, 'only the distributable layer was walked');
    assert.equal(r.doc.cache.hit, false, 'an analysis missing a foreign layer is not cached');
  }
});

async function sbomJsonRun(ref: string, ...extra: string[]): Promise<{ code: number; doc: any; stderr: string }> {
  const r = await runCli(['sbom', ref, '--format', 'json', ...extra]);
  return { code: r.code, doc: r.code === 0 ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

test('sbom: a warm cache does not hide a deleted or truncated layer blob (exit 2 naming the blob)', async (t) => {
  const { l } = await setup(t);
  const cold = await sbomJsonRun(l.ref);
  assert.equal(cold.code, 0, cold.stderr);
  assert.deepEqual([cold.doc.cache.hit, cold.doc.cache.verification], [false, 'full']);
  const warm = await sbomJsonRun(l.ref);
  assert.deepEqual([warm.doc.cache.hit, warm.doc.cache.verification], [true, 'sizes']);
  await truncate(l.layers[0]!.path, 100);
  const short = await sbomJsonRun(l.ref);
  assert.equal(short.code, 2);
  assert.match(short.stderr, new RegExp(`layer ${l.layers[0]!.digest}: the source holds 100 bytes`));
  await rm(l.layers[1]!.path);
  await rm(l.layers[0]!.path);
  const gone = await sbomJsonRun(l.ref);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /the source no longer holds this blob/);
});

test('sbom --verify and check --verify re-hash a cached image: a flipped byte of the same size fails (exit 2)', async (t) => {
  const { l } = await setup(t);
  assert.equal((await sbomJsonRun(l.ref)).code, 0);
  const blob = l.layers[0]!;
  const bytes = await readFile(blob.path);
  bytes[bytes.length >> 1]! ^= 0x01;
  await writeFile(blob.path, bytes);
  const v = await sbomJsonRun(l.ref, '--verify');
  assert.equal(v.code, 2);
  assert.match(v.stderr, new RegExp(`${blob.digest}.*digest mismatch`));
  const c = await runCli(['check', l.ref, '--format', 'json', '--verify']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, new RegExp(`${blob.digest}.*digest mismatch`));
});

test('sbom: a foreign layer the layout does not hold is named in a warning, and its missing packages are not cached', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-foreign-sbom-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  process.env.VOUCH_CACHE_DIR = join(dir, 'cache');
  const status = 'Package: evil-backdoor\nStatus: install ok installed\nVersion: 6.6.6\nArchitecture: amd64\n\n';
  const l = await writeLayersLayout(
    join(dir, 'layout'),
    [tar([{ name: 'var/lib/dpkg/', type: 'dir' }, { name: 'var/lib/dpkg/status', data: status }]), tar([{ name: 'app', data: 'app' }])],
    'test',
    {},
    [{ mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', urls: ['http://127.0.0.1:9/foreign/base.tar.gz'] }],
  );
  const blob = await readFile(l.layers[0]!.path);
  await rm(l.layers[0]!.path);
  const named = new RegExp(`layer 0 \\(${l.layers[0]!.digest}\\): foreign layer: .*not fetched.*its packages are not listed`);
  for (let round = 0; round < 2; round++) {
    const r = await sbomJsonRun(l.ref);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.doc.packages, []);
    assert.match(r.doc.warnings.join('\n'), named);
    assert.match(r.stderr, named);
  }
  const text = await runCli(['sbom', l.ref]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stderr, new RegExp(`vouch: warning: ${named.source}`));
  // The blob appears (pushed later, or fetched from its URL): the warm cache must not keep hiding its packages.
  await writeFile(l.layers[0]!.path, blob);
  const after = await sbomJsonRun(l.ref);
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual(after.doc.packages.map((p: { name: string; version: string }) => `${p.name} ${p.version}`), ['evil-backdoor 6.6.6']);
  assert.equal(after.doc.warnings, undefined);
});
