/**
 * The signer side of cosign's legacy formats, shared by simple signing
 * (`.sig`) and DSSE attestations (`.att`): whose signature is this, does it
 * verify, when was it made (Rekor SET or RFC 3161 timestamp), does the log
 * entry describe this very signature, and does the signer match the trust file.
 */
import { createPublicKey } from 'node:crypto';
import { RFC3161Timestamp, type X509Certificate } from '@sigstore/core';
import { sanitizeLine } from '../util/sanitize.js';
import { CosignAnnotation } from './attachments.js';
import { certificateSubject, fulcioExtensions, parseCertificate, splitPemCertificates, verifyCertificateChain } from './certificate.js';
import { canonicalBase64 } from './encoding.js';
import { describeKey, verifyMessage, type PublicKeyInfo } from './prehash.js';
import { bodyMatches, parseRekorAnnotation, verifyRekorAnnotation } from './rekor-set.js';
import { inRange, type TrustedRoot } from './trusted-root.js';
import { keySigners, matchKeyless, type TrustedSigner } from './trust-file.js';
import type { ReasonCode, SignerIdentity, TlogEvidence, VerificationResult } from './types.js';

export interface CosignVerifyContext {
  signers: readonly TrustedSigner[];
  trustedRoot: TrustedRoot;
  /** Digests that are this image: its manifest digest and, for a multi-platform image, the index digest. */
  subjects: ReadonlySet<string>;
  /** Refuse key-based signatures without a transparency log entry (keyless ones always need log or timestamp evidence). */
  requireTlog?: boolean;
}

export function failed(reason: Exclude<ReasonCode, 'OK'>, message: string, signer: SignerIdentity | null = null, tlog: TlogEvidence | null = null): VerificationResult {
  // A signature that did not verify (for this image) is trusted as nothing, whoever made it.
  return { verified: false, reason, message: sanitizeLine(message), signer: signer ? { ...signer, trustedAs: null } : null, tlog, signedAt: tlog?.integratedTime ?? null };
}

/**
 * Verify `signature` over `message` (the simple-signing payload, or the DSSE
 * pre-authentication encoding) with the material in the layer's annotations.
 * `logged` is what the transparency log entry must describe: the payload (and
 * whether it is a DSSE payload).
 */
