/**
 * The SBOMs and vulnerability scans attached to an image, read and normalised:
 * - cosign's `sha256-<hex>.sbom` tag (`cosign attach sbom`: layers with an SBOM
 *   media type such as text/spdx+json or application/vnd.cyclonedx+json), and
 *   the `sboms` entries of a `cosign save` layout;
 * - in-toto attestations (`.att` DSSE layers, DSSE / in-toto referrers, Sigstore
 *   bundle referrers) whose predicateType is SPDX, CycloneDX or syft (SBOMs) or
 *   cosign's vuln predicate (scans);
 * - OCI 1.1 referrers whose artifactType / layer media type is an SBOM, or a
 *   SARIF / Trivy / Grype report.
 *
 * Discovery and blob reads go through the attachment stores (every manifest and
 * blob verified against its digest, sizes bounded). An attestation whose
 * in-toto subject does not name this image is reported in `skipped` and not
 * used, signed or not. Attestations are verified against the trust file when
 * one is given (`verified: true|false`), else `verified: null`; unsigned
 * attachments (the `.sbom` tag, plain referrers) are always `verified: null`.
 */
import { existsSync } from 'node:fs';
import { VouchError } from '../errors.js';
import type { Image, OpenOptions } from '../sources/image.js';
import { openReference, resolveReference } from '../sources/open.js';
import { pinsFor } from '../sources/pins.js';
import { verifyAttachedBundle } from '../trust/attached-bundle.js';
import { parseEnvelope, parseStatement, statementCovers, verifyDsseAttestation, IN_TOTO_PAYLOAD_TYPE, type InTotoStatement } from '../trust/attestation.js';
import {
  CosignMediaType,
  discoverAttachments,
  type AttachedLayer,
  type Attachment,
  type AttachmentStore,
  attachmentStoreFor,
} from '../trust/attachments.js';
import { imageSubjects, resolveTrustedRoot, type ChainSigner } from '../trust/chain.js';
import type { CosignVerifyContext } from '../trust/cosign-signer.js';
import { loadTrustFile, TRUST_FILE_NAME, type TrustFile } from '../trust/trust-file.js';
import type { SignerIdentity } from '../trust/types.js';
import { sanitizeLine } from '../util/sanitize.js';
import { COSIGN_VULN_PREDICATE, readScanDocument, parseScan, type ScanReport } from '../checks/scans.js';
import { normalizePurl, packageIdentity } from './purl.js';
import { identifyJson, parseSbom, readDetected, type SbomFormat, type SbomInventory } from './sbom/index.js';
import { comparePackages, type Package, type PackageInventory } from './types.js';
import { pushAll } from '../util/fold.js';

export type AttachedWhere = 'sbom-tag' | 'attestation' | 'referrer';

interface AttachedBase {
  where: AttachedWhere;
  /** Digest of the document: the layer blob (SBOM file, DSSE envelope, bundle, scan report). */
  digest: string;
  /** Digest of the attachment manifest that carries it. */
  manifestDigest: string;
  /** For attestations: the in-toto predicateType. */
  predicateType?: string;
  /** Attestations: whether it verified against the trust file (null when none was given); unsigned attachments: null. */
  verified: boolean | null;
  /** Who signed it, when it verified (or when the signature named someone untrusted). */
  signer?: ChainSigner;
  /** One line naming it, for messages: `.sbom tag sha256:…`, `attestation sha256:… (https://spdx.dev/Document)`. */
  label: string;
}

export interface AttachedSbom extends AttachedBase {
  /** Normalised inventory, `source: 'attached'`. */
  inventory: SbomInventory;
  format: SbomFormat;
}

export interface AttachedScan extends AttachedBase {
  /** What src/core/checks/scans.ts reads from a --scan file; `path` is the label. */
  report: ScanReport;
}

