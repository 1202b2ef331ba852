/**
 * What is attached to an image, wherever it lives:
 * - cosign's legacy tags `sha256-<hex>.sig` / `.att` / `.sbom` (registry, or
 *   an OCI layout that names them with org.opencontainers.image.ref.name);
 * - `cosign save` layouts, whose index.json entries carry `kind` annotations
 *   (dev.cosignproject.cosign/sigs | atts | sboms);
 * - OCI 1.1 referrers: the API when the registry has it, else the
 *   `sha256-<hex>` referrers tag schema; in a layout, manifests whose
 *   `subject` is the image. Sigstore bundles (v0.1–v0.3) are recognised by
 *   artifact type.
 * Every manifest and blob is verified against its digest and bounded.
 */
import { VouchError } from '../errors.js';
import { parseDigest, verifyBytes } from '../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseJsonBytes, parseManifest } from '../oci/manifest.js';
import { isIndexMediaType, MediaType } from '../oci/mediatypes.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.js';
import type { BlobStore } from '../sources/layout.js';
import { RegistryClient } from '../sources/registry/client.js';
import { DirectoryStore, TarStore } from '../sources/layout.js';
import { TarFile } from '../sources/tarfile.js';
import { resolve as resolvePath } from 'node:path';
import type { ImageReference } from '../ref/types.js';

export const CosignMediaType = {
  SimpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  Dsse: 'application/vnd.dsse.envelope.v1+json',
} as const;

export const CosignAnnotation = {
  Signature: 'dev.cosignproject.cosign/signature',
  Certificate: 'dev.sigstore.cosign/certificate',
  Chain: 'dev.sigstore.cosign/chain',
  Bundle: 'dev.sigstore.cosign/bundle',
  Rfc3161: 'dev.sigstore.cosign/rfc3161timestamp',
  PredicateType: 'predicateType',
  Kind: 'kind',
} as const;

export const CosignKind = {
  Image: 'dev.cosignproject.cosign/image',
  ImageIndex: 'dev.cosignproject.cosign/imageIndex',
  Sigs: 'dev.cosignproject.cosign/sigs',
  Atts: 'dev.cosignproject.cosign/atts',
  Sboms: 'dev.cosignproject.cosign/sboms',
} as const;

/** Sigstore bundle media types, v0.1 to v0.3. */
export function isSigstoreBundleType(t: string | undefined): boolean {
  if (!t) return false;
  return /^application\/vnd\.dev\.sigstore\.bundle(\.v0\.[1-3]\+json|\+json;\s*version=0\.[1-3])$/.test(t);
}

export type AttachmentKind = 'signature' | 'attestation' | 'sbom' | 'bundle' | 'other';
export type AttachmentVia = 'cosign-tag' | 'cosign-save' | 'referrers-api' | 'referrers-tag' | 'layout-subject';

export interface AttachedLayer {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
  /** The blob, verified; undefined for kinds whose content the chain does not read (SBOM documents). */
  bytes?: Buffer;
}

export interface Attachment {
  kind: AttachmentKind;
  /** The digest it is attached to. */
  subject: string;
  via: AttachmentVia;
  manifestDigest: string;
  artifactType?: string;
  layers: AttachedLayer[];
}

/** Where attachments are read from: a registry repository or a layout. */
export interface AttachmentStore {
  readonly location: string;
  /** Manifest by tag; undefined when the tag does not exist. */
  manifestByTag(tag: string): Promise<{ bytes: Buffer; digest: string } | undefined>;
  manifestByDigest(digest: string): Promise<Buffer>;
  blob(d: Descriptor, max: number): Promise<Buffer>;
  /** Referrers through an API or an index of the store; undefined when there is none (fall back to the tag schema). */
  referrers(subject: string): Promise<Descriptor[] | undefined>;
  /** Layout only: index.json entries with cosign `kind` annotations. */
  cosignSaveEntries?(): Promise<Descriptor[]>;
  /** Release what the store holds open (an archive's file). */
  close?(): Promise<void>;
}

export const MAX_ATTACHMENT_LAYER_BYTES = 8 << 20;
const MAX_LAYERS = 1000;

