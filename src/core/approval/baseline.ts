/**
 * An approval record as the baseline of a review (`check --baseline`, `diff
 * RECORD REF`, the release file's `baseline:`): it decides which packages and
 * licences count as new, so it must be a record `vouch verify` would accept on
 * its own, never just one whose signature verifies. A rejected, expired, too old
 * or otherwise refused record is an error with verify's reason codes; the
 * baseline is described (release, decision, reviewer, time) wherever it is
 * reported, and a record of another release is taken with a loud warning.
 */
import { VouchError } from '../errors.js';
import type { TrustFile } from '../trust/trust-file.js';
import { sanitizeLine } from '../util/sanitize.js';
import { loadApprovals, verifyApprovalRecord, type LoadedApproval } from './verify.js';

/** What a baseline approval is, for people and for JSON. */
export interface BaselineApproval {
  /** Absolute path of the record. */
  path: string;
  /** sha256 of its signed statement. */
  digest: string;
  release: { name: string; version: string };
  decision: string;
  /** The trust file's name for the reviewer whose signature verified. */
  reviewer: string;
  /** Who signed it: `key <keyId>` or `subject (issuer)` (recorded in the approval, checked by verify). */
  identity: string;
  reviewedAt: string;
  expiresAt: string | null;
  /** The record's image names (what it approved). */
  images: string[];
}

/**
 * Read `path` (one approval file) and accept it as a baseline only when it is
 * live under `trust`: signed by a trusted reviewer and meeting every rule of
 * `require` as `vouch verify` applies them (the count of reviewers aside: one
 * record is one reviewer's). `where` prefixes the error ("REL: baseline: ").
 */
export async function loadBaselineApproval(path: string, trust: TrustFile, opts: { now?: Date; where?: string } = {}): Promise<{ loaded: LoadedApproval; baseline: BaselineApproval }> {
  const [a] = await loadApprovals([path]);
  if (!a) throw new VouchError('NOT_FOUND', `${opts.where ?? ''}${path}: no approval record there`);
  const first = a.statement.subject[0]!;
  const v = verifyApprovalRecord(a, `sha256:${first.digest.sha256}`, trust, opts.now ? { now: opts.now } : {});
  const where = `${opts.where ?? ''}${a.path}`;
  if (!v.signature?.verified) {
    const r = v.reasons[0]!;
    throw new VouchError('INVALID_BUNDLE', sanitizeLine(`${where}: the approval record does not verify against ${trust.path} (${r.code}): ${r.message}`));
  }
  if (!v.ok) {
    throw new VouchError('BASELINE_REFUSED', sanitizeLine(`${where}: refused as a baseline, \`vouch verify\` with ${trust.path} would refuse it (${v.reasons.map((r) => r.code).join(', ')}): ${v.reasons.map((r) => r.message).join('; ')}`));
  }
  const p = a.statement.predicate;
  return {
    loaded: a,
    baseline: {
      path: a.path,
      digest: a.digest,
      release: { ...p.release },
      decision: p.decision,
      reviewer: v.signature.reviewer!,
      identity: v.signature.identity!,
      reviewedAt: p.reviewedAt,
      expiresAt: p.expiresAt ?? null,
      images: p.images.map((i) => i.name),
    },
  };
}

/** One line: "approval NAME VERSION: DECISION by REVIEWER at TIME" (sanitised). */
export function describeBaseline(b: Pick<BaselineApproval, 'release' | 'decision' | 'reviewer' | 'reviewedAt'>): string {
  return sanitizeLine(`approval ${b.release.name} ${b.release.version}: ${b.decision} by ${b.reviewer} at ${b.reviewedAt}`);
}

/** The loud warning when the baseline record approved another release than the one under review; null when the names agree. */
export function otherReleaseWarning(b: Pick<BaselineApproval, 'path' | 'release'>, release: { name: string }): string | null {
  if (b.release.name === release.name) return null;
  return sanitizeLine(`WARNING: baseline: ${b.path} is an approval of ${b.release.name} ${b.release.version}, not ${release.name}: packages it lists count as already approved`);
}
