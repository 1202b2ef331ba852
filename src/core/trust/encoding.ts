/**
 * Strict decoders for the encodings Sigstore JSON uses. Node's Buffer.from(s,
 * 'base64') skips characters it does not know, so "INVALID!!!BASE64" decodes
 * to something; these decoders refuse instead.
 */

const STD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes base64 as protobuf-JSON allows it (standard or URL-safe alphabet,
 * padded or not, line breaks skipped as Go does) and nothing more: no other
 * whitespace, no stray characters, no
 * impossible lengths, no non-zero trailing bits. Returns null when invalid.
 */
export function strictBase64(s: string): Buffer | null {
  if (typeof s !== 'string') return null;
  // Line breaks are skipped, as Go's encoding/base64 (and so protojson, sigstore-go, cosign) skips them.
  let body = s.includes('\n') || s.includes('\r') ? s.replace(/\r?\n/g, '') : s;
  const pad = /=+$/.exec(body)?.[0].length ?? 0;
  if (pad > 2) return null;
  body = body.slice(0, body.length - pad);
  if (pad > 0 && (body.length + pad) % 4 !== 0) return null;
  const std = STD.test(body);
  const url = URL_SAFE.test(body);
  if (!std && !url) return null;
  if (body.length % 4 === 1) return null;
  const buf = Buffer.from(body, std ? 'base64' : 'base64url');
  // Canonical: re-encoding gives the same characters (rejects non-zero trailing bits).
  const again = buf.toString(std ? 'base64' : 'base64url').replace(/=+$/, '');
  if (again !== body) return null;
  return buf;
}

/**
 * Canonical standard base64 only, as Go's base64.StdEncoding writes it (cosign's
 * annotations, Rekor's SET payloads, DSSE envelopes): padding required, no
 * whitespace, no URL alphabet, no non-zero trailing bits. Undefined when not.
 */
export function canonicalBase64(s: unknown): Buffer<ArrayBuffer> | undefined {
  if (typeof s !== 'string') return undefined;
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

/** Like strictBase64, but throws `what: invalid base64` for callers that treat it as malformed input. */
export function mustBase64(s: unknown, what: string, onError: (msg: string) => never): Buffer {
  if (typeof s !== 'string') return onError(`${what}: expected a base64 string`);
  const b = strictBase64(s);
  if (b === null) return onError(`${what}: invalid base64`);
  return b;
}

export function isHex(s: string, bytes?: number): boolean {
  return /^[0-9a-fA-F]*$/.test(s) && s.length % 2 === 0 && (bytes === undefined || s.length === bytes * 2);
}

/** A non-negative decimal integer as protobuf-JSON writes int64 (string) or number; null when not one. */
export function nonNegativeInt(v: unknown): bigint | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : null;
  if (typeof v === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(v)) {
    const n = BigInt(v);
    return n <= 0x7fffffffffffffffn ? n : null;
  }
  return null;
}

/** RFC 3339 timestamps as protobuf-JSON writes google.protobuf.Timestamp. */
export function parseRfc3339(v: unknown): Date | null {
  if (typeof v !== 'string') return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(v)) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}
