/**
 * Fuzz targets for the YAML files a user writes and vouch trusts:
 *   - trust.trust-file: vouch.trust.yaml (key, keyless, ca signers with
 *     signedIdentity, reviewers, require), through parseTrustFile (keys and CA
 *     files are read from a temporary folder, as from beside a real file);
 *   - trust.policy-file: vouch.policy.yaml (the built-in policy and one with
 *     checks, globs and exceptions), through parsePolicy and its glob matchers;
 *   - trust.release-file: vouch.release.yaml, through parseReleaseFile.
 * Seeds are valid files; mutations are line edits, hostile YAML (billion laughs,
 * deep nesting, merge keys, tags, huge numbers, duplicate keys) and raw bytes.
 * Each ends in a parsed file or a VouchError naming the file and the field.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DEFAULT_POLICY_YAML, globMatcher, parsePolicy } from '../../../src/core/checks/policy.js';
import { parseReleaseFile } from '../../../src/core/review/release.js';
import { parseTrustFile } from '../../../src/core/trust/trust-file.js';
import { fuzzTarget } from '../harness.js';
import { broken, resultOrTyped, resultOrTypedAsync, yamlDocuments } from '../trust-common.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));

let folder: string | undefined;

/** A folder holding the keys and CA files the trust file seeds name (created once per process). */
function trustFolder(): string {
  if (folder) return folder;
  folder = mkdtempSync(join(tmpdir(), 'vouch-fuzz-trust-'));
  const ci = join(fixtures, 'containers-image/signature/fixtures');
  writeFileSync(join(folder, 'ci.pub'), readFileSync(join(ci, 'cosign.pub')));
  writeFileSync(join(folder, 'ci2.pub'), readFileSync(join(ci, 'cosign2.pub')));
  writeFileSync(join(folder, 'alice.pub'), readFileSync(join(fixtures, 'sigstore-conformance/bundle-verify/managed-key-happy-path/key.pub')));
  writeFileSync(join(folder, 'roots.pem'), readFileSync(join(ci, 'pki_root_crts.pem')));
  writeFileSync(join(folder, 'inter.pem'), readFileSync(join(ci, 'pki_intermediate_crts.pem')));
  writeFileSync(join(folder, 'not-a-key.pub'), 'hello\n');
  return folder;
}

const TRUST_SEEDS = [
  `version: 1
signers:
  - name: ci
    key: ./ci.pub
    tlog: optional
    signedIdentity: {type: matchRepoDigestOrExact}
  - name: release
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subject: https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main
      extensions:
        sourceRepositoryURI: https://github.com/acme/app
  - name: corp
    ca: {roots: ./roots.pem, intermediates: ./inter.pem, subjectEmail: qa@example.com}
    signedIdentity: {type: remapIdentity, prefix: example.com, signedPrefix: mirror.example.com}
reviewers:
  - name: alice
    key: ./alice.pub
  - name: bob
    keyless: {issuer: https://accounts.google.com, subjectRegExp: "bob@example\\\\.(com|org)"}
require:
  approvals: 2
  decisions: [approved]
  maxAge: 30d
  policyDigest: sha256:${'0'.repeat(64)}
  tlog: true
allowPlatformOnlySignatures: false
`,
  `signers:
  - name: ci2
    key: ci2.pub
    signedIdentity:
      type: exactRepository
      dockerRepository: registry.example.com/app
  - name: gh
    keyless:
      issuer: https://token.actions.githubusercontent.com
      subjectRegExp: ^https://github\\.com/acme/.*$
`,
  `reviewers:
  - {name: r1, key: ./alice.pub}
trustedRoot: ./trusted_root.json
`,
];

