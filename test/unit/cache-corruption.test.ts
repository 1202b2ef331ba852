/**
 * Issue 12 ("Lying and flaky registries", last sentence): a cache entry
 * corrupted on disk — one byte flipped, truncated, replaced by a symlink to
 * another valid entry or to a file outside the cache — is detected and
 * rebuilt, never trusted. Each corruption is made for real on the entries a
 * real analysis wrote (the analysis summary, each layer walk, the package
 * inventory), and then the same core call runs again with a fresh cache
 * object: its answer must be the fresh one, the entry must be refused
 * (recorded with a reason) and rewritten valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, truncate, writeFile, lstat, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ContentCache } from '../../src/core/cache/cache.js';
import { openImage } from '../../src/core/sources/open.js';
import { analyzeImage, layerWalks, ANALYZER_VERSION, LAYER_WALK_VERSION } from '../../src/core/layers/image-analysis.js';
import { catalogOpenImage, INVENTORY_NS } from '../../src/core/packages/catalog/index.js';
import type { Image } from '../../src/core/sources/image.js';
import { ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { writeLayersLayout } from '../helpers/layer-layout.js';
import { tar } from '../helpers/tar-writer.js';

const ANALYSIS = `analysis/v${ANALYZER_VERSION}`;
const WALK = `layer-walk/v${LAYER_WALK_VERSION}`;

interface Fixture {
  root: string;
  a: Image;
  b: Image;
}

async function fixture(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'vouch-cache-corrupt-'));
  const layerA = tar([
    { name: 'etc/', type: 'dir', mode: 0o755 },
    { name: 'etc/os-release', data: 'ID=alpine\nVERSION_ID=3.19.1\n' },
    { name: 'lib/apk/db/installed', data: 'P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\nP:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\n\n' },
    { name: 'usr/bin/tool', data: 'x'.repeat(3000), mode: 0o4755 },
  ]);
  const layerB = tar([{ name: 'srv/other', data: 'other image' }]);
  const la = await writeLayersLayout(join(root, 'a'), [layerA, tar([{ name: 'etc/motd', data: 'hello' }])]);
  const lb = await writeLayersLayout(join(root, 'b'), [layerB]);
  const a = (await openImage(la.ref)).image;
  const b = (await openImage(lb.ref)).image;
  return { root, a, b };
}

/** What each namespace's reader returns, in a form to compare (no timestamps, no cache report). */
const readers: Record<string, { ns: string; key: (img: Image) => string; read: (img: Image, cache: ContentCache) => Promise<unknown> }> = {
  analysis: {
    ns: ANALYSIS,
    key: (img) => img.digest,
    read: async (img, cache) => {
      const { cache: _c, analysedAt: _t, ...rest } = await analyzeImage(img, { cache });
      return rest;
    },
  },
  'layer walk': {
    ns: WALK,
    key: (img) => img.layers[0]!.digest,
    read: async (img, cache) => layerWalks(img, { cache }),
  },
  inventory: {
    ns: INVENTORY_NS,
    key: (img) => img.digest,
    read: async (img, cache) => {
      const inv = (await catalogOpenImage(img, { cache })) as unknown as Record<string, unknown>;
      const { generatedAt: _g, ...rest } = inv;
      return rest;
    },
  },
};

/** A well-formed entry for `ns`/`key` holding `value`: what a forger who knows the format would write. */
function forgedEntry(ns: string, key: string, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value));
  const h = createHash('sha256').update(body).digest('hex');
  return Buffer.concat([Buffer.from(`vouch-cache-entry/1 ${ns} ${key} sha256:${h} ${body.length}\n`), body]);
}

/** A JSON value that differs from `v` in one number: what an old cache would have served without a murmur. */
function bodyWithOneDigitChanged(entry: Buffer): Buffer {
  const nl = entry.indexOf(0x0a);
  const out = Buffer.from(entry);
  // The last digit of the body (a size, a count or a mode): changed to another digit, the JSON stays valid.
  for (let i = out.length - 1; i > nl; i--) {
    const c = out[i]!;
    if (c >= 0x30 && c <= 0x39) {
      out[i] = c === 0x39 ? 0x38 : c + 1;
      return out;
    }
  }
  throw new Error('no digit in the entry');
}

type Corruption = (p: { path: string; otherPath: string; outside: string; ns: string; key: string; entry: Buffer; value: unknown }) => Promise<void>;

const corruptions: Record<string, Corruption> = {
  'one digit changed (still valid JSON)': async ({ path, entry }) => writeFile(path, bodyWithOneDigitChanged(entry)),
  'one byte flipped (xor 0x20 in the middle)': async ({ path, entry }) => {
    const b = Buffer.from(entry);
    const i = entry.indexOf(0x0a) + Math.floor((entry.length - entry.indexOf(0x0a)) / 2);
    b[i] = b[i]! ^ 0x20;
    await writeFile(path, b);
  },
  'one byte flipped in the header': async ({ path, entry }) => {
    const b = Buffer.from(entry);
    b[25] = b[25]! ^ 0x01;
    await writeFile(path, b);
  },
  'truncated to half': async ({ path, entry }) => truncate(path, Math.floor(entry.length / 2)),
  'truncated to nothing': async ({ path }) => truncate(path, 0),
  'a copy of another valid entry (another key)': async ({ path, otherPath }) => writeFile(path, await readFile(otherPath)),
  'a symlink to another valid entry': async ({ path, otherPath }) => {
    await rm(path);
    await symlink(otherPath, path);
  },
  'a symlink to a well-formed entry outside the cache': async ({ path, outside, ns, key, value }) => {
    // Right header, right checksum, altered content: only the link gives it away.
    await writeFile(outside, forgedEntry(ns, key, tamper(value)));
    await rm(path);
    await symlink(outside, path);
  },
  'its folder a symlink to a folder outside the cache holding a well-formed entry': async ({ path, outside, ns, key, value }) => {
    const dir = `${outside}.d`;
    await mkdir(dir, { recursive: true });
    const name = path.slice(dirname(path).length + 1);
    await writeFile(join(dir, name), forgedEntry(ns, key, tamper(value)));
    await rm(dirname(path), { recursive: true });
    await symlink(dir, dirname(path));
  },
  'a FIFO in its place': async ({ path }) => {
    await rm(path);
    execFileSync('mkfifo', [path]);
  },
};

