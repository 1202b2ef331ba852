/**
 * One streaming pass over a layer: stored bytes (verified by the source) →
 * decompress → sha256 of the tar (checked against the diff_id) → tar parser →
 * LayerEntry records. Nothing is extracted; content is collected only for the
 * entries a cataloger asks for, so catalogers run inside this same pass.
 */
import { Duplex, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { DigestMismatchError, VouchError, isVouchError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import { sniffCompression, type Compression } from '../oci/mediatypes.js';
import type { Layer } from '../sources/image.js';
import { sanitizeLine } from '../util/sanitize.js';
import { TarParser, type TarHeader } from './tar.js';
import { ContentDigester, materializeDigests } from './content-digests.js';
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
  /**
   * Leave the content digests as raw slots in `contentDigests` instead of a hex `sha256` on every file entry
   * (call materializeDigests() when they are needed): a summary that never reads them keeps no string per file.
   */
  lazyDigests?: boolean;
  /** Uncompressed bytes left for the whole image, shared by the walks of its layers (decompression bombs spread over layers). */
  imageBudget?: ImageBudget;
}

export interface ImageBudget {
  left: number;
  readonly limit: number;
  /** Tar entries left for the whole image (memory grows with them: many layers each under the per-layer cap). */
  entriesLeft?: number;
  readonly entriesLimit?: number;
  /** Bytes of path and link names left for the whole image (they are held in memory, several times over). */
  nameBytesLeft?: number;
  readonly nameBytesLimit?: number;
}

const DEFAULT_MAX_CONTENT = 16 << 20;
/** Two million entries in one layer is far beyond real images (a full distro is ~100k); a million files and their folders fit. */
export const MAX_LAYER_ENTRIES = 2_000_000;
/** 64 GiB: above any real layer, below what a gzip or zstd bomb of a few MB would otherwise make us chew through. */
export const MAX_LAYER_UNCOMPRESSED_BYTES = 64 * 1024 ** 3;
/** 128 GiB for all the layers of one image: a bomb split over many layers stops here (about two minutes of inflating). */
export const MAX_IMAGE_UNCOMPRESSED_BYTES = 128 * 1024 ** 3;
/** Entries of all the layers of one image: each costs ~600 bytes of memory, so this is about 1.2 GB. */
export const MAX_IMAGE_ENTRIES = 2_000_000;
/**
 * Bytes of path and link names of all the layers of one image. The entries budget assumes short names; each
 * name byte is held about four times over (the header's string, the entry, the merged tree, the cache's JSON),
 * so 50,000 names of 8,000 bytes took 1.7 GB. At 192 MiB the worst case stays under about 1 GB; a million
 * files with 100-byte paths use half of it.
 */
export const MAX_IMAGE_NAME_BYTES = 192 * 1024 ** 2;

/** The bounds a layer walk enforces; each can be set from the environment (the only place a user can reach every command from). */
export interface AnalysisLimits {
  layerBytes: number;
  imageBytes: number;
  layerEntries: number;
  imageEntries: number;
  nameBytes: number;
}

const LIMIT_VARS: Array<[keyof AnalysisLimits, string, number]> = [
  ['layerBytes', 'VOUCH_MAX_LAYER_BYTES', MAX_LAYER_UNCOMPRESSED_BYTES],
  ['imageBytes', 'VOUCH_MAX_IMAGE_BYTES', MAX_IMAGE_UNCOMPRESSED_BYTES],
  ['layerEntries', 'VOUCH_MAX_LAYER_ENTRIES', MAX_LAYER_ENTRIES],
  ['imageEntries', 'VOUCH_MAX_IMAGE_ENTRIES', MAX_IMAGE_ENTRIES],
  ['nameBytes', 'VOUCH_MAX_NAME_BYTES', MAX_IMAGE_NAME_BYTES],
];

/** The limits from VOUCH_MAX_LAYER_BYTES, VOUCH_MAX_IMAGE_BYTES, VOUCH_MAX_LAYER_ENTRIES, VOUCH_MAX_IMAGE_ENTRIES and VOUCH_MAX_NAME_BYTES (sizes take K, M, G, T suffixes, powers of 1024), else the defaults. */
export function analysisLimits(env: NodeJS.ProcessEnv = process.env): AnalysisLimits {
  const out = {} as AnalysisLimits;
  for (const [key, name, dflt] of LIMIT_VARS) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      out[key] = dflt;
      continue;
    }
    const n = parseLimit(raw.trim());
    if (n === undefined) {
      throw new VouchError('USAGE', `${name}=${JSON.stringify(raw.slice(0, 40))} is not a limit: give a whole number of at least 1, or a number with a suffix K, M, G, T (or KiB … TiB: powers of 1024) or KB, MB, GB, TB (powers of 1000), e.g. 64G or 1.5GB`);
    }
    out[key] = n;
  }
  return out;
}
/** `64G`, `1.5GiB`, `10MB` (SI: powers of 1000), `2000000`: whole bytes or entries, at least 1; else undefined. */
function parseLimit(text: string): number | undefined {
  const m = /^([0-9]{1,16}(?:\.[0-9]{1,9})?)\s*(?:([kmgt])(ib|b)?)?$/i.exec(text);
  if (!m) return undefined;
  const power = m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0;
  // A fraction needs a suffix to mean a whole number of bytes (1.5G); rounded down.
  if (power === 0 && m[1]!.includes('.')) return undefined;
  const n = Math.floor(Number(m[1]) * (m[3]?.toLowerCase() === 'b' ? 1000 : 1024) ** power);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** Bytes as a person reads them (decimal units, as the ~600 bytes per entry estimate is rough). */
function roughBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${Math.round(n / 1e6)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} kB`;
  return `${n} bytes`;
}

/** The error when the layers of one image hold more entries than VOUCH_MAX_IMAGE_ENTRIES; `what` names the layer that crossed it. */
export function imageEntriesExceeded(what: string, limit: number): VouchError {
  return new VouchError('LIMIT_EXCEEDED', `${what}: the image's layers hold more than the limit of ${limit} tar entries per image (each costs ~600 bytes of memory: about ${roughBytes(limit * 600)} at this limit; VOUCH_MAX_IMAGE_ENTRIES raises it)`);
}

