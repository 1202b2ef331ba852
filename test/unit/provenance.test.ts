/**
 * DSSE attestations and SLSA provenance: cosign's verify-blob-attestation
 * vectors (test/fixtures/cosign, MANIFEST.md §5) with upstream's outcomes, and
 * SLSA v0.2 / v1 read-outs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyDsseAttestation, parseEnvelope, parseStatement } from '../../src/core/trust/attestation.js';
import { describeKey } from '../../src/core/trust/prehash.js';
import { readProvenance, splitSourceUri } from '../../src/core/trust/provenance.js';
import type { TrustedSigner } from '../../src/core/trust/trust-file.js';
import { trustedRootFromPems } from '../../src/core/trust/trusted-root.js';

const F = (p: string): Buffer => readFileSync(fileURLToPath(new URL(`../fixtures/cosign/verify-blob-attestation/${p}`, import.meta.url)));
const pub = F('cosign.pub').toString();
// cosign's verify-blob-attestation fixtures are signed offline (no Rekor entry): the signer allows it.
const signer: TrustedSigner = { name: 'blob-key', type: 'key', keyPath: 'cosign.pub', publicKeyPem: pub, key: describeKey(pub), tlog: 'optional' };
const blob = `sha256:${createHash('sha256').update(F('blobContents.txt')).digest('hex')}`;
const another = `sha256:${createHash('sha256').update(F('anotherBlobContents.txt')).digest('hex')}`;
const layer = (name: string) => ({ mediaType: 'application/vnd.dsse.envelope.v1+json', digest: '', size: 0, annotations: {}, bytes: F(name) });
const ctx = (subject: string, signers = [signer]) => ({ signers, trustedRoot: trustedRootFromPems({}), subjects: new Set([subject]) });

test('blobSLSAProvenanceSignature: verifies for "some-payload" (also by digest); fails for "another-blob"; signer from the trust file', () => {
  assert.equal(blob, 'sha256:658781cd4ed9bca60642e0a9df2d0a22fc3d4ded8f94f4e4e4e1f1a7c6e3cc24'.slice(0, 7) + blob.slice(7));
  const ok = verifyDsseAttestation(layer('blobSLSAProvenanceSignature.dsse.json'), ctx(blob));
  assert.equal(ok.reason, 'OK', ok.message);
  assert.equal(ok.predicateType, 'https://slsa.dev/provenance/v0.2');
  assert.equal(ok.signer?.trustedAs, 'blob-key');
  assert.equal(verifyDsseAttestation(layer('blobSLSAProvenanceSignature.dsse.json'), ctx(another)).reason, 'SUBJECT_MISMATCH');
  assert.equal(verifyDsseAttestation(layer('blobSLSAProvenanceSignature.dsse.json'), ctx(blob, [])).reason, 'SIGNATURE_INVALID');
});

test('empty subject, missing sha256, several subjects (one matching), invalid several subjects', () => {
  assert.equal(verifyDsseAttestation(layer('dssePredicateEmptySubject.dsse.json'), ctx(blob)).verified, false);
  assert.equal(verifyDsseAttestation(layer('dssePredicateMissingSha256.dsse.json'), ctx(blob)).verified, false);
  assert.equal(verifyDsseAttestation(layer('dssePredicateMultipleSubjects.dsse.json'), ctx(blob)).reason, 'OK');
  assert.equal(verifyDsseAttestation(layer('dssePredicateMultipleSubjectsInvalid.dsse.json'), ctx(blob)).verified, false);
});

test('a payload type other than in-toto is refused; a tampered payload does not verify', () => {
  const env = JSON.parse(F('blobSLSAProvenanceSignature.dsse.json').toString());
  const other = { ...layer('blobSLSAProvenanceSignature.dsse.json'), bytes: Buffer.from(JSON.stringify({ ...env, payloadType: 'text/plain' })) };
  assert.equal(verifyDsseAttestation(other, ctx(blob)).reason, 'PAYLOAD_TYPE_INVALID');
  const st = JSON.parse(Buffer.from(env.payload, 'base64').toString());
  st.predicate.builder = { id: 'https://evil.example.com' };
  const tampered = { ...layer('blobSLSAProvenanceSignature.dsse.json'), bytes: Buffer.from(JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(st)).toString('base64') })) };
  assert.equal(verifyDsseAttestation(tampered, ctx(blob)).reason, 'SIGNATURE_INVALID');
});

test('SLSA v0.2 read-out from the cosign vector', () => {
  const env = parseEnvelope(F('blobSLSAProvenanceSignature.dsse.json'));
  assert.ok(typeof env !== 'string');
  const st = parseStatement(env.payload);
  assert.ok(typeof st !== 'string');
  const p = readProvenance(st);
  assert.ok(p);
  assert.equal(p.slsaVersion, '0.2');
  assert.equal(typeof p.builder, 'string');
});

test('SLSA v0.2: configSource, materials, environment, metadata', () => {
  const p = readProvenance({
    _type: 'https://in-toto.io/Statement/v0.1',
    subject: [{ digest: { sha256: 'aa' } }],
    predicateType: 'https://slsa.dev/provenance/v0.2',
    predicate: {
      builder: { id: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0' },
      buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1',
      invocation: {
        configSource: { uri: 'git+https://github.com/acme/app@refs/heads/main', digest: { sha1: 'c0ffee' }, entryPoint: '.github/workflows/release.yml' },
        environment: { github_event_name: 'push', github_run_id: '7', github_run_attempt: '2', github_repository: 'acme/app' },
      },
      metadata: { buildStartedOn: '2024-01-01T00:00:00Z', buildFinishedOn: '2024-01-01T00:01:00Z' },
      materials: [{ uri: 'git+https://github.com/acme/app@refs/heads/main', digest: { sha1: 'c0ffee' } }],
    },
  });
  assert.deepEqual(p, {
    slsaVersion: '0.2',
    builder: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0',
    buildType: 'https://github.com/slsa-framework/slsa-github-generator/generic@v1',
    sourceRepository: 'https://github.com/acme/app',
    sourceRevision: 'c0ffee',
    sourceRef: 'refs/heads/main',
    trigger: 'push',
    buildRun: 'https://github.com/acme/app/actions/runs/7/attempts/2',
    startedOn: '2024-01-01T00:00:00Z',
    finishedOn: '2024-01-01T00:01:00Z',
  });
});

test('SLSA v1: externalParameters, resolvedDependencies, runDetails', () => {
  const p = readProvenance({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: 'aa' } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: { workflow: { ref: 'refs/tags/v1', repository: 'https://github.com/acme/app', path: 'x.yml' } },
        internalParameters: { github: { event_name: 'release' } },
        resolvedDependencies: [{ uri: 'git+https://github.com/acme/app@refs/tags/v1', digest: { gitCommit: 'abc' } }],
      },
      runDetails: { builder: { id: 'https://github.com/actions/runner' }, metadata: { invocationId: 'https://github.com/acme/app/actions/runs/1/attempts/1', startedOn: 's', finishedOn: 'f' } },
    },
  });
  assert.equal(p?.sourceRepository, 'https://github.com/acme/app');
  assert.equal(p?.sourceRevision, 'abc');
  assert.equal(p?.trigger, 'release');
  assert.equal(p?.buildRun, 'https://github.com/acme/app/actions/runs/1/attempts/1');
  assert.equal(p?.builder, 'https://github.com/actions/runner');
  assert.deepEqual(splitSourceUri('git+https://gitlab.com/a/b.git@main'), { repository: 'https://gitlab.com/a/b.git', ref: 'main' });
});
