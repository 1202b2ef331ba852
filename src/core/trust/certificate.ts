/**
 * Fulcio certificates: the OIDC identity and build extensions they carry, and
 * chain verification against the trusted root's certificate authorities (for
 * cosign's certificate/chain annotations; Sigstore bundles go through
 * @sigstore/verify).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ASN1Obj, EXTENSION_OID_SCT, X509Certificate, X509SCTExtension, crypto as sigcrypto } from '@sigstore/core';
import { TrustInputError, type TrustFailure } from './reasons.js';
import { inRange, type TrustedRoot } from './trusted-root.js';
import type { FulcioExtensions } from './types.js';

const FULCIO_OID = '1.3.6.1.4.1.57264.1.';

/** OID suffix → field, and whether the value is DER-encoded (v2, .8 onwards) or raw bytes (legacy .1–.6). */
const EXTENSIONS: Record<string, [keyof FulcioExtensions, boolean]> = {
  '1': ['issuer', false],
  '2': ['githubWorkflowTrigger', false],
  '3': ['githubWorkflowSha', false],
  '4': ['githubWorkflowName', false],
  '5': ['githubWorkflowRepository', false],
  '6': ['githubWorkflowRef', false],
  '8': ['issuer', true],
  '9': ['buildSignerUri', true],
  '10': ['buildSignerDigest', true],
  '11': ['runnerEnvironment', true],
  '12': ['sourceRepositoryUri', true],
  '13': ['sourceRepositoryDigest', true],
  '14': ['sourceRepositoryRef', true],
  '15': ['sourceRepositoryIdentifier', true],
  '16': ['sourceRepositoryOwnerUri', true],
  '17': ['sourceRepositoryOwnerIdentifier', true],
  '18': ['buildConfigUri', true],
  '19': ['buildConfigDigest', true],
  '20': ['buildTrigger', true],
  '21': ['runInvocationUri', true],
  '22': ['sourceRepositoryVisibilityAtSigning', true],
};

/** DER bytes from DER, a PEM string, or a parsed certificate. */
export function parseCertificate(cert: Uint8Array | string | X509Certificate): X509Certificate {
  if (cert instanceof X509Certificate) return cert;
  try {
    const c = typeof cert === 'string' ? X509Certificate.parse(cert) : X509Certificate.parse(Buffer.from(cert) as Buffer<ArrayBuffer>);
    checkStructure(c);
    return c;
  } catch (e) {
    throw new TrustInputError('INVALID_KEY', `not an X.509 certificate: ${(e as Error).message}`);
  }
}

/**
 * @sigstore/core parses a certificate's parts lazily: a malformed part throws a TypeError only when
 * read, wherever that is. Read every part vouch uses now, so that a bad certificate is refused here.
 */
function checkStructure(c: X509Certificate): void {
  void [c.tbsCertificate.toDER(), c.version, c.serialNumber, c.notBefore, c.notAfter, c.issuer, c.subject, c.publicKey, c.signatureAlgorithm, c.signatureValue];
  for (const ext of c.extensions) ext.subs[0]!.toOID();
  const san = c.extSubjectAltName;
  void [san?.uri, san?.rfc822Name, san?.otherName('1.3.6.1.4.1.57264.1.7')];
}

/** Every PEM certificate in a string (a chain file or annotation), in order. */
export function splitPemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => parseCertificate(b));
}

/** Fulcio's OIDC and build extensions (OIDs 1.3.6.1.4.1.57264.1.*), whichever are present. */
export function fulcioExtensions(cert: Uint8Array | string | X509Certificate): FulcioExtensions {
  const c = parseCertificate(cert);
  const out: FulcioExtensions = {};
  let issuerV2: string | undefined;
  for (const ext of c.extensions) {
    const oid = ext.subs[0]?.toOID();
    if (!oid?.startsWith(FULCIO_OID)) continue;
    const spec = EXTENSIONS[oid.slice(FULCIO_OID.length)];
    if (!spec) continue;
    const raw = ext.subs[ext.subs.length - 1]!.value;
    let value: string;
    try {
      value = spec[1] ? ASN1Obj.parseBuffer(raw as Buffer<ArrayBuffer>).value.toString('utf8') : raw.toString('utf8');
    } catch {
      continue; // a malformed extension is absent, not fatal
    }
    if (spec[0] === 'issuer' && spec[1]) issuerV2 = value;
    else out[spec[0]] = value;
  }
  if (issuerV2 !== undefined) out.issuer = issuerV2; // .8 supersedes the legacy .1
  return out;
}

