/**
 * OCI image layouts (`oci:DIR[:TAG|@sha256:HEX]`) and the logic every
 * layout-shaped source shares: a directory on disk and an OCI layout inside a
 * tar (oci-archive, Docker 25+ saves) differ only in where blob bytes come
 * from, so both go through a BlobStore and the same resolution code.
 *
 * Resolution follows the image spec and skopeo's oci transport:
 * index.json → (tag via `org.opencontainers.image.ref.name` | digest anywhere
 * in the index tree | the only image) → nested indexes resolved by platform →
 * image manifest → config → layers. Every blob is verified against its
 * digest: small ones when read, layers as they stream.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, resolve as resolvePath, sep } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { VouchError } from '../errors.js';
import { parseDigest, verifyBytes, VerifyingStream } from '../oci/digest.js';
import {
  ANNOTATION_CONTAINERD_NAME,
  ANNOTATION_REF_NAME,
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  MAX_METADATA_BYTES,
  configPlatform,
  defaultPlatform,
  isAttestationDescriptor,
  isImageConfigMediaType,
  parseConfig,
  parseIndex,
  parseManifest,
  parseOciLayoutFile,
  selectPlatform,
} from '../oci/manifest.js';
import { MediaType, compressionOfMediaType, isImageManifestMediaType, isIndexMediaType, sniffCompression } from '../oci/mediatypes.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../oci/types.js';
import { formatDockerReference, parseDockerReference } from '../ref/parse.js';
import type { Image, Layer, OpenOptions, Transport } from './image.js';
import type { TarFile } from './tarfile.js';

// ---------------------------------------------------------------------------
// Blob stores

/** Where a layout's files live. Paths are layout-relative ("index.json", "blobs/sha256/…"). */
export interface BlobStore {
  /** For messages: the directory or archive path. */
  readonly location: string;
  /** A small metadata file, or undefined when absent. Bounded by `max`. */
  readFile(name: string, max: number): Promise<Buffer | undefined>;
  /** Size of a blob, or undefined when the store does not have it. */
  blobSize(digest: string): Promise<number | undefined>;
  readBlob(digest: string, max: number): Promise<Buffer>;
  readBlobHead(digest: string, n: number): Promise<Buffer>;
  openBlob(digest: string): Promise<Readable>;
  close(): Promise<void>;
}

/** `blobs/<alg>/<hex>`; the digest is validated first so it can never climb out of blobs/. */
export function blobPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest, 'blob digest');
  return `blobs/${algorithm}/${hex}`;
}

function tooBig(what: string, size: number, max: number): VouchError {
  return new VouchError('LIMIT_EXCEEDED', `${what}: ${size} bytes is over the ${max}-byte limit`);
}

export class DirectoryStore implements BlobStore {
  private root: Promise<string> | undefined;
  constructor(readonly location: string) {}

