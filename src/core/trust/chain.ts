/**
 * The chain of an image: what is attached to it, which signatures and
 * attestations verify against the trust file, what the provenance says, and
 * whether the image's traceability agrees with it. One call for the CLI and
 * the TUI; offline except for the image's own registry.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultCacheDir } from '../cache/cache.js';
import { traceability as imageTraceability } from '../oci/traceability.js';
import { parseJsonBytes } from '../oci/manifest.js';
import type { Image, OpenOptions } from '../sources/image.js';
import { formatPlatform, isAttestationDescriptor, normalizePlatform, parseManifest, platformMatches } from '../oci/manifest.js';
import type { Descriptor, Platform } from '../oci/types.js';
import type { DockerReference } from '../ref/types.js';
import { openReference, resolveReference } from '../sources/open.js';
import { pinsFor } from '../sources/pins.js';
import { synthesisedDigestCaveat } from '../util/digest-caveat.js';
import { registryTwinOf, sameImageOrThrow } from './daemon-registry.js';
import { verifyAttachedBundle } from './attached-bundle.js';
import { verifyDsseAttestation } from './attestation.js';
import { attachmentStoreFor, discoverAttachments, type Attachment, type AttachmentStore } from './attachments.js';
import type { CosignVerifyContext } from './cosign-signer.js';
import { isSlsaProvenance, readProvenance, type Provenance } from './provenance.js';
import { verifySimpleSigning } from './simple-signing.js';
import { chainTraceability, type ChainTraceability } from './traceability-chain.js';
import { loadTrustFile, TRUST_FILE_NAME, unpinnedSignerWarnings, type TrustFile } from './trust-file.js';
import { defaultTrustedRoot, loadTrustedRoot, parseTrustedRoot, type TrustedRoot } from './trusted-root.js';
import { readCachedTrustedRoot, storeCachedTrustedRoot } from './cached-root.js';
import type { FulcioExtensions, ReasonCode, SignerIdentity, VerificationResult } from './types.js';
import { attachedApprovals, type ChainApproval } from '../approval/attached.js';
import { APPROVAL_PREDICATE_TYPE } from '../approval/policy.js';

export interface ChainSigner {
  type: SignerIdentity['type'];
  keyId: string | null;
  subject: string | null;
  issuer: string | null;
  trustedAs: string | null;
}

export interface ChainSignature {
  kind: 'cosign' | 'bundle';
  verified: boolean;
  reason: ReasonCode;
  signer: ChainSigner | null;
  tlog: { logIndex: number; integratedTime: string | null } | null;
  /** The digest the signature is over (the payload's docker-manifest-digest, or the digest a bundle verified for); null when unread. */
  signedDigest: string | null;
  /** cosign simple signing: the payload's critical.identity.docker-reference (untrusted text until verified). */
  signedReference: string | null;
}

/** One manifest an index lists, and whether a trusted signature covers it. */
export interface ChainPlatform {
  platform: string;
  digest: string;
  /** The platform this run picked (and whose content was reviewed). */
  selected: boolean;
  /** Whether its signatures were looked at (not needed once the index itself is signed, nor, when narrowed, for entries another platform request would pull). */
  checked: boolean;
  signed: boolean;
  /** Trust file names of the signers that verified for it. */
  signers: string[];
  /** Reasons of the signatures found that did not verify. */
  reasons: ReasonCode[];
}

/** When the reference names an index: what was required of it and whether it holds. */
export interface ChainIndex {
  digest: string;
  mediaType: string;
  /** index: a trusted signature on the index; every-platform: on each manifest listed; selected-platform: on the --platform picked (trust file allowPlatformOnlySignatures). */
  rule: 'index' | 'every-platform' | 'selected-platform';
  /** A trusted signature verifies over the index digest itself. */
  signed: boolean;
  platforms: ChainPlatform[];
  satisfied: boolean;
  reason: 'OK' | 'PLATFORM_UNSIGNED';
}

export interface ChainAttestation {
  predicateType: string | null;
  digest: string;
  verified: boolean;
  reason: ReasonCode;
  signer: ChainSigner | null;
}

export interface ChainProvenance {
  builder: string | null;
  buildType: string | null;
  sourceRepository: string | null;
  sourceRevision: string | null;
  buildRun: string | null;
}

