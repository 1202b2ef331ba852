/**
 * A Sigstore bundle attached to an image (an OCI 1.1 referrer): which role it
 * plays (a signature of the image, or an attestation about it) and whether it
 * verifies, through bundle.ts, for one of the digests that are this image.
 */
import { createHash } from 'node:crypto';
import { parseStatement, statementCovers, type InTotoStatement } from './attestation.js';
import { verifyBundleSync } from './bundle.js';
import { strictBase64 } from './encoding.js';
import { failureResult } from './reasons.js';
import type { TrustedRoot } from './trusted-root.js';
import type { SignerPolicy, VerificationResult } from './types.js';

export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export interface BundleCheck {
  /** A signature over the image (message signature, or DSSE with cosign's sign predicate) or an attestation. */
  role: 'signature' | 'attestation';
  result: VerificationResult;
  predicateType: string | null;
  statement?: InTotoStatement;
  digest: string;
  /** The image digest the bundle verified for (one of `subjects`), when it verified. */
  subject?: string;
}

/**
 * Verify a bundle attached to an image: for each digest that is this image
 * (manifest, then index), ask the verifier whether the bundle covers it.
 */
export function verifyAttachedBundle(bundleBytes: Buffer, subjects: readonly string[], policy: SignerPolicy, trustedRoot: TrustedRoot): BundleCheck {
  const digest = `sha256:${createHash('sha256').update(bundleBytes).digest('hex')}`;
  let bundle: any;
  try {
    bundle = JSON.parse(bundleBytes.toString('utf8'));
  } catch {
    return { role: 'signature', digest, predicateType: null, result: failureResult('BUNDLE_INVALID', 'the attached Sigstore bundle is not JSON') };
  }
  let statement: InTotoStatement | undefined;
  // A DSSE bundle is an attestation unless its statement is positively read as
  // cosign's sign predicate: only then does it count as a signature of the image
  // (`vouch chain` exits 0 on signatures). The payload is decoded exactly as the
  // verifier decodes it (strict base64, either alphabet, padded or not): a
  // re-encoded payload or signature must not turn an attestation into a signature.
  let role: BundleCheck['role'] = bundle?.dsseEnvelope ? 'attestation' : 'signature';
  if (bundle?.dsseEnvelope) {
    const raw = bundle.dsseEnvelope.payload;
    const payload = typeof raw === 'string' ? strictBase64(raw) : null;
    if (payload) {
      const st = parseStatement(payload);
      if (typeof st !== 'string') {
        statement = st;
        if (st.predicateType === COSIGN_SIGN_PREDICATE) role = 'signature';
      }
    }
  }
  const predicateType = statement?.predicateType ?? null;
  // Prefer the subject the statement names, so that the verifier's subject check decides.
  const order = statement ? [...subjects].sort((a, b) => Number(statementCovers(statement!, new Set([b]))) - Number(statementCovers(statement!, new Set([a])))) : [...subjects];
  let last: VerificationResult | undefined;
  let covered: string | undefined;
  for (const s of order) {
    const [alg, hex] = s.split(':') as ['sha256', string];
    try {
      last = verifyBundleSync(bundle, { kind: 'digest', algorithm: alg, hex }, policy, trustedRoot);
    } catch (e) {
      // Unusable policy input (a key or pattern the trust file should have refused): this bundle cannot verify.
      last = failureResult('BUNDLE_INVALID', e instanceof Error ? e.message : 'bundle verification failed');
    }
    if (last.verified) covered = s;
    if (last.verified || last.reason !== 'SUBJECT_MISMATCH') break;
  }
  return { role, digest, predicateType, ...(statement ? { statement } : {}), ...(covered ? { subject: covered } : {}), result: last ?? failureResult('NO_SIGNATURE', 'no digest to verify against') };
}
