/**
 * A push-based streaming tar parser: feed it chunks with `write()`, close with
 * `end()`. It reports each entry's header through a callback and skips file
 * data by arithmetic alone (no copy, no per-entry stream), so walking a layer
 * costs little beyond decompressing it. Content is copied only for the entries
 * the caller asks for, up to a bound.
 *
 * Formats: v7, ustar (prefix field), GNU ('L' long name, 'K' long link, base-256
 * numbers), PAX ('x' per entry; 'g' global headers are validated but, as in Go's
 * archive/tar, not applied to later entries). Everything is untrusted: every
 * failure is a VouchError ('INVALID_TAR' or 'LIMIT_EXCEEDED') naming the tar
 * (`what`), the entry and the byte offset; memory use is bounded by the limits.
 */
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { decodePathBytes } from '../util/path-bytes.js';

const BLOCK = 512;

/** A header as the archive declares it, after PAX / GNU extensions are applied. Paths are raw (not cleaned). */
export interface TarHeader {
  /** Entry name (PAX `path` > GNU 'L' > ustar prefix/name). May contain anything but NUL... unless PAX put one there. */
  name: string;
  linkname: string;
  /** The typeflag character; a NUL typeflag is reported as '0'. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  /** Declared size; the bytes of data that follow (0 for header-only types). */
  size: number;
  /** Seconds since the epoch (may be negative or fractional-truncated). */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** Names of `SCHILY.xattr.*` PAX records (e.g. security.capability), when there are any. */
  xattrs?: string[];
  /** Byte offset of the entry's (first) header in the uncompressed stream. */
  offset: number;
  /** 0-based index among real entries (metadata headers are not counted). */
  index: number;
}

export interface TarParserOptions {
  /** Names the archive in error messages (e.g. the layer digest). */
  what?: string;
  /**
   * Called for every real entry, in archive order. Return true to have the
   * entry's content collected and passed to `onContent` once complete.
   */
  onEntry: (h: TarHeader) => boolean | void;
  onContent?: (h: TarHeader, data: Buffer) => void;
  /**
   * Called for every regular file (typeflag '0'/'7', not sparse) after its onEntry: its data is the bytes
   * [start, start + size) of the uncompressed stream (offsets as `position` counts them), so that a caller
   * can hash each file's content from the same chunks.
   */
  onFileData?: (h: TarHeader, start: number, size: number) => void;
  /** Largest content the parser will collect (default 16 MiB); a larger request is LIMIT_EXCEEDED. */
  maxContentBytes?: number;
  /** Largest PAX extended header (default 1 MiB). */
  maxPaxBytes?: number;
  /** Longest path or link target, in bytes (default 8 KiB: twice Linux PATH_MAX, and it bounds tree depth). */
  maxPathBytes?: number;
}

/** How the archive ended: two zero blocks, one, or none (all three are accepted, as Go's archive/tar does). */
export type TarEnd = 'marker' | 'single-zero-block' | 'missing';

const enum State {
  Header,
  Skip,
  Collect,
  Meta,
  Done,
}

/** Typeflags whose declared size is not followed by data (as Go's archive/tar treats them). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** SCHILY.xattr.* names in record order; a Map so that a header of many records stays linear. */
  xattrs?: Map<string, true>;
  /** GNU.sparse.* records (PAX sparse formats 0.0, 0.1, 1.0): Go renames and resizes the entry from them. */
  sparse?: Record<string, string>;
}

export class TarParser {
  private readonly what: string;
  private readonly opts: TarParserOptions;
  private readonly maxContent: number;
  private readonly maxPax: number;
  private readonly maxPath: number;

  private state = State.Header;
  /** Partial header when a block straddles chunks. */
  private readonly hbuf = Buffer.alloc(BLOCK);
  private readonly hwords = new Uint32Array(this.hbuf.buffer, this.hbuf.byteOffset, BLOCK / 4);
  /** A 32-bit view of the current chunk, for the checksum (summing bytes four at a time is the hottest loop). */
  private words: Uint32Array | null = null;
  private wordsOf: Buffer | null = null;
  private hfill = 0;
  /** Bytes left to skip (data + padding) or to collect. */
  private remaining = 0;
  /** Padding to skip after collected data. */
  private padAfter = 0;
  private collectBuf: Buffer | null = null;
  private collectFill = 0;
  private collectHeader: TarHeader | null = null;
  /** The entry whose data is being skipped or collected (names it in a truncation error). */
  private current: TarHeader | null = null;
  /** Which metadata header is being collected ('x', 'g', 'L', 'K'). */
  private metaType = '';
  private metaOffset = 0;

