/**
 * The attack (session 5 attacker review, finding 2): the release file is
 * attacker-writable and names the trust file. A copy under ./evil/ lists the
 * same reviewer but the attacker's key as signer "ci"; the image carries a
 * .sig made with that key. The session's chain then says "verified" and the
 * checks pass. The approval must not count as evidence under the
 * organisation's real trust file: approve --trust REAL refuses, and an
 * approval made anyway is refused by vouch verify (TRUST_MISMATCH) unless the
 * trust file relaxes it (require.signers: any).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { attach, pushImage, signatureLayer, signWithKey, simpleSigningPayload } from '../helpers/cosign-sign.js';
import { runCli } from '../helpers/inspect.js';
import { writeMiniLayout, type MiniFile } from '../helpers/mini-layout.js';
import { inCI, startRegistry, type TestRegistry } from '../helpers/registry.js';

const pem = (k: KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();
let reg: TestRegistry | undefined;
before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
});

test("a release file naming the attacker's trust file: approve --trust REAL refuses; an approval made under it is TRUST_MISMATCH for vouch verify", async (t) => {
  if (!reg) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
  const dir = mkdtempSync(join(tmpdir(), 'vouch-trust-swap-'));
  mkdirSync(join(dir, 'evil'));
  process.env.VOUCH_KEY_PASSWORD = 'pass phrase';
  assert.equal((await runCli(['key', 'generate', '--out', join(dir, 'alice')])).code, 0);
  const realCi = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'ci.pub'), pem(realCi.publicKey));
  writeFileSync(join(dir, 'evil', 'ci.pub'), pem(attacker.publicKey));
  const trustText = (alice: string): string => `signers:\n  - name: ci\n    key: ./ci.pub\n    tlog: optional\nreviewers:\n  - name: alice\n    key: ${alice}\n`;
  writeFileSync(join(dir, 'vouch.trust.yaml'), trustText('./alice.pub'));
  writeFileSync(join(dir, 'evil', 'vouch.trust.yaml'), trustText('../alice.pub'));
  const repo = `trust-swap-${process.pid}-${Date.now() % 1e6}/app`;
  const img = await pushImage(reg.host, repo, 'v1', { seed: `trust-swap-${Date.now()}` });
  const payload = simpleSigningPayload(`${reg.host}/${repo}`, img.digest);
  await attach(reg.host, repo, img.digest, 'sig', [signatureLayer(payload, signWithKey(attacker.privateKey, payload))]);
  const release = join(dir, 'vouch.release.yaml');
  writeFileSync(release, `name: app\nversion: 1.0.0\nimages:\n  app: docker://${reg.host}/${repo}:v1\ntrust: ./evil/vouch.trust.yaml\n`);

  // Under the real trust file nothing verifies; under the release's, the attacker's .sig does.
  const real = await runCli(['chain', `docker://${reg.host}/${repo}@${img.digest}`, '--trust', join(dir, 'vouch.trust.yaml'), '--json']);
  assert.equal(real.code, 1, real.stdout);
  const init = await runCli(['session', 'init', '--release', release]);
  assert.equal(init.code, 0, init.stderr);
  const session = join(dir, 'app-1.0.0.review.json');
  for (const id of ['VCH-LP-001']) await runCli(['annotate', '--session', session, '--check', id, '--disposition', 'accepted-risk', '--text', 'sandboxed', '--author', 'alice']);

  const refused = await runCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--trust', join(dir, 'vouch.trust.yaml'), '--json']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /the release's trust file .*evil\/vouch\.trust\.yaml lists other signers than .*\/vouch\.trust\.yaml/);
  assert.equal(JSON.parse(refused.stdout).refused, 'TRUST_MISMATCH');

  // Without --trust the reviewer signs under the release's file; the organisation's verify refuses it.
  const signed = await runCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--json']);
  assert.equal(signed.code, 0, signed.stderr + signed.stdout);
  const approval = JSON.parse(signed.stdout).approval as string;
  const verify = await runCli(['verify', approval, '--image', `${reg.host}/${repo}@${img.digest}`, '--trust', join(dir, 'vouch.trust.yaml'), '--json']);
  assert.equal(verify.code, 1, verify.stdout);
  assert.ok(JSON.parse(verify.stdout).reasons.some((r: { code: string }) => r.code === 'TRUST_MISMATCH'), verify.stdout);
  // The organisation adds a signer: approvals judged under fewer signers (stricter) still count; dropping the
  // signer the review counted would not.
  writeFileSync(join(dir, 'more.pub'), pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey));
  writeFileSync(join(dir, 'evil', 'more.pub'), readFileSync(join(dir, 'more.pub')));
  writeFileSync(join(dir, 'evil', 'plus.yaml'), `${trustText('../alice.pub').replace('reviewers:', '  - name: ci2\n    key: ./more.pub\nreviewers:')}`);
  assert.equal((await runCli(['verify', approval, '--image', `${reg.host}/${repo}@${img.digest}`, '--trust', join(dir, 'evil', 'plus.yaml')])).code, 0, 'a signer added');
  // The release's own trust file (same signers as the review) admits it; so does an explicit relaxation.
  assert.equal((await runCli(['verify', approval, '--image', `${reg.host}/${repo}@${img.digest}`, '--trust', join(dir, 'evil', 'vouch.trust.yaml')])).code, 0);
  writeFileSync(join(dir, 'relaxed.yaml'), `${trustText('./alice.pub')}require:\n  signers: any\n`);
  assert.equal((await runCli(['verify', approval, '--image', `${reg.host}/${repo}@${img.digest}`, '--trust', join(dir, 'relaxed.yaml')])).code, 0);
});

test("a baseline signed by the attacker's key, listed as reviewer \"alice\" in the release's trust file: approve --trust REAL refuses; verify says TRUST_MISMATCH", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-baseline-swap-'));
  process.env.VOUCH_KEY_PASSWORD = 'pass phrase';
  for (const who of ['alice', 'mallory']) assert.equal((await runCli(['key', 'generate', '--out', join(dir, who)])).code, 0);
  const gpl = JSON.stringify({ name: 'evilpkg', version: '1.0.0', license: 'GPL-3.0-only' });
  const files = (): MiniFile[] => [{ path: 'etc/os-release', content: 'NAME=x\n' }, { path: 'app/node_modules/evilpkg/package.json', content: gpl }];
  const img = await writeMiniLayout(join(dir, 'img'), { tag: 'v2', platforms: [{ os: 'linux', architecture: 'amd64' }], files });
  await writeMiniLayout(join(dir, 'old'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }], files });
  mkdirSync(join(dir, 'mine'));
  mkdirSync(join(dir, 'evil'));
  writeFileSync(join(dir, 'mine', 'trust.yaml'), 'reviewers:\n  - name: alice\n    key: ../alice.pub\n');
  // The attacker's trust file: the same (no) signers, and mallory's key under alice's name.
  writeFileSync(join(dir, 'evil', 'trust.yaml'), 'reviewers:\n  - name: alice\n    key: ../mallory.pub\n');
  // Mallory's "approval" of app 1.9.0, which already shipped the GPL package.
  writeFileSync(join(dir, 'old.release.yaml'), 'name: app\nversion: 1.9.0\nimages:\n  app: oci:./old:v1\ntrust: ./evil/trust.yaml\n');
  const oldSession = join(dir, 'old.review.json');
  assert.equal((await runCli(['session', 'init', '--release', join(dir, 'old.release.yaml'), '--out', oldSession])).code, 0);
  for (const id of JSON.parse(readFileSync(oldSession, 'utf8')).images.flatMap((im: { checks: { results: Array<{ id: string; status: string; severity: string }> } }) => im.checks.results.filter((r) => r.status === 'fail').map((r) => r.id))) {
    await runCli(['annotate', '--session', oldSession, '--check', id, '--disposition', 'accepted-risk', '--text', 'fine', '--author', 'alice']);
  }
  const old = await runCli(['approve', '--session', oldSession, '--decision', 'approved-with-exceptions', '--key', join(dir, 'mallory.key'), '--out', join(dir, 'old.sigstore.json'), '--accept-annotations-by', 'alice']);
  assert.equal(old.code, 0, old.stderr);

  writeFileSync(join(dir, 'vouch.release.yaml'), 'name: app\nversion: 2.0.0\nimages:\n  app: oci:./img:v2\ntrust: ./evil/trust.yaml\nbaseline: ./old.sigstore.json\n');
  const session = join(dir, 'app-2.0.0.review.json');
  const init = await runCli(['session', 'init', '--release', join(dir, 'vouch.release.yaml')]);
  assert.equal(init.code, 0, init.stderr);
  for (const id of JSON.parse(readFileSync(session, 'utf8')).images.flatMap((im: { checks: { results: Array<{ id: string; status: string }> } }) => im.checks.results.filter((r) => r.status === 'fail').map((r) => r.id))) {
    await runCli(['annotate', '--session', session, '--check', id, '--disposition', 'accepted-risk', '--text', 'known', '--author', 'alice']);
  }
  const refused = await runCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--trust', join(dir, 'mine', 'trust.yaml'), '--json']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /the baseline .*old\.sigstore\.json was approved by key [0-9a-f]{64}, whom .*mine\/trust\.yaml does not trust as a reviewer/);
  assert.equal(JSON.parse(refused.stdout).refused, 'TRUST_MISMATCH');

  // A record signed anyway (an untrusted self-review under the release's file, where alice's key is not listed): her key
  // is in the verifier's file, so the signature counts there, and only the recorded baseline signer can refuse it.
  const signed = await runCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--reviewer', 'alice-self', '--accept-annotations-by', 'alice', '--out', join(dir, 'new.sigstore.json'), '--json']);
  assert.equal(signed.code, 0, signed.stderr + signed.stdout);
  const verify = await runCli(['verify', join(dir, 'new.sigstore.json'), '--image', `img@${img.images[0]!.manifestDigest}`, '--trust', join(dir, 'mine', 'trust.yaml'), '--json']);
  assert.equal(verify.code, 1, verify.stdout);
  const reasons = JSON.parse(verify.stdout).reasons as Array<{ code: string; message: string }>;
  assert.ok(reasons.some((r) => r.code === 'TRUST_MISMATCH' && /its baseline was approved by key [0-9a-f]{64}, whom .* does not trust/.test(r.message)), verify.stdout);
});

test('a trust file path with escape sequences (named by the release file) reaches the terminal escaped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-trust-path-'));
  process.env.VOUCH_KEY_PASSWORD = 'pass phrase';
  for (const who of ['alice', 'bob']) assert.equal((await runCli(['key', 'generate', '--out', join(dir, who)])).code, 0);
  await writeMiniLayout(join(dir, 'img'), { tag: 'v2', platforms: [{ os: 'linux', architecture: 'amd64' }], files: () => [{ path: 'etc/os-release', content: 'NAME=x\n' }] });
  const evilName = 't\x1b[1A\r\x1b[2Kapproved: verified\x1b[8m.yaml';
  writeFileSync(join(dir, evilName), 'reviewers:\n  - name: bob\n    key: ./bob.pub\n');
  writeFileSync(join(dir, 'vouch.release.yaml'), `name: app\nversion: 2.0.0\nimages:\n  app: oci:./img:v2\ntrust: ${JSON.stringify(`./${evilName}`)}\n`);
  assert.equal((await runCli(['session', 'init', '--release', join(dir, 'vouch.release.yaml')])).code, 0);
  const r = await runCli(['approve', '--session', join(dir, 'app-2.0.0.review.json'), '--decision', 'rejected', '--key', join(dir, 'alice.key')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /matches no reviewer in .*t\\x1b\[1A/);
  assert.doesNotMatch(r.stderr + r.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, 'no raw control characters');
});