export class RegistryAttachmentStore implements AttachmentStore {
  constructor(
    private readonly client: RegistryClient,
    private readonly repo: string,
  ) {}
  get location(): string {
    return this.client.name(this.repo);
  }
  async manifestByTag(tag: string): Promise<{ bytes: Buffer; digest: string } | undefined> {
    try {
      const r = await this.client.getManifest(this.repo, tag);
      return { bytes: r.bytes, digest: r.digest };
    } catch (e) {
      if (e instanceof VouchError && e.code === 'NOT_FOUND' && /manifest unknown|not found/.test(e.message) && !/repository not found/.test(e.message)) return undefined;
      throw e;
    }
  }
  async manifestByDigest(digest: string): Promise<Buffer> {
    return (await this.client.getManifest(this.repo, digest)).bytes;
  }
  async blob(d: Descriptor, max: number): Promise<Buffer> {
    return this.client.fetchBlob(this.repo, d.digest, { size: d.size, maxBytes: max });
  }
  async referrers(subject: string): Promise<Descriptor[] | undefined> {
    return (await this.client.getReferrers(this.repo, subject))?.manifests;
  }
}

const REF_NAME = 'org.opencontainers.image.ref.name';

export class LayoutAttachmentStore implements AttachmentStore {
  private index: Promise<ImageIndex> | undefined;
  constructor(private readonly store: BlobStore) {}
  get location(): string {
    return this.store.location;
  }
  private top(): Promise<ImageIndex> {
    this.index ??= (async () => {
      const b = await this.store.readFile('index.json', MAX_MANIFEST_BYTES);
      if (!b) throw new VouchError('INVALID_LAYOUT', `${this.store.location}: no index.json`);
      const doc = parseJsonBytes(b, `${this.store.location}: index.json`, 'INVALID_LAYOUT', MAX_MANIFEST_BYTES) as ImageIndex;
      if (!Array.isArray(doc?.manifests)) throw new VouchError('INVALID_LAYOUT', `${this.store.location}: index.json has no manifests`);
      return doc;
    })();
    return this.index;
  }
  async manifestByTag(tag: string): Promise<{ bytes: Buffer; digest: string } | undefined> {
    const d = (await this.top()).manifests.find((m) => m.annotations?.[REF_NAME] === tag);
    if (!d) return undefined;
    return { bytes: await this.blob(d, MAX_MANIFEST_BYTES), digest: d.digest };
  }
  async manifestByDigest(digest: string): Promise<Buffer> {
    const size = await this.store.blobSize(digest);
    if (size === undefined) throw new VouchError('NOT_FOUND', `${this.store.location}: manifest ${digest} is not in the layout`);
    return this.blob({ mediaType: '', digest, size }, MAX_MANIFEST_BYTES);
  }
  async blob(d: Descriptor, max: number): Promise<Buffer> {
    if (d.size > max) throw new VouchError('LIMIT_EXCEEDED', `${this.store.location}: blob ${d.digest} is ${d.size} bytes, over the ${max} allowed`);
    const bytes = await this.store.readBlob(d.digest, max);
    verifyBytes(bytes, d.digest, `blob ${d.digest} of ${this.store.location}`, d.size);
    return bytes;
  }
  /** Manifests listed in index.json whose subject is `subject` (a layout has no API; this is its referrers view). */
  async referrers(subject: string): Promise<Descriptor[] | undefined> {
    const out: Descriptor[] = [];
    for (const d of (await this.top()).manifests) {
      if (isIndexMediaType(d.mediaType) || d.size > MAX_MANIFEST_BYTES) continue;
      if ((await this.store.blobSize(d.digest)) === undefined) continue;
      let m: ImageManifest | undefined;
      try {
        const p = parseManifest(await this.blob(d, MAX_MANIFEST_BYTES), `manifest ${d.digest}`, d.mediaType || undefined);
        m = p.kind === 'image' ? p.manifest : undefined;
      } catch {
        continue;
      }
      if (m?.subject?.digest === subject) out.push({ ...d, ...(m.artifactType ? { artifactType: m.artifactType } : { artifactType: m.config.mediaType }) });
    }
    return out.length ? out : undefined;
  }
  async cosignSaveEntries(): Promise<Descriptor[]> {
    const kinds: string[] = [CosignKind.Sigs, CosignKind.Atts, CosignKind.Sboms];
    return (await this.top()).manifests.filter((d) => kinds.includes(d.annotations?.[CosignAnnotation.Kind] ?? ''));
  }
  async close(): Promise<void> {
    await this.store.close();
  }
}

