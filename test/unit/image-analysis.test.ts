import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDockerArchive } from '../../src/core/sources/archive.js';
import { analyzeImage, layerWalks } from '../../src/core/layers/image-analysis.js';
import { ContentCache } from '../../src/core/cache/cache.js';
import type { Image, Layer } from '../../src/core/sources/image.js';
import { analysisLimits } from '../../src/core/layers/walk.js';

const diveTar = join(import.meta.dirname, '../fixtures/dive/test-docker-image.tar');

/** Wrap an image so every layer open() is counted: the cache must make a second analysis read none. */
function counting(image: Image): { image: Image; opens: () => number } {
  let n = 0;
  const layers: Layer[] = image.layers.map((l) => ({
    digest: l.digest,
    diffId: l.diffId,
    mediaType: l.mediaType,
    size: l.size,
    compression: l.compression,
    ...(l.storedSize ? { storedSize: () => l.storedSize!() } : {}),
    open: () => {
      n++;
      return l.open();
    },
  }));
  return { image: Object.assign(Object.create(Object.getPrototypeOf(image) as object) as Image, image, { layers }), opens: () => n };
}

test('a second analysis of the same image reads no layer; --no-cache reads them all again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-ia-'));
  const cache = new ContentCache(dir);
  const base = await openDockerArchive(diveTar, {}, {});
  try {
    const first = counting(base);
    const a = await analyzeImage(first.image, { cache });
    assert.equal(first.opens(), 14);
    assert.equal(a.efficiency, 0.9844212134184309);

    const second = counting(base);
    const b = await analyzeImage(second.image, { cache });
    assert.equal(second.opens(), 0, 'cached analysis must not open any layer');
    // Same figures; only when and how it was obtained differ.
    const figures = ({ cache: _c, analysedAt: _a, ...rest }: typeof a) => rest;
    assert.deepEqual(figures(b), figures(a));
    assert.deepEqual([a.cache?.hit, b.cache?.hit, b.cache?.verification, b.analysedAt], [false, true, 'sizes', a.analysedAt]);

    // The per-layer walks are cached too (checks and catalogers read them without the layers).
    const third = counting(base);
    const walks = await layerWalks(third.image, { cache });
    assert.equal(third.opens(), 0);
    assert.equal(walks.length, 14);
    assert.equal(walks[0]!.entries.length, 415);

    const fourth = counting(base);
    const c = await analyzeImage(fourth.image, { cache, noCache: true });
    assert.equal(fourth.opens(), 14);
    assert.deepEqual(figures(c), figures(a));
  } finally {
    await base.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('progress is reported per layer and in bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-ia-'));
  const image = await openDockerArchive(diveTar, {}, {});
  try {
    const seen: Array<{ layersDone: number; bytesDone: number }> = [];
    await analyzeImage(image, { cache: new ContentCache(dir), onProgress: (p) => seen.push(p) });
    const last = seen.at(-1)!;
    assert.equal(last.layersDone, 14);
    assert.equal(last.bytesDone, image.layers.reduce((a, l) => a + l.size, 0));
    assert.ok(seen.length > 14);
  } finally {
    await image.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a cache hit recomputes what depends on how the image was reached (index, its annotations)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-ia-'));
  const cache = new ContentCache(dir);
  const base = await openDockerArchive(diveTar, {}, {});
  try {
    const direct = await analyzeImage(base, { cache });
    assert.equal(direct.index, null);
    assert.equal(direct.source.repository, null);
    const indexDigest = `sha256:${'c'.repeat(64)}`;
    const viaIndex = Object.assign(Object.create(Object.getPrototypeOf(base) as object) as Image, base, {
      index: {
        digest: indexDigest,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: base.digest, size: 1, annotations: { 'org.opencontainers.image.source': 'https://example.com/repo' } },
      },
    });
    let hit = false;
    const again = await analyzeImage(viaIndex, { cache, onCacheHit: () => (hit = true) });
    assert.equal(hit, true);
    assert.equal(again.index?.digest, indexDigest);
    assert.equal(again.source.repository, 'https://example.com/repo');
    assert.deepEqual(again.traceability.evidence['org.opencontainers.image.source'], [{ value: 'https://example.com/repo', from: 'index-annotation' }]);
  } finally {
    await base.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a manifest that lists one layer many times walks it once; the repeats share the walk and are charged to the image budget', async () => {
  const base = await openDockerArchive(diveTar, {}, {});
  try {
    const one = counting(base).image.layers[1]!;
    let opens = 0;
    const layer: Layer = { ...one, open: () => (opens++, one.open()) };
    // A hostile layout can name one blob hundreds of times for the price of a few bytes of manifest each.
    const repeated = Object.assign(Object.create(Object.getPrototypeOf(base) as object) as Image, base, { layers: Array.from({ length: 60 }, () => layer) });
    const walks = await layerWalks(repeated, { noCache: true });
    assert.equal(opens, 1, 'one blob, one pass');
    assert.equal(walks.length, 60);
    assert.ok(walks.every((w) => w === walks[0]));
    // Merging 60 copies still costs 60 × its entries: the entries budget sees each one.
    const per = walks[0]!.entries.length;
    await assert.rejects(
      layerWalks(repeated, { noCache: true, limits: { ...analysisLimits(), imageEntries: per * 10 } }),
      (e: Error) => /layer 10 \(of 60, counted from 0\)/.test(e.message) && /entries/.test(e.message),
    );
  } finally {
    await base.close();
  }
});
