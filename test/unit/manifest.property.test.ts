/**
 * Whatever bytes arrive, parsing ends in a result or a VouchError: never a
 * TypeError, RangeError or stack overflow from inside the validator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VouchError } from '../../src/core/errors.js';
import { MediaType } from '../../src/core/oci/mediatypes.js';
import { parseConfig, parseManifest, parseOciLayoutFile, selectPlatform, validateDescriptor } from '../../src/core/oci/manifest.js';

function resultOrVouchError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof VouchError)) throw e;
    assert.ok(!e.message.includes('\n'), 'error messages are one line');
  }
}

const hints = fc.constantFrom(undefined, MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList, 'application/x-weird', '');

const everyParser = (bytes: Uint8Array, hint: string | undefined) => {
  resultOrVouchError(() => parseManifest(bytes, 'm', hint));
  resultOrVouchError(() => parseConfig(bytes, 'c'));
  resultOrVouchError(() => parseOciLayoutFile(bytes, 'l'));
};

test('any bytes: a result or a VouchError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), hints, (b, h) => everyParser(b, h)),
    { numRuns: 500 },
  );
});

test('any JSON value: a result or a VouchError', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), hints, (v, h) => {
      const bytes = Buffer.from(JSON.stringify(v) ?? 'null');
      everyParser(bytes, h);
      resultOrVouchError(() => validateDescriptor(v, 'd'));
    }),
    { numRuns: 500 },
  );
});

/** Values that look almost right hit the deeper branches. */
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

test('near-miss manifests, indexes and configs: a result or a VouchError', () => {
  fc.assert(
    fc.property(
      fc.record(
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
      ),
      hints,
      (doc, hint) => {
        const bytes = Buffer.from(JSON.stringify(doc));
        everyParser(bytes, hint);
        resultOrVouchError(() => {
          const p = parseManifest(bytes, 'm', hint);
          if (p.kind === 'index') selectPlatform(p.index, { os: 'linux', architecture: 'amd64' });
        });
      },
    ),
    { numRuns: 1000 },
  );
});

test('deeply nested JSON does not overflow the stack', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  everyParser(Buffer.from(deep), undefined);
  const deepAnn = `{"schemaVersion":2,"config":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)},"layers":[]}`;
  everyParser(Buffer.from(deepAnn), undefined);
});
