import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VouchError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/oci/mediatypes.js';
import {
  MAX_MANIFEST_BYTES,
  defaultPlatform,
  formatPlatform,
  hostPlatform,
  isAttestationDescriptor,
  normalizePlatform,
  parseConfig,
  parseManifest,
  parseOciLayoutFile,
  parsePlatform,
  platformMatches,
  selectPlatform,
  validateDescriptor,
} from '../../src/core/oci/manifest.js';
import type { Descriptor, ImageIndex } from '../../src/core/oci/types.js';

const ROOT = join(import.meta.dirname, '../fixtures/oci-image-spec');

/** Validate a document as upstream's schema test does: by the schema its media type names. */
function validateAs(kind: string, bytes: Buffer, what: string): void {
  switch (kind) {
    case 'manifest':
      assert.equal(parseManifest(bytes, what, MediaType.OciManifest).kind, 'image');
      return;
    case 'imageindex':
      assert.equal(parseManifest(bytes, what, MediaType.OciIndex).kind, 'index');
      return;
    case 'config':
      parseConfig(bytes, what);
      return;
    case 'descriptor': {
      let v: unknown;
      try {
        v = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new VouchError('INVALID_MANIFEST', `${what}: not JSON`);
      }
      validateDescriptor(v, what);
      return;
    }
    case 'imagelayout':
      parseOciLayoutFile(bytes, what);
      return;
  }
  throw new Error(`unknown kind ${kind}`);
}

interface Case {
  file: string;
  expect: 'pass' | 'fail';
  comment: string;
}
const cases = JSON.parse(readFileSync(join(ROOT, 'schema-test-vectors/cases.json'), 'utf8')) as Case[];

test('there are 67 schema vectors: 27 pass, 40 fail', () => {
  assert.equal(cases.length, 67);
  assert.equal(cases.filter((c) => c.expect === 'pass').length, 27);
});

for (const c of cases) {
  test(`schema vector ${c.file} (${c.expect}): ${c.comment}`, () => {
    const bytes = readFileSync(join(ROOT, 'schema-test-vectors', c.file));
    const kind = c.file.split('/')[0]!;
    if (c.expect === 'pass') {
      validateAs(kind, bytes, c.file);
    } else {
      assert.throws(
        () => validateAs(kind, bytes, c.file),
        (e: unknown) => {
          assert.ok(e instanceof VouchError, `expected a VouchError, got ${String(e)}`);
          assert.ok(e.message.startsWith(c.file), e.message);
          assert.ok(!e.message.includes('\n'));
          return true;
        },
      );
    }
  });
}

interface Example {
  file: string;
  mediatype: string;
}
const examples = JSON.parse(readFileSync(join(ROOT, 'spec-examples/examples.json'), 'utf8')) as Example[];

test('there are 13 spec examples', () => assert.equal(examples.length, 13));

for (const ex of examples) {
  test(`spec example ${ex.file} (${ex.mediatype}) parses`, () => {
    const bytes = readFileSync(join(ROOT, 'spec-examples', ex.file));
    const kind =
      ex.mediatype === MediaType.OciManifest
        ? 'manifest'
        : ex.mediatype === MediaType.OciIndex
          ? 'imageindex'
          : ex.mediatype === MediaType.OciConfig
            ? 'config'
            : ex.mediatype === 'application/vnd.oci.layout.header.v1+json'
              ? 'imagelayout'
              : 'descriptor';
    validateAs(kind, bytes, ex.file);
  });
}

const D = (over: Record<string, unknown> = {}) => ({
  mediaType: MediaType.OciLayerGzip,
  size: 10,
  digest: `sha256:${'a'.repeat(64)}`,
  ...over,
});
const manifestBytes = (m: unknown) => Buffer.from(JSON.stringify(m));
const goodManifest = (layers: unknown[] = [D()]) => ({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: D({ mediaType: MediaType.OciConfig }),
  layers,
});

test('errors name the blob and the JSON path, on one line', () => {
  const bad = goodManifest([D(), D(), D({ digest: 'sha256:XYZ' })]);
  assert.throws(() => parseManifest(manifestBytes(bad), 'manifest sha256:abc'), {
    code: 'INVALID_MANIFEST',
    message: /^manifest sha256:abc: layers\[2\]\.digest: malformed sha256 digest/,
  });
  assert.throws(() => parseManifest(manifestBytes(goodManifest([D({ size: 1.5 })])), 'm'), { message: /^m: layers\[0\]\.size: expected an integer/ });
  assert.throws(() => parseManifest(manifestBytes(goodManifest([D({ annotations: { a: 1 } })])), 'm'), { message: /layers\[0\]\.annotations\["a"\]/ });
  // control characters in values are escaped, never printed raw
  const e = (() => {
    try {
      parseManifest(manifestBytes(goodManifest([D({ mediaType: 'a/\u001b[31mred' })])), 'm');
    } catch (err) {
      return err as Error;
    }
    return undefined;
  })();
  assert.ok(e && !/\u001b/.test(e.message));
});

