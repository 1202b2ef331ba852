/**
 * Building a review session from a release file: every image resolved and
 * pinned by digest, catalogued, its chain verified and the checks run under
 * the release's policy and trust file. Refreshing an existing session runs the
 * automated part again on the PINNED digests: when a tag has moved, the session
 * says so loudly and keeps what was pinned; annotations are never touched.
 */
import { createHash } from 'node:crypto';
import { LocalFileError, readLocalFile } from '../util/local-file.js';
import { ContentCache } from '../cache/cache.js';
import { buildContext, defaultPolicy, defaultRegistry, loadCheckInputs, loadPolicy, runChecks, subjectKey, type CheckResult, type SharedInputs } from '../checks/index.js';
import { errorLine, VouchError } from '../errors.js';
import { formatDockerReference, parseReference } from '../ref/parse.js';
import { openReference, resolveReference } from '../sources/open.js';
import type { Platform } from '../oci/types.js';
import type { Progress } from '../layers/image-analysis.js';
import { loadTrustFile, type TrustFile } from '../trust/trust-file.js';
import type { ChainReport } from '../trust/chain.js';
import { describeBaseline, loadBaselineApproval, otherReleaseWarning } from '../approval/baseline.js';
import { sanitizeLine } from '../util/sanitize.js';
import { loadReleaseFile, type ReleaseFile } from './release.js';
import { SESSION_VERSION, type EvidenceItem, type ReviewSession, type SessionImage } from './types.js';
import { canonicalJson } from '../util/canonical-json.js';

export interface SessionInitOptions {
  cache?: ContentCache;
  insecureRegistries?: string[];
  now?: Date;
  /** Told about each image as it is pinned (progress). */
  onImage?: (key: string, digest: string) => void;
  /** Told how far the layer walks of each image (by release key) have got. */
  onProgress?: (key: string, p: Progress) => void;
}

// Lives with the release file so that `vouch review` finds a session without loading this module.
export { defaultSessionPath } from './release.js';

async function fileDigest(path: string, what: string, release: string): Promise<string> {
  try {
    // The trust and policy files' own bound (they were parsed under it already).
    return `sha256:${createHash('sha256').update(await readLocalFile(path, { what, max: 1 << 20 })).digest('hex')}`;
  } catch (e) {
    throw new VouchError((e as LocalFileError).code, `${release}: ${what}: cannot read ${path} (${(e as LocalFileError).reason})`);
  }
}

function pinnedMismatch(key: string, pinned: string, expected: string): string {
  return `images.${sanitizeLine(key)}.pinned: the session pins ${sanitizeLine(pinned)}, which is not its pinned digest in the release's repository or layout (${sanitizeLine(expected)})`;
}

/**
 * Where a session's pinned references do not name their pinned digests in the repository or layout the
 * release names for them (an edited session file); one line per image, empty when all agree.
 */
export function pinnedMismatches(existing: ReviewSession, release: Pick<ReleaseFile, 'images'>): string[] {
  const out: string[] = [];
  for (const im of release.images) {
    const pinned = existing.images.find((i) => i.key === im.key && i.reference === im.reference);
    if (!pinned) continue;
    const expected = pinnedReference(im.reference, pinned.digest, pinned.index);
    if (pinned.pinned !== expected) out.push(pinnedMismatch(im.key, pinned.pinned, expected));
  }
  return out;
}

/** A reference that names exactly this image: the repository by digest, or the layout with the digest. */
function pinnedReference(reference: string, digest: string, index: string | null): string {
  const r = parseReference(reference);
  const d = index ?? digest;
  switch (r.transport) {
    case 'docker':
      return `docker://${formatDockerReference({ registry: r.ref.registry, repository: r.ref.repository, digest: d })}`;
    case 'oci':
    case 'oci-archive':
      return `${r.transport}:${r.path}@${d}`;
    default:
      // Archives and daemon names cannot select by digest: the digest is checked on every refresh instead.
      return reference;
  }
}

function parsePlatform(p: string): Platform {
  const [os, architecture, variant] = p.split('/');
  return { os: os!, architecture: architecture!, ...(variant ? { variant } : {}) } as Platform;
}

