/**
 * SBOMs and vulnerability scans attached to an image, read from a real
 * registry (Debian's docker-registry 2.8, no referrers API: the tag schema)
 * and from an OCI layout: cosign's `.sbom` tag (`cosign attach sbom`), a
 * CycloneDX and a vuln attestation in `.att` signed with a key the trust file
 * lists, an attestation about another digest (never used), and SBOM / SARIF
 * referrers. `vouch sbom --attached`, the catalogue comparison, and the
 * checks (DC-001, DC-002, CP-001, CP-003) must show exactly what was planted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Repositories unique to this run: CI runs the suite twice against the same registry, and referrers accumulate.
const NS = `attached-${process.pid}-${Date.now() % 1e6}`;
const work = mkdtempSync(join(tmpdir(), 'vouch-attached-'));
process.env.VOUCH_CACHE_DIR = join(work, 'cache');
after(() => rmSync(work, { recursive: true, force: true }));

const { startRegistry } = await import('../helpers/registry.js');
const { runCli } = await import('../helpers/inspect.js');
const { attach, attachReferrer, attestationLayer, pushImage, sbomLayer, signWithKey, statement } = await import('../helpers/cosign-sign.js');
const { readAttached, readAttachedSboms, readAttachedScans } = await import('../../src/core/packages/attached.js');
const { OciLayoutWriter } = await import('../../src/core/oci/layout-writer.js');
const { tarBuffer } = await import('../../src/core/oci/tar-writer.js');
const { subjectKey } = await import('../../src/core/checks/run.js');
type TestRegistry = import('../helpers/registry.js').TestRegistry;
type PushedImage = import('../helpers/cosign-sign.js').PushedImage;
type CheckResultSet = import('../../src/core/checks/types.js').CheckResultSet;

const CDX_PREDICATE = 'https://cyclonedx.org/bom';
const VULN_PREDICATE = 'https://cosign.sigstore.dev/attestation/vuln/v1';

/** What is in the image: three npm packages. */
const IMAGE_FILES = [
  { path: 'app/node_modules/ms/package.json', content: '{"name":"ms","version":"2.1.3","license":"MIT"}\n' },
  { path: 'app/node_modules/debug/package.json', content: '{"name":"debug","version":"4.3.4","license":"MIT"}\n' },
  { path: 'app/node_modules/lodash/package.json', content: '{"name":"lodash","version":"4.17.21","license":"MIT"}\n' },
];
/** What the pipeline's SBOM says: lodash at another version (planted mismatch), plus left-pad, which the image does not have (planted). */
const SBOM_PACKAGES = [
  { name: 'debug', version: '4.3.4' },
  { name: 'left-pad', version: '1.3.0' },
  { name: 'lodash', version: '4.17.20' },
  { name: 'ms', version: '2.1.3' },
];
const purl = (p: { name: string; version: string }): string => `pkg:npm/${p.name}@${p.version}`;

function spdx(pkgs: Array<{ name: string; version: string }>): object {
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'app',
    documentNamespace: 'https://example.com/spdx/app-1',
    creationInfo: { created: '2025-01-01T00:00:00Z', creators: ['Tool: syft-1.0.0'] },
    packages: pkgs.map((p, i) => ({
      SPDXID: `SPDXRef-Package-${i}`,
      name: p.name,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      licenseConcluded: 'MIT',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl(p) }],
    })),
  };
}

function cyclonedx(pkgs: Array<{ name: string; version: string }>): object {
  return { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: pkgs.map((p) => ({ type: 'library', name: p.name, version: p.version, purl: purl(p), licenses: [{ license: { id: 'MIT' } }] })) };
}

