/**
 * Reason codes in practice: building failure results, typed input errors, and
 * mapping @sigstore/verify's error codes onto vouch's stable ReasonCode.
 */
import { VouchError, type ErrorCode } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import type { ReasonCode, VerificationResult } from './types.js';

/** A check that did not pass: a stable code and one sentence. */
export interface TrustFailure {
  reason: Exclude<ReasonCode, 'OK'>;
  message: string;
}

/** Thrown inside the verification pipeline, turned into a result by verifyBundle. Never escapes the module. */
export class CheckFailed extends Error {
  readonly reason: Exclude<ReasonCode, 'OK'>;
  constructor(reason: Exclude<ReasonCode, 'OK'>, message: string) {
    super(message);
    this.name = 'CheckFailed';
    this.reason = reason;
  }
}

export function fail(reason: Exclude<ReasonCode, 'OK'>, message: string): never {
  throw new CheckFailed(reason, message);
}

/** Codes for unusable trust input (errors.ts ErrorCodes). */
export type TrustInputCode = Extract<ErrorCode, 'INVALID_TRUSTED_ROOT' | 'INVALID_KEY' | 'INVALID_POLICY' | 'INVALID_BUNDLE'>;

/** Unusable input (a malformed trusted root, an unparsable key, a bad identity pattern): exit code 2. */
export class TrustInputError extends VouchError {
  declare readonly code: TrustInputCode;
  constructor(code: TrustInputCode, message: string, options?: { cause?: unknown }) {
    super(code, sanitizeLine(message), options);
    this.name = 'TrustInputError';
  }
}

export function failureResult(reason: Exclude<ReasonCode, 'OK'>, message: string): VerificationResult {
  return { verified: false, reason, message: sanitizeLine(message), signer: null, tlog: null, signedAt: null };
}

/** @sigstore/verify's VerificationError / PolicyError codes → our reasons. */
export function reasonFromLibraryError(e: unknown): TrustFailure {
  const err = e as { code?: unknown; message?: unknown; cause?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const causeMessage = typeof (err?.cause as { message?: unknown })?.message === 'string' ? ((err.cause as { message: string }).message) : '';
  const full = causeMessage ? `${message}: ${causeMessage}` : message;
  switch (code) {
    case 'SIGNATURE_ERROR':
      return { reason: 'SIGNATURE_INVALID', message: full };
    case 'CERTIFICATE_ERROR':
      // The same code as cosign's legacy format gets (certificate.ts verifyCertificateScts).
      if (/\bSCTs?\b/.test(full)) return { reason: 'SCT_INVALID', message: full };
      if (/expired|not valid/i.test(full)) return { reason: 'CERT_EXPIRED_AT_SIGNING', message: full };
      return { reason: 'CERT_CHAIN_INVALID', message: full };
    case 'TIMESTAMP_ERROR':
      // No log entry and no timestamp at all: nothing proves when it was signed (the legacy format says TLOG_MISSING too).
      if (/expected \d+ timestamps, got 0/.test(full)) return { reason: 'TLOG_MISSING', message: full };
      return { reason: 'TIMESTAMP_INVALID', message: full };
    case 'PUBLIC_KEY_ERROR':
      return { reason: 'UNTRUSTED_SIGNER', message: full };
    case 'UNTRUSTED_SIGNER_ERROR':
      return { reason: 'UNTRUSTED_SIGNER', message: full };
    case 'TLOG_ERROR':
      return /expected \d+ tlog entries/.test(full) ? { reason: 'TLOG_MISSING', message: full } : { reason: 'TLOG_INVALID', message: full };
    case 'TLOG_MISSING_INCLUSION_ERROR':
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_BODY_ERROR':
      return { reason: 'TLOG_INVALID', message: full };
    default:
      return { reason: 'BUNDLE_INVALID', message: full };
  }
}
