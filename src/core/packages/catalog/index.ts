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
import { analyzeImageFull, cachedAnalysis, cachedLayerWalks, foreignLayerWarnings, layerWalksAndCatalogs, type AnalyzeOptions, type Progress } from '../../layers/image-analysis.js';
import { verifyLayerDigests, verifyLayerSizes, type CacheInfo } from '../../layers/verify.js';
import { analysisLimits } from '../../layers/walk.js';
import { cachedDaemonAnalysis, rememberDaemonImage } from '../../layers/inspect.js';
import type { MergedFilesystem } from '../../layers/filesystem.js';
import type { LayerWalk } from '../../layers/types.js';
import type { Platform } from '../../oci/types.js';
import type { Image } from '../../sources/image.js';
import type { DaemonImage } from '../../sources/daemon.js';
import { openReference, resolveReference, type Resolution } from '../../sources/open.js';
import { pinsFor, type ReferencePins } from '../../sources/pins.js';
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
  /** Tags resolved in this run (sources/pins.ts). */
  pins?: ReferencePins;
  /** Re-hash every layer blob even when the cache answers (layers/verify.ts). */
  verify?: boolean;
}

export interface CatalogResult {
  inventory: PackageInventory;
  image: { reference: string; name: string; digest: string; configDigest: string; platform: { os: string; architecture: string; variant: string | null }; synthesizedManifest?: boolean; repoDigests?: string[] };
  resolution: Resolution;
  /** True when no layer was read. */
  cached: boolean;
  /** How the answer was checked against the source (the same object `inspect --json` prints). */
  cache?: CacheInfo;
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
    pins: pinsFor(opts),
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
        // No RepoDigests here (the daemon was not asked): a synthesised digest then names no repository (image-subject.ts).
        image: { reference: a.reference, name: a.name, digest: a.digest, configDigest: a.config.digest, platform: a.platform, synthesizedManifest: a.synthesizedManifest },
        resolution,
        cached: true,
        // The daemon found the image by its ID (its config digest): the bytes are the ones analysed.
        cache: { hit: true, analysedAt: a.analysedAt ?? null, verifiedAt: new Date().toISOString(), verification: 'image-id' },
      };
    }
  }
  const image = await openReference(resolution.reference, openOpts);
  try {
    const { inventory, cached, cache: info } = await catalogOpenImageInner(image, opts, cache);
    return {
      inventory,
      image: {
        reference: image.reference,
        name: image.name,
        digest: image.digest,
        configDigest: image.configDigest,
        platform: { os: image.platform.os, architecture: image.platform.architecture, variant: image.platform.variant ?? null },
        synthesizedManifest: image.synthesizedManifest,
        ...('daemon' in image && (image as DaemonImage).daemon ? { repoDigests: (image as DaemonImage).daemon.repoDigests } : {}),
      },
      resolution,
      cached,
      cache: info,
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

async function catalogOpenImageInner(image: Image, opts: CatalogOptions, cache: ContentCache | undefined): Promise<{ inventory: PackageInventory; cached: boolean; cache: CacheInfo }> {
  analysisLimits(); // a malformed limit is a usage error even when the cache answers
  const aopts: AnalyzeOptions = {
    ...(cache ? { cache } : { noCache: true }),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.verify ? { verify: true } : {}),
  };
  const fresh = (): CacheInfo => {
    const at = new Date().toISOString();
    return { hit: false, analysedAt: at, verifiedAt: at, verification: 'full' };
  };
  if (!cache) {
    const { walks, catalogs } = await layerWalksAndCatalogs(image.layers, aopts);
    return { inventory: withForeign(assembleInventory(walks, catalogs), walks), cached: false, cache: fresh() };
  }
  // A cached answer describes bytes the source must still hold (as for inspect): sizes, or every hash with --verify.
  const checked = async (): Promise<CacheInfo> => {
    const verification = opts.verify ? await verifyLayerDigests(image.layers, opts.signal) : await verifyLayerSizes(image.layers);
    const a = await cachedAnalysis(cache, image.digest);
    return { hit: true, analysedAt: a?.analysedAt ?? null, verifiedAt: new Date().toISOString(), verification };
  };
  const inv = await cachedInventory(cache, image.digest);
  if (inv) return { inventory: inv, cached: true, cache: await checked() };
  let inventory: PackageInventory;
  let cached = false;
  let info: CacheInfo | undefined;
  let walks: readonly LayerWalk[] = [];
  const hit = await cachedLayerWalks(cache, image.layers);
  if (hit) {
    info = await checked();
    inventory = assembleInventory(hit.walks, hit.catalogs);
    cached = true;
  } else if (!(await cachedAnalysis(cache, image.digest))) {
    // Not analysed yet: analyse fully in the same pass, so a later `inspect` reads nothing either.
    const full = await analyzeImageFull(image, aopts);
    if (image.transport === 'docker-daemon') await rememberDaemonImage(cache, image.configDigest, image.digest);
    walks = full.walks;
    inventory = assembleInventory(full.walks, full.catalogs);
  } else {
    const r = await layerWalksAndCatalogs(image.layers, aopts);
    walks = r.walks;
    inventory = assembleInventory(r.walks, r.catalogs);
  }
  // An inventory missing a foreign layer's packages is said so, and not cached: the source may hold the blob later.
  const foreign = foreignLayerWarnings(walks);
  if (foreign.length > 0) return { inventory: withForeign(inventory, walks), cached, cache: info ?? fresh() };
  await cache.putJson(INVENTORY_NS, image.digest, inventory);
  return { inventory, cached, cache: info ?? fresh() };
}

/** The inventory with a warning for each foreign layer the source did not hold (its packages are missing). */
function withForeign(inventory: PackageInventory, walks: readonly LayerWalk[]): PackageInventory {
  const foreign = foreignLayerWarnings(walks);
  return foreign.length ? { ...inventory, warnings: [...foreign.map((w) => `${w}; its packages are not listed`), ...inventory.warnings] } : inventory;
}

/** The catalogue from layer walks and their catalogues (e.g. `analyzeImageFull`'s result), in layer order. */
export function catalogFromAnalysis(result: { walks: ReadonlyArray<Pick<LayerWalk, 'entries' | 'diffId'>>; catalogs: ReadonlyArray<LayerCatalog> }, merged?: MergedFilesystem): PackageInventory {
  return assembleInventory(result.walks, result.catalogs, merged ? { merged } : {});
}