  private pending: Overrides = {};
  private gnuLongName: string | undefined;
  private gnuLongLink: string | undefined;
  private zeroBlocks = 0;
  /** Offset of the header that started the current entry (including its metadata headers). */
  private entryStart = -1;

  /** Bytes consumed so far. */
  position = 0;
  /** Real entries seen so far. */
  entries = 0;
  /** Set by end(). */
  endedWith: TarEnd | undefined;

  constructor(opts: TarParserOptions) {
    this.opts = opts;
    this.what = opts.what ?? 'tar';
    this.maxContent = opts.maxContentBytes ?? 16 << 20;
    this.maxPax = opts.maxPaxBytes ?? 1 << 20;
    this.maxPath = opts.maxPathBytes ?? 8 << 10;
  }

  write(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      switch (this.state) {
        case State.Skip: {
          const n = Math.min(this.remaining, len - pos);
          pos += n;
          this.position += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.Header;
          break;
        }
        case State.Header: {
          if (this.hfill === 0 && len - pos >= BLOCK) {
            // Fast path: parse the header in place, no copy.
            const off = this.position;
            this.position += BLOCK;
            if (this.words === null || this.wordsOf !== buf) this.viewWords(buf);
            this.onHeaderBlock(buf, pos, off, (buf.byteOffset + pos) % 4 === 0 ? this.words : null);
            pos += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.hfill, len - pos);
            buf.copy(this.hbuf, this.hfill, pos, pos + n);
            this.hfill += n;
            pos += n;
            this.position += n;
            if (this.hfill === BLOCK) {
              this.hfill = 0;
              this.onHeaderBlock(this.hbuf, 0, this.position - BLOCK, this.hwords);
            }
          }
          break;
        }
        case State.Collect:
        case State.Meta: {
          const want = this.remaining - this.padAfter;
          const n = Math.min(want, len - pos);
          buf.copy(this.collectBuf!, this.collectFill, pos, pos + n);
          this.collectFill += n;
          pos += n;
          this.position += n;
          this.remaining -= n;
          if (this.remaining === this.padAfter) this.finishCollect();
          break;
        }
        case State.Done:
          // Whatever follows the end marker (record padding) is not part of the archive.
          this.position += len - pos;
          pos = len;
          break;
      }
    }
  }

  /** Declares the end of input. Throws when the archive stops inside a header or data. */
  end(): void {
    if (this.state === State.Done) return;
    if (this.hfill !== 0 || this.state !== State.Header) {
      const h = this.current;
      const what = h ? `declares ${h.size} bytes but the stream ends at byte ${this.position}` : `stream ends inside a header at byte ${this.position}`;
      throw this.fail('INVALID_TAR', `truncated archive: ${what}`, h ? h.offset : this.position, h?.name);
    }
    if (this.entryStart >= 0) {
      throw this.fail('INVALID_TAR', `truncated archive: extended header at byte ${this.entryStart} has no entry`, this.entryStart);
    }
    this.endedWith = this.zeroBlocks >= 2 ? 'marker' : this.zeroBlocks === 1 ? 'single-zero-block' : 'missing';
    this.state = State.Done;
  }

  /** True once the end marker (or end()) has been seen. */
  get done(): boolean {
    return this.state === State.Done;
  }

  private fail(code: 'INVALID_TAR' | 'LIMIT_EXCEEDED', msg: string, offset: number, name?: string): VouchError {
    const entry = name !== undefined ? ` entry ${JSON.stringify(sanitizeLine(name.slice(0, 200)))}` : '';
    return new VouchError(code, `${this.what}:${entry} ${msg} (offset ${offset})`);
  }

  private viewWords(buf: Buffer): void {
    const start = (4 - (buf.byteOffset % 4)) % 4;
    this.words = new Uint32Array(buf.buffer, buf.byteOffset + start, (buf.length - start) >>> 2);
    this.wordsOf = buf;
  }

  private onHeaderBlock(b: Buffer, o: number, offset: number, words: Uint32Array | null): void {
    this.current = null;
    if (isZeroBlock(b, o)) {
      if (this.entryStart >= 0) throw this.fail('INVALID_TAR', 'zero block after an extended header', offset);
      this.zeroBlocks++;
      if (this.zeroBlocks === 2) {
        this.endedWith = 'marker';
        this.state = State.Done;
      }
      return;
    }
    if (this.zeroBlocks > 0) {
      // Go's archive/tar refuses a lone zero block followed by data: it is not an end marker and not a header.
      throw this.fail('INVALID_TAR', 'a single zero block followed by more data', offset);
    }
    if (!checksumOk(b, o, words)) throw this.fail('INVALID_TAR', 'header checksum mismatch (not a tar header)', offset);
    if (this.entryStart < 0) this.entryStart = offset;

    const rawType = b[o + 156]!;
    let typeflag = rawType === 0 ? '0' : String.fromCharCode(rawType);
    const size = this.num(b, o, 124, 12, 'size', offset);

    const format = headerFormat(b, o);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      // Go's readHeader parses every numeric field of every header, metadata ones included: one that does not
      // parse stops the archive there, so it must stop ours too.
      this.num(b, o, 100, 8, 'mode', offset);
      this.num(b, o, 108, 8, 'uid', offset);
      this.num(b, o, 116, 8, 'gid', offset);
      this.num(b, o, 136, 12, 'mtime', offset);
      if (format !== 'v7') {
        this.num(b, o, 329, 8, 'devmajor', offset);
        this.num(b, o, 337, 8, 'devminor', offset);
      }
      if (format === 'star') this.starTimes(b, o, offset);
      const limit = typeflag === 'x' || typeflag === 'g' ? this.maxPax : this.maxPath;
      if (size > limit) {
        throw this.fail('LIMIT_EXCEEDED', `${typeflag === 'x' || typeflag === 'g' ? 'PAX' : 'GNU long name'} header of ${size} bytes exceeds the limit of ${limit}`, offset);
      }
      this.metaType = typeflag;
      this.metaOffset = offset;
      this.startCollect(size, State.Meta);
      return;
    }

    // A real entry: header fields < per-entry PAX < GNU long names, exactly as Go's archive/tar (what docker and
    // containerd extract with) reads them. Global PAX headers are parsed but not applied: Go does not carry them
    // across entries, so applying them here would show names and sizes the runtime never sees.
    const ustar = format !== 'v7';
    if (typeflag === 'S') {
      // Old GNU sparse: Go reads extension blocks the size does not count (so the entries after it are framed
      // differently), refuses it outside the GNU format, and docker, containerd, podman and umoci all refuse the
      // layer ("unhandled tar header type 83"). Refused here too, rather than shown as something nobody extracts.
      throw this.fail('INVALID_TAR', 'old GNU sparse entry (typeflag S): container runtimes refuse such a layer', offset, cString(b, o, 100));
    }
    let name = cString(b, o, 100);
    let prefix = '';
    if (format === 'ustar' || format === 'star') {
      // STAR keeps atime/ctime after a 131-byte prefix; USTAR and PAX have a 155-byte prefix.
      prefix = cString(b, o + 345, format === 'star' ? 131 : 155);
      if (format === 'star') this.starTimes(b, o, offset);
    } else if (format === 'gnu' && !gnuTimesParse(b, o)) {
      // Go reads files from its pre-1.8 writer, which put a USTAR prefix in the GNU atime/ctime area: when those
      // do not parse, it takes the area as a 155-byte prefix if it is ASCII. Runtimes extract under that name.
      const area = cString(b, o + 345, 155);
      if (isAscii(area)) prefix = area;
    }
    if (prefix !== '') name = `${prefix}/${name}`;
    let linkname = cString(b, o + 157, 100);
    const p = this.pending;
    if (p.path !== undefined) name = p.path;
    if (p.linkpath !== undefined) linkname = p.linkpath;
    // Go applies a GNU long name or link only when it is not empty (`if gnuLongName != ""`): an empty one must
    // not replace the header's name, or the entry the runtime extracts would vanish from view.
    if (this.gnuLongName) name = this.gnuLongName;
    if (this.gnuLongLink) linkname = this.gnuLongLink;
    // A PAX GNU sparse file: Go (and so docker) extracts it under GNU.sparse.name with its real size, whatever
    // the header says; the data that follows (map and extents) is still the header's size.
    const sparse = p.sparse !== undefined ? gnuSparse(p.sparse, (m) => this.fail('INVALID_TAR', `PAX header: ${m}`, offset)) : undefined;
    if (sparse?.name) name = sparse.name;
    // Old archives mark directories with a NUL typeflag and a trailing slash (Go's archive/tar reads them so).
    if (rawType === 0 && name.endsWith('/')) typeflag = '5';

    const h: TarHeader = {
      name,
      linkname,
      typeflag,
      mode: this.num(b, o, 100, 8, 'mode', offset),
      uid: p.uid ?? this.num(b, o, 108, 8, 'uid', offset),
      gid: p.gid ?? this.num(b, o, 116, 8, 'gid', offset),
      size: sparse?.size ?? p.size ?? size,
      mtime: p.mtime ?? this.num(b, o, 136, 12, 'mtime', offset),
      devmajor: ustar ? this.num(b, o, 329, 8, 'devmajor', offset) : 0,
      devminor: ustar ? this.num(b, o, 337, 8, 'devminor', offset) : 0,
      offset: this.entryStart,
      index: this.entries,
    };
    if (p.xattrs && p.xattrs.size > 0) h.xattrs = [...p.xattrs.keys()];
    this.pending = {};
    this.gnuLongName = undefined;
    this.gnuLongLink = undefined;
    this.entryStart = -1;
    this.entries++;

    // A UTF-16 length a third of the bound cannot exceed it in UTF-8: skip the byte count for ordinary names.
    if ((h.name.length * 3 > this.maxPath && Buffer.byteLength(h.name) > this.maxPath) || (h.linkname.length * 3 > this.maxPath && Buffer.byteLength(h.linkname) > this.maxPath)) {
      throw this.fail('LIMIT_EXCEEDED', `path longer than ${this.maxPath} bytes`, h.offset, h.name.slice(0, 100));
    }

    const dataSize = HEADER_ONLY.has(typeflag) ? 0 : (p.size ?? size);
    this.current = h;
    // A sparse file's stored data is a map plus extents, not its content: never hand it to a cataloger.
    const wantsContent = this.opts.onEntry(h) === true && sparse === undefined;
    // The data starts here: `position` has just passed this header block.
    if (this.opts.onFileData && (typeflag === '0' || typeflag === '7') && sparse === undefined) this.opts.onFileData(h, this.position, dataSize);
    if (wantsContent && this.opts.onContent) {
      if (dataSize > this.maxContent) {
        throw this.fail('LIMIT_EXCEEDED', `content of ${dataSize} bytes exceeds the collection limit of ${this.maxContent}`, h.offset, h.name);
      }
      this.collectHeader = h;
      this.startCollect(dataSize, State.Collect);
    } else {
      this.remaining = dataSize + padding(dataSize);
      this.state = this.remaining > 0 ? State.Skip : State.Header;
    }
  }

  /** STAR's atime and ctime: Go parses them with the other fields, so one that does not parse stops the archive. */
  private starTimes(b: Buffer, o: number, offset: number): void {
    if (!goNumericOk(b, o + 476, 12)) throw this.fail('INVALID_TAR', 'invalid atime field', offset);
    if (!goNumericOk(b, o + 488, 12)) throw this.fail('INVALID_TAR', 'invalid ctime field', offset);
  }

  /** A numeric header field, or INVALID_TAR naming it. */
  private num(b: Buffer, o: number, at: number, width: number, field: string, offset: number): number {
    const v = parseNumeric(b, o + at, width);
    if (v < 0) throw this.fail('INVALID_TAR', `invalid ${field} field`, offset);
    return v;
  }

  private startCollect(size: number, state: State): void {
    this.collectBuf = Buffer.allocUnsafe(size);
    this.collectFill = 0;
    this.padAfter = padding(size);
    this.remaining = size + this.padAfter;
    this.state = state;
    if (size === 0) this.finishCollect();
  }

  private finishCollect(): void {
    const data = this.collectBuf!;
    const wasMeta = this.state === State.Meta;
    this.collectBuf = null;
    this.state = this.remaining > 0 ? State.Skip : State.Header;
    if (wasMeta) {
      this.applyMeta(data);
    } else {
      const h = this.collectHeader!;
      this.collectHeader = null;
      this.opts.onContent!(h, data);
    }
  }

  private applyMeta(data: Buffer): void {
    switch (this.metaType) {
      case 'L':
        this.gnuLongName = cString(data, 0, data.length);
        break;
      case 'K':
        this.gnuLongLink = cString(data, 0, data.length);
        break;
      case 'x':
        // A second 'x' before the entry replaces the first (Go keeps only the last one's records).
        this.pending = parsePax(data, {}, (m) => this.fail('INVALID_TAR', `PAX header: ${m}`, this.metaOffset));
        break;
      case 'g':
        // Validated, then dropped: Go returns a global header as an entry of its own (which extractors skip),
        // forgetting the 'x', 'L' and 'K' headers before it, and applies none of its records to later entries.
        parsePax(data, {}, (m) => this.fail('INVALID_TAR', `PAX global header: ${m}`, this.metaOffset));
        this.pending = {};
        this.gnuLongName = undefined;
        this.gnuLongLink = undefined;
        this.entryStart = -1;
        break;
    }
  }
}

