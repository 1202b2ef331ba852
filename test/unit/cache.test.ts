import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentCache, defaultCacheDir } from '../../src/core/cache/cache.js';

const D = `sha256:${'b'.repeat(64)}`;

test('cache stores and returns JSON by digest, atomically', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-cache-'));
  try {
    const c = new ContentCache(dir);
    assert.equal(await c.getJson('analysis/v1', D), undefined);
    await c.putJson('analysis/v1', D, { a: 1 });
    assert.deepEqual(await c.getJson('analysis/v1', D), { a: 1 });
    // No temp files are left behind.
    const files = await readdir(join(dir, 'analysis/v1/sha256'));
    assert.deepEqual(files, [`${'b'.repeat(64)}.json`]);
    // A torn entry is a miss, not an error.
    await writeFile(c.pathFor('analysis/v1', D), '{"a":');
    assert.equal(await c.getJson('analysis/v1', D), undefined);
    // Different namespace (analyser version) is a different entry.
    assert.equal(await c.getJson('analysis/v2', D), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('cache dir honours VOUCH_CACHE_DIR, else the XDG cache dir', () => {
  assert.equal(defaultCacheDir({ VOUCH_CACHE_DIR: '/x/y' }), '/x/y');
  assert.match(defaultCacheDir({}), /vouch$/);
});

test('cache refuses keys that are not digests', () => {
  const c = new ContentCache('/nonexistent');
  assert.throws(() => c.pathFor('ns', '../../etc/passwd'));
});
