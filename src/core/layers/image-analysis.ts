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
import { DigestMismatchError, SizeMismatchError, VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { ContentCache } from '../cache/cache.js';
import type { Image, Layer } from '../sources/image.js';
import type { Platform } from '../oci/types.js';
import { traceability, type Traceability } from '../oci/traceability.js';
import type { EntryType, LayerEntry, LayerWalk } from './types.js';
import { analysisLimits, imageEntriesExceeded, imageNameBytesExceeded, nameBytesOf, stringUnits, walkLayer, type AnalysisLimits } from './walk.js';
import { materializeDigests, slotHex } from './content-digests.js';
import { mergeLayers, type MergedFilesystem } from './filesystem.js';
import { linkBits } from './link-groups.js';
import { computeEfficiency, type EfficiencyResult } from './efficiency.js';
import { verifyLayerDigests, verifyLayerSizes, type CacheInfo } from './verify.js';
import { CATALOG_VERSION, DEFAULT_CATALOGERS, LayerCataloguer } from '../packages/catalog/layer.js';
import type { Cataloger, LayerCatalog } from '../packages/catalog/types.js';

/** Bump when the analysis output changes shape or meaning: old cache entries are then ignored. */
// 3: `specialFiles` (device nodes and FIFOs, which `files` does not count and `diff` lists).
// 5: `setuidFiles` by the hard-link-group rule (any header of an inode's names), as check and diff judge.
export const ANALYZER_VERSION = 5;
/**
 * Bump when the cached layer walk changes shape (v2: the layer's catalogue
 * findings ride along; v3: content digests of regular files and the tar's
 * entry count). Separate from ANALYZER_VERSION because the summary
 * (what `inspect` prints and caches) did not change.
 */
// 4: entries written through a symlink of their own layer carry the path they land at.
export const LAYER_WALK_VERSION = 4;
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
  /** A foreign layer's `urls` (reported, never fetched). */
  urls?: string[];
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
  /** Regular files, hard links and symlinks of the merged filesystem (what `find -type f -o -type l` counts on an unpacked rootfs). */
  files: number;
  /** Device nodes and FIFOs of the merged filesystem, by path, with their type (not counted in `files`; `diff` lists them as files). */
  specialFiles?: SpecialFile[];
  /** Of `files`: the symlinks, and the hard-linked paths (each name after the first of its file), as `find` on an unpacked rootfs sees them. */
  symlinks?: number;
  hardLinks?: number;
  /** Regular files and hard links that are setuid or setgid, sorted: by their own tar header or any header of their hard-link group (names of one inode share its mode on disk). */
  setuidFiles?: string[];
  totalBytes: number;
  source: { repository: string | null; revision: string | null };
  traceability: Traceability;
  warnings: string[];
  /** When the layers were walked (ISO 8601). */
  analysedAt?: string;
  /** Whether this analysis came from the cache and how the source was checked to still hold its bytes (set on return, never cached). */
  cache?: CacheInfo;
}

