/**
 * `vouch attach` against the real registry (distribution 2.8: no referrers
 * API, so the tag schema is exercised), with and without auth; then `vouch
 * chain` lists what was pushed as approvals, verified against the reviewers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { attachApproval, BUNDLE_V03_MEDIA_TYPE, cosignAttestationLayer, readApprovalBundle } from '../../src/core/approval/attach.js';
import { buildApprovalStatement } from '../../src/core/approval/statement.js';
import { signApprovalStatement } from '../../src/core/approval/sign.js';
import type { Decision } from '../../src/core/review/types.js';
import { APPROVAL_PREDICATE_TYPE } from '../../src/core/approval/policy.js';
import { VouchError } from '../../src/core/errors.js';
import { digestOf } from '../../src/core/oci/digest.js';
import { MediaType } from '../../src/core/oci/mediatypes.js';
import { RegistryClient } from '../../src/core/sources/registry/client.js';
import { anonymousCredentials, staticCredentials } from '../../src/core/sources/registry/credentials.js';
import { keyIdOf } from '../../src/core/trust/bundle.js';
import { verifyChain } from '../../src/core/trust/chain.js';
import { fakeSession, makeReviewers, type Reviewers } from '../helpers/approval.js';
import { writeApproval } from '../helpers/approved.js';
import { attach, attachBundleReferrer, pushImage, type SignatureLayer } from '../helpers/cosign-sign.js';
import { runCli } from '../helpers/inspect.js';
import { inCI, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { NO_SIGNERS } from '../helpers/approval.js';

const NS = `attach-${process.pid}-${Date.now() % 1e6}`;
const ISSUER = 'https://accounts.example.com';
const pemOf = (k: KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();
const pae = (type: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${body.length} `), body]);

/** A full approval statement (as `vouch approve` builds it) naming `digests`. */
function approvalStatement(digests: string[], decision: Decision = 'approved'): Buffer {
  const s = fakeSession();
  s.images = digests.map((d, i) => ({ ...s.images[0]!, key: `img${i}`, name: `img${i}`, digest: d, index: null }));
  return Buffer.from(JSON.stringify(buildApprovalStatement(s, decision, 'reviewed', { name: 'alice', identity: 'alice' }, { signers: NO_SIGNERS })));
}

/** A key-signed DSSE Sigstore bundle v0.3, as `vouch approve --key` writes it (no log entry). */
function keyApproval(key: { privateKey: KeyObject; publicKey: KeyObject }, payload: Buffer): object {
  const type = 'application/vnd.in-toto+json';
  const hint = keyIdOf(pemOf(key.publicKey));
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint }, timestampVerificationData: {} },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: type, signatures: [{ sig: sign('sha256', pae(type, payload), key.privateKey).toString('base64'), keyid: hint }] },
  };
}