/** The value with one visible change (so that serving it would show). */
function tamper(v: unknown): unknown {
  const s = JSON.stringify(v);
  return JSON.parse(s.replace(/"sha256:[0-9a-f]{4}/, '"sha256:0000'));
}

for (const [kind, reader] of Object.entries(readers)) {
  for (const [how, corrupt] of Object.entries(corruptions)) {
    test(`cache: a ${kind} entry ${how} is refused, the answer is the fresh one, the entry is rebuilt`, async () => {
      const f = await fixture();
      try {
        const cacheDir = join(f.root, 'cache');
        const warm = new ContentCache(cacheDir);
        const fresh = await reader.read(f.a, warm);
        await reader.read(f.b, warm);
        assert.deepEqual(warm.rejected, []);
        const key = reader.key(f.a);
        const path = warm.pathFor(reader.ns, key);
        const otherPath = warm.pathFor(reader.ns, reader.key(f.b));
        const entry = await readFile(path);
        const value = await warm.getJson(reader.ns, key);
        assert.ok(value, 'the entry was written');
        const outside = join(f.root, 'outside-entry');
        await corrupt({ path, otherPath, outside, ns: reader.ns, key, entry, value });
        const outsideBefore = await readFile(outside).catch(() => null);

        const cache = new ContentCache(cacheDir);
        const again = await reader.read(f.a, cache);
        assert.deepEqual(again, fresh, 'the answer after corruption is the fresh analysis, not the corrupted entry');
        assert.equal(cache.rejected.length, 1, `one entry refused: ${JSON.stringify(cache.rejected)}`);
        assert.equal(cache.rejected[0]!.path, path);
        assert.ok(cache.rejected[0]!.reason.length > 0);
        // Rebuilt: a real file again, read back without any refusal.
        assert.ok((await lstat(path)).isFile());
        assert.ok((await lstat(dirname(path))).isDirectory());
        const check = new ContentCache(cacheDir);
        const noTime = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'analysedAt' || k === 'generatedAt' ? undefined : x)));
        assert.deepEqual(noTime(await check.getJson(reader.ns, key)), noTime(value));
        assert.deepEqual(check.rejected, []);
        // What the links pointed at is left alone.
        assert.deepEqual(await readFile(otherPath).catch(() => null), await readFile(otherPath).catch(() => null));
        if (outsideBefore) assert.deepEqual(await readFile(outside), outsideBefore);
      } finally {
        await rm(f.root, { recursive: true, force: true });
      }
    });
  }
}

test('cache: an entry in the old format (bare JSON, no header) is a miss and is rewritten', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-cache-old-'));
  try {
    const c = new ContentCache(dir);
    const D = `sha256:${'c'.repeat(64)}`;
    await mkdir(dirname(c.pathFor('ns/v1', D)), { recursive: true });
    await writeFile(c.pathFor('ns/v1', D), JSON.stringify({ files: 3 }));
    assert.equal(await c.getJson('ns/v1', D), undefined);
    assert.match(c.rejected[0]!.reason, /no vouch cache header/);
    await c.putJson('ns/v1', D, { files: 3 });
    assert.deepEqual(await c.getJson('ns/v1', D), { files: 3 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('demo image cache: a flipped byte in a blob, or a blob replaced by a symlink, is detected and the layout rebuilt', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-demo-corrupt-'));
  try {
    const first = await ensureDemoImage(dir);
    const blobs = join(first.dir, 'blobs', 'sha256');
    const names = (await readdir(blobs)).sort();
    // The largest blob is a layer.
    const sizes = await Promise.all(names.map(async (n) => [n, (await readFile(join(blobs, n))).length] as const));
    const [layer] = sizes.sort((x, y) => y[1] - x[1])[0]!;
    const p = join(blobs, layer);
    const bytes = await readFile(p);
    bytes[bytes.length >> 1] ^= 0x01;
    await writeFile(p, bytes);
    const second = await ensureDemoImage(dir);
    assert.equal(second.generated, true, 'a corrupt blob makes the demo image be generated again');
    assert.equal(second.manifestDigest, first.manifestDigest);

    // The same bytes, but through a symlink to a file outside the cache (which could change after the check).
    const outside = join(dir, 'outside-blob');
    await rename(p, outside);
    await symlink(outside, p);
    const third = await ensureDemoImage(dir);
    assert.equal(third.generated, true, 'a symlinked blob is not reused');
    assert.ok((await lstat(p)).isFile());
    const fourth = await ensureDemoImage(dir);
    assert.equal(fourth.generated, false, 'a sound layout is reused');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
