/**
 * `vouch chain` against real signatures in a real registry (Debian's
 * docker-registry 2.8, no referrers API): images signed here the way cosign
 * signs them, key-based and keylessly against local Fulcio/Rekor/TSA built
 * from @sigstore/mock. Every forgery must be caught with its reason code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createHash, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/inspect.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import {
  attach,
  attachBundleReferrer,
  attestationLayer,
  pushImage,
  signatureLayer,
  signWithKey,
  simpleSigningPayload,
  statement,
  type PushedImage,
} from '../helpers/cosign-sign.js';

// Repositories unique to this run: CI runs the suite twice (Node 20, then 24) against the same registry, and referrers accumulate.
const NS = `chain-${process.pid}-${Date.now() % 1e6}`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const GOOD_SUBJECT = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0';
const REPO_URL = 'https://github.com/acme/app';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const RUN = 'https://github.com/acme/app/actions/runs/42/attempts/1';

const pemOf = (k: KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();
const hashedrekord = (payload: Buffer, sig: Buffer, keyOrCertPem: string): object => ({
  apiVersion: '0.0.1',
  kind: 'hashedrekord',
  spec: {
    data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } },
    signature: { content: sig.toString('base64'), publicKey: { content: Buffer.from(keyOrCertPem).toString('base64') } },
  },
});

const slsaV1 = {
  buildDefinition: {
    buildType: 'https://actions.github.io/buildtypes/workflow/v1',
    externalParameters: { workflow: { ref: 'refs/tags/v1.0.0', repository: REPO_URL, path: '.github/workflows/release.yml' } },
    internalParameters: { github: { event_name: 'push' } },
    resolvedDependencies: [{ uri: `git+${REPO_URL}@refs/tags/v1.0.0`, digest: { gitCommit: COMMIT } }],
  },
  runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' }, metadata: { invocationId: RUN, startedOn: '2025-01-01T00:00:00Z', finishedOn: '2025-01-01T00:05:00Z' } },
};

describe('vouch chain with real signatures in a real registry', { timeout: 120_000 }, () => {
  let reg: TestRegistry | undefined;
  let sig: SigstoreServices;
  let otherCa: SigstoreServices;
  let dir: string;
  let trustFile: string;
  const trusted = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const untrusted = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let keyed: PushedImage;
  let keyless: PushedImage;
  let forged: PushedImage;
  let multi: PushedImage;
  let otherSubject: PushedImage;
  let skip: string | undefined;

  before(async () => {
    reg = await startRegistry();
    if (!reg) {
      skip = 'docker-registry not installed';
      return;
    }
    sig = await startSigstoreServices();
    otherCa = await startSigstoreServices();
    dir = await mkdtemp(join(tmpdir(), 'vouch-chain-'));
    await writeFile(join(dir, 'trusted_root.json'), JSON.stringify(sig.trustedRoot));
    await writeFile(join(dir, 'cosign.pub'), pemOf(trusted.publicKey));
    trustFile = join(dir, 'vouch.trust.yaml');
    await writeFile(
      trustFile,
      [
        'trustedRoot: ./trusted_root.json',
        'signers:',
        '  - name: release-pipeline',
        `    keyless: {issuer: "${ISSUER}", subjectRegExp: '^https://github\\.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.+$'}`,
        '  - name: release-key',
        '    key: ./cosign.pub',
        '    tlog: optional', // the attestations and the index signature below are signed offline
        '',
      ].join('\n'),
    );
    const h = reg.host;
    const annotations = { 'org.opencontainers.image.source': REPO_URL, 'org.opencontainers.image.revision': COMMIT };

    // 1. key-signed image: valid signature (logged in Rekor), tampered payload, untrusted key; SLSA provenance; an attestation about another digest.
    keyed = await pushImage(h, `${NS}/keyed`, 'v1', { annotations, seed: 'keyed' });
    const payload = simpleSigningPayload(`${h}/${NS}/keyed`, keyed.digest);
    const good = signWithKey(trusted.privateKey, payload);
    const goodSet = await sig.logEntry(hashedrekord(payload, good, pemOf(trusted.publicKey)));
    const tampered = simpleSigningPayload(`${h}/${NS}/keyed`, keyed.digest, { note: 'altered after signing' });
    const untrustedPayload = simpleSigningPayload(`${h}/${NS}/keyed`, keyed.digest, { by: 'someone else' });
    const untrustedSig = signWithKey(untrusted.privateKey, untrustedPayload);
    const untrustedSet = await sig.logEntry(hashedrekord(untrustedPayload, untrustedSig, pemOf(untrusted.publicKey)));
    await attach(h, `${NS}/keyed`, keyed.digest, 'sig', [
      signatureLayer(payload, good, { rekor: goodSet }),
      signatureLayer(tampered, good),
      signatureLayer(untrustedPayload, untrustedSig, { rekor: untrustedSet }),
    ]);
    const signK = (pae: Buffer): Buffer => signWithKey(trusted.privateKey, pae);
    await attach(h, `${NS}/keyed`, keyed.digest, 'att', [
      attestationLayer(statement(keyed.digest, 'https://slsa.dev/provenance/v1', slsaV1), signK, { predicateType: 'https://slsa.dev/provenance/v1' }),
      attestationLayer(statement(`sha256:${'ab'.repeat(32)}`, 'https://slsa.dev/provenance/v1', slsaV1), signK, { predicateType: 'https://slsa.dev/provenance/v1' }),
    ]);

    // 2. keyless image: valid keyless signature, plus a Sigstore bundle v0.3 referrer.
    keyless = await pushImage(h, `${NS}/keyless`, 'v1', { seed: 'keyless' });
    const kp = simpleSigningPayload(`${h}/${NS}/keyless`, keyless.digest);
    const claims = { repository: 'acme/app', sha: COMMIT, event_name: 'push', run_id: '42', run_attempt: '1' };
    const ks = await sig.signMessage(kp, { sub: GOOD_SUBJECT, iss: ISSUER, claims });
    await attach(h, `${NS}/keyless`, keyless.digest, 'sig', [signatureLayer(kp, ks.signature, { cert: ks.certPem, chain: ks.chainPem, rekor: ks.rekorAnnotation! })]);
    const st = statement(keyless.digest, 'https://sigstore.dev/cosign/sign/v1', {});
    const bundled = await sig.signDsse(st, 'application/vnd.in-toto+json', { sub: GOOD_SUBJECT, iss: ISSUER, claims });
    await attachBundleReferrer(h, `${NS}/keyless`, keyless.manifest, bundleToJSON(bundled.bundle));

    // 2b. a valid keyless bundle, but its in-toto subject is another image's digest, attached to this one.
    otherSubject = await pushImage(h, `${NS}/bundle-other`, 'v1', { seed: 'bundle-other' });
    const elsewhere = await sig.signDsse(statement(keyless.digest, 'https://sigstore.dev/cosign/sign/v1', {}), 'application/vnd.in-toto+json', { sub: GOOD_SUBJECT, iss: ISSUER, claims });
    await attachBundleReferrer(h, `${NS}/bundle-other`, otherSubject.manifest, bundleToJSON(elsewhere.bundle));

    // 3. forgeries only: wrong subject identity, certificate from another CA, a log entry for another artifact.
    forged = await pushImage(h, `${NS}/forged`, 'v1', { seed: 'forged' });
    const fp = simpleSigningPayload(`${h}/${NS}/forged`, forged.digest);
    const wrongId = await sig.signMessage(fp, { sub: 'https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1', iss: ISSUER });
    const foreign = await otherCa.signMessage(fp, { sub: GOOD_SUBJECT, iss: ISSUER }, { tlog: false });
    const foreignSet = await sig.logEntry(hashedrekord(fp, foreign.signature, foreign.certPem));
    const fp2 = simpleSigningPayload(`${h}/${NS}/forged`, forged.digest, { second: true });
    const a = await sig.signMessage(fp, { sub: GOOD_SUBJECT, iss: ISSUER });
    const b = await sig.signMessage(fp2, { sub: GOOD_SUBJECT, iss: ISSUER });
    await attach(h, `${NS}/forged`, forged.digest, 'sig', [
      signatureLayer(fp, wrongId.signature, { cert: wrongId.certPem, chain: wrongId.chainPem, rekor: wrongId.rekorAnnotation! }),
      signatureLayer(fp, foreign.signature, { cert: foreign.certPem, chain: foreign.chainPem, rekor: foreignSet }),
      signatureLayer(fp, a.signature, { cert: a.certPem, chain: a.chainPem, rekor: b.rekorAnnotation! }),
    ]);

    // 4. multi-platform: cosign signed the index digest.
    multi = await pushImage(h, `${NS}/multi`, 'v1', { multiPlatform: true, seed: 'multi' });
    const mp = simpleSigningPayload(`${h}/${NS}/multi`, multi.index!.digest);
    await attach(h, `${NS}/multi`, multi.index!.digest, 'sig', [signatureLayer(mp, signWithKey(trusted.privateKey, mp))]);
  });

  after(async () => {
    await sig?.stop();
    await otherCa?.stop();
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const chain = async (ref: string, extra: string[] = []) => {
    const r = await runCli(['chain', ref, '--trust', trustFile, '--json', ...extra]);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    return { code: r.code, json: JSON.parse(r.stdout) };
  };

  test('key-signed chain: valid signature verifies with its log entry; tampered payload and untrusted key are caught', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(keyed.ref);
    assert.equal(code, 0);
    assert.equal(json.image.digest, keyed.digest);
    assert.deepEqual(Object.keys(json).sort(), ['approvals', 'attestations', 'image', 'index', 'provenance', 'signatures', 'traceability', 'trust', 'warnings']);
    assert.deepEqual(json.warnings.map((w: string) => w.split(':')[0]), ['trust file signer "release-pipeline"'], 'its subjectRegExp pins no repository');
    assert.equal(json.index, null);
    assert.deepEqual(json.trust, { file: trustFile, implicit: false, trustedRoot: join(dir, 'trusted_root.json') });
    const [valid, tampered, other] = json.signatures;
    assert.equal(valid.kind, 'cosign');
    assert.equal(valid.verified, true);
    assert.equal(valid.reason, 'OK');
    assert.deepEqual(Object.keys(valid.signer).sort(), ['issuer', 'keyId', 'subject', 'trustedAs', 'type']);
    assert.equal(valid.signer.type, 'key');
    assert.equal(valid.signer.trustedAs, 'release-key');
    assert.ok(valid.tlog && Number.isInteger(valid.tlog.logIndex) && typeof valid.tlog.integratedTime === 'string');
    assert.equal(tampered.verified, false);
    assert.equal(tampered.reason, 'SIGNATURE_INVALID');
    assert.equal(other.verified, false);
    assert.equal(other.reason, 'UNTRUSTED_SIGNER');
    assert.equal(other.signer.trustedAs, null);
  });

  test('attestations: SLSA v1 provenance verifies and is read out; an attestation about another digest is SUBJECT_MISMATCH; traceability agrees', async (t) => {
    if (skip) return t.skip(skip);
    const { json } = await chain(keyed.ref);
    assert.equal(json.attestations.length, 2);
    assert.equal(json.attestations[0].verified, true);
    assert.equal(json.attestations[0].predicateType, 'https://slsa.dev/provenance/v1');
    assert.equal(json.attestations[0].signer.trustedAs, 'release-key');
    assert.equal(json.attestations[1].verified, false);
    assert.equal(json.attestations[1].reason, 'SUBJECT_MISMATCH');
    assert.deepEqual(json.provenance, {
      builder: 'https://github.com/actions/runner/github-hosted',
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      sourceRepository: REPO_URL,
      sourceRevision: COMMIT,
      buildRun: RUN,
    });
    assert.equal(json.traceability.repository.value, REPO_URL);
    assert.deepEqual(json.traceability.repository.sources.map((s: { from: string }) => s.from), ['provenance', 'manifest-annotation']);
    assert.equal(json.traceability.revision.consistent, true);
    assert.equal(json.traceability.consistent, true);
  });

  test('keyless signature via the local Fulcio/Rekor verifies, with identity and certificate extensions', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(keyless.ref);
    assert.equal(code, 0);
    const cosign = json.signatures.find((s: { kind: string }) => s.kind === 'cosign');
    assert.equal(cosign.verified, true, JSON.stringify(cosign));
    assert.equal(cosign.signer.type, 'keyless');
    assert.equal(cosign.signer.subject, GOOD_SUBJECT);
    assert.equal(cosign.signer.issuer, ISSUER);
    assert.equal(cosign.signer.trustedAs, 'release-pipeline');
    assert.ok(cosign.tlog);
    // Certificate extensions feed traceability.
    assert.equal(json.traceability.repository.value, REPO_URL);
    assert.equal(json.traceability.revision.value, COMMIT);
    assert.equal(json.traceability.run.sources[0].from, 'certificate');
    // The Sigstore bundle referrer is found through the referrers tag schema.
    const bundle = json.signatures.find((s: { kind: string }) => s.kind === 'bundle');
    assert.ok(bundle, 'bundle referrer discovered');
    assert.notEqual(bundle.reason, 'NO_SIGNATURE');
  });

  test('Sigstore bundle v0.3 (keyless DSSE, Rekor inclusion proof with checkpoint, embedded SCT) as an OCI 1.1 referrer through the tag fallback verifies', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(keyless.ref);
    assert.equal(code, 0);
    const bundles = json.signatures.filter((s: { kind: string }) => s.kind === 'bundle');
    assert.equal(bundles.length, 1);
    const [bundle] = bundles;
    assert.equal(bundle.verified, true, JSON.stringify(bundle));
    assert.equal(bundle.reason, 'OK');
    assert.equal(bundle.signer.type, 'keyless');
    assert.equal(bundle.signer.subject, GOOD_SUBJECT);
    assert.equal(bundle.signer.issuer, ISSUER);
    assert.equal(bundle.signer.trustedAs, 'release-pipeline');
    assert.ok(Number.isInteger(bundle.tlog.logIndex) && bundle.tlog.logIndex > 0, JSON.stringify(bundle.tlog));
    assert.equal(typeof bundle.tlog.integratedTime, 'string');
  });

  test('Sigstore bundle referrer whose in-toto subject is another digest: SUBJECT_MISMATCH, exit 1', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(otherSubject.ref);
    assert.equal(code, 1);
    assert.equal(json.signatures.length, 1);
    const [bundle] = json.signatures;
    assert.equal(bundle.kind, 'bundle');
    assert.equal(bundle.verified, false);
    assert.equal(bundle.reason, 'SUBJECT_MISMATCH');
  });

  test('forgeries: identity with the right issuer but wrong subject, certificate from another CA, log entry for another artifact', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(forged.ref);
    assert.equal(code, 1);
    assert.deepEqual(
      json.signatures.map((s: { reason: string }) => s.reason),
      ['UNTRUSTED_SIGNER', 'CERT_CHAIN_INVALID', 'TLOG_INVALID'],
    );
    assert.ok(json.signatures.every((s: { verified: boolean }) => !s.verified));
  });

  test('multi-platform: a signature on the index digest counts for the platform image', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(multi.ref, ['--platform', 'linux/amd64']);
    assert.equal(code, 0);
    assert.equal(json.image.digest, multi.digest);
    assert.equal(json.signatures[0].verified, true);
  });

  test('no signatures: exit 1 with an empty list; bad trust file: exit 2', async (t) => {
    if (skip) return t.skip(skip);
    const plain = await pushImage(reg!.host, `${NS}/unsigned`, 'v1', { seed: 'unsigned' });
    const { code, json } = await chain(plain.ref);
    assert.equal(code, 1);
    assert.deepEqual(json.signatures, []);
    await writeFile(join(dir, 'bad.yaml'), 'signers:\n  - name: x\n    key: ./cosign.pub\n    colour: blue\n');
    const r = await runCli(['chain', plain.ref, '--trust', join(dir, 'bad.yaml'), '--json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown key "colour"/);
  });
});