export interface SpecialFile {
  path: string;
  type: 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  /** Device numbers (char and block devices). */
  devmajor?: number;
  devminor?: number;
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
  /** On a cache hit, re-hash every layer blob instead of checking their sizes. */
  verify?: boolean;
  signal?: AbortSignal;
  /** Bounds on what a layer and the image may expand to (default: analysisLimits(), from the environment). */
  limits?: AnalysisLimits;
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
  // A malformed limit is a usage error whether or not the cache answers (a typo must not pass silently).
  opts = { ...opts, limits: opts.limits ?? analysisLimits() };
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  if (cache) {
    const hit = await cachedAnalysis(cache, image.digest);
    if (hit) {
      // The cache knows the bytes by digest; the source must still hold them.
      const verification = opts.verify ? await verifyLayerDigests(image.layers, opts.signal) : await verifyLayerSizes(image.layers);
      opts.onCacheHit?.();
      const info: CacheInfo = { hit: true, analysedAt: hit.analysedAt ?? null, verifiedAt: new Date().toISOString(), verification };
      return { ...hit, ...howReached(image), cache: info };
    }
  }
  // The summary reads no content digest: the walks keep them as raw slots (no hex string per file).
  const { analysis } = await analyzeImageFull(image, opts, true);
  const at = analysis.analysedAt ?? new Date().toISOString();
  // Every blob was just read and verified against its digest.
  return { ...analysis, cache: { hit: false, analysedAt: at, verifiedAt: at, verification: 'full' } };
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
export async function analyzeImageFull(image: Image, opts: AnalyzeOptions = {}, lazyDigests = false): Promise<AnalysisResult> {
  opts = { ...opts, limits: opts.limits ?? analysisLimits() }; // as analyzeImage: checked even when the cache answers
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  const layers = image.layers;
  if (layers.length !== image.config.rootfs.diff_ids.length) {
    throw new VouchError('INVALID_CONFIG', `config ${image.configDigest}: ${image.config.rootfs.diff_ids.length} diff_ids for ${layers.length} layers in manifest ${image.digest}`);
  }
  const { walks, catalogs } = await walkAll(layers, cache, opts);
  if (!lazyDigests) for (const w of walks) materializeDigests(w);
  const analysis = buildAnalysis(image, walks);
  if (cache && !walks.some((w) => FOREIGN.has(w))) await cachePut(cache, ANALYSIS_NS, image.digest, () => analysis, `image ${image.digest}`, analysis.warnings);
  return { analysis, walks, catalogs, cached: false };
}

/** Load the layer walks of an analysed image from the cache, walking only what is missing. */
export async function layerWalks(image: Image, opts: AnalyzeOptions = {}): Promise<LayerWalk[]> {
  return (await layerWalksAndCatalogs(image.layers, opts)).walks;
}

/** The layer walks and catalogue findings, from the cache when it has them, else from one pass per missing layer. */
export async function layerWalksAndCatalogs(layers: readonly Layer[], opts: AnalyzeOptions = {}): Promise<{ walks: LayerWalk[]; catalogs: LayerCatalog[] }> {
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  const r = await walkAll(layers, cache, opts);
  for (const w of r.walks) materializeDigests(w);
  return r;
}

/**
 * The cached walks and catalogues of layers known only by digest (e.g. from a
 * cached analysis), or undefined if any is missing: lets a caller skip opening
 * an image whose opening is expensive (a daemon export).
 */
export async function cachedLayerWalks(cache: ContentCache, layers: ReadonlyArray<{ digest: string; diffId: string }>): Promise<{ walks: LayerWalk[]; catalogs: LayerCatalog[] } | undefined> {
  const walks: LayerWalk[] = [];
  const catalogs: LayerCatalog[] = [];
  // Cached walks are held in memory as walked ones are: the same entries budget per image.
  const { imageEntries: maxEntries, nameBytes: maxNameBytes } = analysisLimits();
  let entries = 0;
  let nameBytes = 0;
  for (const l of layers) {
    const hit = await cache.getJson<CompactWalk>(WALK_NS, l.digest);
    if (!hit || hit.diffId !== l.diffId || hit.catalog?.version !== CATALOG_VERSION) return undefined;
    walks.push(fromCompact(l.digest, hit));
    entries += walks[walks.length - 1]!.entries.length;
    if (entries > maxEntries) throw imageEntriesExceeded(`${layerAt(walks.length - 1, layers.length)} ${l.digest}`, maxEntries);
    nameBytes += walkNameBytes(walks[walks.length - 1]!);
    if (nameBytes > maxNameBytes) throw imageNameBytesExceeded(`${layerAt(walks.length - 1, layers.length)} ${l.digest}`, maxNameBytes);
    catalogs.push(hit.catalog);
  }
  return { walks, catalogs };
}

async function walkAll(layers: readonly Layer[], cache: ContentCache | undefined, opts: AnalyzeOptions): Promise<{ walks: LayerWalk[]; catalogs: LayerCatalog[] }> {
  const out: LayerWalk[] = new Array(layers.length);
  const catalogs: LayerCatalog[] = new Array(layers.length);
  const progress: Progress = { layersDone: 0, layersTotal: layers.length, bytesDone: 0, bytesTotal: layers.reduce((a, l) => a + Math.max(0, l.size), 0) };
  const todo: number[] = [];
  const fromCache: Layer[] = [];
  const limits = opts.limits ?? analysisLimits();
  // Shared by the walks: a bomb spread over many layers is stopped by the image's totals (bytes; entries, which
  // cached walks hold in memory too, so a run after a partly cached one cannot get past it).
  const imageBudget = { left: limits.imageBytes, limit: limits.imageBytes, entriesLeft: limits.imageEntries, entriesLimit: limits.imageEntries, nameBytesLeft: limits.nameBytes, nameBytesLimit: limits.nameBytes };
  // A manifest may list one blob many times (a 30 KB layout naming one bomb layer 100 times): each distinct
  // layer is walked once, and its repeats share that walk, still charged to the image's entry and name budgets.
  const firstOf = new Map<string, number>();
  const repeats: Array<[number, number]> = [];
  for (let i = 0; i < layers.length; i++) {
    const key = `${layers[i]!.digest} ${layers[i]!.diffId}`;
    const first = firstOf.get(key);
    if (first !== undefined) {
      repeats.push([i, first]);
      continue;
    }
    firstOf.set(key, i);
    const hit = cache ? await cache.getJson<CompactWalk>(WALK_NS, layers[i]!.digest) : undefined;
    if (hit && hit.diffId === layers[i]!.diffId && hit.catalog?.version === CATALOG_VERSION) {
      out[i] = fromCompact(layers[i]!.digest, hit);
      imageBudget.entriesLeft -= out[i]!.entries.length;
      if (imageBudget.entriesLeft < 0) throw imageEntriesExceeded(`${layerAt(i, layers.length)} ${layers[i]!.digest}`, limits.imageEntries);
      imageBudget.nameBytesLeft -= walkNameBytes(out[i]!);
      if (imageBudget.nameBytesLeft < 0) throw imageNameBytesExceeded(`${layerAt(i, layers.length)} ${layers[i]!.digest}`, limits.nameBytes);
      catalogs[i] = hit.catalog;
      fromCache.push(layers[i]!);
      progress.layersDone++;
      progress.bytesDone += Math.max(0, layers[i]!.size);
    } else {
      todo.push(i);
    }
  }
  // Walks served from the cache describe bytes the source must still hold.
  if (fromCache.length > 0) await (opts.verify ? verifyLayerDigests(fromCache, opts.signal) : verifyLayerSizes(fromCache));
  opts.onProgress?.({ ...progress });
  const concurrency = Math.max(1, opts.concurrency ?? 3);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const i = todo[next++]!;
      const layer = layers[i]!;
      // A foreign (non-distributable) layer whose blob the source does not hold: reported with its URLs, never
      // fetched from them (they point anywhere), and not cached, so a source that gains the blob is walked later.
      if (layer.urls?.length && layer.storedSize && (await layer.storedSize()) === undefined) {
        out[i] = foreignWalk(layer);
        catalogs[i] = { version: CATALOG_VERSION, files: [] };
        progress.layersDone++;
        opts.onProgress?.({ ...progress });
        continue;
      }
      let seen = 0;
      const walkOnce = async (): Promise<{ walk: LayerWalk; catalog: LayerCatalog }> => {
        // The catalogers read the files they want during this same pass.
        const cataloguer = new LayerCataloguer(layer.diffId || layer.digest, opts.catalogers ?? DEFAULT_CATALOGERS);
        const walk = await walkLayer(layer, {
          ...cataloguer.hooks(),
          lazyDigests: true,
          maxUncompressedBytes: limits.layerBytes,
          maxEntries: limits.layerEntries,
          imageBudget,
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (bytes: number) => {
            progress.bytesDone += bytes - seen;
            seen = bytes;
            opts.onProgress?.({ ...progress });
          },
        });
        return { walk, catalog: await cataloguer.finish() };
      };
      // Wrong bytes for the blob (a flaky registry or proxy) get one fresh pass, from scratch; never a third. So does a
      // gunzip or tar failure: it came before the blob's digest was checked, so it may have been wrong bytes too.
      const { walk, catalog } = await walkOnce().catch((e: unknown) => {
        if (e instanceof VouchError && e.code === 'LIMIT_EXCEEDED') throw atPosition(e, layer.digest, i, layers.length);
        const wrongBytes = (e instanceof DigestMismatchError && e.expected === layer.digest) || (e instanceof SizeMismatchError && e.message.includes(layer.digest));
        if (!wrongBytes && !(e instanceof VouchError && e.code === 'INVALID_TAR')) throw e;
        progress.bytesDone -= seen;
        seen = 0;
        return walkOnce();
      });
      out[i] = walk;
      catalogs[i] = catalog;
      progress.layersDone++;
      opts.onProgress?.({ ...progress });
      if (cache && !opts.catalogers) await cachePut(cache, WALK_NS, layer.digest, () => toCompact(walk, catalog), `layer ${layer.digest}`, walk.warnings);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  for (const [i, first] of repeats) {
    out[i] = out[first]!;
    catalogs[i] = catalogs[first]!;
    imageBudget.entriesLeft -= out[i]!.entries.length;
    if (imageBudget.entriesLeft < 0) throw imageEntriesExceeded(`${layerAt(i, layers.length)} ${layers[i]!.digest}`, limits.imageEntries);
    imageBudget.nameBytesLeft -= walkNameBytes(out[i]!);
    if (imageBudget.nameBytesLeft < 0) throw imageNameBytesExceeded(`${layerAt(i, layers.length)} ${layers[i]!.digest}`, limits.nameBytes);
    progress.layersDone++;
    progress.bytesDone += Math.max(0, layers[i]!.size);
  }
  if (repeats.length > 0) opts.onProgress?.({ ...progress });
  return { walks: out, catalogs };
}

/** Bytes of names a walk holds, as the walks charge the image's budget. */
function walkNameBytes(w: LayerWalk): number {
  let n = 0;
  for (const e of w.entries) n += nameBytesOf(e);
  for (const m of w.warnings) n += stringUnits(m);
  return n;
}

/**
 * Writes a cache entry; one too large to serialise (V8 strings stop at ~512 M characters: "Invalid string
 * length") is not cached, with a warning naming what it was, rather than ending the run in an untyped crash.
 */
async function cachePut(cache: ContentCache, ns: string, digest: string, value: () => unknown, what: string, warnings: string[] | undefined): Promise<void> {
  try {
    await cache.putJson(ns, digest, value());
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    warnings?.push(`${what}: analysis not cached: too large to serialise (${sanitizeLine(e.message)})`);
  }
}

/** A limit error from walkLayer ("layer sha256:…: …") naming the layer by position too, as the other layer errors do. */
function atPosition(e: VouchError, digest: string, i: number, n: number): VouchError {
  const named = `layer ${digest}`;
  if (!e.message.startsWith(named)) return e;
  return new VouchError(e.code, `${layerAt(i, n)} ${digest}${e.message.slice(named.length)}`, { cause: e, exitCode: e.exitCode });
}

/**
 * A layer by position in messages: counted from 0, as the inspect table's `#`, check messages ("in layer 3"),
 * digest errors and the JSON `index` count; the total is said so that the last one is not read as off by one.
 */
export function layerAt(i: number, n: number): string {
  return `layer ${i} (of ${n}, counted from 0)`;
}

/** Walks made by foreignWalk: an analysis that has one is not cached (the source may hold the blob later). */
const FOREIGN = new WeakSet<LayerWalk>();

/**
 * One warning per foreign layer the source did not hold ("layer N (digest): foreign layer: …", N as inspect numbers
 * layers), for answers built from the walks (the package inventory); empty when every layer was walked.
 */
export function foreignLayerWarnings(walks: readonly LayerWalk[]): string[] {
  return walks.flatMap((w, i) => (FOREIGN.has(w) ? w.warnings.map((t) => `layer ${i} (${w.digest}): ${t}`) : []));
}

/** The walk of a foreign layer the source does not hold: no entries, one warning naming where it lives. */
function foreignWalk(layer: Layer): LayerWalk {
  const where = (layer.urls ?? []).slice(0, 3).map((u) => sanitizeLine(u.slice(0, 200))).join(', ');
  const w: LayerWalk = {
    digest: layer.digest,
    diffId: layer.diffId,
    uncompressedSize: 0,
    entries: [],
    warnings: [`foreign layer: its blob is not in the source but distributed from ${where}; not fetched, so its files are not in this analysis`],
  };
  FOREIGN.add(w);
  return w;
}

function buildAnalysis(image: Image, walks: LayerWalk[]): ImageAnalysis {
  const cfg = image.config.config ?? {};
  // What the summary needs from the merged filesystem, taken before the efficiency trees are built: the
  // merged paths are not kept alive beside them (peak memory of a million-file image).
  const merged = ((m) => ({ layers: m.layers, files: m.files, totalBytes: m.totalBytes, specialFiles: specialFiles(m.paths), dangling: danglingHardLinks(m.paths, m.hardLinks), kinds: fileKinds(m) }))(mergeLayers(walks));
  const eff = computeEfficiency(walks);
  const history = image.config.history ?? [];
  const warnings: string[] = [];
  // history entries that are not empty_layer map, in order, onto the layers.
  // A hard link whose target is not a regular file below or before it: docker's extraction fails on it (link: no such
  // file), so the image does not run as listed; it counts no bytes here.
  const dangling = merged.dangling;
  if (dangling.length > 0) {
    const first = dangling.slice(0, 3).map((p) => JSON.stringify(sanitizeLine(p.slice(0, 200)))).join(', ');
    warnings.push(`${dangling.length} hard link${dangling.length === 1 ? '' : 's'} to no regular file (${first}${dangling.length > 3 ? ', …' : ''}): docker cannot extract ${dangling.length === 1 ? 'it' : 'them'}; counted as 0 bytes`);
  }
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
      entries: w.tarEntries ?? stats.entries,
      added: stats.added,
      modified: stats.modified,
      removed: stats.removed,
      addedBytes: stats.addedBytes,
      sizeBytes: eff.layerSizes[i] ?? 0,
      warnings: w.warnings,
      ...(l.urls?.length ? { urls: [...l.urls] } : {}),
    };
  });
  const trace = traceability(image.manifest, image.config, image.index?.descriptor.annotations);
  const platform: Platform = image.platform;
  return {
    analyzerVersion: ANALYZER_VERSION,
    analysedAt: new Date().toISOString(),
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
    specialFiles: merged.specialFiles,
    ...merged.kinds,
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

/** Device nodes and FIFOs of the merged filesystem, sorted by path. */
/** Hard links whose target is no regular file below or before them (the merged filesystem left them unresolved). */
function danglingHardLinks(paths: ReadonlyMap<string, { entry: LayerEntry }>, resolved: { has(path: string): boolean }): string[] {
  const out: string[] = [];
  for (const [path, node] of paths) if (node.entry.type === 'hardlink' && !resolved.has(path)) out.push(path);
  return out;
}

/** Symlinks, resolved hard links and the setuid/setgid list of the merged filesystem. */
function fileKinds(merged: Pick<MergedFilesystem, 'paths' | 'hardLinks'>): { symlinks: number; hardLinks: number; setuidFiles: string[] } {
  let symlinks = 0;
  let hardLinks = 0;
  const setuidFiles: string[] = [];
  for (const [path, { entry: e }] of merged.paths) {
    if (e.type === 'symlink') symlinks++;
    else if (e.type === 'hardlink' && merged.hardLinks.has(path)) hardLinks++;
    // Names of one inode share its mode on disk: a name is setuid when any header of its hard-link group says so
    // (the rule check and diff use; the runtimes disagree on which header wins, so the safe reading is the union).
    if ((e.type === 'file' || e.type === 'hardlink') && ((e.mode | linkBits(merged, path, e.mode)) & 0o6000) !== 0) setuidFiles.push(path);
  }
  return { symlinks, hardLinks, setuidFiles: setuidFiles.sort() };
}

function specialFiles(paths: ReadonlyMap<string, { entry: LayerEntry }>): SpecialFile[] {
  const out: SpecialFile[] = [];
  for (const [path, { entry: e }] of paths) {
    if (e.type !== 'char' && e.type !== 'block' && e.type !== 'fifo') continue;
    const f: SpecialFile = { path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid };
    if (e.type !== 'fifo') {
      f.devmajor = e.devmajor ?? 0;
      f.devminor = e.devminor ?? 0;
    }
    out.push(f);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/* Compact cache form of a layer walk: arrays instead of objects (a 100k-entry layer stays a few MB). */
type EntryExtras = Pick<LayerEntry, 'linkname' | 'devmajor' | 'devminor' | 'xattrs'>;
interface CompactWalk {
  diffId: string;
  uncompressedSize: number;
  headerBytes?: number;
  tarEntries?: number;
  warnings: string[];
  /** path, type, mode, uid, gid, size, mtime, then (when there is one or extras follow) the content sha256 or null, then extras. */
  entries: Array<[string, number, number, number, number, number, number, (string | null)?, EntryExtras?]>;
  /** The layer's catalogue findings (walks cached before catalogers existed have none and are walked again). */
  catalog?: LayerCatalog;
}

const TYPES: EntryType[] = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'whiteout', 'opaque'];
const TYPE_CODE = new Map(TYPES.map((t, i) => [t, i]));

function toCompact(w: LayerWalk, catalog: LayerCatalog): CompactWalk {
  // Digests still in slots: looked up for the rows being written, not copied onto the entries.
  const d = w.contentDigests;
  const slotOf = d ? new Map<LayerEntry, number>() : undefined;
  if (d) d.entries.forEach((e, k) => e && slotOf!.set(e, k));
  const sha = (e: LayerEntry): string | undefined => {
    if (e.sha256 !== undefined || !slotOf) return e.sha256;
    const k = slotOf.get(e);
    return k === undefined ? undefined : slotHex(d!.slots, k);
  };
  const c: CompactWalk = {
    diffId: w.diffId,
    uncompressedSize: w.uncompressedSize,
    warnings: w.warnings,
    entries: w.entries.map((e) => {
      const row: CompactWalk['entries'][number] = [e.path, TYPE_CODE.get(e.type)!, e.mode, e.uid, e.gid, e.size, e.mtime];
      const extras = e.linkname !== undefined || e.devmajor !== undefined || e.devminor !== undefined || e.xattrs !== undefined;
      const digest = sha(e);
      if (digest !== undefined || extras) row.push(digest ?? null);
      if (extras) {
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
  if (w.tarEntries !== undefined) c.tarEntries = w.tarEntries;
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
      if (typeof r[7] === 'string') e.sha256 = r[7];
      const x = r[8];
      if (x) Object.assign(e, x);
      return e;
    }),
  };
  if (c.headerBytes !== undefined) w.headerBytes = c.headerBytes;
  if (c.tarEntries !== undefined) w.tarEntries = c.tarEntries;
  return w;
}
