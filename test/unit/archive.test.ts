import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DigestMismatchError } from '../../src/core/errors.js';
import { digestOf } from '../../src/core/oci/digest.js';
import { MediaType } from '../../src/core/oci/mediatypes.js';
import { parseManifest } from '../../src/core/oci/manifest.js';
import type { Image, Layer } from '../../src/core/sources/image.js';
import { detectArchiveKind, openDockerArchive, openOciArchive } from '../../src/core/sources/archive.js';
import { TarFile } from '../../src/core/sources/tarfile.js';

import { hashLayer, sha, withImage } from '../helpers/images.js';
const FX = join(import.meta.dirname, '../fixtures');
const GCR = join(FX, 'go-containerregistry/pkg/v1');
const TB = (n: string) => join(GCR, 'tarball/testdata', n);
const DIVE = (n: string) => join(FX, 'dive', n);



/** Every layer streams, and its bytes hash to the digest it claims. */
async function allLayersVerify(img: Image): Promise<void> {
  for (const l of img.layers) {
    const h = await hashLayer(l);
    assert.equal(h.digest, l.digest);
    assert.equal(h.bytes, l.size);
  }
}

// ---------------------------------------------------------------------------
// go-containerregistry tarball/testdata (MANIFEST.md §9)

test('test_image_1.tar: legacy docker save, 1 layer, history 1, validates; manifest synthesised', async () => {
  assert.equal(await detectArchiveKind(TB('test_image_1.tar')), 'docker-archive');
  await withImage(openDockerArchive(TB('test_image_1.tar')), async (img) => {
    assert.equal(img.transport, 'docker-archive');
    assert.equal(img.reference, `docker-archive:${TB('test_image_1.tar')}`);
    assert.equal(img.name, 'bazel/v1/tarball:test_image_1');
    assert.equal(img.layers.length, 1);
    assert.equal(img.config.history?.length, 1);
    assert.match(img.configDigest, sha('6e0b05049ed9'));
    assert.equal(img.synthesizedManifest, true);
    assert.equal(img.mediaType, MediaType.DockerManifest);
    assert.equal(img.digest, digestOf(img.manifestBytes));
    const p = parseManifest(img.manifestBytes, 'synthesised', MediaType.DockerManifest);
    assert.equal(p.kind, 'image');
    assert.deepEqual(img.manifest.config, { mediaType: MediaType.DockerConfig, size: img.configBytes.length, digest: img.configDigest });
    assert.equal(img.layers[0]!.mediaType, MediaType.DockerLayer);
    assert.equal(img.layers[0]!.compression, 'none');
    assert.equal(img.layers[0]!.digest, img.layers[0]!.diffId);
    await allLayersVerify(img);
  });
});

test('test_image_2.tar and test_load_manifest.tar load with a non-empty manifest', async () => {
  await withImage(openDockerArchive(TB('test_image_2.tar')), async (img) => {
    assert.match(img.configDigest, sha('930705ce23e3'));
    await allLayersVerify(img);
  });
  await withImage(openDockerArchive(TB('test_load_manifest.tar')), (img) => {
    assert.ok(img.manifestBytes.length > 0);
    assert.equal(img.manifest.layers.length, 1);
  });
});

test('test_bundle.tar: no tag fails (AMBIGUOUS, tags listed); each of the five tags loads', async () => {
  await assert.rejects(openDockerArchive(TB('test_bundle.tar')), { code: 'AMBIGUOUS', message: /tags: test_image_2, test_image_1/ });
  const want: Record<string, RegExp> = {
    test_image_1: sha('6e0b05049ed9'),
    test_image_2: sha('930705ce23e3'),
    'test_image_1:latest': sha('6e0b05049ed9'),
    'test_image_2:latest': sha('930705ce23e3'),
    'index.docker.io/library/test_image_1:latest': sha('6e0b05049ed9'),
  };
  for (const [tag, config] of Object.entries(want)) {
    await withImage(openDockerArchive(TB('test_bundle.tar'), { tag }), async (img) => {
      assert.match(img.configDigest, config, tag);
      assert.equal(img.reference, `docker-archive:${TB('test_bundle.tar')}:${tag}`);
      await allLayersVerify(img);
    });
  }
  await assert.rejects(openDockerArchive(TB('test_bundle.tar'), { tag: 'test_image_3' }), { code: 'NOT_FOUND', message: /tags: test_image_2, test_image_1/ });
});

