import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrustFile, matchKeyless, parseTrustFile } from '../../src/core/trust/trust-file.js';
import { VouchError } from '../../src/core/errors.js';

async function setup(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-trust-'));
  await mkdir(join(dir, 'keys'));
  const kinds: Array<[string, Parameters<typeof generateKeyPairSync>]> = [];
  void kinds;
  const pem = (k: { publicKey: { export(o: object): string | Buffer } }) => k.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  await writeFile(join(dir, 'keys', 'p256.pub'), pem(generateKeyPairSync('ec', { namedCurve: 'P-256' })));
  await writeFile(join(dir, 'keys', 'p384.pub'), pem(generateKeyPairSync('ec', { namedCurve: 'P-384' })));
  await writeFile(join(dir, 'keys', 'rsa.pub'), pem(generateKeyPairSync('rsa', { modulusLength: 2048 })));
  await writeFile(join(dir, 'keys', 'ed.pub'), pem(generateKeyPairSync('ed25519')));
  await writeFile(join(dir, 'keys', 'k1.pub'), pem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' })));
  return dir;
}

test('a full trust file: keys of every supported kind resolve against the file folder; keyless identities; reviewers/require accepted', async () => {
  const dir = await setup();
  const path = join(dir, 'vouch.trust.yaml');
  await writeFile(
    path,
    [
      'trustedRoot: ./trusted_root.json',
      'signers:',
      '  - name: release-pipeline',
      "    keyless: {issuer: https://token.actions.githubusercontent.com, subjectRegExp: '^https://github\\.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.+$'}",
      '  - {name: exact, keyless: {issuer: https://accounts.google.com, subject: alice@example.com}}',
      '  - {name: p256, key: ./keys/p256.pub}',
      '  - {name: p384, key: keys/p384.pub}',
      '  - {name: rsa, key: ./keys/rsa.pub}',
      '  - {name: ed, key: ./keys/ed.pub}',
      'reviewers: [{name: bob, key: ./keys/p256.pub}, {name: carol, keyless: {issuer: https://accounts.google.com, subject: carol@example.com}}]',
      'require: {approvals: 2, maxAge: 30d, decisions: [approved], tlog: true}',
      '',
    ].join('\n'),
  );
  const t = await loadTrustFile(path);
  assert.equal(t.trustedRoot, join(dir, 'trusted_root.json'));
  assert.deepEqual(t.signers.map((s) => s.name), ['release-pipeline', 'exact', 'p256', 'p384', 'rsa', 'ed']);
  assert.deepEqual(t.signers.filter((s) => s.type === 'key').map((s) => (s as { key: { algorithm: string } }).key.algorithm), ['ecdsa-p256', 'ecdsa-p384', 'rsa', 'ed25519']);
  assert.equal(t.policy.keys.length, 4);
  assert.equal(t.policy.identities.length, 2);
  assert.deepEqual(t.reviewers.map((r) => [r.name, r.type]), [['bob', 'key'], ['carol', 'keyless']]);
  assert.deepEqual(t.require, { approvals: 2, maxAge: '30d', maxAgeMs: 30 * 86_400_000, decisions: ['approved'], tlog: true });
  // Anchored regexp, exact subject, issuer always required.
  const ok = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3';
  assert.equal(matchKeyless(t.signers, ok, 'https://token.actions.githubusercontent.com')?.name, 'release-pipeline');
  assert.equal(matchKeyless(t.signers, ok, 'https://evil.example.com'), undefined);
  assert.equal(matchKeyless(t.signers, `https://evil.example.com/?${ok}`, 'https://token.actions.githubusercontent.com'), undefined);
  assert.equal(matchKeyless(t.signers, 'alice@example.com', 'https://accounts.google.com')?.name, 'exact');
  assert.equal(matchKeyless(t.signers, 'alice@example.com.evil', 'https://accounts.google.com'), undefined);
});

test('an unanchored pattern is anchored: ".*beacon.*" does not match around it, "beacon" does not match a substring', async () => {
  const t = await parseTrustFile('signers:\n  - {name: b, keyless: {issuer: i, subjectRegExp: beacon}}\n', '/x/vouch.trust.yaml');
  assert.equal(matchKeyless(t.signers, 'beacon', 'i')?.name, 'b');
  assert.equal(matchKeyless(t.signers, 'xbeacony', 'i'), undefined);
});

const bad: Array<[string, string, RegExp]> = [
  ['unknown top-level key', 'signer: []\n', /unknown key "signer"/],
  ['unknown signer key', 'signers:\n  - {name: a, key: ./k.pub, colour: blue}\n', /unknown key "colour"/],
  ['unknown keyless key', 'signers:\n  - {name: a, keyless: {issuer: i, subject: s, email: e}}\n', /unknown key "email"/],
  ['both key and keyless', 'signers:\n  - {name: a, key: ./k.pub, keyless: {issuer: i, subject: s}}\n', /exactly one of "key", "keyless" or "ca"/],
  ['keyless without subject', 'signers:\n  - {name: a, keyless: {issuer: i}}\n', /subject/],
  ['keyless without issuer', 'signers:\n  - {name: a, keyless: {subject: s}}\n', /issuer/],
  ['subject and regexp', 'signers:\n  - {name: a, keyless: {issuer: i, subject: s, subjectRegExp: s}}\n', /exactly one of "subject" or "subjectRegExp"/],
  ['bad regexp', 'signers:\n  - {name: a, keyless: {issuer: i, subjectRegExp: "("}}\n', /not a valid regular expression/],
  ['duplicate names', 'signers:\n  - {name: a, keyless: {issuer: i, subject: s}}\n  - {name: a, keyless: {issuer: i, subject: t}}\n', /duplicate signer name/],
  ['missing key file', 'signers:\n  - {name: a, key: ./nope.pub}\n', /cannot read key/],
  ['secp256k1 key', 'signers:\n  - {name: a, key: ./keys/k1.pub}\n', /unsupported ECDSA curve/],
  ['not YAML', 'signers: [\n', /not valid YAML/],
  ['signers not a list', 'signers: {a: 1}\n', /signers: must be array/],
  ['unknown certificate extension', 'signers:\n  - {name: a, keyless: {issuer: i, subject: s, extensions: {sourceRepo: x}}}\n', /unknown key "sourceRepo"/],
  ['tlog on a keyless signer', 'signers:\n  - {name: a, keyless: {issuer: i, subject: s}, tlog: optional}\n', /"tlog" applies to key signers/],
  ['tlog value', 'signers:\n  - {name: a, key: ./keys/p256.pub, tlog: maybe}\n', /tlog: "maybe" is not one of "required", "optional"/],
  ['require.tlog is a boolean (approvals must be logged)', 'require: {tlog: optional}\n', /require\.tlog: must be boolean/],
  ['unknown require key', 'require: {colour: 1}\n', /require: unknown key "colour"/],
  ['ca without a subject', 'signers:\n  - {name: a, ca: {roots: ./keys/p256.pub}}\n', /subjectEmail or subjectHostname/],
  ['ca roots that hold no certificate', 'signers:\n  - {name: a, ca: {roots: ./keys/p256.pub, subjectEmail: a@b.c}}\n', /holds no PEM certificate/],
];

test('keyless extensions: every constrained extension must be present with exactly that value', async () => {
  const t = await parseTrustFile(
    'signers:\n  - name: rel\n    keyless:\n      issuer: i\n      subjectRegExp: "https://github\\\\.com/acme/app/.+"\n      extensions: {sourceRepositoryURI: https://github.com/acme/app, buildTrigger: push, githubWorkflowRepository: acme/app}\n',
    '/x/vouch.trust.yaml',
  );
  const sub = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1';
  const ok = { sourceRepositoryUri: 'https://github.com/acme/app', buildTrigger: 'push', githubWorkflowRepository: 'acme/app' };
  assert.equal(matchKeyless(t.signers, sub, 'i', ok)?.name, 'rel');
  assert.equal(matchKeyless(t.signers, sub, 'i', { ...ok, sourceRepositoryUri: 'https://github.com/evil/fork' }), undefined);
  assert.equal(matchKeyless(t.signers, sub, 'i', { ...ok, sourceRepositoryUri: 'https://github.com/acme/app/' }), undefined, 'exact, not normalised');
  const { buildTrigger: _absent, ...missing } = ok;
  assert.equal(matchKeyless(t.signers, sub, 'i', missing), undefined, 'an absent extension does not match');
  assert.deepEqual(t.policy.identities[0]!.extensions, { sourceRepositoryURI: 'https://github.com/acme/app', buildTrigger: 'push', githubWorkflowRepository: 'acme/app' });
});
for (const [name, text, re] of bad) {
  test(`rejected: ${name}`, async () => {
    const dir = await setup();
    await assert.rejects(parseTrustFile(text, join(dir, 'vouch.trust.yaml')), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_TRUST_FILE' && e.exitCode === 2 && re.test(e.message));
  });
}

test('an empty file trusts nobody', async () => {
  const t = await parseTrustFile('', '/x/vouch.trust.yaml');
  assert.deepEqual(t.signers, []);
});

test('reviewers and require are checked: a reviewer needs a key or an identity, unknown require keys and bad durations are errors', async () => {
  await assert.rejects(parseTrustFile('reviewers: [{name: bob}]\n', '/x/t.yaml'), /reviewers\.0: a reviewer has exactly one of "key" or "keyless"/);
  await assert.rejects(parseTrustFile('require: {approvals: 2, quorum: 3}\n', '/x/t.yaml'), /require: unknown key "quorum"/);
  await assert.rejects(parseTrustFile('require: {maxAge: 30 days}\n', '/x/t.yaml'), /require\.maxAge: expected a duration/);
  await assert.rejects(parseTrustFile('reviewers: [{name: bob, key: ./missing.pub}]\n', '/x/t.yaml'), /reviewers\.0 \(bob\): cannot read key/);
});
