/**
 * One streaming pass over a layer: stored bytes (verified by the source) →
 * decompress → sha256 of the tar (checked against the diff_id) → tar parser →
 * LayerEntry records. Nothing is extracted; content is collected only for the
 * entries a cataloger asks for, so catalogers run inside this same pass.
 */
import { createHash } from 'node:crypto';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { DigestMismatchError, VouchError, isVouchError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import { sniffCompression, type Compression } from '../oci/mediatypes.js';
import type { Layer } from '../sources/image.js';
import { sanitizeLine } from '../util/sanitize.js';
import { TarParser, type TarHeader } from './tar.js';
import type { EntryType, LayerEntry, LayerWalk } from './types.js';

export interface WalkOptions {
  /** Asked for every accepted entry: return true to receive its content in `onContent`. */
  wantContent?: (e: LayerEntry) => boolean;
  /**
   * Content of a wanted entry, complete. Called during the pass, before the
   * layer's digests are known to be right: discard what you built if
   * walkLayer rejects.
   */
  onContent?: (e: LayerEntry, data: Buffer) => void;
  /** Wanted entries larger than this are not collected (a warning says so). Default 16 MiB. */
  maxContentBytes?: number;
  /** Stored (compressed) bytes read so far, cumulative: comparable with `layer.size`. */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /** Most tar entries a layer may have (memory grows with them). Default MAX_LAYER_ENTRIES. */
  maxEntries?: number;
  /** Most uncompressed bytes a layer may expand to (decompression bombs). Default MAX_LAYER_UNCOMPRESSED_BYTES. */
  maxUncompressedBytes?: number;
}

const DEFAULT_MAX_CONTENT = 16 << 20;
/** A million entries in one layer is far beyond real images (a full distro is ~100k) and is ~200 MB of records. */
export const MAX_LAYER_ENTRIES = 1_000_000;
/** 64 GiB: above any real layer, below what a gzip or zstd bomb of a few MB would otherwise make us chew through. */
export const MAX_LAYER_UNCOMPRESSED_BYTES = 64 * 1024 ** 3;
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** Warnings kept per layer; beyond that they are counted, so a hostile tar cannot grow them without bound. */
const MAX_WARNINGS = 100;

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

export async function walkLayer(layer: Layer, opts: WalkOptions = {}): Promise<LayerWalk> {
  const what = `layer ${layer.digest}`;
  opts.signal?.throwIfAborted();
  const walker = new EntryCollector(what, opts);
  const diff = layer.diffId ? parseDigest(layer.diffId, `${what} diff_id`) : { algorithm: 'sha256' as const, hex: '' };
  const hash = createHash(diff.algorithm);
  let uncompressed = 0;
  const maxBytes = opts.maxUncompressedBytes ?? MAX_LAYER_UNCOMPRESSED_BYTES;

  const stored = await layer.open();
  try {
    const head = await peek(stored);
    const compression: Compression = layer.compression ?? sniffCompression(head ?? Buffer.alloc(0));
    const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [stored];
    if (opts.onProgress) stages.push(progressTap(opts.onProgress));
    const decompressor = makeDecompressor(compression);
    if (decompressor) stages.push(decompressor);
    const parser = walker.parser;
    stages.push(
      new Writable({
        // The sink: hash and parse every uncompressed chunk, synchronously (no per-chunk promise).
        highWaterMark: 1 << 20,
        write(chunk: Buffer, _enc, cb: (e?: Error | null) => void) {
          uncompressed += chunk.length;
          if (uncompressed > maxBytes) {
            cb(new VouchError('LIMIT_EXCEEDED', `${what}: uncompressed content exceeds the limit of ${maxBytes} bytes`));
            return;
          }
          hash.update(chunk);
          try {
            parser.write(chunk);
            cb();
          } catch (e) {
            cb(e as Error);
          }
        },
        final(cb: (e?: Error | null) => void) {
          try {
            parser.end();
            cb();
          } catch (e) {
            cb(e as Error);
          }
        },
      }),
    );
    await pipeline(stages, opts.signal ? { signal: opts.signal } : {}).catch((e: unknown) => {
      throw asLayerError(e, what, compression);
    });
  } finally {
    stored.destroy();
  }

  const actual = `${diff.algorithm}:${hash.digest('hex')}`;
  if (layer.diffId && actual !== layer.diffId) throw new DigestMismatchError(`${what} (uncompressed, diff_id)`, layer.diffId, actual);
  return walker.result(layer.digest, actual, uncompressed);
}

/** Turns the tar records of one layer into LayerEntry values: paths cleaned, whiteouts decoded, duplicates resolved. */
class EntryCollector {
  readonly parser: TarParser;
  private readonly what: string;
  private readonly opts: WalkOptions;
  private readonly maxContent: number;
  private readonly maxEntries: number;
  private readonly entries: LayerEntry[] = [];
  /** key (type-qualified path) → index in entries, to let the last duplicate win. */
  private readonly seen = new Map<string, number>();
  private readonly warnings: string[] = [];
  private droppedWarnings = 0;
  private headerBytes = 0;
  /** Entry built for the header currently being collected. */
  private pendingContent: LayerEntry | null = null;

  constructor(what: string, opts: WalkOptions) {
    this.what = what;
    this.opts = opts;
    this.maxContent = opts.maxContentBytes ?? DEFAULT_MAX_CONTENT;
    this.maxEntries = opts.maxEntries ?? MAX_LAYER_ENTRIES;
    this.parser = new TarParser({
      what,
      maxContentBytes: this.maxContent,
      onEntry: (h) => this.onEntry(h),
      onContent: (_h, data) => {
        const e = this.pendingContent;
        this.pendingContent = null;
        if (e) this.opts.onContent!(e, data);
      },
    });
  }

  private warn(msg: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(sanitizeLine(msg));
    else this.droppedWarnings++;
  }

  private onEntry(h: TarHeader): boolean {
    if (h.index >= this.maxEntries) {
      throw new VouchError('LIMIT_EXCEEDED', `${this.what}: more than ${this.maxEntries} tar entries (offset ${h.offset})`);
    }
    // dive's layer size counts every header it sees, rejected ones included: keep the same sum.
    this.headerBytes += h.size;
    const e = this.toEntry(h);
    if (e === null) return false;
    const key = e.type === 'whiteout' ? `\0wh${e.path}` : e.type === 'opaque' ? `\0opq${e.path}` : e.path;
    const prev = this.seen.get(key);
    if (prev !== undefined) {
      this.warn(`duplicate entry ${JSON.stringify(e.path.slice(0, 200))}: the last one wins`);
      this.entries[prev] = e;
    } else {
      this.seen.set(key, this.entries.length);
      this.entries.push(e);
    }
    if (e.type === 'file' && this.opts.onContent && this.opts.wantContent?.(e)) {
      if (e.size > this.maxContent) {
        this.warn(`content of ${JSON.stringify(e.path.slice(0, 200))} not collected: ${e.size} bytes exceed ${this.maxContent}`);
        return false;
      }
      this.pendingContent = e;
      return true;
    }
    return false;
  }

  private toEntry(h: TarHeader): LayerEntry | null {
    // Built only when there is something to say: this runs for every entry.
    const where = (): string => `entry ${h.index} ${JSON.stringify(h.name.slice(0, 200))}`;
    if (h.name.includes('\0') || h.linkname.includes('\0')) {
      this.warn(`${where()}: NUL in path or link target; entry rejected`);
      return null;
    }
    const path = cleanPath(h.name);
    if (path === null) {
      this.warn(`${where()}: path escapes the root; entry rejected`);
      return null;
    }
    if (path === '/') {
      if (h.typeflag !== '5') this.warn(`${where()}: root entry is not a directory; ignored`);
      return null;
    }
    let type = TYPES[h.typeflag];
    if (type === undefined) {
      // POSIX says to read unknown types as regular files; we record nothing we cannot name, but say so.
      this.warn(`${where()}: unsupported typeflag ${JSON.stringify(h.typeflag)}; entry ignored`);
      return null;
    }
    let finalPath = path;
    const slash = path.lastIndexOf('/');
    const base = path.slice(slash + 1);
    if (base !== OPAQUE && path.includes(`/${WHITEOUT}${WHITEOUT}`)) {
      // ".wh..wh." names other than the opaque marker are AUFS bookkeeping (.wh..wh.plnk/, .wh..wh.aufs), not files.
      this.warn(`${where()}: AUFS metadata ignored`);
      return null;
    }
    if (base.startsWith(WHITEOUT)) {
      const dir = slash === 0 ? '/' : path.slice(0, slash);
      if (base === OPAQUE) {
        type = 'opaque';
        finalPath = dir;
      } else {
        const name = base.slice(WHITEOUT.length);
        if (name === '' || name === '.' || name === '..') {
          this.warn(`${where()}: malformed whiteout; entry rejected`);
          return null;
        }
        type = 'whiteout';
        finalPath = dir === '/' ? `/${name}` : `${dir}/${name}`;
      }
    }
    const e: LayerEntry = {
      path: finalPath,
      type,
      mode: h.mode & 0o7777,
      uid: h.uid,
      gid: h.gid,
      size: type === 'file' ? h.size : 0,
      mtime: h.mtime,
    };
    if (type === 'symlink') {
      e.linkname = h.linkname;
    } else if (type === 'hardlink') {
      const target = cleanPath(h.linkname);
      if (target === null || target === '/') {
        this.warn(`${where()}: hard link target ${JSON.stringify(h.linkname.slice(0, 200))} escapes the root; entry rejected`);
        return null;
      }
      e.linkname = target;
    } else if (type === 'char' || type === 'block') {
      e.devmajor = h.devmajor;
      e.devminor = h.devminor;
    }
    if (h.xattrs) e.xattrs = h.xattrs;
    return e;
  }

  result(digest: string, diffId: string, uncompressedSize: number): LayerWalk {
    if (this.droppedWarnings > 0) this.warnings.push(`${this.droppedWarnings} more warnings not shown`);
    if (this.parser.endedWith === 'missing') this.warnings.push('tar has no end-of-archive marker');
    return { digest, diffId, uncompressedSize, entries: this.entries, warnings: this.warnings, headerBytes: this.headerBytes };
  }
}

/**
 * Cleans a tar path into an absolute one: leading "./" and "/" dropped (kaniko
 * writes absolute paths), "." and empty segments removed, ".." resolved.
 * Returns null when ".." would climb above the root: such an entry is never followed.
 */
export function cleanPath(name: string): string | null {
  // Fast path: one scan proves there is no "", "." or ".." segment to resolve.
  let s = name;
  while (s.startsWith('./')) s = s.slice(2);
  let start = 0;
  while (start < s.length && s.charCodeAt(start) === 0x2f) start++;
  let end = s.length;
  while (end > start && s.charCodeAt(end - 1) === 0x2f) end--;
  if (start === end) return '/';
  let simple = true;
  for (let i = start, seg = start; i <= end; i++) {
    if (i === end || s.charCodeAt(i) === 0x2f) {
      const n = i - seg;
      if (n === 0 || (s.charCodeAt(seg) === 0x2e && (n === 1 || (n === 2 && s.charCodeAt(seg + 1) === 0x2e)))) {
        simple = false;
        break;
      }
      seg = i + 1;
    }
  }
  if (simple) return `/${s.slice(start, end)}`;
  const out: string[] = [];
  for (const seg of s.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** Reads the first chunk without consuming it, to sniff the compression. Null for an empty stream. */
function peek(stream: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const done = (v: Buffer | null, err?: unknown): void => {
      stream.off('readable', onReadable);
      stream.off('error', onError);
      stream.off('end', onEnd);
      if (err !== undefined) reject(err);
      else resolve(v);
    };
    const onReadable = (): void => {
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) stream.unshift(chunk);
      done(chunk);
    };
    const onError = (e: unknown): void => done(null, e);
    const onEnd = (): void => done(null);
    stream.on('readable', onReadable);
    stream.on('error', onError);
    stream.on('end', onEnd);
  });
}