/** `vouch chain --json`, exactly. */
export interface ChainJson {
  /** `caveat` is present when the digest is synthesised (no registry manifest): signatures are looked up by the registry digest. */
  image: { reference: string; digest: string; caveat?: string; note?: string };
  /** The trust file (null: none, nothing is trusted) and the trusted root this run verified with. */
  trust: { file: string | null; implicit: boolean; trustedRoot: string };
  /** Weaknesses of the trust file itself (keyless signers any repository can satisfy); always present in the CLI's JSON. */
  warnings?: string[];
  /** Set when the reference names an index (a multi-platform image). */
  index: ChainIndex | null;
  signatures: ChainSignature[];
  attestations: ChainAttestation[];
  provenance: ChainProvenance | null;
  traceability: ChainTraceability;
  /** Approval records attached to the image, verified against the trust file's reviewers. */
  approvals?: ChainApproval[];
}

/** The JSON plus what the text view and the TUI want (sentences, full provenance). Not part of the JSON. */
export interface ChainReport {
  json: ChainJson;
  /** One sentence per signature / attestation, same order as the JSON arrays. */
  signatureMessages: string[];
  attestationMessages: string[];
  provenanceDetail: Provenance | null;
  attachments: Array<Pick<Attachment, 'kind' | 'subject' | 'via' | 'manifestDigest'>>;
  trustSource: string;
  trustedRootSource: string;
}

export interface ChainOptions extends OpenOptions {
  /** Trust file path; default ./vouch.trust.yaml when it exists, else nothing is trusted. */
  trustFile?: string;
  /** Already-loaded trust (tests, the TUI). */
  trust?: TrustFile;
  cacheDir?: string;
  /** The reference is a daemon image's RepoDigest (`vouch check`): the registry image must have this config digest. */
  daemonCopy?: { reference: string; configDigest: string };
}

/**
 * True when the image passes (exit 0): a trusted signature verifies and, for
 * an index, the index rule holds (its own signature, or every platform's).
 */
export function chainPasses(r: Pick<ChainJson, 'signatures'> & { index?: ChainIndex | null }): boolean {
  if (r.index) return r.index.satisfied;
  return r.signatures.some((s) => s.verified);
}

export const NO_TRUST_FILE = '(no trust file)';
const EMPTY_TRUST = (path: string): TrustFile => ({ path, signers: [], reviewers: [], require: {}, policy: { keys: [], identities: [] } });

/** Trust files read implicitly from the working directory (named so in text output). */
const implicitTrust = new WeakSet<TrustFile>();
export function trustIsImplicit(t: TrustFile): boolean {
  return implicitTrust.has(t);
}

export async function resolveTrust(opts: ChainOptions): Promise<TrustFile> {
  if (opts.trust) return opts.trust;
  if (opts.trustFile) return loadTrustFile(opts.trustFile);
  if (existsSync(TRUST_FILE_NAME)) {
    const t = await loadTrustFile(TRUST_FILE_NAME);
    implicitTrust.add(t);
    return t;
  }
  return EMPTY_TRUST(NO_TRUST_FILE);
}

/** How a report names its trust: the file (or null) and whether it was the implicit ./vouch.trust.yaml. */
export function trustOf(trust: TrustFile, rootSource: string): ChainJson['trust'] {
  return { file: trust.path === NO_TRUST_FILE ? null : trust.path, implicit: trustIsImplicit(trust), trustedRoot: rootSource };
}

export function cachedTrustedRootPath(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'trust', 'trusted_root.json');
}

/** The trusted root: the trust file's, else the one a --tuf-refresh cached (a damaged one is refused, not skipped), else the public-good root shipped with the package. */
export function resolveTrustedRoot(trust: TrustFile, cacheDir = defaultCacheDir()): { root: TrustedRoot; source: string } {
  if (trust.trustedRoot) return { root: loadTrustedRoot(trust.trustedRoot), source: trust.trustedRoot };
  const cached = cachedTrustedRootPath(cacheDir);
  const fromTuf = readCachedTrustedRoot(cached);
  if (fromTuf) return { root: fromTuf, source: `${cached} (from TUF)` };
  return { root: defaultTrustedRoot(), source: 'Sigstore public-good root (shipped)' };
}

/** Online: update the trusted root through TUF into the cache. */
export async function refreshTrustedRoot(cacheDir = defaultCacheDir()): Promise<string> {
  const { initTUF } = await import('@sigstore/tuf');
  const cachePath = join(cacheDir, 'tuf');
  await mkdir(cachePath, { recursive: true });
  const tuf = await initTUF({ cachePath, forceCache: false });
  const text = await tuf.getTarget('trusted_root.json');
  parseTrustedRoot(parseJsonBytes(Buffer.from(text), 'trusted_root.json from TUF', 'INVALID_TRUSTED_ROOT', 16 << 20), 'trusted_root.json from TUF'); // refuse to cache what we could not use
  const dest = cachedTrustedRootPath(cacheDir);
  await storeCachedTrustedRoot(dest, text);
  return dest;
}

