/** The CLI as a user runs it: a child process, real files, exit codes, one-line errors. */
import { ANALYZER_VERSION } from '../../src/core/layers/image-analysis.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli, testCacheDir } from '../helpers/inspect.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';

const FX = join(import.meta.dirname, '../fixtures');
const DIVE = join(FX, 'dive/test-docker-image.tar');

test('inspect --json on dive\'s test image reproduces dive\'s figures', async () => {
  const r = await spawnCli(['inspect', DIVE, '--json', '--no-cache']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.transport, 'docker-archive');
  assert.equal(j.efficiency, 0.9844212134184309);
  assert.equal(j.sizeBytes, 1220598);
  assert.equal(j.userSizeBytes, 66237);
  assert.equal(j.wastedBytes, 32025);
  assert.equal(j.userWastedPercent, 0.4834911001404049);
  assert.equal(j.layers.length, 14);
  assert.deepEqual(j.inefficientFiles, [
    { path: '/root/saved.txt', count: 2, wastedBytes: 12810 },
    { path: '/root/example/somefile1.txt', count: 2, wastedBytes: 12810 },
    { path: '/root/example/somefile3.txt', count: 2, wastedBytes: 6405 },
  ]);
  for (const k of ['reference', 'transport', 'name', 'digest', 'mediaType', 'platform', 'config', 'layers', 'files', 'totalBytes', 'source']) assert.ok(k in j, k);
  for (const k of ['digest', 'user', 'env', 'entrypoint', 'cmd', 'workingDir', 'exposedPorts', 'labels', 'created']) assert.ok(k in j.config, `config.${k}`);
  for (const k of ['digest', 'diffId', 'mediaType', 'size', 'uncompressedSize', 'createdBy', 'entries', 'added', 'modified', 'removed', 'addedBytes']) assert.ok(k in j.layers[0], `layers[].${k}`);
  assert.deepEqual(j.platform, { os: 'linux', architecture: 'amd64', variant: null });
  assert.equal(j.layers[0].createdBy.startsWith('/bin/sh -c #(nop) ADD file:'), true);
  assert.equal(j.config.digest, 'sha256:75ae28b8ebf89b203319069ddcbecdf5c3838503bbebc0d0d85e4b8589c5de3a');
});

test('the human summary says which source was used and the resolved digest', async () => {
  const r = await spawnCli(['inspect', DIVE]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /path is a docker-archive/);
  assert.match(r.stdout, /^Digest\s+sha256:[0-9a-f]{64}/m);
  assert.match(r.stdout, /Efficiency\s+98\.44 %/);
  assert.match(r.stdout, /\/root\/saved\.txt/);
});

test('bad input exits 2 with one line naming what is wrong', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-'));
  try {
    await writeFile(join(dir, 'junk.tar'), 'not a tar at all');
    const cases: Array<[string[], RegExp]> = [
      [['inspect', join(dir, 'missing')], /missing: no such file or directory/],
      [['inspect', 'Alpine:UPPER CASE'], /invalid image reference/],
      [['inspect', 'oci:'], /invalid image reference "oci:": missing path/],
      [['inspect', join(FX, 'dive/test-gzip-image.tar')], /test-gzip-image\.tar/],
      [['inspect', join(dir, 'junk.tar')], /junk\.tar/],
      [['inspect', DIVE, '--platform', 'linux'], /--platform/],
      [['inspect'], /missing required argument/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, re] of cases) {
      const r = await spawnCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
    const r = await spawnCli(['inspect', join(dir, 'missing')]);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'exactly one line');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a tampered layer is a hard error naming the blob and both digests', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-'));
  try {
    const layout = await writeMiniLayout(join(dir, 'img'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
    const blob = join(dir, 'img/blobs/sha256', layout.images[0]!.layerDigest.slice(7));
    const bytes = await readFile(blob);
    bytes[bytes.length - 5]! ^= 0xff;
    await writeFile(blob, bytes);
    const r = await spawnCli(['inspect', `oci:${join(dir, 'img')}:v1`, '--no-cache']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${layout.images[0]!.layerDigest.slice(7, 19)}.*digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}`));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the cache is used on the second inspect and written atomically', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-cache-'));
  try {
    const img = join(dir, 'dive.tar');
    await cp(DIVE, img);
    const first = await spawnCli(['inspect', img, '--json'], { VOUCH_CACHE_DIR: join(dir, 'cache') });
    assert.equal(first.code, 0, first.stderr);
    const entries = await readdir(join(dir, `cache/analysis/v${ANALYZER_VERSION}/sha256`));
    assert.equal(entries.length, 1);
    assert.ok(entries.every((e) => e.endsWith('.json')), 'no temp files left');
    const second = await spawnCli(['inspect', img, '--json'], { VOUCH_CACHE_DIR: join(dir, 'cache') });
    // The same analysis; only the cache note differs (and says it is a hit).
    const { cache: c1, ...a1 } = JSON.parse(first.stdout);
    const { cache: c2, ...a2 } = JSON.parse(second.stdout);
    assert.deepEqual(a2, a1);
    assert.deepEqual([c1.hit, c2.hit, c2.verification, c2.analysedAt], [false, true, 'sizes', c1.analysedAt]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void testCacheDir;

test('--platform is enforced on a single-platform image too', async () => {
  const wrong = await spawnCli(['inspect', DIVE, '--platform', 'linux/arm64', '--json']);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /the image is linux\/amd64, not the requested linux\/arm64/);
  const right = await spawnCli(['inspect', DIVE, '--platform', 'linux/amd64', '--json']);
  assert.equal(right.code, 0, right.stderr);
});
