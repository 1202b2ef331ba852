/**
 * Image archives read in place: oci-archive (an OCI layout in a tar) and
 * docker-archive (`docker save` in all its generations, kaniko's tarballs).
 *
 * oci-archive reuses the layout code over a TarStore. docker-archive reads
 * manifest.json; when the archive also carries an OCI layout whose manifest
 * has the chosen config (Docker 25+ saves), that stored manifest is used so
 * the digest is the image's real one. Otherwise (legacy saves, kaniko,
 * Docker 25 saves whose index.json lists nothing) a Docker v2 schema 2
 * manifest is synthesised from what the archive holds, and the Image says so.
 */
import { constants as fsConstants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { posix, resolve as resolvePath } from 'node:path';
import { createHash } from 'node:crypto';
import { VouchError } from '../errors.js';
import { digestOf, verifyBytes } from '../oci/digest.js';
import { MAX_CONFIG_BYTES, MAX_METADATA_BYTES, checkStructKeys, configPlatform, fieldSet, parseConfig, parseJsonBytes } from '../oci/manifest.js';
import { MediaType, sniffCompression, type Compression } from '../oci/mediatypes.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import type { Image, Layer, OpenOptions } from './image.js';
import {
  TarStore,
  describe,
  imageFromManifest,
  openLayoutStore,
  refNameMatches,
  resolveLayoutManifest,
  storeLayer,
  type LayoutSelector,
} from './layout.js';
import { TarFile } from './tarfile.js';

/** open.ts takes every file-based opener from here. */
export { openLayout } from './layout.js';

export type ArchiveKind = 'oci' | 'oci-archive' | 'docker-archive';

/** Open a file as an archive tar, with a clear word for compressed or non-tar files. */
async function openArchiveTar(abs: string): Promise<TarFile> {
  const st = await stat(abs).catch(() => undefined);
  if (!st) throw new VouchError('NOT_FOUND', `${abs}: no such file`);
  if (st.isDirectory()) throw new VouchError('INVALID_ARCHIVE', `${abs}: is a directory (for an OCI layout directory use oci:)`);
  // A FIFO would hang the open and a device (a symlink to /dev/zero) never ends: regular files only.
  if (!st.isFile()) throw new VouchError('INVALID_ARCHIVE', `${abs}: not a regular file (a FIFO, device or socket is never an image archive)`);
  const fh = await open(abs, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  const head = Buffer.alloc(4);
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  const c = sniffCompression(head);
  if (c !== 'none') {
    throw new VouchError('INVALID_ARCHIVE', `${abs}: ${c}-compressed archive; vouch reads archives in place, decompress it first`);
  }
  try {
    return await TarFile.open(abs);
  } catch (e) {
    if (e instanceof VouchError && e.code === 'INVALID_TAR') throw new VouchError('INVALID_ARCHIVE', `${abs}: not an image archive (${e.message.replace(`${abs}: `, '')})`);
    throw e;
  }
}

/**
 * What a path holds, judged by content: a layout directory, an OCI archive
 * or a docker-archive. Undefined when it is none of them (or unreadable).
 */
export async function detectArchiveKind(path: string): Promise<ArchiveKind | undefined> {
  const abs = resolvePath(path);
  const st = await stat(abs).catch(() => undefined);
  if (!st) return undefined;
  if (st.isDirectory()) {
    const has = async (n: string) => (await stat(posix.join(abs, n)).catch(() => undefined))?.isFile() === true;
    return (await has('oci-layout')) || (await has('index.json')) ? 'oci' : undefined;
  }
  let tar: TarFile;
  try {
    tar = await openArchiveTar(abs);
  } catch {
    return undefined;
  }
  try {
    if (tar.has('manifest.json')) return 'docker-archive';
    if (tar.has('index.json') && tar.has('oci-layout')) return 'oci-archive';
    return undefined;
  } catch {
    return undefined; // hostile links: let the opener, not the sniffer, explain
  } finally {
    await tar.close();
  }
}

/** Open an oci-archive: an OCI image layout inside a tar. */
export async function openOciArchive(path: string, sel: LayoutSelector = {}, opts: OpenOptions = {}): Promise<Image> {
  const abs = resolvePath(path);
  const tar = await openArchiveTar(abs);
  if (!tar.has('index.json')) {
    await tar.close();
    throw new VouchError('INVALID_ARCHIVE', `${abs}: not an OCI archive (no index.json${tar.has('manifest.json') ? '; it has manifest.json: use docker-archive:' : ''})`);
  }
  return openLayoutStore(new TarStore(tar), 'oci-archive', abs, sel, opts, 'archive');
}

// ---------------------------------------------------------------------------
// docker-archive

interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** moby's tarexport manifestItem. */
const DOCKER_ARCHIVE_FIELDS = fieldSet('Config', 'RepoTags', 'Layers', 'Parent', 'LayerSources');

function parseDockerManifestJson(bytes: Buffer, abs: string): DockerArchiveEntry[] {
  const what = `${abs}: manifest.json`;
  const v = parseJsonBytes(bytes, what, 'INVALID_ARCHIVE', MAX_METADATA_BYTES);
  if (v === null) throw new VouchError('INVALID_ARCHIVE', `${what}: is null, not a list of images`);
  if (!Array.isArray(v)) throw new VouchError('INVALID_ARCHIVE', `${what}: expected a list of images`);
  if (v.length === 0) throw new VouchError('INVALID_ARCHIVE', `${what}: lists no images`);
  return v.map((e: unknown, i) => {
    const p = `${what}: [${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new VouchError('INVALID_ARCHIVE', `${p}: expected an object`);
    const o = e as Record<string, unknown>;
    // docker load decodes this with Go's case-insensitive field matching: "config" would be its Config.
    checkStructKeys(o, DOCKER_ARCHIVE_FIELDS, what, `[${i}]`, 'INVALID_ARCHIVE');
    if (typeof o.Config !== 'string') throw new VouchError('INVALID_ARCHIVE', `${p}.Config: expected a string`);
    if (!Array.isArray(o.Layers) || o.Layers.some((l) => typeof l !== 'string')) throw new VouchError('INVALID_ARCHIVE', `${p}.Layers: expected a list of strings`);
    const tags = o.RepoTags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) throw new VouchError('INVALID_ARCHIVE', `${p}.RepoTags: expected a list of strings`);
    return { Config: o.Config, RepoTags: tags as string[], Layers: o.Layers as string[] };
  });
}

/** Choose the image by tag, with docker's normalisation (`x` = `x:latest` = `docker.io/library/x:latest`). */
function chooseEntry(entries: DockerArchiveEntry[], tag: string | undefined, abs: string): DockerArchiveEntry {
  const allTags = entries.flatMap((e) => e.RepoTags);
  if (tag === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new VouchError(
      'AMBIGUOUS',
      `${abs}: the archive holds ${entries.length} images; choose one with docker-archive:${abs}:TAG` + (allTags.length ? ` (tags: ${allTags.join(', ')})` : ''),
    );
  }
  const hits = entries.filter((e) => e.RepoTags.some((t) => refNameMatches(t, tag)));
  if (hits.length === 0) {
    throw new VouchError('NOT_FOUND', `${abs}: no image tagged ${JSON.stringify(tag)}` + (allTags.length ? ` (tags: ${allTags.join(', ')})` : ' (the archive has no tags)'));
  }
  return hits[0]!;
}

/** A digest a file name states: `<hex>.json`, `sha256:<hex>`, `blobs/sha256/<hex>`, `<hex>.tar.gz`. */
function digestFromName(name: string): string | undefined {
  const m = /^(?:sha256:)?([a-f0-9]{64})(?:\.json|\.tar|\.tar\.gz|\.tgz|\.tar\.zst)?$/.exec(posix.basename(name));
  return m ? `sha256:${m[1]}` : undefined;
}

async function hashMember(tar: TarFile, name: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of tar.openEntry(name)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

const LAYER_TYPE: Record<Compression, string> = {
  gzip: MediaType.DockerLayerGzip,
  zstd: MediaType.DockerLayerZstd,
  none: MediaType.DockerLayer,
};

/** Canonical JSON of the synthesised manifest: fixed key order, no whitespace, so its digest is stable. */
function canonicalManifest(config: Descriptor, layers: Descriptor[]): Buffer {
  const d = (x: Descriptor) => ({ mediaType: x.mediaType, size: x.size, digest: x.digest });
  const m = { schemaVersion: 2, mediaType: MediaType.DockerManifest, config: d(config), layers: layers.map(d) };
  return Buffer.from(JSON.stringify(m));
}

/**
 * Open a docker-archive (`docker save`, Docker 25+ hybrid saves, kaniko).
 * A tar with only an OCI layout in it is read as the oci-archive it is.
 */
export async function openDockerArchive(path: string, sel: { tag?: string } = {}, opts: OpenOptions = {}): Promise<Image> {
  const abs = resolvePath(path);
  const tar = await openArchiveTar(abs);
  try {
    if (!tar.has('manifest.json')) {
      if (tar.has('index.json')) return await openLayoutStore(new TarStore(tar), 'oci-archive', abs, sel.tag === undefined ? {} : { tag: sel.tag }, opts, 'archive');
      throw new VouchError('INVALID_ARCHIVE', `${abs}: not an image archive (no manifest.json or index.json)`);
    }
    const entries = parseDockerManifestJson(await tar.readEntry('manifest.json', MAX_METADATA_BYTES), abs);
    const entry = chooseEntry(entries, sel.tag, abs);
    const { reference, name: fallbackName } = describe('docker-archive', abs, sel.tag === undefined ? {} : { tag: sel.tag });
    const name = (sel.tag === undefined ? undefined : entry.RepoTags.find((t) => refNameMatches(t, sel.tag!))) ?? entry.RepoTags[0] ?? fallbackName;
    const info = { transport: 'docker-archive' as const, reference, name };

    // Config: verified against the digest its name states, when it states one.
    if (!tar.has(entry.Config)) throw new VouchError('INVALID_ARCHIVE', `${abs}: config ${JSON.stringify(entry.Config)} named by manifest.json is missing`);
    const configBytes = await tar.readEntry(entry.Config, MAX_CONFIG_BYTES);
    const named = digestFromName(entry.Config);
    if (named) verifyBytes(configBytes, named, `config ${named} (${entry.Config})`);
    const configDigest = named ?? digestOf(configBytes);

    const stored = await storedManifest(tar, configDigest, opts);
    if (stored) return await imageFromManifest(new TarStore(tar), stored, info);

    const config = parseConfig(configBytes, `config ${configDigest}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== entry.Layers.length) {
      throw new VouchError('INVALID_ARCHIVE', `${abs}: manifest.json lists ${entry.Layers.length} layers but config ${configDigest} has ${diffIds.length} diff_ids`);
    }
    const store = new TarStore(tar);
    const descs: Descriptor[] = [];
    const layers: Layer[] = [];
    for (let i = 0; i < entry.Layers.length; i++) {
      const file = entry.Layers[i]!;
      if (!tar.has(file)) throw new VouchError('INVALID_ARCHIVE', `${abs}: layer ${i} file ${JSON.stringify(file)} is missing`);
      const size = tar.sizeOf(file);
      const compression = sniffCompression(await tar.readHead(file, 4));
      // The digest of the stored file: stated by its name, or — for an
      // uncompressed tar — the diffId by definition; only otherwise hash it now.
      // Either way the bytes are verified against it when streamed.
      const digest = digestFromName(file) ?? (compression === 'none' ? diffIds[i]! : await hashMember(tar, file));
      const d: Descriptor = { mediaType: LAYER_TYPE[compression], size, digest };
      descs.push(d);
      layers.push(storeLayer(store, d, diffIds[i]!, compression, `layer ${i} ${digest} (${file})`, async () => tar.openEntry(file), async () => (tar.has(file) ? tar.sizeOf(file) : undefined)));
    }
    const configDesc: Descriptor = { mediaType: MediaType.DockerConfig, size: configBytes.length, digest: configDigest };
    const manifestBytes = canonicalManifest(configDesc, descs);
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
    const platform = configPlatform(config);
    return {
      ...info,
      digest: digestOf(manifestBytes),
      synthesizedManifest: true,
      mediaType: MediaType.DockerManifest,
      manifestBytes,
      manifest,
      configDigest,
      configBytes,
      config,
      platform,
      layers,
      close: () => store.close(),
    };
  } catch (e) {
    await tar.close();
    throw e;
  }
}

/**
 * Docker 25+ saves carry the image's real OCI manifest next to manifest.json.
 * Find the one whose config is the chosen entry's; undefined when the
 * archive has no usable layout (legacy saves, `manifests: null`).
 */
async function storedManifest(tar: TarFile, configDigest: string, opts: OpenOptions) {
  if (!tar.has('index.json') || !tar.has('oci-layout')) return undefined;
  const raw = parseJsonBytes(await tar.readEntry('index.json', MAX_METADATA_BYTES), `${tar.path}: index.json`, 'INVALID_ARCHIVE');
  const list = (raw as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const store = new TarStore(tar);
  for (const d of list as Array<{ digest?: unknown }>) {
    if (typeof d?.digest !== 'string') continue;
    let r;
    try {
      r = await resolveLayoutManifest(store, { digest: d.digest }, opts, 'archive');
    } catch (e) {
      // Tampering is never skipped over; anything else just means "not this one".
      if (e instanceof VouchError && (e.code === 'DIGEST_MISMATCH' || e.code === 'SIZE_MISMATCH')) throw e;
      continue;
    }
    if (r.manifest.config.digest === configDigest) return r;
  }
  return undefined;
}
