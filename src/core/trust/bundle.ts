/**
 * Sigstore bundle verification, offline: @sigstore/verify's Verifier over
 * trust material built once from the trusted root, wrapped with the checks the
 * library leaves to its caller (see issue 4, "What @sigstore/verify 3.x leaves
 * to us"):
 *   - the artifact is bound: messageDigest = the artifact's digest; an in-toto
 *     subject carries the artifact's digest; a DSSE payload type is in-toto;
 *   - digest mode (`sha256:HEX`): prehashed ECDSA / RSA verification;
 *   - Rekor v2 `hashedrekord/0.0.2` over sha256(DSSE PAE);
 *   - `--key` refuses certificate bundles; identities match exactly
 *     (`subject`) or by anchored regexp (`subjectRegExp`), with the issuer;
 *   - v0.1 inclusion proofs without a checkpoint fall back to the SET;
 *   - strict base64, non-negative log indexes, no self-signed certificate in
 *     the bundle's chain, checkpoints that are the log's and the proof's.
 * Bad signatures never throw: the result carries a reason code. Only unusable
 * policy input (an unparsable key, an invalid regexp) throws TrustInputError.
 */
import { createHash, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { bundleFromJSON, type Bundle, type TransparencyLogEntry } from '@sigstore/bundle';
import { dsse, X509Certificate } from '@sigstore/core';
import { Verifier, toSignedEntity, type SignedEntity, type TrustMaterial } from '@sigstore/verify';
import { errorLine } from '../errors.js';
import { sanitizeLine as sanitize } from '../util/sanitize.js';
import { certificateSubject, fulcioExtensions, issuerConflict, isSelfSigned, memoizeCertificate } from './certificate.js';
import { nonNegativeInt, strictBase64 } from './encoding.js';
import { keyIdOf, toKeyObject, UnsupportedPrehashError, verifyPrehashed, type DigestAlgorithm } from './prehash.js';
import { CheckFailed, fail, failureResult, reasonFromLibraryError, TrustInputError, type TrustFailure } from './reasons.js';
import { checkHashedRekordV2OverDsse, parseCheckpoint, rootFromInclusionProof, tlogEvidence, verifyCheckpointFor } from './tlog.js';
import { findTlog, type TrustedRoot } from './trusted-root.js';
import { anchoredRegExp, wholeMatch } from './trust-file.js';
import { EXTENSION_FIELDS, extensionMismatch, type ExtensionConstraints } from './trust-file.js';
import type { Artifact, SignerIdentity, SignerPolicy, VerificationResult } from './types.js';
import { minOf } from '../util/fold.js';

export { loadTrustedRoot, defaultTrustedRoot, parseTrustedRoot, type TrustedRoot } from './trusted-root.js';
export { fulcioExtensions, verifyCertificateChain, certificateSubject, splitPemCertificates } from './certificate.js';
export { keyIdOf, verifyPrehashed, UnsupportedPrehashError } from './prehash.js';
export { verifyRekorSet, parseCheckpoint, type RekorSet } from './tlog.js';
export { TrustInputError, type TrustFailure } from './reasons.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const IN_TOTO_STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1']);

const BUNDLE_MEDIA_TYPES = new Map<string, 1 | 2 | 3>([
  ['application/vnd.dev.sigstore.bundle+json;version=0.1', 1],
  ['application/vnd.dev.sigstore.bundle+json;version=0.2', 2],
  ['application/vnd.dev.sigstore.bundle+json;version=0.3', 3],
  ['application/vnd.dev.sigstore.bundle.v0.3+json', 3],
]);

const DIGEST_ALGORITHMS: Record<string, DigestAlgorithm> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };

/** A key (PEM or KeyObject) given on the command line. */
export interface KeyPolicy {
  key: string | KeyObject;
  /** Reported as `trustedAs`; default "key". */
  name?: string;
}

/** One keyless identity given on the command line. */
export interface IdentityPolicy {
  identity: { issuer: string; subject?: string; subjectRegExp?: string };
  /** Reported as `trustedAs`; default "identity". */
  name?: string;
}

export type BundlePolicy = SignerPolicy | KeyPolicy | IdentityPolicy;