export interface SkippedAttachment {
  where: AttachedWhere;
  digest: string;
  manifestDigest: string;
  kind: 'sbom' | 'scan';
  predicateType?: string;
  /** Why it was not used: about another image, unreadable, too large… */
  reason: string;
  label: string;
}

export interface AttachedReport {
  image: { reference: string; digest: string; subjects: string[] };
  /** Where attachments were looked for (registry repository, layout path); null when the source has none (daemon, archives). */
  location: string | null;
  sboms: AttachedSbom[];
  scans: AttachedScan[];
  skipped: SkippedAttachment[];
}

export interface AttachedOptions extends OpenOptions {
  /** Trust file path; default ./vouch.trust.yaml when it exists; with none, attestations are `verified: null`. */
  trustFile?: string;
  /** Already-loaded trust. */
  trust?: TrustFile;
  cacheDir?: string;
  /** Largest SBOM / scan document read from an attachment (default 64 MiB). */
  maxBytes?: number;
}

const NO_POLICY = { keys: [], identities: [] };
const NO_TRUST: TrustFile = { path: '(no trust file)', signers: [], reviewers: [], require: {}, policy: NO_POLICY };

export const ATTACHED_MAX_BYTES = 64 * 1024 * 1024;
/** At most this many SBOM / scan documents are read per image. */
export const MAX_ATTACHED_DOCUMENTS = 64;

/** SPDX, CycloneDX and syft predicate types as cosign, syft and the in-toto attestation spec write them. */
export function isSbomPredicate(t: string | null | undefined): boolean {
  if (!t) return false;
  return /^https:\/\/spdx\.dev\/Document(\/v\d+(\.\d+)*)?$/.test(t) || /^https:\/\/cyclonedx\.org\/(bom|schema)(\/v?\d+(\.\d+)*)?$/.test(t) || /^https:\/\/(anchore\.com|syft\.dev)\/syft/.test(t);
}

const SBOM_MEDIA = /^(text\/spdx(\+json)?|application\/spdx\+json|application\/vnd\.cyclonedx(\+json)?|application\/vnd\.syft\+json)$/i;
const SCAN_MEDIA = /^(application\/sarif\+json|application\/vnd\.(trivy|aquasec\.trivy|anchore\.grype|grype)[.\w-]*\+json|application\/vnd\.cosign\.vuln[.\w-]*\+json)$/i;

/** Media type without parameters, lower case. */
const bare = (t: string | undefined): string => (t ?? '').split(';')[0]!.trim().toLowerCase();

export function isSbomMediaType(t: string | undefined): boolean {
  return SBOM_MEDIA.test(bare(t));
}
export function isScanMediaType(t: string | undefined): boolean {
  return SCAN_MEDIA.test(bare(t));
}

const short = (d: string): string => d.slice(0, 19);

function chainSigner(s: SignerIdentity | null | undefined): ChainSigner | undefined {
  if (!s) return undefined;
  return { type: s.type, keyId: s.keyId ?? null, subject: s.subject ?? null, issuer: s.issuer ?? null, trustedAs: s.trustedAs ?? null };
}

function whereOf(a: Pick<Attachment, 'kind' | 'via'>): AttachedWhere {
  if (a.via === 'cosign-tag' || a.via === 'cosign-save') return a.kind === 'sbom' ? 'sbom-tag' : 'attestation';
  return 'referrer';
}

function whereLabel(w: AttachedWhere): string {
  return w === 'sbom-tag' ? '.sbom attachment' : w === 'attestation' ? 'attestation' : 'referrer';
}

/** The SBOM inside a predicate: the document itself, or cosign 1.x's `{"Data": …}` wrapper. */
function sbomFromPredicate(predicate: unknown, what: string): SbomInventory {
  let doc = predicate;
  const o = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : null;
  if (o && identifyJson(o) === null && 'Data' in o) {
    if (typeof o.Data === 'string') return parseSbom(o.Data, what, { source: 'attached' });
    doc = o.Data;
  }
  const d = identifyJson(doc);
  if (!d) throw new VouchError('UNSUPPORTED_FORMAT', `${what}: the predicate is not a CycloneDX, SPDX or syft JSON document`);
  return readDetected(d, what, 'attached');
}

