/**
 * cosign's legacy transparency-log evidence: the `dev.sigstore.cosign/bundle`
 * annotation (a Rekor entry with its signed entry timestamp, SET), verified
 * against a trusted Rekor key, and the entry's body compared with what was
 * signed (a valid SET for another artifact proves nothing about this one).
 */
import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';
import { decodeBase64Strict, verifyMessage, type PublicKeyInfo } from './keys.js';
import { withinWindow, type TrustAnchors } from './anchors.js';
import type { TlogEvidence } from './types.js';

export interface RekorBundle {
  set: Buffer;
  body: Buffer;
  bodyB64: string;
  integratedTime: number;
  logIndex: number;
  logId: string;
}

export type SetOutcome = { ok: true; evidence: TlogEvidence; entry: RekorBundle; body: any } | { ok: false; message: string };

/** Parse the annotation; undefined with a message when malformed. */
export function parseRekorBundle(text: string): RekorBundle | string {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'the Rekor bundle annotation is not JSON';
  }
  const set = decodeBase64Strict(doc?.SignedEntryTimestamp);
  const p = doc?.Payload;
  const body = decodeBase64Strict(p?.body);
  if (!set || !body) return 'the Rekor bundle has no valid SignedEntryTimestamp or body';
  if (!Number.isSafeInteger(p.integratedTime) || p.integratedTime < 0) return 'the Rekor bundle integratedTime is not a non-negative integer';
  if (!Number.isSafeInteger(p.logIndex) || p.logIndex < 0) return 'the Rekor bundle logIndex is not a non-negative integer';
  if (typeof p.logID !== 'string' || !/^[0-9a-f]{64}$/.test(p.logID)) return 'the Rekor bundle logID is not a hex sha256';
  return { set, body, bodyB64: p.body, integratedTime: p.integratedTime, logIndex: p.logIndex, logId: p.logID };
}

/** Verify the SET with the trusted log whose id it names, valid at the integrated time. */
export function verifySet(b: RekorBundle, anchors: TrustAnchors): SetOutcome {
  const log = anchors.tlogs.find((t) => t.logId === b.logId);
  if (!log) return { ok: false, message: `the Rekor entry is from log ${b.logId.slice(0, 16)}…, which ${anchors.source} does not trust` };
  const at = new Date(b.integratedTime * 1000);
  if (!withinWindow(log.validFor, at)) return { ok: false, message: `the Rekor log key was not valid at the entry's integrated time ${at.toISOString()}` };
  const canonical = json.canonicalize({ body: b.bodyB64, integratedTime: b.integratedTime, logID: b.logId, logIndex: b.logIndex });
  if (!verifyMessage(log.key, Buffer.from(canonical, 'utf8'), b.set)) return { ok: false, message: 'the signed entry timestamp does not verify under the trusted Rekor key' };
  let body: any;
  try {
    body = JSON.parse(b.body.toString('utf8'));
  } catch {
    return { ok: false, message: 'the Rekor entry body is not JSON' };
  }
  return {
    ok: true,
    entry: b,
    body,
    evidence: { logIndex: b.logIndex, integratedTime: at.toISOString(), logId: b.logId, proof: 'signed-entry-timestamp' },
  };
}

const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The public key or certificate logged in a body, as PEM text (decoded from base64). */
function loggedKey(b64: unknown): string | undefined {
  const b = decodeBase64Strict(b64);
  return b ? b.toString('utf8') : undefined;
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
    const content = kind === 'rekord' ? decodeBase64Strict(spec?.data?.content) : undefined;
    const artifactOk = content ? Buffer.compare(content, Buffer.from(signed.payload)) === 0 : hash?.algorithm === 'sha256' && hash?.value === sha256hex(signed.payload);
    if (!artifactOk) return `the Rekor entry is for another artifact (logged hash ${String(hash?.value ?? '?').slice(0, 16)}…)`;
    if (spec?.signature?.content !== sigB64) return 'the Rekor entry logs another signature';
    if (!samePem(loggedKey(spec?.signature?.publicKey?.content), signed.signer)) return 'the Rekor entry logs another key or certificate';
    return undefined;
  }
  if (kind === 'intoto' || kind === 'dsse') {
    const payloadHash = kind === 'intoto' ? spec?.content?.payloadHash : spec?.payloadHash;
    if (payloadHash?.algorithm !== 'sha256' || payloadHash?.value !== sha256hex(signed.payload)) return 'the Rekor entry is for another attestation payload';
    const sigs: unknown[] =
      kind === 'dsse'
        ? (spec?.signatures ?? []).map((s: any) => s?.signature)
        : (spec?.content?.envelope?.signatures ?? []).flatMap((s: any) => {
            const inner = decodeBase64Strict(s?.sig);
            return [s?.sig, inner?.toString('utf8')]; // intoto 0.0.2 may double-encode
          });
    if (!sigs.includes(sigB64)) return 'the Rekor entry logs another signature';
    return undefined;
  }
  return `the Rekor entry kind ${JSON.stringify(String(kind)).slice(0, 40)} cannot be checked against this signature`;
}
