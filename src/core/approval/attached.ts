/**
 * Approvals attached to an image (a `.att` layer or a Sigstore bundle
 * referrer whose predicate type is the approval's), verified against the
 * trust file's reviewers, for `vouch chain` to list. Whether an approval
 * admits the image (decision, expiry, two-person rule) is `vouch verify`'s
 * question; this says who signed which approval.
 */
import { verifyAttachedBundle } from '../trust/attached-bundle.js';
import { verifyBundleSync } from '../trust/bundle.js';
import { verifyDsseAttestation } from '../trust/attestation.js';
import type { Attachment, AttachmentVia } from '../trust/attachments.js';
import { toSignerPolicy, type TrustedSigner } from '../trust/trust-file.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import type { ReasonCode, SignerPolicy, VerificationResult } from '../trust/types.js';
import { APPROVAL_PREDICATE_TYPE } from './statement.js';

export interface ChainApproval {
  via: AttachmentVia;
  /** sha256 of the attached document (DSSE envelope layer or bundle). */
  digest: string;
  /** Signed by a trusted reviewer over a statement naming this image. */
  verified: boolean;
  reason: ReasonCode;
  /** The reviewer (trust file name) whose key or identity signed it. */
  reviewer: string | null;
  decision: string | null;
  release: { name: string; version: string } | null;
  /** The signed expiresAt, if any (null also when not verified). */
  expiresAt: string | null;
  /** Past its signed expiresAt: listed, but not as OK. */
  expired: boolean;
  message: string;
}

function predicateFields(statement: unknown, now: Date): Pick<ChainApproval, 'decision' | 'release' | 'expiresAt' | 'expired'> {
  const p = (statement as { predicate?: { decision?: unknown; release?: { name?: unknown; version?: unknown }; expiresAt?: unknown } } | undefined)?.predicate;
  const decision = typeof p?.decision === 'string' ? p.decision : null;
  const r = p?.release;
  const release = typeof r?.name === 'string' && typeof r.version === 'string' ? { name: r.name, version: r.version } : null;
  const expiresAt = typeof p?.expiresAt === 'string' && !Number.isNaN(Date.parse(p.expiresAt)) ? p.expiresAt : null;
  return { decision, release, expiresAt, expired: expiresAt !== null && Date.parse(expiresAt) <= now.getTime() };
}

/** Approvals among `attachments`, each verified against `reviewers`. No I/O. */
export function attachedApprovals(
  attachments: readonly Attachment[],
  subjects: readonly string[],
  reviewers: readonly TrustedSigner[],
  trustedRoot: TrustedRoot,
  opts: { requireTlog?: boolean; now?: Date } = {},
): ChainApproval[] {
  const now = opts.now ?? new Date();
  const out: ChainApproval[] = [];
  const policy = toSignerPolicy([...reviewers]);
  for (const a of attachments) {
    for (const l of a.layers) {
      if (!l.bytes) continue;
      if (a.kind === 'attestation') {
        // Approvals follow require.tlog (default: a key-signed approval may be offline), not the image signers' per-key rule.
        const r = verifyDsseAttestation(l, { signers: reviewers, trustedRoot, subjects: new Set(subjects), requireTlog: opts.requireTlog === true });
        const type = r.statement?.predicateType ?? r.predicateType;
        if (type !== APPROVAL_PREDICATE_TYPE) continue;
        out.push({ via: a.via, digest: r.digest, verified: r.verified, reason: r.reason, reviewer: r.signer?.trustedAs ?? null, ...predicateFields(r.verified ? r.statement : undefined, now), message: r.message });
      } else if (a.kind === 'bundle') {
        const b = verifyAttachedBundle(l.bytes, subjects, policy, trustedRoot);
        if ((b.statement?.predicateType ?? b.predicateType) !== APPROVAL_PREDICATE_TYPE) continue;
        const r = keyBundleWithoutLog(l.bytes, opts.requireTlog === true) ? verifyKeyBundleOffline(l.bytes, b.statement, subjects, policy, trustedRoot) : b.result;
        out.push({ via: a.via, digest: b.digest, verified: r.verified, reason: r.reason, reviewer: r.signer?.trustedAs ?? null, ...predicateFields(r.verified ? b.statement : undefined, now), message: r.message });
      }
    }
  }
  return out;
}

/** A key-signed bundle with no log entry: `vouch approve --key` writes these offline, and they verify unless the trust file requires the log. */
function keyBundleWithoutLog(bytes: Buffer, requireTlog: boolean): boolean {
  if (requireTlog) return false;
  try {
    const b = JSON.parse(bytes.toString('utf8')) as { verificationMaterial?: { publicKey?: unknown; tlogEntries?: unknown[] } };
    return b.verificationMaterial?.publicKey !== undefined && (b.verificationMaterial.tlogEntries ?? []).length === 0;
  } catch {
    return false;
  }
}

function verifyKeyBundleOffline(bytes: Buffer, statement: unknown, subjects: readonly string[], policy: SignerPolicy, root: TrustedRoot): VerificationResult {
  // The subject the statement names first, so that a mismatch is reported only when none matches.
  const named = new Set(
    ((statement as { subject?: Array<{ digest?: { sha256?: unknown } }> } | undefined)?.subject ?? []).flatMap((x) => (typeof x?.digest?.sha256 === 'string' ? [`sha256:${x.digest.sha256}`] : [])),
  );
  let last: VerificationResult | undefined;
  for (const s of [...subjects].sort((a, b) => Number(named.has(b)) - Number(named.has(a)))) {
    last = verifyBundleSync(bytes, { kind: 'digest', algorithm: 'sha256', hex: s.slice('sha256:'.length) }, policy, root, { tlogThreshold: 0, timestampThreshold: 0 });
    if (last.verified || last.reason !== 'SUBJECT_MISMATCH') break;
  }
  return last!;
}
