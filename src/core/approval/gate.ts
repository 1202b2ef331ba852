/**
 * `vouch gate`: every image a deployment would run must be pinned by digest
 * and covered by a valid approval. Whether an approval covers a digest is
 * asked of `covers` (the approval verifier in the CLI, anything in tests), so
 * the gate itself reads no signature.
 */
import { pinnedImage, readWorkloadImages, type WorkloadImage } from './workloads.js';
import { pushAll } from '../util/fold.js';

export interface CoverageReason {
  code: string;
  message: string;
}

/** What the approval verifier answers for one image (a subset of ApprovalVerification). */
export interface Coverage {
  ok: boolean;
  decision: string | null;
  release: { name: string; version: string } | null;
  reviewers: Array<{ name: string; identity: string }>;
  reasons: CoverageReason[];
}

export type Covers = (image: { name: string; digest: string }) => Promise<Coverage>;

/** Where the image was written (as the workload reader found it) and what the gate concluded. */
export interface GateImage extends Pick<WorkloadImage, 'file' | 'document' | 'kind' | 'name' | 'container' | 'field' | 'path' | 'image'> {
  digest: string | null;
  ok: boolean;
  decision: string | null;
  release: { name: string; version: string } | null;
  reviewers: Array<{ name: string; identity: string }>;
  reasons: CoverageReason[];
}

export interface GateReport {
  ok: boolean;
  files: string[];
  images: GateImage[];
  /** E.g. a file in which no image was found: nothing in it was gated. */
  warnings: string[];
  /** No image was found in any of the files (an empty `helm template`): ok only when the caller allowed it. */
  empty: boolean;
}

export interface GateOptions {
  /** Accept files that hold no image at all (by default nothing gated is a failure: an empty render must not pass). */
  allowEmpty?: boolean;
}

/** Memoise coverage per digest + name: a digest used by fifty containers is verified once. */
export function memoCovers(covers: Covers): Covers {
  const seen = new Map<string, Promise<Coverage>>();
  return (image) => {
    const key = `${image.digest} ${image.name}`;
    let p = seen.get(key);
    if (!p) {
      p = covers(image);
      seen.set(key, p);
    }
    return p;
  };
}

export async function gateImages(found: WorkloadImage[], covers: Covers): Promise<GateImage[]> {
  const check = memoCovers(covers);
  return Promise.all(
    found.map(async (w): Promise<GateImage> => {
      const { problem, ...where } = w;
      const base = { ...where, digest: null, decision: null, release: null, reviewers: [] };
      if (problem) return { ...base, ok: false, reasons: [problem] };
      const pin = pinnedImage(w.image);
      if ('code' in pin) return { ...base, ok: false, reasons: [{ code: pin.code, message: pin.message }] };
      const c = await check(pin);
      return { ...base, digest: pin.digest, ok: c.ok, decision: c.decision, release: c.release, reviewers: c.reviewers, reasons: c.reasons };
    }),
  );
}

/** Read every file (all of them first: a file that does not parse stops the gate before any verdict), then check each image. */
export async function gate(files: string[], covers: Covers, options: GateOptions = {}): Promise<GateReport> {
  const found: WorkloadImage[] = [];
  const warnings: string[] = [];
  // One set across files: a file also reached through a compose include is read once.
  const seen = new Set<string>();
  for (const f of files) {
    const read = seen.size;
    const images = await readWorkloadImages(f, seen);
    // (A file already read through another one's include adds nothing and is not "empty".)
    if (images.length === 0 && seen.size > read) warnings.push(`${f}: no images found: nothing in it was gated`);
    pushAll(found, images);
  }
  const images = await gateImages(found, covers);
  const empty = images.length === 0;
  return { ok: empty ? options.allowEmpty === true : images.every((i) => i.ok), files, images, warnings, empty };
}
