/**
 * Content-addressed cache. Everything stored here is keyed by a digest (plus
 * the analyser version), so an entry never goes stale: it is written once,
 * atomically (temp file + rename in the same directory), and read forever.
 *
 * An entry is never trusted as it lies on disk: each file starts with a header
 * line naming its namespace, its key and the sha256 and length of the JSON
 * after it. A flipped byte, a truncated file, an entry copied or linked from
 * another key, a symlink (to another entry or out of the cache), a directory
 * on the way that is a symlink, or a file someone else owns, is a miss: the
 * entry is removed (so the caller's rebuild replaces it) and the rejection is
 * recorded in `rejected`, passed to `onReject` and reported to whoever listens
 * through withCacheRejections (events.ts: the CLI prints one line).
 */
import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join, dirname, relative, sep } from 'node:path';
import envPaths from 'env-paths';
import { parseDigest } from '../oci/digest.js';
import { sweepDeadTempsOnce } from '../util/dead-temps.js';
import { reportCacheRejection, type CacheRejection } from './events.js';

export type { CacheRejection } from './events.js';

/** The user's cache directory (XDG on Linux), or $VOUCH_CACHE_DIR. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VOUCH_CACHE_DIR) return env.VOUCH_CACHE_DIR;
  return envPaths('vouch', { suffix: '' }).cache;
}

/** Write a file atomically: readers see the old content or the new, never a torn file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, dirMode = 0o755): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: dirMode });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A cache folder that could not be written: the command goes on without the cache. */
export interface CacheUnusable {
  dir: string;
  /** The errno that says why: EROFS, EACCES, ENOTDIR, ENOSPC, … */
  code: string;
  reason: string;
}

let unusableSink: ((u: CacheUnusable) => void) | undefined;

/**
 * Where a failed cache write is reported (the CLI prints one warning per folder; core
 * never prints). Returns the previous sink, for the caller to put back.
 */
export function setCacheUnusableSink(sink: ((u: CacheUnusable) => void) | undefined): ((u: CacheUnusable) => void) | undefined {
  const prev = unusableSink;
  unusableSink = sink;
  return prev;
}

const REASONS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a file stands where a folder should be',
  EEXIST: 'a file stands where a folder should be',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
};

/**
 * mkdir -p reports ENOENT when a folder cannot be created on a read-only file system:
 * find the first missing folder on the way and create it alone, for the real errno.
 */
async function whyNoFolder(dir: string): Promise<string> {
  let missing = dir;
  for (let up = dirname(dir); ; missing = up, up = dirname(up)) {
    const st = await stat(up).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) {
      if (st.code !== 'ENOENT') return st.code ?? 'ENOENT';
      if (up === dirname(up)) return 'ENOENT';
      continue;
    }
    if (!st.isDirectory()) return 'ENOTDIR';
    try {
      await mkdir(missing, { mode: 0o700 });
      await rmdir(missing).catch(() => undefined);
      return 'ENOENT';
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? 'ENOENT';
    }
  }
}

/** First bytes of every entry; the version lets a later format make old entries a miss. */
const MAGIC = 'vouch-cache-entry/1';
/** A header line is short; anything longer is not ours. */
const MAX_HEADER = 512;

export interface ContentCacheOptions {
  /** Told about every entry refused as corrupt or foreign (it is removed and read as a miss). */
  onReject?: (r: CacheRejection) => void;
}

export class ContentCache {
  readonly dir: string;
  /** Entries refused by this instance, in order (for reports and tests). */
  readonly rejected: CacheRejection[] = [];
  private readonly onReject: ((r: CacheRejection) => void) | undefined;
  private realDir: Promise<string | undefined> | undefined;
  /** Set after a write failed for the folder's sake: the rest of the run does not try again. */
  private unusable = false;

  constructor(dir: string = defaultCacheDir(), opts: ContentCacheOptions = {}) {
    this.dir = dir;
    this.onReject = opts.onReject;
  }

