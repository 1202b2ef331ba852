/**
 * Inputs the trust/approval fuzz targets (test/fuzz/targets/trust-*.ts) found,
 * minimised, each kept as a regular test: what vouch must answer for it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VouchError } from '../../src/core/errors.js';
import { parseApproval } from '../../src/core/approval/verify.js';
import { parseStatement } from '../../src/core/trust/attestation.js';
import { verifyBundleSync } from '../../src/core/trust/bundle.js';
import { parseSimpleSigningPayload } from '../../src/core/trust/simple-signing.js';
import { loadTrustedRoot } from '../../src/core/trust/trusted-root.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const cases = join(fixtures, 'sigstore-conformance/bundle-verify');
const IDENTITY = {
  identity: {
    issuer: 'https://token.actions.githubusercontent.com',
    subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
  },
};
const artifact = { kind: 'bytes' as const, bytes: readFileSync(join(cases, 'a.txt')) };

function rekor2(name = 'rekor2-happy-path') {
  return { bundle: JSON.parse(readFileSync(join(cases, name, 'bundle.sigstore.json'), 'utf8')), root: loadTrustedRoot(join(cases, name, 'trusted_root.json')) };
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

test('a Rekor v2 entry whose logIndex is not the one its inclusion proof proves is refused (nothing signs it)', () => {
  const { bundle, root } = rekor2();
  const ok = verifyBundleSync(JSON.stringify(bundle), artifact, IDENTITY, root);
  assert.equal(ok.verified, true, ok.message);
  const entry = bundle.verificationMaterial.tlogEntries[0];
  assert.equal(entry.inclusionPromise, undefined, 'the fixture has no SET: only the proof vouches for the index');
  for (const logIndex of [String(Number(entry.logIndex) + 1), '0', undefined]) {
    const b = structuredClone(bundle);
    if (logIndex === undefined) delete b.verificationMaterial.tlogEntries[0].logIndex;
    else b.verificationMaterial.tlogEntries[0].logIndex = logIndex;
    const r = verifyBundleSync(JSON.stringify(b), artifact, IDENTITY, root);
    assert.equal(r.verified, false, `logIndex ${logIndex}: ${r.message}`);
    assert.equal(r.reason, 'TLOG_INVALID');
    assert.match(r.message, /logIndex/);
  }
});

test('an integratedTime without a signed entry timestamp is never reported as the signing time', () => {
  const { bundle, root } = rekor2();
  const ok = verifyBundleSync(JSON.stringify(bundle), artifact, IDENTITY, root);
  assert.equal(ok.verified, true, ok.message);
  assert.ok(ok.signedAt, 'the timestamp authority proves a time');
  const b = structuredClone(bundle);
  b.verificationMaterial.tlogEntries[0].integratedTime = '1000000000'; // 2001: unsigned, made up
  const r = verifyBundleSync(JSON.stringify(b), artifact, IDENTITY, root);
  if (r.verified) {
    assert.equal(r.signedAt, ok.signedAt);
    assert.equal(r.tlog?.integratedTime, null);
  } else assert.equal(r.reason, 'TLOG_INVALID');
});

test('an approval file nested thousands deep is a typed error, not a stack overflow', () => {
  for (const text of [`{"a":${deep(20000)}}`, `{"mediaType":${deep(20000)}}`]) {
    assert.throws(() => parseApproval(Buffer.from(text), '/tmp/deep.sigstore.json'), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_BUNDLE' && !/\n/.test(e.message));
  }
});

test('an in-toto statement whose _type is nested thousands deep is refused with a reason', () => {
  const r = parseStatement(Buffer.from(`{"_type":${deep(20000)},"subject":[],"predicateType":"x"}`));
  assert.equal(typeof r, 'string');
  assert.match(r as string, /not an in-toto Statement/);
});

test('a simple-signing payload whose type is nested thousands deep is refused with a reason', () => {
  const r = parseSimpleSigningPayload(Buffer.from(`{"critical":{"type":${deep(20000)}}}`));
  assert.equal(typeof r, 'string');
  assert.match(r as string, /payload type/);
});

test('a cosign signature whose certificate has a malformed extension is a failed verification, not a TypeError', async () => {
  const { verifySimpleSigning } = await import('../../src/core/trust/simple-signing.js');
  const { parseCertificate, fulcioExtensions, certificateSubject, issuerConflict } = await import('../../src/core/trust/certificate.js');
  const { TrustInputError } = await import('../../src/core/trust/reasons.js');
  const dir = join(fixtures, 'containers-image/signature/fixtures/dir-img-cosign-fulcio-rekor-valid');
  const raw = readFileSync(join(dir, 'signature-1'));
  const doc = JSON.parse(raw.subarray('\x00sigstore-json\n'.length).toString('utf8'));
  const pem: string = doc.annotations['dev.sigstore.cosign/certificate'];
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s+/g, ''), 'base64');
  // The first extension (keyUsage, 2.5.29.15) tagged NULL: same length, no parts inside.
  const at = der.indexOf(Buffer.from('0603551d0f', 'hex')) - 2;
  assert.equal(der[at], 0x30);
  der[at] = 0x05;
  const bad = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  assert.throws(() => parseCertificate(bad), (e: unknown) => e instanceof TrustInputError && /X\.509/.test(e.message));
  for (const f of [fulcioExtensions, issuerConflict]) assert.throws(() => f(bad), TrustInputError);
  assert.throws(() => certificateSubject(parseCertificate(bad)), TrustInputError);
  const bytes = Buffer.from(doc.payload, 'base64');
  const layer = { mediaType: doc.mimeType, digest: 'sha256:' + 'a'.repeat(64), size: bytes.length, annotations: { ...doc.annotations, 'dev.sigstore.cosign/certificate': bad }, bytes };
  const r = verifySimpleSigning(layer, { signers: [{ name: 'mitr', type: 'keyless', issuer: 'https://github.com/login/oauth', subject: 'mitr@redhat.com' }], trustedRoot: loadTrustedRoot(join(fixtures, 'sigstore-python-trust/prod/trusted_root.json')), subjects: new Set(), requireTlog: true });
  assert.equal(r.verified, false);
  assert.equal(r.reason, 'CERT_CHAIN_INVALID');
});

// yaml's own duplicate-key check (uniqueKeys) scans the mapping for every key: 16,000 keys took 15 s, and a
// 16 MB manifest holds a million. A quadratic check would take minutes here: the test's timeout is the guard.
test('a manifest with one mapping of 40,000 keys is read in linear time (the gate reads pull requests)', { timeout: 30_000 }, async () => {
  const { workloadImages } = await import('../../src/core/approval/workloads.js');
  const keys = Array.from({ length: 40_000 }, (_, i) => `    k${i}: v`).join('\n');
  const found = workloadImages(`kind: Pod\nmetadata:\n  name: p\n  labels:\n${keys}\nspec:\n  containers: [{name: c, image: busybox}]\n`, 'big.yaml');
  assert.equal(found.length, 1);
  // Back to the event loop: an expired timeout fires here (a synchronous test would pass whatever it took).
  await new Promise((r) => setImmediate(r));
});

test('duplicate keys are still refused by every YAML reader, with the line', async () => {
  const { workloadImages } = await import('../../src/core/approval/workloads.js');
  const { parsePolicy } = await import('../../src/core/checks/policy.js');
  const { parseReleaseFile } = await import('../../src/core/review/release.js');
  const { parseTrustFile } = await import('../../src/core/trust/trust-file.js');
  const dup = /not valid YAML: Map keys must be unique at line \d+/;
  assert.throws(() => workloadImages('kind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n    "image": y\n', 'w.yaml'), dup);
  assert.throws(() => workloadImages('services:\n  a: {image: x}\n  a: {image: y}\n', 'c.yaml'), dup);
  assert.throws(() => parsePolicy('failOn: high\nfailOn: low\n', 'p.yaml'), dup);
  assert.throws(() => parseReleaseFile('name: a\nversion: "1"\nimages: {x: y, x: z}\ntrust: t\n', '/r/vouch.release.yaml'), dup);
  await assert.rejects(() => parseTrustFile('signers: []\nsigners: []\n', '/r/vouch.trust.yaml'), dup);
  // Keys equal as YAML values are duplicates (1 and 1.0); a number and a string are not.
  assert.throws(() => parsePolicy('checks:\n  1: {}\n  1.0: {}\n', 'p.yaml'), dup);
});

test('an approval without the timestampVerificationData vouch writes is refused (nothing unsigned may vary)', async () => {
  const { makeReviewers } = await import('../helpers/approval.js');
  const { writeApproval } = await import('../helpers/approved.js');
  const { verifyApprovalSignature } = await import('../../src/core/approval/verify.js');
  const rv = await makeReviewers(['alice']);
  const digest = `sha256:${'a'.repeat(64)}`;
  const path = await writeApproval(rv, 'alice', [{ name: 'registry.example.com/payments/api', digest }], rv.dir, 'alice');
  const trust = await rv.trust(['alice']);
  const text = readFileSync(path, 'utf8');
  assert.equal(verifyApprovalSignature(parseApproval(Buffer.from(text), path), digest, trust).verified, true);
  const b = JSON.parse(text);
  assert.deepEqual(b.verificationMaterial.timestampVerificationData, {}, 'what vouch writes for a key signature without a TSA');
  delete b.verificationMaterial.timestampVerificationData;
  assert.throws(() => parseApproval(Buffer.from(JSON.stringify(b)), path), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_BUNDLE' && /timestampVerificationData/.test(e.message));
});

test('vouch attach: an approval whose verification material has the wrong types is refused naming the field, not a TypeError', async () => {
  const { readApprovalBundle, cosignAttestationLayer } = await import('../../src/core/approval/attach.js');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'vouch-attach-'));
  const payload = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://vouch.dev/approval/v1', subject: [] })).toString('base64');
  const cases: Array<[unknown, RegExp]> = [
    [{ certificate: { rawBytes: 1 } }, /certificate\.rawBytes/],
    [{ x509CertificateChain: { certificates: {} } }, /x509CertificateChain\.certificates/],
    [{ tlogEntries: [{ inclusionPromise: { signedEntryTimestamp: 'AA==' }, canonicalizedBody: 'AA==', logId: { keyId: 5 } }] }, /tlogEntries\[0\]\.logId\.keyId/],
    [{ timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: [] }] } }, /rfc3161Timestamps\[0\]\.signedTimestamp/],
    ['material', /verificationMaterial/],
  ];
  for (const [vm, field] of cases) {
    const path = join(dir, 'a.sigstore.json');
    writeFileSync(path, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: vm, dsseEnvelope: { payload, payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'AA==' }] } }));
    await assert.rejects(
      async () => cosignAttestationLayer(await readApprovalBundle(path)),
      (e: unknown) => e instanceof VouchError && e.code === 'INVALID_BUNDLE' && field.test(e.message),
      JSON.stringify(vm),
    );
  }
});
