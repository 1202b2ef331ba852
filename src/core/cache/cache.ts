/**
 * Content-addressed cache. Everything stored here is keyed by a digest (plus
 * the analyser version), so an entry never goes stale: it is written once,
 * atomically (temp file + rename in the same directory), and read forever.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, dirname } from 'node:path';
import envPaths from 'env-paths';
import { parseDigest } from '../oci/digest.js';

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

export class ContentCache {
  readonly dir: string;
  constructor(dir: string = defaultCacheDir()) {
    this.dir = dir;
  }

  /** Path of the entry for `digest` in namespace `ns` (e.g. "analysis/v3"). */
  pathFor(ns: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest, 'cache key');
    return join(this.dir, ns, algorithm, `${hex}.json`);
  }

  /** The cached value, or undefined on a miss or an unreadable entry (a torn or foreign file is a miss, never an error). */
  async getJson<T>(ns: string, digest: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathFor(ns, digest), 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  async putJson(ns: string, digest: string, value: unknown): Promise<void> {
    // Private to the user: another local user who could write here could plant analyses ("no setuid files")
    // that a later inspect would serve as the truth for that digest.
    await writeFileAtomic(this.pathFor(ns, digest), JSON.stringify(value), 0o600, 0o700);
  }
}
