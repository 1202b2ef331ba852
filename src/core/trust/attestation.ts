/**
 * in-toto attestations in DSSE envelopes, as cosign attaches them (`.att`
 * layers of media type application/vnd.dsse.envelope.v1+json) or as the
 * payload of a verified Sigstore bundle. Checks the library leaves to us: the
 * payload type must be in-toto, the statement must be v0.1 or v1, and one of
 * its subjects must be this image's digest.
 */
import { createHash } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { sanitizeLine } from '../util/sanitize.js';
import { CosignAnnotation, CosignMediaType, type AttachedLayer } from './attachments.js';
import { failed, verifyCosignSigner, type CosignVerifyContext } from './cosign-signer.js';
import { canonicalBase64 } from './encoding.js';
import { parseJsonBytes } from '../oci/manifest.js';
import type { VerificationResult } from './types.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPES = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'];

export interface InTotoStatement {
  _type: string;
  subject: Array<{ name?: string; digest: Record<string, string> }>;
  predicateType: string;
  predicate: unknown;
}

export interface AttestationCheck extends VerificationResult {
  predicateType: string | null;
  /** sha256 of the attestation document (the DSSE envelope layer or the bundle). */
  digest: string;
  statement?: InTotoStatement;
}

/** Statements are read whole (they may carry an SBOM); the bytes are already bounded by whoever read them. */
const MAX_STATEMENT_BYTES = 512 << 20;

export function parseStatement(payload: Uint8Array): InTotoStatement | string {
  let doc: any;
  try {
    // Strict as the simple-signing payload: duplicate keys are refused (which subject or predicate was signed?).
    doc = parseJsonBytes(payload, 'the attestation payload', 'INVALID_BUNDLE', MAX_STATEMENT_BYTES);
  } catch (e) {
    return e instanceof Error ? sanitizeLine(e.message) : 'the attestation payload is not JSON';
  }
  // Go's decoder matches keys case-insensitively: a `Subject` we would skip could be the one another verifier reads.
  const variant =
    caseVariant(doc, ['_type', 'subject', 'predicateType', 'predicate']) ??
    (Array.isArray(doc?.subject) ? doc.subject.map((s: unknown) => caseVariant(s, ['name', 'digest'])).find((k: string | undefined) => k !== undefined) : undefined);
  if (variant) return `the in-toto statement has the key ${JSON.stringify(variant).slice(0, 60)}, a case variant of a field verifiers read`;
  if (!STATEMENT_TYPES.includes(doc?._type)) return `the attestation is not an in-toto Statement v0.1 or v1 (_type ${JSON.stringify(scalarText(doc?._type)).slice(0, 60)})`;
  if (!Array.isArray(doc.subject) || doc.subject.length === 0) return 'the in-toto statement has no subject';
  for (const s of doc.subject) if (typeof s?.digest !== 'object' || s.digest === null) return 'an in-toto subject has no digest';
  if (typeof doc.predicateType !== 'string' || doc.predicateType.length === 0) return 'the in-toto statement has no predicateType';
  return doc as InTotoStatement;
}

/** A value as short text; a list or object is named, not stringified (String() of a list nested thousands deep overflows the stack). */
export function scalarText(v: unknown): string {
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? '[list]' : '{object}';
  return String(v);
}

/** A key of `obj` equal to one of `fields` ignoring case, but not exactly. */
function caseVariant(obj: unknown, fields: string[]): string | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  return Object.keys(obj).find((k) => fields.some((f) => k !== f && k.toLowerCase() === f.toLowerCase()));
}

/** Does any subject name one of `digests` ("sha256:hex")? */
export function statementCovers(st: InTotoStatement, digests: ReadonlySet<string>): boolean {
  return st.subject.some((s) => Object.entries(s.digest).some(([alg, hex]) => typeof hex === 'string' && digests.has(`${alg}:${hex.toLowerCase()}`)));
}

export function parseEnvelope(bytes: Uint8Array): { payloadType: string; payload: Buffer; signatures: Buffer[] } | string {
  let env: any;
  try {
    env = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return 'the DSSE envelope is not JSON';
  }
  if (typeof env?.payloadType !== 'string') return 'the DSSE envelope has no payloadType';
  const payload = canonicalBase64(env.payload);
  if (!payload) return 'the DSSE payload is not strict base64';
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) return 'the DSSE envelope has no signatures';
  const signatures = env.signatures.map((s: any) => canonicalBase64(s?.sig)).filter((b: Buffer | undefined): b is Buffer => b !== undefined && b.length > 0);
  if (signatures.length === 0) return 'the DSSE signatures are not strict base64';
  return { payloadType: env.payloadType, payload, signatures };
}

export function verifyDsseAttestation(layer: AttachedLayer, ctx: CosignVerifyContext): AttestationCheck {
  const bytes = layer.bytes ?? Buffer.alloc(0);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const declaredType = layer.annotations[CosignAnnotation.PredicateType] ?? null;
  const base = { predicateType: declaredType, digest };
  if (layer.mediaType !== CosignMediaType.Dsse) return { ...failed('PAYLOAD_TYPE_INVALID', `not a DSSE envelope: layer media type ${JSON.stringify(layer.mediaType).slice(0, 80)}`), ...base };
  const env = parseEnvelope(bytes);
  if (typeof env === 'string') return { ...failed('BUNDLE_INVALID', env), ...base };
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) return { ...failed('PAYLOAD_TYPE_INVALID', `DSSE payload type ${JSON.stringify(sanitizeLine(env.payloadType)).slice(0, 80)} is not in-toto`), ...base };
  const pae = dsse.preAuthEncoding(env.payloadType, env.payload);
  let result: VerificationResult | undefined;
  for (const sig of env.signatures) {
    const r = verifyCosignSigner(pae, sig, layer.annotations, ctx, { payload: env.payload, dsse: true });
    if (r.verified || !result || result.reason === 'SIGNATURE_INVALID') result = r;
    if (r.verified) break;
  }
  const statement = parseStatement(env.payload);
  const predicateType = typeof statement === 'string' ? declaredType : statement.predicateType;
  if (!result!.verified) return { ...result!, predicateType, digest, ...(typeof statement === 'string' ? {} : { statement }) };
  if (typeof statement === 'string') return { ...failed('BUNDLE_INVALID', statement, result!.signer, result!.tlog), predicateType, digest };
  if (!statementCovers(statement, ctx.subjects)) {
    const named = statement.subject.map((s) => Object.entries(s.digest).map(([a, h]) => `${a}:${h}`).join(',')).join(' ');
    return { ...failed('SUBJECT_MISMATCH', `the attestation is about ${sanitizeLine(named).slice(0, 140)}, not this image`, result!.signer, result!.tlog), predicateType, digest, statement };
  }
  return { ...result!, predicateType, digest, statement };
}
