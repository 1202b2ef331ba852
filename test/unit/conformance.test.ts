/**
 * The Sigstore conformance suite's 70 bundle-verification cases, each run
 * twice through the CLI in-process (`vouch verify-bundle`): with the artifact
 * file and with `sha256:HEX`. Names ending in `_fail` must exit non-zero,
 * every other case must exit 0 (upstream test/test_bundle.py).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/inspect.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const casesDir = join(fixtures, 'sigstore-conformance/bundle-verify');
const prodRoot = join(fixtures, 'sigstore-python-trust/prod/trusted_root.json');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

const cases = readdirSync(casesDir)
  .filter((d) => statSync(join(casesDir, d)).isDirectory())
  .sort();

function argsFor(name: string, mode: 'path' | 'digest'): string[] {
  const dir = join(casesDir, name);
  const file = (f: string) => join(dir, f);
  const artifact = existsSync(file('artifact')) ? file('artifact') : join(casesDir, 'a.txt');
  const args = ['verify-bundle', '--bundle', file('bundle.sigstore.json')];
  if (existsSync(file('key.pub'))) args.push('--key', file('key.pub'));
  else {
    const identity = existsSync(file('identity')) ? readFileSync(file('identity'), 'utf8').trim() : DEFAULT_IDENTITY;
    const issuer = existsSync(file('issuer')) ? readFileSync(file('issuer'), 'utf8').trim() : DEFAULT_ISSUER;
    args.push('--certificate-identity', identity, '--certificate-oidc-issuer', issuer);
  }
  args.push('--trusted-root', existsSync(file('trusted_root.json')) ? file('trusted_root.json') : prodRoot);
  args.push(mode === 'path' ? artifact : `sha256:${createHash('sha256').update(readFileSync(artifact)).digest('hex')}`);
  return args;
}

test('the suite has its 70 cases: 21 to pass, 49 to fail', () => {
  assert.equal(cases.length, 70);
  assert.equal(cases.filter((c) => !c.endsWith('_fail')).length, 21);
});

for (const mode of ['path', 'digest'] as const) {
  describe(`conformance, ${mode} mode`, () => {
    for (const name of cases) {
      const expectPass = !name.endsWith('_fail');
      test(`${name} ${expectPass ? 'verifies' : 'fails'}`, async () => {
        const r = await runCli(argsFor(name, mode));
        if (expectPass) {
          assert.equal(r.code, 0, `expected to verify, got exit ${r.code}: ${r.stderr}`);
          assert.match(r.stdout, /^OK: verified/);
        } else {
          assert.notEqual(r.code, 0, `expected to fail, but it verified: ${r.stdout}`);
          // A failure is a reason code and a sentence (1), or bad input (2): never a crash.
          assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}`);
          assert.match(r.stderr, /^[A-Z_]+: \S|^vouch: error: /);
          assert.doesNotMatch(r.stderr, /TypeError|internal error/);
        }
      });
    }
  });
}

test('--json prints the verification result', async () => {
  const r = await runCli([...argsFor('happy-path-v0.3', 'digest').slice(0, -1), '--json', argsFor('happy-path-v0.3', 'digest').at(-1)!]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.verified, true);
  assert.equal(j.reason, 'OK');
  assert.equal(j.signer.type, 'keyless');
  assert.equal(j.signer.subject, DEFAULT_IDENTITY);
  assert.equal(j.signer.issuer, DEFAULT_ISSUER);
  assert.equal(j.signer.extensions.sourceRepositoryUri, 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon');
  assert.equal(j.tlog.logIndex, 79571823);
  assert.equal(j.tlog.proof, 'inclusion-proof');
  assert.equal(j.artifact, 'sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf');
});

test('--json on failure: the result on stdout, the reason on stderr, exit 1', async () => {
  const args = argsFor('wrong-material_fail', 'path');
  const r = await runCli([...args.slice(0, -1), '--json', args.at(-1)!]);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).reason, 'SUBJECT_MISMATCH');
  assert.match(r.stderr, /^SUBJECT_MISMATCH: /);
});

describe('bad input exits 2', () => {
  const bundle = join(casesDir, 'happy-path-v0.3/bundle.sigstore.json');
  const a = join(casesDir, 'a.txt');
  const id = ['--certificate-identity', DEFAULT_IDENTITY, '--certificate-oidc-issuer', DEFAULT_ISSUER];
  test('unreadable bundle', async () => {
    assert.equal((await runCli(['verify-bundle', '--bundle', '/nonexistent/b.json', ...id, a])).code, 2);
  });
  test('unreadable artifact', async () => {
    assert.equal((await runCli(['verify-bundle', '--bundle', bundle, ...id, '/nonexistent/a'])).code, 2);
  });
  test('--key together with an identity', async () => {
    assert.equal((await runCli(['verify-bundle', '--bundle', bundle, ...id, '--key', a, a])).code, 2);
  });
  test('identity without issuer', async () => {
    assert.equal((await runCli(['verify-bundle', '--bundle', bundle, '--certificate-identity', DEFAULT_IDENTITY, a])).code, 2);
  });
  test('a digest of the wrong length', async () => {
    assert.equal((await runCli(['verify-bundle', '--bundle', bundle, ...id, 'sha256:abcd'])).code, 2);
  });
  test('no --bundle', async () => {
    assert.equal((await runCli(['verify-bundle', ...id, a])).code, 2);
  });
  test('newcomer 16: a bundle that is not JSON: exit 2, one line naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-vb-'));
    const bad = join(dir, 'broken.sigstore.json');
    writeFileSync(bad, '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", ');
    const r = await runCli(['verify-bundle', '--bundle', bad, ...id, a]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^vouch: error: bundle .*broken\.sigstore\.json: not JSON/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
  test('newcomer 16: a digest argument whose hex is not hex says "malformed digest", exit 2', async () => {
    for (const arg of ['sha256:XYZ', 'sha512:not-hex', 'sha256:']) {
      const r = await runCli(['verify-bundle', '--bundle', bundle, ...id, arg]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /malformed digest/);
      assert.doesNotMatch(r.stderr, /ENOENT|cannot read/);
    }
  });
});
