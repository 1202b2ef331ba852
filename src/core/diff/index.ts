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
import { loadDiffSide, DEFAULT_LOADERS, type DiffSide, type SideLoader, type SideOptions } from './sides.js';

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

export function diffSides(base: DiffSide, target: DiffSide): DiffReport {
  const packages = diffInventories(base.inventory, target.inventory);
  if (!base.image || !target.image) return { packages, config: null, layers: null, files: null };
  const img = diffImages(base.image.analysis, target.image.analysis, [], [], { base: base.image.files, target: target.image.files });
  return { packages, config: img.config, layers: img.layers, files: img.files };
}

/** Load both sides (concurrently) and diff them. */
export async function diffInputs(base: string, target: string, opts: SideOptions = {}, loaders: readonly SideLoader[] = DEFAULT_LOADERS): Promise<DiffResult> {
  const [a, b] = await Promise.all([loadDiffSide(base, opts, loaders), loadDiffSide(target, opts, loaders)]);
  return { report: diffSides(a, b), base: a, target: b };
}