/** A Trivy report with one HIGH and one LOW finding, wrapped as cosign's vuln predicate. */
function vulnPredicate(): object {
  const trivy = {
    SchemaVersion: 2,
    ArtifactName: 'app',
    ArtifactType: 'container_image',
    Results: [
      {
        Target: 'Node.js',
        Class: 'lang-pkgs',
        Type: 'node-pkg',
        Vulnerabilities: [
          { VulnerabilityID: 'CVE-2021-23337', PkgName: 'lodash', InstalledVersion: '4.17.21', Severity: 'HIGH', PkgIdentifier: { PURL: 'pkg:npm/lodash@4.17.21' } },
          { VulnerabilityID: 'CVE-2017-20165', PkgName: 'debug', InstalledVersion: '4.3.4', Severity: 'LOW', PkgIdentifier: { PURL: 'pkg:npm/debug@4.3.4' } },
        ],
      },
    ],
  };
  const now = new Date().toISOString();
  return { invocation: {}, scanner: { uri: 'pkg:github/aquasecurity/trivy@0.50.0', version: '0.50.0', result: trivy }, metadata: { scanStartedOn: now, scanFinishedOn: now } };
}

function failing(set: CheckResultSet, id: string): string[] {
  return set.results.filter((r) => r.id === id && r.status === 'fail').map((r) => subjectKey(r.subject)).sort();
}
const statusOf = (set: CheckResultSet, id: string): string[] => [...new Set(set.results.filter((r) => r.id === id).map((r) => r.status))];