/**
 * Fulcio writes the OIDC issuer twice: the legacy .1 (raw string) and .8 (DER
 * UTF8String). Verifiers that read different ones must not see different
 * issuers: when both are present and disagree, a sentence saying so.
 */
export function issuerConflict(cert: Uint8Array | string | X509Certificate): string | undefined {
  const c = parseCertificate(cert);
  let legacy: string | undefined;
  let v2: string | undefined;
  for (const ext of c.extensions) {
    const oid = ext.subs[0]?.toOID();
    if (oid !== `${FULCIO_OID}1` && oid !== `${FULCIO_OID}8`) continue;
    const raw = ext.subs[ext.subs.length - 1]!.value;
    try {
      if (oid === `${FULCIO_OID}1`) legacy = raw.toString('utf8');
      else v2 = ASN1Obj.parseBuffer(raw as Buffer<ArrayBuffer>).value.toString('utf8');
    } catch {
      return 'the certificate\'s issuer extension (1.3.6.1.4.1.57264.1.8) is malformed';
    }
  }
  if (legacy !== undefined && v2 !== undefined && legacy !== v2) {
    return `the certificate names two OIDC issuers: ${JSON.stringify(legacy.slice(0, 100))} (legacy extension .1) and ${JSON.stringify(v2.slice(0, 100))} (extension .8)`;
  }
  return undefined;
}

/** The certificate's SAN identity (URI, else email), as Fulcio writes one. */
export function certificateSubject(cert: X509Certificate): string | undefined {
  const san = cert.extSubjectAltName;
  return san?.uri ?? san?.rfc822Name ?? san?.otherName('1.3.6.1.4.1.57264.1.7');
}

/** Self-signed: subject equals issuer and the certificate's own key verifies it. */
export function isSelfSigned(cert: X509Certificate): boolean {
  if (!cert.subject.equals(cert.issuer)) return false;
  try {
    return cert.verify();
  } catch {
    return false;
  }
}

export interface ChainVerification {
  ok: true;
  /** leaf → … → trust anchor's root */
  path: X509Certificate[];
  /** The trusted CA's URI. */
  authority: string;
}

/**
 * Verifies that `leaf` chains to one of the trusted root's certificate
 * authorities valid at `at`, with every certificate of the path valid at `at`.
 * `chain` may supply intermediates (cosign's `dev.sigstore.cosign/chain`);
 * certificates in it are never trust anchors: a self-signed certificate there
 * is used only when it is also in the trusted root.
 */
export function verifyCertificateChain(
  leafInput: Uint8Array | string | X509Certificate,
  chainInput: ReadonlyArray<Uint8Array | string | X509Certificate> | string,
  trustedRoot: TrustedRoot,
  at: Date,
): ChainVerification | TrustFailure {
  let leaf: X509Certificate;
  let provided: X509Certificate[];
  try {
    leaf = parseCertificate(leafInput);
    provided = typeof chainInput === 'string' ? splitPemCertificates(chainInput) : chainInput.map(parseCertificate);
  } catch (e) {
    return { reason: 'CERT_CHAIN_INVALID', message: (e as Error).message };
  }
  if (leaf.isCA) return { reason: 'CERT_CHAIN_INVALID', message: 'the signing certificate is a CA certificate' };
  const intermediates = provided.filter((c) => !isSelfSigned(c) && !c.equals(leaf));
  let lastFailure: TrustFailure = { reason: 'CERT_CHAIN_INVALID', message: 'no trusted certificate authority is valid at the signing time' };
  for (const ca of trustedRoot.certificateAuthorities) {
    if (!inRange(ca.validFor, at)) continue;
    const r = chainTo(leaf, intermediates, ca.certChain, at);
    if ('ok' in r) return { ok: true, path: r.path, authority: ca.uri };
    lastFailure = r;
  }
  return lastFailure;
}

