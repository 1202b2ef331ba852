/**
 * Attacks on who counts as a trusted signer (issue 8, items 4–6), built for
 * real: images in the local registry, certificates from the local Fulcio,
 * entries in the local Rekor. Each refusal is asserted with its reason code.
 * - 4: a fork calling acme's reusable workflow gets a certificate whose SAN is
 *   acme's workflow; only extension constraints refuse it, and traceability
 *   always flags its source repository.
 * - 5: key signatures need a log entry unless the signer says `tlog: optional`.
 * - 6: legacy keyless `.sig` needs valid SCTs and a log entry (a timestamp does
 *   not stand in for it), as bundles do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/inspect.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { attach, attachBundleReferrer, pushImage, signatureLayer, signWithKey, simpleSigningPayload, statement, type PushedImage } from '../helpers/cosign-sign.js';

const NS = `trust-signers-${process.pid}-${Date.now() % 1e6}`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const ACME_WORKFLOW = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const pemOf = (k: KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();

/** GitHub's OIDC claims for a run of acme's reusable release workflow, started from `repository`. */
const claimsFor = (repository: string) => ({
  repository,
  repository_owner: repository.split('/')[0]!,
  repository_owner_id: repository.startsWith('acme/') ? '1001' : '6666',
  ref: 'refs/tags/v1.0.0',
  sha: COMMIT,
  event_name: 'push',
  job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/tags/v1.0.0',
  run_id: '42',
  run_attempt: '1',
});

