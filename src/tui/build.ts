/**
 * The pure half of the loader: core results in, the ReviewModel out. Runs in
 * the UI process on what the analysis process sends (ReviewParts), so it
 * imports nothing heavy (no sources, no trust libraries): the workbench starts
 * fast and the bundle stays small.
 */
import type { CheckResult, Severity } from '../core/checks/types.js';
import type { DiffReport } from '../core/diff/index.js';
import type { ImageAnalysis } from '../core/layers/image-analysis.js';
import type { LayerWalk } from '../core/layers/types.js';
import { mergeLayers, type MergedFilesystem } from '../core/layers/filesystem.js';
import type { InventoryComparison } from '../core/packages/compare.js';
import type { PackageInventory } from '../core/packages/types.js';
import type { ChainReport } from '../core/trust/chain.js';
import { synthesisedDigestCaveat } from '../core/util/digest-caveat.js';
import { sanitizeLine } from '../core/util/sanitize.js';
import type { ChangeStatus, ImageModel, LayerFile, LayerRow, MismatchKind, PackageRow, ReviewModel } from './model.js';
import { buildTree, type FileTree, type TreeInput } from './tree.js';

const s = sanitizeLine;

/** What the loader hands over from the analysis process: plain data (structured-clone safe), no functions. */
export interface ReviewParts {
  release: { name: string; version: string };
  images: Array<Omit<ImageParts, 'merged'>>;
  policyDigest: string;
  failOn: Severity;
  trustSource: string;
  warnings: string[];
}


export interface ImageParts {
  name: string;
  analysis: ImageAnalysis;
  walks: readonly Pick<LayerWalk, 'entries' | 'diffId'>[];
  merged?: MergedFilesystem;
  inventory: PackageInventory | null;
  /** Attached SBOMs: how many, and how they compare with the catalogue (null: attachments not read). */
  attached: { count: number; comparison: InventoryComparison | null } | null;
  chain: ChainReport | null;
  /** At least one trusted signature verifies (chainPasses). */
  signed: boolean;
  checks: CheckResult[];
  diff: DiffReport | null;
  baselineLabel: string | null;
}

/** What each layer's entries did to the filesystem below: added, modified or removed. */
export function layerFileStatuses(walks: readonly Pick<LayerWalk, 'entries'>[]): LayerFile[][] {
  // path → layer that last wrote it; removals of a directory are remembered by directory and layer.
  const present = new Map<string, number>();
  const removedDirs = new Map<string, number>();
  const exists = (p: string): boolean => {
    const at = present.get(p);
    if (at === undefined) return false;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const r = removedDirs.get(p.slice(0, i));
      if (r !== undefined && r > at) return false;
    }
    const r = removedDirs.get(p);
    return !(r !== undefined && r > at);
  };
  return walks.map((w, li) => {
    const out: LayerFile[] = [];
    for (const e of w.entries) {
      if (e.type === 'whiteout' || e.type === 'opaque') {
        out.push({ path: e.path, type: e.type, size: 0, mode: e.mode, uid: e.uid, gid: e.gid, status: 'removed' });
        if (e.type === 'whiteout') present.delete(e.path);
        removedDirs.set(e.path, li);
        continue;
      }
      const status: ChangeStatus = exists(e.path) ? (e.type === 'dir' ? 'unchanged' : 'modified') : 'added';
      const f: LayerFile = { path: e.path, type: e.type, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid, status };
      if (e.linkname !== undefined) f.linkname = e.linkname;
      out.push(f);
      present.set(e.path, li);
    }
    return out;
  });
}

function layerIndexOf(analysis: ImageAnalysis): (diffId: string | null) => number | null {
  const m = new Map(analysis.layers.map((l) => [l.diffId, l.index]));
  return (d) => (d === null ? null : (m.get(d) ?? null));
}

