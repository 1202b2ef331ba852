/**
 * What `vouch diff` compares: each side is an image (analysis, layer walks and
 * catalogue) or an SBOM file (inventory only). Sides are loaded by a list of
 * loaders tried in order; the first whose `detect` says yes loads the input.
 *
 * Extension point: the approval-record issue adds a loader (an approval record
 * file whose inventory stands in for the image) in front of DEFAULT_LOADERS;
 * nothing else in the diff changes, since a side carries an inventory and,
 * when it has them, the image parts.
 */
import { open, stat } from 'node:fs/promises';
import { ContentCache } from '../cache/cache.js';
import { mergeLayers } from '../layers/filesystem.js';
import type { ImageAnalysis } from '../layers/image-analysis.js';
import { inspectReference, inspectedLayers } from '../layers/inspect.js';
import type { EntryType } from '../layers/types.js';
import type { Platform } from '../oci/types.js';
import { CATALOG_VERSION, catalogFromAnalysis } from '../packages/catalog/index.js';
import { readSbomFile, describe as describeSbom } from '../packages/sbom/index.js';
import type { PackageInventory } from '../packages/types.js';
import { formatReference } from '../ref/parse.js';
import type { Resolution } from '../sources/open.js';
import { fileIndex, type FileIndex, type FileInfo } from './image.js';

export interface ImageParts {
  analysis: ImageAnalysis;
  /** The merged filesystem, as the file diff reads it. */
  files: FileIndex;
}

export interface DiffSide {
  /** What the input was: 'image', 'sbom' (and later 'approval'). */
  kind: string;
  /** The input as given. */
  input: string;
  /** A one-line description for people ("oci:/x:1 sha256:…", "CycloneDX 1.6 JSON"). */
  label: string;
  inventory: PackageInventory;
  /** Present for images; null when the side has no image (an SBOM): image-only sections are then null. */
  image: ImageParts | null;
  resolution?: Resolution;
}

export interface SideOptions {
  cache?: ContentCache;
  noCache?: boolean;
  platform?: Platform;
  insecureRegistries?: string[];
  /** Told how a bare image argument was resolved. */
  onResolved?: (input: string, r: Resolution) => void;
  signal?: AbortSignal;
}

export interface SideLoader {
  name: string;
  /** Whether this loader takes the input (cheap: a stat and a peek at most). */
  detect(input: string): Promise<boolean>;
  load(input: string, opts: SideOptions): Promise<DiffSide>;
}

/** Regular file whose first non-blank byte opens a JSON document or an SPDX tag-value header. */
async function looksLikeSbomFile(input: string): Promise<boolean> {
  try {
    if (!(await stat(input)).isFile()) return false;
    const fh = await open(input, 'r');
    try {
      const buf = Buffer.alloc(512);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const head = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
      return head.startsWith('{') || head.startsWith('[') || /^(##|SPDXVersion:)/.test(head);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

export const sbomFileLoader: SideLoader = {
  name: 'sbom',
  detect: looksLikeSbomFile,
  async load(input) {
    const inv = await readSbomFile(input);
    return { kind: 'sbom', input, label: `${describeSbom(inv.format)} (${inv.packages.length} packages)`, inventory: inv, image: null };
  },
};

export const imageLoader: SideLoader = {
  name: 'image',
  detect: async () => true,
  async load(input, opts) {
    const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
    const openOpts = {
      ...(opts.platform ? { platform: opts.platform } : {}),
      ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    const { analysis, resolution } = await inspectReference(input, {
      ...openOpts,
      ...(cache ? { cache } : { noCache: true }),
      onResolved: (r) => opts.onResolved?.(input, r),
    });
    // What the diff needs of an image (its catalogue and final file list) is cached by manifest digest.
    const snap = cache ? await readSnapshot(cache, analysis.digest) : undefined;
    if (snap) {
      return { kind: 'image', input, label: `${formatReference(resolution.reference)} ${analysis.digest}`, inventory: snap.inventory, image: { analysis, files: snap.files }, resolution };
    }
    // The walks and catalogues are cached by inspect's single pass; only a cold or cache-less run opens the image again.
    const parts = await inspectedLayers({ analysis, resolution }, { ...openOpts, cache });
    const merged = mergeLayers(parts.walks);
    const inventory = catalogFromAnalysis(parts, merged);
    const files = fileIndex(merged);
    if (cache) await writeSnapshot(cache, analysis.digest, inventory, files);
    return {
      kind: 'image',
      input,
      label: `${formatReference(resolution.reference)} ${analysis.digest}`,
      inventory,
      image: { analysis, files },
      resolution,
    };
  },
};

/* The diff snapshot of an image: its inventory and final file list, keyed by manifest digest (immutable). */
const SNAPSHOT_NS = `diff-snapshot/v1-catalog${CATALOG_VERSION}`;
const TYPES: EntryType[] = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'whiteout', 'opaque'];
const TYPE_CODE = new Map(TYPES.map((t, i) => [t, i]));
type FileRow = [string, number, number, number, number, number, string?];
interface Snapshot {
  digest: string;
  inventory: PackageInventory;
  files: FileRow[];
}

async function readSnapshot(cache: ContentCache, digest: string): Promise<{ inventory: PackageInventory; files: FileIndex } | undefined> {
  const s = await cache.getJson<Snapshot>(SNAPSHOT_NS, digest);
  if (!s || s.digest !== digest || !Array.isArray(s.files) || !s.inventory || !Array.isArray(s.inventory.packages)) return undefined;
  const files = new Map<string, Omit<FileInfo, 'path'>>();
  for (const r of s.files) {
    const f: Omit<FileInfo, 'path'> = { type: TYPES[r[1]] ?? 'file', size: r[2], mode: r[3], uid: r[4], gid: r[5] };
    if (r[6] !== undefined) f.linkname = r[6];
    files.set(r[0], f);
  }
  return { inventory: s.inventory, files };
}

async function writeSnapshot(cache: ContentCache, digest: string, inventory: PackageInventory, files: FileIndex): Promise<void> {
  const rows: FileRow[] = [];
  for (const [path, f] of files) {
    const row: FileRow = [path, TYPE_CODE.get(f.type) ?? 0, f.size, f.mode, f.uid, f.gid];
    if (f.linkname !== undefined) row.push(f.linkname);
    rows.push(row);
  }
  await cache.putJson(SNAPSHOT_NS, digest, { digest, inventory, files: rows } satisfies Snapshot);
}

/** Tried in order; an approval-record loader goes first once that issue lands. */
export const DEFAULT_LOADERS: readonly SideLoader[] = [sbomFileLoader, imageLoader];

export async function loadDiffSide(input: string, opts: SideOptions = {}, loaders: readonly SideLoader[] = DEFAULT_LOADERS): Promise<DiffSide> {
  for (const l of loaders) if (await l.detect(input)) return l.load(input, opts);
  throw new Error(`${input}: no loader accepts it`);
}
