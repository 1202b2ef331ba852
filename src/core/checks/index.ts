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
import { loadDiffSide, pairApprovalImage, type DiffSide, type SideOptions } from '../diff/sides.js';
import type { FileIndex } from '../diff/image.js';
import { mergeLayers, type MergedFilesystem } from '../layers/filesystem.js';

import { inspectReference, inspectedLayers } from '../layers/inspect.js';
import type { Progress } from '../layers/image-analysis.js';
import type { Platform } from '../oci/types.js';
import { catalogFromAnalysis } from '../packages/catalog/index.js';
import { readAttached } from '../packages/attached.js';
import { readSbomFile } from '../packages/sbom/index.js';
import type { PackageInventory } from '../packages/types.js';
import { resolveTrust, resolveTrustedRoot, trustOf, verifyChain, type ChainReport } from '../trust/chain.js';
import { unpinnedSignerWarnings, type TrustFile } from '../trust/trust-file.js';
import { buildContext } from './context.js';
import { defaultPolicy, type ResolvedPolicy } from './policy.js';
import { defaultRegistry, type CheckRegistry } from './registry.js';
import { runChecks } from './run.js';
import { readScanFile, type ScanReport } from './scans.js';
import type { AttachedInputs, BaselineSummary, CheckFacts, CheckInputs, CheckResult, CheckResultSet } from './types.js';
import { contentFacts } from './content/index.js';
import { ReferencePins, pinsFor } from '../sources/pins.js';
import { VouchError } from '../errors.js';
import { synthesisedDigestCaveat } from '../util/digest-caveat.js';
import { daemonRepoDigest } from '../trust/daemon-registry.js';
import { formatDockerReference } from '../ref/parse.js';
import { pushAll } from '../util/fold.js';

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
  /** The last approved release: an image reference, an SBOM file or an approval record. */
  baseline?: string;
  /** Which image of an approval record baseline each image is checked against (its release key; default: pairApprovalImage's pairing). */
  baselineImage?: string;
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
  /** Re-hash every layer blob even when the cache answers (layers/verify.ts). */
  verify?: boolean;
  platform?: Platform;
  insecureRegistries?: string[];
  signal?: AbortSignal;
  now?: Date;
  onResolved?: (input: string, how: string) => void;
  /** Told how far the layer walks of `input` have got (the CLI's progress line). */
  onProgress?: (input: string, p: Progress) => void;
  /** Tags resolved in this run (created by checkReferences when absent): every lookup of a tag reads one digest. */
  pins?: ReferencePins;
  /** `--show-secrets`: history lines in subjects and messages as the image holds them. */
  showSecrets?: boolean;
}

/** Inputs shared by every image of one run (loaded once). */
export interface SharedInputs {
  policy: ResolvedPolicy;
  trust: TrustFile | null;
  /** `record`: the whole approval record, paired per image by loadCheckInputs (a record's images are never merged). `about`: what the baseline is, for the result set. */
  baseline: { label: string; inventory: PackageInventory; files?: FileIndex; record?: DiffSide; about?: BaselineSummary } | null;
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
    ...(opts.pins ? { pins: opts.pins } : {}),
    ...(opts.trustFile ? { trustFile: opts.trustFile } : {}),
  };
  const [trust, baseline, sbom, scans] = await Promise.all([
    opts.noChain ? null : opts.trust ?? resolveTrust(opts.trustFile ? { trustFile: opts.trustFile } : {}),
    opts.baseline
      ? loadDiffSide(opts.baseline, sideOpts).then((s) => ({
          label: s.label,
          inventory: s.inventory,
          ...(s.image ? { files: s.image.files } : {}),
          ...(s.approval ? { record: s } : {}),
          about: { kind: s.kind, input: s.input, label: s.label, approval: s.approval ? { ...s.approval.record, release: { ...s.approval.record.release }, images: [...s.approval.record.images] } : null },
        }))
      : null,
    opts.sbom ? readSbomFile(opts.sbom).then((inventory) => ({ path: opts.sbom!, inventory })) : null,
    Promise.all((opts.scans ?? []).map((s) => readScanFile(s))),
  ]);
  return { policy: opts.policy ?? defaultPolicy(), trust, baseline, sbom, scans };
}

/** The baseline one image is checked against: an approval record's own entry for that image (pairApprovalImage), else the baseline as loaded. */
function baselineFor(b: SharedInputs['baseline'], ref: string, digest: string, choose: string | undefined): CheckInputs['baseline'] {
  if (!b?.record) return b;
  const side = pairApprovalImage(b.record, { reference: ref, digest, ...(choose !== undefined ? { choose } : {}) });
  return { label: side.label, inventory: side.inventory, ...(side.approval?.warning ? { warning: side.approval.warning } : {}) };
}

