/**
 * The coverage question gate and drift ask, answered by the approval
 * verifier: does a valid approval (trusted reviewers, allowed decision, not
 * expired, enough reviewers) name this digest?
 */
import type { TrustFile } from '../trust/trust-file.js';
import type { Coverage, Covers } from './gate.js';
import { verifyApprovalsForImage, type LoadedApproval } from './verify.js';

export function approvalCoverage(approvals: LoadedApproval[], trust: TrustFile, opts: { now?: Date } = {}): Covers {
  return async (image): Promise<Coverage> => {
    // Approvals name sha256 manifest digests; any other digest cannot be covered (and is not bad input here).
    if (!/^sha256:[0-9a-f]{64}$/.test(image.digest)) {
      return { ok: false, decision: null, release: null, reviewers: [], reasons: [{ code: 'UNSUPPORTED_DIGEST', message: `${image.digest.split(':')[0]} digest: approvals name sha256 manifest digests` }] };
    }
    const v = await verifyApprovalsForImage(approvals, image, trust, opts);
    return { ok: v.ok, decision: v.decision, release: v.release, reviewers: v.reviewers, reasons: v.reasons };
  };
}
