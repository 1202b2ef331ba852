/**
 * Random access to the members of a tar FILE without extracting it.
 *
 * Image archives (`docker save`, oci-archive) are tars of a handful of large
 * members. One pass over the headers (no data is read) gives each member's
 * byte range; a member is then read or streamed straight from that range.
 * Nothing is written to disk, and member names are never used as file paths.
 *
 * Understood: ustar (with prefix), GNU long names/links (`L`/`K`), PAX
 * extended headers (`path`, `linkpath`, `size`); global PAX headers are
 * skipped. Symlink and hardlink members resolve inside the archive (docker
 * save may store a layer as a symlink to another layer's `layer.tar`); a link
 * that escapes the archive root or loops is an error.
 */
import { constants as fsConstants, createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { VouchError } from '../errors.js';

const BLOCK = 512;
/** Long names and PAX records are metadata: anything bigger is hostile. */
const MAX_META_ENTRY = 1 << 20;
/** Image archives hold a few files per layer; a million members is not an image. */
const MAX_ENTRIES = 1_000_000;
const MAX_LINK_HOPS = 40;
/** Typeflags followed by no data, whatever their size field says (Go's isHeaderOnlyType). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** Normalised member name: no leading "./" or "/", no trailing "/". */
  name: string;
  /** Byte offset of the member's data in the file. */
  offset: number;
  size: number;
  type: TarEntryType;
  linkname?: string;
}

/** Normalise a member name to a clean relative path; undefined when it escapes the root. */
export function normalizeMemberName(raw: string): string | undefined {
  const n = posix.normalize(`/${raw}`).slice(1).replace(/\/+$/, '');
  // posix.normalize on an absolute path cannot climb above "/", so look at the raw components.
  let depth = 0;
  for (const part of raw.split('/')) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) return undefined;
  }
  return n;
}

function readString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

