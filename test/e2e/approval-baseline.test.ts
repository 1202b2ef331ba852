/**
 * An approval record used as the baseline (`check --baseline`, `diff RECORD REF`,
 * the release file's `baseline:` for session init / approve / the workbench)
 * must be one `vouch verify` would accept on its own: signed by a trusted
 * reviewer, approved or approved-with-exceptions, not expired, and meeting the
 * trust file's `require`. A rejected, expired or otherwise refused record is an
 * error naming the reason; a record of another release is taken with a loud
 * warning; where the baseline is reported, it says which release, decision,
 * reviewer and time it is.
 *
 * The case is built for real: an OCI layout that ships a GPL package, and
 * alice's signed records of other releases that listed the same package
 * (without a baseline the copyleft check fails; a baseline listing it hides it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { buildApprovalStatement } from '../../src/core/approval/statement.js';
import { signApprovalStatement } from '../../src/core/approval/sign.js';
import type { Decision } from '../../src/core/review/types.js';
import { fakeSession, makeReviewers, type Reviewers } from '../helpers/approval.js';
import { runCli } from '../helpers/inspect.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { NO_SIGNERS } from '../helpers/approval.js';

let dir: string;
let rv: Reviewers;
let ref: string;
const GPL = 'pkg:npm/evilpkg@1.0.0';

async function record(file: string, release: { name: string; version: string }, decision: Decision, opts: { now?: Date; expiresAt?: Date } = {}): Promise<string> {
  const s = fakeSession();
  s.release = { ...s.release, ...release };
  s.images = [{ ...s.images[0]!, key: 'app', name: 'registry.example.com/acme/app', packages: [GPL], licenses: { [GPL]: ['GPL-3.0-only'] } }];
  const st = buildApprovalStatement(s, decision, `${decision} ${release.name}`, { name: 'alice', identity: 'alice' }, { signers: NO_SIGNERS, now: opts.now ?? new Date(), ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}) });
  const b = await signApprovalStatement(st, { kind: 'key', keyPath: rv.keys.alice!.key, passphrase: rv.passphrase });
  const path = join(dir, `${file}.sigstore.json`);
  writeFileSync(path, `${JSON.stringify(b)}\n`);
  return path;
}

const copyleft = (stdout: string): number => (JSON.parse(stdout).results as Array<{ id: string; status: string }>).filter((r) => r.id === 'VCH-DC-005' && r.status === 'fail').length;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vouch-baseline-'));
  rv = await makeReviewers(['alice']);
  writeFileSync(join(dir, 'alice.pub'), readFileSync(rv.keys.alice!.pub));
  writeFileSync(join(dir, 'trust.yaml'), rv.trustYaml(['alice']));
  writeFileSync(join(dir, 'strict.yaml'), rv.trustYaml(['alice'], 'require:\n  decisions: [approved]\n  maxAge: 30d\n'));
  await writeMiniLayout(join(dir, 'img'), {
    tag: 'v2',
    platforms: [{ os: 'linux', architecture: 'amd64' }],
    files: () => [
      { path: 'etc/os-release', content: 'NAME=x\n' },
      { path: 'app/node_modules/evilpkg/package.json', content: JSON.stringify({ name: 'evilpkg', version: '1.0.0', license: 'GPL-3.0-only' }) },
      { path: 'app/package.json', content: JSON.stringify({ name: 'app', version: '2.0.0', license: 'MIT', dependencies: { evilpkg: '1.0.0' } }) },
    ],
  });
  ref = `oci:${join(dir, 'img')}:v2`;
});

describe('an approval record as the baseline must be a live approval', () => {
  test('without a baseline the copyleft package fails VCH-DC-005 (the case is real)', async () => {
    const r = await runCli(['check', ref, '--trust', join(dir, 'trust.yaml'), '--json']);
    assert.equal(copyleft(r.stdout), 1, r.stderr);
    assert.equal(JSON.parse(r.stdout).baseline, null);
  });

  test('a rejected, expired record of another release is refused by check and diff (exit 2, the reason codes), never used', async () => {
    const rejected = await record('rejected', { name: 'debug-tools', version: '0.1' }, 'rejected', { now: new Date('2025-01-01T00:00:00Z'), expiresAt: new Date('2025-01-02T00:00:00Z') });
    for (const args of [
      ['check', ref, '--trust', join(dir, 'trust.yaml'), '--baseline', rejected, '--json'],
      ['diff', rejected, ref, '--trust', join(dir, 'trust.yaml')],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /rejected\.sigstore\.json: .*REJECTED/, r.stderr);
      assert.match(r.stderr, /EXPIRED/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  });

  test('the trust file\'s require applies as verify applies it: DECISION_NOT_ALLOWED, TOO_OLD, REVIEWED_IN_FUTURE', async () => {
    const cases: Array<[string, string]> = [
      [await record('withexc', { name: 'app', version: '1.0.0' }, 'approved-with-exceptions'), 'DECISION_NOT_ALLOWED'],
      [await record('old', { name: 'app', version: '1.0.0' }, 'approved', { now: new Date('2024-01-01T00:00:00Z') }), 'TOO_OLD'],
      [await record('future', { name: 'app', version: '1.0.0' }, 'approved', { now: new Date(Date.now() + 365 * 86400e3) }), 'REVIEWED_IN_FUTURE'],
    ];
    for (const [file, code] of cases) {
      const r = await runCli(['check', ref, '--trust', join(dir, 'strict.yaml'), '--baseline', file, '--json']);
      assert.equal(r.code, 2, `${code}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(code), r.stderr);
    }
    // The same records under the lenient trust file: with-exceptions and old are live baselines there.
    for (const [file] of cases.slice(0, 2)) {
      const r = await runCli(['check', ref, '--trust', join(dir, 'trust.yaml'), '--baseline', file, '--json']);
      assert.notEqual(r.code, 2, r.stderr);
    }
  });

  test('a live approval of another release is used with a loud warning; check text and JSON say which release, decision, reviewer and time', async () => {
    const other = await record('other', { name: 'debug-tools', version: '0.1' }, 'approved', { now: new Date('2026-01-05T10:00:00Z') });
    const r = await runCli(['check', ref, '--trust', join(dir, 'trust.yaml'), '--baseline', other, '--json']);
    assert.equal(copyleft(r.stdout), 0, 'the baseline lists evilpkg: not new');
    const j = JSON.parse(r.stdout);
    assert.deepEqual(
      { kind: j.baseline.kind, release: j.baseline.approval.release, decision: j.baseline.approval.decision, reviewer: j.baseline.approval.reviewer, reviewedAt: j.baseline.approval.reviewedAt },
      { kind: 'approval', release: { name: 'debug-tools', version: '0.1' }, decision: 'approved', reviewer: 'alice', reviewedAt: '2026-01-05T10:00:00.000Z' },
    );
    assert.ok(j.warnings.some((w: string) => /baseline/.test(w) && /debug-tools 0\.1/.test(w) && /registry\.example\.com\/acme\/app/.test(w)), JSON.stringify(j.warnings));
    assert.match(r.stderr, /vouch: warning: .*baseline.*debug-tools 0\.1/);
    const t = await runCli(['check', ref, '--trust', join(dir, 'trust.yaml'), '--baseline', other]);
    assert.match(t.stdout, /^baseline +approval debug-tools 0\.1: approved by alice at 2026-01-05T10:00:00\.000Z/m, t.stdout);
  });

  test('session init: a refused baseline is an error naming the release file\'s baseline field; a live one is shown by session show', async () => {
    const rejected = await record('rejected2', { name: 'debug-tools', version: '0.1' }, 'rejected');
    const release = join(dir, 'vouch.release.yaml');
    writeFileSync(release, `name: app\nversion: 2.0.0\nimages:\n  app: ${ref}\ntrust: ./trust.yaml\nbaseline: ./rejected2.sigstore.json\n`);
    const bad = await runCli(['session', 'init', '--release', release]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /vouch\.release\.yaml: baseline: .*rejected2\.sigstore\.json.*REJECTED/);

    await record('app-1.0.0', { name: 'app', version: '1.0.0' }, 'approved', { now: new Date('2026-01-05T10:00:00Z') });
    writeFileSync(release, `name: app\nversion: 2.0.0\nimages:\n  app: ${ref}\ntrust: ./trust.yaml\nbaseline: ./app-1.0.0.sigstore.json\n`);
    const ok = await runCli(['session', 'init', '--release', release, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const session = JSON.parse(ok.stdout).session as string;
    const show = await runCli(['session', 'show', session]);
    assert.match(show.stdout, /^baseline .*app-1\.0\.0\.sigstore\.json: app 1\.0\.0 approved by alice at 2026-01-05T10:00:00\.000Z/m, show.stdout);
    const j = JSON.parse((await runCli(['session', 'show', session, '--json'])).stdout);
    assert.equal(j.baseline.decision, 'approved');
    assert.equal(j.baseline.reviewer, 'alice');

    // Another release's record: the session is made, with a warning in the session and on stderr.
    await record('other2', { name: 'debug-tools', version: '0.1' }, 'approved');
    writeFileSync(release, `name: app\nversion: 2.0.0\nimages:\n  app: ${ref}\ntrust: ./trust.yaml\nbaseline: ./other2.sigstore.json\n`);
    const warned = await runCli(['session', 'init', '--release', release, '--json']);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /warning: .*baseline.*debug-tools 0\.1.*not app/i);
  });
});
