/**
 * The one place vouch's chain calls the Sigstore bundle verifier
 * (src/core/trust/bundle.ts, written against types.ts). Loaded lazily, so that
 * images without bundles never pay for it, and so that a build without it
 * reports BUNDLE_INVALID with a sentence instead of failing to start.
 */
import { createHash } from 'node:crypto';
import type { Artifact, SignerPolicy, VerificationResult } from './types.js';
import { parseEnvelope, parseStatement, statementCovers, type InTotoStatement } from './attestation.js';

interface BundleModule {
  verifyBundle(bundle: unknown, artifact: Artifact, policy: SignerPolicy, trustedRoot: unknown, opts?: unknown): Promise<VerificationResult>;
}
interface TrustedRootModule {
  loadTrustedRoot(jsonOrPath?: unknown): unknown;
  defaultTrustedRoot(): unknown;
}

let mods: Promise<{ bundle: BundleModule; root: TrustedRootModule } | string> | undefined;
function load(): Promise<{ bundle: BundleModule; root: TrustedRootModule } | string> {
  // Specifiers in variables: the verifier is developed in parallel and resolved at run time.
  const b = './bundle.js';
  const r = './trusted-root.js';
  mods ??= Promise.all([import(b) as Promise<BundleModule>, import(r) as Promise<TrustedRootModule>]).then(
    ([bundle, root]) => (typeof bundle.verifyBundle === 'function' ? { bundle, root } : 'the Sigstore bundle verifier is not available in this build'),
    (e: unknown) => `the Sigstore bundle verifier could not be loaded (${e instanceof Error ? e.message.split('\n')[0] : 'error'})`,
  );
  return mods;
}

export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

export interface BundleCheck {
  /** A signature over the image (message signature, or DSSE with cosign's sign predicate) or an attestation. */
  role: 'signature' | 'attestation';
  result: VerificationResult;
  predicateType: string | null;
  statement?: InTotoStatement;
  digest: string;
}

/**
 * Verify a bundle attached to an image: for each digest that is this image
 * (manifest, then index), ask the verifier whether the bundle covers it.
 */
export async function verifyAttachedBundle(
  bundleBytes: Buffer,
  subjects: readonly string[],
  policy: SignerPolicy,
  trustedRootDocument: unknown,
): Promise<BundleCheck> {
  const digest = `sha256:${createHash('sha256').update(bundleBytes).digest('hex')}`;
  let bundle: any;
  try {
    bundle = JSON.parse(bundleBytes.toString('utf8'));
  } catch {
    return { role: 'signature', digest, predicateType: null, result: fail('BUNDLE_INVALID', 'the attached Sigstore bundle is not JSON') };
  }
  let statement: InTotoStatement | undefined;
  let role: BundleCheck['role'] = 'signature';
  if (bundle?.dsseEnvelope) {
    const env = parseEnvelope(Buffer.from(JSON.stringify({ ...bundle.dsseEnvelope, signatures: (bundle.dsseEnvelope.signatures ?? []).map((s: any) => ({ sig: s?.sig })) })));
    if (typeof env !== 'string') {
      const st = parseStatement(env.payload);
      if (typeof st !== 'string') {
        statement = st;
        role = st.predicateType === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation';
      }
    }
  }
  const predicateType = statement?.predicateType ?? null;
  const m = await load();
  if (typeof m === 'string') return { role, digest, predicateType, ...(statement ? { statement } : {}), result: fail('BUNDLE_INVALID', m) };
  let root: unknown;
  try {
    root = trustedRootDocument === undefined ? m.root.defaultTrustedRoot() : m.root.loadTrustedRoot(trustedRootDocument);
  } catch (e) {
    return { role, digest, predicateType, result: fail('TRUSTED_ROOT_INVALID', e instanceof Error ? e.message : 'unusable trusted root') };
  }
  // Prefer the subject the statement names, so that the verifier's subject check decides.
  const order = statement ? [...subjects].sort((a, b) => Number(statementCovers(statement!, new Set([b]))) - Number(statementCovers(statement!, new Set([a])))) : [...subjects];
  let last: VerificationResult | undefined;
  for (const s of order) {
    const [alg, hex] = s.split(':') as ['sha256', string];
    try {
      last = await m.bundle.verifyBundle(bundle, { kind: 'digest', algorithm: alg, hex }, policy, root);
    } catch (e) {
      last = fail('BUNDLE_INVALID', e instanceof Error ? e.message : 'bundle verification failed');
    }
    if (last.verified || last.reason !== 'SUBJECT_MISMATCH') break;
  }
  return { role, digest, predicateType, ...(statement ? { statement } : {}), result: last ?? fail('NO_SIGNATURE', 'no digest to verify against') };
}

function fail(reason: VerificationResult['reason'], message: string): VerificationResult {
  return { verified: false, reason, message, signer: null, tlog: null, signedAt: null };
}