  /**
   * The real path of a layout file, or undefined when it does not exist. A
   * symlink that leads outside the layout directory is refused: a hostile
   * layout must not make us read (and report digests and sizes of) other
   * files on this machine, such as ~/.ssh keys or /etc/shadow.
   */
  private async real(name: string): Promise<string | undefined> {
    const p = join(this.location, name);
    const real = await realpath(p).catch(() => undefined);
    if (real === undefined) return undefined;
    this.root ??= realpath(this.location).catch(() => resolvePath(this.location));
    const root = await this.root;
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new VouchError('INVALID_LAYOUT', `${p}: is a link to a file outside the layout; refusing to read it`);
    }
    return real;
  }
  async readFile(name: string, max: number): Promise<Buffer | undefined> {
    const real = await this.real(name);
    const st = real === undefined ? undefined : await stat(real).catch(() => undefined);
    if (!st || !st.isFile()) return undefined;
    const p = join(this.location, name);
    if (st.size > max) throw tooBig(p, st.size, max);
    return readFile(real!);
  }
  async blobSize(digest: string): Promise<number | undefined> {
    const real = await this.real(blobPath(digest));
    const st = real === undefined ? undefined : await stat(real).catch(() => undefined);
    return st?.isFile() ? st.size : undefined;
  }
  async readBlob(digest: string, max: number): Promise<Buffer> {
    const b = await this.readFile(blobPath(digest), max);
    if (!b) throw missingBlob(this.location, digest);
    return b;
  }
  async readBlobHead(digest: string, n: number): Promise<Buffer> {
    const real = await this.real(blobPath(digest));
    if (real === undefined) throw missingBlob(this.location, digest);
    const fh = await open(real, 'r');
    try {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  async openBlob(digest: string): Promise<Readable> {
    const real = await this.real(blobPath(digest));
    const st = real === undefined ? undefined : await stat(real).catch(() => undefined);
    if (!st?.isFile()) throw missingBlob(this.location, digest);
    return createReadStream(real!, { highWaterMark: 1 << 20 });
  }
  async close(): Promise<void> {}
}

/** An OCI layout stored inside a tar, read in place. */
export class TarStore implements BlobStore {
  readonly location: string;
  private closed = false;
  constructor(readonly tar: TarFile) {
    this.location = tar.path;
  }
  async readFile(name: string, max: number): Promise<Buffer | undefined> {
    if (!this.tar.has(name)) return undefined;
    return this.tar.readEntry(name, max);
  }
  async blobSize(digest: string): Promise<number | undefined> {
    const p = blobPath(digest);
    return this.tar.has(p) ? this.tar.sizeOf(p) : undefined;
  }
  async readBlob(digest: string, max: number): Promise<Buffer> {
    const b = await this.readFile(blobPath(digest), max);
    if (!b) throw missingBlob(this.location, digest);
    return b;
  }
  async readBlobHead(digest: string, n: number): Promise<Buffer> {
    return this.tar.readHead(blobPath(digest), n);
  }
  async openBlob(digest: string): Promise<Readable> {
    if (!this.tar.has(blobPath(digest))) throw missingBlob(this.location, digest);
    return this.tar.openEntry(blobPath(digest));
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tar.close();
  }
}

function missingBlob(location: string, digest: string): VouchError {
  return new VouchError('NOT_FOUND', `${location}: blob ${digest} is not in the layout`);
}

/** Read a small blob and verify it against its descriptor before anyone parses it. */
async function readVerified(store: BlobStore, d: Pick<Descriptor, 'digest' | 'size'>, what: string, max: number): Promise<Buffer> {
  if (d.size > max) throw tooBig(what, d.size, max);
  const size = await store.blobSize(d.digest);
  if (size === undefined) throw new VouchError('NOT_FOUND', `${what}: blob is not in ${store.location}`);
  if (size > max) throw tooBig(what, size, max);
  const bytes = await store.readBlob(d.digest, max);
  verifyBytes(bytes, d.digest, what, d.size >= 0 ? d.size : undefined);
  return bytes;
}

// ---------------------------------------------------------------------------
// Reference names

/**
 * Does an index entry's name annotation match what the user asked for? Exact
 * match, or — when the annotation holds a full reference (nerdctl, containerd
 * and Docker 25 write `docker.io/library/x:tag`) — the same reference after
 * docker's normalisation.
 */
export function refNameMatches(annotation: string, wanted: string): boolean {
  if (annotation === wanted) return true;
  const a = normalizeRef(annotation);
  const w = normalizeRef(wanted);
  return a !== undefined && a === w;
}

function normalizeRef(s: string): string | undefined {
  if (!/[/:]/.test(s) && !/^[a-z0-9]/.test(s)) return undefined;
  try {
    const r = parseDockerReference(s);
    return formatDockerReference(r);
  } catch {
    return undefined;
  }
}

function namesOf(d: Descriptor): string[] {
  const out: string[] = [];
  const a = d.annotations ?? {};
  if (typeof a[ANNOTATION_REF_NAME] === 'string') out.push(a[ANNOTATION_REF_NAME]);
  if (typeof a[ANNOTATION_CONTAINERD_NAME] === 'string') out.push(a[ANNOTATION_CONTAINERD_NAME]);
  return out;
}

function tagsOf(ds: Descriptor[]): string[] {
  return [...new Set(ds.map((d) => d.annotations?.[ANNOTATION_REF_NAME]).filter((s): s is string => typeof s === 'string'))];
}

// ---------------------------------------------------------------------------
// Resolution

export interface LayoutSelector {
  tag?: string;
  digest?: string;
}

/** The resolved image manifest, before its config is read. */
export interface ResolvedManifest {
  digest: string;
  /** The referring descriptor's media type when known, else the document's. */
  mediaType: string;
  bytes: Buffer;
  manifest: ImageManifest;
  descriptor: Descriptor;
  /** The tag that selected it (or the entry's ref.name), when any. */
  tag?: string;
  index?: { digest: string; mediaType: string; descriptor: Descriptor };
}

const MAX_INDEX_DEPTH = 8;

async function readTopIndex(store: BlobStore, kind: 'layout' | 'archive'): Promise<ImageIndex> {
  const code = kind === 'layout' ? 'INVALID_LAYOUT' : 'INVALID_ARCHIVE';
  const layoutBytes = await store.readFile('oci-layout', 64 << 10);
  if (!layoutBytes) throw new VouchError(code, `${store.location}: not an OCI image layout (no oci-layout file)`);
  parseOciLayoutFile(layoutBytes, `${store.location}: oci-layout`);
  const indexBytes = await store.readFile('index.json', MAX_METADATA_BYTES);
  if (!indexBytes) throw new VouchError(code, `${store.location}: not an OCI image layout (no index.json)`);
  return parseIndex(indexBytes, `${store.location}: index.json`, MediaType.OciIndex).index;
}

/** Every descriptor reachable through indexes (not through image manifests), with its parent index digest. */
type Parent = { digest: string; mediaType: string };
async function walkIndexes(store: BlobStore, top: ImageIndex): Promise<Array<{ d: Descriptor; parent?: Parent }>> {
  const out: Array<{ d: Descriptor; parent?: Parent }> = [];
  const seen = new Set<string>();
  const visit = async (idx: ImageIndex, parent: Parent | undefined, depth: number): Promise<void> => {
    for (const d of idx.manifests) {
      out.push(parent === undefined ? { d } : { d, parent });
      if (isIndexMediaType(d.mediaType) && depth < MAX_INDEX_DEPTH && !seen.has(d.digest) && (await store.blobSize(d.digest)) !== undefined) {
        seen.add(d.digest);
        const bytes = await readVerified(store, d, `index ${d.digest}`, MAX_MANIFEST_BYTES);
        const p = parseIndex(bytes, `index ${d.digest}`, d.mediaType);
        await visit(p.index, { digest: d.digest, mediaType: p.mediaType }, depth + 1);
      }
    }
  };
  await visit(top, undefined, 0);
  return out;
}

/**
 * From a descriptor that may name an image or an index, down to an image
 * manifest (indexes resolve by platform).
 */
async function toImageManifest(
  store: BlobStore,
  d: Descriptor,
  platform: Platform,
  depth: number,
  parent?: { digest: string; mediaType: string },
): Promise<ResolvedManifest> {
  if (depth > MAX_INDEX_DEPTH) throw new VouchError('INVALID_MANIFEST', `${store.location}: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
  const what = `manifest ${d.digest}`;
  const bytes = await readVerified(store, d, what, MAX_MANIFEST_BYTES);
  const known = isIndexMediaType(d.mediaType) || isImageManifestMediaType(d.mediaType);
  const parsed = parseManifest(bytes, what, known ? d.mediaType : undefined);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(parsed.index, platform, `index ${d.digest}`);
    return toImageManifest(store, chosen, platform, depth + 1, { digest: d.digest, mediaType: parsed.mediaType });
  }
  const r: ResolvedManifest = { digest: d.digest, mediaType: parsed.mediaType, bytes, manifest: parsed.manifest, descriptor: d };
  if (parent) r.index = { ...parent, descriptor: d };
  return r;
}

/** Resolve a selector to an image manifest in a layout-shaped store (no config read yet). */
export async function resolveLayoutManifest(
  store: BlobStore,
  sel: LayoutSelector,
  opts: OpenOptions = {},
  kind: 'layout' | 'archive' = 'layout',
): Promise<ResolvedManifest> {
  const top = await readTopIndex(store, kind);
  const platform = opts.platform ?? defaultPlatform();
  const loc = store.location;

  if (sel.digest !== undefined) {
    parseDigest(sel.digest, `${loc}: digest`);
    const all = await walkIndexes(store, top);
    const hit = all.find((x) => x.d.digest === sel.digest);
    let d: Descriptor | undefined = hit?.d;
    if (!d) {
      // Not listed in any index but present as a blob: still addressable by digest (go-containerregistry allows it).
      const size = await store.blobSize(sel.digest);
      if (size === undefined) throw new VouchError('NOT_FOUND', `${loc}: no manifest with digest ${sel.digest}`);
      d = { mediaType: 'application/octet-stream', digest: sel.digest, size };
    }
    const r = await toImageManifest(store, d, platform, 0, hit?.parent);
    const tag = d.annotations?.[ANNOTATION_REF_NAME];
    if (tag !== undefined) r.tag = tag;
    return r;
  }

  const entries = top.manifests.filter((d) => !isAttestationDescriptor(d));
  if (sel.tag !== undefined) {
    const wanted = sel.tag;
    let hits = entries.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] === wanted);
    if (hits.length === 0) hits = entries.filter((d) => namesOf(d).some((n) => refNameMatches(n, wanted)));
    if (hits.length === 0) {
      const tags = tagsOf(entries);
      throw new VouchError('NOT_FOUND', `${loc}: no image tagged ${JSON.stringify(wanted)}` + (tags.length ? ` (tags: ${tags.join(', ')})` : ' (the layout has no tags)'));
    }
    const r = await pick(store, hits, platform, loc, `tag ${JSON.stringify(wanted)}`);
    r.tag = wanted;
    return r;
  }
  if (entries.length === 0) throw new VouchError('NOT_FOUND', `${loc}: the layout's index.json lists no images`);
  // A `cosign save` layout lists the image beside its .sig/.att/.sbom manifests, each with cosign's
  // `kind` annotation: the image is the one it designates (as `vouch chain` reads such a layout).
  const designated = entries.filter((d) => COSIGN_IMAGE_KINDS.has(d.annotations?.kind ?? ''));
  const candidates = designated.length === 1 ? designated : entries;
  const r = await pick(store, candidates, platform, loc, 'no tag given');
  const tag = r.descriptor.annotations?.[ANNOTATION_REF_NAME] ?? (candidates.length === 1 ? candidates[0]!.annotations?.[ANNOTATION_REF_NAME] : undefined);
  if (tag !== undefined) r.tag = tag;
  return r;
}

/** cosign's `kind` annotation values for the image itself in a `cosign save` layout. */
const COSIGN_IMAGE_KINDS = new Set(['dev.cosignproject.cosign/image', 'dev.cosignproject.cosign/imageIndex']);

/**
 * One entry: that one. Several entries that are all platform-specific images
 * (an index.json used as a multi-platform index): pick by platform. Otherwise
 * the choice is the user's.
 */
async function pick(store: BlobStore, ds: Descriptor[], platform: Platform, loc: string, why: string): Promise<ResolvedManifest> {
  if (ds.length === 1) return toImageManifest(store, ds[0]!, platform, 0);
  if (ds.every((d) => d.platform !== undefined) && new Set(ds.map((d) => d.digest)).size === ds.length && tagsOf(ds).length <= 1) {
    const chosen = selectPlatform({ schemaVersion: 2, manifests: ds }, platform, `${loc}: index.json`);
    return toImageManifest(store, chosen, platform, 0);
  }
  const tags = tagsOf(ds);
  throw new VouchError(
    'AMBIGUOUS',
    `${loc}: ${ds.length} images and ${why}; choose one by tag or digest` +
      (tags.length ? ` (tags: ${tags.join(', ')})` : ` (digests: ${ds.map((d) => d.digest).join(', ')})`),
  );
}

// ---------------------------------------------------------------------------
// Building the Image

export interface SourceInfo {
  transport: Transport;
  reference: string;
  name: string;
}

/** Compression of a stored layer: the media type's word, else the magic bytes. */
async function layerCompression(store: BlobStore, d: Descriptor) {
  const fromType = compressionOfMediaType(d.mediaType);
  if (fromType) return fromType;
  if ((await store.blobSize(d.digest)) === undefined) return undefined;
  return sniffCompression(await store.readBlobHead(d.digest, 4));
}

/** A layer whose bytes come from a BlobStore, verified as they stream. */
export function storeLayer(
  store: BlobStore,
  d: Descriptor,
  diffId: string,
  compression: Layer['compression'],
  what: string,
  open?: () => Promise<Readable>,
  storedSize?: () => Promise<number | undefined>,
): Layer {
  const layer: Layer = {
    digest: d.digest,
    diffId,
    mediaType: d.mediaType,
    size: d.size,
    compression,
    async open() {
      const src = open ? await open() : await store.openBlob(d.digest);
      const verifier = new VerifyingStream(d.digest, what, d.size);
      // pipeline tears both down on error: a bad digest surfaces on the stream the caller reads.
      pipeline(src, verifier, () => undefined);
      return verifier;
    },
    storedSize: storedSize ?? (() => store.blobSize(d.digest)),
  };
  if (d.annotations) (layer as { annotations?: Record<string, string> }).annotations = d.annotations;
  if (d.urls?.length) (layer as { urls?: readonly string[] }).urls = d.urls;
  return layer;
}

/** Build the Image for a resolved manifest: read and verify the config, wire the layers. */
export async function imageFromManifest(store: BlobStore, r: ResolvedManifest, info: SourceInfo, synthesized = false): Promise<Image> {
  const m = r.manifest;
  if (!isImageConfigMediaType(m.config.mediaType)) {
    throw new VouchError(
      'UNSUPPORTED_MEDIA_TYPE',
      `manifest ${r.digest}: not a container image (config media type ${JSON.stringify(m.config.mediaType)}${m.artifactType ? `, artifact type ${JSON.stringify(m.artifactType)}` : ''})`,
    );
  }
  const configWhat = `config ${m.config.digest}`;
  const configBytes = await readVerified(store, m.config, configWhat, MAX_CONFIG_BYTES);
  const config = parseConfig(configBytes, configWhat);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== m.layers.length) {
    throw new VouchError('INVALID_CONFIG', `${configWhat}: rootfs.diff_ids lists ${diffIds.length} layers but manifest ${r.digest} has ${m.layers.length}`);
  }
  const layers: Layer[] = [];
  for (let i = 0; i < m.layers.length; i++) {
    const d = m.layers[i]!;
    layers.push(storeLayer(store, d, diffIds[i]!, await layerCompression(store, d), `layer ${i} ${d.digest}`));
  }
  const platform = configPlatform(config);
  const image: Image = {
    transport: info.transport,
    reference: info.reference,
    name: info.name,
    digest: r.digest,
    synthesizedManifest: synthesized,
    mediaType: r.mediaType,
    manifestBytes: r.bytes,
    manifest: m,
    configDigest: m.config.digest,
    configBytes,
    config,
    platform,
    layers,
    close: () => store.close(),
  };
  if (r.index) (image as { index?: Image['index'] }).index = r.index;
  return image;
}

/** Canonical `transport:/abs/path[:tag|@digest]` and a human name. */
export function describe(transport: Transport, abs: string, sel: LayoutSelector, resolvedTag?: string): { reference: string; name: string } {
  const suffix = sel.digest ? `@${sel.digest}` : sel.tag ? `:${sel.tag}` : resolvedTag ? `:${resolvedTag}` : '';
  const nameSuffix = sel.digest ? `@${sel.digest.slice(0, 19)}` : sel.tag ? `:${sel.tag}` : resolvedTag ? `:${resolvedTag}` : '';
  return { reference: `${transport}:${abs}${suffix}`, name: `${basename(abs)}${nameSuffix}` };
}

/** Shared by oci and oci-archive: resolve in a store, then build the Image. Closes the store on failure. */
export async function openLayoutStore(
  store: BlobStore,
  transport: Transport,
  abs: string,
  sel: LayoutSelector,
  opts: OpenOptions,
  kind: 'layout' | 'archive',
): Promise<Image> {
  try {
    const r = await resolveLayoutManifest(store, sel, opts, kind);
    return await imageFromManifest(store, r, { transport, ...describe(transport, abs, sel, r.tag) });
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Open an OCI image layout directory. */
export async function openLayout(path: string, sel: LayoutSelector = {}, opts: OpenOptions = {}): Promise<Image> {
  const abs = resolvePath(path);
  const st = await stat(abs).catch(() => undefined);
  if (!st) throw new VouchError('NOT_FOUND', `${abs}: no such directory`);
  if (!st.isDirectory()) throw new VouchError('INVALID_LAYOUT', `${abs}: an OCI layout is a directory (for a tar use oci-archive:)`);
  return openLayoutStore(new DirectoryStore(abs), 'oci', abs, sel, opts, 'layout');
}

/** Resolve a layout directory's manifest without requiring a container-image config (artifacts, helm charts). */
export async function inspectLayoutManifest(path: string, sel: LayoutSelector = {}, opts: OpenOptions = {}): Promise<ResolvedManifest> {
  return resolveLayoutManifest(new DirectoryStore(resolvePath(path)), sel, opts, 'layout');
}

/**
 * Blobs in a layout directory that nothing reachable from index.json refers
 * to (what go-containerregistry's GarbageCollect would delete). Missing blobs
 * are skipped, not errors: GC only reports what it finds on disk.
 */
export async function unreferencedBlobs(path: string): Promise<string[]> {
  const store = new DirectoryStore(resolvePath(path));
  const top = await readTopIndex(store, 'layout');
  const reachable = new Set<string>();
  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (reachable.has(d.digest) || depth > MAX_INDEX_DEPTH) return;
    reachable.add(d.digest);
    if ((await store.blobSize(d.digest)) === undefined) return;
    let bytes: Buffer;
    try {
      bytes = await readVerified(store, d, `blob ${d.digest}`, MAX_MANIFEST_BYTES);
    } catch {
      return; // not a manifest (too big) or not ours to judge here
    }
    let parsed;
    try {
      const known = isIndexMediaType(d.mediaType) || isImageManifestMediaType(d.mediaType);
      parsed = parseManifest(bytes, `blob ${d.digest}`, known ? d.mediaType : undefined);
    } catch {
      return;
    }
    if (parsed.kind === 'index') for (const c of parsed.index.manifests) await visit(c, depth + 1);
    else {
      reachable.add(parsed.manifest.config.digest);
      for (const l of parsed.manifest.layers) reachable.add(l.digest);
      if (parsed.manifest.subject) reachable.add(parsed.manifest.subject.digest);
    }
  };
  for (const d of top.manifests) await visit(d, 0);
  const out: string[] = [];
  const algs = await readdir(join(store.location, 'blobs')).catch(() => [] as string[]);
  for (const alg of algs) {
    for (const hex of await readdir(join(store.location, 'blobs', alg)).catch(() => [] as string[])) {
      const digest = `${alg}:${hex}`;
      if (!reachable.has(digest)) out.push(digest);
    }
  }
  return out.sort();
}