/**
 * The header format as Go's archive/tar guesses it (block.getFormat): "ustar\0" is USTAR/PAX (with a "tar\0"
 * trailer at 508, STAR), "ustar " + " \0" is old GNU, anything else is v7. Only USTAR and STAR have a prefix field.
 */
function headerFormat(b: Buffer, o: number): 'ustar' | 'star' | 'gnu' | 'v7' {
  // Byte compares, not strings: this runs for every header.
  if (b[o + 257] !== 0x75 || b[o + 258] !== 0x73 || b[o + 259] !== 0x74 || b[o + 260] !== 0x61 || b[o + 261] !== 0x72) return 'v7';
  const sixth = b[o + 262];
  if (sixth === 0) return b[o + 508] === 0x74 && b[o + 509] === 0x61 && b[o + 510] === 0x72 && b[o + 511] === 0 ? 'star' : 'ustar';
  if (sixth === 0x20 && b[o + 263] === 0x20 && b[o + 264] === 0) return 'gnu';
  return 'v7';
}

/**
 * The name and logical size Go's archive/tar gives a PAX GNU sparse entry (readGNUSparsePAXHeaders), or
 * undefined when the records do not make it one (unknown versions are left alone, as Go does).
 */
function gnuSparse(r: Record<string, string>, err: (msg: string) => VouchError): { name?: string; size?: number } | undefined {
  const major = r['major'] ?? '';
  const minor = r['minor'] ?? '';
  const known = (major === '0' && (minor === '0' || minor === '1')) || (major === '1' && minor === '0');
  if (!known && (major !== '' || minor !== '' || !r['map'])) return undefined;
  const out: { name?: string; size?: number } = {};
  if (r['name']) out.name = r['name'];
  const size = r['size'] || r['realsize'];
  if (size) {
    if (!/^[0-9]{1,16}$/.test(size) || !Number.isSafeInteger(Number(size))) throw err(`invalid GNU.sparse size ${JSON.stringify(sanitizeLine(size.slice(0, 40)))}`);
    out.size = Number(size);
  }
  return out;
}

