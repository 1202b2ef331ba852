/**
 * The headless review flow on the demo image, as a user types it: key
 * generate, session init, annotate, approve (refused while blocked), verify
 * (two-person rule, exact JSON shape), diff/check against the approval; and
 * each bad input of issue 10: one line naming file and field, exit 2, nothing
 * already saved touched.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { runCli, spawnCli, testCacheDir } from '../helpers/inspect.js';

let dir: string;
let ref: string;
let session: string;
let digest: string;
let name: string;
const env = { VOUCH_KEY_PASSWORD: 'pass phrase' };

before(async () => {
  process.env.VOUCH_KEY_PASSWORD = env.VOUCH_KEY_PASSWORD;
  dir = mkdtempSync(join(tmpdir(), 'vouch-review-'));
  ref = (await ensureDemoImage(testCacheDir)).reference;
  for (const who of ['alice', 'bob']) {
    const r = await runCli(['key', 'generate', '--out', join(dir, who)]);
    assert.equal(r.code, 0, r.stderr);
  }
  writeFileSync(join(dir, 'vouch.trust.yaml'), 'reviewers:\n  - {name: alice, key: ./alice.pub}\n  - {name: bob, key: ./bob.pub}\nrequire:\n  approvals: 2\n  maxAge: 30d\n');
  writeFileSync(join(dir, 'vouch.release.yaml'), `name: demo\nversion: 1.0.0\nimages:\n  app: ${ref}\ntrust: ./vouch.trust.yaml\n`);
});

const sh = (args: string[]) => runCli(args);

describe('review and approve the demo image, headless', () => {
  test('key generate: encrypted PKCS#8 0600 and an SPKI public key; never overwrites', async () => {
    const key = readFileSync(join(dir, 'alice.key'), 'utf8');
    assert.match(key, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(statSync(join(dir, 'alice.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(dir, 'alice.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    const again = await sh(['key', 'generate', '--out', join(dir, 'alice')]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /alice\.key: already exists/);
  });

  test('session init pins the image and records the automated results; show lists open findings', async () => {
    const r = await sh(['session', 'init', '--release', join(dir, 'vouch.release.yaml'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    session = j.session;
    assert.equal(session, join(dir, 'demo-1.0.0.review.json'));
    digest = j.images[0].digest;
    const s = JSON.parse(readFileSync(session, 'utf8'));
    assert.equal(s.version, 1);
    assert.equal(s.images[0].pinned, `${ref.replace(/:demo$/, '')}@${digest}`);
    assert.equal(s.images[0].packages.length, 12);
    name = s.images[0].name;
    const show = await sh(['session', 'show', session, '--json']);
    const sum = JSON.parse(show.stdout);
    assert.equal(sum.byDisposition.open, 8, 'the demo image has 8 planted findings');
    assert.ok(sum.blockers.approved.length >= 1);
  });

  // Session 4: an annotation on the flagged file itself used to leave the finding open and blocking.
  test('annotate --path on a flagged file decides its finding: session show lists it, approve no longer names it; a missing key is named before any prompt', async () => {
    const before = JSON.parse((await sh(['session', 'show', session, '--json'])).stdout);
    const setuid = before.findings.find((f: any) => f.source === 'check' && f.id === 'VCH-LP-002');
    assert.ok(setuid, 'the demo image has a setuid finding');
    assert.equal(setuid.disposition, 'open');
    const blockerFor = (stderr: string): boolean => stderr.split('\n').some((l) => l.includes('blocker:') && l.includes('VCH-LP-002') && l.includes(`(${setuid.subject})`));
    const blocked = await sh(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key')]);
    assert.equal(blocked.code, 1);
    assert.ok(blockerFor(blocked.stderr), blocked.stderr);
    const a = await sh(['annotate', '--session', session, '--path', setuid.subject, '--disposition', 'accepted-risk', '--text', 'the login flow needs it', '--author', 'alice', '--json']);
    assert.equal(a.code, 0, a.stderr);
    const after = JSON.parse((await sh(['session', 'show', session, '--json'])).stdout);
    assert.equal(after.findings.find((f: any) => f.source === 'check' && f.id === 'VCH-LP-002' && f.subject === setuid.subject).disposition, 'accepted-risk');
    assert.equal(after.byDisposition.open, before.byDisposition.open - 1);
    const still = await sh(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key')]);
    assert.equal(still.code, 1, 'other findings still block');
    assert.ok(!blockerFor(still.stderr), still.stderr);
    assert.equal((await sh(['annotate', '--session', session, '--delete', JSON.parse(a.stdout)[0].id, '--author', 'alice'])).code, 0);
    // A key file that is not there: one line naming it, exit 2 (no passphrase asked for nothing).
    const missing = await spawnCli(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'nobody.key')], { VOUCH_KEY_PASSWORD: '' });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nobody\.key: cannot read key \(ENOENT\)/);
  });

  test('approve: approved refused naming each blocker; with-exceptions needs accepted-risk on each; then two reviewers sign', async () => {
    const refused = await sh(['approve', '--session', session, '--decision', 'approved', '--key', join(dir, 'alice.key')]);
    assert.equal(refused.code, 1);
    const blockers = refused.stderr.split('\n').filter((l) => l.includes('blocker:'));
    assert.ok(blockers.length >= 3, refused.stderr);
    assert.ok(blockers.some((b) => b.includes('VCH-LP-002')) && blockers.some((b) => b.includes('VCH-SC-003')));
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.sigstore.json')).length, 0, 'nothing written');

    const unknown = await sh(['annotate', '--session', session, '--package', 'pkg:npm/not-there@1.0.0', '--disposition', 'note', '--text', 'x']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /package "pkg:npm\/not-there@1\.0\.0" is not in the inventory of app/);

    const mf = await sh(['annotate', '--session', session, '--path', '/app/.env', '--disposition', 'must-fix', '--text', 'rotate the key', '--author', 'alice', '--json']);
    assert.equal(mf.code, 0, mf.stderr);
    const mustFix = JSON.parse(mf.stdout)[0].id as string;
    const blocked = await sh(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key')]);
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, new RegExp(`must-fix ${mustFix} on app \\(/app/\\.env\\): rotate the key`));
    assert.match(blocked.stderr, /needs an accepted-risk annotation/);

    const shown = JSON.parse((await sh(['session', 'show', session, '--json'])).stdout);
    const failingHigh = [...new Set(shown.findings.filter((f: any) => f.source === 'check' && ['high', 'critical'].includes(f.severity)).map((f: any) => f.id))] as string[];
    for (const id of failingHigh) {
      const r = await sh(['annotate', '--session', session, '--check', id, '--disposition', 'accepted-risk', '--text', `accepted ${id}`, '--author', 'alice']);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await sh(['annotate', '--session', session, '--delete', mustFix, '--author', 'alice'])).code, 0);
    const after = JSON.parse(readFileSync(session, 'utf8'));
    assert.equal(after.annotations.find((a: any) => a.id === mustFix).deleted, true);
    assert.equal(after.annotations.find((a: any) => a.id === mustFix).history.length, 1);

    // bob relies on alice's accepted-risk annotations: refused by default, listing them with their author.
    const foreign = await sh(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'bob.key'), '--json']);
    assert.equal(foreign.code, 1, foreign.stderr);
    assert.match(foreign.stderr, /not written by reviewer "bob" \(by "alice"\); .*--accept-annotations-by alice/);
    assert.match(foreign.stderr, /annotation: accepted-risk \w+ by "alice" on /);
    assert.equal(JSON.parse(foreign.stdout).refused, 'ANNOTATIONS_BY_OTHERS');
    assert.ok(!existsSync(join(dir, 'demo-1.0.0.bob.sigstore.json')));
    for (const who of ['alice', 'bob']) {
      const r = await sh(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, `${who}.key`), '--reviewer', who, '--rationale', 'exceptions recorded', '--json', ...(who === 'bob' ? ['--accept-annotations-by', 'alice'] : [])]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.reviewer, who);
      assert.ok(existsSync(j.approval));
      // The exceptions it signs, with their authors.
      assert.ok(j.exceptions.length > 0 && j.exceptions.every((x: any) => x.author === 'alice' && x.disposition === 'accepted-risk'), JSON.stringify(j.exceptions));
    }
    const text = await sh(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--out', join(dir, 'text.sigstore.json')]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^exception accepted-risk \w+ by "alice" on /m);
  });

  test('verify: two distinct reviewers admit the digest; one is not enough; another digest is refused; JSON shape exact', async () => {
    const files = [join(dir, 'demo-1.0.0.alice.sigstore.json'), join(dir, 'demo-1.0.0.bob.sigstore.json')];
    const ok = await spawnCli(['verify', ...files, '--image', `${name}@${digest}`, '--trust', join(dir, 'vouch.trust.yaml'), '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const j = JSON.parse(ok.stdout);
    assert.deepEqual(Object.keys(j), ['ok', 'image', 'decision', 'release', 'reviewers', 'reasons', 'notes']);
    assert.deepEqual({ ...j, reviewers: j.reviewers.map((r: any) => r.name).sort() }, {
      ok: true,
      image: `${name}@${digest}`,
      decision: 'approved-with-exceptions',
      release: { name: 'demo', version: '1.0.0' },
      reviewers: ['alice', 'bob'],
      reasons: [],
      notes: [],
    });
    const dirRun = await sh(['verify', dir, '--image', `${name}@${digest}`, '--trust', join(dir, 'vouch.trust.yaml')]);
    assert.equal(dirRun.code, 0, 'a folder of approvals works too');
    const one = await sh(['verify', files[0]!, '--image', `${name}@${digest}`, '--trust', join(dir, 'vouch.trust.yaml'), '--json']);
    assert.equal(one.code, 1);
    assert.equal(JSON.parse(one.stdout).reasons.at(-1).code, 'NOT_ENOUGH_REVIEWERS');
    const other = await sh(['verify', ...files, '--image', `${name}@sha256:${'0'.repeat(64)}`, '--trust', join(dir, 'vouch.trust.yaml'), '--json']);
    assert.equal(other.code, 1);
    assert.equal(JSON.parse(other.stdout).reasons[0].code, 'NO_APPROVAL');
    // The records read but about another digest are notes (newcomer 22).
    assert.deepEqual(JSON.parse(other.stdout).notes.map((n: any) => n.code), ['OTHER_IMAGE', 'OTHER_IMAGE']);
  });

  test('verify refuses a bundle with any byte flipped (positions spread over the file)', async () => {
    const file = join(dir, 'demo-1.0.0.alice.sigstore.json');
    const bytes = readFileSync(file);
    const trust = join(dir, 'one.trust.yaml');
    writeFileSync(trust, 'reviewers:\n  - {name: alice, key: ./alice.pub}\n');
    assert.equal((await sh(['verify', file, '--image', `${name}@${digest}`, '--trust', trust])).code, 0);
    const flipped = join(dir, 'flipped.json');
    for (let i = 0; i < 40; i++) {
      const pos = Math.floor((i * (bytes.length - 1)) / 39);
      const t = Buffer.from(bytes);
      t[pos] = t[pos]! ^ 0x04;
      writeFileSync(flipped, t);
      const r = await sh(['verify', flipped, '--image', `${name}@${digest}`, '--trust', trust]);
      assert.notEqual(r.code, 0, `byte ${pos} flipped was accepted`);
    }
  });

  test('diff and check take the approval as the baseline, after it verifies; a tampered one is an error', async () => {
    const approval = join(dir, 'demo-1.0.0.alice.sigstore.json');
    const trust = join(dir, 'vouch.trust.yaml');
    const d = await sh(['diff', approval, ref, '--trust', trust, '--json']);
    assert.equal(d.code, 0, d.stderr);
    const j = JSON.parse(d.stdout);
    assert.equal(j.packages.added.length + j.packages.removed.length + j.packages.changed.length + j.packages.licenseChanges.length, 0, 'same image: no package change');
    // A record holds package lists only: the text says so instead of a bare "not compared".
    const t = await sh(['diff', approval, ref, '--trust', trust]);
    assert.match(t.stdout, /Config, layers and files: not compared \(an approval record holds package lists only, no config, layers or files\)/);
    const c = await sh(['check', ref, '--baseline', approval, '--trust', trust, '--format', 'json']);
    assert.ok(c.code === 0 || c.code === 1, c.stderr);
    const bad = join(dir, 'tampered.sigstore.json');
    const doc = JSON.parse(readFileSync(approval, 'utf8'));
    const st = JSON.parse(Buffer.from(doc.dsseEnvelope.payload, 'base64').toString());
    st.predicate.images[0].packages.pop();
    doc.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    writeFileSync(bad, JSON.stringify(doc));
    for (const args of [['diff', bad, ref, '--trust', trust], ['check', ref, '--baseline', bad, '--trust', trust]]) {
      const r = await sh(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /tampered\.sigstore\.json: the approval record does not verify/);
    }
  });
});

describe('bad input: one line naming file and field, exit 2, nothing saved touched', () => {
  test('a key with the wrong passphrase', async () => {
    const before = readdirSync(dir).sort();
    const r = await spawnCli(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'alice.key')], { VOUCH_KEY_PASSWORD: 'wrong' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /alice\.key: passphrase: wrong passphrase/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(readdirSync(dir).sort(), before);
  });

  test('an encrypted key, no VOUCH_KEY_PASSWORD and no terminal: one line naming the variable and the key, exit 2, nothing asked', async () => {
    const before = readdirSync(dir).sort();
    const r = await spawnCli(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'alice.key')], { VOUCH_KEY_PASSWORD: undefined });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /alice\.key: set VOUCH_KEY_PASSWORD to the key's passphrase \(no terminal to ask for it on\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(readdirSync(dir).sort(), before);
  });

  test('a session file that does not parse, or has an unknown version', async () => {
    const broken = join(dir, 'broken.review.json');
    writeFileSync(broken, '{"version": 1, "release": ');
    const r = await sh(['annotate', '--session', broken, '--whole-image', '--disposition', 'note', '--text', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /broken\.review\.json: not a review session: not JSON/);
    assert.equal(readFileSync(broken, 'utf8'), '{"version": 1, "release": ');
    const future = join(dir, 'future.review.json');
    writeFileSync(future, JSON.stringify({ ...JSON.parse(readFileSync(session, 'utf8')), version: 7 }));
    const f = await sh(['session', 'show', future]);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /future\.review\.json: version: 7 is not a session version/);
  });

  test('an approval that is not a bundle', async () => {
    const p = join(dir, 'notes.sigstore.json');
    writeFileSync(p, JSON.stringify({ hello: 'world' }));
    const r = await sh(['verify', p, '--image', `${name}@${digest}`, '--trust', join(dir, 'vouch.trust.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /notes\.sigstore\.json: not an approval bundle/);
  });

  test('a trust file without reviewers', async () => {
    const t = join(dir, 'no-reviewers.yaml');
    writeFileSync(t, 'signers: []\n');
    const r = await sh(['verify', join(dir, 'demo-1.0.0.alice.sigstore.json'), '--image', `${name}@${digest}`, '--trust', t]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no-reviewers\.yaml: reviewers: none listed/);
    const a = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'alice.key'), '--trust', t]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /no-reviewers\.yaml: reviewers: none listed/);
  });

  test('a release file naming a missing image: no session written', async () => {
    const rel = join(dir, 'missing.release.yaml');
    writeFileSync(rel, `name: missing\nversion: 1.0.0\nimages:\n  app: ${ref}\n  worker: oci:./no-such-layout:1\ntrust: ./vouch.trust.yaml\n`);
    const r = await sh(['session', 'init', '--release', rel]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing\.release\.yaml: images\.worker: .*no-such-layout/);
    assert.equal(existsSync(join(dir, 'missing-1.0.0.review.json')), false);
  });
});

describe('approve: the approval file is the trusted reviewer\'s, never lost, never another\'s', () => {
  const trust = () => join(dir, 'vouch.trust.yaml');
  const approval = (who: string) => join(dir, `demo-1.0.0.${who}.sigstore.json`);
  const signedReviewer = (file: string) => JSON.parse(Buffer.from(JSON.parse(readFileSync(file, 'utf8')).dsseEnvelope.payload, 'base64').toString()).predicate.reviewer.name;
  const temps = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  test('a failed approve leaves the approval already saved at the output path byte for byte', async () => {
    const before = readFileSync(approval('alice'));
    // Alice's key is trusted, but this trust file requires a log entry: the fresh bundle does not verify.
    const strict = join(dir, 'tlog.trust.yaml');
    writeFileSync(strict, 'reviewers:\n  - {name: alice, key: ./alice.pub}\nrequire:\n  tlog: true\n');
    const r = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'alice.key'), '--trust', strict, '--out', approval('alice')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not verify .*TLOG_MISSING.*nothing written/);
    assert.deepEqual(readFileSync(approval('alice')), before);
    assert.deepEqual(temps(), []);
  });

  test('--out into a missing folder names the path the user gave, before signing', async () => {
    const given = `${dir}/../no-such-dir-vouch/x.json`; // as typed, not normalised
    const r = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'alice.key'), '--out', given]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), `vouch: error: approve: cannot write ${given}: no such directory`);
  });

  test('file and signed reviewer name come from the trusted reviewer the key matches, not the OS user or $VOUCH_AUTHOR', async () => {
    const r = await spawnCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'bob.key'), '--accept-annotations-by', 'alice', '--json'], { ...env, VOUCH_AUTHOR: 'alice' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).approval, approval('bob'));
    assert.equal(signedReviewer(approval('bob')), 'bob');
    assert.equal(signedReviewer(approval('alice')), 'alice');
    const wrong = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'bob.key'), '--reviewer', 'alice']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--reviewer: "alice", but key [0-9a-f]+ is trusted as reviewer "bob"/);
  });

  test('another reviewer\'s approval file is never replaced; the same reviewer may replace their own', async () => {
    const alice = readFileSync(approval('alice'));
    const r = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'bob.key'), '--out', approval('alice')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already holds the approval of reviewer "alice"; choose another --out/);
    assert.deepEqual(readFileSync(approval('alice')), alice);
    const again = await sh(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--rationale', 'again']);
    assert.equal(again.code, 0, again.stderr);
    assert.notDeepEqual(readFileSync(approval('alice')), alice);
    assert.equal(signedReviewer(approval('alice')), 'alice');
  });

  test('a key no reviewer holds is refused before signing; --reviewer makes it an untrusted self-review that says it will not verify', async () => {
    assert.equal((await sh(['key', 'generate', '--out', join(dir, 'carol')])).code, 0);
    const r = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'carol.key')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`key [0-9a-f]+ matches no reviewer in ${trust().replace(/[.]/g, '\\.')}`));
    assert.equal(existsSync(approval('carol')), false);
    const taken = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'carol.key'), '--reviewer', 'bob']);
    assert.equal(taken.code, 2, 'a trusted reviewer\'s name is not available to another key');
    const self = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'carol.key'), '--reviewer', 'carol']);
    assert.equal(self.code, 0, self.stderr);
    assert.match(self.stderr, /not a reviewer in .*this approval will not verify/);
    assert.equal(signedReviewer(approval('carol')), 'carol');
  });

  test('--expires: a past date is refused (exit 2); durations in the maxAge grammar', async () => {
    const past = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'alice.key'), '--expires', '2020-01-01', '--out', join(dir, 'exp.sigstore.json')]);
    assert.equal(past.code, 2);
    assert.match(past.stderr, /--expires: "2020-01-01" is in the past/);
    assert.equal(existsSync(join(dir, 'exp.sigstore.json')), false);
    const t0 = Date.now();
    const ok = await sh(['approve', '--session', session, '--decision', 'rejected', '--key', join(dir, 'alice.key'), '--expires', '90m', '--out', join(dir, 'exp.sigstore.json')]);
    assert.equal(ok.code, 0, ok.stderr);
    const st = JSON.parse(Buffer.from(JSON.parse(readFileSync(join(dir, 'exp.sigstore.json'), 'utf8')).dsseEnvelope.payload, 'base64').toString());
    const at = Date.parse(st.predicate.expiresAt);
    assert.ok(at >= t0 + 90 * 60_000 - 1000 && at <= Date.now() + 90 * 60_000, st.predicate.expiresAt);
  });
});

describe('annotate --edit: no silent subject change, no silent un-delete', () => {
  test('--edit with a subject flag is refused; --edit on a deleted annotation says to --restore it', async () => {
    const add = await sh(['annotate', '--session', session, '--path', '/app/.env', '--disposition', 'note', '--text', 'first', '--author', 'alice', '--json']);
    assert.equal(add.code, 0, add.stderr);
    const id = JSON.parse(add.stdout)[0].id as string;
    const before = readFileSync(session, 'utf8');
    const moved = await sh(['annotate', '--session', session, '--edit', id, '--package', 'pkg:npm/x@1', '--text', 'moved']);
    assert.equal(moved.code, 2);
    assert.match(moved.stderr, new RegExp(`--package: the subject of annotation ${id} cannot change`));
    assert.equal(readFileSync(session, 'utf8'), before, 'nothing saved');
    assert.equal((await sh(['annotate', '--session', session, '--delete', id])).code, 0);
    const edit = await sh(['annotate', '--session', session, '--edit', id, '--text', 'back?']);
    assert.equal(edit.code, 2);
    assert.match(edit.stderr, new RegExp(`annotation ${id} is deleted; restore it first \\(annotate --restore ${id}\\)`));
    const restore = await sh(['annotate', '--session', session, '--restore', id, '--json']);
    assert.equal(restore.code, 0, restore.stderr);
    const a = JSON.parse(restore.stdout);
    assert.equal(a.deleted, false);
    assert.deepEqual(a.history.map((h: any) => h.deleted), [false, true]);
    assert.equal((await sh(['annotate', '--session', session, '--edit', id, '--text', 'second'])).code, 0);
  });
});
