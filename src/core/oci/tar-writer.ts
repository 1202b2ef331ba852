/**
 * A small, fast, deterministic tar writer (POSIX ustar, with PAX extended
 * headers for whatever ustar cannot hold: long or non-ASCII paths and link
 * targets, big sizes and ids).
 *
 * It is built for generating layers: entries are encoded straight into large
 * pre-allocated chunks (default 1 MiB), and the producer takes finished chunks
 * whenever it likes, so it fits an async generator feeding a stream pipeline:
 *
 *   const tw = new TarWriter();
 *   for (const f of files) {
 *     tw.add({ path: f.path, type: 'file', size: f.data.length }, f.data);
 *     if (tw.pendingBytes >= 1 << 20) yield* tw.take();
 *   }
 *   tw.finish();
 *   yield* tw.take();
 *
 * Nothing here reads the clock: every entry gets `mtime` from the entry, else
 * from the writer's defaults (0 unless told otherwise), so equal input gives
 * equal bytes.
 */
import { VouchError } from '../errors.js';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'whiteout' | 'opaque';

export interface TarEntry {
  /**
   * Path inside the archive. A leading "/" or "./" is dropped ("/etc/passwd" is
   * written as "etc/passwd", as container layers spell it). For `whiteout` it is
   * the path being removed (written as `DIR/.wh.NAME`); for `opaque` the
   * directory whose lower contents are hidden (written as `DIR/.wh..wh..opq`).
   */
  path: string;
  type: TarEntryType;
  /** Permission bits incl. setuid/setgid/sticky. Defaults: file 0644, dir 0755, symlink 0777, whiteout/opaque 0644. */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch (integer). */
  mtime?: number;
  /** Bytes of data that follow (regular files only; everything else is 0). */
  size?: number;
  /** Symlink target, or the archive path a hard link points at (normalised like `path`). */
  linkname?: string;
  /** Extra PAX records (e.g. SCHILY.xattr.security.capability). Written in key order. */
  pax?: Record<string, string>;
}

export interface TarWriterOptions {
  /** Size of the chunks `take()` returns (except the last one). Default 1 MiB. */
  chunkSize?: number;
  /** Defaults for entries that omit them: mtime (0), uid/gid (0), uname/gname (""). */
  defaults?: Pick<TarEntry, 'mtime' | 'uid' | 'gid' | 'uname' | 'gname'>;
}

const BLOCK = 512;
const OCTAL_7 = 0o7777777; // max for 8-byte numeric fields (mode, uid, gid)
const OCTAL_11 = 0o77777777777; // max for 12-byte numeric fields (size, mtime)
const TYPEFLAG: Record<TarEntryType, number> = {
  file: 0x30, // '0'
  hardlink: 0x31, // '1'
  symlink: 0x32, // '2'
  dir: 0x35, // '5'
  whiteout: 0x30,
  opaque: 0x30,
};
const DEFAULT_MODE: Record<TarEntryType, number> = {
  file: 0o644,
  hardlink: 0o644,
  symlink: 0o777,
  dir: 0o755,
  whiteout: 0o644,
  opaque: 0o644,
};

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

/** Two zero blocks: the end of an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);

/** Zero bytes needed after `size` data bytes to reach the next 512-byte boundary. */
export function paddingSize(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/**
 * Normalise an archive path: drop leading "/" and "./", collapse "//" and
 * "/./", refuse ".." components and empty paths (the writer must never produce
 * the hostile archives the reader has to defend against).
 */
export function normalizeTarPath(p: string, what = 'tar entry'): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new VouchError('INVALID_TAR', `${what}: ".." in path ${JSON.stringify(p)}`);
    if (part.includes('\0')) throw new VouchError('INVALID_TAR', `${what}: NUL in path`);
    parts.push(part);
  }
  if (parts.length === 0) throw new VouchError('INVALID_TAR', `${what}: empty path ${JSON.stringify(p)}`);
  return parts.join('/');
}

