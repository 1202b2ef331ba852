/** Issue 9 item 17: error messages that point the right way. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { runCli } from '../helpers/inspect.js';
import { parseSbom } from '../../src/core/packages/sbom/index.js';
import { parseTrustFile } from '../../src/core/trust/trust-file.js';

const work = mkdtempSync(join(tmpdir(), 'vouch-errors-'));
const file = (name: string, bytes: Buffer | string): string => {
  const p = join(work, name);
  writeFileSync(p, bytes);
  return p;
};
const CDX = '{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[{"type":"library","name":"left-pad","version":"1.3.0","purl":"pkg:npm/left-pad@1.3.0"}]}';
const dive = new URL('../fixtures/dive/test-docker-image.tar', import.meta.url).pathname;

const CASES: Array<{ name: string; bytes: Buffer | string; says: RegExp }> = [
  { name: 'empty.tar', bytes: '', says: /empty file \(0 bytes\)/ },
  { name: 'truncated.tar', bytes: readFileSync(dive).subarray(0, 3000), says: /a truncated tar archive \(3000 bytes/ },
  { name: 'bom.xml', bytes: '<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components/></bom>\n', says: /a CycloneDX XML document; vouch reads CycloneDX JSON/ },
  { name: 'utf16.json', bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(CDX, 'utf16le')]), says: /UTF-16 text; vouch reads UTF-8/ },
  { name: 'junk.json', bytes: 'garbage\n', says: /junk\.json: not valid JSON/ },
];

for (const c of CASES) {
  test(`${c.name} given as a bare path: inspect and sbom say what the file is, exit 2`, async () => {
    const p = file(c.name, c.bytes);
    for (const args of [['inspect', p], ['sbom', p], ['diff', p, p]]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, c.says, `${args[0]}: ${r.stderr}`);
      // The right reason only: not followed by the generic "not an OCI layout …" that contradicts it.
      assert.doesNotMatch(r.stderr, /not an OCI layout/, `${args[0]}: ${r.stderr}`);
    }
  });
}

test('an XML or UTF-16 SBOM given to the SBOM reader says so', () => {
  assert.throws(() => parseSbom(CASES[2]!.bytes, 'bom.xml'), /bom\.xml: a CycloneDX XML document/);
  assert.throws(() => parseSbom(CASES[3]!.bytes as Buffer, 'u.json'), /u\.json: UTF-16 text/);
});

test('a transport typo says unknown transport and suggests the close one', async () => {
  for (const [ref, meant] of [['docker-archiv:/tmp/x.tar', 'docker-archive'], ['oci-archve:./a.tar', 'oci-archive'], ['ocii:/some/dir', 'oci']] as const) {
    const r = await runCli(['inspect', ref]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`unknown transport "${ref.slice(0, ref.indexOf(':'))}" \\(did you mean ${meant}:\\?\\)`), r.stderr);
  }
});

test('a trust-file typo (subjectRegexp) names the unknown key and the one meant', async () => {
  const yaml = 'version: 1\nsigners:\n  - name: ci\n    keyless:\n      issuer: https://token.actions.githubusercontent.com\n      subjectRegexp: "https://github.com/acme/.*"\n';
  await assert.rejects(parseTrustFile(yaml, join(work, 'vouch.trust.yaml')), /signers\.0\.keyless: unknown key "subjectRegexp" \(did you mean "subjectRegExp"\?\)/);
});

test('a DSSE-wrapped CycloneDX with cosign\'s {"Data": …} predicate is read', () => {
  for (const data of [CDX, JSON.parse(CDX)]) {
    const statement = { _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://cyclonedx.org/bom', subject: [{ name: 'x', digest: { sha256: 'a'.repeat(64) } }], predicate: { Data: data, Timestamp: '2024-01-01T00:00:00Z' } };
    const envelope = { payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(statement)).toString('base64'), signatures: [] };
    const inv = parseSbom(JSON.stringify(envelope), 'att.json');
    assert.deepEqual(inv.packages.map((p) => p.purl), ['pkg:npm/left-pad@1.3.0']);
    assert.equal(inv.format.name, 'cyclonedx-json');
  }
});

test('a flipped byte in a gzip layer names the layer and the corruption', async () => {
  const dir = join(work, 'flipped');
  const lay = await writeMiniLayout(dir, { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }], files: () => Array.from({ length: 20 }, (_, i) => ({ path: `f/${i}`, content: randomBytes(100_000).toString('base64') })) });
  const blob = join(dir, 'blobs', 'sha256', lay.images[0]!.layerDigest.slice(7));
  const b = readFileSync(blob);
  b[5000] = b[5000]! ^ 0xff;
  writeFileSync(blob, b);
  const r = await runCli(['inspect', `oci:${dir}:v1`, '--no-cache']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`layer 0 ${lay.images[0]!.layerDigest}: (digest mismatch|.*corrupt)`), r.stderr);
});

test('a trust-file enum error names the bad value and the allowed ones; a misspelt key is reported without the "must have required property" noise', async () => {
  const key = 'version: 1\nsigners:\n  - name: ci\n    key: k.pem\n';
  await assert.rejects(parseTrustFile(`${key}    tlog: optionl\n`, join(work, 't1.yaml')), (e: Error) => /signers\.0\.tlog: "optionl" is not one of "required", "optional"/.test(e.message) || assert.fail(e.message));
  await assert.rejects(parseTrustFile(`${key}    signedIdentity: {type: matchRepo}\n`, join(work, 't2.yaml')), (e: Error) => /signers\.0\.signedIdentity\.type: "matchRepo" is not one of "matchRepository", "matchExact", /.test(e.message) || assert.fail(e.message));
  // `nme` for `name`: the unknown key is the cause; "must have required property 'name'" is its echo.
  await assert.rejects(parseTrustFile('version: 1\nsigners:\n  - nme: ci\n    key: k.pem\n', join(work, 't3.yaml')), (e: Error) => (/unknown key "nme"/.test(e.message) && !/required property/.test(e.message)) || assert.fail(e.message));
});

test('an empty trust file given explicitly to chain or check is an error naming the file ("no signers"), exit 2', async () => {
  const empty = file('empty.trust.yaml', '');
  for (const args of [['chain', 'oci:/nonexistent:v1', '--trust', empty], ['check', 'oci:/nonexistent:v1', '--trust', empty]]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /empty\.trust\.yaml: no signers/, `${args[0]}: ${r.stderr}`);
  }
});

test('check --help names every transport, as inspect --help does', async () => {
  const r = await runCli(['check', '--help']);
  for (const t of ['docker://', 'oci:', 'oci-archive:', 'docker-archive:', 'docker-daemon:']) assert.ok(r.stdout.includes(t), `${t} in ${r.stdout}`);
});