describe('SBOMs and scans attached in a real registry', { timeout: 180_000 }, () => {
  let reg: TestRegistry | undefined;
  let img: PushedImage;
  let refImg: PushedImage;
  let trustFile: string;
  let otherTrust: string;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let skip: string | undefined;

  before(async () => {
    reg = await startRegistry();
    if (!reg) {
      skip = 'docker-registry not installed';
      return;
    }
    writeFileSync(join(work, 'cosign.pub'), key.publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(work, 'stranger.pub'), stranger.publicKey.export({ format: 'pem', type: 'spki' }));
    trustFile = join(work, 'vouch.trust.yaml');
    writeFileSync(trustFile, 'signers:\n  - {name: ci, key: ./cosign.pub, tlog: optional}\n');
    otherTrust = join(work, 'other.trust.yaml');
    writeFileSync(otherTrust, 'signers:\n  - {name: someone-else, key: ./stranger.pub, tlog: optional}\n');
    const h = reg.host;

    // 1. cosign-style: .sbom tag (SPDX), .att with a CycloneDX SBOM, a vuln scan, and a CycloneDX attestation about another digest.
    img = await pushImage(h, `${NS}/app`, 'v1', { files: IMAGE_FILES, seed: 'app' });
    await attach(h, `${NS}/app`, img.digest, 'sbom', [sbomLayer(spdx(SBOM_PACKAGES), 'text/spdx+json')]);
    const sign = (pae: Buffer): Buffer => signWithKey(key.privateKey, pae);
    const foreign = `sha256:${'ab'.repeat(32)}`;
    await attach(h, `${NS}/app`, img.digest, 'att', [
      attestationLayer(statement(img.digest, CDX_PREDICATE, cyclonedx(SBOM_PACKAGES)), sign, { predicateType: CDX_PREDICATE }),
      attestationLayer(statement(img.digest, VULN_PREDICATE, vulnPredicate()), sign, { predicateType: VULN_PREDICATE }),
      attestationLayer(statement(foreign, CDX_PREDICATE, cyclonedx([{ name: 'evil', version: '6.6.6' }])), sign, { predicateType: CDX_PREDICATE }),
    ]);

    // 2. OCI 1.1 referrers (tag schema): a CycloneDX SBOM and a SARIF report.
    refImg = await pushImage(h, `${NS}/refs`, 'v1', { files: IMAGE_FILES.slice(0, 1), seed: 'refs' });
    await attachReferrer(h, `${NS}/refs`, refImg.manifest, 'application/vnd.cyclonedx+json', cyclonedx([{ name: 'ms', version: '2.1.3' }]));
    const sarif = {
      version: '2.1.0',
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      runs: [
        {
          tool: { driver: { name: 'Trivy', rules: [{ id: 'CVE-2024-0001', properties: { 'security-severity': '9.8' } }] } },
          invocations: [{ executionSuccessful: true, endTimeUtc: new Date().toISOString() }],
          results: [{ ruleId: 'CVE-2024-0001', level: 'error', message: { text: 'ms 2.1.3' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'app/node_modules/ms/package.json' } } }] }],
        },
      ],
    };
    await attachReferrer(h, `${NS}/refs`, refImg.manifest, 'application/sarif+json', sarif);
  });
  after(async () => {
    await reg?.stop();
  });

  test('attack: a bare (unsigned) vuln statement in .att no longer satisfies VCH-CP-001; signed by an untrusted key fails; by the trusted key passes; the policy may opt in', async (t) => {
    if (skip) return t.skip(skip);
    const h = reg!.host;
    // A clean scan (no findings), as an attacker who can push would write it.
    const clean = { invocation: {}, scanner: { uri: 'pkg:github/aquasecurity/trivy@0.50.0', version: '0.50.0', result: { SchemaVersion: 2, ArtifactName: 'x', Results: [] } }, metadata: { scanStartedOn: new Date().toISOString(), scanFinishedOn: new Date().toISOString() } };
    const make = async (name: string, layer: (digest: string) => { mediaType: string; bytes: Buffer; annotations: Record<string, string> }) => {
      const i = await pushImage(h, `${NS}/${name}`, 'v1', { files: IMAGE_FILES.slice(0, 1), seed: name });
      await attach(h, `${NS}/${name}`, i.digest, 'att', [layer(i.digest)]);
      return i;
    };
    const bare = await make('bare-vuln', (d) => ({ mediaType: 'application/vnd.in-toto+json', bytes: statement(d, VULN_PREDICATE, clean), annotations: { predicateType: VULN_PREDICATE } }));
    const byStranger = await make('stranger-vuln', (d) => attestationLayer(statement(d, VULN_PREDICATE, clean), (pae) => signWithKey(stranger.privateKey, pae), { predicateType: VULN_PREDICATE }));
    const byCi = await make('ci-vuln', (d) => attestationLayer(statement(d, VULN_PREDICATE, clean), (pae) => signWithKey(key.privateKey, pae), { predicateType: VULN_PREDICATE }));
    const check = async (ref: string, extra: string[] = []) => JSON.parse((await runCli(['check', ref, '--trust', trustFile, '--format', 'json', ...extra])).stdout) as CheckResultSet;

    const a = await check(bare.ref);
    assert.deepEqual(statusOf(a, 'VCH-CP-001'), ['fail'], 'stripping the signature must not turn a failure into a pass');
    assert.match(a.results.find((x) => x.id === 'VCH-CP-001')!.message, /unsigned \(policy checks\.VCH-CP-001\.unsignedEvidence is not set\)/);
    assert.match(a.results.find((x) => x.id === 'VCH-CP-003')!.message, /^not applicable/);
    assert.deepEqual(statusOf(await check(byStranger.ref), 'VCH-CP-001'), ['fail']);
    const ok = await check(byCi.ref);
    assert.deepEqual(statusOf(ok, 'VCH-CP-001'), ['pass']);
    assert.match(ok.results.find((x) => x.id === 'VCH-CP-001')!.message, /verified by ci/);
    // Opting in, per check: the unsigned statement counts and the result says it is unsigned.
    const policy = join(work, 'unsigned-ok.policy.yaml');
    writeFileSync(policy, 'checks:\n  VCH-CP-001: {unsignedEvidence: true}\n');
    const opted = await check(bare.ref, ['--policy', policy]);
    assert.deepEqual(statusOf(opted, 'VCH-CP-001'), ['pass']);
    assert.match(opted.results.find((x) => x.id === 'VCH-CP-001')!.message, /unsigned: accepted by the policy/);
  });

  test('vouch sbom REF --attached --json: the attached SBOMs merged, source "attached"; --attached-index picks one', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runCli(['sbom', img.ref, '--attached', '--json', '--trust', trustFile]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.source, 'attached');
    assert.deepEqual(
      out.packages.map((p: { name: string; version: string; purl: string }) => [p.name, p.version, p.purl]),
      SBOM_PACKAGES.map((p) => [p.name, p.version, purl(p)]),
    );
    // The .att CycloneDX (verified by ci) and the .sbom SPDX (unsigned) are both there, merged; the one about another digest is not.
    assert.deepEqual(
      out.attached.map((a: { where: string; format: string; verified: boolean | null; signer: { trustedAs: string } | null; predicateType: string | null }) => [a.where, a.format, a.verified, a.signer?.trustedAs ?? null, a.predicateType]),
      [
        ['attestation', 'CycloneDX 1.6 JSON', true, 'ci', CDX_PREDICATE],
        ['sbom-tag', 'SPDX 2.3 JSON', null, null, null],
      ],
    );
    assert.match(r.stderr, /2 SBOMs are attached; printing them merged/);
    assert.match(r.stderr, /about sha256:abab.*not this image: not used/);
    assert.ok(!r.stdout.includes('evil'));
    for (const [i, want] of [[1, 'CycloneDX 1.6 JSON'], [2, 'SPDX 2.3 JSON']] as const) {
      const one = JSON.parse((await runCli(['sbom', img.ref, '--attached', '--attached-index', String(i), '--json', '--trust', trustFile])).stdout);
      assert.deepEqual(one.attached.map((a: { format: string }) => a.format), [want]);
      assert.equal(one.packages.length, SBOM_PACKAGES.length);
    }
    assert.equal((await runCli(['sbom', img.ref, '--attached', '--attached-index', '3'])).code, 2);
    // Under a trust file that does not list the key, the attestation is there but not verified.
    const other = JSON.parse((await runCli(['sbom', img.ref, '--attached', '--json', '--trust', otherTrust])).stdout);
    assert.deepEqual(other.attached.map((a: { verified: boolean | null }) => a.verified), [false, null]);
    // Table: the summary names the attached SBOMs.
    const table = await runCli(['sbom', img.ref, '--attached', '--trust', trustFile]);
    assert.match(table.stdout.split('\n')[0]!, /\(attached SBOMs, 2 merged\): 4 packages \(attached\)/);
  });

  test('vouch sbom REF --json: the catalogue, plus the comparison with the attached SBOM (exactly the planted differences)', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runCli(['sbom', img.ref, '--json', '--trust', trustFile]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out), ['source', 'distro', 'packages', 'comparison', 'cache']);
    assert.equal(out.source, 'catalog');
    assert.deepEqual(out.packages.map((p: { name: string; version: string }) => `${p.name}@${p.version}`), ['debug@4.3.4', 'lodash@4.17.21', 'ms@2.1.3']);
    assert.deepEqual(out.comparison.onlyInAttached.map((p: { purl: string }) => p.purl), ['pkg:npm/left-pad@1.3.0']);
    assert.deepEqual(out.comparison.onlyInCatalog, []);
    assert.deepEqual(out.comparison.versionMismatch, [
      { type: 'npm', name: 'lodash', attachedVersion: '4.17.20', catalogVersion: '4.17.21', attachedPurl: 'pkg:npm/lodash@4.17.20', catalogPurl: 'pkg:npm/lodash@4.17.21' },
    ]);
    assert.equal(out.comparison.attached.length, 2);
    const table = await runCli(['sbom', img.ref, '--trust', trustFile]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /compared with the 2 attached SBOMs, merged .*: 2 matched, 1 only in the attached SBOM, 0 only in the catalogue, 1 at different versions/);
    // --sbom FILE still compares with the file only (and the JSON is as before).
    const file = join(work, 'same.cdx.json');
    writeFileSync(file, JSON.stringify(cyclonedx([{ name: 'debug', version: '4.3.4' }, { name: 'lodash', version: '4.17.21' }, { name: 'ms', version: '2.1.3' }])));
    const withFile = JSON.parse((await runCli(['sbom', img.ref, '--json', '--sbom', file])).stdout);
    assert.deepEqual(withFile.comparison, { onlyInAttached: [], onlyInCatalog: [], versionMismatch: [] });
  });

  test('vouch check REF --trust: DC-001 passes, DC-002 fails with exactly the planted differences, CP-001 passes, CP-003 has the attested HIGH finding', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runCli(['check', img.ref, '--trust', trustFile, '--format', 'json']);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const set = JSON.parse(r.stdout) as CheckResultSet;
    assert.deepEqual(statusOf(set, 'VCH-DC-001'), ['pass']);
    assert.match(set.results.find((x) => x.id === 'VCH-DC-001')!.message, /^SBOM attached: attestation .*verified by ci$/);
    assert.deepEqual(failing(set, 'VCH-DC-002'), ['package:pkg:npm/left-pad@1.3.0', 'package:pkg:npm/lodash@4.17.21']);
    assert.deepEqual(
      set.results.filter((x) => x.id === 'VCH-DC-002').map((x) => x.message).sort(),
      ['npm/left-pad@1.3.0 is in the attached SBOMs but not found in the image', 'npm/lodash: the attached SBOMs say 4.17.20, the image has 4.17.21'].sort(),
    );
    assert.deepEqual(statusOf(set, 'VCH-CP-001'), ['pass']);
    assert.deepEqual(statusOf(set, 'VCH-CP-002'), ['pass']);
    const cp3 = set.results.filter((x) => x.id === 'VCH-CP-003');
    assert.deepEqual(cp3.map((x) => [x.status, x.severity, x.subject.package?.name, x.message.split(' ')[0]]), [['fail', 'high', 'lodash', 'CVE-2021-23337']]);
    // The evil package from the attestation about another digest appears nowhere.
    assert.ok(!r.stdout.includes('evil'));
  });

  test('an attestation that does not verify: the unsigned .sbom is compared but satisfies nothing; the vuln scan does not count', async (t) => {
    if (skip) return t.skip(skip);
    const set = JSON.parse((await runCli(['check', img.ref, '--trust', otherTrust, '--format', 'json'])).stdout) as CheckResultSet;
    assert.deepEqual(statusOf(set, 'VCH-DC-001'), ['fail']);
    assert.match(set.results.find((x) => x.id === 'VCH-DC-001')!.message, /unsigned \(policy checks\.VCH-DC-001\.unsignedEvidence is not set\)/);
    assert.deepEqual(failing(set, 'VCH-DC-002'), ['package:pkg:npm/left-pad@1.3.0', 'package:pkg:npm/lodash@4.17.21']);
    assert.deepEqual(failing(set, 'VCH-CP-001'), ['image']);
    assert.match(set.results.find((x) => x.id === 'VCH-CP-001')!.message, /does not verify/);
    assert.deepEqual(statusOf(set, 'VCH-CP-003'), ['pass']);
  });

  test('readAttached: the attestation about another digest is reported as skipped, never used', async (t) => {
    if (skip) return t.skip(skip);
    const rep = await readAttached(img.ref, { trustFile });
    assert.equal(rep.image.digest, img.digest);
    assert.deepEqual(rep.skipped.map((s) => [s.kind, s.where, s.predicateType]), [['sbom', 'attestation', CDX_PREDICATE]]);
    assert.match(rep.skipped[0]!.reason, /not this image/);
    assert.ok(rep.sboms.every((s) => !s.inventory.packages.some((p) => p.name === 'evil')));
    assert.ok(rep.sboms.every((s) => s.inventory.source === 'attached'));
    const scans = await readAttachedScans(img.ref, { trustFile });
    assert.deepEqual(scans.map((s) => [s.where, s.verified, s.report.format, s.report.findings.length, s.report.timeFrom]), [['attestation', true, 'cosign-vuln', 2, 'document']]);
    // Every digest is the sha256 of the document the registry served.
    for (const s of rep.sboms) assert.match(s.digest, /^sha256:[0-9a-f]{64}$/);
  });

  test('referrers (tag schema): an SBOM referrer and a SARIF referrer', async (t) => {
    if (skip) return t.skip(skip);
    const sboms = await readAttachedSboms(refImg.ref);
    assert.deepEqual(sboms.map((s) => [s.where, s.format.name, s.verified, s.inventory.packages.map((p) => p.purl)]), [['referrer', 'cyclonedx-json', null, ['pkg:npm/ms@2.1.3']]]);
    const scans = await readAttachedScans(refImg.ref);
    assert.deepEqual(scans.map((s) => [s.where, s.report.format, s.report.findings.map((f) => [f.id, f.severity])]), [['referrer', 'sarif', [['CVE-2024-0001', 'critical']]]]);
    const set = JSON.parse((await runCli(['check', refImg.ref, '--trust', trustFile, '--format', 'json'])).stdout) as CheckResultSet;
    // Unsigned referrers satisfy nothing (DC-001, CP-001 fail); their findings still count (CP-003).
    assert.deepEqual(statusOf(set, 'VCH-DC-001'), ['fail']);
    assert.deepEqual(statusOf(set, 'VCH-DC-002'), ['pass']);
    assert.deepEqual(statusOf(set, 'VCH-CP-001'), ['fail']);
    // SARIF names no package; its location is relative, so the subject is the image.
    assert.deepEqual(failing(set, 'VCH-CP-003'), ['image']);
    assert.match(set.results.find((x) => x.id === 'VCH-CP-003')!.message, /^CVE-2024-0001 \(9\.8\) at app\/node_modules\/ms\/package\.json \[Trivy\]$/);
    const out = JSON.parse((await runCli(['sbom', refImg.ref, '--attached', '--json'])).stdout);
    assert.deepEqual(out.attached.map((a: { where: string }) => a.where), ['referrer']);
  });
});