/** Octal, or GNU base-256 for big values. Returns NaN when malformed. */
function readNumber(buf: Buffer, start: number, len: number): number {
  if (buf[start]! & 0x80) {
    // base-256: big-endian two's complement, first byte's top bit is the marker.
    if (buf[start] === 0xff) return NaN; // negative
    let v = buf[start]! & 0x7f;
    for (let i = 1; i < len; i++) {
      v = v * 256 + buf[start + i]!;
      if (v > Number.MAX_SAFE_INTEGER) return NaN;
    }
    return v;
  }
  const s = readString(buf, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const want = readNumber(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === want;
}

function parsePax(data: Buffer, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = Number(data.toString('ascii', pos, sp));
    if (!Number.isInteger(len) || len <= sp - pos || pos + len > data.length) {
      throw new VouchError('INVALID_TAR', `${what}: malformed PAX header record`);
    }
    const rec = data.toString('utf8', sp + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

export class TarFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly entries: Map<string, TarEntry>,
    readonly fileSize: number,
  ) {}

  /** Index a tar file: reads only headers. Throws INVALID_TAR when it is not a tar. */
  static async open(path: string): Promise<TarFile> {
    // Non-blocking (a FIFO swapped in must not hang the open); the type is checked on the descriptor below.
    const fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
      throw new VouchError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARCHIVE', `${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    });
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new VouchError('INVALID_ARCHIVE', `${path}: not a regular file (a FIFO, device or socket is never an image archive)`);
      const { size } = st;
      const entries = await scan(fh, size, path);
      return new TarFile(path, fh, entries, size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The raw entry (links not followed). */
  entry(name: string): TarEntry | undefined {
    const n = normalizeMemberName(name);
    return n === undefined ? undefined : this.entries.get(n);
  }

  /** Whether a name resolves to a regular file; hostile links (escapes, loops) throw rather than read as "missing". */
  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  /**
   * Follow symlinks and hardlinks to a regular file. Undefined when the name
   * does not exist; VouchError on escapes, loops or links to non-files.
   */
  resolve(name: string): TarEntry | undefined {
    let cur = normalizeMemberName(name);
    if (cur === undefined) throw new VouchError('INVALID_ARCHIVE', `${this.path}: member name ${JSON.stringify(name)} escapes the archive`);
    const seen = new Set<string>();
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const e = this.entries.get(cur);
      if (!e) return undefined;
      if (e.type === 'file') return e;
      if (e.type !== 'symlink' && e.type !== 'hardlink') {
        throw new VouchError('INVALID_ARCHIVE', `${this.path}: ${JSON.stringify(cur)} is not a regular file`);
      }
      if (seen.has(cur)) break;
      seen.add(cur);
      const target = e.linkname ?? '';
      // Symlinks are relative to the link's directory; hardlinks name a member from the root.
      const joined = e.type === 'symlink' && !target.startsWith('/') ? posix.join(posix.dirname(cur), target) : target;
      const next = normalizeMemberName(joined);
      if (next === undefined || (e.type === 'symlink' && target.startsWith('/'))) {
        throw new VouchError('INVALID_ARCHIVE', `${this.path}: link ${JSON.stringify(cur)} -> ${JSON.stringify(target)} points outside the archive`);
      }
      cur = next;
    }
    throw new VouchError('INVALID_ARCHIVE', `${this.path}: link loop at ${JSON.stringify(name)}`);
  }

  private must(name: string): TarEntry {
    const e = this.resolve(name);
    if (!e) throw new VouchError('NOT_FOUND', `${this.path}: no member ${JSON.stringify(name)}`);
    return e;
  }

  /** Read a (small) member into memory; refuses members over `max` bytes. */
  async readEntry(name: string, max = 16 << 20): Promise<Buffer> {
    const e = this.must(name);
    if (e.size > max) throw new VouchError('LIMIT_EXCEEDED', `${this.path}: member ${JSON.stringify(name)} is ${e.size} bytes, over the ${max}-byte limit`);
    const buf = Buffer.alloc(e.size);
    let got = 0;
    while (got < e.size) {
      const { bytesRead } = await this.fh.read(buf, got, e.size - got, e.offset + got);
      if (bytesRead === 0) throw new VouchError('INVALID_TAR', `${this.path}: member ${JSON.stringify(name)} is truncated`);
      got += bytesRead;
    }
    return buf;
  }

  /** Read up to `n` bytes from the start of a member (for sniffing compression). */
  async readHead(name: string, n: number): Promise<Buffer> {
    const e = this.must(name);
    const len = Math.min(n, e.size);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await this.fh.read(buf, 0, len, e.offset);
    return buf.subarray(0, bytesRead);
  }

  /** Size of the member a name resolves to (links followed). */
  sizeOf(name: string): number {
    return this.must(name).size;
  }

  /** Stream a member's bytes straight from the file's byte range. */
  openEntry(name: string): Readable {
    const e = this.must(name);
    if (e.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1 << 20 });
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

async function scan(fh: FileHandle, fileSize: number, what: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const header = Buffer.alloc(BLOCK);
  let pos = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  let count = 0;
  const readMeta = async (offset: number, size: number): Promise<Buffer> => {
    if (size > MAX_META_ENTRY) throw new VouchError('INVALID_TAR', `${what}: metadata entry of ${size} bytes at offset ${offset - BLOCK}`);
    const b = Buffer.alloc(size);
    const { bytesRead } = await fh.read(b, 0, size, offset);
    if (bytesRead !== size) throw new VouchError('INVALID_TAR', `${what}: truncated metadata entry at offset ${offset - BLOCK}`);
    return b;
  };
  while (pos + BLOCK <= fileSize) {
    const { bytesRead } = await fh.read(header, 0, BLOCK, pos);
    if (bytesRead < BLOCK) break;
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    if (!checksumOk(header)) {
      throw new VouchError('INVALID_TAR', pos === 0 ? `${what}: not a tar archive` : `${what}: corrupt tar header at offset ${pos}`);
    }
    if (++count > MAX_ENTRIES) throw new VouchError('LIMIT_EXCEEDED', `${what}: more than ${MAX_ENTRIES} tar members`);
    const typeflag = String.fromCharCode(header[156]!);
    let size = readNumber(header, 124, 12);
    const isMeta = typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g';
    if (!isMeta && pax.size !== undefined) size = /^[0-9]{1,16}$/.test(pax.size) ? Number(pax.size) : NaN;
    if (!Number.isSafeInteger(size) || size < 0) throw new VouchError('INVALID_TAR', `${what}: bad size in tar header at offset ${pos}`);
    // Links, devices, directories and FIFOs carry no data whatever their size field says (Go's
    // archive/tar, which `docker load` uses, skips nothing after them): skipping it would hide members.
    if (HEADER_ONLY.has(typeflag)) size = 0;
    const dataOffset = pos + BLOCK;
    if (dataOffset + size > fileSize) throw new VouchError('INVALID_TAR', `${what}: member at offset ${pos} runs past the end of the file (truncated archive)`);
    const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;

    if (typeflag === 'L') {
      longName = readString(await readMeta(dataOffset, size), 0, size);
    } else if (typeflag === 'K') {
      longLink = readString(await readMeta(dataOffset, size), 0, size);
    } else if (typeflag === 'x') {
      pax = parsePax(await readMeta(dataOffset, size), what);
    } else if (typeflag === 'g') {
      // A global PAX header applies to nothing (as in Go) and ends whatever extended headers came before it.
      longName = undefined;
      longLink = undefined;
      pax = {};
    } else {
      let name: string;
      if (pax.path !== undefined) name = pax.path;
      else if (longName !== undefined) name = longName;
      else {
        name = readString(header, 0, 100);
        // Go's format guess: "ustar\0" has a prefix field (131 bytes when a STAR trailer "tar\0" ends the block).
        if (header.toString('latin1', 257, 263) === 'ustar\u0000') {
          const star = header.toString('latin1', 508, 512) === 'tar\u0000';
          const prefix = readString(header, 345, star ? 131 : 155);
          if (prefix) name = `${prefix}/${name}`;
        }
      }
      const linkname = pax.linkpath ?? longLink ?? readString(header, 157, 100);
      const type: TarEntryType =
        typeflag === '0' || typeflag === '\u0000' || typeflag === '7'
          ? name.endsWith('/')
            ? 'dir'
            : 'file'
          : typeflag === '5'
            ? 'dir'
            : typeflag === '2'
              ? 'symlink'
              : typeflag === '1'
                ? 'hardlink'
                : 'other';
      const norm = normalizeMemberName(name);
      if (norm === undefined) throw new VouchError('INVALID_ARCHIVE', `${what}: member ${JSON.stringify(name.slice(0, 200))} escapes the archive root`);
      if (norm !== '') {
        const e: TarEntry = { name: norm, offset: dataOffset, size: type === 'file' ? size : 0, type };
        if (type === 'symlink' || type === 'hardlink') e.linkname = linkname;
        entries.set(norm, e); // a later duplicate replaces an earlier one, as extraction would
      }
      longName = undefined;
      longLink = undefined;
      pax = {};
    }
    pos = next;
  }
  if (count === 0) throw new VouchError('INVALID_TAR', `${what}: not a tar archive (no members)`);
  return entries;
}
