/**
 * Diffs between releases: packages (each ecosystem's version order), and for
 * two images their configuration, layers and files.
 *
 *   diffInventories(base, target)            packages added / removed / changed / licence changes
 *   diffImages(a, b, walksA, walksB)         config, layers, files
 *   diffInputs('img:1', 'sbom.json')         both, from references or SBOM files (see sides.ts)
 */
import { diffImages, type ConfigDiff, type FilesDiff, type LayersDiff } from './image.js';
import { diffInventories, type PackageDiff } from './packages.js';
import { pinsFor } from '../sources/pins.js';
import { loadDiffSide, pairApprovalImage, DEFAULT_LOADERS, type DiffSide, type PairingHint, type SideLoader, type SideOptions } from './sides.js';
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';

export * from './packages.js';
export * from './image.js';
export * from './redact.js';
export * from './sides.js';

/** The `vouch diff --json` document: image-only sections are null when either side is not an image. */
export interface DiffReport {
  packages: PackageDiff;
  config: ConfigDiff | null;
  layers: LayersDiff | null;
  files: FilesDiff | null;
}

export interface DiffResult {
  report: DiffReport;
  base: DiffSide;
  target: DiffSide;
}

export function diffSides(base: DiffSide, target: DiffSide, opts: { showSecrets?: boolean } = {}): DiffReport {
  const packages = diffInventories(base.inventory, target.inventory);
  if (!base.image || !target.image) return { packages, config: null, layers: null, files: null };
  const img = diffImages(base.image.analysis, target.image.analysis, [], [], { base: base.image.files, target: target.image.files }, opts);
  return { packages, config: img.config, layers: img.layers, files: img.files };
}

/**
 * Load both sides (concurrently) and diff them. An approval record on either
 * side is narrowed to the record image that pairs with the other side
 * (pairApprovalImage; `baselineImage` is `--baseline-image KEY`).
 */
export async function diffInputs(base: string, target: string, opts: SideOptions & { baselineImage?: string } = {}, loaders: readonly SideLoader[] = DEFAULT_LOADERS): Promise<DiffResult> {
  // One resolution per tag for the whole run: the same tag on both sides is one digest.
  opts = { ...opts, pins: pinsFor(opts) };
  const [a0, b0] = await Promise.all([loadDiffSide(base, opts, loaders).catch(onSide('base', base)), loadDiffSide(target, opts, loaders).catch(onSide('target', target))]);
  const a = pairApprovalImage(a0, hintFrom(b0, opts.baselineImage));
  const b = pairApprovalImage(b0, hintFrom(a0, opts.baselineImage));
  return { report: diffSides(a, b, opts.showSecrets ? { showSecrets: true } : {}), base: a, target: b };
}

/** A limit error names a layer: with two images in the run, say which one it belongs to. */
function onSide(side: 'base' | 'target', input: string): (e: unknown) => never {
  return (e) => {
    if (e instanceof VouchError && e.code === 'LIMIT_EXCEEDED') throw new VouchError(e.code, sanitizeLine(`${side} image ${input}: ${e.message}`), { cause: e, exitCode: e.exitCode });
    throw e;
  };
}

/** What the other side tells the pairing: its reference and digest when it is an image. */
function hintFrom(other: DiffSide, choose: string | undefined): PairingHint {
  return {
    ...(choose !== undefined ? { choose } : {}),
    ...(other.image ? { reference: other.input, digest: other.image.analysis.digest } : {}),
  };
}
