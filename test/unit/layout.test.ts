import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DigestMismatchError, VouchError } from '../../src/core/errors.js';
import { digestOf } from '../../src/core/oci/digest.js';
import { MediaType } from '../../src/core/oci/mediatypes.js';
import { parseManifest } from '../../src/core/oci/manifest.js';
import type { Image, Layer } from '../../src/core/sources/image.js';
import { detectArchiveKind } from '../../src/core/sources/archive.js';
import { inspectLayoutManifest, openLayout, unreferencedBlobs } from '../../src/core/sources/layout.js';

import { hashLayer, sha, withImage } from '../helpers/images.js';
import { writeMiniLayout, type MiniImage } from '../helpers/mini-layout.js';
const TD = join(import.meta.dirname, '../fixtures/go-containerregistry/pkg/v1/layout/testdata');



async function tempCopy(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-layout-'));
  await cp(join(TD, name), join(dir, name), { recursive: true });
  return join(dir, name);
}

async function putBlob(dir: string, bytes: Buffer): Promise<string> {
  const d = digestOf(bytes);
  await writeFile(join(dir, 'blobs/sha256', d.slice(7)), bytes);
  return d;
}

test('test_index: image eebff607 by tag validates; OCI media type from the descriptor; docker gzip layer', async () => {
  await withImage(openLayout(join(TD, 'test_index'), { tag: '1' }), async (img) => {
    assert.match(img.digest, sha('eebff607b162'));
    assert.equal(img.mediaType, MediaType.OciManifest);
    assert.match(img.configDigest, sha('6e0b05049ed9'));
    assert.equal(img.layers[0]!.mediaType, MediaType.DockerLayerGzip);
    assert.equal(img.layers[0]!.compression, 'gzip');
    assert.equal(img.synthesizedManifest, false);
    assert.equal(img.transport, 'oci');
    assert.equal(img.reference, `oci:${join(TD, 'test_index')}:1`);
    assert.equal(img.name, 'test_index:1');
    assert.deepEqual({ os: img.platform.os, arch: img.platform.architecture }, { os: 'linux', arch: 'amd64' });
    for (const l of img.layers) assert.equal((await hashLayer(l)).digest, l.digest);
  });
});

test('test_index: the same image by digest', async () => {
  const digest = 'sha256:eebff607b1628d67459b0596643fc07de70d702eccf030f0bc7bb6fc2b278650';
  await withImage(openLayout(join(TD, 'test_index'), { digest }), (img) => {
    assert.equal(img.digest, digest);
    assert.equal(img.reference, `oci:${join(TD, 'test_index')}@${digest}`);
  });
});

test('test_index: the index at 2b29a2b8 is a Docker manifest list', async () => {
  const index = JSON.parse(await readFile(join(TD, 'test_index/index.json'), 'utf8')) as { manifests: Array<{ digest: string; mediaType: string }> };
  const d = index.manifests.find((m) => m.digest.startsWith('sha256:2b29a2b8'))!;
  assert.equal(d.mediaType, MediaType.DockerManifestList);
  const p = parseManifest(await readFile(join(TD, 'test_index/blobs/sha256', d.digest.slice(7))), 'index', d.mediaType);
  assert.equal(p.kind, 'index');
  assert.equal(p.mediaType, MediaType.DockerManifestList);
});

test('test_index: an index (05f95b26) asked for as an image, with no matching platform, is an error', async () => {
  await assert.rejects(openLayout(join(TD, 'test_index'), { digest: 'sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5' }), {
    code: 'PLATFORM_NOT_FOUND',
    message: /index sha256:05f95b26/,
  });
  await assert.rejects(openLayout(join(TD, 'test_index'), { tag: '4' }), { code: 'PLATFORM_NOT_FOUND', message: /2b29a2b8/ });
});

test('test_index: unknown digest deadbeef… is NOT_FOUND; unknown tag is NOT_FOUND listing tags', async () => {
  await assert.rejects(openLayout(join(TD, 'test_index'), { digest: `sha256:${'deadbeef'.repeat(8)}` }), { code: 'NOT_FOUND' });
  await assert.rejects(openLayout(join(TD, 'test_index'), { tag: 'nope' }), { code: 'NOT_FOUND', message: /tags: 1, 2, 3, 4/ });
});

test('test_index: several images and no tag is AMBIGUOUS and lists the tags', async () => {
  await assert.rejects(openLayout(join(TD, 'test_index')), { code: 'AMBIGUOUS', message: /tags: 1, 2, 3, 4/ });
});

test('test_index: entry with a non-manifest descriptor media type is read by its own mediaType', async () => {
  await withImage(openLayout(join(TD, 'test_index'), { tag: '2' }), (img) => {
    assert.match(img.digest, sha('325899857025'));
    assert.equal(img.mediaType, MediaType.DockerManifest);
  });
});

