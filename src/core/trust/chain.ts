/**
 * The chain of an image: what is attached to it, which signatures and
 * attestations verify against the trust file, what the provenance says, and
 * whether the image's traceability agrees with it. One call for the CLI and
 * the TUI; offline except for the image's own registry.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultCacheDir, writeFileAtomic } from '../cache/cache.js';
import { traceability as imageTraceability } from '../oci/traceability.js';
import { parseJsonBytes } from '../oci/manifest.js';
import type { Image, OpenOptions } from '../sources/image.js';
import { openReference, resolveReference } from '../sources/open.js';
import { verifyAttachedBundle } from './attached-bundle.js';
import { verifyDsseAttestation } from './attestation.js';
import { attachmentStoreFor, discoverAttachments, type Attachment } from './attachments.js';
import type { CosignVerifyContext } from './cosign-signer.js';
import { isSlsaProvenance, readProvenance, type Provenance } from './provenance.js';
import { verifySimpleSigning } from './simple-signing.js';
import { chainTraceability, type ChainTraceability } from './traceability-chain.js';
import { loadTrustFile, TRUST_FILE_NAME, type TrustFile } from './trust-file.js';
import { defaultTrustedRoot, loadTrustedRoot, parseTrustedRoot, type TrustedRoot } from './trusted-root.js';
import type { FulcioExtensions, ReasonCode, SignerIdentity, VerificationResult } from './types.js';

export interface ChainSigner {
  type: 'key' | 'keyless';
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
  image: { reference: string; digest: string };
  signatures: ChainSignature[];
  attestations: ChainAttestation[];
  provenance: ChainProvenance | null;
  traceability: ChainTraceability;
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
}

/** True when at least one trusted signature verifies (exit 0). */
export function chainPasses(r: ChainJson): boolean {
  return r.signatures.some((s) => s.verified);
}

const EMPTY_TRUST = (path: string): TrustFile => ({ path, signers: [], reviewers: [], require: {}, policy: { keys: [], identities: [] } });

export async function resolveTrust(opts: ChainOptions): Promise<TrustFile> {
  if (opts.trust) return opts.trust;
  if (opts.trustFile) return loadTrustFile(opts.trustFile);
  if (existsSync(TRUST_FILE_NAME)) return loadTrustFile(TRUST_FILE_NAME);
  return EMPTY_TRUST('(no trust file)');
}

export function cachedTrustedRootPath(cacheDir = defaultCacheDir()): string {
  return join(cacheDir, 'trust', 'trusted_root.json');
}

/** The trusted root: the trust file's, else the one a --tuf-refresh cached, else the public-good root shipped with the package. */
export function resolveTrustedRoot(trust: TrustFile, cacheDir = defaultCacheDir()): { root: TrustedRoot; source: string } {
  if (trust.trustedRoot) return { root: loadTrustedRoot(trust.trustedRoot), source: trust.trustedRoot };
  const cached = cachedTrustedRootPath(cacheDir);
  if (existsSync(cached)) return { root: loadTrustedRoot(cached), source: `${cached} (from TUF)` };
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
  await writeFileAtomic(dest, text);
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
): Promise<ChainReport> {
  const subjects = imageSubjects(image);
  const ctx: CosignVerifyContext = { signers: trust.signers, trustedRoot: root.root, subjects: new Set(subjects) };
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
        signatures.push({ kind: 'cosign', verified: r.verified, reason: r.reason, signer: chainSigner(r.signer), tlog: tlogOf(r) });
        signatureMessages.push(r.message);
      }
    } else if (a.kind === 'attestation') {
      for (const l of a.layers) {
        const r = verifyDsseAttestation(l, ctx);
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
        note(b.result);
        if (b.role === 'signature') {
          signatures.push({ kind: 'bundle', verified: b.result.verified, reason: b.result.reason, signer: chainSigner(b.result.signer), tlog: tlogOf(b.result) });
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
  return {
    json: {
      image: { reference: image.reference, digest: image.digest },
      signatures,
      attestations,
      provenance: provenance
        ? { builder: provenance.builder, buildType: provenance.buildType, sourceRepository: provenance.sourceRepository, sourceRevision: provenance.sourceRevision, buildRun: provenance.buildRun }
        : null,
      traceability: trace,
    },
    signatureMessages,
    attestationMessages,
    provenanceDetail: provenance,
    attachments: attachments.map((a) => ({ kind: a.kind, subject: a.subject, via: a.via, manifestDigest: a.manifestDigest })),
    trustSource: trust.path,
    trustedRootSource: root.source,
  };
}

/** Open the image, find its attachments where it lives, verify them. */
export async function verifyChain(input: string, opts: ChainOptions = {}): Promise<ChainReport> {
  const trust = await resolveTrust(opts);
  const root = resolveTrustedRoot(trust, opts.cacheDir);
  const resolution = await resolveReference(input, opts);
  const { reference, store } = await attachmentStoreFor(resolution.reference, opts);
  const image = await openReference(reference, opts);
  try {
    const attachments = store ? await discoverAttachments(store, imageSubjects(image), image.digest) : [];
    return await verifyAttachments(image, attachments, trust, root);
  } finally {
    await image.close();
  }
}
