/** OCI and Docker v2 schema 2 manifests, indexes and image configs; the oci-layout file. */
import fc from 'fast-check';
import { MediaType } from '../../../src/core/oci/mediatypes.js';
import { configPlatform, parseConfig, parseManifest, parseOciLayoutFile, selectPlatform } from '../../../src/core/oci/manifest.js';
import { fuzzTarget, showBytes, typedError } from '../harness.js';
import { jsonBytes } from '../mutate.js';
import { configArb, imageManifestArb, indexArb } from '../docs.js';

/** Documents whose every field may be of the wrong type or almost right (reaches the deeper branches). */
const anyish = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constant('sha256:' + 'a'.repeat(64)),
  fc.constant('application/vnd.oci.image.layer.v1.tar'),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  fc.constant({ __proto__: 'x' }),
);
const descriptorish = fc.record(
  { mediaType: anyish, digest: anyish, size: anyish, urls: anyish, annotations: anyish, data: anyish, platform: fc.oneof(anyish, fc.record({ os: anyish, architecture: anyish, variant: anyish })) },
  { requiredKeys: [] },
);
const nearMiss = fc
  .record(
    {
      schemaVersion: fc.oneof(fc.constant(2), anyish),
      mediaType: fc.oneof(fc.constantFrom(MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifestSchema1), anyish),
      config: fc.oneof(descriptorish, anyish),
      layers: fc.oneof(fc.array(descriptorish, { maxLength: 3 }), anyish),
      manifests: fc.oneof(fc.array(descriptorish, { maxLength: 3 }), anyish),
      subject: fc.oneof(descriptorish, anyish),
      annotations: anyish,
      architecture: anyish,
      os: anyish,
      rootfs: fc.oneof(fc.record({ type: anyish, diff_ids: anyish }, { requiredKeys: [] }), anyish),
      history: fc.oneof(fc.array(fc.record({ created: anyish, empty_layer: anyish }, { requiredKeys: [] }), { maxLength: 2 }), anyish),
    },
    { requiredKeys: [] },
  )
  .map((d) => Buffer.from(JSON.stringify(d)));

const hints = fc.constantFrom(undefined, ...Object.values(MediaType), 'application/x-weird', '');

export const manifest = fuzzTarget({
  name: 'manifest',
  entry: 'oci/manifest.ts parseManifest (+ selectPlatform on indexes)',
  arbitrary: fc.record({ bytes: fc.oneof({ weight: 4, arbitrary: jsonBytes(fc.oneof(imageManifestArb, indexArb)) }, { weight: 1, arbitrary: nearMiss }), hint: hints }),
  run: ({ bytes, hint }: { bytes: Uint8Array; hint: string | undefined }) => {
    const p = parseManifest(bytes, 'manifest sha256:fuzz', hint);
    if (p.kind === 'index') {
      for (const want of [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm', variant: 'v7' }]) {
        try {
          selectPlatform(p.index, want);
        } catch (e) {
          if (!(e instanceof Error && 'code' in e && e.code === 'PLATFORM_NOT_FOUND')) throw e;
        }
      }
    }
  },
  isExpectedError: typedError('INVALID_MANIFEST', 'UNSUPPORTED_MEDIA_TYPE', 'LIMIT_EXCEEDED'),
  ciRuns: 800,
  show: ({ bytes, hint }) => `hint ${JSON.stringify(hint)} ${showBytes(bytes)} (${JSON.stringify(Buffer.from(bytes).toString('utf8'))})`,
});

export const config = fuzzTarget({
  name: 'config',
  entry: 'oci/manifest.ts parseConfig, configPlatform',
  arbitrary: fc.oneof({ weight: 4, arbitrary: jsonBytes(configArb) }, { weight: 1, arbitrary: nearMiss }),
  run: (bytes: Uint8Array) => configPlatform(parseConfig(bytes, 'config sha256:fuzz')),
  isExpectedError: typedError('INVALID_CONFIG', 'LIMIT_EXCEEDED'),
  ciRuns: 800,
  show: (b) => `${showBytes(b)} (${JSON.stringify(Buffer.from(b).toString('utf8'))})`,
});

export const ociLayoutFile = fuzzTarget({
  name: 'oci-layout-file',
  entry: 'oci/manifest.ts parseOciLayoutFile',
  arbitrary: jsonBytes(fc.constant({ imageLayoutVersion: '1.0.0' })),
  run: (bytes: Uint8Array) => parseOciLayoutFile(bytes, 'oci-layout'),
  isExpectedError: typedError('INVALID_LAYOUT', 'LIMIT_EXCEEDED'),
  ciRuns: 600,
  show: (b) => `${showBytes(b)} (${JSON.stringify(Buffer.from(b).toString('utf8'))})`,
});