interface Collector {
  sboms: AttachedSbom[];
  scans: AttachedScan[];
  skipped: SkippedAttachment[];
  seen: Set<string>;
  documents: number;
}

function errorText(e: unknown): string {
  return sanitizeLine(e instanceof Error ? e.message : String(e)).slice(0, 300);
}

/**
 * Read the SBOMs and scans out of already-discovered attachments. Fetches the
 * blobs the discovery did not read (SBOM files, reports) through the store,
 * which verifies them. `trust` null: attestations are not verified (null).
 */
export async function readAttachedDocuments(
  store: AttachmentStore,
  image: Pick<Image, 'digest' | 'index'>,
  attachments: readonly Attachment[],
  trust: TrustFile | null,
  opts: { cacheDir?: string; maxBytes?: number } = {},
): Promise<Omit<AttachedReport, 'image' | 'location'>> {
  const subjects = imageSubjects(image);
  const subjectSet = new Set(subjects);
  const maxBytes = opts.maxBytes ?? ATTACHED_MAX_BYTES;
  const root = trust ? resolveTrustedRoot(trust, opts.cacheDir) : null;
  const ctx: CosignVerifyContext | null = trust && root ? { signers: trust.signers, trustedRoot: root.root, subjects: subjectSet } : null;
  const c: Collector = { sboms: [], scans: [], skipped: [], seen: new Set(), documents: 0 };

  /** An in-toto statement (verified or not): an SBOM or a vuln scan about this image, or nothing of ours. */
  const fromStatement = (st: InTotoStatement, base: Omit<AttachedBase, 'label' | 'predicateType'>, verify: () => { verified: boolean | null; signer?: ChainSigner }): void => {
    const isSbom = isSbomPredicate(st.predicateType);
    const isScan = st.predicateType === COSIGN_VULN_PREDICATE;
    if (!isSbom && !isScan) return;
    const kind = isSbom ? 'sbom' : 'scan';
    const label = sanitizeLine(`${whereLabel(base.where)} ${short(base.digest)} (${st.predicateType})`);
    if (!statementCovers(st, subjectSet)) {
      const named = st.subject.map((s) => Object.entries(s.digest).map(([a, h]) => `${a}:${h}`).join(',')).join(' ');
      c.skipped.push({ ...pick(base), kind, predicateType: st.predicateType, label, reason: sanitizeLine(`the attestation is about ${named}`).slice(0, 200) + ', not this image: not used' });
      return;
    }
    const v = verify();
    const meta = { ...base, predicateType: st.predicateType, verified: v.verified, ...(v.signer ? { signer: v.signer } : {}), label };
    try {
      if (isSbom) {
        const inventory = sbomFromPredicate(st.predicate, label);
        c.sboms.push({ ...meta, inventory, format: inventory.format });
      } else {
        const r = readScanDocument(st, label);
        const report: ScanReport = { ...r, path: label, timeFrom: r.scannedAt ? 'document' : 'none' };
        c.scans.push({ ...meta, report });
      }
    } catch (e) {
      c.skipped.push({ ...pick(base), kind, predicateType: st.predicateType, label, reason: errorText(e) });
    }
  };

  const dsseLayer = (a: Attachment, l: AttachedLayer): void => {
    const base = { where: whereOf(a), digest: l.digest, manifestDigest: a.manifestDigest, verified: null };
    if (!l.bytes) return;
    if (bare(l.mediaType) === IN_TOTO_PAYLOAD_TYPE) {
      // A bare (unsigned) in-toto statement.
      const st = parseStatement(l.bytes);
      if (typeof st !== 'string') fromStatement(st, base, () => ({ verified: null }));
      return;
    }
    if (l.mediaType !== CosignMediaType.Dsse) return;
    const env = parseEnvelope(l.bytes);
    if (typeof env === 'string' || env.payloadType !== IN_TOTO_PAYLOAD_TYPE) return;
    const st = parseStatement(env.payload);
    if (typeof st === 'string') return;
    fromStatement(st, base, () => {
      if (!ctx) return { verified: null };
      const r = verifyDsseAttestation(l, ctx);
      const signer = chainSigner(r.signer);
      return { verified: r.verified, ...(signer ? { signer } : {}) };
    });
  };

  const bundleLayer = (a: Attachment, l: AttachedLayer): void => {
    if (!l.bytes) return;
    // Without a trust file nothing is trusted: the bundle is still parsed (its statement read), its verdict ignored.
    const b = verifyAttachedBundle(l.bytes, subjects, trust?.policy ?? NO_POLICY, (root ?? resolveTrustedRoot(NO_TRUST, opts.cacheDir)).root);
    if (b.role !== 'attestation' || !b.statement) return;
    const base = { where: whereOf(a), digest: l.digest, manifestDigest: a.manifestDigest, verified: null };
    fromStatement(b.statement, base, () => {
      if (!trust) return { verified: null };
      const signer = chainSigner(b.result.signer);
      return { verified: b.result.verified, ...(signer ? { signer } : {}) };
    });
  };

  /** A plain document layer (the `.sbom` tag, an SBOM or scan referrer): fetched, verified, identified by media type then content. */
  const documentLayer = async (a: Attachment, l: AttachedLayer): Promise<void> => {
    const where = whereOf(a);
    const mt = bare(l.mediaType);
    const art = bare(a.artifactType);
    const sbomLike = a.kind === 'sbom' || isSbomMediaType(mt) || isSbomMediaType(art);
    const scanLike = isScanMediaType(mt) || isScanMediaType(art) || /sarif|trivy|grype|vuln/.test(art);
    if (!sbomLike && !scanLike) return;
    const kind = sbomLike && !isScanMediaType(mt) ? 'sbom' : 'scan';
    const label = sanitizeLine(`${whereLabel(where)} ${short(l.digest)} (${mt || art || 'no media type'})`);
    const base = { where, digest: l.digest, manifestDigest: a.manifestDigest, label };
    if (++c.documents > MAX_ATTACHED_DOCUMENTS) {
      c.skipped.push({ ...pick(base), kind, label, reason: `more than ${MAX_ATTACHED_DOCUMENTS} attached documents: not read` });
      return;
    }
    let bytes: Buffer;
    try {
      bytes = await store.blob({ mediaType: l.mediaType, digest: l.digest, size: l.size }, maxBytes);
    } catch (e) {
      if (e instanceof VouchError && (e.code === 'LIMIT_EXCEEDED' || e.code === 'DIGEST_MISMATCH' || e.code === 'SIZE_MISMATCH' || e.code === 'NOT_FOUND')) {
        c.skipped.push({ ...pick(base), kind, label, reason: errorText(e) });
        return;
      }
      throw e;
    }
    try {
      if (kind === 'sbom') {
        const inventory = parseSbom(bytes, label, { source: 'attached', maxBytes });
        c.sboms.push({ ...base, verified: null, inventory, format: inventory.format });
      } else {
        const report = parseScan(bytes, label);
        c.scans.push({ ...base, verified: null, report });
      }
    } catch (e) {
      c.skipped.push({ ...pick(base), kind, label, reason: errorText(e) });
    }
  };

  for (const a of attachments) {
    if (a.kind === 'signature') continue;
    for (const l of a.layers) {
      const key = l.digest;
      if (c.seen.has(key)) continue;
      c.seen.add(key);
      if (a.kind === 'attestation') dsseLayer(a, l);
      else if (a.kind === 'bundle') bundleLayer(a, l);
      else await documentLayer(a, l);
    }
  }
  return { sboms: c.sboms, scans: c.scans, skipped: c.skipped };
}

