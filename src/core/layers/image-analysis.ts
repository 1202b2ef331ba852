/**
 * Image-level analysis: walk every layer once (in parallel, each in a single
 * streaming pass), merge them into the final filesystem, compute dive's
 * wasted-space figures, and read the config and traceability. The result is
 * cached by manifest digest and analyser version, and each layer walk by its
 * blob digest, so a second analysis of the same image reads no layer.
 *
 * The package catalogers run inside the same pass (walkLayer's content hook):
 * each layer's catalogue findings are cached with its walk, so cataloguing an
 * analysed image reads no layer either.
 */
import { VouchError } from '../errors.js';
import { ContentCache } from '../cache/cache.js';
import type { Image, Layer } from '../sources/image.js';
import type { Platform } from '../oci/types.js';
import { traceability, type Traceability } from '../oci/traceability.js';
import type { EntryType, LayerEntry, LayerWalk } from './types.js';
import { walkLayer } from './walk.js';
import { mergeLayers } from './filesystem.js';
import { computeEfficiency, type EfficiencyResult } from './efficiency.js';
import { CATALOG_VERSION, DEFAULT_CATALOGERS, LayerCataloguer } from '../packages/catalog/layer.js';
import type { Cataloger, LayerCatalog } from '../packages/catalog/types.js';

/** Bump when the analysis output changes shape or meaning: old cache entries are then ignored. */
export const ANALYZER_VERSION = 1;
/**
 * Bump when the cached layer walk changes shape (v2: the layer's catalogue
 * findings ride along). Separate from ANALYZER_VERSION because the summary
 * (what `inspect` prints and caches) did not change.
 */
export const LAYER_WALK_VERSION = 2;
const ANALYSIS_NS = `analysis/v${ANALYZER_VERSION}`;
const WALK_NS = `layer-walk/v${LAYER_WALK_VERSION}`;

export interface ConfigSummary {
  digest: string;
  user: string;
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  workingDir: string;
  exposedPorts: string[];
  volumes: string[];
  labels: Record<string, string>;
  created: string | null;
  stopSignal: string | null;
  healthcheck: string[] | null;
}

export interface LayerSummary {
  index: number;
  digest: string;
  diffId: string;
  mediaType: string;
  size: number;
  uncompressedSize: number;
  createdBy: string | null;
  created: string | null;
  entries: number;
  added: number;
  modified: number;
  removed: number;
  addedBytes: number;
  /** dive's layer size: the sum of the tar headers' sizes. */
  sizeBytes: number;
  warnings: string[];
}

export type { InefficientFile } from './efficiency.js';

/** dive's wasted-space figures, as efficiency.ts computes them. */
type WastedSpace = Pick<EfficiencyResult, 'efficiency' | 'sizeBytes' | 'userSizeBytes' | 'wastedBytes' | 'userWastedPercent' | 'inefficientFiles'>;

export interface ImageAnalysis extends WastedSpace {
  analyzerVersion: number;
  reference: string;
  transport: string;
  name: string;
  digest: string;
  synthesizedManifest: boolean;
  mediaType: string;
  index: { digest: string; mediaType: string } | null;
  platform: { os: string; architecture: string; variant: string | null };
  config: ConfigSummary;
  history: Array<{ created: string | null; createdBy: string | null; emptyLayer: boolean; comment: string | null }>;
  layers: LayerSummary[];
  files: number;
  totalBytes: number;
  source: { repository: string | null; revision: string | null };
  traceability: Traceability;
  warnings: string[];
}