/** Everything one image's context is built from; reads no layer when the image is in the cache. */
export async function loadCheckInputs(ref: string, shared: SharedInputs, opts: CheckOptions = {}): Promise<CheckInputs & { merged: MergedFilesystem; timings: Record<string, number> }> {
  const cache = opts.noCache ? undefined : (opts.cache ?? new ContentCache());
  const openOpts = {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    // One resolution of the reference for the whole image: content, chain and attachments see the same digest.
    pins: pinsFor(opts),
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
    ...(opts.verify ? { verify: true } : {}),
    onResolved: (r) => opts.onResolved?.(ref, r.how),
    ...(opts.onProgress ? { onProgress: (p: Progress) => opts.onProgress!(ref, p) } : {}),
  });
  lap('analysis');
  const parts = await inspectedLayers({ analysis, resolution }, { ...openOpts, cache, ...(opts.onProgress ? { onProgress: (p: Progress) => opts.onProgress!(ref, p) } : {}) });
  lap('walks');
  const merged = mergeLayers(parts.walks);
  lap('merge');
  const inventory = catalogFromAnalysis(parts, merged);
  lap('inventory');
  let chain: ChainReport | null = null;
  let attached: AttachedInputs | null = null;
  // A daemon copy with a RepoDigest for the repository named: the chain is the registry image's, matched by config digest.
  const daemonName = resolution.reference.transport === 'docker-daemon' ? resolution.reference.name : null;
  const twin = shared.trust && daemonName ? await daemonRepoDigest(daemonName, openOpts).catch(() => null) : null;
  const chainRef = twin ? `docker://${formatDockerReference(twin)}` : ref;
  if (shared.trust && (!daemonName || twin)) {
    chain = await verifyChain(chainRef, { ...openOpts, trust: shared.trust, ...(twin ? { daemonCopy: { reference: analysis.reference, configDigest: analysis.config.digest } } : {}) });
    lap('chain');
    // The SBOMs and scans attached to it (same discovery as the chain; attestations verified against the same trust).
    const report = await readAttached(chainRef, { ...openOpts, trust: shared.trust });
    attached = report;
    lap('attached');
    // Belt and braces over the pins: every part must describe the image the content checks read (for a daemon copy: the registry image matched above).
    const expected = twin ? chain.json.image.digest : analysis.digest;
    for (const [what, d] of [['chain', chain.json.image.digest], ['attachments', report.image.digest]] as const) {
      if (d && d !== expected) throw new VouchError('TAG_MOVED', `${ref}: the ${what} are of ${d}, the content of ${analysis.digest}: the reference moved during the run`, { exitCode: 1 });
    }
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
    baseline: baselineFor(shared.baseline, ref, analysis.digest, opts.baselineImage),
    sbom: shared.sbom,
    scans: shared.scans,
    attached,
    facts,
    policy: shared.policy,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.showSecrets ? { showSecrets: true } : {}),
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
  opts = { ...opts, pins: pinsFor(opts) };
  const shared = await loadSharedInputs(opts);
  const checks = registry.all();
  const results: CheckResult[] = [];
  const images: CheckRun['images'] = [];
  const caveats: string[] = [];
  const analysed: NonNullable<CheckResultSet['images']> = [];
  for (const ref of refs) {
    const inputs = await loadCheckInputs(ref, shared, opts);
    analysed.push({ reference: inputs.analysis.reference, digest: inputs.analysis.digest, cache: inputs.analysis.cache ?? null });
    // Matched to its registry image by config digest: say so instead of the caveat (the signatures were looked up there).
    const caveat = inputs.chain?.json.image.note ?? synthesisedDigestCaveat(inputs.analysis);
    if (caveat) caveats.push(`${inputs.image.label}: ${caveat}`);
    if (inputs.baseline?.warning) caveats.push(inputs.baseline.warning);
    const t0 = performance.now();
    const ctx = buildContext(inputs);
    pushAll(results, runChecks(ctx, checks));
    inputs.timings.checks = performance.now() - t0;
    images.push({ label: inputs.image.label, reference: inputs.image.reference, timings: inputs.timings });
  }
  const trust = shared.trust ? trustOf(shared.trust, resolveTrustedRoot(shared.trust).source) : null;
  return { resultSet: { policy: { digest: shared.policy.digest }, trust, results, warnings: [...(shared.trust ? unpinnedSignerWarnings(shared.trust) : []), ...caveats, ...unusedExceptions(shared.policy, results)], images: analysed, baseline: shared.baseline?.about ?? null }, images };
}

/** Exceptions no result used: each is a warning (a mistyped subject silently excepts nothing). */
export function unusedExceptions(policy: ResolvedPolicy, results: readonly CheckResult[]): string[] {
  return policy.exceptions
    .filter((x) => !results.some((r) => r.exception && r.exception.check === x.check && r.exception.subject === x.subject && r.exception.expires === x.expires))
    .map((x) => `policy exception for ${x.check} on ${JSON.stringify(x.subject)}${x.image ? ` (image ${JSON.stringify(x.image)})` : ''} matches no result`);
}