test('test_index_one_image: a single image resolves without tag or digest', async () => {
  await withImage(openLayout(join(TD, 'test_index_one_image')), async (img) => {
    assert.match(img.digest, sha('98ceaf93e482'));
    assert.equal(img.layers.length, 1);
    assert.match(img.layers[0]!.diffId, sha('59cd31f50f74'));
    assert.equal(img.config.history?.length, 1);
    const h = await hashLayer(img.layers[0]!);
    assert.equal(h.digest, img.layers[0]!.digest);
    assert.equal(h.bytes, img.layers[0]!.size);
  });
  assert.equal(await detectArchiveKind(join(TD, 'test_index_one_image')), 'oci');
  assert.equal(await detectArchiveKind(TD), undefined);
});

test('test_index_media_type: the custom layer media type application/tar+gzip is preserved', async () => {
  const r = await inspectLayoutManifest(join(TD, 'test_index_media_type'));
  assert.match(r.digest, sha('b544f71ecd82'));
  assert.equal(r.manifest.layers[0]!.mediaType, 'application/tar+gzip');
  // Its config is a helm chart's, not a container image's: openLayout says so instead of guessing.
  await assert.rejects(openLayout(join(TD, 'test_index_media_type')), { code: 'UNSUPPORTED_MEDIA_TYPE', message: /helm/ });
});

test('custom layer media type on a real image: preserved, compression sniffed from the bytes', async () => {
  const dir = await tempCopy('test_index_media_type');
  try {
    const layerHex = 'dc52c6e48a1d51a96047b059f16889bc889c4b4c28f3b36b3f93187f62fc0b2b';
    const diffId = digestOf(gunzipSync(await readFile(join(dir, 'blobs/sha256', layerHex))));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }));
    const configDigest = await putBlob(dir, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/tar+gzip', digest: `sha256:${layerHex}`, size: 167 }],
      }),
    );
    const md = await putBlob(dir, manifest);
    await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: md, size: manifest.length }] }));
    await withImage(openLayout(dir), async (img) => {
      assert.equal(img.layers[0]!.mediaType, 'application/tar+gzip');
      assert.equal(img.layers[0]!.compression, 'gzip');
      assert.equal(img.layers[0]!.diffId, diffId);
      assert.equal((await hashLayer(img.layers[0]!)).digest, `sha256:${layerHex}`);
    });
  } finally {
    await rm(join(dir, '..'), { recursive: true, force: true });
  }
});

test('GC: test_gc_index has exactly one unreferenced blob, test_gc_image_unknown_mediatype none', async () => {
  assert.deepEqual(await unreferencedBlobs(join(TD, 'test_gc_index')), ['sha256:492b89b9dd3cda4596f94916d17f6901455fb8bd7f4c5a2a90df8d39c90f48a0']);
  assert.deepEqual(await unreferencedBlobs(join(TD, 'test_gc_image_unknown_mediatype')), []);
});

test('nested index: resolved by platform; image.index names the index; no match is PLATFORM_NOT_FOUND', async () => {
  const dir = await tempCopy('test_index_one_image');
  try {
    const image = { mediaType: MediaType.OciManifest, digest: 'sha256:98ceaf93e482fe91b9bfd6bba07137c098e49ee2d55e69f09fb6c951e75e0e46', size: 344 };
    const idx = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          { ...image, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
          { ...image, platform: { os: 'linux', architecture: 'amd64' } },
          { ...image, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': image.digest } },
        ],
      }),
    );
    const id = await putBlob(dir, idx);
    await writeFile(
      join(dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciIndex, digest: id, size: idx.length, annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/multi:1.0' } }] }),
    );
    for (const tag of [undefined, 'multi:1.0', 'docker.io/library/multi:1.0', 'index.docker.io/library/multi:1.0']) {
      await withImage(openLayout(dir, tag ? { tag } : {}, { platform: { os: 'linux', architecture: 'amd64' } }), (img) => {
        assert.equal(img.digest, image.digest);
        assert.equal(img.index?.digest, id);
        assert.equal(img.index?.descriptor.platform?.architecture, 'amd64');
      });
    }
    await withImage(openLayout(dir, {}, { platform: { os: 'linux', architecture: 'arm' } }), (img) => assert.equal(img.index?.descriptor.platform?.variant, 'v7'));
    await assert.rejects(openLayout(dir, {}, { platform: { os: 'linux', architecture: 's390x' } }), {
      code: 'PLATFORM_NOT_FOUND',
      message: /available: linux\/arm\/v7, linux\/amd64\)/,
    });
    await assert.rejects(openLayout(dir, { tag: 'multi:2.0' }), { code: 'NOT_FOUND' });
  } finally {
    await rm(join(dir, '..'), { recursive: true, force: true });
  }
});