function evidenceOf(chain: ChainReport | null): EvidenceItem[] {
  if (!chain) return [];
  const out: EvidenceItem[] = [];
  const verifiedSig = chain.json.signatures.find((s) => s.verified);
  for (const a of chain.attachments) {
    if (a.kind === 'signature') out.push({ kind: 'signature', digest: a.manifestDigest, verified: verifiedSig !== undefined, type: null, signer: verifiedSig?.signer?.trustedAs ?? null });
  }
  for (const at of chain.json.attestations) {
    const kind = at.predicateType && /slsa\.dev\/provenance/.test(at.predicateType) ? 'provenance' : /spdx|cyclonedx|syft/i.test(at.predicateType ?? '') ? 'sbom' : 'attestation';
    out.push({ kind, digest: at.digest, verified: at.verified, type: at.predicateType, signer: at.signer?.trustedAs ?? null });
  }
  return out;
}

function byType(purls: readonly { type: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of purls) out[p.type] = (out[p.type] ?? 0) + 1;
  return out;
}

/** Load the shared inputs named by the release: policy, trust file, baseline approval (only a live one: approval/baseline.ts). */
async function sharedFor(release: ReleaseFile): Promise<{ shared: SharedInputs; trust: TrustFile; session: Pick<ReviewSession, 'policy' | 'trust' | 'baseline'>; warnings: string[] }> {
  const registry = defaultRegistry();
  const trust = await loadTrustFile(release.trust);
  const policy = release.policy ? await loadPolicy(release.policy, registry.ids()) : defaultPolicy();
  let baseline: ReviewSession['baseline'] = null;
  let baselineInventory: SharedInputs['baseline'] = null;
  const warnings: string[] = [];
  if (release.baseline) {
    const { loaded: a, baseline: b } = await loadBaselineApproval(release.baseline, trust, { where: `${release.path}: baseline: ` });
    baseline = { path: b.path, digest: b.digest, release: b.release, decision: b.decision, reviewer: b.reviewer, identity: b.identity, reviewedAt: b.reviewedAt };
    const other = otherReleaseWarning(b, release);
    if (other) warnings.push(other);
    const purls = [...new Set(a.statement.predicate.images.flatMap((i) => i.packages))];
    const { inventoryFromPurls } = await import('../approval/inventory.js');
    baselineInventory = { label: describeBaseline(b), inventory: inventoryFromPurls(purls, Object.assign({}, ...a.statement.predicate.images.map((i) => i.licenses))) };
  }
  return {
    shared: { policy, trust, baseline: baselineInventory, sbom: null, scans: [] },
    trust,
    session: {
      policy: release.policy ? { path: release.policy, digest: policy.digest, failOn: policy.failOn } : { path: null, digest: policy.digest, failOn: policy.failOn },
      trust: { path: trust.path, digest: await fileDigest(trust.path, 'trust', release.path) },
      baseline,
    },
    warnings,
  };
}

/** One image: pinned, catalogued, chain verified, checked. */
async function reviewImage(key: string, reference: string, analyse: string, shared: SharedInputs, release: ReleaseFile, opts: SessionInitOptions, platform?: Platform): Promise<SessionImage> {
  let inputs;
  try {
    inputs = await loadCheckInputs(analyse, shared, {
      ...(opts.cache ? { cache: opts.cache } : {}),
      ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
      ...(platform ? { platform } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.onProgress ? { onProgress: (_input: string, p: Progress) => opts.onProgress!(key, p) } : {}),
    });
  } catch (e) {
    throw new VouchError(e instanceof VouchError ? e.code : 'NOT_FOUND', `${release.path}: images.${key}: ${errorLine(e)}`, { cause: e });
  }
  const results: CheckResult[] = runChecks(buildContext(inputs), defaultRegistry().all());
  const a = inputs.analysis;
  const packages = [...new Set((inputs.inventory?.packages ?? []).map((p) => p.purl).filter((p) => p))].sort();
  const licenses: Record<string, string[]> = {};
  for (const p of inputs.inventory?.packages ?? []) if (p.purl && p.licenses.length) licenses[p.purl] = [...new Set([...(licenses[p.purl] ?? []), ...p.licenses])];
  const chain = inputs.chain ?? null;
  const platformText = `${a.platform.os}/${a.platform.architecture}${a.platform.variant ? `/${a.platform.variant}` : ''}`;
  return {
    key,
    reference,
    name: a.name,
    digest: a.digest,
    index: a.index?.digest ?? null,
    // The index's platform manifests, so the approval names the index only when every one was reviewed.
    ...(a.index && chain?.json.index ? { indexPlatforms: chain.json.index.platforms.map((p) => p.digest) } : {}),
    platform: platformText,
    pinned: pinnedReference(reference, a.digest, a.index?.digest ?? null),
    layers: a.layers.map((l) => l.digest),
    packages,
    licenses,
    inventory: { packages: inputs.inventory?.packages.length ?? 0, byType: byType(inputs.inventory?.packages ?? []) },
    evidence: evidenceOf(chain),
    chain: chain
      ? {
          signatures: chain.json.signatures.length,
          verifiedSignatures: chain.json.signatures.filter((s) => s.verified).length,
          attestations: chain.json.attestations.length,
          verifiedAttestations: chain.json.attestations.filter((s) => s.verified).length,
          provenance: chain.json.provenance !== null,
        }
      : null,
    checks: {
      pass: results.filter((r) => r.status === 'pass').length,
      fail: results.filter((r) => r.status === 'fail').length,
      excepted: results.filter((r) => r.status === 'excepted').length,
      results: results
        .filter((r): r is CheckResult & { status: 'fail' | 'excepted' } => r.status !== 'pass')
        .map((r) => ({ id: r.id, severity: r.severity, status: r.status, subject: subjectKey(r.subject), message: r.message })),
    },
  };
}

