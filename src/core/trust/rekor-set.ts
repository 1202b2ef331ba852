/**
 * cosign's legacy transparency-log evidence: the `dev.sigstore.cosign/bundle`
 * annotation (a Rekor entry with its signed entry timestamp, SET). The SET is
 * verified by tlog.ts's verifyRekorSet against the trusted root; here the
 * annotation is read, and the entry's body compared with what was signed (a
 * valid SET for another artifact proves nothing about this one).
 */
import { createHash } from 'node:crypto';
import { canonicalBase64 } from './encoding.js';
import type { PublicKeyInfo } from './prehash.js';
import { verifyRekorSet, type RekorSet } from './tlog.js';
import type { TrustedRoot } from './trusted-root.js';
import type { TlogEvidence } from './types.js';

export type SetOutcome = { ok: true; evidence: TlogEvidence; integratedTime: number; body: any } | { ok: false; message: string };

/** The annotation as tlog.ts's RekorSet; a sentence when it is not even shaped like one. */
export function parseRekorAnnotation(text: string): RekorSet | string {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'the Rekor bundle annotation is not JSON';
  }
  const p = doc?.Payload;
  if (typeof doc?.SignedEntryTimestamp !== 'string' || typeof p !== 'object' || p === null) return 'the Rekor bundle has no SignedEntryTimestamp or Payload';
  return { signedEntryTimestamp: doc.SignedEntryTimestamp, payload: { body: p.body, integratedTime: p.integratedTime, logIndex: p.logIndex, logID: p.logID } };
}

/** Verify the annotation's SET against the trusted root; the evidence and the logged body when it holds. */
export function verifyRekorAnnotation(text: string, root: TrustedRoot): SetOutcome {
  const set = parseRekorAnnotation(text);
  if (typeof set === 'string') return { ok: false, message: set };
  const v = verifyRekorSet(set, root);
  if (v !== true) return { ok: false, message: v.message };
  let body: any;
  try {
    body = JSON.parse(canonicalBase64(set.payload.body)!.toString('utf8'));
  } catch {
    return { ok: false, message: 'the Rekor entry body is not JSON' };
  }
  const integratedTime = Number(set.payload.integratedTime);
  return {
    ok: true,
    body,
    integratedTime,
    evidence: { logIndex: Number(set.payload.logIndex), integratedTime: new Date(integratedTime * 1000).toISOString(), logId: set.payload.logID.toLowerCase(), proof: 'signed-entry-timestamp' },
  };
}

const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The public key or certificate logged in a body, as PEM text (decoded from base64). */
function loggedKey(b64: unknown): string | undefined {
  const b = canonicalBase64(b64);
  return b ? b.toString('utf8') : undefined;
}

/** A logged key or certificate: base64 of PEM, sometimes base64 twice (intoto 0.0.2). */
function loggedPemText(b64: unknown): string | undefined {
  const once = loggedKey(b64);
  if (once === undefined || /-----BEGIN /.test(once)) return once;
  return loggedKey(once.trim()) ?? once;
}

function samePem(logged: string | undefined, expected: { pem?: string; key: PublicKeyInfo }): boolean {
  if (!logged) return false;
  if (expected.pem && logged.trim() === expected.pem.trim()) return true;
  // A certificate or key written with other line breaks: compare the DER inside.
  const der = (pem: string): string => pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '');
  if (expected.pem && der(logged) === der(expected.pem)) return true;
  try {
    return der(logged) === expected.key.der.toString('base64');
  } catch {
    return false;
  }
}

/**
 * Does the logged entry describe this signature? hashedrekord / rekord: the
 * artifact hash, the signature and the key; intoto / dsse: the payload hash and
 * the signature. Returns a sentence when not.
 */
export function bodyMatches(
  body: any,
  signed: { payload: Uint8Array; signature: Uint8Array; signer: { pem?: string; key: PublicKeyInfo }; dsse?: boolean },
): string | undefined {
  const kind = body?.kind;
  const spec = body?.spec;
  const sigB64 = Buffer.from(signed.signature).toString('base64');
  if (kind === 'hashedrekord' || kind === 'rekord') {
    const hash = kind === 'hashedrekord' ? spec?.data?.hash : spec?.data?.hash ?? undefined;
    const content = kind === 'rekord' ? canonicalBase64(spec?.data?.content) : undefined;
    const artifactOk = content ? Buffer.compare(content, Buffer.from(signed.payload)) === 0 : hash?.algorithm === 'sha256' && hash?.value === sha256hex(signed.payload);
    if (!artifactOk) return `the Rekor entry is for another artifact (logged hash ${String(hash?.value ?? '?').slice(0, 16)}…)`;
    if (spec?.signature?.content !== sigB64) return 'the Rekor entry logs another signature';
    if (!samePem(loggedKey(spec?.signature?.publicKey?.content), signed.signer)) return 'the Rekor entry logs another key or certificate';
    return undefined;
  }
  if (kind === 'intoto' || kind === 'dsse') {
    const payloadHash = kind === 'intoto' ? spec?.content?.payloadHash : spec?.payloadHash;
    if (payloadHash?.algorithm !== 'sha256' || payloadHash?.value !== sha256hex(signed.payload)) return 'the Rekor entry is for another attestation payload';
    // Each logged signature with the key or certificate it is logged under (dsse: verifier; intoto 0.0.2: publicKey; 0.0.1: spec.publicKey).
    const logged: Array<{ sigs: unknown[]; key: unknown }> =
      kind === 'dsse'
        ? (Array.isArray(spec?.signatures) ? spec.signatures : []).map((s: any) => ({ sigs: [s?.signature], key: s?.verifier }))
        : (Array.isArray(spec?.content?.envelope?.signatures) ? spec.content.envelope.signatures : []).map((s: any) => {
            const inner = canonicalBase64(s?.sig);
            return { sigs: [s?.sig, inner?.toString('utf8')], key: s?.publicKey ?? spec?.publicKey }; // intoto 0.0.2 may double-encode
          });
    const same = logged.filter((l) => l.sigs.includes(sigB64));
    if (same.length === 0) return 'the Rekor entry logs another signature';
    // The same signature bytes logged under another key or certificate describe another signer's claim.
    if (!same.some((l) => samePem(loggedPemText(l.key), signed.signer))) return 'the Rekor entry logs another key or certificate';
    return undefined;
  }
  return `the Rekor entry kind ${JSON.stringify(String(kind)).slice(0, 40)} cannot be checked against this signature`;
}