export const trustFileTarget = fuzzTarget<string>({
  name: 'trust.trust-file',
  entry: 'trust/trust-file.ts parseTrustFile (schema-check, ajv wording, keys, CA files, signedIdentity, subjectRegExp)',
  arbitrary: yamlDocuments(TRUST_SEEDS),
  ciRuns: 80,
  async run(text) {
    const t = await resultOrTypedAsync(() => parseTrustFile(text, join(trustFolder(), 'vouch.trust.yaml')));
    if (!t) return;
    // A parsed file's policy is what its signers say: one identity or key per keyless or key signer.
    const keyless = t.signers.filter((s) => s.type === 'keyless').length;
    if (t.policy.identities?.length !== keyless) broken(`policy has ${t.policy.identities?.length} identities for ${keyless} keyless signers`);
  },
  show: (s) => JSON.stringify(s),
});

// ---------------------------------------------------------------- policy

const POLICY_SEEDS = [
  DEFAULT_POLICY_YAML,
  `version: 1
failOn: medium
checks:
  VCH-LP-001: {enabled: false}
  VCH-CP-001: {severity: critical, unsignedEvidence: true}
scans: {maxAgeDays: 30, failSeverity: critical}
licenses:
  copyleft: ["GPL-*", "{A,L}GPL-3.0*"]
  unknown: [NOASSERTION]
  ignoreTypes: [deb]
allow:
  setuid: ["/usr/bin/**", "/opt/{a,b}/?in"]
  paths: ["/tmp/**"]
  env: ["*_FILE"]
  ports: [22, 80]
exceptions:
  - {check: VCH-LP-002, subject: /usr/bin/su, reason: reviewed, expires: 2099-12-31}
`,
];

const KNOWN_CHECKS = new Set(['VCH-LP-001', 'VCH-LP-002', 'VCH-CP-001', 'VCH-CP-002']);

export const policyFileTarget = fuzzTarget<{ text: string; known: boolean; subject: string }>({
  name: 'trust.policy-file',
  entry: 'checks/policy.ts parsePolicy (schema-check, ajv wording, dates), globMatcher over its globs',
  arbitrary: fc.record({ text: yamlDocuments(POLICY_SEEDS), known: fc.boolean(), subject: fc.oneof(fc.constantFrom('/usr/bin/su', '/opt/a/bin', 'GPL-3.0-only'), fc.string({ maxLength: 40 })) }),
  ciRuns: 80,
  run({ text, known, subject }) {
    const p = resultOrTyped(() => parsePolicy(text, 'vouch.policy.yaml', known ? KNOWN_CHECKS : undefined));
    if (!p) return;
    // Globs a user wrote are compiled to regular expressions: each must compile and match in bounded time.
    for (const list of [p.allow.setuid, p.allow.paths, p.allow.env, p.licenses.copyleft, p.licenses.unknown]) resultOrTyped(() => globMatcher(list)(subject));
  },
  show: (x) => JSON.stringify(x),
});

// ---------------------------------------------------------------- release

const RELEASE_SEEDS = [
  `name: payments
version: 2.4.0
images:
  api: docker://registry.example.com/payments/api:2.4.0
  worker: oci:./build/worker:2.4.0
  batch: docker-archive:../out/batch.tar:batch:2.4.0
  pinned: registry.example.com/payments/cron@sha256:${'a'.repeat(64)}
baseline: ./approvals/payments-2.3.0.sigstore.json
policy: ./vouch.policy.yaml
trust: ./vouch.trust.yaml
`,
  `name: shop
version: "1.10"
images: {app: ./app.tar}
trust: trust.yaml
`,
];

export const releaseFileTarget = fuzzTarget<string>({
  name: 'trust.release-file',
  entry: 'review/release.ts parseReleaseFile (failsafe YAML, schema-check, references resolved)',
  arbitrary: yamlDocuments(RELEASE_SEEDS),
  ciRuns: 120,
  run(text) {
    const r = resultOrTyped(() => parseReleaseFile(text, '/work/release/vouch.release.yaml'));
    if (r && (r.images.length === 0 || !r.trust.startsWith('/'))) broken('a parsed release with no images or a relative trust path');
  },
  show: (s) => JSON.stringify(s),
});
