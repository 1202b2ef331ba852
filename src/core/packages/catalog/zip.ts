/**
 * A small, bounded zip reader over a buffer: the central directory (zip64
 * included), and one entry's bytes (stored: a view, no copy; deflated: via
 * node:zlib inflateRawSync into one buffer of the declared size, stopped there). Enough for jar/war/ear cataloguing;
 * hostile archives get an Error with a short message, never a hang or a
 * blow-up.
 */
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the local file header (already corrected for data prepended to the archive). */
  localOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const LOC64 = 0x07064b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;
const MAX32 = 0xffffffff;
export const MAX_ZIP_ENTRIES = 200_000;

function u64(b: Buffer, o: number): number {
  const v = b.readBigUInt64LE(o);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('zip64 field out of range');
  return Number(v);
}

/** The entries of the central directory. */
export function readZipDirectory(b: Buffer): ZipEntry[] {
  if (b.length < 22) throw new Error('too short to be a zip');
  let eocd = -1;
  for (let i = b.length - 22, stop = Math.max(0, b.length - 22 - 0xffff); i >= stop; i--) {
    if (b.readUInt32LE(i) === EOCD && i + 22 + b.readUInt16LE(i + 20) <= b.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('no end of central directory record');
  let total = b.readUInt16LE(eocd + 10);
  let cdSize = b.readUInt32LE(eocd + 12);
  let cdOffset = b.readUInt32LE(eocd + 16);
  let cdEnd = eocd;
  if (total === 0xffff || cdSize === MAX32 || cdOffset === MAX32) {
    const loc = eocd - 20;
    if (loc >= 0 && b.readUInt32LE(loc) === LOC64) {
      const at = u64(b, loc + 8);
      if (at + 56 > b.length || b.readUInt32LE(at) !== EOCD64) throw new Error('zip64 end of central directory missing');
      total = u64(b, at + 32);
      cdSize = u64(b, at + 40);
      cdOffset = u64(b, at + 48);
      cdEnd = at;
    }
  }
  if (total > MAX_ZIP_ENTRIES) throw new Error(`${total} entries exceed the limit of ${MAX_ZIP_ENTRIES}`);
  // Data prepended to the archive (launcher scripts, self-extracting stubs) shifts every offset.
  const shift = cdEnd - cdSize - cdOffset;
  if (cdSize > cdEnd || cdOffset + shift < 0) throw new Error('central directory out of bounds');
  const out: ZipEntry[] = [];
  let p = cdOffset + shift;
  for (let i = 0; i < total; i++) {
    if (p + 46 > b.length || b.readUInt32LE(p) !== CEN) throw new Error(`central directory entry ${i} malformed`);
    const method = b.readUInt16LE(p + 10);
    let compressedSize = b.readUInt32LE(p + 20);
    let size = b.readUInt32LE(p + 24);
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    let localOffset = b.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > b.length) throw new Error(`central directory entry ${i} truncated`);
    const name = b.toString('utf8', p + 46, p + 46 + nameLen);
    if (size === MAX32 || compressedSize === MAX32 || localOffset === MAX32) {
      // The zip64 extra field holds, in order, whichever of the three were saturated.
      let x = p + 46 + nameLen;
      const xend = x + extraLen;
      while (x + 4 <= xend) {
        const id = b.readUInt16LE(x);
        const len = b.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let f = x + 4;
          const lim = x + 4 + len;
          if (size === MAX32 && f + 8 <= lim) (size = u64(b, f)), (f += 8);
          if (compressedSize === MAX32 && f + 8 <= lim) (compressedSize = u64(b, f)), (f += 8);
          if (localOffset === MAX32 && f + 8 <= lim) localOffset = u64(b, f);
          break;
        }
        x += 4 + len;
      }
    }
    out.push({ name, method, compressedSize, size, localOffset: localOffset + shift });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/**
 * Entries whose bytes start inside another entry's (several central records for one stretch of data: the
 * trick of the overlapping zip bomb). No archiver writes them; each is the later of a pair, by offset.
 */
export function overlappingEntries(b: Buffer, entries: readonly ZipEntry[]): Set<ZipEntry> {
  const spans: Array<{ e: ZipEntry; start: number; end: number }> = [];
  for (const e of entries) {
    const at = e.localOffset;
    if (at < 0 || at + 30 > b.length || b.readUInt32LE(at) !== LOC) continue; // refused when read
    spans.push({ e, start: at, end: at + 30 + b.readUInt16LE(at + 26) + b.readUInt16LE(at + 28) + e.compressedSize });
  }
  spans.sort((x, y) => x.start - y.start);
  const out = new Set<ZipEntry>();
  let end = -1;
  for (const s of spans) {
    if (s.start < end) out.add(s.e);
    else end = s.end;
  }
  return out;
}

/**
 * The bytes of one entry, at most `max` (an Error beyond). Bounded before and during the inflate: an entry
 * whose directory declares more than `max` is refused before anything is allocated; a deflated entry gets
 * exactly one output buffer of its declared size (+1), and inflating stops as soon as the stream would
 * write past it (a lying size, a bomb), so the cost is never more than the declared size.
 */
export function readZipEntry(b: Buffer, e: ZipEntry, max: number): Buffer {
  const at = e.localOffset;
  if (at < 0 || at + 30 > b.length || b.readUInt32LE(at) !== LOC) throw new Error(`${e.name}: local header missing`);
  const start = at + 30 + b.readUInt16LE(at + 26) + b.readUInt16LE(at + 28);
  const end = start + e.compressedSize;
  if (end > b.length) throw new Error(`${e.name}: data truncated`);
  if (e.size > max) throw new Error(`${e.name}: ${e.size} bytes exceed the limit of ${max}`);
  const raw = b.subarray(start, end);
  if (e.method === 0) {
    if (raw.length > max) throw new Error(`${e.name}: ${raw.length} bytes exceed the limit of ${max}`);
    return raw;
  }
  if (e.method === 8) return inflateBounded(raw, e);
  throw new Error(`${e.name}: compression method ${e.method} not supported`);
}

/**
 * Inflates into one chunk of the declared size + 1: node's sync inflate then keeps that single buffer (no
 * list of chunks, no concatenation copy), and a stream that fills it has lied about its size and is
 * stopped there (maxOutputLength) before another byte is allocated.
 */
function inflateBounded(raw: Buffer, e: ZipEntry): Buffer {
  let out: Buffer;
  try {
    out = inflateRawSync(raw, { chunkSize: Math.max(64, e.size + 1), maxOutputLength: Math.max(1, e.size) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`${e.name}: inflates to more than the ${e.size} bytes its directory declares (a zip bomb?); not read`);
    }
    throw new Error(`${e.name}: inflate failed (${(err as Error).message.slice(0, 80)})`);
  }
  if (out.length > e.size) throw new Error(`${e.name}: inflates to more than the ${e.size} bytes its directory declares (a zip bomb?); not read`);
  return out;
}
