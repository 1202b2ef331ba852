/**
 * Transparency-log checks vouch owns on top of @sigstore/verify: strict
 * checkpoints (origin, size and root hash must be the inclusion proof's, the
 * log's own signature by exact key name), RFC 6962 inclusion arithmetic, Rekor
 * v2 hashedrekord-over-DSSE bodies, and signed entry timestamps (SETs) for
 * cosign's `dev.sigstore.cosign/bundle` annotation.
 */
import { createHash } from 'node:crypto';
import { dsse, json as sigjson } from '@sigstore/core';
import { isHex, nonNegativeInt, strictBase64 } from './encoding.js';
import { verifyMessage } from './prehash.js';
import { fail, type TrustFailure } from './reasons.js';
import { findTlog, inRange, type TransparencyLog, type TrustedRoot } from './trusted-root.js';
import type { TlogEvidence } from './types.js';

// ---------------------------------------------------------------- checkpoints

export interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Buffer;
  /** Extension lines of the note body (e.g. `Timestamp: …`). */
  extensions: string[];
  /** The signed text: the note body including its final newline. */
  note: string;
  signatures: Array<{ name: string; keyHint: Buffer; signature: Buffer }>;
}

/** Parses a C2SP signed note holding a tlog checkpoint; fails with TLOG_INVALID when malformed. */
export function parseCheckpoint(envelope: string): Checkpoint {
  const split = envelope.indexOf('\n\n');
  if (split < 0) fail('TLOG_INVALID', 'checkpoint: no blank line between the note and its signatures');
  const note = envelope.slice(0, split + 1);
  const sigText = envelope.slice(split + 2);
  const lines = note.slice(0, -1).split('\n');
  if (lines.length < 3) fail('TLOG_INVALID', 'checkpoint: needs an origin, a tree size and a root hash');
  const [origin, sizeLine, hashLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0 || /^\d+$/.test(origin)) fail('TLOG_INVALID', 'checkpoint: the first line is not an origin');
  const size = nonNegativeInt(sizeLine);
  if (size === null) fail('TLOG_INVALID', 'checkpoint: the second line is not a tree size');
  const rootHash = strictBase64(hashLine);
  if (rootHash === null || rootHash.length !== 32) fail('TLOG_INVALID', 'checkpoint: the third line is not a SHA-256 root hash');
  if (!sigText.endsWith('\n')) fail('TLOG_INVALID', 'checkpoint: signature lines must end with a newline');
  const signatures: Checkpoint['signatures'] = [];
  for (const line of sigText.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) fail('TLOG_INVALID', 'checkpoint: malformed signature line');
    const sig = strictBase64(m[2]!);
    if (sig === null || sig.length < 5) fail('TLOG_INVALID', 'checkpoint: malformed signature');
    signatures.push({ name: m[1]!, keyHint: sig.subarray(0, 4), signature: sig.subarray(4) });
  }
  if (signatures.length === 0) fail('TLOG_INVALID', 'checkpoint: no signatures');
  return { origin, size, rootHash, extensions, note, signatures };
}

/** The key name a Rekor v2 log signs its checkpoints with, and their origin: the host name of its base URL. */
export function checkpointKeyName(log: TransparencyLog): string {
  return new URL(log.baseUrl).hostname;
}

/** Rekor v1's signed tree head origin: `NAME - TREEID`. */
const V1_ORIGIN = /^(.+) - \d+$/;

/**
 * A checkpoint must be the log's own, signed by the log's key (key hint and
 * signature; witness cosignatures and unknown keys are ignored), and its tree
 * size and root hash must be those of the inclusion proof it comes with.
 * The origin, as sigstore-go and the conformance suite read it:
 * - Rekor v2 (`HOST`): the host name of the log's base URL, signed under that name;
 * - Rekor v1 (`NAME - TREEID`): NAME is the log's own name for itself (a private
 *   deployment's may be its pod's host name, not the base URL's), and the
 *   signature must be under that NAME. The trusted key, not the base URL,
 *   makes the checkpoint the log's.
 */
export function verifyCheckpointFor(
  cp: Checkpoint,
  log: TransparencyLog,
  proof: { treeSize: bigint; rootHash: Buffer },
): void {
  const v1 = V1_ORIGIN.exec(cp.origin);
  const name = v1 ? v1[1]! : checkpointKeyName(log);
  if (!v1 && cp.origin !== name) fail('TLOG_INVALID', `checkpoint origin "${cp.origin}" is not the log ${name}`);
  const hint = log.checkpointKeyId.subarray(0, 4);
  const data = Buffer.from(cp.note, 'utf8');
  const signed = cp.signatures.some((s) => s.name === name && s.keyHint.equals(hint) && verifyMessage(log.publicKey, data, s.signature));
  if (!signed) fail('TLOG_INVALID', `checkpoint is not signed by the log ${name}`);
  if (cp.size !== proof.treeSize) fail('TLOG_INVALID', `checkpoint tree size ${cp.size} is not the inclusion proof's ${proof.treeSize}`);
  if (!cp.rootHash.equals(proof.rootHash)) fail('TLOG_INVALID', "checkpoint root hash is not the inclusion proof's");
}

// ---------------------------------------------------------------- RFC 6962 inclusion

const leafHash = (leaf: Buffer) => createHash('sha256').update(Buffer.from([0])).update(leaf).digest();
const nodeHash = (l: Buffer, r: Buffer) => createHash('sha256').update(Buffer.from([1])).update(l).update(r).digest();