function progressTap(onProgress: (bytes: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onProgress(n);
      cb(null, chunk);
    },
  });
}

function makeDecompressor(c: Compression): Transform | null {
  if (c === 'none') return null;
  if (c === 'gzip') return zlib.createGunzip({ chunkSize: 256 << 10 });
  const native = (zlib as unknown as { createZstdDecompress?: (o?: object) => Transform }).createZstdDecompress;
  if (typeof native === 'function') return native({ chunkSize: 256 << 10 });
  return fzstdTransform();
}

/** fzstd's push-style streaming decoder as a Transform (for Node versions without zlib zstd). */
function fzstdTransform(): Transform {
  let t: Transform;
  const d = new ZstdDecompress((data) => {
    // fzstd may hand out views of its window buffer: copy before it is overwritten.
    if (data.length > 0) t.push(Buffer.from(data));
  });
  t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        d.push(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb) {
      try {
        d.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  return t;
}

/** Typed errors pass through; decompression failures become INVALID_TAR naming the layer. */
function asLayerError(e: unknown, what: string, c: Compression): unknown {
  if (isVouchError(e)) return e;
  if (e instanceof Error && e.name === 'AbortError') return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new VouchError('INVALID_TAR', `${what}: ${c === 'none' ? 'read' : `${c} decompression`} failed: ${sanitizeLine(msg)}`, { cause: e });
}
