/**
 * The contract between the trust modules: stable reason codes, the signer
 * identity we report, and the verification result shape. Verification code
 * never throws for a bad signature: it returns a result with a reason; it
 * throws VouchError only for unusable input (unreadable file, malformed trust file).
 */

export type ReasonCode =
  | 'OK'
  | 'NO_SIGNATURE'
  | 'SIGNATURE_INVALID'
  | 'UNTRUSTED_SIGNER'
  | 'SUBJECT_MISMATCH'
  | 'PAYLOAD_TYPE_INVALID'
  | 'BUNDLE_INVALID'
  | 'TLOG_INVALID'
  | 'TLOG_MISSING'
  | 'TIMESTAMP_INVALID'
  | 'CERT_CHAIN_INVALID'
  | 'CERT_EXPIRED_AT_SIGNING'
  | 'TRUSTED_ROOT_INVALID'
  | 'KEY_MISMATCH'
  /** A simple-signing payload's docker-reference is not the repository verified (signedIdentity). */
  | 'IDENTITY_MISMATCH'
  /** An index whose own signature is missing and one of whose platform manifests has no trusted signature. */
  | 'PLATFORM_UNSIGNED'
  /** A Fulcio certificate whose legacy (.1) and current (.8) issuer extensions disagree. */
  | 'CERT_ISSUER_CONFLICT'

  /** The certificate's signed certificate timestamps are missing or do not verify against the trusted root's CT logs. */
  | 'SCT_INVALID';

/** Fulcio certificate extensions (OIDs 1.3.6.1.4.1.57264.1.*), read out when present. */
export interface FulcioExtensions {
  issuer?: string;
  buildSignerUri?: string;
  runnerEnvironment?: string;
  sourceRepositoryUri?: string;
  sourceRepositoryDigest?: string;
  sourceRepositoryRef?: string;
  buildConfigUri?: string;
  buildTrigger?: string;
  runInvocationUri?: string;
  buildSignerDigest?: string;
  sourceRepositoryIdentifier?: string;
  sourceRepositoryOwnerUri?: string;
  sourceRepositoryOwnerIdentifier?: string;
  buildConfigDigest?: string;
  sourceRepositoryVisibilityAtSigning?: string;
  /** Legacy extensions (.1.2 - .1.6): workflow trigger, sha, name, repository, ref. */
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
}

export interface SignerIdentity {
  /** `ca`: a certificate from a trust-file `ca` (the organisation's own PKI, no log). */
  type: 'key' | 'keyless' | 'ca';
  /** Key fingerprint (sha256 of the SPKI DER, hex) for key signers. */
  keyId?: string;
  /** Certificate SAN (email or URI) for keyless signers. */
  subject?: string;
  issuer?: string;
  /** The trust file entry (`signers[].name`) that matched, or null when none did. */
  trustedAs: string | null;
  extensions?: FulcioExtensions;
}

export interface TlogEvidence {
  logIndex: number;
  /** ISO 8601; null for entries without an integrated time (e.g. Rekor v2). */
  integratedTime: string | null;
  /** hex log id */
  logId?: string;
  /** How inclusion was proven. */
  proof: 'inclusion-proof' | 'signed-entry-timestamp';
}

export interface VerificationResult {
  verified: boolean;
  reason: ReasonCode;
  /** One sentence; says what failed and why. Already free of control characters. */
  message: string;
  signer: SignerIdentity | null;
  tlog: TlogEvidence | null;
  /** When signing is proven to have happened (tlog integrated time or RFC 3161 timestamps). */
  signedAt?: string | null;
}

/** What the artifact is: its bytes, or only a digest (the conformance suite's `sha256:HEX` mode). */
export type Artifact = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'digest'; algorithm: 'sha256' | 'sha384' | 'sha512'; hex: string };

/** Who may sign, resolved from the trust file. */
export interface SignerPolicy {
  /** `tlog: 'optional'`: the trust file lets this key sign without a transparency-log entry. */
  keys: Array<{ name: string; publicKeyPem: string; tlog?: 'required' | 'optional' }>;
  /** `extensions`: trust-file extension names (trust-file.ts EXTENSION_FIELDS) → exact values. */
  identities: Array<{ name: string; issuer: string; subject?: string; subjectRegExp?: string; extensions?: Record<string, string> }>;
}