test('no_manifest.tar, null_manifest.tar and content.tar are not images', async () => {
  await assert.rejects(openDockerArchive(TB('no_manifest.tar')), { code: 'INVALID_ARCHIVE', message: /not an image archive/ });
  await assert.rejects(openDockerArchive(TB('null_manifest.tar')), { code: 'INVALID_ARCHIVE', message: /manifest\.json: is null/ });
  await assert.rejects(openDockerArchive(TB('content.tar')), { code: 'INVALID_ARCHIVE', message: /not an image archive/ });
  await assert.rejects(openOciArchive(TB('content.tar')), { code: 'INVALID_ARCHIVE' });
  assert.equal(await detectArchiveKind(TB('no_manifest.tar')), undefined);
  assert.equal(await detectArchiveKind(TB('content.tar')), undefined);
});

test('hello-world-v25.tar: Docker 25 save with index.json manifests null loads via manifest.json', async () => {
  await withImage(openDockerArchive(TB('hello-world-v25.tar')), async (img) => {
    assert.equal(img.synthesizedManifest, true);
    assert.match(img.configDigest, sha('ee301c921b8a'));
    assert.equal(img.layers.length, 1);
    assert.match(img.layers[0]!.digest, sha('12660636fe55'));
    await allLayersVerify(img);
  });
});

test('test_link.tar: a layer.tar symlinked to another layer yields its bytes', async () => {
  await assert.rejects(openDockerArchive(TB('test_link.tar')), { code: 'AMBIGUOUS' });
  await withImage(openDockerArchive(TB('test_link.tar'), { tag: 'bazel/v1/tarball:test_image_3' }), async (img) => {
    assert.equal(img.layers.length, 2);
    const l = img.layers.find((x) => x.diffId === 'sha256:8897395fd26dc44ad0e2a834335b33198cb41ac4d98dfddf58eced3853fa7b17')!;
    const h = await hashLayer(l);
    assert.ok(h.bytes > 0);
    assert.equal(h.digest, l.diffId);
    await allLayersVerify(img);
  });
});

test('mutate/testdata archives open and every layer verifies (whiteout_dir: kaniko-style names, gzip)', async () => {
  for (const [f, n] of [
    ['whiteout_image.tar', 3],
    ['whiteout_dir.tar', 4],
    ['overwritten_file.tar', 3],
    ['source_image.tar', 1],
  ] as const) {
    await withImage(openDockerArchive(join(GCR, 'mutate/testdata', f)), async (img) => {
      assert.equal(img.layers.length, n, f);
      if (f === 'whiteout_dir.tar') {
        assert.ok(img.layers.every((l) => l.compression === 'gzip' && l.mediaType === MediaType.DockerLayerGzip));
        assert.match(img.configDigest, sha('92f1e3d53acd'));
      }
      await allLayersVerify(img);
    });
  }
});

test('source_image_with_empty_layer_history.tar: its config was edited after naming, so it no longer matches its digest name', async () => {
  // Upstream hand-edited the config (462 bytes) but kept the file name 6e0b0504….json, the ID of the
  // original 330-byte config; go-containerregistry does not check config names, vouch does.
  await assert.rejects(openDockerArchive(join(GCR, 'mutate/testdata/source_image_with_empty_layer_history.tar')), (e: unknown) => {
    assert.ok(e instanceof DigestMismatchError);
    assert.equal(e.expected, 'sha256:6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e');
    return true;
  });
});

// ---------------------------------------------------------------------------
// dive (MANIFEST.md §8)

