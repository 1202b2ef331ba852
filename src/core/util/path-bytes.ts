/**
 * Paths as the bytes a tar holds. Linux file names are bytes, not text: two
 * names that are not valid UTF-8 (`tool\xff`, `tool\xfe`) must stay two paths.
 * A name is decoded as UTF-8 where its bytes are valid UTF-8, and every byte
 * that is not part of a valid sequence becomes the lone surrogate U+DC00+byte
 * (Python's "surrogateescape", PEP 383). Valid UTF-8 never decodes to a lone
 * surrogate, so the mapping is injective and reversible (`encodePathBytes`),
 * and the result is an ordinary string usable as a key everywhere (Map keys,
 * JSON in the cache: JSON.stringify writes lone surrogates as `\udcNN`).
 * Only display turns the escapes into `\xNN` (sanitize.ts).
 */
import { isUtf8 } from 'node:buffer';

/** Decodes bytes [start, end) of `b` as a path (see above). */
export function decodePathBytes(b: Buffer, start = 0, end = b.length): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return b.toString('latin1', start, end);
  if (isUtf8(b.subarray(start, end))) return b.toString('utf8', start, end);
  let out = '';
  let run = start;
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = utf8SequenceLength(b, i, end);
    if (n > 0) {
      i += n;
      continue;
    }
    out += b.toString('utf8', run, i) + String.fromCharCode(0xdc00 + c);
    i++;
    run = i;
  }
  return out + b.toString('utf8', run, end);
}

/** The bytes a decoded path stands for (inverse of decodePathBytes). */
export function encodePathBytes(s: string): Buffer {
  if (!/[\udc80-\udcff]/u.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([cp - 0xdc00]));
      run = '';
    } else run += ch;
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** Length of the well-formed UTF-8 sequence starting at b[i] (Unicode table 3-7), or 0. */
function utf8SequenceLength(b: Buffer, i: number, end: number): number {
  const c = b[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < end && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

const ESCAPED_BYTE = /[\udc80-\udcff]/gu;

/** For display: each byte that was not UTF-8 as `\xNN`. */
export function escapePathBytes(s: string): string {
  return s.replace(ESCAPED_BYTE, (ch) => `\\x${(ch.charCodeAt(0) - 0xdc00).toString(16).padStart(2, '0')}`);
}

const HAS_ESCAPED_BYTE = /[\udc80-\udcff]/u;

/**
 * JSON.stringify replacer giving every command's JSON one injective, valid
 * (no lone surrogates) form for names that are not UTF-8: a string property
 * `k` holding such a name is written as its display text (`tool\xff`) and a
 * sibling `kBytes` holds the original bytes in base64. The text alone is not
 * injective (a file may be literally named `tool\xff`), the pair is: a string
 * without a `…Bytes` sibling is exact. Lone surrogates written as `\udcff` would
 * be turned into U+FFFD by jq (two files becoming one) and refused by strict
 * parsers. Strings outside an object property (array items) get the text only.
 */
export function pathBytesJson(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return HAS_ESCAPED_BYTE.test(value) ? escapePathBytes(value) : value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' || !HAS_ESCAPED_BYTE.test(v)) continue;
    out ??= { ...(value as Record<string, unknown>) };
    out[k] = escapePathBytes(v);
    out[`${k}Bytes`] = encodePathBytes(v).toString('base64');
  }
  return out ?? value;
}

/**
 * For documents with a fixed schema (CycloneDX, SPDX) where no `…Bytes` field
 * may be added: names that are not UTF-8 as display text only (valid JSON,
 * not injective; the README says so).
 */
export function pathTextJson(_key: string, value: unknown): unknown {
  return typeof value === 'string' && HAS_ESCAPED_BYTE.test(value) ? escapePathBytes(value) : value;
}
