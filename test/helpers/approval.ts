/**
 * Approval test helpers: a review session with fixed digests (no image needed),
 * reviewer keys on disk, and a trust file naming them.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApprovalKey } from '../../src/core/approval/key.js';
import { parseTrustFile, type TrustFile } from '../../src/core/trust/trust-file.js';
import type { ReviewSession } from '../../src/core/review/types.js';

/** The signer digests of a trust file that lists reviewers only (no image signers): what test approvals record. */
export const NO_SIGNERS: string[] = [];

export const digestOf = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

export function fakeSession(opts: { multiPlatform?: boolean; failing?: Array<{ id: string; severity: string; subject: string }> } = {}): ReviewSession {
  const now = '2026-01-01T00:00:00.000Z';
  return {
    version: 1,
    release: { name: 'payments', version: '2.4.0', file: { path: '/r/vouch.release.yaml', digest: digestOf('release') } },
    createdAt: now,
    updatedAt: now,
    images: [
      {
        key: 'api',
        reference: 'docker://registry.example.com/payments/api:2.4.0',
        name: 'registry.example.com/payments/api',
        digest: digestOf('api-amd64'),
        index: opts.multiPlatform ? digestOf('api-index') : null,
        platform: 'linux/amd64',
        pinned: `docker://registry.example.com/payments/api@${digestOf('api-amd64')}`,
        layers: [digestOf('layer1')],
        packages: ['pkg:npm/express@4.18.2', 'pkg:deb/debian/libc6@2.36-9?arch=amd64'],
        licenses: { 'pkg:npm/express@4.18.2': ['MIT'] },
        inventory: { packages: 2, byType: { npm: 1, deb: 1 } },
        evidence: [{ kind: 'signature', digest: digestOf('sig'), verified: true, type: null, signer: 'ci' }],
        chain: { signatures: 1, verifiedSignatures: 1, attestations: 0, verifiedAttestations: 0, provenance: false },
        checks: {
          pass: 30,
          fail: opts.failing?.length ?? 0,
          excepted: 0,
          results: (opts.failing ?? []).map((f) => ({ id: f.id, severity: f.severity, status: 'fail' as const, subject: f.subject, message: `${f.id} fails` })),
        },
      },
      {
        key: 'worker',
        reference: 'oci:/build/worker:2.4.0',
        name: '/build/worker',
        digest: digestOf('worker'),
        index: null,
        platform: 'linux/amd64',
        pinned: `oci:/build/worker@${digestOf('worker')}`,
        layers: [digestOf('layer2')],
        packages: ['pkg:pypi/requests@2.31.0'],
        licenses: {},
        inventory: { packages: 1, byType: { pypi: 1 } },
        evidence: [],
        chain: null,
        checks: { pass: 31, fail: 0, excepted: 0, results: [] },
      },
    ],
    policy: { path: null, digest: digestOf('policy'), failOn: 'high' },
    trust: { path: '/r/vouch.trust.yaml', digest: digestOf('trust') },
    baseline: null,
    annotations: [],
    warnings: [],
  };
}

export interface Reviewers {
  dir: string;
  keys: Record<string, { key: string; pub: string }>;
  passphrase: string;
  /** Trust file text naming the given reviewers (by key) plus extra YAML. */
  trustYaml(names: string[], extra?: string): string;
  trust(names: string[], extra?: string): Promise<TrustFile>;
}

export async function makeReviewers(names: string[], passphrase = 'correct horse'): Promise<Reviewers> {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-approval-'));
  const keys: Reviewers['keys'] = {};
  for (const n of names) {
    const k = await generateApprovalKey(join(dir, n), passphrase);
    keys[n] = { key: k.privatePath, pub: k.publicPath };
  }
  const trustYaml = (ns: string[], extra = ''): string => `reviewers:\n${ns.map((n) => `  - name: ${n}\n    key: ./${n}.pub\n`).join('')}${extra}`;
  return {
    dir,
    keys,
    passphrase,
    trustYaml,
    async trust(ns, extra) {
      const text = trustYaml(ns, extra);
      const p = join(dir, `trust-${createHash('sha256').update(text).digest('hex').slice(0, 8)}.yaml`);
      writeFileSync(p, text);
      return parseTrustFile(text, p);
    },
  };
}