function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function isZeroBlock(b: Buffer, o: number): boolean {
  for (let i = o; i < o + BLOCK; i += 4) {
    if (b.readUInt32LE(i) !== 0) return false;
  }
  return true;
}

/**
 * The header checksum: unsigned byte sum with the checksum field read as
 * spaces (old signed sums accepted too). `words` is a 32-bit view of `b` whose
 * element 0 starts at the first 4-aligned byte of `b`, usable when `o` is aligned.
 */
function checksumOk(b: Buffer, o: number, words: Uint32Array | null): boolean {
  // Go reads the checksum as octal only (parseOctal), never base-256.
  if (b[o + 148]! & 0x80) return false;
  const stored = parseNumeric(b, o + 148, 8);
  if (stored < 0) return false;
  let sum = 0;
  if (words !== null) {
    // SWAR: two accumulators of 16-bit lanes; 128 words × 255 per lane cannot overflow a lane.
    const first = ((b.byteOffset + o) >>> 2) - Math.ceil(b.byteOffset / 4);
    let lo = 0;
    let hi = 0;
    for (let i = first, end = first + BLOCK / 4; i < end; i++) {
      const w = words[i]!;
      lo += w & 0x00ff00ff;
      hi += (w >>> 8) & 0x00ff00ff;
    }
    sum = (lo & 0xffff) + (lo >>> 16) + (hi & 0xffff) + (hi >>> 16);
  } else {
    for (let i = o, end = o + BLOCK; i < end; i++) sum += b[i]!;
  }
  let field = 0;
  for (let i = o + 148; i < o + 156; i++) field += b[i]!;
  const unsigned = sum - field + 8 * 0x20;
  if (stored === unsigned) return true;
  let signed = 0;
  for (let i = o, end = o + BLOCK; i < end; i++) {
    const c = i >= o + 148 && i < o + 156 ? 0x20 : b[i]!;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === signed;
}

/** NUL-terminated string of at most `width` bytes. */
function cString(b: Buffer, o: number, width: number): string {
  let end = o;
  const max = o + width;
  while (end < max && b[end] !== 0) end++;
  // Names are bytes: keep the ones that are not UTF-8 distinct (path-bytes.ts).
  return decodePathBytes(b, o, end);
}

/**
 * A numeric field: octal ASCII (leading spaces/NULs, ended by space or NUL), or
 * GNU base-256 when the high bit of the first byte is set. Returns -1 for
 * anything invalid, negative or beyond a safe integer (no closure per call:
 * this runs seven times per header).
 */
function parseNumeric(b: Buffer, o: number, width: number): number {
  const first = b[o]!;
  if (first & 0x80) {
    if (first === 0xff) return -1; // negative base-256
    let v = first & 0x7f;
    for (let i = 1; i < width; i++) {
      v = v * 256 + b[o + i]!;
      if (v > Number.MAX_SAFE_INTEGER) return -1;
    }
    return v;
  }
  // As Go's parseOctal: spaces and NULs trimmed from both ends, then the digits up to the first NUL
  // ("12\0zz" is 12; "1 2" and "12 \0zz" are errors).
  let i = o;
  let end = o + width;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  while (end > i && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0) break;
    if (c < 0x30 || c > 0x37) return -1;
    v = v * 8 + (c - 0x30);
  }
  return v > Number.MAX_SAFE_INTEGER ? -1 : v;
}

