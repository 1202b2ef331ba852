/**
 * Review sessions against a real registry: a tag that moves after the session
 * pinned it is reported loudly and the pinned digest is kept; keyless approval
 * through the CLI against the local Fulcio/Rekor/TSA, verified by `vouch verify`.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushImage } from '../helpers/cosign-sign.js';
import { runCli } from '../helpers/inspect.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';

const NS = `review-${process.pid}-${Date.now() % 1e6}`;
const ISSUER = 'https://token.actions.example.com';

function token(sub: string): string {
  const b = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b({ alg: 'none' })}.${b({ iss: ISSUER, sub, aud: 'sigstore', iat: now, exp: now + 600 })}.sig`;
}

describe('review sessions on a real registry', { timeout: 120_000 }, () => {
  let reg: TestRegistry | undefined;
  let S: SigstoreServices;
  let dir: string;
  before(async () => {
    reg = await startRegistry();
    if (!reg) return;
    S = await startSigstoreServices();
    dir = await mkdtemp(join(tmpdir(), 'vouch-review-reg-'));
    await writeFile(join(dir, 'trusted_root.json'), JSON.stringify(S.trustedRoot));
    await writeFile(join(dir, 'vouch.trust.yaml'), `trustedRoot: ./trusted_root.json\nreviewers:\n  - name: carol\n    keyless: {issuer: "${ISSUER}", subject: carol@example.com}\n`);
  });
  after(async () => {
    await S?.stop();
    await reg?.stop();
  });

  test('a tag that moves after pinning: a loud warning, the pinned digest kept, annotations untouched', async (t) => {
    if (!reg) return t.skip('docker-registry not available');
    const repo = `${NS}/api`;
    const first = await pushImage(reg.host, repo, '2.4.0', { seed: 'one' });
    await writeFile(join(dir, 'vouch.release.yaml'), `name: payments\nversion: 2.4.0\nimages:\n  api: docker://${reg.host}/${repo}:2.4.0\ntrust: ./vouch.trust.yaml\n`);
    const init = await runCli(['session', 'init', '--release', join(dir, 'vouch.release.yaml'), '--json']);
    assert.equal(init.code, 0, init.stderr);
    const session = JSON.parse(init.stdout).session as string;
    const s1 = JSON.parse(await readFile(session, 'utf8'));
    assert.equal(s1.images[0].digest, first.digest);
    assert.equal(s1.images[0].pinned, `docker://${reg.host}/${repo}@${first.digest}`);
    assert.equal((await runCli(['annotate', '--session', session, '--whole-image', '--disposition', 'note', '--text', 'seen'])).code, 0);

    const moved = await pushImage(reg.host, repo, '2.4.0', { seed: 'two' });
    assert.notEqual(moved.digest, first.digest);
    const again = await runCli(['session', 'init', '--release', join(dir, 'vouch.release.yaml')]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`WARNING: api: docker://${reg.host}/${repo}:2\\.4\\.0 now resolves to ${moved.digest}, not the pinned ${first.digest}; the session keeps the pinned image`));
    const s2 = JSON.parse(await readFile(session, 'utf8'));
    assert.equal(s2.images[0].digest, first.digest);
    assert.equal(s2.annotations.length, 1);
    assert.equal(s2.warnings.length, 1);
  });

  test('approve --keyless (Fulcio, Rekor, TSA from flags) and vouch verify against a keyless reviewer', async (t) => {
    if (!reg) return t.skip('docker-registry not available');
    const repo = `${NS}/worker`;
    const img = await pushImage(reg.host, repo, '1.0.0', { seed: 'w' });
    await writeFile(join(dir, 'worker.release.yaml'), `name: worker\nversion: 1.0.0\nimages:\n  worker: docker://${reg.host}/${repo}:1.0.0\ntrust: ./vouch.trust.yaml\n`);
    const init = await runCli(['session', 'init', '--release', join(dir, 'worker.release.yaml'), '--json']);
    assert.equal(init.code, 0, init.stderr);
    const session = JSON.parse(init.stdout).session as string;
    const out = join(dir, 'worker.carol.sigstore.json');
    const flags = ['--fulcio-url', S.fulcioURL, '--rekor-url', S.rekorURL, '--tsa-url', S.tsaURL, '--out', out];
    const bad = await runCli(['approve', '--session', session, '--decision', 'rejected', '--keyless', ...flags, '--identity-token', token('mallory@example.com')]);
    assert.equal(bad.code, 1, 'an identity the trust file does not name: refused before signing');
    assert.match(bad.stderr, /mallory@example\.com matches no reviewer in .*vouch\.trust\.yaml/);
    assert.equal(existsSync(out), false);
    let r = await runCli(['approve', '--session', session, '--decision', 'rejected', '--rationale', 'not ready', '--keyless', ...flags, '--identity-token', token('carol@example.com'), '--json']);
    // @sigstore/mock's TSA sometimes writes genTime with the milliseconds' trailing zeros cut, which @sigstore/core refuses: try again.
    for (let attempt = 0; attempt < 8 && r.code !== 0 && /invalid time/.test(r.stderr); attempt++) {
      r = await runCli(['approve', '--session', session, '--decision', 'rejected', '--rationale', 'not ready', '--keyless', ...flags, '--identity-token', token('carol@example.com'), '--json']);
    }
    assert.equal(r.code, 0, r.stderr);
    const v = await runCli(['verify', out, '--image', `${reg.host}/${repo}@${img.digest}`, '--trust', join(dir, 'vouch.trust.yaml'), '--json']);
    assert.equal(v.code, 1);
    const j = JSON.parse(v.stdout);
    assert.equal(j.reasons[0].code, 'REJECTED');
    assert.match(j.reasons[0].message, /reviewer carol rejected release worker 1\.0\.0: not ready/);
  });
});
