/**
 * Admission policies generated from the trust file: a Kyverno ClusterPolicy
 * and a sigstore policy-controller ClusterImagePolicy that admit a pod only
 * when each of its images carries an approval attestation (predicate type
 * APPROVAL_PREDICATE_TYPE) signed by enough trusted reviewers, with a decision
 * the trust file's `require.decisions` allows. Both controllers read cosign's
 * `.att` layout, which `vouch attach` writes.
 */
import { VouchError } from '../errors.js';
import { signerDigests, type TrustFile } from '../trust/trust-file.js';

import { APPROVAL_PREDICATE_TYPE } from './statement.js';

export { APPROVAL_PREDICATE_TYPE };
export const DEFAULT_DECISIONS = ['approved', 'approved-with-exceptions'] as const;
export const PUBLIC_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_REKOR_URL = 'https://rekor.sigstore.dev';

export type PolicyReviewer =
  | { name: string; type: 'key'; publicKeyPem: string }
  | { name: string; type: 'keyless'; issuer: string; subject?: string; subjectRegExp?: string };

export interface PolicyRequirements {
  reviewers: PolicyReviewer[];
  approvals: number;
  decisions: string[];
  tlog: boolean;
  /** The signer digests an approval's may be drawn from (require.signers: same, the default); null: any. */
  signers: string[] | null;
}

function bad(trust: TrustFile, msg: string): never {
  throw new VouchError('INVALID_TRUST_FILE', `${trust.path}: ${msg}`);
}

/**
 * The trust file's reviewers and requirements, whichever shape `reviewers`
 * has: the file's own entries (`{name, key: PATH}` / `{name, keyless: {…}}`)
 * or already-loaded signers (`{name, type, publicKeyPem | issuer …}`).
 */
export async function policyRequirements(trust: TrustFile): Promise<PolicyRequirements> {
  const reviewers = trustedReviewers(trust);
  if (reviewers.length === 0) bad(trust, 'reviewers: no reviewers, so no approval could ever be admitted');
  const req = (trust.require ?? {}) as Record<string, unknown>;
  const approvals = req['approvals'] === undefined ? 1 : req['approvals'];
  if (typeof approvals !== 'number' || !Number.isInteger(approvals) || approvals < 1) bad(trust, 'require.approvals: a whole number ≥ 1');
  if (approvals > reviewers.length) bad(trust, `require.approvals: ${approvals} approvals required but only ${reviewers.length} reviewers trusted`);
  const decisions = req['decisions'] === undefined ? [...DEFAULT_DECISIONS] : req['decisions'];
  if (!Array.isArray(decisions) || decisions.length === 0 || !decisions.every((d) => typeof d === 'string')) bad(trust, 'require.decisions: a non-empty list of decisions');
  return { reviewers, approvals, decisions: decisions as string[], tlog: req['tlog'] === true, signers: req['signers'] === 'any' ? null : signerDigests(trust) };
}

/** The trust file's reviewers (possibly none), as the policies name them. */
export function trustedReviewers(trust: TrustFile): PolicyReviewer[] {
  return trust.reviewers.map((r): PolicyReviewer =>
    r.type === 'key'
      ? { name: r.name, type: 'key', publicKeyPem: r.publicKeyPem }
      : { name: r.name, type: 'keyless', issuer: r.issuer, ...(r.subject ? { subject: r.subject } : {}), ...(r.subjectRegExp ? { subjectRegExp: r.subjectRegExp } : {}) },
  );
}

export interface PolicyOptions {
  /** metadata.name of the generated policy. */
  name?: string;
  /** Image globs the policy applies to (default: every image). */
  images?: string[];
  fulcioUrl?: string;
  rekorUrl?: string;
}

/** Kubernetes names: lowercase RFC 1123 labels. */
function k8sName(s: string, fallback: string): string {
  const n = s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return n || fallback;
}