test('Docker schema 1 is refused with a clear unsupported error', () => {
  const s1 = { schemaVersion: 1, name: 'library/x', tag: 'latest', fsLayers: [], history: [] };
  assert.throws(() => parseManifest(manifestBytes(s1), 'manifest x'), { code: 'UNSUPPORTED_MEDIA_TYPE', message: /schema 1/ });
  assert.throws(() => parseManifest(manifestBytes(goodManifest()), 'manifest x', MediaType.DockerManifestSchema1Signed), {
    code: 'UNSUPPORTED_MEDIA_TYPE',
  });
});

test('size bound: manifests over 4 MiB are refused before parsing', () => {
  assert.throws(() => parseManifest(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20), 'big'), { code: 'LIMIT_EXCEEDED' });
});

test('kind mismatch between descriptor and document is an error; same kind keeps the descriptor type', () => {
  assert.throws(() => parseManifest(manifestBytes(goodManifest()), 'm', MediaType.OciIndex), { code: 'INVALID_MANIFEST', message: /described as/ });
  const docker = { ...goodManifest(), mediaType: MediaType.DockerManifest };
  const p = parseManifest(manifestBytes(docker), 'm', MediaType.OciManifest);
  assert.equal(p.mediaType, MediaType.OciManifest);
  assert.throws(() => parseManifest(manifestBytes({ ...goodManifest(), mediaType: 'application/vnd.oci.artifact.manifest.v1+json' }), 'm'), {
    code: 'UNSUPPORTED_MEDIA_TYPE',
  });
});

test('kind is inferred from shape when no media type is given', () => {
  assert.equal(parseManifest(manifestBytes({ schemaVersion: 2, manifests: [] }), 'i').kind, 'index');
  const { mediaType: _m, ...noType } = goodManifest();
  assert.equal(parseManifest(manifestBytes(noType), 'm').kind, 'image');
});

test('Docker v2s2 may have zero layers; OCI may not (schema minItems 1)', () => {
  assert.equal(parseManifest(manifestBytes({ ...goodManifest([]), mediaType: MediaType.DockerManifest }), 'm').kind, 'image');
  assert.throws(() => parseManifest(manifestBytes(goodManifest([])), 'm'), { message: /layers: expected at least one/ });
});

test('descriptor data must decode to the content its digest and size name', () => {
  const ok = { mediaType: MediaType.OciEmpty, size: 2, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', data: 'e30=' };
  validateDescriptor(ok, 'd');
  assert.throws(() => validateDescriptor({ ...ok, data: 'e3w=' }, 'd'), { message: /data: does not match the digest/ });
  assert.throws(() => validateDescriptor({ ...ok, size: 3 }, 'd'), { message: /decodes to 2 bytes/ });
});

test('config: Docker nulls are tolerated, wrong types are not', () => {
  const cfg = {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: null, Cmd: null, Entrypoint: null, Labels: null, Volumes: null, OnBuild: null },
    rootfs: { type: 'layers' },
    history: [{ created: '2020-01-01T00:00:00Z', created_by: 'x', empty_layer: true }],
  };
  const c = parseConfig(manifestBytes(cfg), 'config x');
  assert.deepEqual(c.rootfs.diff_ids, []);
  assert.equal(c.config?.Env, undefined);
  assert.throws(() => parseConfig(manifestBytes({ ...cfg, rootfs: { type: 'other', diff_ids: [] } }), 'config x'), {
    code: 'INVALID_CONFIG',
    message: /rootfs\.type/,
  });
  assert.throws(() => parseConfig(manifestBytes({ ...cfg, history: [{ created: 'yesterday' }] }), 'config x'), { message: /history\[0\]\.created/ });
  assert.throws(() => parseConfig(Buffer.from('[1]'), 'config x'), { code: 'INVALID_CONFIG' });
});

// ---------------------------------------------------------------------------
// Platform selection

const desc = (platform: Descriptor['platform'], n: number, annotations?: Record<string, string>): Descriptor => {
  const d: Descriptor = { mediaType: MediaType.OciManifest, size: 1, digest: `sha256:${String(n).padStart(64, '0')}` };
  if (platform) d.platform = platform;
  if (annotations) d.annotations = annotations;
  return d;
};
const index = (...manifests: Descriptor[]): ImageIndex => ({ schemaVersion: 2, manifests });