/** The name actually stored for an entry (whiteouts and opaque markers spelled out, dirs with a trailing "/"). */
export function archiveName(entry: TarEntry): string {
  const p = normalizeTarPath(entry.path);
  switch (entry.type) {
    case 'whiteout': {
      const i = p.lastIndexOf('/');
      return i < 0 ? WHITEOUT_PREFIX + p : `${p.slice(0, i + 1)}${WHITEOUT_PREFIX}${p.slice(i + 1)}`;
    }
    case 'opaque':
      return `${p}/${OPAQUE_MARKER}`;
    case 'dir':
      return `${p}/`;
    default:
      return p;
  }
}

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x01-\x7f]*$/.test(s);
}

/** One PAX record: "LEN key=value\n", LEN counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

/**
 * Split a name into ustar prefix (≤155 bytes) and name (≤100 bytes) at a "/".
 * Returns undefined when it cannot be done (then a PAX path record is needed).
 */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  if (name.length > 256) return undefined;
  // The earliest "/" that leaves a name of at most 100 bytes and a prefix of at most 155.
  for (let i = Math.max(0, name.length - 101); i < name.length && i <= 155; i++) {
    if (name.charCodeAt(i) === 0x2f && i > 0 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return { prefix: name.slice(0, i), name: name.slice(i + 1) };
    }
  }
  return undefined;
}

function writeString(buf: Buffer, off: number, len: number, s: string): void {
  // ASCII only by construction (anything else went to PAX); truncation never happens for callers below.
  buf.write(s, off, len, 'latin1');
}

function writeOctal(buf: Buffer, off: number, len: number, n: number): void {
  // len-1 octal digits, zero-padded, then NUL.
  const s = Math.trunc(n).toString(8).padStart(len - 1, '0');
  buf.write(s, off, len - 1, 'latin1');
  buf[off + len - 1] = 0;
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: number;
  linkname: string;
  uname: string;
  gname: string;
}

function encodeUstar(buf: Buffer, off: number, h: HeaderFields): void {
  buf.fill(0, off, off + BLOCK);
  writeString(buf, off, 100, h.name);
  writeOctal(buf, off + 100, 8, h.mode);
  writeOctal(buf, off + 108, 8, h.uid);
  writeOctal(buf, off + 116, 8, h.gid);
  writeOctal(buf, off + 124, 12, h.size);
  writeOctal(buf, off + 136, 12, h.mtime);
  buf.fill(0x20, off + 148, off + 156); // checksum field counts as spaces
  buf[off + 156] = h.typeflag;
  writeString(buf, off + 157, 100, h.linkname);
  buf.write('ustar\x0000', off + 257, 8, 'latin1');
  writeString(buf, off + 265, 32, h.uname);
  writeString(buf, off + 297, 32, h.gname);
  writeOctal(buf, off + 329, 8, 0);
  writeOctal(buf, off + 337, 8, 0);
  writeString(buf, off + 345, 155, h.prefix);
  let sum = 0;
  for (let i = off; i < off + BLOCK; i++) sum += buf[i]!;
  const cs = sum.toString(8).padStart(6, '0');
  buf.write(cs, off + 148, 6, 'latin1');
  buf[off + 154] = 0;
  buf[off + 155] = 0x20;
}

function checkInt(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0) throw new VouchError('INVALID_TAR', `${what} must be a non-negative integer, got ${n}`);
  return n;
}

/**
 * Encode the header block(s) of one entry: an optional PAX 'x' header with its
 * records, then the ustar header. The result's length is a multiple of 512.
 */
