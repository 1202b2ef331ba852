/**
 * Issue 8 (part A), the attacks that need no registry: each builds the forgery
 * and asserts the refusal and its reason code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anchoredRegExp, matchKeyless, parseTrustFile } from '../../src/core/trust/trust-file.js';
import { VouchError } from '../../src/core/errors.js';

const ISSUER = 'https://token.actions.githubusercontent.com';

test('8. subjectRegExp cannot escape its anchors: `…v1)|(?:.*` is refused, as alone it does not parse', async () => {
  const escape = '^https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v1)|(?:.*';
  // Concatenated into ^(?:…)$ this would be `^(?:…v1)|(?:.*)$`: a second alternative matching anything.
  assert.ok(new RegExp(`^(?:${escape})$`).test('https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/main'), 'the naive anchoring is escapable');
  assert.throws(() => anchoredRegExp(escape), SyntaxError);
  await assert.rejects(
    parseTrustFile(`signers:\n  - name: ci\n    keyless: {issuer: "${ISSUER}", subjectRegExp: '${escape}'}\n`, '/x/vouch.trust.yaml'),
    (e: unknown) => e instanceof VouchError && e.code === 'INVALID_TRUST_FILE' && /subjectRegExp is not a valid regular expression/.test(e.message),
  );
  // A balanced alternation stays inside the anchors.
  const t = await parseTrustFile(`signers:\n  - name: ci\n    keyless: {issuer: "${ISSUER}", subjectRegExp: 'https://github\\.com/acme/app/x@v1|https://github\\.com/acme/app/y@v1'}\n`, '/x/vouch.trust.yaml');
  assert.equal(matchKeyless(t.signers, 'https://github.com/acme/app/y@v1', ISSUER)?.name, 'ci');
  assert.equal(matchKeyless(t.signers, 'https://github.com/acme/app/y@v1.evil', ISSUER), undefined);
  assert.equal(matchKeyless(t.signers, 'xhttps://github.com/acme/app/x@v1', ISSUER), undefined);
});

test('3. signedIdentity follows containers-image: matchRepository (default), matchExact, matchRepoDigestOrExact, exactReference, exactRepository, remapIdentity', async () => {
  const { checkSignedIdentity } = await import('../../src/core/trust/signed-identity.js');
  const { parseDockerReference } = await import('../../src/core/ref/parse.js');
  const D = `sha256:${'a'.repeat(64)}`;
  const byTag = parseDockerReference('registry.example/acme/app:v1');
  const byDigest = parseDockerReference(`registry.example/acme/app@${D}`);
  const ok = (r: ReturnType<typeof checkSignedIdentity>): boolean => r.ok;
  // matchRepository: tags may differ, repositories may not; docker's normalisation applies.
  assert.ok(ok(checkSignedIdentity({ type: 'matchRepository' }, byTag, 'registry.example/acme/app:v2')));
  assert.ok(!ok(checkSignedIdentity({ type: 'matchRepository' }, byTag, 'registry.example/acme/debug-tools:v1')));
  assert.ok(!ok(checkSignedIdentity({ type: 'matchRepository' }, byTag, 'other.example/acme/app:v1')));
  assert.ok(ok(checkSignedIdentity({ type: 'matchRepository' }, parseDockerReference('busybox:1'), 'docker.io/library/busybox:2')));
  assert.ok(!ok(checkSignedIdentity({ type: 'matchRepository' }, byTag, undefined)));
  assert.ok(!ok(checkSignedIdentity({ type: 'matchRepository' }, byTag, 'NOT A REF')));
  // matchExact: the very reference, tag included; a name-only identity never matches.
  assert.ok(ok(checkSignedIdentity({ type: 'matchExact' }, byTag, 'registry.example/acme/app:v1')));
  assert.ok(!ok(checkSignedIdentity({ type: 'matchExact' }, byTag, 'registry.example/acme/app:v2')));
  assert.ok(!ok(checkSignedIdentity({ type: 'matchExact' }, byTag, 'registry.example/acme/app')));
  // matchRepoDigestOrExact: by digest, any identity in the repository; by tag, exactly.
  assert.ok(ok(checkSignedIdentity({ type: 'matchRepoDigestOrExact' }, byDigest, 'registry.example/acme/app:whatever')));
  assert.ok(!ok(checkSignedIdentity({ type: 'matchRepoDigestOrExact' }, byTag, 'registry.example/acme/app:v2')));
  // exactReference / exactRepository: fixed identities, whatever the image is called.
  assert.ok(ok(checkSignedIdentity({ type: 'exactReference', dockerReference: 'registry.example/acme/app:v1' }, null, 'registry.example/acme/app:v1')));
  assert.ok(!ok(checkSignedIdentity({ type: 'exactReference', dockerReference: 'registry.example/acme/app:v1' }, byTag, 'registry.example/acme/app:v2')));
  assert.ok(ok(checkSignedIdentity({ type: 'exactRepository', dockerRepository: 'registry.example/acme/app' }, null, 'registry.example/acme/app:v9')));
  assert.ok(!ok(checkSignedIdentity({ type: 'exactRepository', dockerRepository: 'registry.example/acme/app' }, byTag, 'registry.example/acme/app-evil:v1')));
  // remapIdentity: a mirror's name maps onto the signed prefix, at component boundaries only.
  const mirror = parseDockerReference('mirror.internal/acme/app:v1');
  const remap = { type: 'remapIdentity' as const, prefix: 'mirror.internal/acme', signedPrefix: 'registry.example/acme' };
  assert.ok(ok(checkSignedIdentity(remap, mirror, 'registry.example/acme/app:v1')));
  assert.ok(!ok(checkSignedIdentity(remap, mirror, 'registry.example/acme/app:v2')));
  assert.ok(!ok(checkSignedIdentity(remap, parseDockerReference('mirror.internal/acmex/app:v1'), 'registry.example/acmex/app:v1')), 'acmex is not under acme');
  // No registry name (a layout): matchRepository cannot decide and says so; the exact rules refuse.
  assert.deepEqual(checkSignedIdentity({ type: 'matchRepository' }, null, 'registry.example/acme/app:v1'), { ok: true, checked: false });
  assert.ok(!ok(checkSignedIdentity({ type: 'matchExact' }, null, 'registry.example/acme/app:v1')));
});

test('3. signedIdentity in the trust file: unknown types, missing and stray fields are refused', async () => {
  const base = (si: string): string => `signers:\n  - name: ci\n    keyless: {issuer: "${ISSUER}", subject: "s"}\n    signedIdentity: ${si}\n`;
  const t = await parseTrustFile(base('{type: exactRepository, dockerRepository: ghcr.io/acme/app}'), '/x/vouch.trust.yaml');
  assert.deepEqual(t.signers[0]!.signedIdentity, { type: 'exactRepository', dockerRepository: 'ghcr.io/acme/app' });
  for (const [si, why] of [
    ['{type: matchAnything}', /type: "matchAnything" is not one of "matchRepository", "matchExact"/],
    ['{type: exactReference}', /needs "dockerReference"/],
    ['{type: matchRepository, dockerRepository: x/y}', /takes no "dockerRepository"/],
    ['{type: exactReference, dockerReference: ghcr.io/acme/app}', /must name a tag or a digest/],
    ['{type: remapIdentity, prefix: "a b", signedPrefix: ghcr.io}', /prefix must be host/],
  ] as const) {
    await assert.rejects(parseTrustFile(base(si), '/x/vouch.trust.yaml'), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_TRUST_FILE' && why.test(e.message), si);
  }
});

test('smaller: in-toto statements are read strictly: duplicate and case-variant keys are refused', async () => {
  const { parseStatement } = await import('../../src/core/trust/attestation.js');
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  const good = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"${A}"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`;
  assert.equal(typeof parseStatement(Buffer.from(good)), 'object');
  // JSON.parse keeps the last subject, Go's decoder another: which image was attested?
  const dup = good.replace('"predicateType"', `"subject":[{"digest":{"sha256":"${B}"}}],"predicateType"`);
  assert.match(String(parseStatement(Buffer.from(dup))), /duplicate key/);
  const variant = good.replace('"predicateType"', `"Subject":[{"digest":{"sha256":"${B}"}}],"predicateType"`);
  assert.match(String(parseStatement(Buffer.from(variant))), /case variant/);
  const lower = good.replace('"predicate":{}', '"predicate":{},"predicatetype":"https://example/other"');
  assert.match(String(parseStatement(Buffer.from(lower))), /case variant/);
  const inner = good.replace('"digest":{', '"Digest":{"sha256":"' + B + '"},"digest":{');
  assert.match(String(parseStatement(Buffer.from(inner))), /case variant/);
});

test('smaller: a Rekor intoto / dsse entry must log the signature under the signer\'s own key or certificate', async () => {
  const { bodyMatches } = await import('../../src/core/trust/rekor-set.js');
  const { describeKey } = await import('../../src/core/trust/prehash.js');
  const { createHash, generateKeyPairSync } = await import('node:crypto');
  const pem = (k: import('node:crypto').KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
  const signature = Buffer.from('not really a signature, compared as bytes');
  const hash = { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') };
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const signed = { payload, signature, signer: { key: describeKey(pem(signer)) }, dsse: true };
  const dsse = (key: string) => ({ kind: 'dsse', apiVersion: '0.0.1', spec: { payloadHash: hash, signatures: [{ signature: signature.toString('base64'), verifier: b64(key) }] } });
  const intoto = (key: string) => ({ kind: 'intoto', apiVersion: '0.0.2', spec: { content: { payloadHash: hash, envelope: { payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: b64(signature.toString('base64')), publicKey: b64(b64(key)) }] } } } });
  assert.equal(bodyMatches(dsse(pem(signer)), signed), undefined);
  assert.equal(bodyMatches(intoto(pem(signer)), signed), undefined);
  assert.equal(bodyMatches(dsse(pem(other)), signed), 'the Rekor entry logs another key or certificate');
  assert.equal(bodyMatches(intoto(pem(other)), signed), 'the Rekor entry logs another key or certificate');
});

test('smaller: a certificate whose legacy (.1) and current (.8) Fulcio issuer extensions disagree is refused: CERT_ISSUER_CONFLICT', async () => {
  const x509 = await import('@peculiar/x509');
  const { webcrypto } = await import('node:crypto');
  const { issuerConflict } = await import('../../src/core/trust/certificate.js');
  const { verifySimpleSigning } = await import('../../src/core/trust/simple-signing.js');
  const { trustedRootFromPems } = await import('../../src/core/trust/trusted-root.js');
  const { signatureLayer, simpleSigningPayload } = await import('../helpers/cosign-sign.js');
  x509.cryptoProvider.set(webcrypto as never);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as never;
  const utf8String = (s: string): Buffer => Buffer.concat([Buffer.from([0x0c, Buffer.byteLength(s)]), Buffer.from(s)]);
  const certWith = async (legacy: string, current: string): Promise<string> => {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=sigstore-intermediate',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 600_000),
      keys,
      signingAlgorithm: alg,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1' }]),
        new x509.Extension('1.3.6.1.4.1.57264.1.1', false, Buffer.from(legacy)),
        new x509.Extension('1.3.6.1.4.1.57264.1.8', false, utf8String(current)),
      ],
    });
    return cert.toString('pem');
  };
  assert.equal(issuerConflict(await certWith(ISSUER, ISSUER)), undefined);
  const forged = await certWith('https://evil.example', ISSUER);
  assert.match(String(issuerConflict(forged)), /two OIDC issuers/);
  // The verifier refuses before it looks any further.
  const D = `sha256:${'c'.repeat(64)}`;
  const payload = simpleSigningPayload('registry.example/acme/app', D);
  const layer = signatureLayer(payload, Buffer.from('sig'), { cert: forged });
  const r = verifySimpleSigning({ mediaType: layer.mediaType, digest: D, size: layer.bytes.length, annotations: layer.annotations, bytes: layer.bytes }, { signers: [], trustedRoot: trustedRootFromPems({}, 'none'), subjects: new Set([D]) });
  assert.equal(r.verified, false);
  assert.equal(r.reason, 'CERT_ISSUER_CONFLICT');
});

test('smaller: chain names its trust (the implicit ./vouch.trust.yaml too) and says when only an attestation verified', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { resolveTrust, trustOf } = await import('../../src/core/trust/chain.js');
  const { formatChain } = await import('../../src/cli/commands/chain.js');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-implicit-'));
  const cwd = process.cwd();
  try {
    await writeFile(join(dir, 'vouch.trust.yaml'), 'signers: []\n');
    process.chdir(dir);
    const implicit = await resolveTrust({});
    assert.deepEqual(trustOf(implicit, 'root.json'), { file: join(dir, 'vouch.trust.yaml'), implicit: true, trustedRoot: 'root.json' });
    assert.equal(trustOf(await resolveTrust({ trustFile: 'vouch.trust.yaml' }), 'r').implicit, false);
  } finally {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  }
  const D = `sha256:${'e'.repeat(64)}`;
  const field = { value: null, sources: [], consistent: true };
  const text = formatChain({
    json: {
      image: { reference: 'oci:/x:1', digest: D },
      trust: { file: '/w/vouch.trust.yaml', implicit: true, trustedRoot: 'shipped' },
      index: null,
      signatures: [],
      attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', digest: D, verified: true, reason: 'OK', signer: { type: 'key', keyId: 'k', subject: null, issuer: null, trustedAs: 'ci' } }],
      provenance: null,
      traceability: { repository: field, revision: field, run: field, consistent: true },
    },
    signatureMessages: [],
    attestationMessages: ['verified'],
    provenanceDetail: null,
    attachments: [],
    trustSource: '/w/vouch.trust.yaml',
    trustedRootSource: 'shipped',
  });
  assert.match(text, /trust +\/w\/vouch\.trust\.yaml \(implicit \.\/vouch\.trust\.yaml\); root: shipped/);
  assert.match(text, /OK +https:\/\/slsa\.dev\/provenance\/v1 .* by ci/);
  assert.match(text, /result: no trusted signature verifies \(only attestations verified: an attestation is a claim about the image, not a signature of it\)/);
});

// Attack (rev-attack8 #2): the README's own keyless example, a subjectRegExp over acme's reusable
// release.yml without `extensions`, passed a fork's image. vouch now warns about such signers.
test('4. a keyless signer any repository can satisfy (subjectRegExp, or a workflow-file subject, no repository extension) is warned about', async () => {
  const { mkdtemp, writeFile, readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { generateKeyPairSync } = await import('node:crypto');
  const { unpinnedSignerWarnings } = await import('../../src/core/trust/trust-file.js');
  const { writeMiniLayout } = await import('../helpers/mini-layout.js');
  const { runCli } = await import('../helpers/inspect.js');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-unpinned-'));
  try {
    await writeFile(join(dir, 'cosign.pub'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString());
    const GH = 'https://token.actions.githubusercontent.com';
    const RE = `'^https://github\\.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.+$'`;
    const warned = async (keyless: string): Promise<string[]> => unpinnedSignerWarnings(await parseTrustFile(`signers:\n  - name: pipeline\n    keyless:\n${keyless}`, join(dir, 't.yaml')));
    assert.match((await warned(`      issuer: ${GH}\n      subjectRegExp: ${RE}\n`))[0] ?? '', /^trust file signer "pipeline": its subject is a regular expression but no keyless\.extensions pins the source repository.*sourceRepositoryURI/);
    assert.match((await warned(`      issuer: ${GH}\n      subject: https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1\n`))[0] ?? '', /its subject names a workflow file/);
    assert.equal((await warned(`      issuer: ${GH}\n      subjectRegExp: ${RE}\n      extensions: {buildTrigger: push}\n`)).length, 1, 'a trigger pins no repository');
    for (const pin of ['sourceRepositoryURI: https://github.com/acme/app', 'sourceRepositoryOwnerURI: https://github.com/acme', "sourceRepositoryOwnerIdentifier: '42'"]) {
      assert.deepEqual(await warned(`      issuer: ${GH}\n      subjectRegExp: ${RE}\n      extensions: {${pin}}\n`), [], pin);
    }
    assert.deepEqual(await warned(`      issuer: https://accounts.google.com\n      subject: release@acme.example\n`), [], 'an exact e-mail subject');
    // The README's first trust-file example is pinned (it is what people copy).
    const readme = await readFile(join(import.meta.dirname, '../../README.md'), 'utf8');
    const example = /```yaml\n(# vouch\.trust\.yaml\n[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, 'README has the vouch.trust.yaml example');
    assert.deepEqual(unpinnedSignerWarnings(await parseTrustFile(example, join(dir, 'readme.trust.yaml'))), []);

    // Where it shows: chain (stderr at load, text report, JSON warnings) and check (JSON warnings, stderr).
    const unpinned = join(dir, 'unpinned.trust.yaml');
    await writeFile(unpinned, `signers:\n  - name: release-pipeline\n    keyless:\n      issuer: ${GH}\n      subjectRegExp: ${RE}\n`);
    const layout = await writeMiniLayout(join(dir, 'img'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
    const ref = `oci:${layout.dir}:v1`;
    const json = await runCli(['chain', ref, '--trust', unpinned, '--json']);
    assert.equal(json.code, 1, json.stderr);
    assert.match(json.stderr, /^vouch: warning: trust file signer "release-pipeline": its subject is a regular expression/m);
    assert.match(JSON.parse(json.stdout).warnings[0], /^trust file signer "release-pipeline": its subject is a regular expression/);
    const text = await runCli(['chain', ref, '--trust', unpinned]);
    assert.match(text.stdout, /^warning +trust file signer "release-pipeline": its subject is a regular expression/m);
    const check = await runCli(['check', ref, '--trust', unpinned, '--format', 'json']);
    assert.ok(JSON.parse(check.stdout).warnings.some((w: string) => /^trust file signer "release-pipeline": its subject is a regular expression/.test(w)), check.stdout.slice(0, 400));
    assert.match(check.stderr, /vouch: warning: trust file signer "release-pipeline"/);
    // The trust file is loaded (and warned about) before the image is opened.
    const missing = await runCli(['chain', `oci:${join(dir, 'nope')}:v1`, '--trust', unpinned]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^vouch: warning: trust file signer "release-pipeline"/);
    // Pinned: no warning anywhere.
    const pinned = join(dir, 'pinned.trust.yaml');
    await writeFile(pinned, `signers:\n  - name: release-pipeline\n    keyless:\n      issuer: ${GH}\n      subjectRegExp: ${RE}\n      extensions: {sourceRepositoryURI: https://github.com/acme/app}\n`);
    const quiet = await runCli(['chain', ref, '--trust', pinned, '--json']);
    assert.doesNotMatch(quiet.stderr, /warning/);
    assert.deepEqual(JSON.parse(quiet.stdout).warnings, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