function chainSigner(s: SignerIdentity | null): ChainSigner | null {
  if (!s) return null;
  return { type: s.type, keyId: s.keyId ?? null, subject: s.subject ?? null, issuer: s.issuer ?? null, trustedAs: s.trustedAs ?? null };
}

function tlogOf(r: VerificationResult): ChainSignature['tlog'] {
  return r.tlog ? { logIndex: r.tlog.logIndex, integratedTime: r.tlog.integratedTime } : null;
}

/** The digests that are this image: the platform manifest and, when it was picked from one, the index. */
export function imageSubjects(image: Pick<Image, 'digest' | 'index'>): string[] {
  return image.index ? [image.digest, image.index.digest] : [image.digest];
}

/** Verify what is attached (already discovered) to an image. No I/O. */
export async function verifyAttachments(
  image: Pick<Image, 'reference' | 'digest' | 'index' | 'manifest' | 'config'>,
  attachments: Attachment[],
  trust: TrustFile,
  root: { root: TrustedRoot; source: string },
  extra: { identity?: DockerReference | null; index?: ChainIndex | null } = {},
): Promise<ChainReport> {
  const subjects = imageSubjects(image);
  const ctx: CosignVerifyContext = { signers: trust.signers, trustedRoot: root.root, subjects: new Set(subjects), identity: extra.identity ?? null };
  const signatures: ChainSignature[] = [];
  const signatureMessages: string[] = [];
  const attestations: ChainAttestation[] = [];
  const attestationMessages: string[] = [];
  const provenances: Provenance[] = [];
  const certs: FulcioExtensions[] = [];
  const note = (r: VerificationResult): void => {
    if (r.verified && r.signer?.extensions) certs.push(r.signer.extensions);
  };
  for (const a of attachments) {
    if (a.kind === 'signature') {
      for (const l of a.layers) {
        const r = verifySimpleSigning(l, ctx);
        note(r);
        signatures.push({ kind: 'cosign', verified: r.verified, reason: r.reason, signer: chainSigner(r.signer), tlog: tlogOf(r), signedDigest: r.payload?.dockerManifestDigest ?? null, signedReference: r.payload?.dockerReference ?? null });
        signatureMessages.push(r.message);
      }
    } else if (a.kind === 'attestation') {
      for (const l of a.layers) {
        const r = verifyDsseAttestation(l, ctx);
        // Approvals are listed (and judged as `vouch verify` judges them) under `approvals`, not as image evidence:
        // one reviewer's attached approval must not change the evidence another reviewer's session was built on.
        if (r.predicateType === APPROVAL_PREDICATE_TYPE) continue;
        note(r);
        attestations.push({ predicateType: r.predicateType, digest: r.digest, verified: r.verified, reason: r.reason, signer: chainSigner(r.signer) });
        attestationMessages.push(r.message);
        if (r.verified && r.statement && isSlsaProvenance(r.predicateType)) {
          const p = readProvenance(r.statement);
          if (p) provenances.push(p);
        }
      }
    } else if (a.kind === 'bundle') {
      for (const l of a.layers) {
        if (!l.bytes) continue;
        const b = verifyAttachedBundle(l.bytes, subjects, trust.policy, root.root);
        if (b.role !== 'signature' && b.predicateType === APPROVAL_PREDICATE_TYPE) continue;
        note(b.result);
        if (b.role === 'signature') {
          signatures.push({ kind: 'bundle', verified: b.result.verified, reason: b.result.reason, signer: chainSigner(b.result.signer), tlog: tlogOf(b.result), signedDigest: b.subject ?? null, signedReference: null });
          signatureMessages.push(b.result.message);
        } else {
          attestations.push({ predicateType: b.predicateType, digest: b.digest, verified: b.result.verified, reason: b.result.reason, signer: chainSigner(b.result.signer) });
          attestationMessages.push(b.result.message);
          if (b.result.verified && b.statement && isSlsaProvenance(b.predicateType)) {
            const p = readProvenance(b.statement);
            if (p) provenances.push(p);
          }
        }
      }
    }
  }
  const provenance = provenances[0] ?? null;
  const trace = chainTraceability(imageTraceability(image.manifest, image.config), provenance, certs);
  // Several verified provenances that disagree with each other are a disagreement too.
  for (const p of provenances.slice(1)) {
    const extra = chainTraceability(imageTraceability(image.manifest, image.config), p, []);
    for (const k of ['repository', 'revision', 'run'] as const) {
      for (const s of extra[k].sources.filter((x) => x.from === 'provenance')) {
        trace[k].sources.push(s);
        if (trace[k].value !== null && s.value.toLowerCase() !== trace[k].value!.toLowerCase()) trace[k].consistent = false;
      }
    }
    trace.consistent = trace.repository.consistent && trace.revision.consistent && trace.run.consistent;
  }
  // Each judged as `vouch verify` judges a record, for the digest the reference names (the index, when it names one).
  const approvals = attachedApprovals(attachments, { digest: image.digest, index: image.index?.digest ?? null }, trust, root.root);
  return {
    json: {
      image: { reference: image.reference, digest: image.digest, ...caveatOf(image) },
      trust: trustOf(trust, root.source),
      warnings: unpinnedSignerWarnings(trust),
      index: extra.index ? withIndexSignature(extra.index, signatures) : null,
      signatures,
      attestations,
      provenance: provenance
        ? { builder: provenance.builder, buildType: provenance.buildType, sourceRepository: provenance.sourceRepository, sourceRevision: provenance.sourceRevision, buildRun: provenance.buildRun }
        : null,
      traceability: trace,
      approvals,
    },
    signatureMessages,
    attestationMessages,
    provenanceDetail: provenance,
    attachments: attachments.map((a) => ({ kind: a.kind, subject: a.subject, via: a.via, manifestDigest: a.manifestDigest })),
    trustSource: trust.path,
    trustedRootSource: root.source,
  };
}

