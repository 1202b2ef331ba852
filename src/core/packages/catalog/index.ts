/**
 * "What is in the image": the catalogue of an image's packages, from the
 * findings the catalogers recorded during the layer walks (cached with them),
 * resolved against the merged filesystem.
 *
 *   catalogImage(ref)            reference → inventory (the cache first; one pass per uncatalogued layer)
 *   catalogOpenImage(image)      same, for an image already open
 *   catalogFromAnalysis(result)  from walks + catalogues in hand (e.g. analyzeImageFull's result)
 */
import { ContentCache } from '../../cache/cache.js';
import { analyzeImageFull, cachedAnalysis, cachedLayerWalks, layerWalksAndCatalogs, type AnalyzeOptions, type Progress } from '../../layers/image-analysis.js';
import { cachedDaemonAnalysis, rememberDaemonImage } from '../../layers/inspect.js';
import type { MergedFilesystem } from '../../layers/filesystem.js';
import type { LayerWalk } from '../../layers/types.js';
import type { Platform } from '../../oci/types.js';
import type { Image } from '../../sources/image.js';
import { openReference, resolveReference, type Resolution } from '../../sources/open.js';
import type { PackageInventory } from '../types.js';
import { assembleInventory } from './assemble.js';
import type { LayerCatalog } from './types.js';
import { CATALOG_VERSION } from './layer.js';

/** The assembled inventory of an image, by manifest digest (the layer findings stay cached with the walks). */
const INVENTORY_NS = `catalog/v${CATALOG_VERSION}`;

async function cachedInventory(cache: ContentCache, manifestDigest: string): Promise<PackageInventory | undefined> {
  const hit = await cache.getJson<PackageInventory>(INVENTORY_NS, manifestDigest);
  return hit && hit.source === 'catalog' && Array.isArray(hit.packages) && Array.isArray(hit.warnings) ? hit : undefined;
}

export type { Cataloger, FileFindings, FoundPackage, LayerCatalog, ParseResult, EntryInfo } from './types.js';
export { assembleInventory, purlOf } from './assemble.js';
export { CATALOG_VERSION, DEFAULT_CATALOGERS, LayerCataloguer } from './layer.js';
export { INVENTORY_NS };

export interface CatalogOptions {
  /** Read and write no cache entry (every layer is read). */
  noCache?: boolean;
  platform?: Platform;
  insecureRegistries?: string[];
  cache?: ContentCache;
  concurrency?: number;
  onProgress?: (p: Progress) => void;
  /** Told how the reference was resolved before any layer is read. */
  onResolved?: (r: Resolution) => void;
  signal?: AbortSignal;
}

export interface CatalogResult {
  inventory: PackageInventory;
  image: { reference: string; name: string; digest: string; configDigest: string; platform: { os: string; architecture: string; variant: string | null } };
  resolution: Resolution;
  /** True when no layer was read. */
  cached: boolean;
}

/** The catalogue of an image reference (any transport vouch opens), sorted with comparePackages. */
export async function catalogImage(ref: string, opts: CatalogOptions = {}): Promise<PackageInventory> {
  return (await catalogReference(ref, opts)).inventory;
}

/** catalogImage, plus which image it was and whether the cache answered. */
export async function catalogReference(ref: string, opts: CatalogOptions = {}): Promise<CatalogResult> {
  const openOpts = {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const resolution = await resolveReference(ref, openOpts);
  opts.onResolved?.(resolution);
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  if (cache) {
    // A daemon image analysed before: its layers' findings are in the cache, and exporting it would read every layer.
    const a = await cachedDaemonAnalysis(resolution.reference, cache, openOpts);
    const inv = a ? await cachedInventory(cache, a.digest) : undefined;
    const hit = a && !inv ? await cachedLayerWalks(cache, a.layers) : undefined;
    if (a && (inv || hit)) {
      const inventory = inv ?? assembleInventory(hit!.walks, hit!.catalogs);
      if (!inv) await cache.putJson(INVENTORY_NS, a.digest, inventory);
      return {
        inventory,
        image: { reference: a.reference, name: a.name, digest: a.digest, configDigest: a.config.digest, platform: a.platform },
        resolution,
        cached: true,
      };
    }
  }
  const image = await openReference(resolution.reference, openOpts);
  try {
    const { inventory, cached } = await catalogOpenImageInner(image, opts, cache);
    return {
      inventory,
      image: { reference: image.reference, name: image.name, digest: image.digest, configDigest: image.configDigest, platform: { os: image.platform.os, architecture: image.platform.architecture, variant: image.platform.variant ?? null } },
      resolution,
      cached,
    };
  } finally {
    await image.close();
  }
}

/** The catalogue of an open image (the caller closes it). */
export async function catalogOpenImage(image: Image, opts: Omit<CatalogOptions, 'platform' | 'insecureRegistries' | 'onResolved'> = {}): Promise<PackageInventory> {
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  return (await catalogOpenImageInner(image, opts, cache)).inventory;
}

async function catalogOpenImageInner(image: Image, opts: CatalogOptions, cache: ContentCache | undefined): Promise<{ inventory: PackageInventory; cached: boolean }> {
  const aopts: AnalyzeOptions = {
    ...(cache ? { cache } : { noCache: true }),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  if (!cache) {
    const { walks, catalogs } = await layerWalksAndCatalogs(image.layers, aopts);
    return { inventory: assembleInventory(walks, catalogs), cached: false };
  }
  const inv = await cachedInventory(cache, image.digest);
  if (inv) return { inventory: inv, cached: true };
  let inventory: PackageInventory;
  let cached = false;
  const hit = await cachedLayerWalks(cache, image.layers);
  if (hit) {
    inventory = assembleInventory(hit.walks, hit.catalogs);
    cached = true;
  } else if (!(await cachedAnalysis(cache, image.digest))) {
    // Not analysed yet: analyse fully in the same pass, so a later `inspect` reads nothing either.
    const full = await analyzeImageFull(image, aopts);
    if (image.transport === 'docker-daemon') await rememberDaemonImage(cache, image.configDigest, image.digest);
    inventory = assembleInventory(full.walks, full.catalogs);
  } else {
    const { walks, catalogs } = await layerWalksAndCatalogs(image.layers, aopts);
    inventory = assembleInventory(walks, catalogs);
  }
  await cache.putJson(INVENTORY_NS, image.digest, inventory);
  return { inventory, cached };
}

/** The catalogue from layer walks and their catalogues (e.g. `analyzeImageFull`'s result), in layer order. */
export function catalogFromAnalysis(result: { walks: ReadonlyArray<Pick<LayerWalk, 'entries' | 'diffId'>>; catalogs: ReadonlyArray<LayerCatalog> }, merged?: MergedFilesystem): PackageInventory {
  return assembleInventory(result.walks, result.catalogs, merged ? { merged } : {});
}
