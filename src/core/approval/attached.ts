/**
 * Approvals attached to an image (a `.att` layer or a Sigstore bundle
 * referrer whose predicate type is the approval's), for `vouch chain` to list,
 * each judged as `vouch verify` judges a record: the strict bundle parse (a
 * referrer holds the approval file's bytes), a signature by a trusted
 * reviewer, the statement's schema, and the trust file's `require` rules, for
 * the exact digest the reference names (the index, when it names one). An
 * approval of one platform manifest is not an approval of the index that lists
 * it; a rejection is listed as one, never as OK. Whether enough reviewers
 * approved (the count) is `vouch verify`'s question over several records.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { verifyDsseAttestation } from '../trust/attestation.js';
import type { Attachment, AttachmentVia } from '../trust/attachments.js';
import type { TrustFile } from '../trust/trust-file.js';
import type { TrustedRoot } from '../trust/trusted-root.js';
import { strictBase64 } from '../trust/encoding.js';
import { errorLine } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { checkApprovalStatement } from './schema.js';
import { APPROVAL_PREDICATE_TYPE, type ApprovalStatement } from './statement.js';
import { parseApproval, requireReasons, verifyApprovalRecord, type ApprovalReason } from './verify.js';

export interface ChainApproval {
  via: AttachmentVia;
  /** sha256 of the attached document (DSSE envelope layer or bundle). */
  digest: string;
  /** `vouch verify` would accept this record (alone) for the digest the reference names: the index when it names one. */
  verified: boolean;
  /** OK, or verify's first reason code (REJECTED, EXPIRED, TOO_OLD, NO_APPROVAL, INVALID_BUNDLE, a signature's code…). */
  reason: string;
  /** Every reason verify would give (empty when verified). */
  reasons: ApprovalReason[];
  /** What of this image the record names: the index, or only the platform manifest (this manifest, when there is no index); null: neither. */
  covers: 'index' | 'manifest' | null;
  /** The reviewer (trust file name) whose key or identity signed it; null unless the signature verified. */
  reviewer: string | null;
  /** The signed decision, release and times: null unless the signature verified (an untrusted statement says nothing). */
  decision: string | null;
  release: { name: string; version: string } | null;
  reviewedAt: string | null;
  /** The signed expiresAt, if any. */
  expiresAt: string | null;
  /** Past its signed expiresAt: listed, but not as OK. */
  expired: boolean;
  message: string;
}

/** The digests that are this image: the platform manifest, and the index the reference names (if any). */
export interface ApprovalTarget {
  digest: string;
  index: string | null;
}

function statementDigests(st: { subject?: Array<{ digest?: { sha256?: unknown } }> } | undefined): Set<string> {
  return new Set((st?.subject ?? []).flatMap((x) => (typeof x?.digest?.sha256 === 'string' ? [`sha256:${x.digest.sha256.toLowerCase()}`] : [])));
}

function coverage(named: Set<string>, target: ApprovalTarget): ChainApproval['covers'] {
  if (target.index && named.has(target.index)) return 'index';
  if (named.has(target.digest)) return 'manifest';
  return null;
}

/** The predicate type a bundle's DSSE payload declares (unverified: only to pick approvals out of the referrers). */
function bundlePredicateType(bytes: Buffer): string | null {
  try {
    const b = JSON.parse(bytes.toString('utf8')) as { dsseEnvelope?: { payload?: unknown } };
    const payload = typeof b?.dsseEnvelope?.payload === 'string' ? strictBase64(b.dsseEnvelope.payload) : undefined;
    if (!payload) return null;
    const st = JSON.parse(payload.toString('utf8')) as { predicateType?: unknown };
    return typeof st?.predicateType === 'string' ? st.predicateType : null;
  } catch {
    return null;
  }
}

type Verdict = Omit<ChainApproval, 'via' | 'digest'>;

const refused = (code: string, message: string, covers: ChainApproval['covers'] = null): Verdict => ({
  verified: false,
  reason: code,
  reasons: [{ code, message: sanitizeLine(message) }],
  covers,
  reviewer: null,
  decision: null,
  release: null,
  reviewedAt: null,
  expiresAt: null,
  expired: false,
  message: sanitizeLine(message),
});

/** A record whose signature verified: its rule reasons, plus NO_APPROVAL when it names only the platform manifest of an index. */
function judged(st: ApprovalStatement, reviewer: string, ruleReasons: ApprovalReason[], covers: 'index' | 'manifest', target: ApprovalTarget, now: Date): Verdict {
  const reasons = [...ruleReasons];
  if (target.index && covers === 'manifest') {
    reasons.push({ code: 'NO_APPROVAL', message: sanitizeLine(`the approval names the platform manifest ${target.digest} only, not the index ${target.index} the reference names`) });
  }
  const p = st.predicate;
  const expiresAt = p.expiresAt ?? null;
  return {
    verified: reasons.length === 0,
    reason: reasons[0]?.code ?? 'OK',
    reasons,
    covers,
    reviewer,
    decision: p.decision,
    release: { name: p.release.name, version: p.release.version },
    reviewedAt: p.reviewedAt,
    expiresAt,
    expired: expiresAt !== null && Date.parse(expiresAt) <= now.getTime(),
    message: reasons.length ? reasons.map((r) => r.message).join('; ') : `approved by a trusted reviewer for ${target.index && covers === 'index' ? target.index : target.digest}`,
  };
}