/** A Kyverno ClusterPolicy (kyverno.io/v1) enforcing approvals with verifyImages attestations. */
export function kyvernoPolicy(req: PolicyRequirements, opts: PolicyOptions = {}): object {
  const rekorUrl = opts.rekorUrl ?? PUBLIC_REKOR_URL;
  const entries = req.reviewers.map((r) =>
    r.type === 'key'
      ? {
          keys: {
            publicKeys: r.publicKeyPem.trim(),
            // A key-signed approval is logged only when the trust file requires it.
            rekor: req.tlog ? { url: rekorUrl } : { ignoreTlog: true },
            ctlog: { ignoreSCT: true },
          },
        }
      : {
          keyless: {
            issuer: r.issuer,
            ...(r.subject ? { subject: r.subject } : { subjectRegExp: `^(?:${r.subjectRegExp})$` }),
            rekor: { url: rekorUrl },
          },
        },
  );
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name: opts.name ?? 'vouch-require-approval',
      annotations: {
        'policies.kyverno.io/title': 'Require a vouch approval',
        'policies.kyverno.io/description': `Admit only images with ${req.approvals} approval(s) (${APPROVAL_PREDICATE_TYPE}) by trusted reviewers: ${req.reviewers.map((r) => r.name).join(', ')}.`,
      },
    },
    spec: {
      validationFailureAction: 'Enforce',
      background: false,
      webhookTimeoutSeconds: 30,
      rules: [
        {
          name: 'require-vouch-approval',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [
            {
              imageReferences: opts.images ?? ['*'],
              type: 'Cosign',
              // Kyverno ≥ 1.13 reads the action per rule; older versions the spec-level validationFailureAction.
              failureAction: 'Enforce',
              // Approvals name digests: a tag is not what was reviewed.
              verifyDigest: true,
              mutateDigest: false,
              required: true,
              attestations: [
                {
                  type: APPROVAL_PREDICATE_TYPE,
                  attestors: [{ count: req.approvals, entries }],
                  conditions: [
                    {
                      all: [
                        {
                          key: '{{ decision }}',
                          operator: 'AnyIn',
                          value: req.decisions,
                          message: `the approval's decision must be one of: ${req.decisions.join(', ')}`,
                        },
                        ...(req.signers
                          ? [{ key: '{{ trust.signers }}', operator: 'AllIn', value: req.signers, message: 'the approval\'s evidence must have been judged under signers this trust file lists' }]
                          : []),
                      ],
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

/** CUE string literal. */
const cue = (s: string): string => JSON.stringify(s);

/** A sigstore policy-controller ClusterImagePolicy (policy.sigstore.dev/v1beta1). */
export function policyControllerPolicy(req: PolicyRequirements, opts: PolicyOptions = {}): object {
  const rekorUrl = opts.rekorUrl ?? PUBLIC_REKOR_URL;
  const decisionPolicy = [
    `predicateType: ${cue(APPROVAL_PREDICATE_TYPE)}`,
    `predicate: decision: ${req.decisions.map(cue).join(' | ')}`,
    ...(req.signers ? [`predicate: trust: signers: [...(${req.signers.length ? req.signers.map(cue).join(' | ') : '_|_'})]`] : []),
    '',
  ].join('\n');
  const used = new Set<string>();
  const authorities = req.reviewers.map((r, i) => {
    let name = k8sName(`reviewer-${r.name}`, `reviewer-${i}`);
    if (used.has(name)) name = `${name.slice(0, 58)}-${i}`;
    used.add(name);
    const attestations = [{ name: 'vouch-approval', predicateType: APPROVAL_PREDICATE_TYPE, policy: { type: 'cue', data: decisionPolicy } }];
    if (r.type === 'key') {
      // Without ctlog policy-controller skips the transparency log; with it the approval must be logged.
      return { name, key: { data: r.publicKeyPem.trim(), hashAlgorithm: 'sha256' }, ...(req.tlog ? { ctlog: { url: rekorUrl } } : {}), attestations };
    }
    const identity = r.subject ? { issuer: r.issuer, subject: r.subject } : { issuer: r.issuer, subjectRegExp: `^(?:${r.subjectRegExp})$` };
    return { name, keyless: { url: opts.fulcioUrl ?? PUBLIC_FULCIO_URL, identities: [identity] }, ctlog: { url: rekorUrl }, attestations };
  });
  const spec: Record<string, unknown> = {
    images: (opts.images ?? ['**']).map((glob) => ({ glob })),
    authorities,
    mode: 'enforce',
  };
  // One matching authority admits an image; the two-person rule counts the reviewers whose approval matched.
  if (req.approvals > 1) {
    spec['policy'] = {
      type: 'rego',
      data: ['package sigstore', '', 'default isCompliant = false', '', 'isCompliant {', `  count(input.authorityMatches) >= ${req.approvals}`, '}', ''].join('\n'),
    };
  }
  return {
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name: opts.name ?? 'vouch-require-approval' },
    spec,
  };
}