function chainTo(leaf: X509Certificate, intermediates: X509Certificate[], trusted: X509Certificate[], at: Date): { ok: true; path: X509Certificate[] } | TrustFailure {
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const anchorIdx = trusted.findIndex((t) => issues(t, current));
    if (anchorIdx >= 0) {
      path.push(...trusted.slice(anchorIdx));
      return checkPath(path, at);
    }
    const next = intermediates.find((c) => !path.includes(c) && issues(c, current));
    if (!next) return { reason: 'CERT_CHAIN_INVALID', message: 'the certificate does not chain to a trusted certificate authority' };
    path.push(next);
    current = next;
  }
  return { reason: 'CERT_CHAIN_INVALID', message: 'certificate chain too long' };
}

function issues(issuer: X509Certificate, cert: X509Certificate): boolean {
  if (!cert.issuer.equals(issuer.subject)) return false;
  try {
    return cert.verify(issuer);
  } catch {
    return false;
  }
}

function checkPath(path: X509Certificate[], at: Date): { ok: true; path: X509Certificate[] } | TrustFailure {
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (!c.isCA) return { reason: 'CERT_CHAIN_INVALID', message: 'an issuing certificate is not a CA' };
    const pathLen = c.extBasicConstraints?.pathLenConstraint;
    if (pathLen !== undefined && pathLen < BigInt(i - 1)) return { reason: 'CERT_CHAIN_INVALID', message: 'path length constraint exceeded' };
  }
  const expired = path.find((c) => !c.validForDate(at));
  if (expired) {
    return {
      reason: 'CERT_EXPIRED_AT_SIGNING',
      message: `a certificate in the chain was not valid at the signing time ${at.toISOString()} (valid ${expired.notBefore.toISOString()} to ${expired.notAfter.toISOString()})`,
    };
  }
  return { ok: true, path };
}

// ---------------------------------------------------------------- SCTs

/**
 * RFC 6962 signed certificate timestamps embedded in a (Fulcio) leaf: each is
 * checked over the precertificate (the TBS without the SCT extension, after the
 * issuer key hash) by a CT log of the trusted root whose key was valid at the
 * SCT's time. At least `threshold` distinct logs must vouch, and an SCT that does
 * not verify fails the certificate (as a Sigstore bundle's verification does:
 * the same rule whatever the signature's format).
 */
