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
import type { ImageAnalysis, Progress } from '../layers/image-analysis.js';
import { inspectReference, inspectedLayers } from '../layers/inspect.js';
import type { EntryType } from '../layers/types.js';
import type { Platform } from '../oci/types.js';
import { CATALOG_VERSION, catalogFromAnalysis } from '../packages/catalog/index.js';
import { readSbomFile, describe as describeSbom } from '../packages/sbom/index.js';
import type { PackageInventory } from '../packages/types.js';
import { formatReference } from '../ref/parse.js';
import type { Resolution } from '../sources/open.js';
import { pinsFor, type ReferencePins } from '../sources/pins.js';
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { fileIndex, type FileIndex, type FileInfo } from './image.js';
import type { BaselineApproval } from '../approval/baseline.js';

export interface ImageParts {
  analysis: ImageAnalysis;
  /** The merged filesystem, as the file diff reads it. */
  files: FileIndex;
}

export interface DiffSide {
  /** What the input was: 'image', 'sbom' or 'approval'. */
  kind: string;
  /** The input as given. */
  input: string;
  /** A one-line description for people ("oci:/x:1 sha256:…", "CycloneDX 1.6 JSON"). */
  label: string;
  inventory: PackageInventory;
  /** Present for images; null when the side has no image (an SBOM): image-only sections are then null. */
  image: ImageParts | null;
  resolution?: Resolution;
  /** An approval record's images, each with its own inventory (never merged): pairApprovalImage picks the one to diff. */
  approval?: ApprovalSide;
}

export interface ApprovalImage {
  /** The release key the record approved the image under (`api`). */
  key: string;
  /** The image's name in the record (`api-2.3.0:2.3.0`, a reference). */
  name: string;
  digest: string;
  inventory: PackageInventory;
}

export interface ApprovalSide {
  /** "approval shop 2.3.0" */
  title: string;
  /** "approved by demo-reviewer" */
  by: string;
  images: ApprovalImage[];
  /** The key of the image this side stands for once paired; null while the side covers the whole record. */
  paired: string | null;
  /** The record: release, decision, reviewer, reviewedAt (accepted as live by approval/baseline.ts). */
  record: BaselineApproval;
  /**
   * Set when the pairing fell back to the record's only image and its repository is not the other side's:
   * the record approved something else (another release), and its packages count as already approved.
   */
  warning?: string;
}