/** `sha256-<hex>`: the tag cosign and the referrers fallback derive from a digest. */
export function digestTag(digest: string): string {
  const { algorithm, hex } = parseDigest(digest, 'subject digest');
  return `${algorithm}-${hex}`;
}

function kindOfTag(suffix: string): AttachmentKind {
  return suffix === 'sig' ? 'signature' : suffix === 'att' ? 'attestation' : 'sbom';
}

function kindOfArtifact(artifactType: string | undefined, layers: Descriptor[]): AttachmentKind {
  if (isSigstoreBundleType(artifactType) || layers.some((l) => isSigstoreBundleType(l.mediaType))) return 'bundle';
  if (artifactType === CosignMediaType.SimpleSigning) return 'signature';
  if (artifactType === CosignMediaType.Dsse || artifactType === 'application/vnd.in-toto+json') return 'attestation';
  if (artifactType && /spdx|cyclonedx|syft/i.test(artifactType)) return 'sbom';
  return 'other';
}

async function readAttachment(store: AttachmentStore, bytes: Buffer, digest: string, what: string, kind: AttachmentKind): Promise<{ manifest: ImageManifest; layers: AttachedLayer[] }> {
  const parsed = parseManifest(bytes, what);
  if (parsed.kind !== 'image') throw new VouchError('INVALID_MANIFEST', `${what}: an index where a signature manifest was expected`);
  const m = parsed.manifest;
  if (m.layers.length > MAX_LAYERS) throw new VouchError('LIMIT_EXCEEDED', `${what}: more than ${MAX_LAYERS} layers`);
  const layers = await Promise.all(
    m.layers.map(async (l) => {
      const out: AttachedLayer = { mediaType: l.mediaType, digest: l.digest, size: l.size, annotations: l.annotations ?? {} };
      if (kind !== 'sbom' && kind !== 'other') out.bytes = await store.blob(l, MAX_ATTACHMENT_LAYER_BYTES);
      return out;
    }),
  );
  void digest;
  return { manifest: m, layers };
}

/**
 * Everything attached to any of `subjects` (the image manifest digest and, for
 * a multi-platform image, the index digest). `primary` is the digest a
 * `cosign save` layout's entries belong to.
 */
