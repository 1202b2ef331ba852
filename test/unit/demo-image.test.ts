import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { DEMO_PLANTED, DEMO_TAG, demoLayerTars, ensureDemoImage, type DemoImage } from '../../src/core/demo/demo-image.js';
import { verifyLayoutBlobs } from '../../src/core/oci/layout-writer.js';
import type { ImageConfig, ImageIndex, ImageManifest } from '../../src/core/oci/types.js';

const work = mkdtempSync(join(tmpdir(), 'vouch-demo-image-'));
after(() => rmSync(work, { recursive: true, force: true }));

const CI = process.env.CI === 'true';
function tool(name: string): string | false {
  const ok = spawnSync(name, ['--version'], { encoding: 'utf8' }).status === 0;
  if (!ok && CI) throw new Error(`${name} is required under CI=true`);
  return ok ? false : `${name} is not installed`;
}
const noUmoci = tool('umoci');
const noSkopeo = tool('skopeo');

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blob = (dir: string, digest: string): Buffer => readFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)));

function readImage(dir: string): { index: ImageIndex; manifest: ImageManifest; config: ImageConfig } {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === DEMO_TAG);
  assert.ok(desc, 'index.json names the demo tag');
  const manifest = JSON.parse(blob(dir, desc.digest).toString('utf8')) as ImageManifest;
  const config = JSON.parse(blob(dir, manifest.config.digest).toString('utf8')) as ImageConfig;
  return { index, manifest, config };
}