  /** Path of the entry for `digest` in namespace `ns` (e.g. "analysis/v3"). */
  pathFor(ns: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest, 'cache key');
    return join(this.dir, ns, algorithm, `${hex}.json`);
  }

  /**
   * The cached value, or undefined on a miss. An entry that is torn, altered,
   * foreign or reached through a link is refused (removed, recorded) and is a
   * miss too, never an error and never served.
   */
  async getJson<T>(ns: string, digest: string): Promise<T | undefined> {
    const path = this.pathFor(ns, digest);
    let bytes: Buffer;
    try {
      bytes = await this.readEntry(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A folder that is missing or may not be read is a miss, not a corrupt entry.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return undefined;
      // ELOOP: the entry itself is a symlink (O_NOFOLLOW); others are said by readEntry.
      await this.reject(path, code === 'ELOOP' ? 'is a symbolic link' : e instanceof Error ? e.message : String(e), ns, digest);
      return undefined;
    }
    const problem = checkEntry(bytes, ns, digest);
    if (typeof problem === 'string') {
      await this.reject(path, problem, ns, digest);
      return undefined;
    }
    try {
      return JSON.parse(problem.body) as T;
    } catch {
      // The hash matched, so we wrote it: still never served if it does not parse.
      await this.reject(path, 'does not parse as JSON', ns, digest);
      return undefined;
    }
  }

  async putJson(ns: string, digest: string, value: unknown): Promise<void> {
    const body = Buffer.from(JSON.stringify(value), 'utf8');
    const header = `${MAGIC} ${ns} ${digest} sha256:${createHash('sha256').update(body).digest('hex')} ${body.length}\n`;
    // Private to the user: another local user who could write here could plant analyses ("no setuid files")
    // that a later inspect would serve as the truth for that digest.
    const path = this.pathFor(ns, digest);
    if (this.unusable) return;
    try {
      // A vouch killed mid-write leaves its temp file here: the next writer removes those of dead processes.
      await sweepDeadTempsOnce(dirname(path));
      await writeFileAtomic(path, Buffer.concat([Buffer.from(header, 'utf8'), body]), 0o600, 0o700);
    } catch (e) {
      // The cache only saves time: a folder that cannot be written (read-only, a file in
      // its place, a full disk) must not throw away the analysis just made. Said once.
      const errno = (e as NodeJS.ErrnoException).code;
      if (typeof errno !== 'string') throw e;
      this.unusable = true;
      const code = errno === 'ENOENT' ? await whyNoFolder(dirname(path)) : errno;
      unusableSink?.({ dir: this.dir, code, reason: REASONS[code] ?? (e instanceof Error ? e.message.replace(/^[A-Z]+: /, '').replace(/,.*$/, '') : code) });
    }
  }

  /** The entry's bytes, read without following a link at its name or in the folders under the cache root. */
  private async readEntry(path: string): Promise<Buffer> {
    // O_NONBLOCK: a FIFO planted at the name must not hang us; the type is checked on the descriptor.
    const fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error('is not a regular file');
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid) throw new Error(`is owned by uid ${st.uid}, not by this user`);
      // A folder on the way that is a symlink would let the entry live anywhere.
      this.realDir ??= realpath(this.dir).catch(() => undefined);
      const root = await this.realDir;
      const where = await realpath(dirname(path)).catch(() => undefined);
      if (root === undefined || where !== join(root, relative(this.dir, dirname(path)))) throw new LinkedFolder();
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /** Removes the first folder under the cache root, on the way to `path`, that is a symlink. */
  private async unlinkFolderLink(path: string): Promise<void> {
    let at = this.dir;
    for (const seg of relative(this.dir, dirname(path)).split(sep)) {
      at = join(at, seg);
      const st = await lstat(at).catch(() => undefined);
      if (st === undefined) return;
      if (st.isSymbolicLink()) {
        await unlink(at).catch(() => undefined);
        return;
      }
    }
  }

  private async reject(path: string, reason: string, namespace: string, key: string): Promise<void> {
    const r: CacheRejection = { path, reason, namespace, key };
    this.rejected.push(r);
    if (reason === LinkedFolder.message) {
      // Unlinking the entry would delete a file wherever the link leads: remove the linked folder instead.
      await this.unlinkFolderLink(path);
    } else {
      // Removed so that the rebuilt entry replaces it (unlink removes a symlink, never its target).
      await unlink(path).catch(() => undefined);
    }
    this.onReject?.(r);
    reportCacheRejection(r);
  }
}

/** A folder between the cache root and an entry is a symlink. */
class LinkedFolder extends Error {
  static readonly message = 'is reached through a symbolic link to a folder';
  constructor() {
    super(LinkedFolder.message);
  }
}

/**
 * An entry's bytes (header line, then `body`) for a file kept outside the
 * digest-keyed layout, under a fixed name (the TUF trusted root); read it back with checkEntry.
 */
export function entryBytes(ns: string, key: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${MAGIC} ${ns} ${key} sha256:${createHash('sha256').update(body).digest('hex')} ${body.length}\n`, 'utf8'), body]);
}

/** The body of an entry if its header names this key and its bytes hash to what the header says; else why not. */
export function checkEntry(bytes: Buffer, ns: string, digest: string): { body: string } | string {
  const nl = bytes.subarray(0, MAX_HEADER).indexOf(0x0a);
  if (nl < 0) return 'has no vouch cache header';
  const parts = bytes.subarray(0, nl).toString('utf8').split(' ');
  if (parts.length !== 5 || parts[0] !== MAGIC) return 'has no vouch cache header';
  if (parts[1] !== ns || parts[2] !== digest) return `was written for ${parts[1]} ${parts[2]}, not for this key`;
  const body = bytes.subarray(nl + 1);
  if (String(body.length) !== parts[4]) return `is ${body.length} bytes, its header says ${parts[4]} (truncated or extended)`;
  const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (actual !== parts[3]) return `content does not match its checksum (${parts[3]}, got ${actual})`;
  return { body: body.toString('utf8') };
}