test('selectPlatform: os/arch match, arm64 default variant v8 both ways', () => {
  const idx = index(desc({ os: 'linux', architecture: 'amd64' }, 1), desc({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 2));
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm64' }).digest, idx.manifests[1]!.digest);
  const idx2 = index(desc({ os: 'linux', architecture: 'arm64' }, 3));
  assert.equal(selectPlatform(idx2, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest, idx2.manifests[0]!.digest);
  assert.equal(selectPlatform(idx2, { os: 'linux', architecture: 'aarch64' }).digest, idx2.manifests[0]!.digest);
});

test('selectPlatform: arm defaults to v7, prefers the exact variant, falls back to older ones', () => {
  const idx = index(desc({ os: 'linux', architecture: 'arm', variant: 'v6' }, 1), desc({ os: 'linux', architecture: 'arm', variant: 'v7' }, 2));
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm' }).digest, idx.manifests[1]!.digest);
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v6' }).digest, idx.manifests[0]!.digest);
  const onlyV6 = index(desc({ os: 'linux', architecture: 'arm', variant: 'v6' }, 1));
  assert.equal(selectPlatform(onlyV6, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, onlyV6.manifests[0]!.digest);
  assert.throws(() => selectPlatform(index(desc({ os: 'linux', architecture: 'arm', variant: 'v7' }, 1)), { os: 'linux', architecture: 'arm', variant: 'v6' }), {
    code: 'PLATFORM_NOT_FOUND',
  });
});

test('selectPlatform: exact beats compatible, first of equals wins, 386 is amd64 fallback', () => {
  const idx = index(desc({ os: 'linux', architecture: '386' }, 1), desc({ os: 'linux', architecture: 'amd64' }, 2), desc({ os: 'linux', architecture: 'amd64' }, 3));
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'amd64' }).digest, idx.manifests[1]!.digest);
  const only386 = index(desc({ os: 'linux', architecture: '386' }, 1));
  assert.equal(selectPlatform(only386, { os: 'linux', architecture: 'amd64' }).digest, only386.manifests[0]!.digest);
});

test('selectPlatform skips attestation manifests and reports what exists', () => {
  const att = desc({ os: 'unknown', architecture: 'unknown' }, 9, { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': 'sha256:x' });
  const idx = index(desc({ os: 'linux', architecture: 's390x' }, 1), att);
  assert.throws(() => selectPlatform(idx, { os: 'unknown', architecture: 'unknown' }), { code: 'PLATFORM_NOT_FOUND' });
  assert.throws(() => selectPlatform(idx, { os: 'linux', architecture: 'amd64' }, 'index sha256:abc'), {
    code: 'PLATFORM_NOT_FOUND',
    message: /^index sha256:abc: no manifest for platform linux\/amd64 \(available: linux\/s390x\)$/,
  });
  assert.throws(() => selectPlatform(index(desc({ os: 'windows', architecture: 'amd64' }, 1)), { os: 'linux', architecture: 'amd64' }), {
    code: 'PLATFORM_NOT_FOUND',
  });
});

test('platform helpers', () => {
  assert.deepEqual(normalizePlatform({ os: 'Linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'armhf' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.throws(() => parsePlatform('linux'), { code: 'USAGE' });
  const h = hostPlatform();
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386' };
  if (goArch[process.arch]) assert.equal(h.architecture, goArch[process.arch]);
  if (process.platform === 'linux') assert.equal(h.os, 'linux');
  if (h.architecture === 'arm64') assert.equal(h.variant, 'v8');
  assert.equal(defaultPlatform().os, 'linux');
});

test('platform normalisation: arm64 variant spellings, arm numeric variants, i686', () => {
  for (const variant of [undefined, '8', 'v8', 'v8.0', '8.0']) {
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'aarch64', ...(variant ? { variant } : {}) }), { os: 'linux', architecture: 'arm64', variant: 'v8' }, String(variant));
  }
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm64', variant: '9.0' }), { os: 'linux', architecture: 'arm64', variant: 'v9' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm', variant: '6' }), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'i686' }), { os: 'linux', architecture: '386' });
});

test('platformMatches: docker rules (arm64 v8 both ways, arm/v7 runs v6, never the other way)', () => {
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }));
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' }));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v9' }, { os: 'linux', architecture: 'arm64' }));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }));
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }), 'v7 runs v6');
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' }));
});