export interface VerifyBundleOptions {
  /** DSSE payload type the caller expects; default in-toto. Set for attestations; a message signature then fails. */
  expectedPayloadType?: string;
  /** Minimum verified tlog entries (default 1), SCTs (default 1), timestamps (tlog SETs + RFC 3161, default 1). */
  tlogThreshold?: number;
  ctlogThreshold?: number;
  timestampThreshold?: number;
}

interface Keys {
  kind: 'keys';
  /** tlogOptional: the trust file's `tlog: optional` (air-gapped key signing: no log entry, no timestamp needed). */
  keys: Array<{ name: string; key: KeyObject; keyId: string; tlogOptional?: boolean }>;
}
interface Identities {
  kind: 'identities';
  identities: Array<{ name: string; issuer: string; subject?: string; pattern?: RegExp; extensions?: ExtensionConstraints }>;
}
interface Both {
  kind: 'both';
  keys: Keys['keys'];
  identities: Identities['identities'];
}
type NormalizedPolicy = Keys | Identities | Both;

function compilePattern(re: string, name: string): RegExp {
  try {
    // Anchored: the whole SAN must match, never a substring of it; the source must parse alone (no `)|(?:.*` escape).
    return anchoredRegExp(re);
  } catch (e) {
    throw new TrustInputError('INVALID_POLICY', `signer ${name}: subjectRegExp is not a valid regular expression: ${(e as Error).message}`);
  }
}

function normalizeIdentity(i: { issuer: string; subject?: string; subjectRegExp?: string; extensions?: Record<string, string> }, name: string) {
  if (typeof i?.issuer !== 'string' || i.issuer.length === 0) throw new TrustInputError('INVALID_POLICY', `signer ${name}: an identity needs an issuer`);
  const hasSubject = typeof i.subject === 'string';
  const hasPattern = typeof i.subjectRegExp === 'string';
  if (hasSubject === hasPattern) throw new TrustInputError('INVALID_POLICY', `signer ${name}: give exactly one of subject and subjectRegExp`);
  for (const k of Object.keys(i.extensions ?? {})) if (!(k in EXTENSION_FIELDS)) throw new TrustInputError('INVALID_POLICY', `signer ${name}: unknown certificate extension ${JSON.stringify(k)}`);
  return {
    name,
    issuer: i.issuer,
    subject: hasSubject ? i.subject : undefined,
    pattern: hasPattern ? compilePattern(i.subjectRegExp!, name) : undefined,
    ...(i.extensions ? { extensions: i.extensions as ExtensionConstraints } : {}),
  };
}

function normalizeKey(key: string | KeyObject, name: string, tlogOptional = false) {
  const k = toKeyObject(key);
  if (k.type !== 'public') throw new TrustInputError('INVALID_KEY', `signer ${name}: not a public key`);
  return { name, key: k, keyId: keyIdOf(k), ...(tlogOptional ? { tlogOptional } : {}) };
}

const policyCache = new WeakMap<object, NormalizedPolicy>();

function normalizePolicy(policy: BundlePolicy): NormalizedPolicy {
  const cached = policyCache.get(policy);
  if (cached) return cached;
  let out: NormalizedPolicy;
  if ('key' in policy) out = { kind: 'keys', keys: [normalizeKey(policy.key, policy.name ?? 'key')] };
  else if ('identity' in policy) out = { kind: 'identities', identities: [normalizeIdentity(policy.identity, policy.name ?? 'identity')] };
  else if ('keys' in policy || 'identities' in policy) {
    out = {
      kind: 'both',
      keys: (policy.keys ?? []).map((k) => normalizeKey(k.publicKeyPem, k.name, k.tlog === 'optional')),
      identities: (policy.identities ?? []).map((i) => normalizeIdentity(i, i.name)),
    };
  } else throw new TrustInputError('INVALID_POLICY', 'policy: expected {key}, {identity} or a SignerPolicy');
  policyCache.set(policy, out);
  return out;
}

/**
 * Verifies a Sigstore bundle (v0.1–v0.3; JSON text, bytes or parsed) for an
 * artifact under a signer policy, offline, against `trustedRoot`.
 */