function pick(b: { where: AttachedWhere; digest: string; manifestDigest: string }): Pick<SkippedAttachment, 'where' | 'digest' | 'manifestDigest'> {
  return { where: b.where, digest: b.digest, manifestDigest: b.manifestDigest };
}

/** The trust to verify attestations with: given, or ./vouch.trust.yaml; null when there is none. */
async function trustFor(opts: AttachedOptions): Promise<TrustFile | null> {
  if (opts.trust) return opts.trust;
  if (opts.trustFile) return loadTrustFile(opts.trustFile);
  if (existsSync(TRUST_FILE_NAME)) return loadTrustFile(TRUST_FILE_NAME);
  return null;
}

/** Open the image (manifest only), discover its attachments where it lives, read the SBOMs and scans. */
export async function readAttached(ref: string, opts: AttachedOptions = {}): Promise<AttachedReport> {
  const trust = await trustFor(opts);
  opts = { ...opts, pins: pinsFor(opts) };
  const resolution = await resolveReference(ref, opts);
  const { reference, store } = await attachmentStoreFor(resolution.reference, opts);
  if (!store) {
    // Daemon images and legacy docker-archives carry no attachments: do not open (a daemon export would read every layer).
    return { image: { reference: ref, digest: '', subjects: [] }, location: null, sboms: [], scans: [], skipped: [] };
  }
  const image = await openReference(reference, opts);
  try {
    const subjects = imageSubjects(image);
    const attachments = await discoverAttachments(store, subjects, image.digest);
    const docs = await readAttachedDocuments(store, image, attachments, trust, { ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}), ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) });
    return { image: { reference: image.reference, digest: image.digest, subjects }, location: store.location, ...docs };
  } finally {
    await image.close();
    await store.close?.();
  }
}