/** A new session for a release. */
export async function createSession(releasePath: string, opts: SessionInitOptions = {}): Promise<ReviewSession> {
  const release = await loadReleaseFile(releasePath);
  const { shared, session, warnings } = await sharedFor(release);
  const images: SessionImage[] = [];
  for (const im of release.images) {
    const s = await reviewImage(im.key, im.reference, im.reference, shared, release, opts);
    opts.onImage?.(im.key, s.digest);
    images.push(s);
  }
  const now = (opts.now ?? new Date()).toISOString();
  return {
    version: SESSION_VERSION,
    release: { name: release.name, version: release.version, file: { path: release.path, digest: release.digest } },
    createdAt: now,
    updatedAt: now,
    images,
    ...session,
    annotations: [],
    warnings,
  };
}

/** Where the reference as written resolves now (digest of what a tag names), without analysing it. */
async function currentDigest(reference: string, platform: Platform, opts: SessionInitOptions): Promise<{ digest: string; index: string | null }> {
  const resolution = await resolveReference(reference, { ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}), platform });
  const image = await openReference(resolution.reference, { ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}), platform });
  try {
    return { digest: image.digest, index: image.index?.digest ?? null };
  } finally {
    await image.close();
  }
}

/**
 * Run the automated part again on the pinned images (the same release, policy
 * and trust may have changed; results follow them). Returns the refreshed
 * session; `warnings` holds one loud line per image whose reference now
 * resolves to another digest.
 */
export async function refreshSession(existing: ReviewSession, releasePath: string, opts: SessionInitOptions = {}): Promise<ReviewSession> {
  const release = await loadReleaseFile(releasePath);
  if (release.name !== existing.release.name || release.version !== existing.release.version) {
    throw new VouchError('USAGE', `${release.path}: name/version: the session is for ${existing.release.name} ${existing.release.version}, the release file says ${release.name} ${release.version}`);
  }
  const { shared, session, warnings } = await sharedFor(release);
  const images: SessionImage[] = [];
  for (const im of release.images) {
    const pinned = existing.images.find((i) => i.key === im.key && i.reference === im.reference);
    if (!pinned) {
      const s = await reviewImage(im.key, im.reference, im.reference, shared, release, opts);
      images.push(s);
      continue;
    }
    // As recheckSession: the session file can be edited, and an edited pin would show (and keep) another image under this name.
    const expected = pinnedReference(im.reference, pinned.digest, pinned.index);
    if (pinned.pinned !== expected) {
      throw new VouchError('DIGEST_MISMATCH', `${pinnedMismatch(im.key, pinned.pinned, expected)}; start a new session (vouch session init --release ${release.path})`);
    }
    const platform = parsePlatform(pinned.platform);
    let now: { digest: string; index: string | null } | null = null;
    try {
      now = await currentDigest(im.reference, platform, opts);
    } catch (e) {
      warnings.push(`WARNING: ${im.key}: ${im.reference} could not be resolved again (${errorLine(e)}); keeping the pinned ${pinned.digest}`);
    }
    if (now && (now.digest !== pinned.digest || (now.index ?? null) !== (pinned.index ?? null))) {
      warnings.push(`WARNING: ${im.key}: ${im.reference} now resolves to ${now.index ?? now.digest}, not the pinned ${pinned.index ?? pinned.digest}; the session keeps the pinned image`);
    }
    const s = await reviewImage(im.key, im.reference, pinned.pinned, shared, release, opts, platform);
    if (s.digest !== pinned.digest) {
      throw new VouchError('DIGEST_MISMATCH', `${release.path}: images.${im.key}: ${pinned.pinned} no longer yields the pinned ${pinned.digest} (got ${s.digest}); start a new session`);
    }
    images.push({ ...s, reference: pinned.reference, pinned: pinned.pinned });
  }
  return { ...existing, release: { ...existing.release, file: { path: release.path, digest: release.digest } }, images, ...session, warnings };
}