test('selectPlatform: arm/v8 falls back to v7; BuildKit attestations and foreign artifacts are skipped', () => {
  const idx = index(
    desc({ os: 'linux', architecture: 'arm', variant: 'v6' }, 1),
    desc({ os: 'linux', architecture: 'arm', variant: 'v7' }, 2),
    desc({ os: 'unknown', architecture: 'unknown' }, 3, { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': `sha256:${'2'.padStart(64, '0')}` }),
    { ...desc({ os: 'linux', architecture: 'amd64' }, 4), mediaType: 'application/vnd.cncf.helm.config.v1+json' },
  );
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v8' }).digest, idx.manifests[1]!.digest);
  assert.throws(() => selectPlatform(idx, { os: 'linux', architecture: 'amd64' }, 'x'), {
    code: 'PLATFORM_NOT_FOUND',
    message: /^x: no manifest for platform linux\/amd64 \(available: linux\/arm\/v6, linux\/arm\/v7\)$/,
  });
});

// Attack (rev-attack8 #1): docker and containerd pick index entries by platform only. An entry
// annotated vnd.docker.reference.type but carrying a real platform is what they pull.
test('selectPlatform: an annotated entry with a real platform is selectable; the first of equals wins as in containerd', () => {
  const annotated = { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': `sha256:${'1'.padStart(64, '0')}` };
  const arm = index(desc({ os: 'linux', architecture: 'amd64' }, 1), desc({ os: 'linux', architecture: 'arm64' }, 2, annotated));
  assert.equal(selectPlatform(arm, { os: 'linux', architecture: 'arm64' }).digest, arm.manifests[1]!.digest);
  const other = index(desc({ os: 'linux', architecture: 'amd64' }, 1), desc({ os: 'linux', architecture: 'arm64' }, 2, { 'vnd.docker.reference.type': 'x' }));
  assert.equal(selectPlatform(other, { os: 'linux', architecture: 'arm64' }).digest, other.manifests[1]!.digest);
  // The evil entry first, annotated; the signed one second: docker pulls the first, so vouch reviews the first.
  const first = index(desc({ os: 'linux', architecture: 'amd64' }, 7, { 'vnd.docker.reference.type': 'attestation-manifest' }), desc({ os: 'linux', architecture: 'amd64' }, 1));
  assert.equal(selectPlatform(first, { os: 'linux', architecture: 'amd64' }).digest, first.manifests[0]!.digest);
});

test('isAttestationDescriptor: only BuildKit\'s shape (unknown/unknown, attestation-manifest, reference digest)', () => {
  const ref = `sha256:${'1'.padStart(64, '0')}`;
  const buildkit = { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': ref };
  assert.equal(isAttestationDescriptor(desc({ os: 'unknown', architecture: 'unknown' }, 1, buildkit)), true);
  assert.equal(isAttestationDescriptor(desc({ os: 'linux', architecture: 'amd64' }, 1, buildkit)), false, 'a real platform is a platform');
  assert.equal(isAttestationDescriptor(desc({ os: 'linux', architecture: 'arm64' }, 1, { 'vnd.docker.reference.type': 'x' })), false);
  assert.equal(isAttestationDescriptor(desc(undefined, 1, buildkit)), false, 'no platform: containerd still considers it');
  assert.equal(isAttestationDescriptor(desc({ os: 'unknown', architecture: 'unknown' }, 1)), false, 'no annotations: not BuildKit\'s');
  assert.equal(isAttestationDescriptor(desc({ os: 'unknown', architecture: 'unknown' }, 1, { 'vnd.docker.reference.type': 'attestation-manifest' })), false, 'no reference digest');
  assert.equal(isAttestationDescriptor(desc({ os: 'unknown', architecture: 'unknown' }, 1, { ...buildkit, 'vnd.docker.reference.type': 'sbom' })), false);
});

test('platform strings: parsePlatform is case-insensitive and explains itself; formatPlatform is one safe line', () => {
  assert.deepEqual(parsePlatform(' Linux/ARM64/V8 '), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.throws(() => parsePlatform('linux'), (e: unknown) => e instanceof VouchError && e.code === 'USAGE' && e.exitCode === 2 && /^--platform "linux": expected os\/arch\[\/variant\], e\.g\. linux\/amd64/.test(e.message));
  assert.throws(() => parsePlatform('linux/amd64/v1/x'), { code: 'USAGE' });
  assert.equal(formatPlatform({ os: 'linux', architecture: 'amd\u001b[31m64\n' }), 'linux/amd\\x1b[31m64\\x0a');
  const idx = index(desc({ os: 'linux', architecture: 'evil\u001b[2J' }, 1));
  assert.throws(() => selectPlatform(idx, { os: 'linux', architecture: 'amd64' }), (e: unknown) => e instanceof VouchError && !/\u001b/.test(e.message));
});
