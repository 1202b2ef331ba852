/**
 * Attacks on the review session file (issue 10 review): the session sits in a
 * repository the attacker can push to, so `vouch approve` must not sign what
 * the file claims about the images. It runs the automated part again on the
 * pinned digests and refuses a session that disagrees; a name that walks out
 * of the folder and terminal escapes in `session show` are refused/neutralised.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { runCli, testCacheDir } from '../helpers/inspect.js';

let dir: string;
let session: string;
let honest: any;

before(async () => {
  process.env.VOUCH_KEY_PASSWORD = 'pass phrase';
  dir = mkdtempSync(join(tmpdir(), 'vouch-session-attacks-'));
  const ref = (await ensureDemoImage(testCacheDir)).reference;
  assert.equal((await runCli(['key', 'generate', '--out', join(dir, 'alice')])).code, 0);
  writeFileSync(join(dir, 'vouch.trust.yaml'), 'reviewers:\n  - {name: alice, key: ./alice.pub}\n');
  writeFileSync(join(dir, 'vouch.release.yaml'), `name: demo\nversion: 1.0.0\nimages:\n  app: ${ref}\ntrust: ./vouch.trust.yaml\n`);
  const r = await runCli(['session', 'init', '--release', join(dir, 'vouch.release.yaml'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  session = JSON.parse(r.stdout).session;
  honest = JSON.parse(readFileSync(session, 'utf8'));
  // Every failing result at or above high accepted: the honest session may be approved with exceptions.
  const high = [...new Set(honest.images[0].checks.results.filter((x: any) => x.status === 'fail' && ['high', 'critical'].includes(x.severity)).map((x: any) => x.id))] as string[];
  assert.ok(high.length >= 2, 'the demo image has high findings');
  for (const id of high) assert.equal((await runCli(['annotate', '--session', session, '--check', id, '--disposition', 'accepted-risk', '--text', `ok ${id}`, '--author', 'alice'])).code, 0);
  honest = JSON.parse(readFileSync(session, 'utf8'));
});

function forge(name: string, change: (s: any) => void): string {
  const s = structuredClone(honest);
  change(s);
  const p = join(dir, `${name}.review.json`);
  writeFileSync(p, JSON.stringify(s, null, 2));
  return p;
}

const approve = (file: string, decision = 'approved', extra: string[] = []) => runCli(['approve', '--session', file, '--decision', decision, '--key', join(dir, 'alice.key'), '--reviewer', 'alice', '--out', join(dir, 'out.sigstore.json'), ...extra]);

describe('#2 approve signs what the images say, not what the session file says', () => {
  test('invisible characters in a severity: the session is refused (exit 2, naming the field)', async () => {
    for (const [name, sev] of [['zwsp', 'high\u200b'], ['nbsp', 'critical\u00a0']] as const) {
      const p = forge(name, (s) => {
        for (const r of s.images[0].checks.results) if (r.severity === 'high' || r.severity === 'critical') r.severity = sev;
      });
      const r = await approve(p);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${name}\\.review\\.json: images\\.0\\.checks\\.results\\.\\d+\\.severity: must be equal to one of the allowed values`));
      assert.equal(existsSync(join(dir, 'out.sigstore.json')), false);
    }
  });

  test('dropped results, results marked excepted, a swapped digest, another policy or trust digest: refused (exit 1) naming what differs', async () => {
    const cases: Array<[string, (s: any) => void, RegExp]> = [
      ['dropped', (s) => { const im = s.images[0].checks; im.pass += im.fail; im.fail = 0; im.excepted = 0; im.results = []; s.annotations = []; }, /images\.app\.checks/],
      ['excepted', (s) => { for (const r of s.images[0].checks.results) r.status = 'excepted'; s.images[0].checks.excepted = s.images[0].checks.fail; s.images[0].checks.fail = 0; }, /images\.app\.checks/],
      ['index', (s) => { s.images[0].index = `sha256:${'e'.repeat(64)}`; }, /images\.app\.(pinned|index)/],
      ['digest', (s) => { s.images[0].digest = `sha256:${'e'.repeat(64)}`; }, /images\.app\.(pinned|digest)/],
      ['policy', (s) => { s.policy.digest = `sha256:${'0'.repeat(64)}`; }, /policy\.digest/],
      ['failon', (s) => { s.policy.failOn = 'critical'; }, /policy\.failOn/],
      ['trust', (s) => { s.trust.digest = `sha256:${'0'.repeat(64)}`; }, /trust\.digest/],
      ['packages', (s) => { s.images[0].packages.pop(); }, /images\.app\.packages/],
    ];
    for (const [name, change, re] of cases) {
      const r = await approve(forge(name, change), 'approved', ['--json']);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /does not match a fresh run/, name);
      assert.match(r.stderr, re, name);
      assert.equal(JSON.parse(r.stdout).ok, false);
      assert.equal(existsSync(join(dir, 'out.sigstore.json')), false, `${name}: nothing signed`);
    }
  });

  test('newcomer 20: a dropped result is named by its id and subject, not shown as two truncated JSON blobs', async () => {
    const dropped = honest.images[0].checks.results.find((x: any) => x.id === 'VCH-LP-002' && x.status === 'fail');
    assert.ok(dropped, 'the demo image fails VCH-LP-002');
    const p = forge('one-dropped', (s) => {
      const c = s.images[0].checks;
      c.results = c.results.filter((x: any) => !(x.id === dropped.id && x.subject === dropped.subject));
      c.fail -= 1;
      c.pass += 1;
    });
    const r = await approve(p, 'approved-with-exceptions');
    assert.equal(r.code, 1, r.stderr);
    const line = r.stderr.split('\n').find((l) => l.includes('images.app.checks'));
    assert.ok(line, r.stderr);
    assert.match(line, new RegExp(`a fresh run also finds: ${dropped.id} ${dropped.severity} fail \\(${dropped.subject.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
    assert.doesNotMatch(line, /\{"pass"|the session says \{/);
    // A result the session invents is named too.
    const q = forge('one-invented', (s) => {
      s.images[0].checks.results.push({ id: 'VCH-XX-999', severity: 'low', status: 'fail', subject: 'image', message: 'invented' });
      s.images[0].checks.fail += 1;
    });
    const r2 = await approve(q, 'approved-with-exceptions');
    assert.equal(r2.code, 1, r2.stderr);
    assert.match(r2.stderr, /images\.app\.checks: .*not in a fresh run: VCH-XX-999 low fail \(image\)/);
  });

  test('the honest session: blockers come from the fresh results; the record names the policy actually used', async () => {
    const blocked = await approve(session);
    assert.equal(blocked.code, 1, 'accepted-risk findings block approved');
    const ok = await approve(session, 'approved-with-exceptions', ['--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const bundle = JSON.parse(readFileSync(join(dir, 'out.sigstore.json'), 'utf8'));
    const st = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
    assert.equal(st.predicate.policy.digest, honest.policy.digest);
    assert.equal(st.subject[0].digest.sha256, honest.images[0].digest.slice('sha256:'.length));
    // An accepted-risk annotation on a result that does not exist covers nothing.
    const fake = forge('fake-annotation', (s) => {
      const a = s.annotations.find((x: any) => x.subject.kind === 'check');
      s.annotations = s.annotations.filter((x: any) => x.subject.check !== a.subject.check);
      s.annotations.push({ ...a, id: 'a99', subject: { ...a.subject, subject: '/not/a/result' } });
    });
    const r = await approve(fake, 'approved-with-exceptions');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /needs an accepted-risk annotation/);
  });
});

describe('attacker review #4: a path annotation spelled like another subject key', () => {
  test('{kind: path, path: "image"} added to the session file: approve refuses the file (exit 2, naming the field), nothing signed', async () => {
    const p = forge('path-image', (s) => {
      s.annotations = [];
      s.annotations.push({ id: 'a-mallory-1', subject: { kind: 'path', image: 'app', path: 'image' }, createdAt: '2026-12-07T00:00:00Z', history: [], disposition: 'false-positive', severity: null, text: 'base layer reviewed upstream', author: 'alice', at: '2026-12-07T00:00:00Z', deleted: false });
    });
    const before = existsSync(join(dir, 'out.sigstore.json')) ? readFileSync(join(dir, 'out.sigstore.json'), 'utf8') : null;
    const r = await approve(p, 'approved', ['--accept-annotations-by', 'mallory']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /path-image\.review\.json: annotations\.0\.subject/);
    assert.equal(existsSync(join(dir, 'out.sigstore.json')) ? readFileSync(join(dir, 'out.sigstore.json'), 'utf8') : null, before, 'nothing signed');
  });

  test('approve lists each exception with the check ids it clears', async () => {
    const ok = await approve(session, 'approved-with-exceptions');
    assert.equal(ok.code, 0, ok.stderr);
    const lines = ok.stdout.split('\n').filter((l) => l.startsWith('exception '));
    assert.ok(lines.length >= 2, ok.stdout);
    for (const l of lines) assert.match(l, / on app \(check:(VCH-[A-Z]+-\d{3}) [^)]*\) clears \1: ok \1$/, l);
  });
});

describe('#9 a release name cannot walk out of the folder', () => {
  test('release.name "../../traversed/payments": refused, nothing written outside', async () => {
    const sub = join(dir, 'a', 'b');
    mkdirSync(sub, { recursive: true });
    const s = structuredClone(honest);
    s.release.name = '../../traversed/payments';
    const p = join(sub, 'trav.review.json');
    writeFileSync(p, JSON.stringify(s));
    const r = await runCli(['approve', '--session', p, '--decision', 'rejected', '--key', join(dir, 'alice.key'), '--reviewer', 'alice']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /trav\.review\.json: release\.name: must match pattern/);
    assert.equal(existsSync(join(dir, 'traversed')), false);
  });

  test('the default approval path is in the session folder', async () => {
    const sub = join(dir, 'c');
    mkdirSync(sub);
    const p = join(sub, 'copy.review.json');
    writeFileSync(p, readFileSync(session));
    const r = await runCli(['approve', '--session', p, '--decision', 'rejected', '--key', join(dir, 'alice.key'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout).approval as string;
    assert.equal(dirname(out), sub);
    assert.deepEqual(readdirSync(sub).sort(), ['copy.review.json', basename(out)].sort());
  });
});

describe('#7 session show neutralises what the session file says', () => {
  test('terminal escapes and invisible characters in platform, messages and annotations never reach the terminal', async () => {
    const p = forge('esc', (s) => {
      s.images[0].platform = 'linux/amd64\u001b]0;owned-title\u0007\u001b[2J';
      s.images[0].checks.results[0].message = 'fine\u001b[8m hidden';
      s.images[0].checks.results[0].id = 'VCH\u001b[1A-X';
      s.images[0].name = 'x\u200by';
      s.annotations[0].text = 'ok\u202eevil';
      s.annotations[0].author = 'al\u001b[2Kice';
      s.policy.path = '/p\u001b[1m';
      s.warnings = ['warn\u001b[31m'];
    });
    for (const args of [['session', 'show', p], ['session', 'show', p, '--json']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /[\u001b\u0007\u200b\u202e]/, args.join(' '));
    }
  });
});