test('dive OCI archives: linux/arm64, 1 layer, media type / compression / size / diffId as built', async () => {
  const cases = [
    ['uncompressed', MediaType.OciLayer, 'none', 12800, sha('356d5e7f')],
    ['gzip', MediaType.OciLayerGzip, 'gzip', 4132, sha('356d5e7f')],
    ['zstd', MediaType.OciLayerZstd, 'zstd', 4314, sha('356d5e7f')],
    ['estargz', MediaType.OciLayerGzip, 'gzip', undefined, sha('2b3dbfdf')],
  ] as const;
  for (const [alg, mt, comp, size, diff] of cases) {
    const f = DIVE(`test-oci-${alg}-image.tar`);
    assert.equal(await detectArchiveKind(f), 'oci-archive');
    for (const opener of [openOciArchive, openDockerArchive]) {
      await withImage(opener(f), async (img) => {
        assert.equal(img.transport, 'oci-archive');
        assert.deepEqual([img.platform.os, img.platform.architecture], ['linux', 'arm64']);
        assert.equal(img.layers.length, 1);
        const l = img.layers[0]!;
        assert.equal(l.mediaType, mt);
        assert.equal(l.compression, comp);
        if (size !== undefined) assert.equal(l.size, size);
        assert.match(l.diffId, diff);
        if (alg === 'estargz') {
          assert.ok(l.annotations?.['containerd.io/snapshot/stargz/toc.digest']);
          assert.equal(l.annotations?.['io.containers.estargz.uncompressed-size'], '14848');
        }
        await allLayersVerify(img);
      });
    }
  }
});

test('dive non-image tars (type=tar rootfs exports) are rejected', async () => {
  for (const alg of ['uncompressed', 'gzip', 'zstd', 'estargz']) {
    const f = DIVE(`test-${alg}-image.tar`);
    assert.equal(await detectArchiveKind(f), undefined);
    await assert.rejects(openDockerArchive(f), { code: 'INVALID_ARCHIVE', message: /not an image archive/ });
    await assert.rejects(openOciArchive(f), { code: 'INVALID_ARCHIVE' });
  }
});

test('dive test-docker-image.tar: legacy save, dive-test:latest, 14 layers', async () => {
  await withImage(openDockerArchive(DIVE('test-docker-image.tar'), { tag: 'dive-test:latest' }), async (img) => {
    assert.equal(img.name, 'dive-test:latest');
    assert.equal(img.layers.length, 14);
    assert.equal(img.config.rootfs.diff_ids.length, 14);
    assert.equal(img.config.history?.length, 15);
    assert.match(img.configDigest, sha('75ae28b8'));
    assert.deepEqual([img.platform.os, img.platform.architecture], ['linux', 'amd64']);
    await allLayersVerify(img);
  });
});

test('dive test-kaniko-image.tar: gzip <sha>.tar.gz layers, config named sha256:…, 14 layers', async () => {
  await withImage(openDockerArchive(DIVE('test-kaniko-image.tar')), async (img) => {
    assert.equal(img.name, 'dive-test:kaniko-latest');
    assert.equal(img.layers.length, 14);
    assert.match(img.configDigest, sha('ae16a510'));
    assert.ok(img.layers.every((l) => l.compression === 'gzip' && l.mediaType === MediaType.DockerLayerGzip && l.digest !== l.diffId));
    await allLayersVerify(img);
  });
});

// ---------------------------------------------------------------------------
// syft stereoscope-fixture-image-simple (MANIFEST.md §11)

const SYFT_HYBRID = join(FX, 'syft/internal-testutil/stereoscope-fixture-image-simple.golden');
const SYFT_LEGACY = join(FX, 'syft/text/stereoscope-fixture-image-simple.golden');
const SYFT_TAG = 'stereoscope-fixture-image-simple:85066c51088bdd274f7a89e99e00490f666c49e72ffc955707cd6e18f0e22c5b';

test('syft hybrid golden: manifest.json form and OCI layout form give the same config digest, diffIds and manifest', async () => {
  assert.equal(await detectArchiveKind(SYFT_HYBRID), 'docker-archive');
  const viaDocker = await withImage(openDockerArchive(SYFT_HYBRID, { tag: SYFT_TAG }), async (img) => {
    await allLayersVerify(img);
    return { config: img.configDigest, diffIds: img.layers.map((l) => l.diffId), digest: img.digest, synth: img.synthesizedManifest };
  });
  const viaOci = await withImage(openOciArchive(SYFT_HYBRID), (img) => ({ config: img.configDigest, diffIds: img.layers.map((l) => l.diffId), digest: img.digest }));
  assert.match(viaDocker.config, sha('35a6658e24fa'));
  assert.deepEqual(viaDocker.diffIds.map((d) => d.slice(7, 15)), ['dfefe618', '38ddc284']);
  assert.equal(viaDocker.config, viaOci.config);
  assert.deepEqual(viaDocker.diffIds, viaOci.diffIds);
  // Docker 25+ stores the real OCI manifest: it is used, not synthesised.
  assert.equal(viaDocker.synth, false);
  assert.equal(viaDocker.digest, viaOci.digest);
  assert.match(viaDocker.digest, sha('4597535c8f98'));
});