describe('vouch attach: referrer + cosign .att in a real registry; vouch chain lists the approvals', { timeout: 120_000 }, () => {
  let plain: TestRegistry | undefined;
  let authed: TestRegistry | undefined;
  let sig: SigstoreServices | undefined;
  let dir: string;
  const alice = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const mallory = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  before(async () => {
    plain = await startRegistry();
    authed = await startRegistry({ auth: true });
    dir = await mkdtemp(join(tmpdir(), 'vouch-attach-'));
    await writeFile(join(dir, 'alice.pub'), pemOf(alice.publicKey));
  });
  after(async () => {
    await sig?.stop();
    await plain?.stop();
    await authed?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('key-signed approval: referrers tag index + .att layer with cosign annotations; idempotent; chain lists both as approvals by alice', async (t) => {
    if (!plain) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    const h = plain.host;
    const img = await pushImage(h, `${NS}/app`, 'v1', { seed: 'attach' });
    const file = join(dir, 'payments-2.4.0.sigstore.json');
    await writeFile(file, JSON.stringify(keyApproval(alice, approvalStatement([img.digest]))));
    const r = await attachApproval(file, `${h}/${NS}/app:v1`);
    assert.equal(r.image.digest, img.digest);
    assert.equal(r.referrer.via, 'referrers-tag');
    assert.equal(r.referrer.tag, img.digest.replace(':', '-'));
    assert.equal(r.referrer.alreadyListed, false);
    assert.equal(r.cosign.tag, `${img.digest.replace(':', '-')}.att`);
    assert.equal(r.cosign.layers, 1);

    // What a registry client reading the OCI spec / cosign sees.
    const client = new RegistryClient(h, { credentials: anonymousCredentials() });
    const index = JSON.parse((await client.getManifest(`${NS}/app`, r.referrer.tag!)).bytes.toString()) as { manifests: Array<{ digest: string; artifactType?: string }> };
    assert.deepEqual(index.manifests.map((d) => [d.digest, d.artifactType]), [[r.referrer.digest, BUNDLE_V03_MEDIA_TYPE]]);
    const referrer = JSON.parse((await client.getManifest(`${NS}/app`, r.referrer.digest)).bytes.toString());
    assert.equal(referrer.subject.digest, img.digest);
    assert.equal(referrer.artifactType, BUNDLE_V03_MEDIA_TYPE);
    assert.equal(referrer.config.mediaType, MediaType.OciEmpty);
    const att = JSON.parse((await client.getManifest(`${NS}/app`, r.cosign.tag)).bytes.toString());
    assert.equal(att.layers[0].mediaType, 'application/vnd.dsse.envelope.v1+json');
    assert.equal(att.layers[0].annotations.predicateType, APPROVAL_PREDICATE_TYPE);
    assert.equal(att.layers[0].annotations['dev.cosignproject.cosign/signature'], '');

    // Attaching the same approval again changes nothing.
    const again = await attachApproval(file, `docker://${h}/${NS}/app@${img.digest}`);
    assert.equal(again.referrer.digest, r.referrer.digest);
    assert.equal(again.referrer.alreadyListed, true);
    assert.equal(again.cosign.alreadyPresent, true);
    assert.equal(again.cosign.digest, r.cosign.digest);

    // An approval by someone the trust file does not name is appended, and listed as not verified.
    const forged = join(dir, 'forged.sigstore.json');
    await writeFile(forged, JSON.stringify(keyApproval(mallory, approvalStatement([img.digest]))));
    const f = await attachApproval(forged, `${h}/${NS}/app:v1`);
    assert.equal(f.cosign.layers, 2);

    const trust = join(dir, 'vouch.trust.yaml');
    await writeFile(trust, 'reviewers:\n  - name: alice\n    key: ./alice.pub\n');
    const chain = await verifyChain(`docker://${h}/${NS}/app@${img.digest}`, { trustFile: trust });
    const approvals = chain.json.approvals!;
    assert.deepEqual(
      approvals.map((a) => [a.via, a.verified, a.reviewer, a.decision]).sort(),
      [
        ['cosign-tag', false, null, null],
        ['cosign-tag', true, 'alice', 'approved'],
        ['referrers-tag', false, null, null],
        ['referrers-tag', true, 'alice', 'approved'],
      ],
    );
    assert.ok(approvals.filter((a) => !a.verified).every((a) => a.reason === 'UNTRUSTED_SIGNER' || a.reason === 'SIGNATURE_INVALID'), JSON.stringify(approvals));
    assert.deepEqual(approvals.find((a) => a.verified)!.release, { name: 'payments', version: '2.4.0' });
    // Approvals are not image signatures nor image evidence: the chain's own verdict does not change, and a second
    // reviewer's session (built on the attestations) is not made stale by the first reviewer's attach.
    assert.equal(chain.json.signatures.length, 0);
    assert.deepEqual(chain.json.attestations, []);
  });

  test('attack: a valid approval of another image, planted as a referrer and in .att of this one, is listed as not verified (SUBJECT_MISMATCH)', async (t) => {
    if (!plain) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    const h = plain.host;
    const approved = await pushImage(h, `${NS}/replay`, 'good', { seed: 'replay-good' });
    const target = await pushImage(h, `${NS}/replay`, 'evil', { seed: 'replay-evil' });
    const bundle = keyApproval(alice, approvalStatement([approved.digest])) as { dsseEnvelope: { payload: string; payloadType: string; signatures: Array<{ sig: string; keyid: string }> } };
    // Anyone who can push can do this; neither vouch attach (it refuses) nor the chain may take it for an approval of `target`.
    await attachBundleReferrer(h, `${NS}/replay`, target.manifest, bundle);
    const layer: SignatureLayer = {
      mediaType: 'application/vnd.dsse.envelope.v1+json',
      bytes: Buffer.from(JSON.stringify(bundle.dsseEnvelope)),
      annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: APPROVAL_PREDICATE_TYPE },
    };
    await attach(h, `${NS}/replay`, target.digest, 'att', [layer]);
    const trust = join(dir, 'replay.trust.yaml');
    await writeFile(trust, 'reviewers:\n  - name: alice\n    key: ./alice.pub\n');
    const chain = await verifyChain(`docker://${h}/${NS}/replay@${target.digest}`, { trustFile: trust });
    assert.deepEqual(chain.json.approvals!.map((a) => [a.via, a.verified, a.reason, a.decision]).sort(), [
      ['cosign-tag', false, 'SUBJECT_MISMATCH', null],
      ['referrers-tag', false, 'SUBJECT_MISMATCH', null],
    ]);
  });

  test('attack: our referrer and .att layer digests planted with a wrong artifactType / mediaType are replaced, not taken for "already attached"', async (t) => {
    if (!plain) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    const h = plain.host;
    const repo = `${NS}/preempt`;
    const img = await pushImage(h, repo, 'v1', { seed: 'preempt' });
    const file = join(dir, 'preempt.sigstore.json');
    await writeFile(file, JSON.stringify(keyApproval(alice, approvalStatement([img.digest]))));
    const first = await attachApproval(file, `${h}/${repo}:v1`);
    // The approval file is public and attach is deterministic, so an attacker can compute both digests and list
    // them first (or rewrite the lists afterwards) with descriptors that cosign, Kyverno and OCI clients filter out.
    const client = new RegistryClient(h, { credentials: anonymousCredentials() });
    const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
    const index = JSON.parse((await client.getManifest(repo, first.referrer.tag!)).bytes.toString()) as { manifests: Array<Record<string, unknown>> };
    const decoy = { ...index.manifests[0]!, artifactType: 'application/x-decoy', annotations: {} };
    await client.putManifest(repo, first.referrer.tag!, json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [decoy] }), MediaType.OciIndex);
    const att = JSON.parse((await client.getManifest(repo, first.cosign.tag)).bytes.toString()) as { layers: Array<Record<string, unknown>> };
    att.layers = [{ ...att.layers[0]!, mediaType: 'application/octet-stream', annotations: {} }];
    await client.putManifest(repo, first.cosign.tag, json(att), MediaType.OciManifest);

    const r = await attachApproval(file, `${h}/${repo}:v1`);
    assert.equal(r.referrer.alreadyListed, false, 'a decoy with our digest is not our referrer');
    assert.equal(r.cosign.alreadyPresent, false, 'a decoy layer with our digest is not our attestation');
    const fixed = JSON.parse((await client.getManifest(repo, first.referrer.tag!)).bytes.toString()) as { manifests: Array<{ digest: string; artifactType?: string }> };
    assert.deepEqual(fixed.manifests.map((d) => [d.digest, d.artifactType]), [[first.referrer.digest, BUNDLE_V03_MEDIA_TYPE]], 'the decoy is replaced, not listed beside ours');
    const fixedAtt = JSON.parse((await client.getManifest(repo, first.cosign.tag)).bytes.toString()) as { layers: Array<{ mediaType: string; annotations?: Record<string, string> }> };
    assert.deepEqual(fixedAtt.layers.map((l) => [l.mediaType, l.annotations?.predicateType]), [['application/vnd.dsse.envelope.v1+json', APPROVAL_PREDICATE_TYPE]]);
    // And the repaired lists stay put: a third attach has nothing to do.
    const again = await attachApproval(file, `${h}/${repo}:v1`);
    assert.equal(again.referrer.alreadyListed, true);
    assert.equal(again.cosign.alreadyPresent, true);
  });

  test('an approval that does not name the image, or is not a bundle, is refused before anything is pushed (exit 2)', async (t) => {
    if (!plain) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    const h = plain.host;
    const img = await pushImage(h, `${NS}/other`, 'v1', { seed: 'other' });
    const file = join(dir, 'elsewhere.sigstore.json');
    await writeFile(file, JSON.stringify(keyApproval(alice, approvalStatement([`sha256:${'ab'.repeat(32)}`]))));
    await assert.rejects(attachApproval(file, `${h}/${NS}/other:v1`), (e: unknown) => e instanceof VouchError && e.exitCode === 2 && /does not name/.test(e.message));
    const notBundle = join(dir, 'not-a-bundle.json');
    await writeFile(notBundle, JSON.stringify({ hello: 'world' }));
    await assert.rejects(attachApproval(notBundle, `${h}/${NS}/other:v1`), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_BUNDLE' && e.message.startsWith(notBundle));
    const client = new RegistryClient(h, { credentials: anonymousCredentials() });
    assert.deepEqual((await client.listTags(`${NS}/other`)).sort(), ['v1']);
    void img;
  });

  test('with auth: push the image and the approval with credentials; without them the push is refused (UNAUTHORIZED)', async (t) => {
    if (!authed) return void (inCI() ? assert.fail('auth registry needed under CI') : t.skip('docker-registry/htpasswd not installed'));
    const h = authed.host;
    const repo = `${NS}/private`;
    const credentials = staticCredentials({ username: authed.user!, password: authed.password! });
    const client = new RegistryClient(h, { credentials });
    // An image pushed with our own client (monolithic blob upload, manifest PUT).
    const layer = await client.pushBlob(repo, Buffer.from('not really a tar, but a blob'));
    const config = await client.pushBlob(repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }] }),
    );
    const pushed = await client.putManifest(repo, 'v1', manifest, MediaType.OciManifest);
    assert.equal(pushed.digest, digestOf(manifest));
    const file = join(dir, 'private.sigstore.json');
    await writeFile(file, JSON.stringify(keyApproval(alice, approvalStatement([pushed.digest]))));

    await assert.rejects(attachApproval(file, `${h}/${repo}:v1`, { credentials: anonymousCredentials() }), (e: unknown) => e instanceof VouchError && e.code === 'UNAUTHORIZED');
    const r = await attachApproval(file, `${h}/${repo}:v1`, { credentials });
    assert.equal(r.image.digest, pushed.digest);
    assert.equal(r.referrer.via, 'referrers-tag');
    const att = JSON.parse((await client.getManifest(repo, r.cosign.tag)).bytes.toString());
    assert.equal(att.layers.length, 1);
    const index = JSON.parse((await client.getManifest(repo, r.referrer.tag!)).bytes.toString());
    assert.equal(index.manifests[0].digest, r.referrer.digest);
  });

  test('CLI: vouch attach with an approval from signApprovalStatement, then vouch chain shows it as an approval; the referrer layer holds the file bytes', async (t) => {
    if (!plain) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    const h = plain.host;
    const img = await pushImage(h, `${NS}/cli`, 'v1', { seed: 'cli' });
    const rv = await makeReviewers(['alice']);
    try {
      const file = await writeApproval(rv, 'alice', [{ name: `${h}/${NS}/cli`, digest: img.digest }], rv.dir, 'cli-1.0');
      const trust = join(rv.dir, 'vouch.trust.yaml');
      await writeFile(trust, rv.trustYaml(['alice']));
      const r = await runCli(['attach', file, '--to', `docker://${h}/${NS}/cli:v1`, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.image.digest, img.digest);
      assert.equal(j.referrer.via, 'referrers-tag');
      const text = await runCli(['chain', `docker://${h}/${NS}/cli@${img.digest}`, '--trust', trust]);
      assert.match(text.stdout, /approvals \(2\)/);
      assert.match(text.stdout, /OK {3}cosign-tag {4}sha256:\S+ approved by alice \(payments 2\.4\.0\)/);
      assert.match(text.stdout, /OK {3}referrers-tag sha256:\S+ approved by alice/);
      // The bytes in the registry are the file's bytes: the referrer's layer is the bundle itself.
      const client = new RegistryClient(h, { credentials: anonymousCredentials() });
      const referrer = JSON.parse((await client.getManifest(`${NS}/cli`, j.referrer.digest)).bytes.toString());
      const { readFile } = await import('node:fs/promises');
      assert.equal(referrer.layers[0].digest, digestOf(await readFile(file)));
      const wrong = await runCli(['attach', file, '--to', `${h}/${NS}/cli:nope`]);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /nope/);
    } finally {
      await rm(rv.dir, { recursive: true, force: true });
    }
  });

  test('keyless approval (local Fulcio/Rekor): the .att layer carries the certificate and the Rekor bundle; chain verifies both forms', async (t) => {
    if (!plain) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    sig = await startSigstoreServices();
    const h = plain.host;
    const img = await pushImage(h, `${NS}/keyless`, 'v1', { seed: 'keyless' });
    const signed = await sig.signDsse(approvalStatement([img.digest], 'approved-with-exceptions'), 'application/vnd.in-toto+json', { sub: 'alice@example.com', iss: ISSUER });
    const file = join(dir, 'keyless.sigstore.json');
    await writeFile(file, JSON.stringify(bundleToJSON(signed.bundle)));
    const r = await attachApproval(file, `${h}/${NS}/keyless:v1`);
    const client = new RegistryClient(h, { credentials: anonymousCredentials() });
    const att = JSON.parse((await client.getManifest(`${NS}/keyless`, r.cosign.tag)).bytes.toString());
    const ann = att.layers[0].annotations as Record<string, string>;
    assert.equal(ann['dev.sigstore.cosign/certificate'], signed.certPem);
    assert.deepEqual(JSON.parse(ann['dev.sigstore.cosign/bundle']!), JSON.parse(signed.rekorAnnotation!));

    await writeFile(join(dir, 'trusted_root.json'), JSON.stringify(sig.trustedRoot));
    const trust = join(dir, 'keyless.trust.yaml');
    await writeFile(trust, `trustedRoot: ./trusted_root.json\nreviewers:\n  - name: alice\n    keyless: {issuer: "${ISSUER}", subject: alice@example.com}\n`);
    const chain = await verifyChain(`docker://${h}/${NS}/keyless@${img.digest}`, { trustFile: trust });
    assert.deepEqual(
      chain.json.approvals!.map((a) => [a.via, a.verified, a.reviewer, a.decision]).sort(),
      [
        ['cosign-tag', true, 'alice', 'approved-with-exceptions'],
        ['referrers-tag', true, 'alice', 'approved-with-exceptions'],
      ],
    );
  });
});

