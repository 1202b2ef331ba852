/**
 * Cataloguing whole images: the demo image gives exactly its planted packages;
 * package databases overwritten, deleted or hidden by later layers give the
 * merged result; findings are cached with the layer walks (a second catalogue,
 * and an inspect after a catalogue, read no layer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentCache } from '../../src/core/cache/cache.js';
import { DEMO_PLANTED, demoLayerTars, ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { OciLayoutWriter } from '../../src/core/oci/layout-writer.js';
import { tarBuffer, type TarEntry } from '../../src/core/oci/tar-writer.js';
import { catalogImage, catalogReference, LayerCataloguer } from '../../src/core/packages/catalog/index.js';
import { inspectReference } from '../../src/core/layers/inspect.js';
import type { Cataloger } from '../../src/core/packages/catalog/types.js';
import type { LayerEntry } from '../../src/core/layers/types.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('the demo image gives exactly its planted packages, each in the layer that introduced it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-cat-demo-'));
  try {
    const demo = await ensureDemoImage(dir);
    const inv = await catalogImage(demo.reference, { noCache: true });
    const diffIds = demoLayerTars().map(sha256);
    assert.equal(inv.source, 'catalog');
    assert.deepEqual(inv.warnings, []);
    assert.deepEqual(inv.distro, { id: DEMO_PLANTED.osRelease.id, versionId: DEMO_PLANTED.osRelease.versionId, prettyName: DEMO_PLANTED.osRelease.prettyName });
    assert.deepEqual(
      inv.packages.filter((p) => p.type === 'deb').map((p) => ({ name: p.name, version: p.version, arch: p.metadata?.arch, ...(p.metadata?.source ? { source: p.metadata.source } : {}) })),
      DEMO_PLANTED.dpkg,
    );
    const npm = inv.packages.filter((p) => p.type === 'npm');
    assert.deepEqual(
      npm.map((p) => `${p.name}@${p.version}`),
      DEMO_PLANTED.npm.map((p) => `${p.name}@${p.version}`).sort(),
    );
    assert.deepEqual(new Set(inv.packages.map((p) => p.type)), new Set(['deb', 'npm']));
    for (const p of DEMO_PLANTED.npm) {
      const got = npm.find((x) => x.name === p.name)!;
      // Found twice (node_modules and the lockfile), reported once with both locations.
      assert.deepEqual(got.locations, [
        { path: p.path, layer: diffIds[2] },
        { path: '/app/package-lock.json', layer: diffIds[2] },
      ]);
    }
    // The dpkg status is rewritten by layer 1: the base packages keep layer 0, curl comes from layer 1.
    const layerOf = (n: string): string | null => inv.packages.find((p) => p.name === n)!.locations[0]!.layer;
    assert.equal(layerOf('libc6'), diffIds[0]);
    assert.equal(layerOf('curl'), diffIds[1]);
    assert.equal(layerOf('libcurl4'), diffIds[1]);
    assert.equal(inv.packages.find((p) => p.name === 'libssl3')!.purl, 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

type E = { entry: TarEntry; data?: Buffer };
const file = (path: string, content: string): E => ({ entry: { path, type: 'file', size: Buffer.byteLength(content), mtime: 1 }, data: Buffer.from(content) });
const dirE = (path: string): E => ({ entry: { path, type: 'dir', mtime: 1 } });
const apk = (pkgs: Array<[string, string]>): string => pkgs.map(([n, v]) => `C:Q1x=\nP:${n}\nV:${v}\nA:x86_64\nL:MIT\n`).join('\n');
const pj = (name: string, version: string): string => JSON.stringify({ name, version, license: 'ISC' });
const meta = (name: string, version: string): string => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;

async function layeredImage(dir: string): Promise<{ ref: string; diffIds: string[] }> {
  const layers: E[][] = [
    [
      file('etc/os-release', 'ID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n'),
      file('lib/apk/db/installed', apk([['musl', '1.2.4-r1'], ['busybox', '1.36.1-r2']])),
      file('var/lib/dpkg/status', 'Package: stray\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n'),
      file('usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA', meta('requests', '2.31.0')),
      file('usr/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA', meta('six', '1.16.0')),
      file('app/node_modules/a/package.json', pj('a', '1.0.0')),
      file('app/node_modules/b/package.json', pj('b', '1.0.0')),
      file('app/node_modules/bad/package.json', '{"name": "bad", '),
      file('opt/lib/old.jar', 'not a zip'),
    ],
    [
      // apk rewrites its db: musl unchanged, busybox upgraded, curl added.
      file('lib/apk/db/installed', apk([['musl', '1.2.4-r1'], ['busybox', '1.36.1-r5'], ['curl', '8.4.0-r0']])),
      { entry: { path: 'usr/lib/python3.11/site-packages/requests-2.31.0.dist-info', type: 'whiteout', mtime: 1 } },
      file('app/node_modules/a/package.json', pj('a', '2.0.0')),
    ],
    [
      // npm ci into a fresh node_modules: everything below is hidden.
      dirE('app/node_modules'),
      { entry: { path: 'app/node_modules', type: 'opaque', mtime: 1 } },
      file('app/node_modules/c/package.json', pj('c', '1.0.0')),
      file('app/node_modules/broken/package.json', '{"name": "broken", "version": '),
    ],
    [
      { entry: { path: 'var/lib/dpkg', type: 'whiteout', mtime: 1 } },
      { entry: { path: 'opt/lib/old.jar', type: 'whiteout', mtime: 1 } },
    ],
  ];
  const tars = layers.map((l) => tarBuffer(l));
  const w = await OciLayoutWriter.create(join(dir, 'img'));
  for (const t of tars) await w.addLayer(t, { compression: 'gzip' });
  await w.finish({ tags: ['v1'], created: '2024-01-01T00:00:00Z' });
  return { ref: `oci:${join(dir, 'img')}:v1`, diffIds: tars.map(sha256) };
}

test('layers that overwrite, delete or hide package files give the merged result', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-cat-layers-'));
  try {
    const { ref, diffIds } = await layeredImage(dir);
    const inv = await catalogImage(ref, { noCache: true });
    const got = inv.packages.map((p) => `${p.type} ${p.name}@${p.version} ${p.locations.map((l) => `${l.path}#${diffIds.indexOf(l.layer!)}`).join(',')}`);
    assert.deepEqual(got, [
      'apk busybox@1.36.1-r5 /lib/apk/db/installed#1',
      'apk curl@8.4.0-r0 /lib/apk/db/installed#1',
      'apk musl@1.2.4-r1 /lib/apk/db/installed#0',
      'npm c@1.0.0 /app/node_modules/c/package.json#2',
      'pypi six@1.16.0 /usr/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA#0',
    ]);
    assert.equal(inv.distro?.id, 'alpine');
    assert.equal(inv.packages[0]!.purl, 'pkg:apk/alpine/busybox@1.36.1-r5?arch=x86_64&distro=alpine-3.18.4');
    // Warnings only for files still in the image: the garbled package.json hidden by the opaque directory and the deleted jar say nothing.
    assert.equal(inv.warnings.length, 1, inv.warnings.join('\n'));
    assert.match(inv.warnings[0]!, /^\/app\/node_modules\/broken\/package\.json: not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an rpmdb in a layer is read during the pass (sql.js finishes after it); the distro comes from /usr/lib/os-release behind a symlink', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-cat-rpm-'));
  try {
    const db = await readFile(join(import.meta.dirname, '../fixtures/catalog/rpmdb.sqlite'));
    const t = tarBuffer([
      { entry: { path: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release', mtime: 1 } },
      file('usr/lib/os-release', 'NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\n'),
      { entry: { path: 'usr/lib/sysimage/rpm/rpmdb.sqlite', type: 'file', size: db.length, mtime: 1 }, data: db },
      { entry: { path: 'var/lib/rpm', type: 'symlink', linkname: '../../usr/lib/sysimage/rpm', mtime: 1 } },
    ]);
    const w = await OciLayoutWriter.create(join(dir, 'img'));
    await w.addLayer(t, { compression: 'gzip' });
    await w.finish({ tags: ['f40'], created: '2024-01-01T00:00:00Z' });
    const inv = await catalogImage(`oci:${join(dir, 'img')}:f40`, { noCache: true });
    assert.deepEqual(inv.warnings, []);
    assert.deepEqual(inv.distro, { id: 'fedora', versionId: '40', prettyName: null });
    assert.deepEqual(
      inv.packages.map((p) => p.purl),
      ['pkg:rpm/fedora/vouch-hello@1.2.3-4.fc40?arch=noarch&distro=fedora-40&epoch=2&upstream=vouch-hello-1.2.3-4.fc40.src.rpm', 'pkg:rpm/fedora/vouch-other@0.9-1?arch=x86_64&distro=fedora-40&upstream=vouch-other-0.9-1.src.rpm'],
    );
    assert.deepEqual(inv.packages[0]!.locations, [{ path: '/usr/lib/sysimage/rpm/rpmdb.sqlite', layer: sha256(t) }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('catalogue findings are cached with the layer walks: a second catalogue and a later inspect read no layer', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-cat-cache-'));
  try {
    const { ref } = await layeredImage(dir);
    const cache = new ContentCache(join(dir, 'cache'));
    const first = await catalogReference(ref, { cache });
    assert.equal(first.cached, false);
    const second = await catalogReference(ref, { cache });
    assert.equal(second.cached, true);
    assert.deepEqual(second.inventory, first.inventory);
    const inspected = await inspectReference(ref, { cache });
    assert.equal(inspected.cached, true);
    const fresh = await catalogReference(ref, { noCache: true });
    assert.deepEqual(fresh.inventory, first.inventory);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a wanted file larger than its cataloger reads is a warning naming it; a throwing parser is contained', async () => {
  const small: Cataloger = { name: 'small', maxBytes: 10, wants: (p) => p.endsWith('.db'), parse: () => ({ packages: [], warnings: [] }) };
  const thrower: Cataloger = {
    name: 'thrower',
    maxBytes: 100,
    wants: (p) => p.endsWith('.x'),
    parse: () => {
      throw new Error('boom');
    },
  };
  const later: Cataloger = {
    name: 'async',
    maxBytes: 100,
    wants: (p) => p.endsWith('.sqlite'),
    parse: async (p, data, layer) => ({ packages: [{ name: p, version: data.toString(), type: 'rpm', licenses: [], metadata: { layer } }], warnings: [] }),
  };
  const c = new LayerCataloguer('sha256:l', [small, thrower, later]);
  const h = c.hooks();
  assert.equal(h.maxContentBytes, 100);
  const entry = (path: string, size: number): LayerEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size, mtime: 0 });
  assert.equal(h.wantContent(entry('/var/big.db', 11)), false);
  const x = entry('/a/b.x', 3);
  assert.equal(h.wantContent(x), true);
  h.onContent(x, Buffer.from('abc'));
  // An async parser (sql.js for rpmdb) finishes after the pass; a later duplicate of the same path replaces the earlier one.
  const db = entry('/var/lib/rpm/rpmdb.sqlite', 1);
  assert.equal(h.wantContent(db), true);
  h.onContent(db, Buffer.from('1'));
  assert.equal(h.wantContent(db), true);
  h.onContent(db, Buffer.from('2'));
  const cat = await c.finish();
  assert.deepEqual(
    cat.files.map((f) => [f.path, f.warnings, f.packages.map((p) => `${p.version} ${p.metadata?.layer}`)]),
    [
      ['/a/b.x', ['/a/b.x: thrower cataloger failed: boom'], []],
      ['/var/big.db', ["/var/big.db: 11 bytes exceed the small cataloger's limit of 10; not catalogued"], []],
      ['/var/lib/rpm/rpmdb.sqlite', [], ['2 sha256:l']],
    ],
  );
});