export function encodeHeader(entry: TarEntry, defaults: TarWriterOptions['defaults'] = {}): Buffer {
  const name = archiveName(entry);
  const type = entry.type;
  const size = type === 'file' ? checkInt(entry.size ?? 0, `${name}: size`) : 0;
  if (type !== 'file' && (entry.size ?? 0) !== 0) throw new VouchError('INVALID_TAR', `${name}: only regular files carry data`);
  const mode = checkInt(entry.mode ?? DEFAULT_MODE[type], `${name}: mode`) & 0o7777;
  const uid = checkInt(entry.uid ?? defaults.uid ?? 0, `${name}: uid`);
  const gid = checkInt(entry.gid ?? defaults.gid ?? 0, `${name}: gid`);
  const mtime = checkInt(entry.mtime ?? defaults.mtime ?? 0, `${name}: mtime`);
  const uname = entry.uname ?? defaults.uname ?? '';
  const gname = entry.gname ?? defaults.gname ?? '';
  let linkname = '';
  if (type === 'symlink') {
    if (entry.linkname === undefined || entry.linkname === '') throw new VouchError('INVALID_TAR', `${name}: symlink without target`);
    linkname = entry.linkname;
  } else if (type === 'hardlink') {
    if (entry.linkname === undefined) throw new VouchError('INVALID_TAR', `${name}: hard link without target`);
    linkname = normalizeTarPath(entry.linkname, `${name}: hard link target`);
  }

  const pax: [string, string][] = [];
  const split = splitUstarName(name);
  if (!split) pax.push(['path', name]);
  if (linkname.length > 100 || !isAscii(linkname)) pax.push(['linkpath', linkname]);
  if (size > OCTAL_11) pax.push(['size', String(size)]);
  if (mtime > OCTAL_11) pax.push(['mtime', String(mtime)]);
  if (uid > OCTAL_7) pax.push(['uid', String(uid)]);
  if (gid > OCTAL_7) pax.push(['gid', String(gid)]);
  if (uname.length > 32 || !isAscii(uname)) pax.push(['uname', uname]);
  if (gname.length > 32 || !isAscii(gname)) pax.push(['gname', gname]);
  if (entry.pax) for (const k of Object.keys(entry.pax).sort()) pax.push([k, entry.pax[k]!]);

  const fields: HeaderFields = {
    name: split ? split.name : asciiTruncate(name, 100),
    prefix: split ? split.prefix : '',
    mode,
    uid: uid > OCTAL_7 ? 0 : uid,
    gid: gid > OCTAL_7 ? 0 : gid,
    size: size > OCTAL_11 ? 0 : size,
    mtime: mtime > OCTAL_11 ? 0 : mtime,
    typeflag: TYPEFLAG[type],
    linkname: linkname.length > 100 || !isAscii(linkname) ? asciiTruncate(linkname, 100) : linkname,
    uname: uname.length > 32 || !isAscii(uname) ? '' : uname,
    gname: gname.length > 32 || !isAscii(gname) ? '' : gname,
  };

  if (pax.length === 0) {
    const out = Buffer.allocUnsafe(BLOCK);
    encodeUstar(out, 0, fields);
    return out;
  }
  const body = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
  const paxBlocks = Math.ceil(body.length / BLOCK);
  const out = Buffer.alloc(BLOCK + paxBlocks * BLOCK + BLOCK);
  // GNU tar and Go's archive/tar name the PAX header after the entry; keep it deterministic (no pid).
  const base = name.replace(/\/$/, '').split('/').pop() ?? 'entry';
  encodeUstar(out, 0, {
    name: asciiTruncate(`PaxHeaders.0/${base}`, 100),
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: fields.mtime,
    typeflag: 0x78, // 'x'
    linkname: '',
    uname: '',
    gname: '',
  });
  body.copy(out, BLOCK);
  encodeUstar(out, BLOCK + paxBlocks * BLOCK, fields);
  return out;
}

function asciiTruncate(s: string, n: number): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x01-\x7f]/g, '_').slice(0, n);
}

/** Data for one entry: a buffer or a list of pieces (views are fine; they are copied once). */
export type TarData = Uint8Array | readonly Uint8Array[];

/**
 * The batching writer. `add()` encodes into fixed-size chunks; `take()` hands
 * over the finished chunks (and, after `finish()`, the last partial one).
 */
export class TarWriter {
  private readonly chunkSize: number;
  private readonly defaults: NonNullable<TarWriterOptions['defaults']>;
  private cur: Buffer;
  private pos = 0;
  private done: Buffer[] = [];
  private doneBytes = 0;
  private finished = false;
  private total = 0;
  private count = 0;

  constructor(opts: TarWriterOptions = {}) {
    this.chunkSize = Math.max(BLOCK * 2, Math.floor((opts.chunkSize ?? 1 << 20) / BLOCK) * BLOCK);
    this.defaults = opts.defaults ?? {};
    this.cur = Buffer.allocUnsafe(this.chunkSize);
  }

