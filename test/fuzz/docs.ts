/**
 * Structure-aware generators of valid OCI / Docker documents (descriptors,
 * manifests, indexes, configs), shared by the targets that parse them alone
 * (targets/oci.ts) and inside archives (targets/archives.ts).
 */
import fc from 'fast-check';
import { MediaType } from '../../src/core/oci/mediatypes.js';

export const hex64 = fc.stringMatching(/^[a-f0-9]{64}$/);
export const digestArb = hex64.map((h) => `sha256:${h}`);
const small = fc.string({ maxLength: 12 });
const annotations = fc.dictionary(fc.constantFrom('org.opencontainers.image.ref.name', 'org.opencontainers.image.source', 'vnd.docker.reference.type', 'x'), small, { maxKeys: 3 });
export const platformArb = fc.record(
  {
    os: fc.constantFrom('linux', 'windows', 'unknown'),
    architecture: fc.constantFrom('amd64', 'arm64', 'arm', 'unknown', 's390x'),
    variant: fc.constantFrom('v7', 'v8', 'v6'),
    'os.version': small,
    'os.features': fc.array(small, { maxLength: 2 }),
  },
  { requiredKeys: ['os', 'architecture'] },
);
const layerType = fc.constantFrom(MediaType.OciLayerGzip, MediaType.OciLayer, MediaType.OciLayerZstd, MediaType.DockerLayerGzip, MediaType.DockerForeignLayerGzip);
export const descriptorArb = (mediaType: fc.Arbitrary<string>) =>
  fc.record(
    {
      mediaType,
      digest: digestArb,
      size: fc.nat({ max: 1 << 30 }),
      annotations,
      urls: fc.array(fc.constantFrom('https://example.com/l', 'http://x/y'), { maxLength: 2 }),
      artifactType: fc.constantFrom('application/vnd.dev.sigstore.bundle.v0.3+json', 'application/spdx+json'),
    },
    { requiredKeys: ['mediaType', 'digest', 'size'] },
  );

export const imageManifestArb = fc
  .tuple(fc.boolean(), fc.array(descriptorArb(layerType), { minLength: 1, maxLength: 4 }), fc.option(descriptorArb(fc.constant(MediaType.OciManifest)), { nil: undefined }), fc.option(annotations, { nil: undefined }))
  .map(([oci, layers, subject, ann]) => ({
    schemaVersion: 2,
    mediaType: oci ? MediaType.OciManifest : MediaType.DockerManifest,
    config: { mediaType: oci ? MediaType.OciConfig : MediaType.DockerConfig, digest: layers[0]!.digest, size: 100 },
    layers,
    ...(subject && oci ? { subject } : {}),
    ...(ann ? { annotations: ann } : {}),
  }));

export const indexArb = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(descriptorArb(fc.constantFrom(MediaType.OciManifest, MediaType.DockerManifest, MediaType.OciIndex)), fc.option(platformArb, { nil: undefined })), { maxLength: 4 }))
  .map(([oci, ms]) => ({
    schemaVersion: 2,
    mediaType: oci ? MediaType.OciIndex : MediaType.DockerManifestList,
    manifests: ms.map(([d, p]) => (p ? { ...d, platform: p } : d)),
  }));

const dateArb = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
export const configArb = fc.record(
  {
    architecture: fc.constantFrom('amd64', 'arm64'),
    os: fc.constant('linux'),
    created: dateArb,
    author: small,
    config: fc.record(
      {
        User: fc.constantFrom('', 'root', '1000:1000', 'nobody'),
        Env: fc.array(fc.tuple(fc.stringMatching(/^[A-Z_]{1,8}$/), small).map(([k, v]) => `${k}=${v}`), { maxLength: 3 }),
        Entrypoint: fc.array(small, { maxLength: 2 }),
        Cmd: fc.option(fc.array(small, { maxLength: 2 })),
        WorkingDir: small,
        Labels: fc.option(fc.dictionary(small, small, { maxKeys: 3 })),
        ExposedPorts: fc.dictionary(fc.constantFrom('80/tcp', '443/tcp', '53/udp'), fc.constant({}), { maxKeys: 2 }),
        Volumes: fc.option(fc.dictionary(fc.constantFrom('/data', '/var/lib/x'), fc.constant({}), { maxKeys: 2 })),
        StopSignal: fc.constantFrom('SIGTERM', '9'),
        ArgsEscaped: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    rootfs: fc.record({ type: fc.constant('layers'), diff_ids: fc.array(digestArb, { maxLength: 4 }) }),
    history: fc.array(fc.record({ created: dateArb, created_by: small, empty_layer: fc.boolean(), comment: small }, { requiredKeys: [] }), { maxLength: 4 }),
  },
  { requiredKeys: ['architecture', 'os', 'rootfs'] },
);