/** What `recheckSession` found: the session rebuilt from a fresh run, and where the file disagrees with it. */
export interface SessionRecheck {
  /** The automated part recomputed on the pinned digests under the release's policy and trust; the file's annotations. */
  session: ReviewSession;
  release: ReleaseFile;
  /** One line per field where the session file disagrees with the fresh run (empty: it agrees). */
  mismatches: string[];
}

const canonical = canonicalJson;
/** Arrays whose order carries no meaning compare sorted. */
const sortedCanonical = (xs: readonly unknown[]): string => canonical(xs.map(canonical).sort());

/**
 * Run the automated part again on the session's pinned digests, with the
 * policy and trust its release file names (the same calls `session init`
 * makes; cached analyses keep it cheap), and compare with what the file says.
 * The session file can be edited by anyone who can push to where it lives, so
 * an approval is built from the returned session, never from the file's own
 * results, digests or policy; a disagreement is reported so that nothing is
 * signed from a stale or doctored file. `releasePath` defaults to the one the
 * session records.
 */
export async function recheckSession(existing: ReviewSession, opts: SessionInitOptions & { releasePath?: string } = {}): Promise<SessionRecheck> {
  const release = await loadReleaseFile(opts.releasePath ?? existing.release.file.path);
  const mismatches: string[] = [];
  const differ = (field: string, file: unknown, fresh: unknown): void => {
    if (canonical(file) !== canonical(fresh)) mismatches.push(`${field}: the session says ${sanitizeLine(JSON.stringify(file) ?? 'nothing').slice(0, 160)}, a fresh run says ${sanitizeLine(JSON.stringify(fresh) ?? 'nothing').slice(0, 160)}`);
  };
  differ('release.name', existing.release.name, release.name);
  differ('release.version', existing.release.version, release.version);
  differ('release.file.digest', existing.release.file.digest, release.digest);
  const { shared, session } = await sharedFor(release);
  differ('policy.digest', existing.policy.digest, session.policy.digest);
  differ('policy.failOn', existing.policy.failOn, session.policy.failOn);
  differ('trust.digest', existing.trust.digest, session.trust.digest);
  differ('baseline.digest', existing.baseline?.digest ?? null, session.baseline?.digest ?? null);
  differ('images', existing.images.map((i) => i.key), release.images.map((i) => i.key));
  const images: SessionImage[] = [];
  for (const im of release.images) {
    const pinned = existing.images.find((i) => i.key === im.key);
    if (!pinned) continue; // reported above: the image lists differ
    const at = `images.${sanitizeLine(im.key)}`;
    differ(`${at}.reference`, pinned.reference, im.reference);
    // The pinned reference must name the reviewed digest in the release's own repository or layout.
    const expected = pinnedReference(im.reference, pinned.digest, pinned.index);
    if (pinned.pinned !== expected) {
      differ(`${at}.pinned`, pinned.pinned, expected);
      continue; // nothing trustworthy to analyse
    }
    const s = await reviewImage(im.key, im.reference, expected, shared, release, opts, parsePlatform(pinned.platform));
    // The name is a label (the digest decides): init names it by the reference as written (tag), a refresh by
    // the pinned one; either way it must be the same repository or layout.
    const repo = (n: string): string => n.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^/:@]+$/, '');
    if (repo(pinned.name) !== repo(s.name)) differ(`${at}.name`, pinned.name, s.name);
    for (const f of ['digest', 'index', 'platform', 'layers', 'packages', 'licenses', 'inventory', 'chain'] as const) differ(`${at}.${f}`, pinned[f], s[f]);
    if (sortedCanonical(pinned.evidence) !== sortedCanonical(s.evidence)) differ(`${at}.evidence`, pinned.evidence, s.evidence);
    const { results: a, ...countsA } = pinned.checks;
    const { results: b, ...countsB } = s.checks;
    if (canonical(countsA) !== canonical(countsB) || sortedCanonical(a) !== sortedCanonical(b)) differ(`${at}.checks`, pinned.checks, s.checks);
    images.push({ ...s, name: pinned.name, reference: im.reference, pinned: expected });
  }
  return {
    release,
    mismatches,
    session: { ...existing, release: { name: release.name, version: release.version, file: { path: release.path, digest: release.digest } }, images, ...session, annotations: existing.annotations },
  };
}