/** The root an inclusion proof implies for `leaf` at `index` in a tree of `size`; null when the proof has the wrong shape. */
export function rootFromInclusionProof(leaf: Buffer, index: bigint, size: bigint, hashes: Buffer[]): Buffer | null {
  if (index < 0n || index >= size) return null;
  const x = index ^ (size - 1n);
  const innerLen = x === 0n ? 0 : x.toString(2).length;
  let border = 0;
  for (let v = index >> BigInt(innerLen); v > 0n; v >>= 1n) if (v & 1n) border++;
  if (hashes.length !== innerLen + border) return null;
  let acc = leafHash(leaf);
  for (let i = 0; i < innerLen; i++) acc = (index >> BigInt(i)) & 1n ? nodeHash(hashes[i]!, acc) : nodeHash(acc, hashes[i]!);
  for (let i = innerLen; i < hashes.length; i++) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

// ---------------------------------------------------------------- bodies

/**
 * Rekor v2 logs a DSSE envelope as `hashedrekord/0.0.2` over sha256 of the DSSE
 * pre-authentication encoding (rekor-v2 spec §6.1.4). @sigstore/verify compares
 * with sha256 of the payload; this is the exact check.
 */
export function checkHashedRekordV2OverDsse(body: Buffer, envelope: { payloadType: string; payload: Buffer; signature: Buffer }): void {
  let parsed: any;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    fail('TLOG_INVALID', 'tlog entry body is not JSON');
  }
  const spec = parsed?.spec?.hashedRekordV002;
  if (parsed?.kind !== 'hashedrekord' || parsed?.apiVersion !== '0.0.2' || typeof spec !== 'object' || spec === null) {
    fail('TLOG_INVALID', 'tlog entry body is not a hashedrekord 0.0.2 entry');
  }
  const algorithm = spec.data?.algorithm;
  if (algorithm !== 'SHA2_256') fail('TLOG_INVALID', `hashedrekord over DSSE uses ${String(algorithm)}, expected SHA2_256`);
  const digest = typeof spec.data?.digest === 'string' ? strictBase64(spec.data.digest) : null;
  const pae = dsse.preAuthEncoding(envelope.payloadType, envelope.payload);
  if (!digest || !digest.equals(createHash('sha256').update(pae).digest())) {
    fail('TLOG_INVALID', 'tlog entry digest is not sha256 of the DSSE envelope (PAE): the log holds another envelope');
  }
  const sig = typeof spec.signature?.content === 'string' ? strictBase64(spec.signature.content) : null;
  if (!sig || !sig.equals(envelope.signature)) fail('TLOG_INVALID', "tlog entry signature is not the envelope's signature");
}

// ---------------------------------------------------------------- SETs

export interface RekorSet {
  /** base64 (as in cosign's annotation) or raw bytes */
  signedEntryTimestamp: string | Uint8Array;
  payload: { body: string; integratedTime: number | string; logIndex: number | string; logID: string };
}

/**
 * Verifies a Rekor signed entry timestamp: the log's signature over the
 * canonical JSON of {body, integratedTime, logIndex, logID}, by a log of the
 * trusted root whose key was valid at integratedTime. Returns `true`, or the
 * failure (TLOG_INVALID) with a sentence.
 */
export function verifyRekorSet(set: RekorSet, trustedRoot: TrustedRoot): true | TrustFailure {
  const p = set?.payload;
  if (!p || typeof p.body !== 'string' || strictBase64(p.body) === null) return { reason: 'TLOG_INVALID', message: 'SET payload body is not base64' };
  const integratedTime = nonNegativeInt(p.integratedTime);
  const logIndex = nonNegativeInt(p.logIndex);
  if (integratedTime === null) return { reason: 'TLOG_INVALID', message: 'SET integratedTime is not a non-negative integer' };
  if (logIndex === null) return { reason: 'TLOG_INVALID', message: 'SET logIndex is not a non-negative integer' };
  if (typeof p.logID !== 'string' || !isHex(p.logID, 32)) return { reason: 'TLOG_INVALID', message: 'SET logID is not a hex SHA-256 log id' };
  const sig = typeof set.signedEntryTimestamp === 'string' ? strictBase64(set.signedEntryTimestamp) : Buffer.from(set.signedEntryTimestamp ?? []);
  if (!sig || sig.length === 0) return { reason: 'TLOG_INVALID', message: 'signed entry timestamp is not base64' };
  const log = findTlog(trustedRoot, Buffer.from(p.logID, 'hex'));
  if (!log) return { reason: 'TLOG_INVALID', message: `log ${p.logID} is not in the trusted root` };
  const at = new Date(Number(integratedTime) * 1000);
  if (!inRange(log.validFor, at)) return { reason: 'TLOG_INVALID', message: `the log key of ${log.baseUrl} was not valid at ${at.toISOString()}` };
  const payload = { body: p.body, integratedTime: Number(integratedTime), logIndex: Number(logIndex), logID: p.logID.toLowerCase() };
  const data = Buffer.from(sigjson.canonicalize(payload), 'utf8');
  if (!verifyMessage(log.publicKey, data, sig)) return { reason: 'TLOG_INVALID', message: `signed entry timestamp does not verify under the key of ${log.baseUrl}` };
  return true;
}

/** Tlog evidence for results. */
export function tlogEvidence(entry: { logIndex: string; integratedTime: string; logId: { keyId: Buffer }; inclusionPromise?: unknown; inclusionProof?: { checkpoint?: { envelope?: string } } }): TlogEvidence {
  // Only a signed entry timestamp signs integratedTime; without one it is the bundle's unproven claim.
  const it = entry.inclusionPromise ? Number(entry.integratedTime) : 0;
  return {
    logIndex: Number(entry.logIndex),
    integratedTime: it > 0 ? new Date(it * 1000).toISOString() : null,
    logId: entry.logId.keyId.toString('hex'),
    proof: entry.inclusionProof?.checkpoint?.envelope ? 'inclusion-proof' : 'signed-entry-timestamp',
  };
}
