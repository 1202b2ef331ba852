/**
 * Baseline checks and the policy that configures them.
 *
 *   checkReferences(['img'], opts)   every image: context from the cache, all checks, one result set
 *   loadCheckInputs('img', shared)   what one image's context is built from (analysis, walks, catalogue, chain)
 *   buildContext(inputs)             the context (once per image), then runChecks(ctx, registry.all())
 *
 * Layers are never read when the image was analysed before (inspect, sbom,
 * diff all fill the same cache): the walks and their catalogue findings come
 * from the cache; only a cold image is walked, once.
 */
import { ContentCache } from '../cache/cache.js';
import { loadDiffSide, type SideOptions } from '../diff/sides.js';
import { mergeLayers, type MergedFilesystem } from '../layers/filesystem.js';

import { inspectReference, inspectedLayers } from '../layers/inspect.js';
import type { Platform } from '../oci/types.js';
import { catalogFromAnalysis } from '../packages/catalog/index.js';
import { readAttached } from '../packages/attached.js';
import { readSbomFile } from '../packages/sbom/index.js';
import type { PackageInventory } from '../packages/types.js';
import { resolveTrust, verifyChain, type ChainReport } from '../trust/chain.js';
import type { TrustFile } from '../trust/trust-file.js';
import { buildContext } from './context.js';
import { defaultPolicy, type ResolvedPolicy } from './policy.js';
import { defaultRegistry, type CheckRegistry } from './registry.js';
import { runChecks } from './run.js';
import { readScanFile, type ScanReport } from './scans.js';
import type { AttachedInputs, CheckFacts, CheckInputs, CheckResult, CheckResultSet } from './types.js';
import { contentFacts } from './content/index.js';

export * from './types.js';
export { buildContext } from './context.js';
export { CheckRegistry, defaultRegistry, BUILTIN_CHECKS } from './registry.js';
export { runChecks, failsAt, subjectKey, exceptionExpired } from './run.js';
export { parsePolicy, loadPolicy, defaultPolicy, DEFAULT_POLICY_YAML, POLICY_FILE_NAME, type ResolvedPolicy, type PolicyException } from './policy.js';
export { readScanFile, parseScan, COSIGN_VULN_PREDICATE, type ScanReport, type ScanFinding } from './scans.js';
export { toSarif, SARIF_SCHEMA_URI } from './sarif.js';
export { checksDoc } from './doc.js';

export interface CheckOptions {
  policy?: ResolvedPolicy;
  registry?: CheckRegistry;
  /** Trust file path (default ./vouch.trust.yaml when present), or already loaded. */
  trustFile?: string;
  trust?: TrustFile;
  /** The last approved release: an image reference or an SBOM file. */
  baseline?: string;
  /** Scan reports (Trivy JSON, Grype JSON, SARIF, cosign vuln statement). */
  scans?: string[];
  /** An SBOM file to check against the catalogue. */
  sbom?: string;
  /** Skip trust discovery (chain null): for offline use and tests. */
  noChain?: boolean;
  /** Content-scanner facts per image digest (the content scanners fill this). */
  facts?: (digest: string) => CheckFacts | undefined;
  cache?: ContentCache;
  noCache?: boolean;
  platform?: Platform;
  insecureRegistries?: string[];
  signal?: AbortSignal;
  now?: Date;
  onResolved?: (input: string, how: string) => void;
}

/** Inputs shared by every image of one run (loaded once). */
export interface SharedInputs {
  policy: ResolvedPolicy;
  trust: TrustFile | null;
  baseline: { label: string; inventory: PackageInventory } | null;
  sbom: { path: string; inventory: PackageInventory } | null;
  scans: ScanReport[];
}

export async function loadSharedInputs(opts: CheckOptions): Promise<SharedInputs> {
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  const sideOpts: SideOptions = {
    ...(cache ? { cache } : { noCache: true }),
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const [trust, baseline, sbom, scans] = await Promise.all([
    opts.noChain ? null : opts.trust ?? resolveTrust(opts.trustFile ? { trustFile: opts.trustFile } : {}),
    opts.baseline ? loadDiffSide(opts.baseline, sideOpts).then((s) => ({ label: s.label, inventory: s.inventory })) : null,
    opts.sbom ? readSbomFile(opts.sbom).then((inventory) => ({ path: opts.sbom!, inventory })) : null,
    Promise.all((opts.scans ?? []).map((s) => readScanFile(s))),
  ]);
  return { policy: opts.policy ?? defaultPolicy(), trust, baseline, sbom, scans };
}

/** Everything one image's context is built from; reads no layer when the image is in the cache. */
export async function loadCheckInputs(ref: string, shared: SharedInputs, opts: CheckOptions = {}): Promise<CheckInputs & { merged: MergedFilesystem; timings: Record<string, number> }> {
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  const openOpts = {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (k: string): void => {
    const n = performance.now();
    timings[k] = n - t;
    t = n;
  };
  const { analysis, resolution } = await inspectReference(ref, {
    ...openOpts,
    ...(cache ? { cache } : { noCache: true }),
    onResolved: (r) => opts.onResolved?.(ref, r.how),
  });
  lap('analysis');
  const parts = await inspectedLayers({ analysis, resolution }, { ...openOpts, cache });
  lap('walks');
  const merged = mergeLayers(parts.walks);
  lap('merge');
  const inventory = catalogFromAnalysis(parts, merged);
  lap('inventory');
  let chain: ChainReport | null = null;
  let attached: AttachedInputs | null = null;
  if (shared.trust && resolution.reference.transport !== 'docker-daemon') {
    chain = await verifyChain(ref, { ...openOpts, trust: shared.trust });
    lap('chain');
    // The SBOMs and scans attached to it (same discovery as the chain; attestations verified against the same trust).
    attached = await readAttached(ref, { ...openOpts, trust: shared.trust });
    lap('attached');
  } else lap('chain');
  // Facts the content scanners gathered in the single pass (credential files, accounts), plus any the caller adds.
  const facts: CheckFacts = { ...contentFacts(parts.walks, parts.catalogs, merged), ...opts.facts?.(analysis.digest) };
  return {
    image: { reference: analysis.reference, name: analysis.name, digest: analysis.digest, label: `${analysis.name}@${analysis.digest}` },
    analysis,
    walks: parts.walks,
    merged,
    inventory,
    chain,
    baseline: shared.baseline,
    sbom: shared.sbom,
    scans: shared.scans,
    attached,
    facts,
    policy: shared.policy,
    ...(opts.now ? { now: opts.now } : {}),
    timings,
  };
}

export interface CheckRun {
  resultSet: CheckResultSet;
  /** Per image: its label and milliseconds spent loading and checking. */
  images: Array<{ label: string; reference: string; timings: Record<string, number> }>;
}

/** Check every reference (in order) under one policy; results of all images in one set. */
export async function checkReferences(refs: readonly string[], opts: CheckOptions = {}): Promise<CheckRun> {
  const registry = opts.registry ?? defaultRegistry();
  const shared = await loadSharedInputs(opts);
  const checks = registry.all();
  const results: CheckResult[] = [];
  const images: CheckRun['images'] = [];
  for (const ref of refs) {
    const inputs = await loadCheckInputs(ref, shared, opts);
    const t0 = performance.now();
    const ctx = buildContext(inputs);
    results.push(...runChecks(ctx, checks));
    inputs.timings.checks = performance.now() - t0;
    images.push({ label: inputs.image.label, reference: inputs.image.reference, timings: inputs.timings });
  }
  return { resultSet: { policy: { digest: shared.policy.digest }, results }, images };
}