export function verifyCertificateScts(leafInput: X509Certificate, issuer: X509Certificate, root: TrustedRoot, threshold = 1): { ok: true; logs: string[] } | TrustFailure {
  const leaf = leafInput.clone();
  const at = leaf.extensions.findIndex((e) => e.subs[0]?.toOID() === EXTENSION_OID_SCT);
  if (at < 0) return threshold > 0 ? { reason: 'SCT_INVALID', message: 'the certificate carries no signed certificate timestamp (SCT): it was never published to a CT log of the trusted root' } : { ok: true, logs: [] };
  let scts: X509SCTExtension['signedCertificateTimestamps'];
  try {
    scts = new X509SCTExtension(leaf.extensions[at]!).signedCertificateTimestamps;
  } catch (e) {
    return { reason: 'SCT_INVALID', message: `the certificate's SCT list cannot be read: ${(e as Error).message}` };
  }
  leaf.extensions.splice(at, 1); // the precertificate is the TBS without its SCTs
  const tbs = leaf.tbsCertificate.toDER();
  const issuerKeyHash = sigcrypto.digest('sha256', issuer.publicKey);
  const len = Buffer.from([(tbs.length >> 16) & 0xff, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
  const preCert = Buffer.concat([issuerKeyHash, len, tbs]);
  const logs = new Set<string>();
  for (const sct of scts) {
    let time: Date;
    try {
      time = sct.datetime;
    } catch {
      return { reason: 'SCT_INVALID', message: 'an SCT has an unreadable timestamp' };
    }
    const candidates = root.ctlogs.filter((l) => l.logId.equals(sct.logID) && inRange(l.validFor, time));
    let verified = false;
    for (const log of candidates) {
      try {
        verified = sct.verify(preCert, log.publicKey);
      } catch {
        verified = false;
      }
      if (verified) break;
    }
    if (!verified) {
      return {
        reason: 'SCT_INVALID',
        message: candidates.length === 0 ? `an SCT names CT log ${sct.logID.toString('hex').slice(0, 16)}…, which is not a CT log of the trusted root valid at ${time.toISOString()}` : 'an SCT does not verify under its CT log key',
      };
    }
    logs.add(sct.logID.toString('hex'));
  }
  if (logs.size < threshold) return { reason: 'SCT_INVALID', message: `the certificate has SCTs from ${logs.size} trusted CT log(s), ${threshold} required` };
  return { ok: true, logs: [...logs] };
}

// ---------------------------------------------------------------- speed

type DerNode = { tag: { toDER(): number }; value: Buffer; subs: DerNode[]; toDER(): Buffer };

function derLength(len: number): Buffer {
  if (len < 128) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let v = len; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function fastDer(node: DerNode): Buffer {
  const value = node.subs.length > 0 ? Buffer.concat(node.subs.map((s) => s.toDER())) : node.value;
  return Buffer.concat([Buffer.from([node.tag.toDER()]), derLength(value.length), value]);
}

/**
 * Same bytes as @sigstore/core's ASN1Obj.toDER (tag, DER length, value or
 * re-encoded children), without its 1 KiB-growing buffers; with `cache`, computed
 * once (only for trees nothing mutates: the library mutates clones only).
 */
function fastNode(node: DerNode, cache: boolean): void {
  for (const sub of node.subs) fastNode(sub, cache);
  let der: Buffer | undefined;
  Object.defineProperty(node, 'toDER', { value: cache ? () => (der ??= fastDer(node)) : () => fastDer(node), configurable: true });
}

const memoized = new WeakSet<X509Certificate>();

/**
 * Makes a parsed certificate cheap to use repeatedly: DER encodings computed
 * once, and, for certificates of the trusted root, signature checks
 * (`verify(issuer)`) remembered per issuer. Behaviour is unchanged; nothing in
 * the library is modified, only these instances.
 */
export function memoizeCertificate(cert: X509Certificate, trusted = false): X509Certificate {
  if (memoized.has(cert)) return cert;
  memoized.add(cert);
  fastNode(cert.root as unknown as DerNode, true);
  const define = (name: string, value: unknown) => Object.defineProperty(cert, name, { value, configurable: true });
  // Clones are what @sigstore/verify edits (SCT checks drop the SCT extension
  // before re-encoding): fast encoding, no caching.
  const clone = cert.clone.bind(cert);
  define('clone', () => {
    const c = clone();
    fastNode(c.root as unknown as DerNode, false);
    return c;
  });
  // verify(issuer), its answer remembered per issuer (the library checks the chain once per timestamp).
  const rememberPerIssuer = (check: (issuer?: X509Certificate) => boolean) => {
    const results = new WeakMap<object, boolean>();
    const self = {};
    define('verify', (issuer?: X509Certificate) => {
      const k = issuer ?? self;
      let r = results.get(k);
      if (r === undefined) {
        r = check(issuer);
        results.set(k, r);
      }
      return r;
    });
  };
  if (trusted) {
    rememberPerIssuer(cert.verify.bind(cert));
    trustedKeys.set(cert, createPublicKey({ key: cert.publicKey, format: 'der', type: 'spki' }));
  } else {
    // X509Certificate.verify, with the issuer's key object reused when the issuer is a trusted certificate.
    rememberPerIssuer((issuer) => {
      const key = (issuer && trustedKeys.get(issuer)) ?? createPublicKey({ key: (issuer ?? cert).publicKey, format: 'der', type: 'spki' });
      return sigcrypto.verify(cert.tbsCertificate.toDER(), key, cert.signatureValue, cert.signatureAlgorithm);
    });
  }
  return cert;
}

const trustedKeys = new WeakMap<X509Certificate, KeyObject>();
