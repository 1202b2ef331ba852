/**
 * `inspect` as one core call: resolve the reference, open the image, analyse it
 * (cache first), close it. Images in the Docker daemon are looked up in the
 * cache by their image ID before anything is exported, since an export reads
 * every layer.
 */
import { ContentCache } from '../cache/cache.js';
import type { OpenOptions } from '../sources/image.js';
import { openReference, resolveReference, type Resolution } from '../sources/open.js';
import { VouchError } from '../errors.js';
import { pinsFor } from '../sources/pins.js';
import type { ImageReference } from '../ref/types.js';
import { daemonImageId } from '../sources/daemon.js';
import { analyzeImage, cachedAnalysis, cachedLayerWalks, layerWalksAndCatalogs, ANALYZER_VERSION, type AnalyzeOptions, type ImageAnalysis, type Progress } from './image-analysis.js';
import type { LayerWalk } from './types.js';
import type { LayerCatalog } from '../packages/catalog/types.js';

const DAEMON_NS = `daemon-image/v${ANALYZER_VERSION}`;

export interface InspectResult {
  analysis: ImageAnalysis;
  resolution: Resolution;
  /** True when the analysis came from the cache: no layer was read. */
  cached: boolean;
  /** False when the image was not even opened (a daemon image found in the cache by its ID: nothing exported). */
  opened: boolean;
}

export interface InspectOptions extends OpenOptions, AnalyzeOptions {
  /** Told how the reference was resolved before any layer is read. */
  onResolved?: (r: Resolution) => void;
}

export async function inspectReference(input: string, opts: InspectOptions = {}): Promise<InspectResult> {
  opts = { ...opts, pins: pinsFor(opts) };
  const resolution = await resolveReference(input, opts);
  opts.onResolved?.(resolution);
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  const ref = resolution.reference;
  // --verify re-hashes the bytes: a daemon image must then be exported, not found by its ID.
  if (cache && !opts.verify) {
    const hit = await cachedDaemonAnalysis(ref, cache, opts);
    if (hit) return { analysis: hit, resolution, cached: true, opened: false };
  }
  const image = await openReference(ref, opts);
  try {
    let fromCache = false;
    const analysis = await analyzeImage(image, { ...opts, ...(cache ? { cache } : {}), onCacheHit: () => (fromCache = true) });
    if (cache && image.transport === 'docker-daemon') await rememberDaemonImage(cache, image.configDigest, image.digest);
    return { analysis, resolution, cached: fromCache, opened: true };
  } finally {
    await image.close();
  }
}

/**
 * For a docker-daemon reference: the cached analysis of the image the daemon
 * has under that name now (looked up by image ID, so nothing is exported), or
 * undefined (other transports, daemon unreachable, not analysed yet).
 */
export async function cachedDaemonAnalysis(ref: ImageReference, cache: ContentCache, opts: OpenOptions = {}): Promise<ImageAnalysis | undefined> {
  if (ref.transport !== 'docker-daemon') return undefined;
  const daemonId = await daemonImageId(ref.name, opts);
  const alias = daemonId ? await cache.getJson<{ digest: string }>(DAEMON_NS, daemonId) : undefined;
  const hit = alias ? await cachedAnalysis(cache, alias.digest) : undefined;
  if (!hit || hit.config.digest !== daemonId) return undefined;
  // The daemon holds an image whose ID is the analysed config's digest: its layers are the ones the config names.
  const cacheInfo = { hit: true, analysedAt: hit.analysedAt ?? null, verifiedAt: new Date().toISOString(), verification: 'image-id' as const };
  return { ...hit, reference: `docker-daemon:${ref.name}`, transport: 'docker-daemon', cache: cacheInfo };
}

/** Remember which analysed manifest a daemon image ID stands for (written after analysing a daemon image). */
export async function rememberDaemonImage(cache: ContentCache, configDigest: string, manifestDigest: string): Promise<void> {
  await cache.putJson(DAEMON_NS, configDigest, { digest: manifestDigest });
}

/**
 * The layer walks and catalogues of an image `inspectReference` analysed: read
 * from the cache when its single pass wrote them, else (cold or cache-less run)
 * by opening the image again and walking it.
 */
export async function inspectedLayers(
  result: Pick<InspectResult, 'analysis' | 'resolution'>,
  opts: OpenOptions & { cache?: ContentCache | undefined; onProgress?: ((p: Progress) => void) | undefined },
): Promise<{ walks: LayerWalk[]; catalogs: LayerCatalog[] }> {
  const hit = opts.cache ? await cachedLayerWalks(opts.cache, result.analysis.layers) : undefined;
  if (hit) return hit;
  const image = await openReference(result.resolution.reference, opts);
  try {
    // The layers walked must be those of the image analysed: a tag moved since (without shared pins) is refused, not mixed in.
    if (image.digest !== result.analysis.digest && !image.synthesizedManifest) {
      throw new VouchError('TAG_MOVED', `${image.name}: now names ${image.digest}, but ${result.analysis.digest} was analysed: the reference moved during the run`, { exitCode: 1 });
    }
    return await layerWalksAndCatalogs(image.layers, { ...(opts.cache ? { cache: opts.cache } : { noCache: true }), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  } finally {
    await image.close();
  }
}
