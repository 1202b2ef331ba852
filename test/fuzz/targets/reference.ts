/** Image references: every transport's syntax, docker names, digests, tags. */
import fc from 'fast-check';
import { parseDockerReference, parseReference, formatReference } from '../../../src/core/ref/index.js';
import { fuzzTarget, typedError } from '../harness.js';
import { mutateString } from '../mutate.js';

const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+){0,2}$/).filter((s) => s.length <= 30);
const registryHost = fc.constantFrom('ghcr.io', 'localhost:5000', '127.0.0.1:5000', 'quay.io', 'docker.io', '[::1]:5000', 'registry-1.docker.io');
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const hex = fc.stringMatching(/^[a-f0-9]{64}$/);
const dockerRef = fc
  .tuple(fc.option(registryHost, { nil: undefined }), fc.array(component, { minLength: 1, maxLength: 3 }), fc.option(tag, { nil: undefined }), fc.option(hex, { nil: undefined }))
  .map(([r, parts, t, d]) => `${r ? `${r}/` : ''}${parts.join('/')}${t ? `:${t}` : ''}${d ? `@sha256:${d}` : ''}`);
const path = fc.constantFrom('/tmp/x', './img', 'a b/c', '/tmp/x.tar', 'C:\\img');
const validRef = fc.oneof(
  dockerRef,
  dockerRef.map((r) => `docker://${r}`),
  dockerRef.map((r) => `docker-daemon:${r}`),
  fc.tuple(path, fc.option(fc.oneof(tag, hex.map((h) => `@sha256:${h}`)), { nil: undefined })).map(([p, s]) => `oci:${p}${s ? (s.startsWith('@') ? s : `:${s}`) : ''}`),
  fc.tuple(path, fc.option(tag, { nil: undefined })).map(([p, t]) => `oci-archive:${p}${t ? `:${t}` : ''}`),
  fc.tuple(path, fc.option(dockerRef, { nil: undefined })).map(([p, t]) => `docker-archive:${p}${t ? `:${t}` : ''}`),
);
const prefixed = fc.constantFrom('oci:', 'docker://', 'docker-archive:', 'docker-daemon:', 'oci-archive:').chain((p) => fc.string({ maxLength: 200 }).map((s) => p + s));

export const reference = fuzzTarget({
  name: 'reference',
  entry: 'ref/parse.ts parseReference, parseDockerReference, formatReference',
  arbitrary: fc.oneof(validRef, mutateString(validRef), prefixed, fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })),
  run: (s: string) => {
    const r = parseReference(s);
    formatReference(r);
    parseDockerReference(s);
  },
  isExpectedError: typedError('INVALID_REFERENCE'),
  ciRuns: 1500,
});