export async function verifyBundle(
  bundle: unknown,
  artifact: Artifact,
  policy: BundlePolicy,
  trustedRoot: TrustedRoot,
  opts: VerifyBundleOptions = {},
): Promise<VerificationResult> {
  return verifyBundleSync(bundle, artifact, policy, trustedRoot, opts);
}

/** verifyBundle without the promise (the work is synchronous CPU). */
export function verifyBundleSync(
  bundle: unknown,
  artifact: Artifact,
  policy: BundlePolicy,
  trustedRoot: TrustedRoot,
  opts: VerifyBundleOptions = {},
): VerificationResult {
  const normalized = normalizePolicy(policy); // unusable policy input throws
  try {
    return run(bundle, artifact, normalized, trustedRoot, opts);
  } catch (e) {
    if (e instanceof CheckFailed) return failureResult(e.reason, e.message);
    if (e instanceof TrustInputError) throw e;
    return failureResult('BUNDLE_INVALID', `bundle could not be verified: ${errorLine(e)}`);
  }
}

// ---------------------------------------------------------------- the pipeline

function parseInput(bundle: unknown): Record<string, unknown> {
  let v = bundle;
  if (v instanceof Uint8Array) v = Buffer.from(v).toString('utf8');
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (e) {
      fail('BUNDLE_INVALID', `bundle is not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('BUNDLE_INVALID', 'bundle is not a JSON object');
  return v as Record<string, unknown>;
}

/** protobuf-JSON `bytes` fields of a bundle, by JSON key. */
const BYTES_FIELDS = new Set(['signature', 'digest', 'payload', 'sig', 'rawBytes', 'keyId', 'canonicalizedBody', 'signedEntryTimestamp', 'rootHash', 'hashes', 'signedTimestamp']);

function checkBase64(v: unknown, path: string): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkBase64(x, `${path}[${i}]`));
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  for (const [k, x] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k;
    if (BYTES_FIELDS.has(k) && (typeof x === 'string' || Array.isArray(x))) {
      for (const s of Array.isArray(x) ? x : [x]) {
        if (typeof s !== 'string' || strictBase64(s) === null) fail('BUNDLE_INVALID', `bundle field ${p} is not valid base64`);
      }
    } else if (k !== 'envelope') checkBase64(x, p);
  }
}

function checkRawTlogEntries(raw: Record<string, unknown>): void {
  const vm = raw.verificationMaterial as Record<string, unknown> | undefined;
  const entries = vm?.tlogEntries;
  if (!Array.isArray(entries)) return; // bundleFromJSON reports it
  entries.forEach((e: any, i) => {
    const where = `tlogEntries[${i}]`;
    // proto3 JSON omits zero values (cosign's and sigstore-go's serialisers too): an absent index is 0.
    if (e?.logIndex !== undefined && nonNegativeInt(e.logIndex) === null) fail('TLOG_INVALID', `${where}.logIndex ${JSON.stringify(e?.logIndex)} is not a non-negative integer`);
    if (e?.integratedTime !== undefined && nonNegativeInt(e.integratedTime) === null) {
      fail('TLOG_INVALID', `${where}.integratedTime is not a non-negative integer`);
    }
    const ip = e?.inclusionProof;
    if (ip !== undefined) {
      if (ip?.logIndex !== undefined && nonNegativeInt(ip.logIndex) === null) fail('TLOG_INVALID', `${where}.inclusionProof.logIndex is not a non-negative integer`);
      if (nonNegativeInt(ip?.treeSize) === null) fail('TLOG_INVALID', `${where}.inclusionProof.treeSize is not a non-negative integer`);
    }
  });
}

function parseBundle(raw: Record<string, unknown>): { bundle: Bundle; version: 1 | 2 | 3 } {
  const mediaType = raw.mediaType;
  const version = typeof mediaType === 'string' ? BUNDLE_MEDIA_TYPES.get(mediaType) : undefined;
  if (!version) fail('BUNDLE_INVALID', `unsupported bundle media type ${JSON.stringify(mediaType ?? null)}`);
  checkBase64(raw, '');
  checkRawTlogEntries(raw);
  try {
    return { bundle: bundleFromJSON(raw), version };
  } catch (e) {
    const fields = (e as { fields?: string[] }).fields;
    fail('BUNDLE_INVALID', `invalid bundle${fields?.length ? ` (${fields.join(', ')})` : ''}: ${(e as Error).message}`);
  }
}

function digestOf(bytes: Uint8Array, alg: DigestAlgorithm): Buffer {
  return createHash(alg).update(bytes).digest();
}

const bufferEqual = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/** The artifact's digest under `alg`, or null when only another algorithm's digest is known. */
function artifactDigest(artifact: Artifact, alg: DigestAlgorithm): Buffer | null {
  if (artifact.kind === 'bytes') return digestOf(artifact.bytes, alg);
  if (artifact.algorithm !== alg) return null;
  return Buffer.from(artifact.hex, 'hex');
}

function describeArtifact(artifact: Artifact): string {
  return artifact.kind === 'bytes' ? `sha256:${digestOf(artifact.bytes, 'sha256').toString('hex')}` : `${artifact.algorithm}:${artifact.hex.toLowerCase()}`;
}

/** The message digest must be the artifact's; returns the algorithm and digest for digest-mode verification. */
function bindMessageSignature(raw: Record<string, unknown>, artifact: Artifact, opts: VerifyBundleOptions): { alg: DigestAlgorithm; digest: Buffer } {
  if (opts.expectedPayloadType) fail('PAYLOAD_TYPE_INVALID', `expected a DSSE envelope of type ${opts.expectedPayloadType}, found a message signature`);
  const md = (raw.messageSignature as any)?.messageDigest;
  const alg = DIGEST_ALGORITHMS[md?.algorithm];
  if (!alg) fail('BUNDLE_INVALID', `unsupported message digest algorithm ${JSON.stringify(md?.algorithm ?? null)}`);
  const bundleDigest = strictBase64(md.digest)!;
  const mine = artifactDigest(artifact, alg);
  if (mine === null) fail('SUBJECT_MISMATCH', `the bundle signs a ${alg} digest but only the artifact's ${artifact.kind === 'digest' ? artifact.algorithm : ''} digest is known`);
  if (!bufferEqual(mine, bundleDigest)) {
    fail('SUBJECT_MISMATCH', `the bundle's message digest ${alg}:${bundleDigest.toString('hex')} is not the artifact's (${describeArtifact(artifact)})`);
  }
  return { alg, digest: mine };
}

/** The DSSE payload type must be the expected one and its in-toto subject must name the artifact. */
function bindDsse(envelope: { payloadType: string; payload: Buffer }, artifact: Artifact, opts: VerifyBundleOptions): void {
  const expected = opts.expectedPayloadType ?? IN_TOTO_PAYLOAD_TYPE;
  if (envelope.payloadType !== expected) {
    fail('PAYLOAD_TYPE_INVALID', `DSSE payload type ${JSON.stringify(envelope.payloadType)} is not ${expected}`);
  }
  if (expected !== IN_TOTO_PAYLOAD_TYPE) {
    // Not an attestation: the artifact is the payload itself.
    const mine = artifactDigest(artifact, artifact.kind === 'digest' ? artifact.algorithm : 'sha256');
    if (!mine || !bufferEqual(mine, digestOf(envelope.payload, artifact.kind === 'digest' ? artifact.algorithm : 'sha256'))) {
      fail('SUBJECT_MISMATCH', 'the DSSE payload is not the artifact');
    }
    return;
  }
  let statement: any;
  try {
    statement = JSON.parse(envelope.payload.toString('utf8'));
  } catch {
    fail('BUNDLE_INVALID', 'the in-toto payload is not JSON');
  }
  if (!IN_TOTO_STATEMENT_TYPES.has(statement?._type)) fail('BUNDLE_INVALID', `the payload is not an in-toto statement (_type ${JSON.stringify(statement?._type ?? null)})`);
  const subjects: unknown = statement.subject;
  if (!Array.isArray(subjects) || subjects.length === 0) fail('SUBJECT_MISMATCH', 'the in-toto statement has no subject');
  const matches = subjects.some((s: any) => {
    const digests = s?.digest;
    if (typeof digests !== 'object' || digests === null) return false;
    return (['sha256', 'sha384', 'sha512'] as const).some((alg) => {
      const v = digests[alg];
      if (typeof v !== 'string' || !/^[0-9a-fA-F]+$/.test(v)) return false;
      const mine = artifactDigest(artifact, alg);
      return mine !== null && mine.toString('hex') === v.toLowerCase();
    });
  });
  if (!matches) fail('SUBJECT_MISMATCH', `no in-toto subject has the artifact's digest ${describeArtifact(artifact)}`);
}

interface PreparedEntries {
  entries: TransparencyLogEntry[];
  /** Index of entries that fell back from a checkpoint-less proof to their SET. */
  fellBack: Set<number>;
  /** Index of entries whose inclusion proof and checkpoint vouch verified itself (handed to the library with their SET only). */
  provenHere: Set<number>;
  dsseOverHashedRekordV2: boolean;
}

function prepareTlogEntries(bundle: Bundle, version: 1 | 2 | 3, root: TrustedRoot): PreparedEntries {
  const fellBack = new Set<number>();
  const provenHere = new Set<number>();
  let dsseOverHashedRekordV2 = false;
  const envelope = bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope : undefined;
  const seen = new Set<string>();
  const entries = (bundle.verificationMaterial.tlogEntries as TransparencyLogEntry[]).map((entry, i): TransparencyLogEntry => {
    // Thresholds count distinct entries: the library counts a repeated entry twice.
    const id = `${entry.logId.keyId.toString('hex')}:${entry.logIndex}`;
    if (seen.has(id)) fail('TLOG_INVALID', `tlog entry ${i} repeats entry ${entry.logIndex} of the same log`);
    seen.add(id);
    const log = findTlog(root, entry.logId.keyId);
    if (!log) fail('TLOG_INVALID', `tlog entry ${i} comes from log ${entry.logId.keyId.toString('base64')}, which is not in the trusted root`);
    let out = entry;
    const proof = entry.inclusionProof;
    // Without a SET only the inclusion proof vouches for the entry's index (Rekor v2 writes both the same): the index reported must be the proven one.
    if (proof && !entry.inclusionPromise && BigInt(entry.logIndex) !== BigInt(proof.logIndex)) {
      fail('TLOG_INVALID', `tlog entry ${i}: logIndex ${entry.logIndex} is not the index ${proof.logIndex} its inclusion proof proves, and no signed entry timestamp signs it`);
    }
    if (proof) {
      const envelopeText = proof.checkpoint?.envelope;
      if (!envelopeText) {
        if (version !== 1 || !entry.inclusionPromise) fail('TLOG_INVALID', `tlog entry ${i}: inclusion proof without a checkpoint`);
        // v0.1: the proof cannot be tied to a signed tree head; it must at least
        // be self-consistent, and inclusion rests on the SET.
        const root = rootFromInclusionProof(entry.canonicalizedBody, BigInt(proof.logIndex), BigInt(proof.treeSize), proof.hashes);
        if (!root || !bufferEqual(root, proof.rootHash)) fail('TLOG_INVALID', `tlog entry ${i}: the inclusion proof does not lead to its root hash`);
        const { inclusionProof: _dropped, ...rest } = entry;
        out = rest as TransparencyLogEntry;
        fellBack.add(i);
      } else {
        const cp = parseCheckpoint(envelopeText);
        verifyCheckpointFor(cp, log, { treeSize: BigInt(proof.treeSize), rootHash: proof.rootHash });
        // A Rekor v1 log names itself in its checkpoints (a private deployment's Rekor: its pod's host
        // name). sigstore-go accepts that name; @sigstore/verify wants it inside the base URL and refuses
        // the checkpoint. Verified above (log key, name, size, root hash); the proof is checked here, and
        // the library is then given the entry without it, to check the SET (which such entries carry).
        const v1Name = /^(.+) - \d+$/.exec(cp.origin)?.[1];
        if (v1Name !== undefined && v1Name !== log.hostname) {
          if (!entry.inclusionPromise) fail('TLOG_INVALID', `tlog entry ${i}: a checkpoint named ${JSON.stringify(v1Name)} needs the entry's signed entry timestamp too`);
          const root = rootFromInclusionProof(entry.canonicalizedBody, BigInt(proof.logIndex), BigInt(proof.treeSize), proof.hashes);
          if (!root || !bufferEqual(root, proof.rootHash)) fail('TLOG_INVALID', `tlog entry ${i}: the inclusion proof does not lead to its root hash`);
          const { inclusionProof: _proven, ...rest } = entry;
          out = rest as TransparencyLogEntry;
          provenHere.add(i);
        }
      }
    }
    if (envelope && entry.kindVersion.kind === 'hashedrekord' && entry.kindVersion.version === '0.0.2') {
      checkHashedRekordV2OverDsse(entry.canonicalizedBody, { payloadType: envelope.payloadType, payload: envelope.payload, signature: envelope.signatures[0]!.sig });
      dsseOverHashedRekordV2 = true;
    }
    return out;
  });
  return { entries, fellBack, provenHere, dsseOverHashedRekordV2 };
}

type SignatureContent = SignedEntity['signature'];

function signedEntity(
  bundle: Bundle,
  prepared: PreparedEntries,
  artifact: Artifact,
  message: { alg: DigestAlgorithm; digest: Buffer } | null,
  unsupported: { error?: string },
): SignedEntity {
  const patched: Bundle = { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: prepared.entries } } as Bundle;
  const entity = toSignedEntity(patched, artifact.kind === 'bytes' ? Buffer.from(artifact.bytes) : undefined);
  if (bundle.content.$case === 'messageSignature' && artifact.kind === 'digest' && message) {
    const sig = bundle.content.messageSignature.signature;
    const bundleDigest = bundle.content.messageSignature.messageDigest!.digest;
    const content: SignatureContent = {
      signature: sig,
      compareSignature: (s) => bufferEqual(s, sig),
      compareDigest: (d) => bufferEqual(d, bundleDigest),
      verifySignature: (key) => {
        try {
          return verifyPrehashed(key, message.alg, message.digest, sig);
        } catch (e) {
          if (e instanceof UnsupportedPrehashError) {
            unsupported.error = e.message;
            return false;
          }
          throw e;
        }
      },
    };
    return { ...entity, signature: content };
  }
  if (bundle.content.$case === 'messageSignature' && artifact.kind === 'bytes') {
    // The library verifies with the digest algorithm as the signature hash,
    // which Ed25519 / Ed448 (pure, message-signing) keys refuse.
    const base = entity.signature;
    const message = Buffer.from(artifact.bytes);
    const sig = bundle.content.messageSignature.signature;
    const content: SignatureContent = {
      signature: base.signature,
      compareSignature: (s) => base.compareSignature(s),
      compareDigest: (d) => base.compareDigest(d),
      verifySignature: (key) => {
        const t = key.asymmetricKeyType;
        if (t !== 'ed25519' && t !== 'ed448') return base.verifySignature(key);
        try {
          return cryptoVerify(null, message, key, sig);
        } catch {
          return false;
        }
      },
    };
    return { ...entity, signature: content };
  }
  if (bundle.content.$case === 'dsseEnvelope' && prepared.dsseOverHashedRekordV2) {
    // The hashedrekord/0.0.2 bodies were checked exactly (sha256 of the PAE) in
    // prepareTlogEntries; let the library's payload-hash comparison accept that digest too.
    const base = entity.signature;
    const env = bundle.content.dsseEnvelope;
    const paeDigest = createHash('sha256').update(dsse.preAuthEncoding(env.payloadType, env.payload)).digest();
    const content: SignatureContent = {
      signature: base.signature,
      compareSignature: (s) => base.compareSignature(s),
      compareDigest: (d) => base.compareDigest(d) || bufferEqual(d, paeDigest),
      verifySignature: (key) => base.verifySignature(key),
    };
    return { ...entity, signature: content };
  }
  return entity;
}

function run(input: unknown, artifact: Artifact, policy: NormalizedPolicy, root: TrustedRoot, opts: VerifyBundleOptions): VerificationResult {
  if (artifact.kind === 'digest' && !/^[0-9a-fA-F]+$/.test(artifact.hex)) fail('SUBJECT_MISMATCH', 'the artifact digest is not hex');
  const raw = parseInput(input);
  const { bundle, version } = parseBundle(raw);
  const material = bundle.verificationMaterial.content;

  // Who may have signed: keys for public-key bundles, identities for certificates.
  const isKeyBundle = material.$case === 'publicKey';
  if (isKeyBundle && policy.kind === 'identities') fail('UNTRUSTED_SIGNER', 'the bundle is signed with a key, but only keyless identities are trusted');
  if (!isKeyBundle && policy.kind === 'keys') fail('KEY_MISMATCH', 'a key was given, but the bundle is signed with a certificate: with a key only public-key bundles verify');
  const candidateKeys = policy.kind === 'identities' ? [] : policy.keys;
  const identities = policy.kind === 'keys' ? [] : policy.identities;
  if (isKeyBundle && candidateKeys.length === 0) fail('UNTRUSTED_SIGNER', 'the bundle is signed with a key, and no key is trusted');
  if (!isKeyBundle && identities.length === 0) fail('UNTRUSTED_SIGNER', 'the bundle is signed with a certificate, and no keyless identity is trusted');

  if (material.$case === 'x509CertificateChain') {
    const certs = material.x509CertificateChain.certificates;
    for (const [i, c] of certs.entries()) {
      let cert: X509Certificate;
      try {
        cert = X509Certificate.parse(Buffer.from(c.rawBytes) as Buffer<ArrayBuffer>);
      } catch (e) {
        fail('BUNDLE_INVALID', `certificate ${i} of the bundle's chain is not X.509: ${(e as Error).message}`);
      }
      if (isSelfSigned(cert)) fail('CERT_CHAIN_INVALID', `the bundle's certificate chain contains a self-signed (root) certificate at position ${i}; roots come from the trusted root only`);
    }
  }

  // Bind the artifact.
  let message: { alg: DigestAlgorithm; digest: Buffer } | null = null;
  if (bundle.content.$case === 'messageSignature') message = bindMessageSignature(raw, artifact, opts);
  else bindDsse(bundle.content.dsseEnvelope, artifact, opts);

  const prepared = prepareTlogEntries(bundle, version, root);
  const unsupported: { error?: string } = {};
  let entity: SignedEntity;
  try {
    entity = signedEntity(bundle, prepared, artifact, message, unsupported);
  } catch (e) {
    const code = (e as { code?: string }).code;
    fail(code === 'TIMESTAMP_ERROR' || /timestamp/i.test(String((e as Error).message)) ? 'TIMESTAMP_INVALID' : 'BUNDLE_INVALID', `bundle could not be read: ${errorLine(e)}`);
  }
  if (entity.key.$case === 'certificate') memoizeCertificate(entity.key.certificate);
  const thresholds = {
    tlogThreshold: opts.tlogThreshold ?? 1,
    ctlogThreshold: opts.ctlogThreshold ?? 1,
    timestampThreshold: opts.timestampThreshold ?? 1,
  };

  let signer: SignerIdentity;
  if (isKeyBundle) {
    signer = verifyWithKeys(entity, bundle, candidateKeys, root.trustMaterial, thresholds, unsupported);
  } else {
    signer = verifyWithCertificate(entity, identities, root.trustMaterial, thresholds, unsupported);
  }

  const first = prepared.entries[0];
  const tlog = first ? { ...tlogEvidence(first), ...(prepared.fellBack.has(0) ? { proof: 'signed-entry-timestamp' as const } : prepared.provenHere.has(0) ? { proof: 'inclusion-proof' as const } : {}) } : null;
  // As the library: a log entry's integratedTime is a time only when its SET signs it.
  const times = entity.timestamps.flatMap((t) => (t.$case === 'transparency-log' ? (t.tlogEntry.inclusionPromise ? [new Date(Number(t.tlogEntry.integratedTime) * 1000)] : []) : [t.timestamp.signingTime]));
  const signedAt = times.length ? new Date(minOf(times.map((d) => d.getTime()))).toISOString() : null;
  const who = signer.type === 'key' ? `key ${signer.keyId}` : `${signer.subject} (issuer ${signer.issuer})`;
  return {
    verified: true,
    reason: 'OK',
    message: sanitize(`verified: signed by ${who}, trusted as ${signer.trustedAs}${tlog ? `, logged at index ${tlog.logIndex}` : ''}`),
    signer,
    tlog,
    signedAt,
  };
}

type Thresholds = { tlogThreshold: number; ctlogThreshold: number; timestampThreshold: number };

function libraryVerify(entity: SignedEntity, material: TrustMaterial, thresholds: Thresholds, unsupported: { error?: string }) {
  try {
    return new Verifier(material, thresholds).verify(entity);
  } catch (e) {
    if (unsupported.error) throw new CheckFailed('SIGNATURE_INVALID', unsupported.error);
    const f = reasonFromLibraryError(e);
    throw new CheckFailed(f.reason, f.message);
  }
}

function hintNames(hint: string, keyId: string): boolean {
  if (!hint) return false;
  if (hint.toLowerCase() === keyId) return true;
  const b = strictBase64(hint);
  return b !== null && b.toString('hex') === keyId;
}

function verifyWithKeys(
  entity: SignedEntity,
  bundle: Bundle,
  keys: Keys['keys'],
  base: TrustMaterial,
  thresholds: Thresholds,
  unsupported: { error?: string },
): SignerIdentity {
  const hint = bundle.verificationMaterial.content.$case === 'publicKey' ? bundle.verificationMaterial.content.publicKey.hint : '';
  // The key the hint names first, then the others.
  const ordered = [...keys].sort((a, b) => Number(hintNames(hint, b.keyId)) - Number(hintNames(hint, a.keyId)));
  let failure: TrustFailure | null = null;
  for (const k of ordered) {
    const material: TrustMaterial = { ...base, publicKey: () => ({ publicKey: k.key, validFor: () => true }) };
    // A key signer that allows unlogged signatures: whatever log entries and timestamps the bundle has are still verified, none is required.
    const needed = k.tlogOptional && entity.tlogEntries.length === 0 && entity.timestamps.length === 0 ? { ...thresholds, tlogThreshold: 0, timestampThreshold: 0 } : thresholds;
    try {
      libraryVerify(entity, material, needed, unsupported);
      return { type: 'key', keyId: k.keyId, trustedAs: k.name };
    } catch (e) {
      if (!(e instanceof CheckFailed)) throw e;
      failure = { reason: e.reason, message: e.message };
      if (e.reason !== 'SIGNATURE_INVALID') break; // not about which key: the same for every key
    }
  }
  if (failure && failure.reason === 'SIGNATURE_INVALID' && !keys.some((k) => hintNames(hint, k.keyId)) && !unsupported.error) {
    fail('UNTRUSTED_SIGNER', `the signature does not verify under any trusted key (${keys.map((k) => k.name).join(', ')})`);
  }
  fail(failure!.reason, failure!.message);
}

function verifyWithCertificate(
  entity: SignedEntity,
  identities: Identities['identities'],
  material: TrustMaterial,
  thresholds: Thresholds,
  unsupported: { error?: string },
): SignerIdentity {
  libraryVerify(entity, material, thresholds, unsupported);
  if (entity.key.$case !== 'certificate') fail('BUNDLE_INVALID', 'expected a certificate');
  const leaf = entity.key.certificate;
  const conflict = issuerConflict(leaf);
  if (conflict) fail('CERT_ISSUER_CONFLICT', conflict);
  const extensions = fulcioExtensions(leaf);
  const subject = certificateSubject(leaf);
  const issuer = extensions.issuer;
  const byIdentity = identities.filter(
    (i) => issuer === i.issuer && subject !== undefined && (i.subject !== undefined ? subject === i.subject : wholeMatch(i.pattern!, subject)),
  );
  const match = byIdentity.find((i) => extensionMismatch(i.extensions, extensions) === undefined);
  if (!match) {
    const why = byIdentity[0] ? `: it matches signer ${byIdentity[0].name} by identity, but the certificate's ${extensionMismatch(byIdentity[0].extensions, extensions)}` : '';
    fail('UNTRUSTED_SIGNER', `certificate identity ${subject ?? '(none)'} with issuer ${issuer ?? '(none)'} matches no trusted signer${why}`);
  }
  return { type: 'keyless', subject, issuer, trustedAs: match.name, extensions };
}