// Attack (rev-attack8 #1): an index.json entry annotated vnd.docker.reference.type but with a real
// platform was dropped, so the one entry left was opened whatever --platform asked for.
test('index.json: an annotated entry with a real platform is a platform (selected for it), only BuildKit\'s unknown/unknown one is skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-layout-annot-'));
  try {
    const l = await writeMiniLayout(dir, { tag: 'app', platforms: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }] });
    const [amd, arm] = l.images as [MiniImage, MiniImage];
    const entry = (m: MiniImage, platform: object, annotations?: Record<string, string>) => ({ mediaType: MediaType.OciManifest, digest: m.manifestDigest, size: m.manifestSize, platform, ...(annotations ? { annotations } : {}) });
    const writeTop = (manifests: object[]) => writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
    await writeTop([entry(amd, amd.platform), entry(arm, arm.platform, { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd.manifestDigest })]);
    await withImage(openLayout(dir, {}, { platform: { os: 'linux', architecture: 'arm64' } }), (img) => assert.equal(img.digest, arm.manifestDigest));
    await withImage(openLayout(dir, {}, { platform: { os: 'linux', architecture: 'amd64' } }), (img) => assert.equal(img.digest, amd.manifestDigest));
    // BuildKit's own attestation entry is still not an image: the amd64 one is the only candidate.
    await writeTop([entry(amd, amd.platform), entry(arm, { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd.manifestDigest })]);
    await withImage(openLayout(dir, {}, { platform: { os: 'linux', architecture: 'amd64' } }), (img) => assert.equal(img.digest, amd.manifestDigest));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function flipByte(file: string, at = 0): Promise<void> {
  const b = await readFile(file);
  b[at] = b[at]! ^ 0x01;
  await writeFile(file, b);
}

test('tamper: a flipped byte in a layer fails the stream with both digests', async () => {
  const dir = await tempCopy('test_index_one_image');
  try {
    const layer = 'sha256:492b89b9dd3cda4596f94916d17f6901455fb8bd7f4c5a2a90df8d39c90f48a0';
    await flipByte(join(dir, 'blobs/sha256', layer.slice(7)), 50);
    await withImage(openLayout(dir), async (img) => {
      await assert.rejects(hashLayer(img.layers[0]!), (e: unknown) => {
        assert.ok(e instanceof DigestMismatchError, String(e));
        assert.equal(e.expected, layer);
        assert.match(e.actual, /^sha256:[a-f0-9]{64}$/);
        assert.notEqual(e.actual, layer);
        assert.match(e.message, new RegExp(`layer 0 ${layer}: digest mismatch: expected ${layer}, got ${e.actual}`));
        return true;
      });
    });
  } finally {
    await rm(join(dir, '..'), { recursive: true, force: true });
  }
});

test('tamper: a flipped byte in the config or the manifest is refused at open', async () => {
  for (const [blob, what] of [
    ['381d958b555884ba59574ab5c066e9f6116b5aec3567675aa13bec63331f0810', 'config'],
    ['98ceaf93e482fe91b9bfd6bba07137c098e49ee2d55e69f09fb6c951e75e0e46', 'manifest'],
  ] as const) {
    const dir = await tempCopy('test_index_one_image');
    try {
      await flipByte(join(dir, 'blobs/sha256', blob), 10);
      await assert.rejects(openLayout(dir), (e: unknown) => {
        assert.ok(e instanceof DigestMismatchError, String(e));
        assert.equal(e.expected, `sha256:${blob}`);
        assert.match(e.message, new RegExp(`^${what} sha256:${blob}: digest mismatch: expected sha256:${blob}, got sha256:[a-f0-9]{64}$`));
        return true;
      });
    } finally {
      await rm(join(dir, '..'), { recursive: true, force: true });
    }
  }
});

test('a truncated blob is a size mismatch; a missing oci-layout is not a layout', async () => {
  const dir = await tempCopy('test_index_one_image');
  try {
    const cfg = join(dir, 'blobs/sha256/381d958b555884ba59574ab5c066e9f6116b5aec3567675aa13bec63331f0810');
    await writeFile(cfg, (await readFile(cfg)).subarray(0, 100));
    await assert.rejects(openLayout(dir), { code: 'SIZE_MISMATCH' });
    await rm(join(dir, 'oci-layout'));
    await assert.rejects(openLayout(dir), { code: 'INVALID_LAYOUT', message: /no oci-layout/ });
    await assert.rejects(openLayout(join(dir, 'nope')), { code: 'NOT_FOUND' });
  } finally {
    await rm(join(dir, '..'), { recursive: true, force: true });
  }
});

test('errors are VouchErrors with one-line messages', async () => {
  try {
    await openLayout(join(TD, 'test_index'));
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof VouchError);
    assert.ok(!e.message.includes('\n'));
  }
});