test('syft legacy golden: the older build of the same Dockerfile, as a legacy save', async () => {
  await withImage(openDockerArchive(SYFT_LEGACY), async (img) => {
    assert.equal(img.synthesizedManifest, true);
    assert.match(img.configDigest, sha('2480160b55be'));
    assert.deepEqual(img.layers.map((l) => l.diffId.slice(7, 15)), ['fb6beecb', '319b588c']);
    assert.equal(img.name, SYFT_TAG);
    await allLayersVerify(img);
  });
});

// ---------------------------------------------------------------------------
// Tampering inside archives

async function tempArchive(src: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-archive-'));
  const dst = join(dir, 'a.tar');
  await copyFile(src, dst);
  return dst;
}

async function flipMemberByte(file: string, member: string, at: number): Promise<void> {
  const tar = await TarFile.open(file);
  const off = tar.resolve(member)!.offset + at;
  await tar.close();
  const b = await readFile(file);
  b[off] = b[off]! ^ 0x01;
  await writeFile(file, b);
}

test('tamper: a flipped byte in a legacy layer.tar fails the layer stream naming both digests', async () => {
  const f = await tempArchive(TB('test_image_1.tar'));
  try {
    await flipMemberByte(f, '555b1001d54ed229f56990845856f080b0707348b26b3aa85aaf58d5570cdee0/layer.tar', 600);
    await withImage(openDockerArchive(f), async (img) => {
      await assert.rejects(hashLayer(img.layers[0]!), (e: unknown) => {
        assert.ok(e instanceof DigestMismatchError);
        assert.equal(e.expected, img.layers[0]!.digest);
        assert.match(e.message, /^layer 0 sha256:8897395f\S+ \(555b1001\S+\/layer\.tar\): digest mismatch: expected sha256:8897395f\S+, got sha256:/);
        return true;
      });
    });
  } finally {
    await rm(join(f, '..'), { recursive: true, force: true });
  }
});

