/**
 * Assembles the ReviewModel from core results, with the same core calls the
 * headless commands make: `vouch check` (loadSharedInputs → loadCheckInputs →
 * buildContext → runChecks: analysis, walks, catalogue, chain, attached
 * SBOMs), `vouch sbom` (compareInventories against the attached SBOMs) and
 * `vouch diff` (loadDiffSide + diffSides against the baseline). No terminal
 * concerns here: it runs in the analysis child process (analysis-worker.ts) or
 * in-process for tests.
 *
 * build.ts is the pure part (core results in, rows out), so the UI process,
 * the bench and tests can feed it data without loading the core's sources.
 */
import { buildContext, defaultRegistry, loadCheckInputs, loadPolicy, loadSharedInputs, runChecks, type CheckOptions, type SharedInputs } from '../core/checks/index.js';
import { inspectReference } from '../core/layers/inspect.js';
import { diffSides, loadDiffSide, pairApprovalImage, type DiffReport, type DiffSide } from '../core/diff/index.js';
import { VouchError } from '../core/errors.js';
import { fileIndex } from '../core/diff/image.js';
import type { Progress } from '../core/layers/image-analysis.js';
import { mergeAttachedSboms } from '../core/packages/attached.js';
import { compareInventories } from '../core/packages/compare.js';
import { chainPasses } from '../core/trust/chain.js';
import { modelFromParts, type ReviewParts } from './build.js';
import type { ReviewModel } from './model.js';

export type { ReviewParts } from './build.js';

export interface LoadOptions extends Pick<CheckOptions, 'trustFile' | 'platform' | 'insecureRegistries' | 'noChain' | 'cache'> {
  release?: { name: string; version: string };
  /** Names for the images (a release's keys); defaults to the references. */
  names?: string[];
  /** Policy file path (default: the built-in policy). */
  policyFile?: string;
  /** Per image, the baseline (image reference or SBOM file) to diff against; one for all when a string. */
  baseline?: string | Array<string | null>;
  /** Layers and bytes while an image is analysed (null progress: a phase without byte counts). */
  onProgress?: (what: string, p: Progress | null) => void;
}

/** Load a review of `refs` through the core calls the commands use. */
export async function loadReviewParts(refs: readonly string[], opts: LoadOptions = {}): Promise<ReviewParts> {
  const registry = defaultRegistry();
  const policy = opts.policyFile ? await loadPolicy(opts.policyFile, registry.ids()) : undefined;
  const checkOpts: CheckOptions = {
    registry,
    ...(policy ? { policy } : {}),
    ...(opts.trustFile ? { trustFile: opts.trustFile } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(opts.noChain ? { noChain: true } : {}),
    ...(opts.cache ? { cache: opts.cache } : {}),
  };
  const shared = await loadSharedInputs(checkOpts);
  const baselines = new Map<string, DiffSide>();
  const images: ReviewParts['images'] = [];
  const warnings: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const name = opts.names?.[i] ?? ref;
    // The same inspect call `vouch inspect` makes, first and with progress: it fills the cache that loadCheckInputs then reads.
    const inspected = await inspectReference(ref, {
      ...(opts.platform ? { platform: opts.platform } : {}),
      ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
      ...(opts.cache ? { cache: opts.cache } : {}),
      onProgress: (p) => opts.onProgress?.(`analysing ${name}`, p),
    });
    // The baseline first: the checks compare against it too (downgrades, new licences), as `vouch check --baseline` does.
    const baseRef = typeof opts.baseline === 'string' ? opts.baseline : (opts.baseline?.[i] ?? null);
    let base: DiffSide | undefined;
    if (baseRef) {
      opts.onProgress?.(`reading the baseline of ${name}`, null);
      base = baselines.get(baseRef);
      if (!base) {
        // An approval record as the baseline is used only once it verifies against the review's trust file (as `vouch diff --trust`).
        base = await loadDiffSide(baseRef, { ...(opts.cache ? { cache: opts.cache } : {}), ...(opts.trustFile ? { trustFile: opts.trustFile } : {}) });
        baselines.set(baseRef, base);
      }
      // An approval record covers every image of the release: this image is compared with its own entry (same release key), never the union.
      try {
        base = pairApprovalImage(base, { ...(opts.names?.[i] !== undefined ? { key: opts.names[i] } : {}), reference: ref, digest: inspected.analysis.digest });
      } catch (e) {
        if (!(e instanceof VouchError) || e.code !== 'USAGE') throw e;
        warnings.push(`${name}: not compared with the baseline: ${e.message}`);
        base = undefined;
      }
    }
    opts.onProgress?.(`checking ${name}`, null);
    const mine: SharedInputs = base ? { ...shared, baseline: { label: base.label, inventory: base.inventory } } : shared;
    const inputs = await loadCheckInputs(ref, mine, checkOpts);
    const checks = runChecks(buildContext(inputs), registry.all());
    let diff: DiffReport | null = null;
    let baselineLabel: string | null = null;
    if (base) {
      const target: DiffSide = {
        kind: 'image',
        input: ref,
        label: inputs.image.label,
        inventory: inputs.inventory ?? { source: 'catalog', distro: null, packages: [], warnings: [] },
        image: { analysis: inputs.analysis, files: fileIndex(inputs.merged) },
      };
      diff = diffSides(base, target);
      baselineLabel = base.label;
    }
    if (!inputs.chain) warnings.push(`${name}: signatures were not read (${inputs.analysis.transport} images carry no attachments)`);
    images.push({
      name,
      analysis: inputs.analysis,
      walks: inputs.walks.map((w) => ({ entries: w.entries, diffId: w.diffId })),
      inventory: inputs.inventory ?? null,
      attached: inputs.attached
        ? {
            count: inputs.attached.sboms.length,
            comparison: inputs.attached.sboms.length && inputs.inventory ? compareInventories(mergeAttachedSboms(inputs.attached.sboms), inputs.inventory) : null,
          }
        : null,
      chain: inputs.chain ?? null,
      signed: inputs.chain ? chainPasses(inputs.chain.json) : false,
      checks,
      diff,
      baselineLabel,
    });
  }
  return {
    release: opts.release ?? { name: refs.length === 1 ? refs[0]! : 'ad-hoc review', version: '' },
    images,
    policyDigest: shared.policy.digest,
    failOn: shared.policy.failOn,
    trustSource: shared.trust ? shared.trust.path : '(none)',
    warnings,
  };
}

export async function loadReview(refs: readonly string[], opts: LoadOptions = {}): Promise<ReviewModel> {
  return modelFromParts(await loadReviewParts(refs, opts));
}