/** `caveat` when the digest is synthesised (src/core/util/digest-caveat.ts). */
function caveatOf(image: { digest: string } & Partial<Pick<Image, 'transport' | 'synthesizedManifest'>>): { caveat?: string } {
  const c = synthesisedDigestCaveat({ digest: image.digest, transport: image.transport ?? '', synthesizedManifest: image.synthesizedManifest ?? false });
  return c ? { caveat: c } : {};
}

/** Open the image, find its attachments where it lives, verify them. */
export async function verifyChain(input: string, opts: ChainOptions = {}): Promise<ChainReport> {
  const trust = await resolveTrust(opts);
  const root = resolveTrustedRoot(trust, opts.cacheDir);
  opts = { ...opts, pins: pinsFor(opts) };
  const resolution = await resolveReference(input, opts);
  let { reference, store } = await attachmentStoreFor(resolution.reference, opts);
  let image = await openReference(reference, opts);
  // A daemon copy with a RepoDigest for this repository: verify the registry image it came from (same config digest).
  let note: string | undefined;
  try {
    if (opts.daemonCopy && reference.transport === 'docker') note = sameImageOrThrow(opts.daemonCopy.reference, opts.daemonCopy.configDigest, reference.ref, image.configDigest);
    const twin = await registryTwinOf(image, opts);
    if (twin) {
      await image.close();
      image = twin.image;
      note = twin.note;
      reference = { transport: 'docker', ref: twin.ref };
      ({ store } = await attachmentStoreFor(reference, opts));
    }
  } catch (e) {
    await image.close();
    throw e;
  }
  try {
    const attachments = store ? await discoverAttachments(store, imageSubjects(image), image.digest) : [];
    const identity = reference.transport === 'docker' ? reference.ref : null;
    const index = image.index && store ? await indexCoverage(store, image as Image & { index: NonNullable<Image['index']> }, trust, root.root, identity, opts.platform !== undefined && trust.allowPlatformOnlySignatures === true ? opts.platform : null) : null;
    const report = await verifyAttachments(image, attachments, trust, root, { identity, index });
    if (note) report.json.image.note = note;
    return report;
  } finally {
    await image.close();
    await store?.close?.();
  }
}

/**
 * Every index entry is a platform a runtime may pull except BuildKit's
 * attestation manifests (unknown/unknown plus their annotations): docker and
 * containerd choose by platform alone, so an annotation on an entry with a real
 * platform hides nothing from them and must hide nothing from the coverage.
 */
function isPlatformEntry(d: Descriptor): boolean {
  return !isAttestationDescriptor(d);
}