/**
 * Whether Go's parseNumeric accepts the field (any value, negative base-256 included): used where Go only
 * looks at whether a field parses (GNU atime/ctime, STAR times). Base-256 overflows past 63 bits.
 */
function goNumericOk(b: Buffer, o: number, width: number): boolean {
  const first = b[o]!;
  if (first & 0x80) {
    const inv = first & 0x40 ? 0xff : 0;
    // Go shifts the bytes into a uint64 and fails once anything reaches its top byte before a shift, or bit 63 at the end.
    let x = 0n;
    for (let i = 0; i < width; i++) {
      let c = b[o + i]! ^ inv;
      if (i === 0) c &= 0x7f;
      if (x >> 56n > 0n) return false;
      x = (x << 8n) | BigInt(c);
    }
    return x >> 63n === 0n;
  }
  // Twelve octal digits are 36 bits: never beyond a safe integer, so -1 means a bad digit, as in Go.
  return parseNumeric(b, o, width) >= 0;
}

/** GNU atime (345) and ctime (357): Go parses each whose first byte is not NUL; false when either fails. */
function gnuTimesParse(b: Buffer, o: number): boolean {
  return (b[o + 345] === 0 || goNumericOk(b, o + 345, 12)) && (b[o + 357] === 0 || goNumericOk(b, o + 357, 12));
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Parses PAX records ("LEN key=value\n") into a copy of `into`. An empty value deletes the key. */
function parsePax(data: Buffer, into: Overrides, err: (msg: string) => VouchError): Overrides {
  const out: Overrides = { ...into };
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // NUL padding after the last record (seen in the wild)
    let len = 0;
    let i = pos;
    while (i < data.length && data[i] !== 0x20) {
      const c = data[i]!;
      if (c < 0x30 || c > 0x39 || i - pos > 8) throw err('malformed record length');
      len = len * 10 + (c - 0x30);
      i++;
    }
    if (i >= data.length || len < i - pos + 4 || pos + len > data.length) throw err('record length out of bounds');
    const recEnd = pos + len;
    if (data[recEnd - 1] !== 0x0a) throw err('record does not end with a newline');
    const eq = data.indexOf(0x3d, i + 1);
    if (eq < 0 || eq >= recEnd - 1 || eq === i + 1) throw err('record without key=value');
    const key = data.toString('utf8', i + 1, eq);
    const raw = data.subarray(eq + 1, recEnd - 1);
    // Go's validPAXRecord: a NUL in a path, linkpath, uname or gname value, or in any other key, is ErrHeader
    // (the runtime refuses the layer), so the archive is refused here too rather than one entry dropped.
    if (key === 'path' || key === 'linkpath' || key === 'uname' || key === 'gname' ? raw.includes(0) : key.includes('\0')) throw err(`NUL in the ${JSON.stringify(sanitizeLine(key.slice(0, 40)))} record`);
    applyPax(out, key, raw, err);
    pos = recEnd;
  }
  return out;
}