/** Package rows: the catalogue, plus packages only the attached SBOM lists, each mismatch marked. */
export function packageRows(analysis: ImageAnalysis, inventory: PackageInventory | null, cmp: InventoryComparison | null): PackageRow[] {
  const layerOf = layerIndexOf(analysis);
  const pkgs = inventory?.packages ?? [];
  const marks = new Map<string, { kind: MismatchKind; other?: string }>();
  const extra: PackageRow[] = [];
  if (cmp) {
    for (const p of cmp.onlyInCatalog) marks.set(p.purl, { kind: 'only-in-catalogue' });
    for (const m of cmp.versionMismatch) marks.set(m.catalogPurl, { kind: 'version-mismatch', other: m.attachedVersion });
    for (const p of cmp.onlyInAttached) {
      extra.push({
        name: s(p.name),
        version: s(p.version),
        type: s(p.type),
        licenses: s(p.licenses.join(', ')),
        purl: p.purl,
        layer: null,
        locations: p.locations.map((l) => ({ path: l.path, layer: null })),
        mismatch: 'only-in-sbom',
      });
    }
  }
  const rows: PackageRow[] = pkgs.map((p) => {
    const mark = marks.get(p.purl);
    const row: PackageRow = {
      name: s(p.name),
      version: s(p.version),
      type: s(p.type),
      licenses: s(p.licenses.join(', ')),
      purl: p.purl,
      layer: layerOf(p.locations[0]?.layer ?? null),
      locations: p.locations.map((l) => ({ path: l.path, layer: layerOf(l.layer) })),
      mismatch: mark?.kind ?? null,
    };
    if (mark?.other !== undefined) row.otherVersion = s(mark.other);
    return row;
  });
  return [...rows, ...extra];
}

export function imageModel(p: ImageParts): ImageModel {
  const a = p.analysis;
  const layerFiles = layerFileStatuses(p.walks);
  const layers: LayerRow[] = a.layers.map((l) => ({
    index: l.index,
    digest: l.digest,
    diffId: l.diffId,
    size: l.sizeBytes,
    createdBy: s(l.createdBy ?? ''),
    added: l.added,
    modified: l.modified,
    removed: l.removed,
  }));
  const trees = new Map<number | 'merged', FileTree>();
  const tree = (which: number | 'merged'): FileTree => {
    let t = trees.get(which);
    if (t) return t;
    if (which === 'merged') {
      const merged = p.merged ?? mergeLayers(p.walks);
      const inputs: TreeInput[] = [];
      for (const [path, n] of merged.paths) {
        const e = n.entry;
        const row: TreeInput = { path, type: e.type, size: e.size, mode: e.mode, status: n.layer === 0 ? 'unchanged' : 'added', layer: n.layer };
        if (e.linkname !== undefined) row.linkname = e.linkname;
        inputs.push(row);
      }
      t = buildTree(inputs);
    } else {
      t = buildTree((layerFiles[which] ?? []).map((f) => ({ ...f, layer: which })));
    }
    trees.set(which, t);
    return t;
  };
  return {
    name: s(p.name),
    reference: s(a.reference),
    digest: a.digest,
    analysis: a,
    layers,
    layerFiles,
    tree,
    packages: packageRows(a, p.inventory, p.attached?.comparison ?? null),
    attachedSboms: p.attached ? p.attached.count : null,
    signed: p.signed,
    // As `vouch check` words it: the chain's note (matched to the registry copy) wins over the caveat.
    caveat: ((c) => (c === null ? null : s(c)))(p.chain?.json.image.note ?? synthesisedDigestCaveat(a)),
    chain: p.chain,
    checks: p.checks,
    diff: p.diff,
    baselineLabel: p.baselineLabel === null ? null : s(p.baselineLabel),
  };
}

export function modelFromParts(parts: ReviewParts): ReviewModel {
  return {
    release: { name: s(parts.release.name), version: s(parts.release.version) },
    images: parts.images.map((p) => imageModel(p)),
    policyDigest: parts.policyDigest,
    failOn: parts.failOn,
    trustSource: s(parts.trustSource),
    warnings: parts.warnings.map(s),
  };
}