test('tamper: a flipped byte in a config named by digest, or in an oci-archive manifest, is refused at open', async () => {
  const f = await tempArchive(TB('test_image_1.tar'));
  const g = await tempArchive(DIVE('test-oci-gzip-image.tar'));
  try {
    await flipMemberByte(f, '6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e.json', 20);
    await assert.rejects(openDockerArchive(f), (e: unknown) => e instanceof DigestMismatchError && /^config sha256:6e0b0504/.test(e.message));
    const idx = JSON.parse((await (await TarFile.open(g)).readEntry('index.json')).toString()) as { manifests: Array<{ digest: string }> };
    const md = idx.manifests[0]!.digest;
    await flipMemberByte(g, `blobs/sha256/${md.slice(7)}`, 30);
    await assert.rejects(openOciArchive(g), (e: unknown) => e instanceof DigestMismatchError && e.expected === md && e.message.startsWith(`manifest ${md}`));
  } finally {
    await rm(join(f, '..'), { recursive: true, force: true });
    await rm(join(g, '..'), { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// TarFile on hostile and unusual tars

function header(name: string, size: number, type: string, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(linkname, 157);
  h.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}
function member(name: string, data: Buffer | string, type = '0', linkname = ''): Buffer {
  const d = Buffer.from(data);
  const pad = Buffer.alloc((512 - (d.length % 512)) % 512);
  return Buffer.concat([header(name, type === '0' || type === 'x' || type === 'L' ? d.length : 0, type, linkname), type === '0' || type === 'x' || type === 'L' ? Buffer.concat([d, pad]) : Buffer.alloc(0)]);
}
function pax(records: Record<string, string>): Buffer {
  let body = '';
  for (const [k, v] of Object.entries(records)) {
    const rec = ` ${k}=${v}\n`;
    let len = rec.length;
    len += String(len + String(len).length).length;
    body += `${len}${rec}`;
  }
  return member('pax', body, 'x');
}
async function writeTar(parts: Buffer[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-tar-'));
  const f = join(dir, 't.tar');
  await writeFile(f, Buffer.concat([...parts, Buffer.alloc(1024)]));
  return f;
}

test('TarFile: GNU long names, PAX paths, ustar members; links followed; ../ escapes and loops refused', async () => {
  const long = `${'d'.repeat(120)}/file.txt`;
  const f = await writeTar([
    member('././@LongLink', long + '\0', 'L'),
    member(long.slice(0, 100), 'gnu'),
    pax({ path: `p/${'x'.repeat(200)}` }),
    member('ignored', 'pax'),
    member('./a/real.txt', 'real'),
    member('b/link', '', '2', '../a/real.txt'),
    member('b/hard', '', '1', 'a/real.txt'),
    member('loop1', '', '2', 'loop2'),
    member('loop2', '', '2', 'loop1'),
    member('out', '', '2', '../../etc/passwd'),
    member('abs', '', '2', '/etc/passwd'),
  ]);
  const tar = await TarFile.open(f);
  try {
    assert.equal((await tar.readEntry(long)).toString(), 'gnu');
    assert.equal((await tar.readEntry(`p/${'x'.repeat(200)}`)).toString(), 'pax');
    assert.equal((await tar.readEntry('b/link')).toString(), 'real');
    assert.equal((await tar.readEntry('b/hard')).toString(), 'real');
    let s = '';
    for await (const c of tar.openEntry('/a/real.txt')) s += String(c);
    assert.equal(s, 'real');
    assert.throws(() => tar.resolve('loop1'), { code: 'INVALID_ARCHIVE', message: /loop/ });
    assert.throws(() => tar.resolve('out'), { code: 'INVALID_ARCHIVE', message: /outside/ });
    assert.throws(() => tar.resolve('abs'), { code: 'INVALID_ARCHIVE', message: /outside/ });
    assert.throws(() => tar.resolve('../x'), { code: 'INVALID_ARCHIVE' });
    await assert.rejects(tar.readEntry('nope'), { code: 'NOT_FOUND' });
    await assert.rejects(tar.readEntry('a/real.txt', 2), { code: 'LIMIT_EXCEEDED' });
  } finally {
    await tar.close();
    await rm(join(f, '..'), { recursive: true, force: true });
  }
});

test('TarFile: a member named ../x is refused at index time; truncated and non-tar files are errors', async () => {
  const f = await writeTar([member('../evil', 'x')]);
  await assert.rejects(TarFile.open(f), { code: 'INVALID_ARCHIVE', message: /escapes/ });
  const trunc = Buffer.concat([member('manifest.json', 'x'.repeat(2000))]).subarray(0, 1024);
  await writeFile(f, trunc);
  await assert.rejects(TarFile.open(f), { code: 'INVALID_TAR', message: /truncated/ });
  await assert.rejects(openDockerArchive(f), { code: 'INVALID_ARCHIVE' });
  await writeFile(f, Buffer.from('hello, not a tar at all'.repeat(40)));
  await assert.rejects(openDockerArchive(f), { code: 'INVALID_ARCHIVE', message: /not an image archive/ });
  await writeFile(f, gzipSync(await readFile(TB('test_image_1.tar'))));
  await assert.rejects(openDockerArchive(f), { code: 'INVALID_ARCHIVE', message: /gzip-compressed archive/ });
  assert.equal(await detectArchiveKind(f), undefined);
  await rm(join(f, '..'), { recursive: true, force: true });
});

test('docker-archive: a layer symlink loop or escape is an error, not a hang', async () => {
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`] } }));
  const f = await writeTar([
    member('manifest.json', JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['l/layer.tar'] }])),
    member('c.json', cfg),
    member('l/layer.tar', '', '2', '../../../etc/passwd'),
  ]);
  await assert.rejects(openDockerArchive(f), { code: 'INVALID_ARCHIVE', message: /outside the archive/ });
  await rm(join(f, '..'), { recursive: true, force: true });
});