export interface Progress {
  layersDone: number;
  layersTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface AnalyzeOptions {
  cache?: ContentCache;
  /** Read and write no cache entry. */
  noCache?: boolean;
  /** Layers walked at once; gunzip runs on libuv's pool so this overlaps decompression. */
  concurrency?: number;
  onProgress?: (p: Progress) => void;
  /**
   * Catalogers to run in the pass (default: all). Only for measurements: a walk
   * without some catalogers is never written to the cache.
   */
  catalogers?: readonly Cataloger[];
  /** Called when the summary came from the cache. */
  onCacheHit?: () => void;
  signal?: AbortSignal;
}

export interface AnalysisResult {
  analysis: ImageAnalysis;
  walks: LayerWalk[];
  /** What the catalogers found in each layer (same order as `walks`). */
  catalogs: LayerCatalog[];
  /** True when the analysis came from the cache (no layer was read). */
  cached: boolean;
}

/** Analyse an image; the summary comes from the cache when it can. */
export async function analyzeImage(image: Image, opts: AnalyzeOptions = {}): Promise<ImageAnalysis> {
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  if (cache) {
    const hit = await cachedAnalysis(cache, image.digest);
    if (hit) {
      opts.onCacheHit?.();
      return { ...hit, ...howReached(image) };
    }
  }
  const { analysis } = await analyzeImageFull(image, opts);
  return analysis;
}

/**
 * What depends on how the image was reached rather than on its manifest: the
 * reference, the index it was picked from and the index's annotations (which
 * feed traceability). A cached analysis is keyed by manifest digest, so these
 * are recomputed on every hit.
 */
function howReached(image: Image): Pick<ImageAnalysis, 'reference' | 'transport' | 'name' | 'index' | 'traceability' | 'source'> {
  const trace = traceability(image.manifest, image.config, image.index?.descriptor.annotations);
  return {
    reference: image.reference,
    transport: image.transport,
    name: image.name,
    index: image.index ? { digest: image.index.digest, mediaType: image.index.mediaType } : null,
    traceability: trace,
    source: { repository: trace.repository, revision: trace.revision },
  };
}

/** The cached summary for a manifest digest, if this analyser version wrote one. */
export async function cachedAnalysis(cache: ContentCache, manifestDigest: string): Promise<ImageAnalysis | undefined> {
  const hit = await cache.getJson<ImageAnalysis>(ANALYSIS_NS, manifestDigest);
  return hit && hit.analyzerVersion === ANALYZER_VERSION && hit.digest === manifestDigest ? hit : undefined;
}

/** Analyse an image and return the layer walks too (for checks and catalogers that need every entry). */
export async function analyzeImageFull(image: Image, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  const layers = image.layers;
  if (layers.length !== image.config.rootfs.diff_ids.length) {
    throw new VouchError('INVALID_CONFIG', `config ${image.configDigest}: ${image.config.rootfs.diff_ids.length} diff_ids for ${layers.length} layers in manifest ${image.digest}`);
  }
  const { walks, catalogs } = await walkAll(layers, cache, opts);
  const analysis = buildAnalysis(image, walks);
  if (cache) await cache.putJson(ANALYSIS_NS, image.digest, analysis);
  return { analysis, walks, catalogs, cached: false };
}

/** Load the layer walks of an analysed image from the cache, walking only what is missing. */
export async function layerWalks(image: Image, opts: AnalyzeOptions = {}): Promise<LayerWalk[]> {
  return (await layerWalksAndCatalogs(image.layers, opts)).walks;
}

/** The layer walks and catalogue findings, from the cache when it has them, else from one pass per missing layer. */
export async function layerWalksAndCatalogs(layers: readonly Layer[], opts: AnalyzeOptions = {}): Promise<{ walks: LayerWalk[]; catalogs: LayerCatalog[] }> {
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  return walkAll(layers, cache, opts);
}

/**
 * The cached walks and catalogues of layers known only by digest (e.g. from a
 * cached analysis), or undefined if any is missing: lets a caller skip opening
 * an image whose opening is expensive (a daemon export).
 */
export async function cachedLayerWalks(cache: ContentCache, layers: ReadonlyArray<{ digest: string; diffId: string }>): Promise<{ walks: LayerWalk[]; catalogs: LayerCatalog[] } | undefined> {
  const walks: LayerWalk[] = [];
  const catalogs: LayerCatalog[] = [];
  for (const l of layers) {
    const hit = await cache.getJson<CompactWalk>(WALK_NS, l.digest);
    if (!hit || hit.diffId !== l.diffId || hit.catalog?.version !== CATALOG_VERSION) return undefined;
    walks.push(fromCompact(l.digest, hit));
    catalogs.push(hit.catalog);
  }
  return { walks, catalogs };
}

async function walkAll(layers: readonly Layer[], cache: ContentCache | undefined, opts: AnalyzeOptions): Promise<{ walks: LayerWalk[]; catalogs: LayerCatalog[] }> {
  const out: LayerWalk[] = new Array(layers.length);
  const catalogs: LayerCatalog[] = new Array(layers.length);
  const progress: Progress = { layersDone: 0, layersTotal: layers.length, bytesDone: 0, bytesTotal: layers.reduce((a, l) => a + Math.max(0, l.size), 0) };
  const todo: number[] = [];
  for (let i = 0; i < layers.length; i++) {
    const hit = cache ? await cache.getJson<CompactWalk>(WALK_NS, layers[i]!.digest) : undefined;
    if (hit && hit.diffId === layers[i]!.diffId && hit.catalog?.version === CATALOG_VERSION) {
      out[i] = fromCompact(layers[i]!.digest, hit);
      catalogs[i] = hit.catalog;
      progress.layersDone++;
      progress.bytesDone += Math.max(0, layers[i]!.size);
    } else {
      todo.push(i);
    }
  }
  opts.onProgress?.({ ...progress });
  const concurrency = Math.max(1, opts.concurrency ?? 3);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const i = todo[next++]!;
      const layer = layers[i]!;
      let seen = 0;
      // The catalogers read the files they want during this same pass.
      const cataloguer = new LayerCataloguer(layer.diffId || layer.digest, opts.catalogers ?? DEFAULT_CATALOGERS);
      const walk = await walkLayer(layer, {
        ...cataloguer.hooks(),
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (bytes: number) => {
          progress.bytesDone += bytes - seen;
          seen = bytes;
          opts.onProgress?.({ ...progress });
        },
      });
      const catalog = await cataloguer.finish();
      out[i] = walk;
      catalogs[i] = catalog;
      progress.layersDone++;
      opts.onProgress?.({ ...progress });
      if (cache && !opts.catalogers) await cache.putJson(WALK_NS, layer.digest, toCompact(walk, catalog));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  return { walks: out, catalogs };
}

function buildAnalysis(image: Image, walks: LayerWalk[]): ImageAnalysis {
  const cfg = image.config.config ?? {};
  const merged = mergeLayers(walks);
  const eff = computeEfficiency(walks);
  const history = image.config.history ?? [];
  const warnings: string[] = [];
  // history entries that are not empty_layer map, in order, onto the layers.
  const nonEmpty = history.filter((h) => !h.empty_layer);
  if (history.length > 0 && nonEmpty.length !== walks.length) {
    warnings.push(`config history has ${nonEmpty.length} non-empty entries for ${walks.length} layers; created_by may not line up`);
  }
  const layers: LayerSummary[] = walks.map((w, i) => {
    const l = image.layers[i]!;
    const h = nonEmpty[i];
    const stats = merged.layers[i]!;
    return {
      index: i,
      digest: l.digest,
      diffId: w.diffId,
      mediaType: l.mediaType,
      size: l.size,
      uncompressedSize: w.uncompressedSize,
      createdBy: h?.created_by ?? null,
      created: h?.created ?? null,
      entries: stats.entries,
      added: stats.added,
      modified: stats.modified,
      removed: stats.removed,
      addedBytes: stats.addedBytes,
      sizeBytes: eff.layerSizes[i] ?? 0,
      warnings: w.warnings,
    };
  });
  const trace = traceability(image.manifest, image.config, image.index?.descriptor.annotations);
  const platform: Platform = image.platform;
  return {
    analyzerVersion: ANALYZER_VERSION,
    reference: image.reference,
    transport: image.transport,
    name: image.name,
    digest: image.digest,
    synthesizedManifest: image.synthesizedManifest,
    mediaType: image.mediaType,
    index: image.index ? { digest: image.index.digest, mediaType: image.index.mediaType } : null,
    platform: { os: platform.os, architecture: platform.architecture, variant: platform.variant ?? null },
    config: {
      digest: image.configDigest,
      user: cfg.User ?? '',
      env: cfg.Env ?? [],
      entrypoint: cfg.Entrypoint ?? null,
      cmd: cfg.Cmd ?? null,
      workingDir: cfg.WorkingDir ?? '',
      exposedPorts: Object.keys(cfg.ExposedPorts ?? {}).sort(),
      volumes: Object.keys(cfg.Volumes ?? {}).sort(),
      labels: cfg.Labels ?? {},
      created: image.config.created ?? null,
      stopSignal: cfg.StopSignal ?? null,
      healthcheck: cfg.Healthcheck?.Test ?? null,
    },
    history: history.map((h) => ({ created: h.created ?? null, createdBy: h.created_by ?? null, emptyLayer: h.empty_layer === true, comment: h.comment ?? null })),
    layers,
    files: merged.files,
    totalBytes: merged.totalBytes,
    efficiency: eff.efficiency,
    sizeBytes: eff.sizeBytes,
    userSizeBytes: eff.userSizeBytes,
    wastedBytes: eff.wastedBytes,
    userWastedPercent: eff.userWastedPercent,
    inefficientFiles: eff.inefficientFiles,
    source: { repository: trace.repository, revision: trace.revision },
    traceability: trace,
    warnings,
  };
}

/* Compact cache form of a layer walk: arrays instead of objects (a 100k-entry layer stays a few MB). */
type EntryExtras = Pick<LayerEntry, 'linkname' | 'devmajor' | 'devminor' | 'xattrs'>;
interface CompactWalk {
  diffId: string;
  uncompressedSize: number;
  headerBytes?: number;
  warnings: string[];
  entries: Array<[string, number, number, number, number, number, number, EntryExtras?]>;
  /** The layer's catalogue findings (walks cached before catalogers existed have none and are walked again). */
  catalog?: LayerCatalog;
}

const TYPES: EntryType[] = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'whiteout', 'opaque'];
const TYPE_CODE = new Map(TYPES.map((t, i) => [t, i]));