describe('demo image', () => {
  let a: DemoImage;
  let b: DemoImage;
  before(async () => {
    a = await ensureDemoImage(join(work, 'one'));
    b = await ensureDemoImage(join(work, 'two'));
  });

  it('is deterministic: the same digest in two places', () => {
    assert.equal(a.generated, true);
    assert.equal(b.generated, true);
    assert.match(a.manifestDigest, /^sha256:[a-f0-9]{64}$/);
    assert.equal(a.manifestDigest, b.manifestDigest);
    assert.deepEqual(readdirSync(join(a.dir, 'blobs', 'sha256')).sort(), readdirSync(join(b.dir, 'blobs', 'sha256')).sort());
    assert.equal(a.reference, `oci:${a.dir}:demo`);
  });

  it('is reused when present and valid, regenerated when damaged', async () => {
    const again = await ensureDemoImage(join(work, 'one'));
    assert.equal(again.generated, false);
    assert.equal(again.manifestDigest, a.manifestDigest);
    const c = await ensureDemoImage(join(work, 'three'));
    const { manifest } = readImage(c.dir);
    writeFileSync(join(c.dir, 'blobs', 'sha256', manifest.layers[2]!.digest.slice(7)), 'corrupt');
    const repaired = await ensureDemoImage(join(work, 'three'));
    assert.equal(repaired.generated, true);
    assert.equal(repaired.manifestDigest, a.manifestDigest);
    assert.deepEqual(readdirSync(join(work, 'three')), ['demo-image-v1'], 'no temp dirs left behind');
  });

  it('is a valid layout: every blob hashes to its name, diffIds match the layers', () => {
    assert.deepEqual(JSON.parse(readFileSync(join(a.dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const files = readdirSync(join(a.dir, 'blobs', 'sha256'));
    for (const f of files) assert.equal(sha256(readFileSync(join(a.dir, 'blobs', 'sha256', f))), `sha256:${f}`);
    const { index, manifest, config } = readImage(a.dir);
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(files.length, manifest.layers.length + 2);
    assert.equal(manifest.layers.length, DEMO_PLANTED.layers.length);
    const tars = demoLayerTars();
    manifest.layers.forEach((l, i) => {
      assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
      const bytes = blob(a.dir, l.digest);
      assert.equal(bytes.length, l.size);
      const tar = gunzipSync(bytes);
      assert.equal(sha256(tar), config.rootfs.diff_ids[i]);
      assert.deepEqual(tar, tars[i]);
    });
    return verifyLayoutBlobs(a.dir).then((n) => assert.equal(n, files.length));
  });

  it('carries the config, labels and history the description promises', () => {
    const { manifest, config } = readImage(a.dir);
    assert.equal(config.config?.User, 'app');
    assert.deepEqual(config.config?.Labels, DEMO_PLANTED.config.Labels);
    assert.equal(config.config?.Labels?.['org.opencontainers.image.source'], 'https://github.com/vouch-demo/shop-api');
    assert.equal(config.config?.Labels?.['org.opencontainers.image.revision'], DEMO_PLANTED.reference.revision);
    assert.deepEqual(config.config?.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(config.config?.Cmd, ['node', 'server.js']);
    const layerHistory = (config.history ?? []).filter((h) => !h.empty_layer);
    assert.deepEqual(
      layerHistory.map((h) => h.created_by),
      DEMO_PLANTED.layers.map((l) => l.createdBy),
    );
    assert.equal(manifest.annotations?.['org.opencontainers.image.source'], DEMO_PLANTED.reference.source);
  });

  it('describes what is planted', () => {
    assert.deepEqual(DEMO_PLANTED.setuid, ['/usr/bin/demo-su']);
    assert.deepEqual(DEMO_PLANTED.leftoverSecrets.map((s) => [s.path, s.addedIn, s.deletedIn]), [['/app/.env', 2, 3]]);
    assert.ok(DEMO_PLANTED.deleted.some((d) => d.path === '/app/.env'));
    assert.ok(DEMO_PLANTED.overwritten.some((o) => o.path === '/app/server.js'));
    assert.deepEqual(DEMO_PLANTED.opaque.map((o) => o.dir), ['/app/tmp']);
    assert.ok(DEMO_PLANTED.files.every((f) => f.path !== '/app/.env'));
    assert.equal(DEMO_PLANTED.dpkg.length, 8);
    assert.equal(DEMO_PLANTED.npm.length, 4);
    // The secret really is in layer 2's tar.
    const tar2 = demoLayerTars()[2]!.toString('latin1');
    for (const m of DEMO_PLANTED.leftoverSecrets[0]!.markers) assert.ok(tar2.includes(m), m);
  });

  it('skopeo reads it', { skip: noSkopeo }, () => {
    const r = spawnSync('skopeo', ['inspect', `oci:${a.dir}:demo`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { Digest: string; Layers: string[]; Labels: Record<string, string> };
    assert.equal(j.Digest, a.manifestDigest);
    assert.equal(j.Layers.length, DEMO_PLANTED.layers.length);
    assert.equal(j.Labels['org.opencontainers.image.source'], DEMO_PLANTED.reference.source);
  });

  it('umoci unpacks it to exactly the planted filesystem', { skip: noUmoci }, () => {
    const bundle = join(work, 'bundle');
    const r = spawnSync('umoci', ['unpack', '--rootless', '--image', `${a.dir}:demo`, bundle], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rootfs = join(bundle, 'rootfs');
    const found: { path: string; type: string; size: number; mode: number; linkname?: string }[] = [];
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(rootfs, rel)).sort()) {
        const p = `${rel}/${name}`;
        const st = lstatSync(join(rootfs, p));
        if (st.isDirectory()) walk(p);
        else if (st.isSymbolicLink()) found.push({ path: p, type: 'symlink', size: 0, mode: 0o777, linkname: readlinkSync(join(rootfs, p)) });
        else found.push({ path: p, type: 'file', size: st.size, mode: st.mode & 0o7777 });
      }
    };
    walk('');
    const hardlinkSize = (f: (typeof DEMO_PLANTED.files)[number]): number => DEMO_PLANTED.files.find((t) => t.path === f.linkname)!.size;
    const expected = DEMO_PLANTED.files.map((f) =>
      f.type === 'symlink'
        ? { path: f.path, type: 'symlink', size: 0, mode: 0o777, linkname: f.linkname }
        : { path: f.path, type: 'file', size: f.type === 'hardlink' ? hardlinkSize(f) : f.size, mode: f.type === 'hardlink' ? DEMO_PLANTED.files.find((t) => t.path === f.linkname)!.mode : f.mode },
    );
    assert.deepEqual(
      found.sort((x, y) => (x.path < y.path ? -1 : 1)),
      expected.sort((x, y) => (x.path < y.path ? -1 : 1)),
    );
    assert.equal(readFileSync(join(rootfs, 'etc/passwd'), 'utf8').includes('app:x:1000'), true);
    rmSync(bundle, { recursive: true, force: true });
  });
});