/**
 * Under allowPlatformOnlySignatures: the entries besides the selected one that
 * a runtime asked for `wanted` could also pull: a duplicate of the platform
 * (docker takes the first, but it is still the same request), another variant
 * of the same os/arch (a host that detects its CPU level prefers it), a
 * compatible fallback, or an entry without a platform (containerd reads its
 * config to decide). Each must be signed as the selected one is.
 */
function answersSamePlatform(d: Descriptor, wanted: Platform): boolean {
  if (!d.platform) return true;
  const w = normalizePlatform(wanted);
  const h = normalizePlatform(d.platform);
  return (h.os === w.os && h.architecture === w.architecture) || platformMatches(w, h);
}

/**
 * What the index the reference names requires: its manifests, and (unless the
 * index itself turns out signed, decided in withIndexSignature, or the trust
 * file lets --platform narrow it) whether a trusted signature covers each one.
 * A signature is counted for a platform only when it is over that platform's
 * own digest: an attacker's index holding one signed manifest and one evil one
 * must not pass on the signed one.
 */
async function indexCoverage(
  store: AttachmentStore,
  image: Image & { index: NonNullable<Image['index']> },
  trust: TrustFile,
  root: TrustedRoot,
  identity: DockerReference | null,
  /** Set when the trust file lets --platform narrow the rule to the requested platform. */
  narrowTo: Platform | null,
): Promise<ChainIndex> {
  const parsed = parseManifest(await store.manifestByDigest(image.index.digest), `index ${image.index.digest}`);
  const entries = parsed.kind === 'index' ? parsed.index.manifests.filter(isPlatformEntry) : [];
  const platforms: ChainPlatform[] = [];
  for (const d of entries) {
    const selected = d.digest === image.digest;
    const p: ChainPlatform = { platform: d.platform ? formatPlatform(d.platform) : 'unknown', digest: d.digest, selected, checked: false, signed: false, signers: [], reasons: [] };
    platforms.push(p);
    if (selected) continue; // the selected platform's signatures are the chain's own (withIndexSignature)
    if (narrowTo && !answersSamePlatform(d, narrowTo)) continue;
    p.checked = true;
    const ctx: CosignVerifyContext = { signers: trust.signers, trustedRoot: root, subjects: new Set([d.digest]), identity };
    for (const a of await discoverAttachments(store, [d.digest], d.digest)) {
      for (const l of a.layers) {
        let r: VerificationResult | undefined;
        if (a.kind === 'signature') r = verifySimpleSigning(l, ctx);
        else if (a.kind === 'bundle' && l.bytes) {
          const b = verifyAttachedBundle(l.bytes, [d.digest], trust.policy, root);
          if (b.role === 'signature') r = b.result;
        }
        if (!r) continue;
        if (r.verified) p.signers.push(r.signer?.trustedAs ?? 'a trusted signer');
        else p.reasons.push(r.reason);
      }
    }
    p.signed = p.signers.length > 0;
  }
  return { digest: image.index.digest, mediaType: image.index.mediaType, rule: narrowTo ? 'selected-platform' : 'every-platform', signed: false, platforms, satisfied: false, reason: 'PLATFORM_UNSIGNED' };
}

/** Complete the index verdict with the chain's own signatures (those over the index digest and over the selected platform). */
function withIndexSignature(index: ChainIndex, signatures: ChainSignature[]): ChainIndex {
  const over = (digest: string): ChainSignature[] => signatures.filter((s) => s.verified && s.signedDigest === digest);
  const out: ChainIndex = { ...index, platforms: index.platforms.map((p) => ({ ...p, signers: [...p.signers], reasons: [...p.reasons] })) };
  for (const p of out.platforms.filter((x) => x.selected)) {
    p.checked = true;
    p.signers = [...new Set(over(p.digest).map((s) => s.signer?.trustedAs ?? 'a trusted signer'))];
    p.reasons = signatures.filter((s) => !s.verified).map((s) => s.reason);
    p.signed = p.signers.length > 0;
  }
  out.signed = over(index.digest).length > 0;
  if (out.signed) {
    out.rule = 'index';
    out.satisfied = true;
  } else if (out.rule === 'selected-platform') {
    // Narrowed: the selected manifest and every other entry the same platform request could pull (checked in indexCoverage).
    out.satisfied = out.platforms.some((p) => p.selected && p.signed) && out.platforms.every((p) => !p.checked || p.signed);
  }
  else out.satisfied = out.platforms.length > 0 && out.platforms.every((p) => p.signed);
  out.reason = out.satisfied ? 'OK' : 'PLATFORM_UNSIGNED';
  return out;
}