/** The error when the names an image's layers hold exceed VOUCH_MAX_NAME_BYTES; `what` names the layer that crossed it. */
export function imageNameBytesExceeded(what: string, limit: number): VouchError {
  return new VouchError('LIMIT_EXCEEDED', `${what}: the image's layers hold more than the limit of ${limit} bytes of path and link names (held in memory several times over; VOUCH_MAX_NAME_BYTES raises it)`);
}

/**
 * Bytes of names an entry holds, as the name budget counts them: path, link name and xattr names. A name with
 * a character beyond Latin-1 (a non-UTF-8 byte is kept as a lone surrogate) is a two-byte string in memory and
 * up to six characters a unit in the cache's JSON: it is charged three units a character.
 */
export function nameBytesOf(e: { path: string; linkname?: string; xattrs?: readonly string[] }): number {
  let n = stringUnits(e.path) + (e.linkname === undefined ? 0 : stringUnits(e.linkname));
  if (e.xattrs) for (const x of e.xattrs) n += stringUnits(x);
  return n;
}

const WIDE = /[^\x00-\xff]/;
/** Units a string costs the name budget (see nameBytesOf); warnings are charged the same way. */
export function stringUnits(s: string): number {
  return WIDE.test(s) ? s.length * 3 : s.length;
}

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

  const diff = layer.diffId ? parseDigest(layer.diffId, `${what} diff_id`) : { algorithm: 'sha256' as const, hex: '' };
  let uncompressed = 0;
  const maxBytes = opts.maxUncompressedBytes ?? MAX_LAYER_UNCOMPRESSED_BYTES;
  const budget = opts.imageBudget;

  let streamHex = '';
  const stored = await layer.open();
  // Every file's content is hashed on the digest worker, from copies of the chunks the parser sees.
  const digester = new ContentDigester(diff.algorithm);
  const walker = new EntryCollector(what, opts, digester);
  let walked = false;
  try {
    const head = await peek(stored);
    const compression: Compression = layer.compression ?? sniffCompression(head ?? Buffer.alloc(0));
    const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> = [stored];
    if (opts.onProgress) stages.push(progressTap(opts.onProgress));
    const decompressor = makeDecompressor(compression, what);
    if (decompressor) stages.push(decompressor);
    const parser = walker.parser;
    stages.push(
      new Writable({
        // The sink: parse every uncompressed chunk synchronously, then hand it to the digester (waiting only when its buffers are all out).
        highWaterMark: 1 << 20,
        write(chunk: Buffer, _enc, cb: (e?: Error | null) => void) {
          uncompressed += chunk.length;
          if (uncompressed > maxBytes) {
            cb(new VouchError('LIMIT_EXCEEDED', `${what}: uncompressed content exceeds the limit of ${maxBytes} bytes per layer (a decompression bomb? VOUCH_MAX_LAYER_BYTES raises it)`));
            return;
          }
          if (budget) {
            budget.left -= chunk.length;
            if (budget.left < 0) {
              cb(new VouchError('LIMIT_EXCEEDED', `${what}: the image's layers expand to more than the limit of ${budget.limit} uncompressed bytes per image (a decompression bomb? VOUCH_MAX_IMAGE_BYTES raises it)`));
              return;
            }
          }
          try {
            parser.write(chunk);
          } catch (e) {
            cb(e as Error);
            return;
          }
          // After the parser: the file ranges this chunk starts are known to the digester before its bytes.
          // The digester hashes the whole stream (the diff_id) and every file's content.
          const wait = digester.write(chunk);
          if (wait) wait.then(() => cb(), cb);
          else cb();
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
    await pipeline(stages, opts.signal ? { signal: opts.signal } : {}).catch(async (e: unknown) => {
      const err = asLayerError(e, what, compression);
      // gunzip or the tar parser can trip over wrong bytes before the blob's digest is known (it is checked at
      // its end): read the blob again and report the mismatch if that is what it was, not a broken layer.
      if (isVouchError(err) && err.code === 'INVALID_TAR') {
        // A remote blob is not downloaded again (a liar may trickle a huge one): it is reported corrupt as it stands.
        if (layer.remote) throw new VouchError('INVALID_TAR', `blob ${layer.digest} of ${layer.remote}: ${err.message.replace(`${what}: `, '')} (a corrupt layer; not downloaded again to check its digest)`, { cause: err });
        await blameWrongBytes(layer);
      }
      throw err;
    });
    const { slots, tarHex } = await digester.end();
    if (slots.length !== walker.fileCount * 32) throw new Error(`${what}: ${slots.length / 32} content digests for ${walker.fileCount} files`);
    walker.slots = slots;
    streamHex = tarHex;
    walked = true;
  } finally {
    digester.cancel();
    stored.destroy();
    if (!walked) walker.refundEntries();
  }

  const actual = `${diff.algorithm}:${streamHex}`;
  if (layer.diffId && actual !== layer.diffId) walker.refundEntries();
  if (layer.diffId && actual !== layer.diffId) throw new DigestMismatchError(`${what} (uncompressed, diff_id)`, layer.diffId, actual);
  const walk = walker.result(layer.digest, actual, uncompressed);
  return opts.lazyDigests ? walk : materializeDigests(walk);
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
  /** Entries taken from the image's entries budget, given back if this walk fails (a retry counts them again). */
  private budgetedEntries = 0;
  /** Name bytes taken from the image's budget, given back likewise. */
  private budgetedNameBytes = 0;
  /** The accepted regular file whose header was just read: its data range is the next one reported. */
  private digestTarget: LayerEntry | null = null;
  /** The entry of each content-digest slot (null: a rejected entry's data, hashed all the same). */
  private readonly slotEntries: Array<LayerEntry | null> = [];
  get fileCount(): number {
    return this.slotEntries.length;
  }
  /** Set once the digester has returned. */
  slots: Buffer | null = null;
  /** Every directory above a symlink this layer wrote: only an entry at one of them can hide symlinks below it. */
  private readonly symlinkParents = new Set<string>();
  /** Entry built for the header currently being collected. */
  private pendingContent: LayerEntry | null = null;
  /** Symlinks this layer has written so far (resolved path → target): later entries of the same layer are written through them. */
  private readonly symlinks = new Map<string, string>();

  constructor(what: string, opts: WalkOptions, digester: ContentDigester) {
    this.what = what;
    this.opts = opts;
    this.maxContent = opts.maxContentBytes ?? DEFAULT_MAX_CONTENT;
    this.maxEntries = opts.maxEntries ?? MAX_LAYER_ENTRIES;
    this.parser = new TarParser({
      what,
      maxContentBytes: this.maxContent,
      onEntry: (h) => this.onEntry(h),
      onFileData: (_h, start, size) => {
        this.slotEntries.push(this.digestTarget);
        this.digestTarget = null;
        digester.addRange(start, size);
      },
      onContent: (_h, data) => {
        const e = this.pendingContent;
        this.pendingContent = null;
        if (e) this.opts.onContent!(e, data);
      },
    });
  }

  refundEntries(): void {
    const budget = this.opts.imageBudget;
    if (budget?.entriesLeft !== undefined) budget.entriesLeft += this.budgetedEntries;
    this.budgetedEntries = 0;
    if (budget?.nameBytesLeft !== undefined) budget.nameBytesLeft += this.budgetedNameBytes;
    this.budgetedNameBytes = 0;
  }

  private warn(msg: string): void {
    if (this.warnings.length >= MAX_WARNINGS) {
      this.droppedWarnings++;
      return;
    }
    const line = sanitizeLine(msg);
    this.warnings.push(line);
    // Kept warnings hold names too (one blob listed by thousands of layers would multiply them): same budget.
    const budget = this.opts.imageBudget;
    if (budget?.nameBytesLeft !== undefined) {
      const n = stringUnits(line);
      budget.nameBytesLeft -= n;
      this.budgetedNameBytes += n;
      if (budget.nameBytesLeft < 0) throw imageNameBytesExceeded(this.what, budget.nameBytesLimit ?? 0);
    }
  }

  private onEntry(h: TarHeader): boolean {
    if (h.index >= this.maxEntries) {
      throw new VouchError('LIMIT_EXCEEDED', `${this.what}: more than ${this.maxEntries} tar entries (offset ${h.offset}; VOUCH_MAX_LAYER_ENTRIES raises it)`);
    }
    const budget = this.opts.imageBudget;
    if (budget?.entriesLeft !== undefined) {
      budget.entriesLeft--;
      this.budgetedEntries++;
      if (budget.entriesLeft < 0) throw imageEntriesExceeded(this.what, budget.entriesLimit ?? 0);
    }
    // dive's layer size counts every header it sees, rejected ones included: keep the same sum.
    this.headerBytes += h.size;
    const e = this.toEntry(h);
    this.digestTarget = e !== null && e.type === 'file' ? e : null;
    if (e === null) return false;
    if (budget?.nameBytesLeft !== undefined) {
      const n = nameBytesOf(e);
      budget.nameBytesLeft -= n;
      this.budgetedNameBytes += n;
      if (budget.nameBytesLeft < 0) throw imageNameBytesExceeded(this.what, budget.nameBytesLimit ?? 0);
    }
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
    const climb = { climbed: false };
    const path = cleanPath(h.name, climb);
    // containerd, podman and umoci clamp ".." at the root and extract the entry there (docker's own unpacker
    // takes "/../x" as "/x" and refuses "../x"): show it where it lands, and say the name was odd.
    if (climb.climbed) this.warn(`${where()}: path climbs above the root; clamped there as the runtimes extract it, at ${JSON.stringify(path.slice(0, 200))}`);
    if (path === '/') {
      if (h.typeflag !== '5') this.warn(`${where()}: root entry is not a directory; ignored`);
      // Some unpackers (umoci, docker's) apply the root entry's mode to the rootfs itself: say so when it matters.
      else if (h.mode & 0o7002) this.warn(`${where()}: root directory entry has mode ${(h.mode & 0o7777).toString(8).padStart(4, '0')} (${[h.mode & 0o002 ? 'world-writable' : '', h.mode & 0o6000 ? 'setuid/setgid' : '', h.mode & 0o1000 ? 'sticky' : ''].filter(Boolean).join(', ')}); unpackers that apply it make / so`);
      return null;
    }
    let type = TYPES[h.typeflag];
    if (type === undefined) {
      // POSIX says to read unknown types as regular files; we record nothing we cannot name, but say so.
      this.warn(`${where()}: unsupported typeflag ${JSON.stringify(h.typeflag)}; entry ignored`);
      return null;
    }
    // The runtime extracts the tar entry by entry, following the symlinks earlier entries of the same
    // layer created (bounded to the root); the entry lands where that leads, not at its literal name.
    const resolved = resolveParent(path, this.symlinks);
    if (resolved === null) {
      this.warn(`${where()}: its parent directory goes through more than ${MAX_SYMLINK_HOPS} symlinks (a loop); the runtime cannot extract it; entry rejected`);
      return null;
    }
    if (resolved !== path) this.warn(`${where()}: written through a symlink of the same layer to ${JSON.stringify(resolved.slice(0, 200))}`);
    if (resolved !== path && resolved.length > MAX_RESOLVED_PATH) {
      // Symlinks of the same layer can lengthen a short name without bound (a chain of long targets).
      throw new VouchError('LIMIT_EXCEEDED', `${this.what}: ${where()}: written through symlinks to a path of ${resolved.length} characters, over the limit of ${MAX_RESOLVED_PATH} (offset ${h.offset})`);
    }
    if (resolved.length > MAX_PATH_DEPTH && depthOf(resolved) > MAX_PATH_DEPTH) {
      // The runtime cannot extract it either (PATH_MAX is 4096 bytes): refused as a whole, as a path over 8 KiB is.
      throw new VouchError('LIMIT_EXCEEDED', `${this.what}: ${where()}: path is ${depthOf(resolved)} folders deep, over the limit of ${MAX_PATH_DEPTH} (offset ${h.offset})`);
    }
    return this.toEntryAt(h, resolved, type, where);
  }

  private toEntryAt(h: TarHeader, path: string, type: EntryType, where: () => string): LayerEntry | null {
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
    if (type === 'whiteout' || type === 'opaque') {
      // Nothing is written at the whiteout's name itself.
    } else if (type === 'symlink') {
      this.symlinks.set(finalPath, h.linkname);
      for (let i = finalPath.lastIndexOf('/'); i > 0; i = finalPath.lastIndexOf('/', i - 1)) this.symlinkParents.add(finalPath.slice(0, i));
    } else if (this.symlinks.size > 0) {
      // An entry replaces the symlink at its own path (the last component is never followed), and what was under a directory it replaces.
      this.symlinks.delete(finalPath);
      // Scanning every symlink for each entry made a layer with thousands of them quadratic: only scan below a known parent.
      if (type !== 'dir' && this.symlinkParents.has(finalPath)) for (const p of this.symlinks.keys()) if (p.startsWith(`${finalPath}/`)) this.symlinks.delete(p);
    }
    if (type === 'symlink') {
      e.linkname = h.linkname;
    } else if (type === 'hardlink') {
      const climbTarget = { climbed: false };
      const clean = cleanPath(h.linkname, climbTarget);
      // The link's target path is looked up through the layer's symlinks too (all but its last component).
      const target = clean === '/' ? clean : resolveParent(clean, this.symlinks);
      if (climbTarget.climbed) this.warn(`${where()}: hard link target ${JSON.stringify(h.linkname.slice(0, 200))} climbs above the root; clamped there as containerd and umoci resolve it`);
      if (target === null || target === '/') {
        this.warn(`${where()}: hard link target ${JSON.stringify(h.linkname.slice(0, 200))} is the root or unreachable; entry rejected`);
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
    const w: LayerWalk = { digest, diffId, uncompressedSize, entries: this.entries, warnings: this.warnings, headerBytes: this.headerBytes, tarEntries: this.parser.entries };
    if (this.slots) w.contentDigests = { slots: this.slots, entries: this.slotEntries };
    return w;
  }
}

/** Deepest path accepted: far beyond real images (tens of levels), below what the tree walks' recursion and the runtime's PATH_MAX allow. */
export const MAX_PATH_DEPTH = 2048;

/** Longest path an entry may land at through symlinks: the tar parser's own limit on a written path. */
const MAX_RESOLVED_PATH = 8 << 10;

function depthOf(path: string): number {
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 0x2f) n++;
  return n;
}

/** Linux stops at 40 symlinks per lookup, containerd's fs.RootPath at 255: follow as far as the most lenient runtime. */
export const MAX_SYMLINK_HOPS = 255;

/**
 * Where an extraction writes `path` (absolute, cleaned) when `symlinks` (this layer's, resolved path →
 * target) exist: every parent component that is one of them is followed, relative targets from the
 * link's directory, absolute ones from the root, `..` clamped at the root (the runtime extracts
 * chrooted); the last component is not followed. Lower layers' symlinks are not in the map: overlay
 * extraction writes into the layer's own directory, where they do not exist. Null after too many hops.
 */
export function resolveParent(path: string, symlinks: ReadonlyMap<string, string>): string | null {
  if (symlinks.size === 0) return path;
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  const todo = path.slice(0, slash).split('/').filter((s) => s !== '').reverse();
  const out: string[] = [];
  let hops = 0;
  let changed = false;
  while (todo.length > 0) {
    const seg = todo.pop()!;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    const at = `/${out.length > 0 ? `${out.join('/')}/` : ''}${seg}`;
    const target = symlinks.get(at);
    if (target === undefined) {
      out.push(seg);
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) return null;
    changed = true;
    if (target.startsWith('/')) out.length = 0;
    const segs = target.split('/');
    for (let i = segs.length - 1; i >= 0; i--) todo.push(segs[i]!);
  }
  if (!changed) return path;
  return `/${out.length > 0 ? `${out.join('/')}/` : ''}${base}`;
}

/**
 * Cleans a tar path into an absolute one: leading "./" and "/" dropped (kaniko
 * writes absolute paths), "." and empty segments removed, ".." resolved and
 * clamped at the root as containerd's fs.RootPath and umoci's securejoin do
 * (`out.climbed` is set when a ".." was dropped there).
 */
export function cleanPath(name: string, out?: { climbed: boolean }): string {
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
  const segs: string[] = [];
  for (const seg of s.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (segs.length === 0) {
        if (out) out.climbed = true;
      } else segs.pop();
    } else segs.push(seg);
  }
  return `/${segs.join('/')}`;
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

function makeDecompressor(c: Compression, what: string): Transform | Duplex | null {
  if (c === 'none') return null;
  if (c === 'gzip') return zlib.createGunzip({ chunkSize: 256 << 10 });
  const native = (zlib as unknown as { createZstdDecompress?: (o?: object) => Transform }).createZstdDecompress;
  if (typeof native === 'function') return native({ chunkSize: 256 << 10 });
  return fzstdTransform(what);
}

/**
 * The largest zstd window we decode with: zstd's own default decoder limit
 * (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27), which Node's native decoder applies too.
 */
const MAX_ZSTD_WINDOW = 1 << 27;

/**
 * Reads just the frame and block headers of a zstd stream as it passes, so that
 * a frame asking for a huge window (fzstd allocates it up front, up to 2 GiB, from
 * a 6-byte header) is refused before fzstd sees it. Anything it cannot follow
 * (a reserved block type, a bad magic) it leaves to fzstd to reject.
 */
class ZstdFrameGuard {
  private state: 'magic' | 'header' | 'block' | 'skip' | 'off' = 'magic';
  private buf: number[] = [];
  private need = 4;
  private skip = 0;
  private checksum = false;
  private afterSkip: 'magic' | 'block' = 'magic';

  constructor(private readonly what: string) {}

  check(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.state !== 'off') {
      if (this.state === 'skip') {
        const n = Math.min(this.skip, chunk.length - i);
        i += n;
        this.skip -= n;
        if (this.skip === 0) this.state = this.afterSkip;
        continue;
      }
      this.buf.push(chunk[i++]!);
      if (this.buf.length < this.need) continue;
      const b = this.buf;
      if (this.state === 'magic') {
        const magic = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
        if (magic === 0xfd2fb528) {
          this.state = 'header';
          this.need = 5; // magic + frame header descriptor, then the rest of the header
          continue;
        }
        if ((magic & 0xfffffff0) === 0x184d2a50) {
          this.need = 8; // skippable frame: 4-byte size follows
          if (b.length < 8) continue;
          this.begin(((b[4]! | (b[5]! << 8) | (b[6]! << 16)) >>> 0) + b[7]! * 2 ** 24, 'magic');
          continue;
        }
        this.state = 'off';
        continue;
      }
      if (this.state === 'header') {
        const fhd = b[4]!;
        if (fhd & 0x08) {
          this.state = 'off'; // reserved bit: not a frame fzstd will accept either
          continue;
        }
        const single = (fhd >> 5) & 1;
        const fcsBytes = [single, 2, 4, 8][fhd >> 6]!;
        const dictBytes = [0, 1, 2, 4][fhd & 3]!;
        const len = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
        if (b.length < len) {
          this.need = len;
          continue;
        }
        let window: number;
        if (!single) {
          const wd = b[5]!;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        } else {
          let fcs = 0;
          for (let k = fcsBytes - 1; k >= 0; k--) fcs = fcs * 256 + b[len - fcsBytes + k]!;
          window = fcs + (fcsBytes === 2 ? 256 : 0);
        }
        if (window > MAX_ZSTD_WINDOW) {
          throw new VouchError('LIMIT_EXCEEDED', `${this.what}: zstd frame needs a ${window}-byte window, over the ${MAX_ZSTD_WINDOW}-byte limit (too much memory to decode)`);
        }
        this.checksum = ((fhd >> 2) & 1) === 1;
        this.state = 'block';
        this.buf = [];
        this.need = 3;
        continue;
      }
      // A block header: bit 0 last block, bits 1-2 type (raw, RLE, compressed, reserved), then the size.
      const h = b[0]! | (b[1]! << 8) | (b[2]! << 16);
      const type = (h >> 1) & 3;
      if (type === 3) {
        this.state = 'off';
        continue;
      }
      const body = type === 1 ? 1 : h >>> 3;
      const last = (h & 1) === 1;
      this.begin(body + (last && this.checksum ? 4 : 0), last ? 'magic' : 'block');
    }
  }

  private begin(skip: number, next: 'magic' | 'block'): void {
    this.buf = [];
    this.need = next === 'magic' ? 4 : 3;
    this.afterSkip = next;
    this.skip = skip;
    this.state = skip > 0 ? 'skip' : next;
  }
}

/**
 * fzstd's push-style streaming decoder as a Duplex (for Node versions without zlib zstd). fzstd hands out
 * every block an input chunk completes, synchronously and regardless of backpressure, and an RLE block is
 * 4 bytes for 128 KiB: a 1 MiB read would be 32 GiB at once. So the input goes in by FZSTD_SLICE bytes
 * (at most 32 MiB of output each) and the blocks are handed on one by one, each waiting for the reader.
 */
const FZSTD_SLICE = 1024;
function fzstdTransform(what: string): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    let out: Buffer[] = [];
    const guard = new ZstdFrameGuard(what);
    // fzstd may hand out views of its window buffer: copy before it is overwritten.
    const d = new ZstdDecompress((data) => {
      if (data.length > 0) out.push(Buffer.from(data));
    });
    for await (const chunk of source) {
      for (let i = 0; i < chunk.length; i += FZSTD_SLICE) {
        const slice = chunk.subarray(i, i + FZSTD_SLICE);
        guard.check(slice); // before fzstd allocates the window a header asks for
        d.push(slice);
        if (out.length > 0) {
          const ready = out;
          out = [];
          for (const b of ready) yield b;
        }
      }
    }
    d.push(new Uint8Array(0), true);
    for (const b of out) yield b;
  });
}

/** Reads `layer`'s blob to its end through its verifier; throws only a digest or size mismatch (other failures say nothing about the bytes). */
async function blameWrongBytes(layer: Layer): Promise<void> {
  let mismatch: unknown;
  try {
    const again = await layer.open();
    for await (const _chunk of again) void _chunk;
  } catch (e) {
    if (isVouchError(e) && (e.code === 'DIGEST_MISMATCH' || e.code === 'SIZE_MISMATCH')) mismatch = e;
  }
  if (mismatch) throw mismatch;
}

/** Typed errors pass through; decompression failures become INVALID_TAR naming the layer. */
function asLayerError(e: unknown, what: string, c: Compression): unknown {
  if (isVouchError(e)) return e;
  if (e instanceof Error && e.name === 'AbortError') return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new VouchError('INVALID_TAR', `${what}: ${c === 'none' ? 'read' : `${c} decompression`} failed: ${sanitizeLine(msg)}`, { cause: e });
}
