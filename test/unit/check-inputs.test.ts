/** Issue 9 item 18: an unrelated --sbom gives one result; --scan takes only vulnerability reports; unused exceptions warn. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { runCli } from '../helpers/inspect.js';
import { parseScan } from '../../src/core/checks/index.js';

const work = mkdtempSync(join(tmpdir(), 'vouch-check-inputs-'));
const stanza = (name: string, version: string): string => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nDescription: ${name}\n`;
const ready = writeMiniLayout(join(work, 'img'), {
  tag: 'v1',
  platforms: [{ os: 'linux', architecture: 'amd64' }],
  files: () => [
    { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    { path: 'var/lib/dpkg/status', content: Array.from({ length: 12 }, (_, i) => stanza(`lib${i}`, `1.${i}`)).join('\n') },
  ],
});
const ref = `oci:${join(work, 'img')}:v1`;
type R = { id: string; status: string; severity: string; message: string };

test('check --sbom with an SBOM of another image: one high VCH-DC-002 result with the counts', async () => {
  await ready;
  const juice = new URL('../fixtures/cyclonedx-bom-examples/SBOM/juice-shop/v11.1.2/bom.json', import.meta.url).pathname;
  const r = await runCli(['check', ref, '--sbom', juice, '--format', 'json']);
  const dc2 = (JSON.parse(r.stdout).results as R[]).filter((x) => x.id === 'VCH-DC-002');
  assert.equal(dc2.length, 1, JSON.stringify(dc2.slice(0, 3)));
  assert.equal(dc2[0]!.severity, 'high');
  assert.match(dc2[0]!.message, /^the SBOM does not describe this image: it lists 840 packages, the image has 12, and only 0 are in both/);
});

test('check --sbom with a near-match still lists each difference', async () => {
  await ready;
  const cdx = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: Array.from({ length: 12 }, (_, i) => ({ type: 'library', name: `lib${i}`, version: i === 3 ? '9.9' : `1.${i}`, purl: `pkg:deb/debian/lib${i}@${i === 3 ? '9.9' : `1.${i}`}?distro=debian-12` })) };
  const f = join(work, 'near.cdx.json');
  writeFileSync(f, JSON.stringify(cdx));
  const r = await runCli(['check', ref, '--sbom', f, '--format', 'json']);
  const dc2 = (JSON.parse(r.stdout).results as R[]).filter((x) => x.id === 'VCH-DC-002');
  assert.deepEqual(dc2.map((x) => x.message), ['deb/lib3: the SBOM says 9.9, the image has 1.3']);
});

test('--scan refuses SARIF that reports no vulnerabilities, vouch\'s own check SARIF included, and says why', async () => {
  await ready;
  const own = await runCli(['check', ref, '--format', 'sarif']);
  const ownFile = join(work, 'own.sarif');
  writeFileSync(ownFile, own.stdout);
  const r = await runCli(['check', ref, '--scan', ownFile]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /own.sarif: runs\.0: this is vouch's own check report \(tool "vouch"\), not a vulnerability scan/);
  const lint = JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'eslint', rules: [{ id: 'no-unused-vars' }] } }, results: [{ ruleId: 'no-unused-vars', level: 'warning', message: { text: 'x' } }] }] });
  assert.throws(() => parseScan(lint, 'lint.sarif'), /lint\.sarif: runs\.0: "eslint" is not a known vulnerability scanner and reports no CVE, GHSA or OSV ids: not a vulnerability scan/);
  // A scanner vouch does not know by name counts when it reports vulnerability ids.
  const other = JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'acme-scan' } }, results: [{ ruleId: 'CVE-2024-1234', level: 'error', message: { text: 'x' } }] }] });
  assert.equal(parseScan(other, 'acme.sarif').findings.length, 1);
  const trivy = readFileSync(new URL('../fixtures/sarif/scans/trivy-alpine.sarif', import.meta.url), 'utf8');
  assert.ok(parseScan(trivy, 'trivy.sarif').findings.length > 0);
});

test('a policy exception that matches nothing is a warning (stderr and JSON)', async () => {
  await ready;
  const policy = join(work, 'vouch.policy.yaml');
  writeFileSync(policy, 'exceptions:\n  - {check: VCH-LP-002, subject: "/usr/bin/typo", reason: "vendor tool", expires: 2999-12-31}\n');
  const j = await runCli(['check', ref, '--policy', policy, '--format', 'json']);
  assert.deepEqual(JSON.parse(j.stdout).warnings, ['policy exception for VCH-LP-002 on "/usr/bin/typo" matches no result']);
  const t = await runCli(['check', ref, '--policy', policy]);
  assert.match(t.stderr, /vouch: warning: policy exception for VCH-LP-002 on "\/usr\/bin\/typo" matches no result/);
});

const twelve = Array.from({ length: 12 }, (_, i) => ({ type: 'library', name: `lib${i}`, version: `1.${i}`, purl: `pkg:deb/debian/lib${i}@1.${i}?distro=debian-12` }));
const dc2Of = async (image: string, doc: unknown, name: string): Promise<R[]> => {
  const f = join(work, name);
  writeFileSync(f, JSON.stringify(doc));
  const r = await runCli(['check', image, '--sbom', f, '--format', 'json']);
  assert.ok(r.stdout, r.stderr);
  return (JSON.parse(r.stdout).results as R[]).filter((x) => x.id === 'VCH-DC-002');
};

test('check --sbom whose own subject is another image digest: one result naming both digests, even when the packages match', async () => {
  await ready;
  const other = `sha256:${'ab'.repeat(32)}`;
  const inspected = await runCli(['inspect', ref, '--json']);
  const mine = JSON.parse(inspected.stdout).digest as string;
  assert.match(mine, /^sha256:[0-9a-f]{64}$/);
  const cdx = (digest: string) => ({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, metadata: { component: { type: 'container', name: 'img', purl: `pkg:oci/img@${digest.replace(':', '%3A')}` } }, components: twelve });
  const wrong = await dc2Of(ref, cdx(other), 'other-subject.cdx.json');
  assert.deepEqual(wrong.map((x) => [x.severity, x.message]), [['high', `the SBOM describes ${other}, not this image (${mine})`]]);
  // The same document naming this image's digest is compared package by package (and matches).
  assert.deepEqual(await dc2Of(ref, cdx(mine), 'own-subject.cdx.json').then((d) => d.filter((x) => x.status === 'fail')), []);
  const spdx = {
    spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'img', documentNamespace: 'https://example.com/x', creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: test'] },
    documentDescribes: ['SPDXRef-img'],
    packages: [
      { SPDXID: 'SPDXRef-img', name: 'img', downloadLocation: 'NOASSERTION', primaryPackagePurpose: 'CONTAINER', checksums: [{ algorithm: 'SHA256', checksumValue: 'ab'.repeat(32) }] },
      ...twelve.map((p, i) => ({ SPDXID: `SPDXRef-p${i}`, name: p.name, versionInfo: p.version, downloadLocation: 'NOASSERTION', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }] })),
    ],
  };
  const s = await dc2Of(ref, spdx, 'other-subject.spdx.json');
  assert.deepEqual(s.map((x) => x.message), [`the SBOM describes ${other}, not this image (${mine})`]);
});

test('check --sbom on an image with no catalogued package: one "does not describe" result with the counts, not a row per package', async () => {
  const dir = join(work, 'empty');
  await writeMiniLayout(dir, { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }], files: () => [{ path: 'etc/motd', content: 'hi\n' }] });
  const cdx = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: twelve };
  const d = await dc2Of(`oci:${dir}:v1`, cdx, 'for-empty.cdx.json');
  assert.deepEqual(d.map((x) => [x.severity, x.message]), [['high', 'the SBOM does not describe this image: it lists 12 packages, the image has 0, and only 0 are in both (0 of them at another version)']]);
});
