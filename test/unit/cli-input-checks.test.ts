/**
 * Newcomer review 16, 17, 19: bad input is one line naming the flag or file, exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/inspect.js';

const dir = mkdtempSync(join(tmpdir(), 'vouch-input-checks-'));
process.env.VOUCH_CONFIG_DIR = join(dir, 'config');

const oneLine = (stderr: string): void => assert.equal(stderr.trim().split('\n').length, 1, stderr);

test('17: approve with both --key and --keyless names both; a token that is not a JWT is exit 2 "not a JWT"', async () => {
  const both = await runCli(['approve', '--session', join(dir, 'none.review.json'), '--decision', 'rejected', '--key', join(dir, 'k.key'), '--keyless']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give one of --key or --keyless, not both/);
  oneLine(both.stderr);
  const neither = await runCli(['approve', '--session', join(dir, 'none.review.json'), '--decision', 'rejected']);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /give one of --key KEY or --keyless/);
  for (const token of ['abc.def.ghi', 'not-a-token', 'a.b', `x.${Buffer.from('[1]').toString('base64url')}.y`]) {
    const r = await runCli(['approve', '--session', join(dir, 'none.review.json'), '--decision', 'rejected', '--keyless', '--identity-token', token]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--identity-token: not a JWT/);
    oneLine(r.stderr);
  }
});

test('19: config set signing.key to a missing file is refused (exit 2) unless --force; an existing one is stored as an absolute path', async () => {
  const missing = join(dir, 'nope.key');
  const r = await runCli(['config', 'set', 'signing.key', missing]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /signing\.key: .*nope\.key.*(no such file|does not exist).*--force/);
  oneLine(r.stderr);
  assert.equal((await runCli(['config', 'get', 'signing.key'])).code, 1, 'nothing stored');
  const forced = await runCli(['config', 'set', 'signing.key', missing, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /warning: .*nope\.key/);
  assert.equal((await runCli(['config', 'get', 'signing.key'])).stdout.trim(), missing);
  const key = join(dir, 'real.key');
  writeFileSync(key, 'x');
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const ok = await runCli(['config', 'set', 'signing.key', 'real.key']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stderr, '');
  } finally {
    process.chdir(cwd);
  }
  assert.equal((await runCli(['config', 'get', 'signing.key'])).stdout.trim(), key);
  const folder = await runCli(['config', 'set', 'signing.key', dir]);
  assert.equal(folder.code, 2);
  assert.match(folder.stderr, /not a regular file/);
  assert.ok(readFileSync(join(dir, 'config', 'preferences.json'), 'utf8').includes('real.key'));
});

test('20: session show names the findings that block each decision', async () => {
  const { fakeSession } = await import('../helpers/approval.js');
  const { formatSession } = await import('../../src/cli/commands/session.js');
  const session = fakeSession({ failing: [{ id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/su' }, { id: 'VCH-SC-003', severity: 'critical', subject: '/app/.env' }] });
  session.annotations.push({ id: 'a1', subject: { kind: 'check', image: 'api', check: 'VCH-LP-002', subject: '/usr/bin/su' }, createdAt: session.createdAt, disposition: 'accepted-risk', severity: null, text: 'needed', author: 'alice', at: session.createdAt, deleted: false, history: [] } as never);
  const text = formatSession(session, '/r/s.review.json');
  assert.match(text, /^approved is blocked by 2 finding\(s\):$/m);
  assert.match(text, /^ {2}VCH-LP-002 high on api \(\/usr\/bin\/su\): .*accepted-risk: decide approved-with-exceptions/m);
  assert.match(text, /^ {2}VCH-SC-003 critical on api \(\/app\/\.env\)/m);
  assert.match(text, /^approved-with-exceptions is blocked by 1 finding\(s\):$/m);
  const clean = formatSession(fakeSession(), '/r/s.review.json');
  assert.match(clean, /^nothing blocks approved$/m);
});