export async function discoverAttachments(store: AttachmentStore, subjects: string[], primary = subjects[0]!): Promise<Attachment[]> {
  const out: Attachment[] = [];
  const seen = new Set<string>();
  const push = (a: Attachment): void => {
    const key = `${a.subject} ${a.manifestDigest}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(a);
    }
  };
  for (const subject of [...new Set(subjects)]) {
    const base = digestTag(subject);
    for (const suffix of ['sig', 'att', 'sbom']) {
      const m = await store.manifestByTag(`${base}.${suffix}`);
      if (!m) continue;
      const kind = kindOfTag(suffix);
      const { layers } = await readAttachment(store, m.bytes, m.digest, `${store.location}:${base}.${suffix}`, kind);
      push({ kind, subject, via: 'cosign-tag', manifestDigest: m.digest, layers });
    }
    let via: AttachmentVia = store instanceof LayoutAttachmentStore ? 'layout-subject' : 'referrers-api';
    let descriptors = await store.referrers(subject);
    if (descriptors === undefined) {
      via = 'referrers-tag';
      const idx = await store.manifestByTag(base);
      if (idx) {
        const doc = parseManifest(idx.bytes, `${store.location}:${base}`);
        descriptors = doc.kind === 'index' ? doc.index.manifests : [];
      }
    }
    for (const d of descriptors ?? []) {
      if (isIndexMediaType(d.mediaType)) continue;
      const bytes = await store.manifestByDigest(d.digest);
      verifyBytes(bytes, d.digest, `referrer ${d.digest}`);
      const parsed = parseManifest(bytes, `referrer ${d.digest} of ${subject}`);
      if (parsed.kind !== 'image') continue;
      const m = parsed.manifest;
      // The referrers tag is writable by anyone who can push: the manifest itself must name this subject.
      if (m.subject?.digest !== subject) continue;
      const artifactType = m.artifactType ?? d.artifactType ?? m.config.mediaType;
      const kind = kindOfArtifact(artifactType, m.layers);
      const { layers } = await readAttachment(store, bytes, d.digest, `referrer ${d.digest}`, kind);
      push({ kind, subject, via, manifestDigest: d.digest, ...(artifactType ? { artifactType } : {}), layers });
    }
  }
  if (store.cosignSaveEntries) {
    for (const d of await store.cosignSaveEntries()) {
      const k = d.annotations?.[CosignAnnotation.Kind];
      const kind: AttachmentKind = k === CosignKind.Sigs ? 'signature' : k === CosignKind.Atts ? 'attestation' : 'sbom';
      const bytes = await store.manifestByDigest(d.digest);
      const { layers } = await readAttachment(store, bytes, d.digest, `${store.location}: ${k} ${d.digest}`, kind);
      push({ kind, subject: primary, via: 'cosign-save', manifestDigest: d.digest, layers });
    }
  }
  return out;
}

export { MediaType };


/**
 * Where to look for an image's attachments: the registry it lives in, or the
 * OCI layout — a directory, or one inside an oci-archive or a docker-archive
 * that carries an index.json (a `cosign save` layout tarred up, a Docker 25+
 * save). A `cosign save` layout names its image by a `kind` annotation, so a
 * layout given without tag or digest is pointed at that image. Daemon images
 * and legacy docker-archives carry none: undefined, and nothing is opened.
 * The caller closes the store (`close`) when it has one.
 */
export async function attachmentStoreFor(
  reference: ImageReference,
  opts: { insecureRegistries?: string[]; signal?: AbortSignal } = {},
): Promise<{ reference: ImageReference; store: AttachmentStore | undefined }> {
  if (reference.transport === 'oci') {
    let ref = reference;
    if (reference.tag === undefined && reference.digest === undefined) {
      const d = await cosignSaveImageDigest(new DirectoryStore(reference.path));
      if (d) ref = { ...reference, digest: d };
    }
    return { reference: ref, store: new LayoutAttachmentStore(new DirectoryStore(reference.path)) };
  }
  if (reference.transport === 'oci-archive' || reference.transport === 'docker-archive') {
    let tar: TarFile;
    try {
      tar = await TarFile.open(resolvePath(reference.path));
    } catch {
      return { reference, store: undefined }; // the opener reports what is wrong with the file
    }
    if (!tar.has('index.json')) {
      await tar.close();
      return { reference, store: undefined };
    }
    const store = new TarStore(tar);
    let ref = reference;
    if (reference.transport === 'oci-archive' && reference.tag === undefined && reference.digest === undefined) {
      const d = await cosignSaveImageDigest(store).catch(async (e: unknown) => {
        await store.close();
        throw e;
      });
      if (d) ref = { ...reference, digest: d };
    }
    return { reference: ref, store: new LayoutAttachmentStore(store) };
  }
  if (reference.transport === 'docker') {
    const client = new RegistryClient(reference.ref.registry, {
      ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { reference, store: new RegistryAttachmentStore(client, reference.ref.repository) };
  }
  return { reference, store: undefined };
}

/** In a `cosign save` layout the image is the entry of kind dev.cosignproject.cosign/image(Index). */
async function cosignSaveImageDigest(store: BlobStore): Promise<string | undefined> {
  const b = await store.readFile('index.json', 4 << 20);
  if (!b) return undefined;
  const idx = parseJsonBytes(b, `${store.location}: index.json`, 'INVALID_LAYOUT', 4 << 20) as ImageIndex;
  const e = idx?.manifests?.find?.((d) => d.annotations?.[CosignAnnotation.Kind] === CosignKind.Image || d.annotations?.[CosignAnnotation.Kind] === CosignKind.ImageIndex);
  return e?.digest;
}