function toCompact(w: LayerWalk, catalog: LayerCatalog): CompactWalk {
  const c: CompactWalk = {
    diffId: w.diffId,
    uncompressedSize: w.uncompressedSize,
    warnings: w.warnings,
    entries: w.entries.map((e) => {
      const row: CompactWalk['entries'][number] = [e.path, TYPE_CODE.get(e.type)!, e.mode, e.uid, e.gid, e.size, e.mtime];
      if (e.linkname !== undefined || e.devmajor !== undefined || e.devminor !== undefined || e.xattrs !== undefined) {
        const x: EntryExtras = {};
        if (e.linkname !== undefined) x.linkname = e.linkname;
        if (e.devmajor !== undefined) x.devmajor = e.devmajor;
        if (e.devminor !== undefined) x.devminor = e.devminor;
        if (e.xattrs !== undefined) x.xattrs = e.xattrs;
        row.push(x);
      }
      return row;
    }),
  };
  if (w.headerBytes !== undefined) c.headerBytes = w.headerBytes;
  c.catalog = catalog;
  return c;
}

function fromCompact(digest: string, c: CompactWalk): LayerWalk {
  const w: LayerWalk = {
    digest,
    diffId: c.diffId,
    uncompressedSize: c.uncompressedSize,
    warnings: c.warnings,
    entries: c.entries.map((r) => {
      const e: LayerEntry = { path: r[0], type: TYPES[r[1]]!, mode: r[2], uid: r[3], gid: r[4], size: r[5], mtime: r[6] };
      const x = r[7];
      if (x) Object.assign(e, x);
      return e;
    }),
  };
  if (c.headerBytes !== undefined) w.headerBytes = c.headerBytes;
  return w;
}