describe('SBOM attached in an OCI layout (.sbom tag named in index.json)', () => {
  test('readAttachedSboms reads it through the LayoutAttachmentStore; the blob digest is verified', async () => {
    const dir = join(work, 'layout');
    const w = await OciLayoutWriter.create(dir);
    const data = Buffer.from('{"name":"ms","version":"2.1.3","license":"MIT"}\n');
    await w.addLayer(tarBuffer([{ entry: { path: 'app/node_modules/ms/package.json', type: 'file', mtime: 1717200000, size: data.length }, data }]), { createdBy: 'COPY . /app' });
    const built = await w.finish({ tags: ['t'], created: '2024-06-01T00:00:00Z', config: {} });
    const put = (b: Buffer): { digest: string; size: number } => {
      const digest = `sha256:${createHash('sha256').update(b).digest('hex')}`;
      writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), b);
      return { digest, size: b.length };
    };
    const doc = Buffer.from(JSON.stringify(spdx([{ name: 'ms', version: '2.1.3' }])));
    const layer = { mediaType: 'text/spdx+json', ...put(doc) };
    const cfg = { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(Buffer.from('{}')) };
    const m = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: [layer] })));
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    index.manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': `${built.manifestDigest.replace(':', '-')}.sbom` } });
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));

    const sboms = await readAttachedSboms(`oci:${dir}:t`);
    assert.deepEqual(sboms.map((s) => [s.where, s.digest, s.manifestDigest, s.format.name, s.inventory.packages.map((p) => p.purl)]), [['sbom-tag', layer.digest, m.digest, 'spdx-json', ['pkg:npm/ms@2.1.3']]]);
    const cmp = JSON.parse((await runCli(['sbom', `oci:${dir}:t`, '--json'])).stdout);
    assert.deepEqual(cmp.comparison.versionMismatch, []);
    assert.deepEqual(cmp.comparison.onlyInAttached, []);
    assert.deepEqual(cmp.comparison.onlyInCatalog, []);

    // A tampered SBOM blob (bytes no longer hash to the digest) is not used: skipped with the reason.
    writeFileSync(join(dir, 'blobs', 'sha256', layer.digest.slice(7)), Buffer.from(doc.toString().replace('2.1.3', '9.9.9')));
    const rep = await readAttached(`oci:${dir}:t`);
    assert.deepEqual(rep.sboms, []);
    assert.match(rep.skipped[0]!.reason, /digest mismatch/);
  });
});
