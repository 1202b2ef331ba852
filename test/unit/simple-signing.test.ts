/**
 * cosign simple-signing verification against containers/image's own fixtures
 * (test/fixtures/containers-image, MANIFEST.md §6) with upstream's expected outcomes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AttachedLayer } from '../../src/core/trust/attachments.js';
import { certificateSubject, fulcioExtensions, parseCertificate, splitPemCertificates, verifyCertificateChain } from '../../src/core/trust/certificate.js';
import type { CosignVerifyContext } from '../../src/core/trust/cosign-signer.js';
import { describeKey } from '../../src/core/trust/prehash.js';
import { verifyRekorAnnotation } from '../../src/core/trust/rekor-set.js';
import { defaultTrustedRoot, trustedRootFromPems } from '../../src/core/trust/trusted-root.js';
import { verifySimpleSigning } from '../../src/core/trust/simple-signing.js';
import { parseTrustFile, type TrustedSigner } from '../../src/core/trust/trust-file.js';

const FIX = fileURLToPath(new URL('../fixtures/containers-image/signature/', import.meta.url));
const f = (p: string): string => readFileSync(join(FIX, 'fixtures', p), 'utf8');

function layerOf(path: string): AttachedLayer {
  const raw = readFileSync(path);
  const header = Buffer.from('\x00sigstore-json\n');
  assert.ok(raw.subarray(0, header.length).equals(header), `${path}: containers/image sigstore-json header`);
  const doc = JSON.parse(raw.subarray(header.length).toString('utf8')) as { mimeType: string; payload: string; annotations: Record<string, string> };
  const bytes = Buffer.from(doc.payload, 'base64');
  return { mediaType: doc.mimeType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, annotations: doc.annotations, bytes };
}

function dir(name: string): { layers: AttachedLayer[]; subjects: Set<string> } {
  const d = join(FIX, 'fixtures', name);
  const layers = readdirSync(d).filter((n) => n.startsWith('signature-')).sort().map((n) => layerOf(join(d, n)));
  const m = join(d, 'manifest.json');
  const subjects = new Set(existsSync(m) ? [`sha256:${createHash('sha256').update(readFileSync(m)).digest('hex')}`] : []);
  return { layers, subjects };
}

const keySigner = (name: string, pem: string): TrustedSigner => ({ name, type: 'key', keyPath: name, publicKeyPem: pem, key: describeKey(pem) });
const cosignPub = keySigner('cosign', f('cosign.pub'));
const cosign2Pub = keySigner('cosign2', f('cosign2.pub'));
// The public-good CT logs (from the shipped trusted root): the Fulcio certificate's SCT is checked against them.
const ctKeyPems = defaultTrustedRoot().ctlogs.map((l) => l.publicKey.export({ format: 'pem', type: 'spki' }).toString());
const rekorAnchors = trustedRootFromPems({ rekorKeyPems: [f('rekor.pub')], caPems: [f('fulcio_v1.crt.pem')], ctKeyPems }, 'containers-image fixtures');
const noAnchors = trustedRootFromPems({}, 'no anchors');

function ctx(signers: TrustedSigner[], subjects: Set<string>, anchors = noAnchors, requireTlog = false): CosignVerifyContext {
  return { signers, trustedRoot: anchors, subjects, requireTlog };
}

test('dir-img-cosign-valid: ACCEPT under cosign.pub', () => {
  const { layers, subjects } = dir('dir-img-cosign-valid');
  const r = verifySimpleSigning(layers[0]!, ctx([cosignPub], subjects));
  assert.equal(r.reason, 'OK', r.message);
  assert.equal(r.verified, true);
  assert.equal(r.signer?.type, 'key');
  assert.equal(r.signer?.trustedAs, 'cosign');
  assert.equal(r.signer?.keyId, cosignPub.type === 'key' ? cosignPub.key.keyId : '');
  assert.equal(r.payload?.dockerReference, '192.168.64.2:5000/cosign-signed-single-sample');
});

test('dir-img-cosign-valid under another key: UNTRUSTED/INVALID, never OK', () => {
  const { layers, subjects } = dir('dir-img-cosign-valid');
  const r = verifySimpleSigning(layers[0]!, ctx([cosign2Pub], subjects));
  assert.equal(r.verified, false);
  assert.equal(r.reason, 'SIGNATURE_INVALID');
});

test('dir-img-cosign-valid-2: both signatures ACCEPT', () => {
  const { layers, subjects } = dir('dir-img-cosign-valid-2');
  assert.equal(layers.length, 2);
  for (const l of layers) assert.equal(verifySimpleSigning(l, ctx([cosignPub], subjects)).reason, 'OK');
});

test('dir-img-cosign-mixed: signature-1 (unknown key) invalid, signature-2 valid → image accepted', () => {
  const { layers, subjects } = dir('dir-img-cosign-mixed');
  const rs = layers.map((l) => verifySimpleSigning(l, ctx([cosignPub], subjects)));
  assert.deepEqual(rs.map((r) => r.reason), ['SIGNATURE_INVALID', 'OK']);
});

test('dir-img-cosign-valid-with-tag: ACCEPT', () => {
  const { layers, subjects } = dir('dir-img-cosign-valid-with-tag');
  assert.equal(verifySimpleSigning(layers[0]!, ctx([cosignPub], subjects)).reason, 'OK');
});

test('dir-img-cosign-key-rekor-valid: ACCEPT with the SET; REJECT without it (tlog required), tampered, or with another Rekor key', () => {
  const { layers, subjects } = dir('dir-img-cosign-key-rekor-valid');
  const l = layers[0]!;
  const ok = verifySimpleSigning(l, ctx([cosign2Pub], subjects, rekorAnchors, true));
  assert.equal(ok.reason, 'OK', ok.message);
  assert.ok(ok.tlog && ok.tlog.logIndex >= 0 && ok.tlog.proof === 'signed-entry-timestamp');

  const noSet = { ...l, annotations: { ...l.annotations } };
  delete noSet.annotations['dev.sigstore.cosign/bundle'];
  assert.equal(verifySimpleSigning(noSet, ctx([cosign2Pub], subjects, rekorAnchors, true)).reason, 'TLOG_MISSING');

  const set = JSON.parse(l.annotations['dev.sigstore.cosign/bundle']!);
  set.Payload.integratedTime += 1;
  const tampered = { ...l, annotations: { ...l.annotations, 'dev.sigstore.cosign/bundle': JSON.stringify(set) } };
  assert.equal(verifySimpleSigning(tampered, ctx([cosign2Pub], subjects, rekorAnchors, true)).reason, 'TLOG_INVALID');

  const wrongRekor = trustedRootFromPems({ rekorKeyPems: [f('cosign.pub')] });
  assert.equal(verifySimpleSigning(l, ctx([cosign2Pub], subjects, wrongRekor, true)).reason, 'TLOG_INVALID');
});

test('dir-img-cosign-fulcio-rekor-valid: keyless ACCEPT for mitr@redhat.com; REJECT without SET, certificate, chain, or for another email', async () => {
  const { layers, subjects } = dir('dir-img-cosign-fulcio-rekor-valid');
  const l = layers[0]!;
  const trust = await parseTrustFile(
    'signers:\n  - name: mitr\n    keyless: {issuer: "https://github.com/login/oauth", subject: mitr@redhat.com}\n',
    '/nonexistent/vouch.trust.yaml',
  );
  const ok = verifySimpleSigning(l, ctx(trust.signers, subjects, rekorAnchors));
  assert.equal(ok.reason, 'OK', ok.message);
  assert.equal(ok.signer?.type, 'keyless');
  assert.equal(ok.signer?.subject, 'mitr@redhat.com');
  assert.equal(ok.signer?.issuer, 'https://github.com/login/oauth');
  assert.equal(ok.signer?.trustedAs, 'mitr');
  assert.match(ok.tlog?.integratedTime ?? '', /^20\d\d-/);

  const without = (k: string) => {
    const a = { ...l.annotations };
    delete a[k];
    return verifySimpleSigning({ ...l, annotations: a }, ctx(trust.signers, subjects, rekorAnchors));
  };
  assert.equal(without('dev.sigstore.cosign/bundle').reason, 'TLOG_MISSING');
  assert.equal(without('dev.sigstore.cosign/chain').reason, 'CERT_CHAIN_INVALID');
  assert.equal(without('dev.sigstore.cosign/certificate').verified, false);

  const other = await parseTrustFile('signers:\n  - name: x\n    keyless: {issuer: "https://github.com/login/oauth", subject: someone@example.com}\n', '/x/vouch.trust.yaml');
  assert.equal(verifySimpleSigning(l, ctx(other.signers, subjects, rekorAnchors)).reason, 'UNTRUSTED_SIGNER');
  // Unanchored-regexp bypass: a pattern that matches a substring must not match.
  const partial = await parseTrustFile('signers:\n  - name: x\n    keyless: {issuer: "https://github.com/login/oauth", subjectRegExp: "mitr"}\n', '/x/vouch.trust.yaml');
  assert.equal(verifySimpleSigning(l, ctx(partial.signers, subjects, rekorAnchors)).reason, 'UNTRUSTED_SIGNER');
  const anchored = await parseTrustFile('signers:\n  - name: x\n    keyless: {issuer: "https://github.com/login/oauth", subjectRegExp: "mitr@redhat\\\\.com"}\n', '/x/vouch.trust.yaml');
  assert.equal(verifySimpleSigning(l, ctx(anchored.signers, subjects, rekorAnchors)).reason, 'OK');
  // Without the Fulcio CA the certificate chains nowhere.
  const noCa = trustedRootFromPems({ rekorKeyPems: [f('rekor.pub')], ctKeyPems });
  assert.equal(verifySimpleSigning(l, ctx(trust.signers, subjects, noCa)).reason, 'CERT_CHAIN_INVALID');
  // Without the CT log that issued its SCT, the certificate was never publicly logged as far as this root knows.
  const noCt = trustedRootFromPems({ rekorKeyPems: [f('rekor.pub')], caPems: [f('fulcio_v1.crt.pem')] });
  const sct = verifySimpleSigning(l, ctx(trust.signers, subjects, noCt));
  assert.equal(sct.reason, 'SCT_INVALID', sct.message);
});

test('dir-img-cosign-modified-manifest: SUBJECT_MISMATCH', () => {
  const { layers, subjects } = dir('dir-img-cosign-modified-manifest');
  assert.equal(verifySimpleSigning(layers[0]!, ctx([cosignPub], subjects)).reason, 'SUBJECT_MISMATCH');
});

test('dir-img-cosign-no-manifest and -manifest-digest-error: REJECT', () => {
  for (const name of ['dir-img-cosign-no-manifest', 'dir-img-cosign-manifest-digest-error']) {
    const { layers, subjects } = dir(name);
    const r = verifySimpleSigning(layers[0]!, ctx([cosignPub], subjects));
    assert.equal(r.verified, false, name);
    assert.equal(r.reason, 'SUBJECT_MISMATCH', name);
  }
});

test('dir-img-cosign-other-attachment: not a signature', () => {
  const { layers, subjects } = dir('dir-img-cosign-other-attachment');
  assert.equal(verifySimpleSigning(layers[0]!, ctx([cosignPub], subjects)).reason, 'PAYLOAD_TYPE_INVALID');
});

test('dir-img-unsigned: nothing to verify', () => {
  assert.equal(dir('dir-img-unsigned').layers.length, 0);
});

test('fulcio-cert + fulcio-chain verify against fulcio_v1 at 1670870899 (issuer, email); fail without chain', () => {
  const leaf = parseCertificate(f('fulcio-cert'));
  const chain = splitPemCertificates(f('fulcio-chain'));
  const at = new Date(1670870899 * 1000);
  const ok = verifyCertificateChain(leaf, chain, rekorAnchors, at);
  assert.ok('ok' in ok, JSON.stringify(ok));
  assert.equal(ok.path.length, 3);
  assert.equal('ok' in verifyCertificateChain(leaf, [], rekorAnchors, at), false);
  assert.equal((verifyCertificateChain(leaf, chain, rekorAnchors, new Date()) as { reason: string }).reason, 'CERT_EXPIRED_AT_SIGNING');
  assert.equal(certificateSubject(leaf), 'mitr@redhat.com');
  assert.equal(fulcioExtensions(leaf).issuer, 'https://github.com/login/oauth');
});

test('rekor-set verifies under rekor.pub with integratedTime 1670870899, fails under another key', () => {
  const T = join(FIX, 'internal', 'testdata');
  const set = readFileSync(join(T, 'rekor-set'), 'utf8');
  const ok = verifyRekorAnnotation(set, trustedRootFromPems({ rekorKeyPems: [readFileSync(join(T, 'rekor.pub'), 'utf8')] }));
  assert.ok(ok.ok, ok.ok ? '' : ok.message);
  assert.equal(ok.integratedTime, 1670870899);
  assert.equal(ok.evidence.integratedTime, new Date(1670870899 * 1000).toISOString());
  assert.equal(verifyRekorAnnotation(set, trustedRootFromPems({ rekorKeyPems: [f('cosign.pub')] })).ok, false);
  assert.equal(verifyRekorAnnotation('{"SignedEntryTimestamp": 1}', trustedRootFromPems({})).ok, false);
});

test('dir-img-cosign-pki-valid: ACCEPT under an explicit `ca` signer (roots + intermediates, email and host), no log; REJECT without it or for another name', async () => {
  const { layers, subjects } = dir('dir-img-cosign-pki-valid');
  const l = layers[0]!;
  const at = join(FIX, 'fixtures', 'vouch.trust.yaml');
  const trust = await parseTrustFile(
    'signers:\n  - name: team-a\n    ca: {roots: ./pki_root_crts.pem, intermediates: ./pki_intermediate_crts.pem, subjectEmail: qiwan@redhat.com, subjectHostname: myhost.example.com}\n',
    at,
  );
  const ok = verifySimpleSigning(l, ctx(trust.signers, subjects, rekorAnchors));
  assert.equal(ok.reason, 'OK', ok.message);
  assert.equal(ok.signer?.type, 'ca');
  assert.equal(ok.signer?.trustedAs, 'team-a');
  assert.equal(ok.tlog, null);
  assert.match(ok.message, /no transparency log entry/);
  // Without a `ca` signer the same certificate is just a certificate from an unknown CA, with no log entry.
  const fulcioOnly = await parseTrustFile('signers:\n  - name: x\n    keyless: {issuer: i, subject: qiwan@redhat.com}\n', at);
  assert.equal(verifySimpleSigning(l, ctx(fulcioOnly.signers, subjects, rekorAnchors)).reason, 'TLOG_MISSING');
  const otherEmail = await parseTrustFile('signers:\n  - name: team-b\n    ca: {roots: ./pki_root_crts.pem, intermediates: ./pki_intermediate_crts.pem, subjectEmail: someone@redhat.com}\n', at);
  assert.equal(verifySimpleSigning(l, ctx(otherEmail.signers, subjects, rekorAnchors)).verified, false);
  const otherHost = await parseTrustFile('signers:\n  - name: team-b\n    ca: {roots: ./pki_root_crts.pem, intermediates: ./pki_intermediate_crts.pem, subjectHostname: other.example.com}\n', at);
  assert.equal(verifySimpleSigning(l, ctx(otherHost.signers, subjects, rekorAnchors)).verified, false);
  // The intermediates are needed (the signature's chain annotation holds them too, but only as untrusted helpers to the roots).
  const wrongRoot = await parseTrustFile('signers:\n  - name: team-b\n    ca: {roots: ./fulcio_v1.crt.pem, subjectEmail: qiwan@redhat.com}\n', at);
  assert.equal(verifySimpleSigning(l, ctx(wrongRoot.signers, subjects, rekorAnchors)).verified, false);
});
