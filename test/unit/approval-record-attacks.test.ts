/**
 * Attacks on the approval record (issue 10 review): each built for real and
 * asserted refused. The re-logged old approval uses the local Rekor.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApprovalStatement } from '../../src/core/approval/statement.js';
import { signApprovalStatement } from '../../src/core/approval/sign.js';
import { loadApprovals, parseApproval, verifyApprovalsForImage } from '../../src/core/approval/verify.js';
import { parseTrustFile } from '../../src/core/trust/trust-file.js';
import { isVouchError } from '../../src/core/errors.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { fakeSession, makeReviewers, type Reviewers } from '../helpers/approval.js';
import { NO_SIGNERS } from '../helpers/approval.js';

const session = fakeSession({ multiPlatform: true });
const api = session.images[0]!;
const apiImage = { name: api.name, digest: api.digest };
const DAY = 86_400_000;

let R: Reviewers;
before(async () => {
  R = await makeReviewers(['alice', 'bob']);
});

async function approve(who: string, opts: { now?: Date; expiresAt?: Date; rekorUrl?: string } = {}): Promise<string> {
  const st = buildApprovalStatement(session, 'approved', 'ok', { name: who, identity: who }, { signers: NO_SIGNERS, ...(opts.now ? { now: opts.now } : {}), ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}) });
  const bundle = await signApprovalStatement(st, { kind: 'key', keyPath: R.keys[who]!.key, passphrase: R.passphrase }, opts.rekorUrl ? { rekorUrl: opts.rekorUrl } : {});
  const path = join(R.dir, `${who}-${Math.random().toString(36).slice(2)}.sigstore.json`);
  writeFileSync(path, JSON.stringify(bundle));
  return path;
}

/** alice's public key as a compressed-point SPKI PEM: the same key, other bytes. */
function compressedPem(pubPath: string): string {
  const jwk = createPublicKey(readFileSync(pubPath, 'utf8')).export({ format: 'jwk' }) as { x: string; y: string };
  const x = Buffer.from(jwk.x, 'base64url');
  const y = Buffer.from(jwk.y, 'base64url');
  const der = Buffer.concat([Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'), Buffer.from([2 + (y[31]! & 1)]), x]);
  return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

describe('#3 maxAge measures the signed reviewedAt, not a log time an attacker can make today', () => {
  let S: SigstoreServices;
  before(async () => {
    S = await startSigstoreServices();
    writeFileSync(join(R.dir, 'trusted_root.json'), JSON.stringify(S.trustedRoot));
  });
  after(async () => S?.stop());

  test('a 90-day-old key-signed approval logged in Rekor today is TOO_OLD under maxAge 30d', async () => {
    // The log entry is made now over a statement whose signed reviewedAt is 90 days old: exactly what re-logging an old file yields.
    const path = await approve('alice', { now: new Date(Date.now() - 90 * DAY), rekorUrl: S.rekorURL });
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).verificationMaterial.tlogEntries.length, 1);
    const trust = await parseTrustFile(`trustedRoot: ./trusted_root.json\n${R.trustYaml(['alice'], 'require:\n  maxAge: 30d\n')}`, join(R.dir, 'relog.yaml'));
    const v = await verifyApprovalsForImage(await loadApprovals([path]), apiImage, trust);
    assert.equal(v.ok, false);
    assert.equal(v.reasons[0]!.code, 'TOO_OLD', JSON.stringify(v.reasons));
    // A fresh logged approval still passes.
    const fresh = await verifyApprovalsForImage(await loadApprovals([await approve('alice', { rekorUrl: S.rekorURL })]), apiImage, trust);
    assert.equal(fresh.ok, true, JSON.stringify(fresh.reasons));
  });

  test('a reviewedAt in the future (beyond a small skew) is refused, logged or not; expiresAt is measured against now', async () => {
    const trust = await parseTrustFile(`trustedRoot: ./trusted_root.json\n${R.trustYaml(['alice'], 'require:\n  maxAge: 30d\n')}`, join(R.dir, 'future.yaml'));
    for (const rekorUrl of [undefined, S.rekorURL]) {
      const path = await approve('alice', { now: new Date(Date.now() + 60 * DAY), ...(rekorUrl ? { rekorUrl } : {}) });
      const v = await verifyApprovalsForImage(await loadApprovals([path]), apiImage, trust);
      assert.equal(v.ok, false);
      assert.equal(v.reasons[0]!.code, 'REVIEWED_IN_FUTURE', JSON.stringify(v.reasons));
    }
    const skew = await approve('alice', { now: new Date(Date.now() + 30_000) });
    assert.equal((await verifyApprovalsForImage(await loadApprovals([skew]), apiImage, trust)).ok, true, 'a clock a few seconds ahead is tolerated');
    const expired = await approve('alice', { now: new Date(Date.now() - 2 * DAY), expiresAt: new Date(Date.now() - DAY), rekorUrl: S.rekorURL });
    const e = await verifyApprovalsForImage(await loadApprovals([expired]), apiImage, trust);
    assert.equal(e.reasons[0]!.code, 'EXPIRED');
  });
});

describe('#5 one key under two names is not two reviewers', () => {
  test('a trust file listing the same public key twice (same PEM, or compressed vs uncompressed SPKI) is refused', async () => {
    writeFileSync(join(R.dir, 'alice-compressed.pub'), compressedPem(R.keys['alice']!.pub));
    for (const second of ['./alice.pub', './alice-compressed.pub']) {
      const text = `reviewers:\n  - name: alice\n    key: ./alice.pub\n  - name: carol\n    key: ${second}\nrequire:\n  approvals: 2\n`;
      await assert.rejects(parseTrustFile(text, join(R.dir, 'two.yaml')), (e: unknown) => isVouchError(e) && e.exitCode === 2 && /reviewers\.1 \(carol\): the same public key as reviewers\.0 \(alice\)/.test(e.message));
      const signers = `signers:\n  - name: ci\n    key: ./alice.pub\n  - name: ci2\n    key: ${second}\n`;
      await assert.rejects(parseTrustFile(signers, join(R.dir, 'two-signers.yaml')), (e: unknown) => isVouchError(e) && /signers\.1 \(ci2\): the same public key as signers\.0 \(ci\)/.test(e.message));
    }
  });

  test('alice’s approval copied with the hint and keyid of the compressed encoding does not verify', async () => {
    const trust = await R.trust(['alice', 'bob'], 'require:\n  approvals: 2\n');
    const path = await approve('alice');
    const b = JSON.parse(readFileSync(path, 'utf8'));
    const { createHash } = await import('node:crypto');
    const der = createPublicKey(compressedPem(R.keys['alice']!.pub)).export({ format: 'der', type: 'spki' });
    const kid = createHash('sha256').update(der).digest('hex');
    b.verificationMaterial.publicKey.hint = kid;
    b.dsseEnvelope.signatures[0].keyid = kid;
    const copy = join(R.dir, 'copy.sigstore.json');
    writeFileSync(copy, JSON.stringify(b));
    const v = await verifyApprovalsForImage(await loadApprovals([path, copy]), apiImage, trust);
    assert.equal(v.ok, false);
    assert.deepEqual(v.reviewers.map((r) => r.name), ['alice']);
  });
  test('counting is by the key itself: a trust file built in code with one key under two names still counts one reviewer', async () => {
    const { describeKey } = await import('../../src/core/trust/prehash.js');
    const trust = await R.trust(['alice'], 'require:\n  approvals: 2\n');
    const pem = compressedPem(R.keys['alice']!.pub);
    // parseTrustFile refuses this; the count must not depend on that alone.
    trust.reviewers.push({ name: 'carol', type: 'key', keyPath: 'carol.pub', publicKeyPem: pem, key: describeKey(pem) });
    const path = await approve('alice');
    const b = JSON.parse(readFileSync(path, 'utf8'));
    const kid = describeKey(pem).keyId;
    b.verificationMaterial.publicKey.hint = kid;
    b.dsseEnvelope.signatures[0].keyid = kid;
    const copy = join(R.dir, 'copy2.sigstore.json');
    writeFileSync(copy, JSON.stringify(b));
    const v = await verifyApprovalsForImage(await loadApprovals([path, copy]), apiImage, trust);
    assert.equal(v.reviewers.length, 1, JSON.stringify(v));
    assert.equal(v.ok, false);
    assert.equal(v.reasons.at(-1)!.code, 'NOT_ENOUGH_REVIEWERS');
  });
});

describe('#10 the approvals folder holds only regular files', () => {
  test('a symlink to /dev/zero (and a FIFO) is refused at once, naming the file', async () => {
    const dir = join(R.dir, 'dos');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.sigstore.json'), readFileSync(await approve('alice')));
    symlinkSync('/dev/zero', join(dir, 'zz.sigstore.json'));
    await assert.rejects(loadApprovals([dir]), (e: unknown) => isVouchError(e) && e.exitCode === 2 && /zz\.sigstore\.json: not a regular file/.test(e.message));
    await assert.rejects(loadApprovals([join(dir, 'zz.sigstore.json')]), (e: unknown) => isVouchError(e) && /zz\.sigstore\.json: not a regular file/.test(e.message));
    const { execFileSync } = await import('node:child_process');
    const fifo = join(R.dir, 'fifo.sigstore.json');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(loadApprovals([fifo]), (e: unknown) => isVouchError(e) && /fifo\.sigstore\.json: not a regular file/.test(e.message));
  });
});

describe('#11 only the bytes vouch writes; the approval is named by its signed statement', () => {
  test('a final newline changed to CR, space or tab, extra whitespace, or added empty tlogEntries / rfc3161Timestamps is refused', async () => {
    const trust = await R.trust(['alice']);
    const path = await approve('alice');
    const text = readFileSync(path, 'utf8');
    assert.equal((await verifyApprovalsForImage([parseApproval(Buffer.from(`${text}\n`), path)], apiImage, trust)).ok, true, 'one trailing newline (as `vouch approve` writes) is fine');
    const b = JSON.parse(text);
    const variants: Record<string, string> = {
      cr: `${text}\r`,
      space: `${text} `,
      tab: `${text}\t`,
      crlf: `${text}\r\n`,
      twoNewlines: `${text}\n\n`,
      pretty: JSON.stringify(b, null, 2),
      tlog: JSON.stringify({ ...b, verificationMaterial: { ...b.verificationMaterial, tlogEntries: [] } }),
      tsa: JSON.stringify({ ...b, verificationMaterial: { ...b.verificationMaterial, timestampVerificationData: { rfc3161Timestamps: [] } } }),
    };
    for (const [name, t] of Object.entries(variants)) {
      assert.throws(() => parseApproval(Buffer.from(t), path), (e: unknown) => isVouchError(e) && e.exitCode === 2, name);
    }
  });

  test('an approval’s digest (what a baseline names) is its signed statement’s, the same whatever file carries it', async () => {
    const path = await approve('alice');
    const a = parseApproval(readFileSync(path), path);
    const withNewline = parseApproval(Buffer.from(`${readFileSync(path, 'utf8')}\n`), path);
    assert.equal(a.digest, withNewline.digest);
    const { createHash } = await import('node:crypto');
    const payload = Buffer.from(JSON.parse(readFileSync(path, 'utf8')).dsseEnvelope.payload, 'base64');
    assert.equal(a.digest, `sha256:${createHash('sha256').update(payload).digest('hex')}`);
  });
});

describe('#4 a multi-platform image: the index is a subject only when every platform was reviewed', () => {
  test('one platform of two reviewed: subjects are the reviewed manifest only; the approval does not verify for the index', async () => {
    const s = fakeSession({ multiPlatform: true });
    const arm = `sha256:${'a'.repeat(64)}`;
    s.images[0]!.indexPlatforms = [s.images[0]!.digest, arm];
    const st = buildApprovalStatement(s, 'approved', 'r', { name: 'alice', identity: 'k' }, { signers: NO_SIGNERS });
    const subjects = st.subject.map((x) => `sha256:${x.digest.sha256}`);
    assert.ok(subjects.includes(s.images[0]!.digest));
    assert.ok(!subjects.includes(s.images[0]!.index!), 'the index is not covered');
    assert.deepEqual(st.predicate.images[0]!.indexCovered, false);
    // Unknown platform list (an older session): the index is not covered either.
    const old = fakeSession({ multiPlatform: true });
    assert.ok(!buildApprovalStatement(old, 'approved', 'r', { name: 'alice', identity: 'k' }, { signers: NO_SIGNERS }).subject.some((x) => `sha256:${x.digest.sha256}` === old.images[0]!.index));
  });

  test('every platform of the index reviewed: the index is a subject too', async () => {
    const s = fakeSession({ multiPlatform: true });
    const arm = structuredClone(s.images[0]!);
    arm.key = 'api-arm64';
    arm.digest = `sha256:${'a'.repeat(64)}`;
    arm.platform = 'linux/arm64';
    s.images[0]!.indexPlatforms = [s.images[0]!.digest, arm.digest];
    arm.indexPlatforms = [s.images[0]!.digest, arm.digest];
    s.images.splice(1, 0, arm);
    const st = buildApprovalStatement(s, 'approved', 'r', { name: 'alice', identity: 'k' }, { signers: NO_SIGNERS });
    assert.deepEqual(
      st.subject.map((x) => `sha256:${x.digest.sha256}`),
      [s.images[0]!.index, s.images[0]!.digest, arm.digest, s.images[2]!.digest],
    );
    assert.equal(st.predicate.images[0]!.indexCovered, true);
  });
});

describe('vouch chain: an expired approval is not listed as OK', () => {
  test('attached approvals carry expiresAt and expired; the text says EXPIRED / valid until', async () => {
    const { attachedApprovals } = await import('../../src/core/approval/attached.js');
    const { approvalTrustedRoot } = await import('../../src/core/approval/verify.js');
    const { formatChainApprovalLine } = await import('../../src/cli/commands/chain.js');
    const trust = await R.trust(['alice']);
    const path = await approve('alice', { now: new Date(Date.now() - 3 * DAY), expiresAt: new Date(Date.now() - DAY) });
    const bytes = readFileSync(path);
    const { createHash } = await import('node:crypto');
    const layer = { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, annotations: {}, bytes };
    const att = { kind: 'bundle' as const, subject: api.digest, via: 'referrers-tag' as const, manifestDigest: layer.digest, layers: [layer] };
    const root = approvalTrustedRoot(trust, false);
    const [now] = attachedApprovals([att], { digest: api.digest, index: null }, trust, root);
    // As vouch verify: an expired approval admits nothing (EXPIRED), but who signed it and what it says is listed.
    assert.equal(now!.verified, false, now!.message);
    assert.equal(now!.reason, 'EXPIRED');
    assert.equal(now!.reviewer, 'alice');
    assert.equal(now!.expired, true);
    assert.match(formatChainApprovalLine(now!), /^ {2}EXPIRED referrers-tag sha256:\S+ approved by alice \(payments 2\.4\.0\), expired \d{4}-/);
    const [before] = attachedApprovals([att], { digest: api.digest, index: null }, trust, root, { now: new Date(Date.now() - 2 * DAY) });
    assert.equal(before!.verified, true, before!.message);
    assert.equal(before!.expired, false);
    assert.match(formatChainApprovalLine(before!), /^ {2}OK {3}referrers-tag .* valid until \d{4}-/);
  });
});

describe('#4 for real: session init on a two-platform layout', () => {
  test('the session records both platform manifests; approving it names the reviewed one only, and says so', async () => {
    const { writeMiniLayout } = await import('../helpers/mini-layout.js');
    const { createSession } = await import('../../src/core/review/session.js');
    const { formatSession, sessionSummary } = await import('../../src/cli/commands/session.js');
    const dir = join(R.dir, 'multi');
    mkdirSync(dir);
    const L = await writeMiniLayout(join(dir, 'layout'), {
      tag: '2.4.0',
      platforms: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }],
      files: (p: { architecture: string }) => [{ path: 'bin/hello', content: `#!/bin/sh\necho ${p.architecture}\n`, mode: 0o755 }],
    });
    writeFileSync(join(dir, 'vouch.trust.yaml'), R.trustYaml(['alice']).replace(/\.\//g, '../'));
    writeFileSync(join(dir, 'vouch.release.yaml'), 'name: payments\nversion: 2.4.0\nimages:\n  api: oci:./layout:2.4.0\ntrust: ./vouch.trust.yaml\n');
    const s = await createSession(join(dir, 'vouch.release.yaml'));
    const im = s.images[0]!;
    assert.equal(im.index, L.indexDigest);
    assert.deepEqual([...(im.indexPlatforms ?? [])].sort(), L.images.map((x: { manifestDigest: string }) => x.manifestDigest).sort());
    const st = buildApprovalStatement(s, 'approved', 'r', { name: 'alice', identity: 'k' }, { signers: NO_SIGNERS });
    assert.deepEqual(st.subject.map((x) => `sha256:${x.digest.sha256}`), [im.digest]);
    assert.equal(st.predicate.images[0]!.indexCovered, false);
    assert.equal(sessionSummary(s).images[0]!.indexCovered, false);
    assert.match(formatSession(s, 'x.review.json'), /platforms api: reviewed platform\(s\) linux\/amd64 of index sha256:[0-9a-f]{64} \(2 listed\); the index is NOT covered/);
  });
});
