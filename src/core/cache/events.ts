/**
 * Who is told when a cache entry is refused (corrupt, truncated, a link...):
 * the caller that started the work, through an async context, since core
 * prints nothing and the entries are read deep inside analyses that create
 * their own ContentCache. Kept apart from cache.ts so that the CLI can listen
 * without loading the cache.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** A cache entry that was found on disk and refused (it is removed and read as a miss, so its value is rebuilt). */
export interface CacheRejection {
  path: string;
  reason: string;
  /** The entry's namespace (e.g. "analysis/v4") and key (a digest). */
  namespace: string;
  key: string;
}

const listeners = new AsyncLocalStorage<(r: CacheRejection) => void>();

/** Runs `body` with `listener` told about every entry refused by any ContentCache inside it (its async work included). */
export function withCacheRejections<T>(listener: (r: CacheRejection) => void, body: () => T): T {
  return listeners.run(listener, body);
}

/** Called by ContentCache for each refusal. */
export function reportCacheRejection(r: CacheRejection): void {
  listeners.getStore()?.(r);
}