export function verifyCosignSigner(
  message: Uint8Array,
  signature: Uint8Array,
  annotations: Record<string, string>,
  ctx: CosignVerifyContext,
  logged: { payload: Uint8Array; dsse: boolean },
): VerificationResult {
  const certPem = annotations[CosignAnnotation.Certificate];
  const setText = annotations[CosignAnnotation.Bundle];
  const tsText = annotations[CosignAnnotation.Rfc3161];

  // ---- who signed, and does the signature verify
  let signerKey: PublicKeyInfo;
  let identity: SignerIdentity;
  let cert: X509Certificate | undefined;
  if (certPem) {
    try {
      cert = parseCertificate(certPem);
      signerKey = describeKey(cert.publicKey);
    } catch {
      return failed('CERT_CHAIN_INVALID', 'the certificate annotation is not a usable X.509 certificate');
    }
    const extensions = fulcioExtensions(cert);
    const subject = certificateSubject(cert);
    identity = { type: 'keyless', ...(subject !== undefined ? { subject } : {}), ...(extensions.issuer !== undefined ? { issuer: extensions.issuer } : {}), trustedAs: null, extensions };
    if (!verifyMessage(signerKey, message, signature)) return failed('SIGNATURE_INVALID', 'the signature does not verify under the certificate\'s key: the payload was altered or the signature belongs to something else', identity);
  } else {
    const trusted = keySigners(ctx.signers).find((k) => verifyMessage(k.key, message, signature));
    if (trusted) {
      signerKey = trusted.key;
      identity = { type: 'key', keyId: trusted.key.keyId, trustedAs: trusted.name };
    } else {
      // Not under any trusted key. If the log entry names the key that did sign, it is an untrusted signer; otherwise the signature is simply invalid.
      const alt = setText ? loggedKey(setText) : undefined;
      if (alt && verifyMessage(alt, message, signature)) {
        return failed('UNTRUSTED_SIGNER', `signed by key ${alt.keyId.slice(0, 16)}…, which is not a signer in the trust file`, { type: 'key', keyId: alt.keyId, trustedAs: null });
      }
      const n = keySigners(ctx.signers).length;
      return failed('SIGNATURE_INVALID', n === 0 ? 'the signature has no certificate and the trust file has no keys to check it with' : `the signature does not verify under any of the ${n} trusted key(s)`);
    }
  }

  // ---- when it was signed, proven by the log or a timestamp authority
  let tlog: TlogEvidence | null = null;
  let signedAt: Date | undefined;
  if (setText) {
    const set = verifyRekorAnnotation(setText, ctx.trustedRoot);
    if (!set.ok) return failed('TLOG_INVALID', set.message, identity);
    const mismatch = bodyMatches(set.body, { payload: logged.payload, signature, signer: { ...(certPem ? { pem: certPem } : {}), key: signerKey }, dsse: logged.dsse });
    if (mismatch) return failed('TLOG_INVALID', mismatch, identity, set.evidence);
    tlog = set.evidence;
    signedAt = new Date(set.integratedTime * 1000);
  }
  if (tsText) {
    const ts = verifyTimestamp(tsText, signature, ctx.trustedRoot);
    if (typeof ts === 'string') return failed('TIMESTAMP_INVALID', ts, identity, tlog);
    signedAt ??= ts;
  }

  if (!cert && ctx.requireTlog && !tlog) return failed('TLOG_MISSING', 'the signature has no transparency log entry and the policy requires one', identity);
  if (cert) {
    if (!signedAt) return failed('TLOG_MISSING', 'a keyless signature needs a transparency log entry or a timestamp to prove when it was made, and this one has neither', identity);
    let chain: X509Certificate[];
    try {
      chain = splitPemCertificates(annotations[CosignAnnotation.Chain] ?? '');
    } catch {
      return failed('CERT_CHAIN_INVALID', 'the chain annotation holds a certificate that is not X.509', identity, tlog);
    }
    const outcome = verifyCertificateChain(cert, chain, ctx.trustedRoot, signedAt);
    if (!('ok' in outcome)) return failed(outcome.reason, outcome.message, identity, tlog);
    const match = matchKeyless(ctx.signers, identity.subject, identity.issuer);
    if (!match) {
      return failed('UNTRUSTED_SIGNER', `certificate identity ${JSON.stringify(identity.subject ?? '')} from issuer ${JSON.stringify(identity.issuer ?? '')} matches no keyless signer in the trust file`, identity, tlog);
    }
    identity.trustedAs = match.name;
  }
  return { verified: true, reason: 'OK', message: 'verified', signer: identity, tlog, signedAt: signedAt ? signedAt.toISOString() : null };
}

/** The key (or certificate key) a Rekor entry body names, without trusting it. */
function loggedKey(setText: string): PublicKeyInfo | undefined {
  const parsed = parseRekorAnnotation(setText);
  if (typeof parsed === 'string') return undefined;
  try {
    const body = JSON.parse(canonicalBase64(parsed.payload.body)!.toString('utf8'));
    const pem = canonicalBase64(body?.spec?.signature?.publicKey?.content)?.toString('utf8');
    if (!pem) return undefined;
    return describeKey(/BEGIN CERTIFICATE/.test(pem) ? parseCertificate(pem).publicKey : pem);
  } catch {
    return undefined;
  }
}

/** cosign's RFC 3161 annotation: a timestamp over the raw signature bytes by a trusted TSA; the time, or why not. */
function verifyTimestamp(text: string, signature: Uint8Array, root: TrustedRoot): Date | string {
  let der: Buffer<ArrayBuffer> | undefined;
  try {
    der = canonicalBase64(JSON.parse(text)?.SignedRFC3161Timestamp);
  } catch {
    der = undefined;
  }
  if (!der) return 'the RFC 3161 timestamp annotation is malformed';
  let ts: RFC3161Timestamp;
  try {
    ts = RFC3161Timestamp.parse(der);
  } catch {
    return 'the RFC 3161 timestamp is not a valid timestamp token';
  }
  const at = ts.signingTime;
  for (const tsa of root.timestampAuthorities) {
    if (!inRange(tsa.validFor, at)) continue;
    try {
      ts.verify(Buffer.from(signature) as Buffer<ArrayBuffer>, createPublicKey({ key: tsa.certChain[0]!.publicKey, format: 'der', type: 'spki' }));
      return at;
    } catch {
      /* not this authority */
    }
  }
  return `the RFC 3161 timestamp is not signed by a timestamp authority of ${root.source}`;
}