export interface SideOptions {
  cache?: ContentCache;
  noCache?: boolean;
  platform?: Platform;
  insecureRegistries?: string[];
  /** Told how a bare image argument was resolved. */
  onResolved?: (input: string, r: Resolution) => void;
  signal?: AbortSignal;
  /** Tags resolved in this run (sources/pins.ts). */
  pins?: ReferencePins;
  /** `--show-secrets`: config values and history lines as the image holds them (diffInputs passes it to the diff). */
  showSecrets?: boolean;
  /** Trust file that approval records must verify against (default ./vouch.trust.yaml when present). */
  trustFile?: string;
  /** Told how far the layer walks of `input` have got (the CLI's progress line). */
  onProgress?: (input: string, p: Progress) => void;
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

/** A Sigstore bundle file (an approval record is one): a JSON object naming a sigstore bundle media type near its start. */
async function looksLikeBundleFile(input: string): Promise<boolean> {
  try {
    if (!(await stat(input)).isFile()) return false;
    const fh = await open(input, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const head = buf.subarray(0, bytesRead).toString('utf8');
      return head.trimStart().startsWith('{') && head.includes('application/vnd.dev.sigstore.bundle');
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/**
 * An approval record stands in for the images it approved: its inventory
 * (every image's purls), but only once its signature verifies against the
 * trust file's reviewers; an unverifiable record is an error, never used.
 */
export const approvalLoader: SideLoader = {
  name: 'approval',
  detect: looksLikeBundleFile,
  async load(input, opts) {
    const [{ loadBaselineApproval }, { inventoryFromPurls }, { loadTrustFile, TRUST_FILE_NAME }, { existsSync }] = await Promise.all([
      import('../approval/baseline.js'),
      import('../approval/inventory.js'),
      import('../trust/trust-file.js'),
      import('node:fs'),
    ]);
    const trustPath = opts.trustFile ?? (existsSync(TRUST_FILE_NAME) ? TRUST_FILE_NAME : undefined);
    if (!trustPath) throw new VouchError('USAGE', `${input}: an approval record is used only after it verifies: give --trust FILE (no ./${TRUST_FILE_NAME} here)`);
    const trust = await loadTrustFile(trustPath);
    // Only a record `vouch verify` would accept (approved, live, meeting require): a rejected or expired one is an error.
    const { loaded: a, baseline } = await loadBaselineApproval(input, trust);
    const p = a.statement.predicate;
    const images = p.images.map((i) => ({ key: i.key, name: i.name, digest: i.digest, inventory: inventoryFromPurls(i.packages, i.licenses) }));
    // Until paired with one image (pairApprovalImage), the side lists the record's packages for a summary only.
    const inventory = inventoryFromPurls([...new Set(p.images.flatMap((i) => i.packages))], Object.assign({}, ...p.images.map((i) => i.licenses)));
    const title = `approval ${p.release.name} ${p.release.version}`;
    const by = `${baseline.decision} by ${baseline.reviewer} at ${baseline.reviewedAt}`;
    return {
      kind: 'approval',
      input,
      label: sanitizeLine(`${title} (${by}, ${images.length} image${images.length === 1 ? '' : 's'}, ${inventory.packages.length} packages)`),
      inventory,
      image: null,
      approval: { title, by, images, paired: null, record: baseline },
    };
  },
};

/** What pairApprovalImage knows of the other side: its release key, reference and digest, and the user's explicit choice. */
export interface PairingHint {
  /** `--baseline-image KEY`: must name an image of the record. */
  choose?: string;
  /** The release key of the image being diffed (a release file's key); used when the record has it. */
  key?: string;
  /** The other side's reference (`oci:/d/api:2.4.0`, `registry/shop/api:1`): paired by repository name. */
  reference?: string;
  /** The other side's manifest digest: the same image approved before. */
  digest?: string;
}

/** The last path component of a reference's repository, without transport, tag or digest: `oci:/d/api:2.4.0` → `api`. */
export function repositoryName(reference: string): string {
  let r = reference.replace(/^(docker|oci|oci-archive|docker-archive|docker-daemon):(\/\/)?/, '').replace(/@sha256:[0-9a-f]*$/i, '');
  r = r.slice(r.lastIndexOf('/') + 1);
  const colon = r.indexOf(':');
  return colon < 0 ? r : r.slice(0, colon);
}

/**
 * An approval side narrowed to the one record image that stands for the other
 * side's image: the chosen key, else the release key, else the same digest, else
 * the same repository name, else the record's only image. Packages of different
 * images are never merged; an ambiguous pairing is a usage error naming the keys.
 * Sides that are not approval records are returned as they are.
 */
export function pairApprovalImage(side: DiffSide, hint: PairingHint = {}): DiffSide {
  const a = side.approval;
  if (!a || a.paired !== null) return side;
  const keys = a.images.map((i) => i.key).join(', ');
  const how = `choose one with --baseline-image KEY (${keys})`;
  let picked: ApprovalImage | undefined;
  if (hint.choose !== undefined) {
    picked = a.images.find((i) => i.key === hint.choose);
    if (!picked) throw new VouchError('USAGE', sanitizeLine(`${side.input}: the approval record has no image ${JSON.stringify(hint.choose)}; its image keys: ${keys}`));
  }
  const only = (xs: ApprovalImage[]): ApprovalImage | undefined => (xs.length === 1 ? xs[0] : undefined);
  if (!picked && hint.key !== undefined) picked = a.images.find((i) => i.key === hint.key);
  if (!picked && hint.digest) picked = only(a.images.filter((i) => i.digest === hint.digest));
  if (!picked && hint.reference) {
    const repo = repositoryName(hint.reference);
    picked = only(a.images.filter((i) => i.key === repo || repositoryName(i.name) === repo));
  }
  let warning: string | undefined;
  if (!picked) {
    picked = only(a.images);
    if (picked && hint.reference && repositoryName(picked.name) !== repositoryName(hint.reference)) {
      warning = sanitizeLine(
        `WARNING: baseline: ${a.record.path} is an approval of ${a.record.release.name} ${a.record.release.version} (image ${picked.name}), not of ${hint.reference}: packages it lists count as already approved`,
      );
    }
  }
  if (!picked) {
    const what = hint.key ?? (hint.reference ? repositoryName(hint.reference) : 'the other side');
    throw new VouchError('USAGE', sanitizeLine(`${side.input}: the approval record holds ${a.images.length} images and none pairs with ${what}: ${how}`));
  }
  return {
    ...side,
    label: sanitizeLine(`${a.title} image ${picked.key} (${picked.name} ${picked.digest}; ${a.by}, ${picked.inventory.packages.length} packages)`),
    inventory: picked.inventory,
    approval: { ...a, paired: picked.key, ...(warning ? { warning } : {}) },
  };
}

export const imageLoader: SideLoader = {
  name: 'image',
  detect: async () => true,
  async load(input, opts) {
    const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
    const openOpts = {
      ...(opts.platform ? { platform: opts.platform } : {}),
      ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      // Analysis and the layer walks below read the digest the tag had at the first lookup.
      pins: pinsFor(opts),
    };
    const { analysis, resolution } = await inspectReference(input, {
      ...openOpts,
      ...(cache ? { cache } : { noCache: true }),
      onResolved: (r) => opts.onResolved?.(input, r),
      ...(opts.onProgress ? { onProgress: (p: Progress) => opts.onProgress!(input, p) } : {}),
    });
    // What the diff needs of an image (its catalogue and final file list) is cached by manifest digest.
    const snap = cache ? await readSnapshot(cache, analysis.digest) : undefined;
    if (snap) {
      return { kind: 'image', input, label: `${formatReference(resolution.reference)} ${analysis.digest}`, inventory: snap.inventory, image: { analysis, files: snap.files }, resolution };
    }
    // The walks and catalogues are cached by inspect's single pass; only a cold or cache-less run opens the image again.
    const parts = await inspectedLayers({ analysis, resolution }, { ...openOpts, cache, ...(opts.onProgress ? { onProgress: (p: Progress) => opts.onProgress!(input, p) } : {}) });
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
// v2: rows carry the content sha256. v3: a hard link's size is its target's. v4: rows carry linkBits.
const SNAPSHOT_NS = `diff-snapshot/v4-catalog${CATALOG_VERSION}`;
const TYPES: EntryType[] = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'whiteout', 'opaque'];
const TYPE_CODE = new Map(TYPES.map((t, i) => [t, i]));
type FileRow = [string, number, number, number, number, number, (string | null)?, (string | null)?, number?];
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
    if (typeof r[6] === 'string') f.linkname = r[6];
    if (typeof r[7] === 'string') f.sha256 = r[7];
    if (typeof r[8] === 'number' && r[8] !== 0) f.linkBits = r[8];
    files.set(r[0], f);
  }
  return { inventory: s.inventory, files };
}

async function writeSnapshot(cache: ContentCache, digest: string, inventory: PackageInventory, files: FileIndex): Promise<void> {
  const rows: FileRow[] = [];
  for (const [path, f] of files) {
    const row: FileRow = [path, TYPE_CODE.get(f.type) ?? 0, f.size, f.mode, f.uid, f.gid];
    if (f.linkname !== undefined || f.sha256 !== undefined || f.linkBits !== undefined) row.push(f.linkname ?? null);
    if (f.sha256 !== undefined || f.linkBits !== undefined) row.push(f.sha256 ?? null);
    if (f.linkBits !== undefined) row.push(f.linkBits);
    rows.push(row);
  }
  await cache.putJson(SNAPSHOT_NS, digest, { digest, inventory, files: rows } satisfies Snapshot);
}

/** Tried in order: an approval record (a Sigstore bundle) before other JSON files. */
export const DEFAULT_LOADERS: readonly SideLoader[] = [approvalLoader, sbomFileLoader, imageLoader];

export async function loadDiffSide(input: string, opts: SideOptions = {}, loaders: readonly SideLoader[] = DEFAULT_LOADERS): Promise<DiffSide> {
  for (const l of loaders) if (await l.detect(input)) return l.load(input, opts);
  throw new Error(`${input}: no loader accepts it`);
}
