/**
 * The signer side of cosign's legacy formats, shared by simple signing
 * (`.sig`) and DSSE attestations (`.att`): whose signature is this, does it
 * verify, when was it made (Rekor SET or RFC 3161 timestamp), does the log
 * entry describe this very signature, and does the signer match the trust file.
 */
import { createPublicKey, X509Certificate as NodeX509 } from 'node:crypto';
import { RFC3161Timestamp, type X509Certificate } from '@sigstore/core';
import { sanitizeLine } from '../util/sanitize.js';
import type { DockerReference } from '../ref/types.js';
import { CosignAnnotation } from './attachments.js';
import { certificateSubject, fulcioExtensions, issuerConflict, parseCertificate, splitPemCertificates, verifyCertificateChain, verifyCertificateScts } from './certificate.js';
import { canonicalBase64 } from './encoding.js';
import { describeKey, verifyMessage, type PublicKeyInfo } from './prehash.js';
import { bodyMatches, parseRekorAnnotation, verifyRekorAnnotation } from './rekor-set.js';
import { inRange, type TrustedRoot } from './trusted-root.js';
import { caSigners, keylessRefusal, keySigners, matchKeyless, type CaSigner, type TrustedSigner } from './trust-file.js';
import type { ReasonCode, SignerIdentity, TlogEvidence, VerificationResult } from './types.js';

export interface CosignVerifyContext {
  signers: readonly TrustedSigner[];
  trustedRoot: TrustedRoot;
  /** Digests that are this image: its manifest digest and, for a multi-platform image, the index digest. */
  subjects: ReadonlySet<string>;
  /** The registry name the image was asked for (signedIdentity checks); null or absent for a layout or an archive. */
  identity?: DockerReference | null;
  /**
   * Key-based signatures need a transparency log entry unless their signer says
   * `tlog: optional` (default true). `false` relaxes it for every key: only for
   * upstream fixtures signed before logs existed, never from a trust file.
   */
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
  let keyTlogOptional = false;
  if (certPem) {
    try {
      cert = parseCertificate(certPem);
      signerKey = describeKey(cert.publicKey);
    } catch {
      return failed('CERT_CHAIN_INVALID', 'the certificate annotation is not a usable X.509 certificate');
    }
    const conflict = issuerConflict(cert);
    if (conflict) return failed('CERT_ISSUER_CONFLICT', conflict);
    const extensions = fulcioExtensions(cert);
    const subject = certificateSubject(cert);
    identity = { type: 'keyless', ...(subject !== undefined ? { subject } : {}), ...(extensions.issuer !== undefined ? { issuer: extensions.issuer } : {}), trustedAs: null, extensions };
    if (!verifyMessage(signerKey, message, signature)) return failed('SIGNATURE_INVALID', 'the signature does not verify under the certificate\'s key: the payload was altered or the signature belongs to something else', identity);
  } else {
    const trusted = keySigners(ctx.signers).find((k) => verifyMessage(k.key, message, signature));
    if (trusted) {
      signerKey = trusted.key;
      identity = { type: 'key', keyId: trusted.key.keyId, trustedAs: trusted.name };
      keyTlogOptional = trusted.tlog === 'optional' || ctx.requireTlog === false;
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
  let tsTime: Date | undefined;
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
    tsTime = ts;
    signedAt ??= ts;
  }

  if (!cert && !tlog && !keyTlogOptional) {
    return failed('TLOG_MISSING', `the signature has no transparency log entry, and signer ${JSON.stringify(identity.trustedAs)} requires one (set "tlog: optional" on it for offline signing)`, identity);
  }
  if (cert) {
    let chain: X509Certificate[];
    try {
      chain = splitPemCertificates(annotations[CosignAnnotation.Chain] ?? '');
    } catch {
      return failed('CERT_CHAIN_INVALID', 'the chain annotation holds a certificate that is not X.509', identity, tlog);
    }
    // The organisation's own CA (trust-file `ca`): no log, no SCTs; checked now.
    const ca = matchCa(caSigners(ctx.signers), cert, chain);
    if (ca) {
      const caIdentity: SignerIdentity = { type: 'ca', ...(identity.subject !== undefined ? { subject: identity.subject } : {}), trustedAs: ca.name };
      return { verified: true, reason: 'OK', message: `verified: certificate from the CA of signer ${ca.name}${tlog ? '' : ', no transparency log entry'}`, signer: caIdentity, tlog, signedAt: signedAt ? signedAt.toISOString() : null };
    }
    // Fulcio: as for a Sigstore bundle, the log entry is required; a timestamp adds to it but never replaces it.
    if (!tlog) {
      return failed('TLOG_MISSING', tsText ? 'a keyless signature needs a transparency log entry; an RFC 3161 timestamp alone does not stand in for it (as for Sigstore bundles)' : 'a keyless signature needs a transparency log entry to prove when it was made, and this one has none', identity);
    }
    const outcome = verifyCertificateChain(cert, chain, ctx.trustedRoot, signedAt!);
    if (!('ok' in outcome)) return failed(outcome.reason, outcome.message, identity, tlog);
    // As for bundles, the certificate must have been valid at every proven time: the log's and the timestamp's.
    if (tsTime) {
      const atTimestamp = verifyCertificateChain(cert, chain, ctx.trustedRoot, tsTime);
      if (!('ok' in atTimestamp)) return failed(atTimestamp.reason, atTimestamp.message, identity, tlog);
    }
    const scts = verifyCertificateScts(cert, outcome.path[1]!, ctx.trustedRoot);
    if (!('ok' in scts)) return failed(scts.reason, scts.message, identity, tlog);
    const match = matchKeyless(ctx.signers, identity.subject, identity.issuer, identity.extensions ?? {});
    if (!match) return failed('UNTRUSTED_SIGNER', keylessRefusal(ctx.signers, identity.subject, identity.issuer, identity.extensions ?? {}), identity, tlog);
    identity.trustedAs = match.name;
  }
  const how = tlog ? '' : ', no transparency log entry (the signer allows it)';
  return { verified: true, reason: 'OK', message: `verified${how}`, signer: identity, tlog, signedAt: signedAt ? signedAt.toISOString() : null };
}

/** The `ca` signer whose roots the certificate chains to, now, naming the signer's email / host. */
function matchCa(signers: CaSigner[], cert: X509Certificate, provided: X509Certificate[]): CaSigner | undefined {
  if (signers.length === 0) return undefined;
  let node: NodeX509;
  try {
    node = new NodeX509(cert.root.toDER());
  } catch {
    return undefined;
  }
  const now = new Date();
  for (const s of signers) {
    if (s.subjectEmail !== undefined && node.checkEmail(s.subjectEmail, { subject: 'never' }) === undefined) continue;
    if (s.subjectHostname !== undefined && node.checkHost(s.subjectHostname, { subject: 'never', wildcards: false }) === undefined) continue;
    const root: TrustedRoot = {
      mediaType: 'vouch/ca-signer',
      tlogs: [],
      ctlogs: [],
      timestampAuthorities: [],
      certificateAuthorities: s.roots.map((r) => ({ uri: s.rootsPath, certChain: [r], validFor: { start: new Date(0), end: null } })),
      source: s.rootsPath,
      trustMaterial: undefined as never, // not used by chain verification
    };
    if ('ok' in verifyCertificateChain(cert, [...s.intermediates, ...provided], root, now)) return s;
  }
  return undefined;
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
  let at: Date;
  try {
    at = ts.signingTime;
  } catch {
    return 'the RFC 3161 timestamp has an unreadable time';
  }
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
