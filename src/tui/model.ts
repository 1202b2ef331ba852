/**
 * The review model: everything the workbench shows, assembled once by the
 * loader (loader.ts) from core results — the same objects `vouch inspect`,
 * `sbom`, `chain`, `check` and `diff` print with --json. Screens only read it;
 * nothing here does I/O. Strings that came from an image, SBOM or signature
 * are untrusted and go to the terminal only through the text components, which
 * sanitise as they render (`S`, `Table`). Strings that identify something (file
 * paths and link targets, purls) are kept raw — control characters and bytes
 * that are not UTF-8 (path-bytes.ts) included — so that two names that look
 * the same once sanitised stay two rows and two subjects; labels that are only
 * shown (names, versions, created_by) are sanitised by the loader as well.
 */
import type { CheckResult, Severity, Step } from '../core/checks/types.js';
import type { DiffReport } from '../core/diff/index.js';
import type { ImageAnalysis } from '../core/layers/image-analysis.js';
import type { ChainReport } from '../core/trust/chain.js';
import type { FileTree } from './tree.js';

export type ChangeStatus = 'added' | 'modified' | 'removed' | 'unchanged';

/** One tar entry of one layer, with what it did to the filesystem below. */
export interface LayerFile {
  path: string;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
  status: ChangeStatus;
}

export interface LayerRow {
  index: number;
  digest: string;
  diffId: string;
  size: number;
  createdBy: string;
  added: number;
  modified: number;
  removed: number;
}

export type MismatchKind = 'only-in-sbom' | 'only-in-catalogue' | 'version-mismatch';

export interface PackageRow {
  name: string;
  version: string;
  type: string;
  licenses: string;
  purl: string;
  /** Index of the layer that introduced it (first location's layer); null when unknown. */
  layer: number | null;
  locations: Array<{ path: string; layer: number | null }>;
  /** Where the attached SBOM and the catalogue disagree about it; null when they agree or nothing is attached. */
  mismatch: MismatchKind | null;
  /** For version mismatches: the other side's version. */
  otherVersion?: string;
}

export interface ImageModel {
  /** The release's name for it (`api`), or the reference for an ad-hoc review. */
  name: string;
  reference: string;
  digest: string;
  analysis: ImageAnalysis;
  layers: LayerRow[];
  /** Per-layer entries with their change status (same order as `layers`). */
  layerFiles: LayerFile[][];
  /** Per-layer file trees and the merged tree, built on first use (a 100k-path tree costs ~100 ms). */
  tree(layer: number | 'merged'): FileTree;
  packages: PackageRow[];
  /** Attached SBOMs found (0 when none, null when attachments could not be read). */
  attachedSboms: number | null;
  chain: ChainReport | null;
  /** At least one trusted signature verifies. */
  signed: boolean;
  /**
   * Set when the digest is not a registry digest (synthesised from a docker-archive without one, or a daemon
   * image): the same sentence `vouch chain` / `vouch check` print (src/core/util/digest-caveat.ts), or the
   * chain's note when the image was matched to its registry copy.
   */
  caveat: string | null;
  checks: CheckResult[];
  /** Against the baseline; null without one. */
  diff: DiffReport | null;
  baselineLabel: string | null;
}

export interface ReviewModel {
  release: { name: string; version: string };
  images: ImageModel[];
  policyDigest: string;
  failOn: Severity;
  /** Where the trust came from (trust file path or "(no trust file)"). */
  trustSource: string;
  /** Labels of things that could not be loaded (e.g. chain unavailable for a daemon image). */
  warnings: string[];
}

export const STEP_LABEL: Record<Step, string> = {
  traceability: 'Traceability',
  provenance: 'Provenance',
  'least-privilege': 'Least privilege',
  'dependency-control': 'Dependency control',
  compliance: 'Compliance',
};

/** Stable id of a check result within a review: check id + image + subject. */
export function resultId(r: CheckResult): string {
  const s = r.subject;
  const what = s.path ?? s.package?.purl ?? s.env ?? (s.signature ? `signature#${s.signature.index}` : null) ?? (s.layer?.digest ?? '');
  return `${r.id}|${s.image}|${what}`;
}