describe('trusted signers: certificate extensions, log entries, SCTs', { timeout: 120_000 }, () => {
  let reg: TestRegistry | undefined;
  let sig: SigstoreServices;
  let noSct: SigstoreServices;
  let dir: string;
  let skip: string | undefined;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let fork: PushedImage;
  let acme: PushedImage;
  let offline: PushedImage;
  let sctless: PushedImage;
  let tsaOnly: PushedImage;
  const file = (name: string) => join(dir, name);

  before(async () => {
    reg = await startRegistry();
    if (!reg) {
      skip = 'docker-registry not installed';
      return;
    }
    sig = await startSigstoreServices();
    noSct = await startSigstoreServices({ noSct: true });
    dir = await mkdtemp(join(tmpdir(), 'vouch-trust-signers-'));
    await writeFile(file('root.json'), JSON.stringify(sig.trustedRoot));
    await writeFile(file('nosct-root.json'), JSON.stringify(noSct.trustedRoot));
    // The same root, but its CT log is another log: the certificates' SCTs name a log it does not trust.
    const other = await startSigstoreServices({ caOnly: true });
    await writeFile(file('other-ct-root.json'), JSON.stringify({ ...sig.trustedRoot, ctlogs: other.trustedRoot['ctlogs'] }));
    // The same log id with another key: the SCT's signature does not verify.
    const ct = (sig.trustedRoot['ctlogs'] as Array<Record<string, any>>)[0]!;
    const otherKey = (other.trustedRoot['ctlogs'] as Array<Record<string, any>>)[0]!.publicKey;
    await writeFile(file('bad-ct-root.json'), JSON.stringify({ ...sig.trustedRoot, ctlogs: [{ ...ct, publicKey: otherKey }] }));
    await other.stop();
    await writeFile(file('cosign.pub'), pemOf(key.publicKey));
    const keyless = (root: string, extra = '') =>
      `trustedRoot: ./${root}\nsigners:\n  - name: release-pipeline\n    keyless:\n      issuer: ${ISSUER}\n      subjectRegExp: '^https://github\\.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.+$'\n${extra}`;
    await writeFile(file('regexp-only.yaml'), keyless('root.json'));
    await writeFile(
      file('constrained.yaml'),
      keyless(
        'root.json',
        [
          '      extensions:',
          '        sourceRepositoryURI: https://github.com/acme/app',
          '        sourceRepositoryOwnerURI: https://github.com/acme',
          '        sourceRepositoryOwnerIdentifier: "1001"',
          '        sourceRepositoryRef: refs/tags/v1.0.0',
          '        buildTrigger: push',
          '        buildSignerURI: https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0',
          '',
        ].join('\n'),
      ),
    );
    for (const r of ['nosct-root.json', 'other-ct-root.json', 'bad-ct-root.json']) await writeFile(file(`regexp-${r}.yaml`), keyless(r));
    await writeFile(file('key.yaml'), 'trustedRoot: ./root.json\nsigners:\n  - {name: release-key, key: ./cosign.pub}\n');
    await writeFile(file('key-offline.yaml'), 'trustedRoot: ./root.json\nsigners:\n  - {name: release-key, key: ./cosign.pub, tlog: optional}\n');
    await writeFile(file('require-tlog.yaml'), 'signers:\n  - {name: release-key, key: ./cosign.pub}\nrequire: {tlog: true}\n');

    const h = reg.host;
    const annotations = { 'org.opencontainers.image.source': 'https://github.com/acme/app', 'org.opencontainers.image.revision': COMMIT };
    // 4. evil/fork ran acme's reusable workflow: SAN = acme's workflow, source repository = the fork. The image claims to be acme's.
    fork = await pushImage(h, `${NS}/fork`, 'v1', { annotations, seed: 'fork' });
    const fp = simpleSigningPayload(`${h}/${NS}/fork`, fork.digest);
    const evil = await sig.signMessage(fp, { sub: ACME_WORKFLOW, iss: ISSUER, claims: claimsFor('evil/fork') });
    await attach(h, `${NS}/fork`, fork.digest, 'sig', [signatureLayer(fp, evil.signature, { cert: evil.certPem, chain: evil.chainPem, rekor: evil.rekorAnnotation! })]);
    const evilBundle = await sig.signDsse(statement(fork.digest, 'https://sigstore.dev/cosign/sign/v1', {}), 'application/vnd.in-toto+json', { sub: ACME_WORKFLOW, iss: ISSUER, claims: claimsFor('evil/fork') });
    await attachBundleReferrer(h, `${NS}/fork`, fork.manifest, bundleToJSON(evilBundle.bundle));
    // The honest run from acme/app itself.
    acme = await pushImage(h, `${NS}/acme`, 'v1', { annotations, seed: 'acme' });
    const ap = simpleSigningPayload(`${h}/${NS}/acme`, acme.digest);
    const good = await sig.signMessage(ap, { sub: ACME_WORKFLOW, iss: ISSUER, claims: claimsFor('acme/app') });
    await attach(h, `${NS}/acme`, acme.digest, 'sig', [signatureLayer(ap, good.signature, { cert: good.certPem, chain: good.chainPem, rekor: good.rekorAnnotation! })]);

    // 5. a key signature with no log entry.
    offline = await pushImage(h, `${NS}/offline`, 'v1', { seed: 'offline' });
    const op = simpleSigningPayload(`${h}/${NS}/offline`, offline.digest);
    await attach(h, `${NS}/offline`, offline.digest, 'sig', [signatureLayer(op, signWithKey(key.privateKey, op))]);

    // 6a. a keyless signature whose certificate has no SCT (logged in Rekor all the same).
    sctless = await pushImage(h, `${NS}/sctless`, 'v1', { seed: 'sctless' });
    const sp = simpleSigningPayload(`${h}/${NS}/sctless`, sctless.digest);
    const ns = await noSct.signMessage(sp, { sub: ACME_WORKFLOW, iss: ISSUER, claims: claimsFor('acme/app') });
    await attach(h, `${NS}/sctless`, sctless.digest, 'sig', [signatureLayer(sp, ns.signature, { cert: ns.certPem, chain: ns.chainPem, rekor: ns.rekorAnnotation! })]);
    // 6b. a keyless signature with an RFC 3161 timestamp and no log entry.
    tsaOnly = await pushImage(h, `${NS}/tsa-only`, 'v1', { seed: 'tsa-only' });
    const tp = simpleSigningPayload(`${h}/${NS}/tsa-only`, tsaOnly.digest);
    const ts = await sig.signMessage(tp, { sub: ACME_WORKFLOW, iss: ISSUER, claims: claimsFor('acme/app') }, { tsa: true, tlog: false });
    const tsToken = ts.bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps[0]?.signedTimestamp;
    assert.ok(tsToken, 'the TSA gave a timestamp');
    await attach(h, `${NS}/tsa-only`, tsaOnly.digest, 'sig', [
      signatureLayer(tp, ts.signature, { cert: ts.certPem, chain: ts.chainPem, rfc3161: JSON.stringify({ SignedRFC3161Timestamp: Buffer.from(tsToken).toString('base64') }) }),
    ]);
  });

  after(async () => {
    await sig?.stop();
    await noSct?.stop();
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const chain = async (ref: string, trust: string) => {
    const r = await runCli(['chain', ref, '--trust', file(trust), '--json']);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    return { code: r.code, json: JSON.parse(r.stdout) };
  };
  const text = async (ref: string, trust: string) => (await runCli(['chain', ref, '--trust', file(trust)])).stdout;

  test('4: a fork running acme\'s reusable workflow matches the subject pattern alone, and traceability says its source repository disagrees', async (t) => {
    if (skip) return t.skip(skip);
    const { json } = await chain(fork.ref, 'regexp-only.yaml');
    const legacy = json.signatures.find((s: { kind: string }) => s.kind === 'cosign');
    assert.equal(legacy.verified, true, 'the subject regexp alone cannot tell the fork from acme');
    assert.equal(json.traceability.repository.consistent, false);
    assert.equal(json.traceability.consistent, false);
    assert.ok(json.traceability.repository.sources.some((s: { from: string; value: string }) => s.from === 'certificate' && s.value === 'https://github.com/evil/fork'));
    assert.match(await text(fork.ref, 'regexp-only.yaml'), /SOURCES DISAGREE/);
  });

  test('4: with extension constraints the fork\'s certificates are refused (UNTRUSTED_SIGNER, legacy .sig and bundle); acme\'s own run verifies', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(fork.ref, 'constrained.yaml');
    assert.equal(code, 1);
    assert.equal(json.signatures.length, 2);
    for (const s of json.signatures) {
      assert.equal(s.verified, false);
      assert.equal(s.reason, 'UNTRUSTED_SIGNER');
      assert.equal(s.signer?.trustedAs ?? null, null);
    }
    assert.match(await text(fork.ref, 'constrained.yaml'), /sourceRepositoryURI is "https:\/\/github\.com\/evil\/fork", not "https:\/\/github\.com\/acme\/app"/);
    const ok = await chain(acme.ref, 'constrained.yaml');
    assert.equal(ok.code, 0);
    assert.equal(ok.json.signatures[0].reason, 'OK');
    assert.equal(ok.json.signatures[0].signer.trustedAs, 'release-pipeline');
    assert.equal(ok.json.traceability.consistent, true);
  });

  test('5: a key signature without a log entry is TLOG_MISSING by default; `tlog: optional` accepts it and says there is no entry; require.tlog (the approvals\' rule) relaxes nothing', async (t) => {
    if (skip) return t.skip(skip);
    const strict = await chain(offline.ref, 'key.yaml');
    assert.equal(strict.code, 1);
    assert.equal(strict.json.signatures[0].reason, 'TLOG_MISSING');
    const relaxed = await chain(offline.ref, 'key-offline.yaml');
    assert.equal(relaxed.code, 0);
    assert.equal(relaxed.json.signatures[0].reason, 'OK');
    assert.equal(relaxed.json.signatures[0].tlog, null);
    assert.match(await text(offline.ref, 'key-offline.yaml'), /no transparency log entry/);
    // require.tlog is what approval records must carry (vouch verify); it never relaxes the signers' own rule.
    const approvalsRule = await runCli(['chain', offline.ref, '--trust', file('require-tlog.yaml'), '--json']);
    assert.equal(approvalsRule.code, 1, approvalsRule.stderr);
    assert.equal(JSON.parse(approvalsRule.stdout).signatures[0].reason, 'TLOG_MISSING');
  });

  test('6: legacy keyless .sig: no SCT, an SCT from a log the root does not trust, an SCT that does not verify → SCT_INVALID', async (t) => {
    if (skip) return t.skip(skip);
    const none = await chain(sctless.ref, 'regexp-nosct-root.json.yaml');
    assert.equal(none.json.signatures[0].reason, 'SCT_INVALID');
    assert.equal(none.code, 1);
    for (const trust of ['regexp-other-ct-root.json.yaml', 'regexp-bad-ct-root.json.yaml']) {
      const r = await chain(acme.ref, trust);
      assert.equal(r.json.signatures[0].reason, 'SCT_INVALID', trust);
      assert.equal(r.code, 1);
    }
    // The same signature under the root whose CT log issued the SCT verifies.
    assert.equal((await chain(acme.ref, 'regexp-only.yaml')).json.signatures[0].reason, 'OK');
  });

  test('6: legacy keyless .sig with a TSA timestamp but no log entry → TLOG_MISSING (a timestamp does not stand in for the log, as for bundles)', async (t) => {
    if (skip) return t.skip(skip);
    const r = await chain(tsaOnly.ref, 'regexp-only.yaml');
    assert.equal(r.code, 1);
    assert.equal(r.json.signatures[0].reason, 'TLOG_MISSING');
  });
});