/** A bundle referrer: the approval file's bytes, read and verified exactly as `vouch verify` reads and verifies a file. */
function judgeBundle(bytes: Buffer, label: string, target: ApprovalTarget, trust: TrustFile, now: Date): Verdict {
  let a;
  try {
    a = parseApproval(bytes, label);
  } catch (e) {
    // parseApproval names a file; here the layer is named by how it was found and its digest.
    return refused('INVALID_BUNDLE', errorLine(e).replace(`${resolve(label)}: `, `${label}: `));
  }
  const covers = coverage(statementDigests(a.statement), target);
  if (covers === null) return refused('SUBJECT_MISMATCH', `the approval is about ${[...statementDigests(a.statement)].join(' ').slice(0, 140)}, not this image`);
  const named = covers === 'index' ? target.index! : target.digest;
  const v = verifyApprovalRecord(a, named, trust, { now });
  if (!v.signature?.verified) return refused(v.reasons[0]!.code, v.reasons[0]!.message, covers);
  return judged(a.statement, v.signature.reviewer!, v.reasons, covers, target, now);
}

/** A cosign `.att` layer (the DSSE envelope with cosign's annotations): its signature by a reviewer, then the same schema and rules. */
function judgeAttestation(layer: Attachment['layers'][number], target: ApprovalTarget, trust: TrustFile, root: TrustedRoot, now: Date): Verdict & { digest: string; predicateType: string | null } {
  const subjects = new Set([target.digest, ...(target.index ? [target.index] : [])]);
  const r = verifyDsseAttestation(layer, { signers: trust.reviewers, trustedRoot: root, subjects, requireTlog: trust.require.tlog === true });
  const predicateType = r.statement?.predicateType ?? r.predicateType;
  const out = (v: Verdict) => ({ ...v, digest: r.digest, predicateType });
  if (!r.verified || !r.signer || !r.statement) return out(refused(r.reason, r.message));
  const schemaError = checkApprovalStatement(r.statement);
  if (schemaError) return out(refused('INVALID_BUNDLE', `the statement is not an approval record: ${schemaError.instancePath || 'statement'}: ${schemaError.message ?? schemaError.keyword}`));
  // As verify requires of a bundle: the DSSE keyid names the key that verified (empty for a certificate).
  let keyid = '';
  try {
    keyid = (JSON.parse(layer.bytes!.toString('utf8')) as { signatures: Array<{ keyid?: string }> }).signatures[0]?.keyid ?? '';
  } catch {
    /* verified above, so it parses */
  }
  if (keyid !== (r.signer.type === 'key' ? (r.signer.keyId ?? '') : '')) return out(refused('BUNDLE_INVALID', 'the DSSE keyid does not name the key that signed'));
  const st = r.statement as unknown as ApprovalStatement;
  const covers = coverage(statementDigests(st), target)!; // the attestation check found a subject of this image
  const rules = requireReasons(st, { reviewer: r.signer.trustedAs, signedAt: r.signedAt ?? null, logged: r.tlog !== null }, trust, now);
  return out(judged(st, r.signer.trustedAs!, rules, covers, target, now));
}

/** Approvals among `attachments`, each judged as `vouch verify` judges one record for `target`. No I/O. */
export function attachedApprovals(attachments: readonly Attachment[], target: ApprovalTarget, trust: TrustFile, trustedRoot: TrustedRoot, opts: { now?: Date } = {}): ChainApproval[] {
  const now = opts.now ?? new Date();
  const out: ChainApproval[] = [];
  const noReviewers = trust.reviewers.length === 0;
  for (const a of attachments) {
    for (const l of a.layers) {
      if (!l.bytes) continue;
      if (a.kind === 'attestation') {
        const r = judgeAttestation(l, target, trust, trustedRoot, now);
        if (r.predicateType !== APPROVAL_PREDICATE_TYPE) continue;
        const { predicateType: _, digest, ...v } = r;
        out.push({ via: a.via, digest, ...v });
      } else if (a.kind === 'bundle') {
        if (bundlePredicateType(l.bytes) !== APPROVAL_PREDICATE_TYPE) continue;
        const digest = `sha256:${createHash('sha256').update(l.bytes).digest('hex')}`;
        const v = noReviewers ? refused('UNTRUSTED_SIGNER', 'the trust file lists no reviewers') : judgeBundle(l.bytes, `${a.via} ${digest}`, target, trust, now);
        out.push({ via: a.via, digest, ...v });
      }
    }
  }
  return out;
}