/** The SBOMs attached to an image (see readAttached); `onSkipped` hears about those not used. */
export async function readAttachedSboms(ref: string, opts: AttachedOptions & { onSkipped?: (s: SkippedAttachment) => void } = {}): Promise<AttachedSbom[]> {
  const r = await readAttached(ref, opts);
  for (const s of r.skipped) if (s.kind === 'sbom') opts.onSkipped?.(s);
  return r.sboms;
}

/** The vulnerability scans attached to an image (see readAttached). */
export async function readAttachedScans(ref: string, opts: AttachedOptions & { onSkipped?: (s: SkippedAttachment) => void } = {}): Promise<AttachedScan[]> {
  const r = await readAttached(ref, opts);
  for (const s of r.skipped) if (s.kind === 'scan') opts.onSkipped?.(s);
  return r.scans;
}

function mergeKey(p: Package): string {
  return normalizePurl(p.purl) ?? `${packageIdentity(p.type, p.name, null)}@${p.version}`;
}

/**
 * Several attached SBOMs as one inventory: the first in full, then each
 * package of the others that no earlier SBOM lists (same purl, qualifiers
 * aside). Warnings are prefixed with the SBOM they came from.
 */
export function mergeAttachedSboms(sboms: readonly AttachedSbom[]): PackageInventory {
  if (sboms.length === 1) return sboms[0]!.inventory;
  const packages: Package[] = [];
  const keys = new Set<string>();
  const warnings: string[] = [];
  let distro: PackageInventory['distro'] = null;
  for (const s of sboms) {
    const mine = new Set<string>();
    for (const p of s.inventory.packages) {
      const k = mergeKey(p);
      if (keys.has(k)) continue;
      mine.add(k);
      packages.push(p);
    }
    for (const k of mine) keys.add(k);
    distro ??= s.inventory.distro ?? null;
    pushAll(warnings, s.inventory.warnings);
  }
  packages.sort(comparePackages);
  return { source: 'attached', distro, packages, warnings };
}
