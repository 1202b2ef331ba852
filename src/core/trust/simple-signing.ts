/**
 * cosign "simple signing" signatures (`.sig` layers): the payload
 * `{"critical":{"identity":{"docker-reference"},"image":{"docker-manifest-digest"},"type":"cosign container image signature"},"optional":…}`
 * signed with a trusted key or a Fulcio certificate. The signed digest must be
 * this image's (SUBJECT_MISMATCH otherwise): a valid signature of another image proves nothing.
 */
import { CosignAnnotation, CosignMediaType, type AttachedLayer } from './attachments.js';
import { failed, verifyCosignSigner, type CosignVerifyContext } from './cosign-signer.js';
import { canonicalBase64 } from './encoding.js';
import type { VerificationResult } from './types.js';
import { parseJsonBytes } from '../oci/manifest.js';
import { scalarText } from './attestation.js';
import { checkSignedIdentity, DEFAULT_SIGNED_IDENTITY } from './signed-identity.js';

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  dockerReference: string | undefined;
  dockerManifestDigest: string;
  optional: Record<string, unknown> | null;
}

export interface SignatureCheck extends VerificationResult {
  /** The signed claims, when the payload could be read. */
  payload?: SimpleSigningPayload;
  /** The layer digest of the signature (its identity in the `.sig` manifest). */
  layerDigest: string;
  /** Whether the payload's docker-reference was compared with the image's name (false: a layout or archive under matchRepository). */
  identityChecked?: boolean;
}

export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload | string {
  let doc: any;
  try {
    // Strict: duplicate keys are refused (JSON.parse keeps the last, Go's decoder another: which claim was signed?).
    doc = parseJsonBytes(bytes, 'signed payload', 'INVALID_BUNDLE', 1 << 20);
  } catch (e) {
    return e instanceof Error ? e.message : 'the signed payload is not JSON';
  }
  // Go's encoding/json matches keys case-insensitively: a `Critical` or `Docker-Manifest-Digest` that we
  // would skip could be what cosign and containers/image read. Refuse the ambiguity.
  const variant = caseVariantKey(doc, ['critical', 'optional']) ?? caseVariantKey(doc?.critical, ['type', 'image', 'identity']) ?? caseVariantKey(doc?.critical?.image, ['docker-manifest-digest']) ?? caseVariantKey(doc?.critical?.identity, ['docker-reference']);
  if (variant) return `the signed payload has the key ${JSON.stringify(variant).slice(0, 60)}, a case variant of a field signature verifiers read`;
  const c = doc?.critical;
  if (typeof c !== 'object' || c === null) return 'the signed payload has no "critical" section';
  if (typeof c.type !== 'string' || c.type !== SIMPLE_SIGNING_TYPE) return `the signed payload type is ${JSON.stringify(scalarText(c.type)).slice(0, 60)}, not "${SIMPLE_SIGNING_TYPE}"`;
  const digest = c.image?.['docker-manifest-digest'];
  if (typeof digest !== 'string') return 'the signed payload has no critical.image.docker-manifest-digest';
  const ref = c.identity?.['docker-reference'];
  return { dockerReference: typeof ref === 'string' ? ref : undefined, dockerManifestDigest: digest, optional: typeof doc.optional === 'object' ? doc.optional : null };
}

/** A key of `obj` that equals one of `names` ignoring case but not exactly, if any. */
function caseVariantKey(obj: unknown, names: string[]): string | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  return Object.keys(obj).find((k) => !names.includes(k) && names.includes(k.toLowerCase()));
}

export function verifySimpleSigning(layer: AttachedLayer, ctx: CosignVerifyContext): SignatureCheck {
  const layerDigest = layer.digest;
  if (layer.mediaType !== CosignMediaType.SimpleSigning) {
    return { ...failed('PAYLOAD_TYPE_INVALID', `not a signature: layer media type ${JSON.stringify(layer.mediaType).slice(0, 80)}`), layerDigest };
  }
  const payload = layer.bytes;
  if (!payload) return { ...failed('NO_SIGNATURE', 'signature payload not read'), layerDigest };
  const sigText = layer.annotations[CosignAnnotation.Signature];
  // Go's base64 decoder (cosign, containers-image) skips line breaks; some signers wrap at 76 columns.
  const signature = canonicalBase64(sigText?.replace(/[\r\n]/g, ''));
  if (!signature || signature.length === 0) return { ...failed('SIGNATURE_INVALID', 'the signature annotation is missing or not strict base64'), layerDigest };

  const result = verifyCosignSigner(payload, signature, layer.annotations, ctx, { payload, dsse: false });
  const claims = parseSimpleSigningPayload(payload);
  if (!result.verified) return { ...result, ...(typeof claims === 'string' ? {} : { payload: claims }), layerDigest };
  if (typeof claims === 'string') return { ...failed('SIGNATURE_INVALID', claims, result.signer, result.tlog), layerDigest };
  if (!ctx.subjects.has(claims.dockerManifestDigest)) {
    return {
      ...failed('SUBJECT_MISMATCH', `the signature is for ${claims.dockerManifestDigest.slice(0, 80)}, not for this image (${[...ctx.subjects].join(' or ')})`, result.signer, result.tlog),
      payload: claims,
      layerDigest,
    };
  }
  // The repository the signature was made for (containers-image's signedIdentity; default matchRepository).
  const signer = ctx.signers.find((s) => s.name === result.signer?.trustedAs);
  const identity = checkSignedIdentity(signer?.signedIdentity ?? DEFAULT_SIGNED_IDENTITY, ctx.identity ?? null, claims.dockerReference);
  if (!identity.ok) return { ...failed('IDENTITY_MISMATCH', identity.message, result.signer, result.tlog), payload: claims, layerDigest };
  return { ...result, payload: claims, layerDigest, identityChecked: identity.checked };
}
