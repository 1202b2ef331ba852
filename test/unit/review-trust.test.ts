/**
 * Security review of signature verification (issue 4): each test is a way
 * `vouch chain` could say "verified/trusted" when it must not.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import { verifyAttachedBundle } from '../../src/core/trust/attached-bundle.js';
import type { AttachedLayer, Attachment } from '../../src/core/trust/attachments.js';
import { chainPasses, verifyAttachments } from '../../src/core/trust/chain.js';
import { describeKey } from '../../src/core/trust/prehash.js';
import { verifySimpleSigning } from '../../src/core/trust/simple-signing.js';
import { verifyDsseAttestation } from '../../src/core/trust/attestation.js';
import { parseTrustedRoot, trustedRootFromPems, type TrustedRoot } from '../../src/core/trust/trusted-root.js';
import { toSignerPolicy, type TrustFile, type TrustedSigner } from '../../src/core/trust/trust-file.js';
import { attestationLayer, signatureLayer, signWithKey, simpleSigningPayload, statement, type SignatureLayer } from '../helpers/cosign-sign.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

const ISSUER = 'https://token.actions.example.com';
const SUBJECT = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0';
const IMAGE = `sha256:${'ab'.repeat(32)}`;
const OTHER = `sha256:${'cd'.repeat(32)}`;
const SLSA = 'https://slsa.dev/provenance/v1';

const layer = (l: SignatureLayer): AttachedLayer => ({
  mediaType: l.mediaType,
  digest: `sha256:${createHash('sha256').update(l.bytes).digest('hex')}`,
  size: l.bytes.length,
  annotations: l.annotations,
  bytes: l.bytes,
});

const stubImage = {
  reference: 'example.test/app@' + IMAGE,
  digest: IMAGE,
  index: undefined,
  manifest: { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: OTHER, size: 2 }, layers: [] },
  config: {},
} as any;

describe('attached Sigstore bundle: an attestation must never count as a signature of the image', () => {
  let sig: SigstoreServices;
  let root: TrustedRoot;
  let trust: TrustFile;
  let canonical: any;

  before(async () => {
    sig = await startSigstoreServices();
    root = parseTrustedRoot(sig.trustedRoot, 'local sigstore services');
    const signers: TrustedSigner[] = [{ name: 'release-pipeline', type: 'keyless', issuer: ISSUER, subject: SUBJECT }];
    trust = { path: '(test)', signers, reviewers: [], require: {}, policy: toSignerPolicy(signers) };
    // An SLSA provenance attestation about the image, honestly signed by the trusted pipeline.
    // Padded so that its base64 form ends in '=' (length not a multiple of 3).
    let st = statement(IMAGE, SLSA, { buildDefinition: { buildType: 'x' } });
    for (let pad = 0; st.length % 3 === 0; pad++) st = statement(IMAGE, SLSA, { buildDefinition: { buildType: 'x' }, pad: 'x'.repeat(pad + 1) });
    const signed = await sig.signDsse(st, 'application/vnd.in-toto+json', { sub: SUBJECT, iss: ISSUER });
    canonical = bundleToJSON(signed.bundle);
  });
  after(async () => sig?.stop());

  test('baseline: the canonical attestation bundle verifies as an attestation', () => {
    const r = verifyAttachedBundle(Buffer.from(JSON.stringify(canonical)), [IMAGE], trust.policy, root);
    assert.equal(r.result.verified, true, r.result.message);
    assert.equal(r.role, 'attestation');
    assert.equal(r.predicateType, SLSA);
  });

  test('the same attestation with its DSSE payload re-encoded without padding is still an attestation, not a signature', async () => {
    const b = structuredClone(canonical);
    assert.ok(b.dsseEnvelope.payload.endsWith('='));
    b.dsseEnvelope.payload = b.dsseEnvelope.payload.replace(/=+$/, '');
    const r = verifyAttachedBundle(Buffer.from(JSON.stringify(b)), [IMAGE], trust.policy, root);
    assert.ok(!(r.role === 'signature' && r.result.verified), `an SLSA attestation was accepted as a signature of the image: ${JSON.stringify({ role: r.role, reason: r.result.reason })}`);

    // And `vouch chain` must not exit 0 on it.
    const attachment: Attachment = { kind: 'bundle', subject: IMAGE, via: 'referrers-tag', manifestDigest: OTHER, layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', digest: OTHER, size: 1, annotations: {}, bytes: Buffer.from(JSON.stringify(b)) }] };
    const report = await verifyAttachments(stubImage, [attachment], trust, { root, source: 'test' });
    assert.equal(report.json.signatures.filter((s) => s.verified).length, 0, JSON.stringify(report.json.signatures));
    assert.equal(chainPasses(report.json), false);
  });

  test('the same attestation with its DSSE signature in URL-safe base64 is still an attestation, not a signature', () => {
    const b = structuredClone(canonical);
    b.dsseEnvelope.signatures[0].sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64').toString('base64url');
    const r = verifyAttachedBundle(Buffer.from(JSON.stringify(b)), [IMAGE], trust.policy, root);
    assert.ok(!(r.role === 'signature' && r.result.verified), `an SLSA attestation was accepted as a signature of the image: ${JSON.stringify({ role: r.role, reason: r.result.reason })}`);
  });
});

describe('cosign .sig / .att: a failed verification names no trusted signer', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const signers: TrustedSigner[] = [{ name: 'release-key', type: 'key', keyPath: 'release.pub', publicKeyPem: pem, key: describeKey(pem), tlog: 'optional' }];
  const ctx = { signers, trustedRoot: trustedRootFromPems({}, 'none'), subjects: new Set([IMAGE]) };

  test('a trusted key signature for another image: SUBJECT_MISMATCH with trustedAs null', () => {
    const payload = simpleSigningPayload('example.test/other', OTHER);
    const r = verifySimpleSigning(layer(signatureLayer(payload, signWithKey(privateKey, payload))), ctx);
    assert.equal(r.verified, false);
    assert.equal(r.reason, 'SUBJECT_MISMATCH');
    assert.equal(r.signer?.trustedAs ?? null, null, 'a signature that did not verify for this image is not "trusted as" anything');
  });

  test('a trusted key attestation about another image: SUBJECT_MISMATCH with trustedAs null', () => {
    const r = verifyDsseAttestation(layer(attestationLayer(statement(OTHER, SLSA, {}), (pae) => signWithKey(privateKey, pae))), ctx);
    assert.equal(r.verified, false);
    assert.equal(r.reason, 'SUBJECT_MISMATCH');
    assert.equal(r.signer?.trustedAs ?? null, null);
  });

  test('a trusted key signature with a Rekor bundle annotation that does not verify: TLOG_INVALID with trustedAs null', () => {
    const payload = simpleSigningPayload('example.test/app', IMAGE);
    const rekor = JSON.stringify({ SignedEntryTimestamp: 'AAAA', Payload: { body: 'e30=', integratedTime: 1, logIndex: 1, logID: '00'.repeat(32) } });
    const r = verifySimpleSigning(layer(signatureLayer(payload, signWithKey(privateKey, payload), { rekor })), ctx);
    assert.equal(r.verified, false);
    assert.equal(r.reason, 'TLOG_INVALID');
    assert.equal(r.signer?.trustedAs ?? null, null);
  });
});

test('simple-signing payloads are read strictly: duplicate keys, case-variant keys and another type are refused', async () => {
  const { parseSimpleSigningPayload } = await import('../../src/core/trust/simple-signing.js');
  const D1 = `sha256:${'1'.repeat(64)}`;
  const D2 = `sha256:${'2'.repeat(64)}`;
  const good = `{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"${D1}"},"type":"cosign container image signature"},"optional":null}`;
  const ok = parseSimpleSigningPayload(Buffer.from(good));
  assert.equal(typeof ok === 'string' ? ok : ok.dockerManifestDigest, D1);
  const dup = good.replace(`"docker-manifest-digest":"${D1}"`, `"docker-manifest-digest":"${D1}","docker-manifest-digest":"${D2}"`);
  assert.match(String(parseSimpleSigningPayload(Buffer.from(dup))), /duplicate key/);
  const variant = good.replace(`"image":{"docker-manifest-digest":"${D1}"}`, `"image":{"docker-manifest-digest":"${D1}","Docker-Manifest-Digest":"${D2}"}`);
  assert.match(String(parseSimpleSigningPayload(Buffer.from(variant))), /case variant/);
  const upperType = good.replace('"cosign container image signature"', '"Cosign Container Image Signature"');
  assert.match(String(parseSimpleSigningPayload(Buffer.from(upperType))), /payload type/);
});
