/**
 * Fulcio certificates of keyless signatures: identity (SAN + issuer
 * extension), the other Fulcio extensions, and the chain to a trusted CA at
 * the time signing was proven (not now: Fulcio certificates live 10 minutes).
 */
import { X509Certificate } from '@sigstore/core';
import type { FulcioExtensions } from './types.js';
import { withinWindow, type TrustAnchors } from './anchors.js';

const OID = '1.3.6.1.4.1.57264.1.';
const LEGACY: Array<[number, keyof FulcioExtensions]> = [
  [1, 'issuer'],
  [2, 'githubWorkflowTrigger'],
  [3, 'githubWorkflowSha'],
  [4, 'githubWorkflowName'],
  [5, 'githubWorkflowRepository'],
  [6, 'githubWorkflowRef'],
];
const V2: Array<[number, keyof FulcioExtensions]> = [
  [8, 'issuer'],
  [9, 'buildSignerUri'],
  [11, 'runnerEnvironment'],
  [12, 'sourceRepositoryUri'],
  [13, 'sourceRepositoryDigest'],
  [14, 'sourceRepositoryRef'],
  [18, 'buildConfigUri'],
  [20, 'buildTrigger'],
  [21, 'runInvocationUri'],
];

/** A DER UTF8String / IA5String / PrintableString content; undefined when it is not one. */
function derString(b: Buffer): string | undefined {
  if (b.length < 2 || ![0x0c, 0x16, 0x13].includes(b[0]!)) return undefined;
  let len = b[1]!;
  let off = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || b.length < 2 + n) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | b[2 + i]!;
    off = 2 + n;
  }
  if (off + len !== b.length) return undefined;
  return b.subarray(off).toString('utf8');
}

export function parseCertificate(input: string | Buffer): X509Certificate {
  return X509Certificate.parse(input as Buffer<ArrayBuffer> | string);
}

export function readFulcioExtensions(cert: X509Certificate): FulcioExtensions {
  const out: FulcioExtensions = {};
  for (const [n, field] of LEGACY) {
    const e = cert.extension(OID + n);
    if (e) out[field] = e.value.toString('utf8');
  }
  for (const [n, field] of V2) {
    const e = cert.extension(OID + n);
    const s = e ? derString(e.value) : undefined;
    if (s !== undefined) out[field] = s; // v2 extensions win over the legacy ones they replace
  }
  return out;
}

/** The certificate's identity: SAN (email or URI) and the OIDC issuer. */
export function certificateIdentity(cert: X509Certificate): { subject: string | undefined; issuer: string | undefined; extensions: FulcioExtensions } {
  const extensions = readFulcioExtensions(cert);
  let subject: string | undefined;
  try {
    subject = cert.subjectAltName;
  } catch {
    subject = undefined;
  }
  return { subject, issuer: extensions.issuer, extensions };
}

export type ChainOutcome = { ok: true } | { ok: false; reason: 'CERT_CHAIN_INVALID' | 'CERT_EXPIRED_AT_SIGNING'; message: string };

/**
 * Leaf → (intermediates from the signature's chain annotation) → a trusted CA,
 * every certificate valid at `at`, the CA's validity window containing `at`.
 * Only a trusted root's certificates end a path: a root in the untrusted chain
 * is never a trust anchor.
 */
export function verifyChainAt(leaf: X509Certificate, untrusted: X509Certificate[], anchors: TrustAnchors, at: Date): ChainOutcome {
  if (anchors.cas.length === 0) return { ok: false, reason: 'CERT_CHAIN_INVALID', message: `no Fulcio CA in ${anchors.source}` };
  if (!leaf.validForDate(at)) {
    return { ok: false, reason: 'CERT_EXPIRED_AT_SIGNING', message: `the signing certificate was not valid at the signing time ${at.toISOString()} (valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})` };
  }
  const signs = (issuer: X509Certificate, cert: X509Certificate): boolean => {
    try {
      return cert.verify(issuer);
    } catch {
      return false;
    }
  };
  let current = leaf;
  const used = new Set<X509Certificate>();
  for (let depth = 0; depth < 6; depth++) {
    for (const ca of anchors.cas) {
      if (!withinWindow(ca.validFor, at)) continue;
      const issuer = ca.certs[0]!;
      if (issuer.equals(current)) return { ok: true }; // an intermediate of the annotation chain that is itself trusted
      if (signs(issuer, current) && ca.certs.every((c) => c.validForDate(at))) return { ok: true };
    }
    const next = untrusted.find((c) => !used.has(c) && c.isCA && c.validForDate(at) && !c.equals(current) && signs(c, current));
    if (!next) break;
    used.add(next);
    current = next;
  }
  return { ok: false, reason: 'CERT_CHAIN_INVALID', message: `the signing certificate does not chain to a trusted Fulcio CA of ${anchors.source}` };
}