/** alice's real approval record (as `vouch approve` writes it) naming `images` (digest, and the index when reviewed whole). */
async function realApproval(rv: Reviewers, path: string, images: Array<{ name: string; digest: string; index?: string; platform?: string; indexPlatforms?: string[] }>, decision: Decision, now = new Date(), pretty = false): Promise<string> {
  const s = fakeSession();
  s.images = images.map((im, i) => ({ ...s.images[0]!, key: `img${i}`, name: im.name, digest: im.digest, index: im.index ?? null, platform: im.platform ?? 'linux/amd64', ...(im.indexPlatforms ? { indexPlatforms: im.indexPlatforms } : {}) }));
  const st = buildApprovalStatement(s, decision, `${decision} for the test`, { name: 'alice', identity: 'alice' }, { now, signers: NO_SIGNERS });
  const b = await signApprovalStatement(st, { kind: 'key', keyPath: rv.keys.alice!.key, passphrase: rv.passphrase });
  await writeFile(path, pretty ? JSON.stringify(b, null, 2) : `${JSON.stringify(b)}\n`);
  return path;
}

describe('vouch chain judges each attached approval as vouch verify does', { timeout: 120_000 }, () => {
  let reg: TestRegistry | undefined;
  let rv: Reviewers;
  before(async () => {
    reg = await startRegistry();
    rv = await makeReviewers(['alice']);
  });
  after(async () => {
    await reg?.stop();
    await rm(rv.dir, { recursive: true, force: true });
  });

  test('rejected, too old, a decision not allowed, reviewed in the future, a re-serialised bundle: never OK, each with verify\'s reason; a rejection shows as REJECTED', async (t) => {
    if (!reg) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    const h = reg.host;
    const img = await pushImage(h, `${NS}/judged`, 'v1', { seed: 'judged' });
    const me = [{ name: `${h}/${NS}/judged`, digest: img.digest }];
    const trust = join(rv.dir, 'judged.trust.yaml');
    await writeFile(trust, rv.trustYaml(['alice'], 'require:\n  decisions: [approved]\n  maxAge: 30d\n'));
    const files: Record<string, string> = {
      good: await realApproval(rv, join(rv.dir, 'good.sigstore.json'), me, 'approved'),
      rejected: await realApproval(rv, join(rv.dir, 'rejected.sigstore.json'), me, 'rejected'),
      old: await realApproval(rv, join(rv.dir, 'old.sigstore.json'), me, 'approved', new Date('2024-01-01T00:00:00Z')),
      withexc: await realApproval(rv, join(rv.dir, 'withexc.sigstore.json'), me, 'approved-with-exceptions'),
      future: await realApproval(rv, join(rv.dir, 'future.sigstore.json'), me, 'approved', new Date(Date.now() + 365 * 86400e3)),
    };
    // The good record re-serialised (indented): the signature still verifies, verify's strict parse refuses the file.
    files.pretty = join(rv.dir, 'pretty.sigstore.json');
    await writeFile(files.pretty, JSON.stringify(JSON.parse(await readFile(files.good, 'utf8')), null, 2));
    const expected: Record<string, string> = { good: 'OK', rejected: 'REJECTED', old: 'TOO_OLD', withexc: 'DECISION_NOT_ALLOWED', future: 'REVIEWED_IN_FUTURE', pretty: 'INVALID_BUNDLE' };
    const byDigest = new Map<string, string>();
    for (const [k, f] of Object.entries(files)) {
      await attachApproval(f, `${h}/${NS}/judged:v1`);
      byDigest.set(`referrers-tag ${digestOf(await readFile(f))}`, k);
      byDigest.set(`cosign-tag ${digestOf(cosignAttestationLayer(await readApprovalBundle(f)).bytes)}`, k === 'pretty' ? 'good' : k);
      // What vouch verify says of the file, for the same digest and trust file.
      const v = await runCli(['verify', f, '--image', `${h}/${NS}/judged@${img.digest}`, '--trust', trust, '--json']);
      const code = v.code === 0 ? 'OK' : v.code === 2 ? 'INVALID_BUNDLE' : JSON.parse(v.stdout).reasons[0].code;
      assert.equal(code, expected[k], `verify ${k}: ${v.stdout}${v.stderr}`);
    }
    const chain = await verifyChain(`docker://${h}/${NS}/judged@${img.digest}`, { trustFile: trust });
    const got = chain.json.approvals!.map((a) => [byDigest.get(`${a.via} ${a.digest}`), a.via, a.verified, a.reason, a.covers] as const);
    assert.equal(got.length, 11, JSON.stringify(got)); // 6 referrers, 5 distinct .att layers (the re-serialised file carries the same envelope)
    for (const [k, via, verified, reason, covers] of got) {
      assert.ok(k, `an approval listed that no file made: ${via}`);
      assert.equal(reason, expected[k], `${via} ${k}`);
      assert.equal(verified, k === 'good', `${via} ${k}`);
      if (k !== 'pretty') assert.equal(covers, 'manifest', `${via} ${k}`);
    }
    const rejected = chain.json.approvals!.find((a) => a.reason === 'REJECTED')!;
    assert.equal(rejected.decision, 'rejected');
    assert.equal(rejected.reviewer, 'alice');
    const text = await runCli(['chain', `docker://${h}/${NS}/judged@${img.digest}`, '--trust', trust]);
    const lines = text.stdout.split('\n').filter((l) => /^ {2}\S+ +(cosign-tag|referrers-tag) /.test(l));
    assert.equal(lines.length, 11, text.stdout);
    assert.equal(lines.filter((l) => l.startsWith('  OK ')).length, 2, text.stdout);
    assert.ok(lines.filter((l) => l.startsWith('  OK ')).every((l) => /approved by alice \(payments 2\.4\.0\)/.test(l)), text.stdout);
    assert.equal(lines.filter((l) => /^ {2}REJECTED .*rejected by alice/.test(l)).length, 2, text.stdout);
    for (const code of ['TOO_OLD', 'DECISION_NOT_ALLOWED', 'REVIEWED_IN_FUTURE', 'INVALID_BUNDLE']) assert.ok(lines.some((l) => l.startsWith('  FAIL') && l.includes(code)), `${code}: ${text.stdout}`);
  });

  test('on an index: an approval of one platform manifest is not an approval of the index (NO_APPROVAL, covers the manifest); one naming the index is OK', async (t) => {
    if (!reg) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    const h = reg.host;
    const repo = `${NS}/multi`;
    const img = await pushImage(h, repo, 'v1', { seed: 'multi', multiPlatform: true });
    const idx = JSON.parse(Buffer.from(await (await fetch(`http://${h}/v2/${repo}/manifests/${img.index!.digest}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } })).arrayBuffer()).toString()) as { manifests: Array<{ digest: string }> };
    const [amd, arm] = idx.manifests.map((m) => m.digest) as [string, string];
    assert.equal(amd, img.digest);
    const name = `${h}/${repo}`;
    const platformOnly = await realApproval(rv, join(rv.dir, 'amd64-only.sigstore.json'), [{ name, digest: amd, index: img.index!.digest }], 'approved');
    const whole = await realApproval(
      rv,
      join(rv.dir, 'whole.sigstore.json'),
      [
        { name, digest: amd, index: img.index!.digest, indexPlatforms: [amd, arm] },
        { name, digest: arm, index: img.index!.digest, platform: 'linux/arm64', indexPlatforms: [amd, arm] },
      ],
      'approved',
    );
    await attachApproval(platformOnly, `${name}@${amd}`);
    await attachApproval(whole, `${name}@${img.index!.digest}`);
    const trust = join(rv.dir, 'multi.trust.yaml');
    await writeFile(trust, rv.trustYaml(['alice']));
    const chain = await verifyChain(`docker://${name}:v1`, { trustFile: trust, platform: { os: 'linux', architecture: 'amd64' } });
    const byFile = (f: string) => async (a: { via: string; digest: string }) => a.via === 'referrers-tag' && a.digest === digestOf(await readFile(f));
    const rows = chain.json.approvals!;
    const only = [];
    const all = [];
    for (const a of rows) {
      if (await byFile(platformOnly)(a)) only.push(a);
      if (await byFile(whole)(a)) all.push(a);
    }
    assert.equal(only.length, 1, JSON.stringify(rows));
    assert.equal(all.length, 1, JSON.stringify(rows));
    assert.deepEqual([only[0]!.verified, only[0]!.reason, only[0]!.covers, only[0]!.decision, only[0]!.reviewer], [false, 'NO_APPROVAL', 'manifest', 'approved', 'alice']);
    assert.deepEqual([all[0]!.verified, all[0]!.reason, all[0]!.covers], [true, 'OK', 'index']);
    // verify agrees: the platform-only record does not admit the index.
    const v = await runCli(['verify', platformOnly, '--image', `${name}@${img.index!.digest}`, '--trust', trust, '--json']);
    assert.equal(JSON.parse(v.stdout).reasons[0].code, 'NO_APPROVAL');
    const text = await runCli(['chain', `docker://${name}:v1`, '--trust', trust, '--platform', 'linux/amd64']);
    assert.match(text.stdout, /^ {2}FAIL +referrers-tag sha256:\S+ NO_APPROVAL: approved by alice \(payments 2\.4\.0\), covers the linux\/amd64 manifest only, not the index/m, text.stdout);
    assert.match(text.stdout, /^ {2}OK +referrers-tag sha256:\S+ approved by alice \(payments 2\.4\.0\), covers the index/m, text.stdout);
  });
});
