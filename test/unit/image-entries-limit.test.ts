/**
 * a12 #3: a memory bomb of many small layers, each under VOUCH_MAX_LAYER_ENTRIES, is stopped by one entries budget
 * per image (VOUCH_MAX_IMAGE_ENTRIES), shared by the walks and charged for walks served from the cache too.
 * Small limits here; the default is 2,000,000 (~1.2 GB of walk memory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/inspect.js';
import { gzipLayer, manyFilesTar, writeRawLayout } from '../helpers/hostile-images.js';
import { analysisLimits, MAX_IMAGE_ENTRIES } from '../../src/core/layers/walk.js';

async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('VOUCH_MAX_IMAGE_ENTRIES: default, K/M suffixes, a malformed value is a usage error', () => {
  assert.equal(analysisLimits({}).imageEntries, MAX_IMAGE_ENTRIES);
  assert.equal(MAX_IMAGE_ENTRIES, 2_000_000);
  assert.equal(analysisLimits({ VOUCH_MAX_IMAGE_ENTRIES: '2K' }).imageEntries, 2048);
  assert.equal(analysisLimits({ VOUCH_MAX_IMAGE_ENTRIES: '3M' }).imageEntries, 3 * 1024 ** 2);
  assert.throws(() => analysisLimits({ VOUCH_MAX_IMAGE_ENTRIES: 'lots' }), /VOUCH_MAX_IMAGE_ENTRIES="lots" is not a limit: /);
});

test('layers each under the per-layer entries cap, together over the per-image budget: LIMIT_EXCEEDED naming the layer, cached walks counted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-entries-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // 101 + 102 + 103 = 306 entries (files plus one folder each).
  const img = await writeRawLayout(join(dir, 'layout'), [gzipLayer(manyFilesTar(100)), gzipLayer(manyFilesTar(101)), gzipLayer(manyFilesTar(102))]);
  // Layer 3 of 3 crosses 250 (101 + 102 + 103); "about 0.0 GB" said nothing at a small limit.
  // The layers are walked three at a time: whichever of the last two finishes counting first crosses the budget.
  const refused = /^vouch: error: layer [12] \(of 3, counted from 0\) sha256:[0-9a-f]{64}: the image's layers hold more than the limit of 250 tar entries per image \(each costs ~600 bytes of memory: about 150 kB at this limit; VOUCH_MAX_IMAGE_ENTRIES raises it\)\n$/;
  const env = { VOUCH_CACHE_DIR: join(dir, 'cache'), VOUCH_MAX_LAYER_ENTRIES: '200' };
  await withEnv({ ...env, VOUCH_MAX_IMAGE_ENTRIES: '250' }, async () => {
    for (const args of [['inspect', img.ref, '--json', '--no-cache'], ['sbom', img.ref, '--json', '--no-cache'], ['inspect', img.ref, '--json'], ['inspect', img.ref, '--json']]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, refused, args.join(' '));
    }
  });
  await withEnv({ ...env, VOUCH_MAX_IMAGE_ENTRIES: '306' }, async () => {
    const r = await runCli(['inspect', img.ref, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).layers.reduce((a: number, l: { entries: number }) => a + l.entries, 0), 306);
  });
  // Every walk is now in the cache: loaded from it (check reads every entry), they still count against the image's budget.
  await withEnv({ ...env, VOUCH_MAX_IMAGE_ENTRIES: '250' }, async () => {
    const r = await runCli(['check', img.ref, '--format', 'json']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, refused);
  });
});

test('limits: exactly the documented forms; anything else refused naming the variable and the value', () => {
  const bytes = (v: string) => analysisLimits({ VOUCH_MAX_LAYER_BYTES: v }).layerBytes;
  assert.equal(bytes('1048576'), 2 ** 20);
  assert.equal(bytes('64G'), 64 * 1024 ** 3);
  assert.equal(bytes('64g'), 64 * 1024 ** 3);
  assert.equal(bytes('1.5G'), 1.5 * 1024 ** 3);
  assert.equal(bytes('2GiB'), 2 * 1024 ** 3);
  assert.equal(bytes('512 MiB'), 512 * 1024 ** 2);
  // SI suffixes are powers of 1000, as everywhere else they are written so.
  assert.equal(bytes('10MB'), 10_000_000);
  assert.equal(bytes('1.5GB'), 1_500_000_000);
  assert.equal(bytes('2T'), 2 * 1024 ** 4);
  for (const bad of ['10x', '1.5', '0', '0.0001K', '-1', '1e3', 'G', '1,000', '1.5.2G', '10 M B', '10iB', '1Gi', '99999999999999999T']) {
    assert.throws(() => analysisLimits({ VOUCH_MAX_LAYER_BYTES: bad }), (e: Error) => e.message.startsWith(`VOUCH_MAX_LAYER_BYTES=${JSON.stringify(bad)} is not a limit: `) && /K, M, G, T/.test(e.message) && !e.message.includes('\n'), bad);
  }
  assert.equal(analysisLimits({ VOUCH_MAX_IMAGE_ENTRIES: '306' }).imageEntries, 306);
});

test('limit errors name the layer by position; in vouch diff, which of the two images', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-limit-pos-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const small = await writeRawLayout(join(dir, 'small'), [gzipLayer(manyFilesTar(3))]);
  const big = await writeRawLayout(join(dir, 'big'), [gzipLayer(manyFilesTar(3)), gzipLayer(manyFilesTar(40))]);
  await withEnv({ VOUCH_MAX_LAYER_ENTRIES: '20' }, async () => {
    const r = await runCli(['inspect', big.ref, '--json', '--no-cache']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /^vouch: error: layer 1 \(of 2, counted from 0\) sha256:[0-9a-f]{64}: more than 20 tar entries .*VOUCH_MAX_LAYER_ENTRIES raises it\)\n$/);
    for (const [args, side] of [[[small.ref, big.ref], 'target'], [[big.ref, small.ref], 'base']] as const) {
      const d = await runCli(['diff', ...args, '--json', '--no-cache']);
      assert.equal(d.code, 2, d.stdout);
      assert.ok(d.stderr.startsWith(`vouch: error: ${side} image ${big.ref}: layer 1 (of 2, counted from 0) sha256:`), d.stderr);
      assert.equal(d.stderr.split('\n').filter(Boolean).length, 1);
    }
  });
});
