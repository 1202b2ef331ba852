/**
 * The approval record: built from a session, signed with a key (and keyless
 * against the local Fulcio/Rekor/TSA), verified by vouch against the trust
 * file's reviewers and `require`, verified by @sigstore/verify alone, and
 * refused after any byte of the bundle changes.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { buildApprovalStatement, APPROVAL_PREDICATE_TYPE } from '../../src/core/approval/statement.js';
import { signApprovalStatement } from '../../src/core/approval/sign.js';
import { loadApprovals, parseApproval, verifyApprovalsForImage } from '../../src/core/approval/verify.js';
import { APPROVAL_SCHEMA, checkApprovalStatement } from '../../src/core/approval/schema.js';
import { Ajv } from 'ajv';
import { parseTrustFile } from '../../src/core/trust/trust-file.js';
import { isVouchError } from '../../src/core/errors.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { fakeSession, makeReviewers, type Reviewers } from '../helpers/approval.js';
import { NO_SIGNERS } from '../helpers/approval.js';

const session = fakeSession({ multiPlatform: true });
const api = session.images[0]!;
// An index of one platform, the reviewed one: the index is covered (test/unit/approval-record-attacks.test.ts has the partial case).
api.indexPlatforms = [api.digest];
const apiImage = { name: api.name, digest: api.digest };

let R: Reviewers;
before(async () => {
  R = await makeReviewers(['alice', 'bob', 'mallory']);
});

async function approve(who: string, decision: 'approved' | 'approved-with-exceptions' | 'rejected' = 'approved', opts: { now?: Date; expiresAt?: Date; rekorUrl?: string } = {}) {
  const st = buildApprovalStatement(session, decision, 'looks fine', { name: who, identity: who }, { signers: NO_SIGNERS, ...(opts.now ? { now: opts.now } : {}), ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}) });
  const bundle = await signApprovalStatement(st, { kind: 'key', keyPath: R.keys[who]!.key, passphrase: R.passphrase }, opts.rekorUrl ? { rekorUrl: opts.rekorUrl } : {});
  const path = join(R.dir, `${who}-${decision}-${Math.random().toString(36).slice(2)}.sigstore.json`);
  writeFileSync(path, JSON.stringify(bundle));
  return path;
}

describe('the statement', () => {
  test('subjects: the index and the platform manifest of a multi-platform image, each image by name; the predicate validates', () => {
    const st = buildApprovalStatement(session, 'approved', 'r', { name: 'alice', identity: 'k' }, { signers: NO_SIGNERS });
    assert.equal(st.predicateType, APPROVAL_PREDICATE_TYPE);
    assert.deepEqual(
      st.subject.map((s) => `${s.name}@sha256:${s.digest.sha256}`),
      [`${api.name}@${api.index}`, `${api.name}@${api.digest}`, `${session.images[1]!.name}@${session.images[1]!.digest}`],
    );
    assert.deepEqual(st.predicate.images[0]!.packages, api.packages);
    assert.equal(st.predicate.tool.name, 'vouch');
  });

  test('the schema interpreter agrees with ajv on the statement and its mutations', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    ajv.addFormat('date-time', { type: 'string', validate: (x: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(x) && !Number.isNaN(Date.parse(x)) });
    const validate = ajv.compile(APPROVAL_SCHEMA);
    const base = buildApprovalStatement(session, 'approved', 'r', { name: 'alice', identity: 'k' }, { signers: NO_SIGNERS, expiresAt: new Date() });
    const mutations: Array<(s: any) => void> = [
      () => {},
      (s) => delete s.predicate.release,
      (s) => (s.predicate.extra = 1),
      (s) => (s.predicate.decision = 'maybe'),
      (s) => (s.subject[0].digest.sha256 = 'ABC'),
      (s) => (s.subject = []),
      (s) => (s.predicate.reviewedAt = 'yesterday'),
      (s) => (s.predicate.expiresAt = '2026-13-45T00:00:00Z'),
      (s) => (s.predicate.baseline = { digest: `sha256:${'a'.repeat(64)}`, release: null }),
      (s) => (s.predicate.baseline = { digest: 'sha256:x', release: null }),
      (s) => (s.predicate.images[0].index = 3),
      (s) => (s.predicate.images[0].licenses = { p: 'MIT' }),
      (s) => (s.predicate.checks.fail = -1),
      (s) => (s.predicate.checks.fail = 1.5),
      (s) => (s.predicate.findings = [{ source: 'check', image: 'api', id: 'X', subject: 'image', severity: null, disposition: 'open', text: '' }]),
      (s) => (s.predicate.findings = [{ source: 'check', image: 'api', id: 'X', subject: 'image', severity: null, disposition: 'closed', text: '' }]),
      (s) => (s.predicate.tool.name = 'cosign'),
      (s) => (s._type = 'https://in-toto.io/Statement/v0.1'),
    ];
    for (const [i, m] of mutations.entries()) {
      const doc = structuredClone(base) as any;
      m(doc);
      assert.equal(checkApprovalStatement(doc) === null, validate(doc), `mutation ${i}`);
    }
  });

  test('schemas/approval.v1.json is the schema the code validates with', () => {
    const file = JSON.parse(readFileSync(new URL('../../schemas/approval.v1.json', import.meta.url), 'utf8'));
    assert.deepEqual(file, JSON.parse(JSON.stringify(APPROVAL_SCHEMA)));
  });
});

describe('key-signed approvals', () => {
  test('verifies for the platform digest and the index digest, not for another digest', async () => {
    const trust = await R.trust(['alice']);
    const a = await loadApprovals([await approve('alice')]);
    const ok = await verifyApprovalsForImage(a, apiImage, trust);
    assert.equal(ok.ok, true, JSON.stringify(ok.reasons));
    assert.equal(ok.decision, 'approved');
    assert.deepEqual(ok.release, { name: 'payments', version: '2.4.0' });
    assert.equal(ok.reviewers[0]!.name, 'alice');
    assert.equal((await verifyApprovalsForImage(a, { name: 'anything', digest: api.index! }, trust)).ok, true);
    const other = await verifyApprovalsForImage(a, { name: api.name, digest: `sha256:${'0'.repeat(64)}` }, trust);
    assert.equal(other.ok, false);
    assert.equal(other.reasons[0]!.code, 'NO_APPROVAL');
  });

  test('signed by a key the trust file does not name: refused (UNTRUSTED_SIGNER)', async () => {
    const trust = await R.trust(['alice']);
    const v = await verifyApprovalsForImage(await loadApprovals([await approve('mallory')]), apiImage, trust);
    assert.equal(v.ok, false);
    assert.equal(v.reasons[0]!.code, 'UNTRUSTED_SIGNER');
  });

  test('two-person rule: one reviewer twice is not two; two distinct reviewers are', async () => {
    const trust = await R.trust(['alice', 'bob'], 'require:\n  approvals: 2\n');
    const a1 = await approve('alice');
    const a2 = await approve('alice');
    const twice = await verifyApprovalsForImage(await loadApprovals([a1, a2]), apiImage, trust);
    assert.equal(twice.ok, false);
    assert.equal(twice.reasons.at(-1)!.code, 'NOT_ENOUGH_REVIEWERS');
    const both = await verifyApprovalsForImage(await loadApprovals([a1, await approve('bob')]), apiImage, trust);
    assert.equal(both.ok, true, JSON.stringify(both.reasons));
    assert.deepEqual(both.reviewers.map((r) => r.name).sort(), ['alice', 'bob']);
  });

  test('decisions, expiry, maxAge and policy digest from `require`', async () => {
    const trust = await R.trust(['alice', 'bob'], 'require:\n  decisions: [approved]\n  maxAge: 30d\n');
    const withEx = await verifyApprovalsForImage(await loadApprovals([await approve('alice', 'approved-with-exceptions')]), apiImage, trust);
    assert.equal(withEx.reasons[0]!.code, 'DECISION_NOT_ALLOWED');
    const rejected = await verifyApprovalsForImage(await loadApprovals([await approve('alice'), await approve('bob', 'rejected')]), apiImage, trust);
    assert.equal(rejected.ok, false, 'a trusted rejection vetoes');
    assert.ok(rejected.reasons.some((r) => r.code === 'REJECTED'));
    const old = await verifyApprovalsForImage(await loadApprovals([await approve('alice', 'approved', { now: new Date(Date.now() - 31 * 86_400_000) })]), apiImage, trust);
    assert.equal(old.reasons[0]!.code, 'TOO_OLD');
    const expiring = await loadApprovals([await approve('alice', 'approved', { expiresAt: new Date(Date.now() + 86_400_000) })]);
    assert.equal((await verifyApprovalsForImage(expiring, apiImage, trust)).ok, true);
    const later = await verifyApprovalsForImage(expiring, apiImage, trust, { now: new Date(Date.now() + 2 * 86_400_000) });
    assert.equal(later.reasons[0]!.code, 'EXPIRED');
    const pinned = await R.trust(['alice'], `require:\n  policyDigest: sha256:${'1'.repeat(64)}\n`);
    const p = await verifyApprovalsForImage(await loadApprovals([await approve('alice')]), apiImage, pinned);
    assert.equal(p.reasons[0]!.code, 'POLICY_MISMATCH');
  });

  test('require.tlog: a key-signed approval without a log entry is refused', async () => {
    const trust = await R.trust(['alice'], 'require:\n  tlog: true\n');
    const v = await verifyApprovalsForImage(await loadApprovals([await approve('alice')]), apiImage, trust);
    assert.equal(v.ok, false);
    assert.match(v.reasons[0]!.code, /TLOG_MISSING/);
  });

  test('a trust file without reviewers is bad input, naming the file and field', async () => {
    const trust = await parseTrustFile('signers: []\n', join(R.dir, 'empty.yaml'));
    await assert.rejects(verifyApprovalsForImage([], apiImage, trust), (e: unknown) => isVouchError(e) && e.exitCode === 2 && /empty\.yaml: reviewers:/.test(e.message));
  });

  test('bad approval files: not JSON, not a bundle, another predicate — one line naming the file', async () => {
    const p = join(R.dir, 'junk.sigstore.json');
    writeFileSync(p, 'not json');
    await assert.rejects(loadApprovals([p]), (e: unknown) => isVouchError(e) && e.exitCode === 2 && e.message.includes('junk.sigstore.json') && !e.message.includes('\n'));
    writeFileSync(p, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', messageSignature: {} }));
    await assert.rejects(loadApprovals([p]), /not an approval bundle/);
    const good = JSON.parse(readFileSync(await approve('alice'), 'utf8'));
    const st = JSON.parse(Buffer.from(good.dsseEnvelope.payload, 'base64').toString());
    st.predicateType = 'https://slsa.dev/provenance/v1';
    good.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    writeFileSync(p, JSON.stringify(good));
    await assert.rejects(loadApprovals([p]), /predicateType/);
  });

  test('interop: @sigstore/bundle + @sigstore/verify alone verify the written bundle against the public key', async () => {
    const json = JSON.parse(readFileSync(await approve('alice'), 'utf8'));
    const bundle = bundleFromJSON(json);
    const hint = bundle.verificationMaterial.content.$case === 'publicKey' ? bundle.verificationMaterial.content.publicKey.hint : '';
    const pub = createPublicKey(readFileSync(R.keys.alice!.pub));
    const emptyRoot = TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
    const material = toTrustMaterial(emptyRoot, (h: string) => {
      assert.equal(h, hint);
      return { publicKey: pub, validFor: () => true };
    });
    const signer = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle));
    assert.equal(signer.key.type, 'public');
    // …and the library refuses it under another key.
    const bobKey = createPublicKey(readFileSync(R.keys.bob!.pub));
    const wrong = toTrustMaterial(emptyRoot, () => ({ publicKey: bobKey, validFor: () => true }));
    assert.throws(() => new Verifier(wrong, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle)));
  });

  test('every byte matters: flipping one byte anywhere in the bundle file is refused', async () => {
    const trust = await R.trust(['alice']);
    const path = await approve('alice');
    const bytes = readFileSync(path);
    assert.equal((await verifyApprovalsForImage([parseApproval(bytes, path)], apiImage, trust)).ok, true);
    const positions = new Set<number>();
    const n = 400;
    for (let i = 0; i < n; i++) positions.add(Math.floor((i * (bytes.length - 1)) / (n - 1)));
    let refusedAtLoad = 0;
    for (const pos of positions) {
      for (const mask of [0x01, 0x20]) {
        const t = Buffer.from(bytes);
        t[pos] = t[pos]! ^ mask;
        let ok = false;
        try {
          ok = (await verifyApprovalsForImage([parseApproval(t, path)], apiImage, trust)).ok;
        } catch (e) {
          assert.ok(isVouchError(e), String(e));
          refusedAtLoad++;
        }
        assert.equal(ok, false, `byte ${pos} ^ 0x${mask.toString(16)} (${JSON.stringify(bytes.subarray(Math.max(0, pos - 20), pos + 20).toString())}) was accepted`);
      }
    }
    assert.ok(refusedAtLoad > 0 && refusedAtLoad < positions.size * 2, 'both kinds of refusal happen');
  });
});

describe('keyless approvals (local Fulcio, Rekor, TSA)', () => {
  let S: SigstoreServices;
  let rootPath: string;
  before(async () => {
    S = await startSigstoreServices();
    rootPath = join(R.dir, 'trusted_root.json');
    writeFileSync(rootPath, JSON.stringify(S.trustedRoot));
  });
  after(async () => S?.stop());

  const token = (sub: string): string => {
    const b = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    return `${b({ alg: 'none' })}.${b({ iss: 'https://token.actions.example.com', sub, aud: 'sigstore', iat: now, exp: now + 600 })}.sig`;
  };

  test('signed keylessly (Fulcio certificate, Rekor entry, TSA timestamp), verified against a keyless reviewer', async () => {
    const st = buildApprovalStatement(session, 'approved', 'ok', { name: 'carol', identity: 'carol@example.com' }, { signers: NO_SIGNERS });
    const path = join(R.dir, 'carol.sigstore.json');
    const yaml = (subject: string) => `trustedRoot: ./trusted_root.json\nreviewers:\n  - name: carol\n    keyless:\n      issuer: https://token.actions.example.com\n      subject: ${subject}\n`;
    const trust = await parseTrustFile(yaml('carol@example.com'), join(R.dir, 'k.yaml'));
    let v;
    // @sigstore/mock's TSA (pkijs) writes genTime with trailing zeros of the milliseconds cut ("…05.5Z"), which
    // RFC 3161 forbids and @sigstore/core refuses ("invalid time"): sign again in that case, a few times at most.
    for (let attempt = 0; attempt < 8; attempt++) {
      const bundle = await signApprovalStatement(st, { kind: 'keyless', fulcioUrl: S.fulcioURL, rekorUrl: S.rekorURL, tsaUrl: S.tsaURL, identityToken: token('carol@example.com') });
      writeFileSync(path, JSON.stringify(bundle));
      v = await verifyApprovalsForImage(await loadApprovals([path]), apiImage, trust);
      if (!v.reasons.some((r) => r.message.endsWith('invalid time'))) break;
    }
    v = v!;
    assert.equal(v.ok, true, JSON.stringify(v.reasons));
    assert.deepEqual(v.reviewers, [{ name: 'carol', identity: 'carol@example.com (https://token.actions.example.com)' }]);
    const other = await parseTrustFile(yaml('dave@example.com'), join(R.dir, 'k2.yaml'));
    const refused = await verifyApprovalsForImage(await loadApprovals([path]), apiImage, other);
    assert.equal(refused.reasons[0]!.code, 'UNTRUSTED_SIGNER');
  });

  test('--rekor-url logs a key-signed approval; require.tlog then admits it', async () => {
    const path = await approve('alice', 'approved', { rekorUrl: S.rekorURL });
    const json = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(json.verificationMaterial.tlogEntries.length, 1);
    writeFileSync(join(R.dir, 'trusted_root.json'), JSON.stringify(S.trustedRoot));
    const trust = await parseTrustFile(`trustedRoot: ./trusted_root.json\n${R.trustYaml(['alice'], 'require:\n  tlog: true\n')}`, join(R.dir, 'tl.yaml'));
    const v = await verifyApprovalsForImage(await loadApprovals([path]), apiImage, trust);
    assert.equal(v.ok, true, JSON.stringify(v.reasons));
  });
});