  /** Bytes encoded but not yet taken. */
  get pendingBytes(): number {
    return this.doneBytes + this.pos;
  }

  /** Bytes of archive produced so far (taken or not). */
  get bytesWritten(): number {
    return this.total;
  }

  /** Entries added so far. */
  get entries(): number {
    return this.count;
  }

  /** Add one entry. For regular files `data` must hold exactly `entry.size` bytes (size defaults to the data's length). */
  add(entry: TarEntry, data?: TarData): void {
    if (this.finished) throw new VouchError('INVALID_TAR', 'tar writer: add() after finish()');
    const pieces: readonly Uint8Array[] = data === undefined ? [] : data instanceof Uint8Array ? [data] : data;
    let dataLen = 0;
    for (const p of pieces) dataLen += p.length;
    if (entry.type === 'file') {
      if (entry.size === undefined) entry = { ...entry, size: dataLen };
      else if (entry.size !== dataLen) {
        throw new VouchError('INVALID_TAR', `${entry.path}: header says ${entry.size} bytes, data has ${dataLen}`);
      }
    } else if (dataLen !== 0) {
      throw new VouchError('INVALID_TAR', `${entry.path}: only regular files carry data`);
    }
    this.write(encodeHeader(entry, this.defaults));
    for (const p of pieces) this.write(p);
    this.zeros(paddingSize(dataLen));
    this.count++;
  }

  /** Write the two end-of-archive blocks. No entry can be added afterwards. */
  finish(): void {
    if (this.finished) return;
    this.zeros(2 * BLOCK);
    this.finished = true;
  }

  /** Finished chunks (and, after finish(), everything). Each returned buffer is owned by the caller. */
  take(): Buffer[] {
    const out = this.done;
    this.done = [];
    this.doneBytes = 0;
    if (this.finished && this.pos > 0) {
      out.push(this.cur.subarray(0, this.pos));
      this.cur = Buffer.allocUnsafe(0);
      this.pos = 0;
    }
    return out;
  }

  private rotate(): void {
    this.done.push(this.cur);
    this.doneBytes += this.cur.length;
    this.cur = Buffer.allocUnsafe(this.chunkSize);
    this.pos = 0;
  }

  private write(src: Uint8Array): void {
    let off = 0;
    while (off < src.length) {
      if (this.pos === this.cur.length) this.rotate();
      const n = Math.min(src.length - off, this.cur.length - this.pos);
      this.cur.set(off === 0 && n === src.length ? src : src.subarray(off, off + n), this.pos);
      this.pos += n;
      off += n;
    }
    this.total += src.length;
  }

  private zeros(n: number): void {
    let left = n;
    while (left > 0) {
      if (this.pos === this.cur.length) this.rotate();
      const k = Math.min(left, this.cur.length - this.pos);
      this.cur.fill(0, this.pos, this.pos + k);
      this.pos += k;
      left -= k;
    }
    this.total += n;
  }
}

/** Encode a whole (small) archive in memory. */
export function tarBuffer(entries: Iterable<{ entry: TarEntry; data?: TarData }>, opts: TarWriterOptions = {}): Buffer {
  const tw = new TarWriter(opts);
  for (const { entry, data } of entries) tw.add(entry, data);
  tw.finish();
  return Buffer.concat(tw.take());
}

/**
 * Stream an archive from an (async) iterable of entries, yielding chunks of
 * about `chunkSize` bytes: suitable for `Readable.from()` or the layout
 * writer's `addLayer()`.
 */
export async function* tarChunks(
  entries: Iterable<{ entry: TarEntry; data?: TarData }> | AsyncIterable<{ entry: TarEntry; data?: TarData }>,
  opts: TarWriterOptions = {},
): AsyncGenerator<Buffer> {
  const tw = new TarWriter(opts);
  const threshold = opts.chunkSize ?? 1 << 20;
  for await (const { entry, data } of entries) {
    tw.add(entry, data);
    if (tw.pendingBytes >= threshold) yield* tw.take();
  }
  tw.finish();
  yield* tw.take();
}
