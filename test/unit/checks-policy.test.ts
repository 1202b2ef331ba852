/** vouch.policy.yaml: schema errors name the field, digests, defaults, exceptions and their expiry; scan report parsing; docs/checks.md is current. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checksDoc } from '../../src/core/checks/doc.js';
import { DEFAULT_POLICY_YAML, defaultPolicy, globToRegExp, parsePolicy, sha256Digest } from '../../src/core/checks/policy.js';
import { defaultRegistry } from '../../src/core/checks/registry.js';
import { exceptionExpired, subjectKey } from '../../src/core/checks/run.js';
import { parseScan, readScanFile, scanMatchesImage } from '../../src/core/checks/scans.js';
import { redactLine } from '../../src/core/checks/redact.js';
import { isVouchError } from '../../src/core/errors.js';

const ids = defaultRegistry().ids();
const root = join(import.meta.dirname, '..', '..');
const scans = join(root, 'test', 'fixtures', 'sarif', 'scans');

function policyError(text: string): string {
  try {
    parsePolicy(text, 'vouch.policy.yaml', ids);
  } catch (e) {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.exitCode, 2);
    return e.message;
  }
  assert.fail(`accepted: ${text}`);
}

describe('policy', () => {
  it('the built-in policy has its own digest and the documented defaults', () => {
    const p = defaultPolicy();
    assert.equal(p.digest, sha256Digest(DEFAULT_POLICY_YAML));
    assert.equal(p.source, 'built-in');
    assert.equal(p.failOn, 'high');
    assert.equal(p.scans.maxAgeDays, 7);
    assert.deepEqual(p.allow.ports, [80, 443]);
    for (const bin of ['/usr/bin/su', '/bin/su', '/usr/bin/passwd', '/bin/mount', '/bin/umount', '/bin/ping', '/usr/bin/sudo', '/usr/bin/chsh', '/usr/bin/chfn', '/usr/bin/newgrp', '/usr/bin/gpasswd', '/sbin/unix_chkpwd']) {
      assert.ok(p.allow.setuid.some((g) => globToRegExp(g).test(bin)), bin);
    }
    assert.ok(!p.allow.setuid.some((g) => globToRegExp(g).test('/usr/bin/pkexec')));
  });

  it('a policy file: its digest is of its bytes, lists replace the defaults, the rest is defaulted', () => {
    const text = 'version: 1\nfailOn: medium\nallow:\n  ports: [22]\nscans:\n  maxAgeDays: 30\n';
    const p = parsePolicy(text, 'p.yaml', ids);
    assert.equal(p.digest, sha256Digest(text));
    assert.notEqual(p.digest, defaultPolicy().digest);
    assert.deepEqual(p.allow.ports, [22]);
    assert.equal(p.scans.maxAgeDays, 30);
    assert.equal(p.scans.failSeverity, 'high');
    assert.deepEqual(p.allow.setuid, defaultPolicy().allow.setuid);
    assert.equal(parsePolicy('', 'empty.yaml').failOn, 'high');
  });

  it('schema errors name the field; unknown keys and check ids are errors', () => {
    assert.match(policyError('colour: red\n'), /vouch\.policy\.yaml: \(top level\): unknown key "colour"/);
    assert.match(policyError('allow:\n  setuids: []\n'), /allow: unknown key "setuids"/);
    assert.match(policyError('failOn: severe\n'), /failOn: must be one of "critical", "high", "medium", "low", "info"/);
    assert.match(policyError('checks:\n  VCH-LP-001: {enabled: maybe}\n'), /checks\.VCH-LP-001\.enabled: must be boolean/);
    assert.match(policyError('checks:\n  VCH-ZZ-999: {enabled: false}\n'), /checks\.VCH-ZZ-999: unknown check id/);
    assert.match(policyError('exceptions:\n  - {check: VCH-LP-002, subject: /x, reason: r}\n'), /exceptions\.0: must have required property 'expires'/);
    assert.match(policyError('exceptions:\n  - {check: VCH-LP-002, subject: /x, reason: r, expires: 2025-13-45}\n'), /exceptions\.0\.expires: "2025-13-45" is not a calendar date/);
    assert.match(policyError('exceptions:\n  - {check: VCH-LP-002, subject: /x, reason: r, expires: tomorrow}\n'), /exceptions\.0\.expires: must be a date YYYY-MM-DD/);
    assert.match(policyError('exceptions:\n  - {check: VCH-XX-001, subject: /x, reason: r, expires: 2030-01-01}\n'), /exceptions\.0\.check: unknown check id "VCH-XX-001"/);
    assert.match(policyError('scans:\n  maxAgeDays: -1\n'), /scans\.maxAgeDays: must be >= 0/);
    assert.match(policyError('a: [\n'), /not valid YAML/);
    assert.match(policyError('a: 1\na: 2\n'), /not valid YAML/);
  });

  it('exceptions expire at the end of their day (UTC)', () => {
    const x = { check: 'VCH-LP-002', subject: '/x', reason: 'r', expires: '2024-06-10' };
    assert.equal(exceptionExpired(x, new Date('2024-06-10T23:59:59Z')), false);
    assert.equal(exceptionExpired(x, new Date('2024-06-11T00:00:00Z')), true);
  });

  it('subject keys', () => {
    const base = { image: 'x@sha256:1', layer: null, path: null, env: null, package: null, signature: null };
    assert.equal(subjectKey({ ...base, path: '/a', env: 'X' }), '/a');
    assert.equal(subjectKey({ ...base, env: 'X' }), 'env:X');
    assert.equal(subjectKey({ ...base, package: { name: 'a', version: '1', type: 'npm', purl: 'pkg:npm/a@1' } }), 'package:pkg:npm/a@1');
    assert.equal(subjectKey({ ...base, layer: { index: 0, digest: 'sha256:2', createdBy: 'RUN x' } }), 'layer:sha256:2');
    assert.equal(subjectKey(base), 'image');
  });
});

describe('redaction', () => {
  it('history lines lose secret values and keep the rest', () => {
    assert.equal(redactLine('ENV DB_PASSWORD=hunter2 NODE_ENV=production'), 'ENV DB_PASSWORD=<redacted> NODE_ENV=production');
    assert.equal(redactLine('ENV API_TOKEN s3cr3tvalue'), 'ENV API_TOKEN <redacted>');
    assert.equal(redactLine('RUN mysql --password=topsecret -e "select 1"'), 'RUN mysql --password=<redacted> -e "select 1"');
    assert.equal(redactLine('RUN git clone https://user:tok3n@github.com/x/y'), 'RUN git clone <redacted>');
    assert.equal(redactLine('/bin/sh -c #(nop) ADD file:6b5c4f0e9a1d in / '), '/bin/sh -c #(nop) ADD file:6b5c4f0e9a1d in / ');
    assert.equal(redactLine('RUN echo \u001b[31m'), 'RUN echo \\x1b[31m');
  });
});

describe('scan reports', () => {
  it('Trivy JSON', async () => {
    const s = await readScanFile(join(scans, 'trivy-alpine.json'));
    assert.equal(s.format, 'trivy-json');
    assert.equal(s.scannedAt, '2021-08-25T12:20:30.000Z');
    assert.equal(s.timeFrom, 'document');
    assert.deepEqual(s.findings.map((f) => [f.id, f.severity, f.package?.name, f.package?.type]), [['CVE-2019-1549', 'medium', 'libcrypto1.1', 'apk'], ['CVE-2019-14697', 'critical', 'musl', 'apk'], ['CVE-2020-1967', 'high', 'libssl1.1', 'apk']]);
    assert.equal(scanMatchesImage(s, ['sha256:961769676411f082461f9ef46626dd7a2d1e2b2a38e6a44364bcbecf51e66dd4']), 'match');
    assert.equal(scanMatchesImage(s, [`sha256:${'0'.repeat(64)}`]), 'mismatch');
  });

  it('Grype JSON', async () => {
    const s = await readScanFile(join(scans, 'grype-debian.json'));
    assert.equal(s.format, 'grype-json');
    assert.equal(s.scanner, 'grype 0.74.0');
    assert.equal(s.scannedAt, '2024-01-10T09:15:02.451Z');
    assert.deepEqual(s.findings.map((f) => [f.id, f.severity, f.package?.name, f.location]), [['CVE-2023-38545', 'high', 'libcurl4', '/var/lib/dpkg/status'], ['CVE-2011-3374', 'info', 'apt', '/var/lib/dpkg/status']]);
    assert.equal(scanMatchesImage(s, ['sha256:2a033a8c63712da54b5a516f5d69d41606cfb5c4ce9aa1690ee55505eae59a17']), 'match');
  });

  it('SARIF (Trivy) with security-severity; the file time when the document states none', async () => {
    const s = await readScanFile(join(scans, 'trivy-alpine.sarif'));
    assert.equal(s.format, 'sarif');
    assert.equal(s.scanner, 'Trivy');
    assert.equal(s.timeFrom, 'file-mtime');
    assert.deepEqual(s.findings.map((f) => [f.id, f.severity, f.location]), [['CVE-2019-1549', 'medium', 'library/alpine'], ['CVE-2020-1967', 'high', 'library/alpine']]);
    assert.equal(s.target, 'alpine:3.10.2');
  });

  it('a cosign vuln attestation statement wrapping a Trivy report', () => {
    const trivy = JSON.parse(readFileSync(join(scans, 'trivy-alpine.json'), 'utf8'));
    const st = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'x', digest: { sha256: 'ab'.repeat(32) } }], predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1', predicate: { invocation: {}, scanner: { uri: 'pkg:github/aquasecurity/trivy@0.48.3', version: '0.48.3', result: trivy }, metadata: { scanStartedOn: '2024-06-01T10:00:00Z', scanFinishedOn: '2024-06-01T10:01:00Z' } } };
    const s = parseScan(JSON.stringify(st), 'att.json');
    assert.equal(s.format, 'cosign-vuln');
    assert.equal(s.scannedAt, '2024-06-01T10:01:00.000Z');
    assert.equal(s.findings.length, 3);
    assert.equal(scanMatchesImage(s, [`sha256:${'ab'.repeat(32)}`]), 'match');
  });

  it('bad input is a clear error (exit 2)', async () => {
    assert.throws(() => parseScan('{', 'x.json'), /x\.json: not valid JSON/);
    assert.throws(() => parseScan('{"hello": 1}', 'x.json'), /x\.json: not a recognised scan report/);
    assert.throws(() => parseScan('{"version": "2.0.0", "runs": []}', 'x.sarif'), /SARIF version "2.0.0" is not supported/);
    assert.throws(() => parseScan('{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{}]}]}', 't.json'), /Results\.0\.Vulnerabilities\.0: no VulnerabilityID/);
    await assert.rejects(readScanFile(join(scans, 'missing.json')), (e: unknown) => isVouchError(e) && e.exitCode === 2);
  });
});

describe('docs/checks.md', () => {
  it('is generated from the registry and up to date (npx tsx scripts/gen-checks-doc.ts)', () => {
    const committed = readFileSync(join(root, 'docs', 'checks.md'), 'utf8');
    assert.equal(committed, checksDoc(defaultRegistry()));
    for (const c of defaultRegistry().all()) {
      assert.ok(committed.includes(`### ${c.id}\n`), c.id);
      assert.ok(c.help.what && c.help.why && c.help.fix, c.id);
    }
  });
});
