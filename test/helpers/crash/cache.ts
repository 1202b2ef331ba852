/**
 * Crash child: analyses and catalogues one image into the cache, over and over
 * (the cache is never read, so every round walks the layers and rewrites every
 * entry: layer walks, the analysis, the inventory). Args: REF CACHE_DIR.
 */
import { ContentCache } from '../../../src/core/cache/cache.js';
import { inspectReference } from '../../../src/core/layers/inspect.js';
import { catalogReference } from '../../../src/core/packages/catalog/index.js';
import { childLoop } from './child.js';

class WriteOnlyCache extends ContentCache {
  override async getJson<T>(): Promise<T | undefined> {
    return undefined;
  }
}
const [ref, dir] = [process.argv[2]!, process.argv[3]!];
const cache = new WriteOnlyCache(dir);
await childLoop(async (n) => {
  if (n % 2 === 0) return `analysis ${(await inspectReference(ref, { cache })).analysis.digest}`;
  return `inventory ${(await catalogReference(ref, { cache })).image.digest}`;
});