function applyPax(out: Overrides, key: string, raw: Buffer, err: (msg: string) => VouchError): void {
  const empty = raw.length === 0;
  const str = (): string => raw.toString('utf8');
  const int = (): number => {
    const s = str();
    if (!/^[0-9]{1,16}$/.test(s)) throw err(`invalid ${key} ${JSON.stringify(sanitizeLine(s.slice(0, 40)))}`);
    const v = Number(s);
    if (!Number.isSafeInteger(v)) throw err(`${key} out of range`);
    return v;
  };
  switch (key) {
    case 'path':
      if (empty) delete out.path;
      else out.path = decodePathBytes(raw);
      break;
    case 'linkpath':
      if (empty) delete out.linkpath;
      else out.linkpath = decodePathBytes(raw);
      break;
    case 'size':
      if (empty) delete out.size;
      else out.size = int();
      break;
    case 'uid':
      if (empty) delete out.uid;
      else out.uid = int();
      break;
    case 'gid':
      if (empty) delete out.gid;
      else out.gid = int();
      break;
    case 'mtime': {
      if (empty) {
        delete out.mtime;
        break;
      }
      const s = str();
      if (!/^-?[0-9]{1,16}(\.[0-9]*)?$/.test(s)) throw err(`invalid mtime ${JSON.stringify(sanitizeLine(s.slice(0, 40)))}`);
      out.mtime = Math.trunc(Number(s));
      break;
    }
    default:
      if (key.startsWith('GNU.sparse.')) {
        const k = key.slice('GNU.sparse.'.length);
        // Assigned in place (a copy per record made a header of many records quadratic); no prototype to write through.
        (out.sparse ??= Object.create(null) as Record<string, string>)[k] = k === 'name' ? decodePathBytes(raw) : str();
        break;
      }
      if (key.startsWith('SCHILY.xattr.')) {
        // The last record for a name wins; an empty value removes it (Go's mergePAX skips empty values).
        const name = key.slice('SCHILY.xattr.'.length);
        const map = (out.xattrs ??= new Map());
        map.delete(name);
        if (!empty) map.set(name, true);
      }
    // Other keys (atime, ctime, uname, gname, charset, GNU.sparse.*) do not change what we record.
  }
}
