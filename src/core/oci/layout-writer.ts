/**
 * Writes an OCI image layout directory (oci-layout, index.json, blobs/sha256/…)
 * for one image: layers streamed from a tar source (gzip or uncompressed) with
 * blob digest and diffId computed in the same single pass, then config and
 * manifest. Everything is written into a temporary sibling directory that is
 * renamed into place by `finish()`, so a reader never sees half a layout.
 *
 * Deterministic: the same layers, options and `created` give the same bytes
 * (JSON is built with a fixed key order; gzip uses a fixed level and carries no
 * timestamp; the gzip *bytes* are those of the zlib Node ships with).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zc, createGzip } from 'node:zlib';
import { VouchError } from '../errors.js';
import { digestOf } from './digest.js';
import { MediaType } from './mediatypes.js';
import type { ContainerConfig, Descriptor, HistoryEntry, ImageConfig, ImageIndex, ImageManifest } from './types.js';
import { pathExists } from '../util/fs.js';

export interface LayerOptions {
  /** Default 'gzip'. */
  compression?: 'gzip' | 'none';
  /** zlib level 0–9 for gzip; default 6 (what docker and containerd use). */
  gzipLevel?: number;
  /** History entry for this layer. */
  createdBy?: string;
  comment?: string;
  /** RFC 3339; default: the image's `created`. */
  created?: string;
  annotations?: Record<string, string>;
}

export interface AddedLayer {
  /** Blob digest (of the stored bytes). */
  digest: string;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  mediaType: string;
  /** Stored size. */
  size: number;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
  annotations?: Record<string, string>;
}

export interface ImageOptions {
  /** Tags, written as `org.opencontainers.image.ref.name` on the index entry. */
  tags?: string[];
  /** RFC 3339, used for config.created, history entries without their own, and the `created` label. */
  created: string;
  architecture?: string;
  os?: string;
  variant?: string;
  author?: string;
  /** The container config (User, Env, Cmd, ExposedPorts, WorkingDir, …). Labels merge with `labels`. */
  config?: ContainerConfig;
  /** Image labels (config.Labels). */
  labels?: Record<string, string>;
  /** Convenience for the OCI traceability labels. */
  source?: string;
  revision?: string;
  /** Also put the OCI labels into the manifest annotations (as buildkit can). Default true. */
  annotateManifest?: boolean;
  /** Extra manifest annotations. */
  manifestAnnotations?: Record<string, string>;
}

export interface WrittenImage {
  /** The final layout directory. */
  dir: string;
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  layers: AddedLayer[];
  tags: string[];
}

export interface LayoutWriterOptions {
  /** When the target exists: 'error' (default) or 'replace' it (atomically swapped out, then removed). */
  ifExists?: 'error' | 'replace';
}

const OCI_LABEL_SOURCE = 'org.opencontainers.image.source';
const OCI_LABEL_REVISION = 'org.opencontainers.image.revision';
const OCI_LABEL_CREATED = 'org.opencontainers.image.created';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** Hashes what passes through and counts bytes, without copying. */
class HashTap extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor() {
    super({ highWaterMark: 1 << 20 });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

type LayerSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable | Uint8Array;

function toReadable(src: LayerSource): Readable {
  if (src instanceof Readable) return src;
  if (src instanceof Uint8Array) return Readable.from([Buffer.from(src.buffer, src.byteOffset, src.byteLength)], { objectMode: false });
  return Readable.from(src as AsyncIterable<Uint8Array>, { objectMode: false, highWaterMark: 1 << 20 });
}

export class OciLayoutWriter {
  readonly dir: string;
  private readonly tmp: string;
  private readonly ifExists: 'error' | 'replace';
  private readonly layerSlots: (AddedLayer | undefined)[] = [];
  private readonly history: { entry: Omit<HistoryEntry, 'created'> & { created?: string }; layer: boolean }[] = [];
  private state: 'open' | 'finished' | 'aborted' = 'open';
  private tmpCounter = 0;

  private constructor(dir: string, tmp: string, ifExists: 'error' | 'replace') {
    this.dir = dir;
    this.tmp = tmp;
    this.ifExists = ifExists;
  }

  /** Start a layout that will appear at `dir` when `finish()` succeeds. */
  static async create(dir: string, opts: LayoutWriterOptions = {}): Promise<OciLayoutWriter> {
    const ifExists = opts.ifExists ?? 'error';
    if (ifExists === 'error' && (await pathExists(dir))) {
      throw new VouchError('INVALID_LAYOUT', `${dir}: already exists`);
    }
    await mkdir(dirname(dir), { recursive: true });
    const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(join(tmp, 'blobs', 'sha256'), { recursive: true });
    return new OciLayoutWriter(dir, tmp, ifExists);
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new VouchError('INVALID_LAYOUT', `${this.dir}: layout writer is ${this.state}`);
  }

  /**
   * Add a layer from a tar stream. The layer's place in the manifest (and its
   * history entry) is fixed when this is called, so several layers may be
   * written concurrently and still come out in call order.
   */
  async addLayer(source: LayerSource, opts: LayerOptions = {}): Promise<AddedLayer> {
    this.checkOpen();
    const slot = this.layerSlots.length;
    this.layerSlots.push(undefined);
    this.history.push({
      entry: {
        ...(opts.created !== undefined ? { created: opts.created } : {}),
        ...(opts.createdBy !== undefined ? { created_by: opts.createdBy } : {}),
        ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
      },
      layer: true,
    });
    const compression = opts.compression ?? 'gzip';
    const diffTap = new HashTap();
    const blobTap = new HashTap();
    const partial = join(this.tmp, 'blobs', `.partial-${this.tmpCounter++}`);
    const stages: (Readable | Transform | Writable)[] = [toReadable(source), diffTap];
    if (compression === 'gzip') {
      const level = opts.gzipLevel ?? 6;
      stages.push(createGzip({ level, memLevel: 8, strategy: zc.Z_DEFAULT_STRATEGY, chunkSize: 1 << 18 }));
      stages.push(blobTap);
    }
    stages.push(createWriteStream(partial, { highWaterMark: 1 << 20 }));
    await pipeline(stages as unknown as [Readable, Writable]);
    const diffId = `sha256:${diffTap.hash.digest('hex')}`;
    const digest = compression === 'gzip' ? `sha256:${blobTap.hash.digest('hex')}` : diffId;
    const size = compression === 'gzip' ? blobTap.bytes : diffTap.bytes;
    await rename(partial, this.blobPath(digest));
    const layer: AddedLayer = {
      digest,
      diffId,
      mediaType: compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer,
      size,
      uncompressedSize: diffTap.bytes,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    };
    this.layerSlots[slot] = layer;
    return layer;
  }

  /** A history entry that adds no layer (ENV, USER, CMD, LABEL…), in call order with the layers. */
  addEmptyHistory(createdBy: string, opts: { created?: string; comment?: string } = {}): void {
    this.checkOpen();
    this.history.push({
      entry: {
        ...(opts.created !== undefined ? { created: opts.created } : {}),
        created_by: createdBy,
        ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
        empty_layer: true,
      },
      layer: false,
    });
  }

  /** Store an arbitrary blob; returns its descriptor. */
  async addBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    this.checkOpen();
    const digest = digestOf(bytes);
    await writeFile(this.blobPath(digest), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  private blobPath(digest: string): string {
    return join(this.tmp, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  /** Write config, manifest, index.json and oci-layout, then move the layout into place. */
  async finish(image: ImageOptions): Promise<WrittenImage> {
    this.checkOpen();
    const layers = this.layerSlots.map((l, i) => {
      if (!l) throw new VouchError('INVALID_LAYOUT', `${this.dir}: layer ${i} was not finished before finish()`);
      return l;
    });
    try {
      const labels: Record<string, string> = { ...(image.config?.Labels ?? {}), ...(image.labels ?? {}) };
      if (image.source !== undefined) labels[OCI_LABEL_SOURCE] = image.source;
      if (image.revision !== undefined) labels[OCI_LABEL_REVISION] = image.revision;
      labels[OCI_LABEL_CREATED] ??= image.created;
      const sortedLabels = sortKeys(labels);

      const containerConfig: ContainerConfig = { ...(image.config ?? {}) };
      if (Object.keys(sortedLabels).length > 0) containerConfig.Labels = sortedLabels;
      if (containerConfig.ExposedPorts) containerConfig.ExposedPorts = sortKeys(containerConfig.ExposedPorts);

      const config: ImageConfig = {
        created: image.created,
        ...(image.author !== undefined ? { author: image.author } : {}),
        architecture: image.architecture ?? 'amd64',
        os: image.os ?? 'linux',
        ...(image.variant !== undefined ? { variant: image.variant } : {}),
        config: containerConfig,
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: this.history.map(({ entry }) => ({ created: entry.created ?? image.created, ...entry })),
      };
      const configBytes = Buffer.from(JSON.stringify(config));
      const configDesc = await this.addBlob(configBytes, MediaType.OciConfig);

      const annotations: Record<string, string> = {};
      if (image.annotateManifest ?? true) {
        if (image.source !== undefined) annotations[OCI_LABEL_SOURCE] = image.source;
        if (image.revision !== undefined) annotations[OCI_LABEL_REVISION] = image.revision;
        annotations[OCI_LABEL_CREATED] = labels[OCI_LABEL_CREATED]!;
      }
      Object.assign(annotations, image.manifestAnnotations ?? {});
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: configDesc,
        layers: layers.map((l) => {
          const d: Descriptor = { mediaType: l.mediaType, digest: l.digest, size: l.size };
          if (l.annotations) d.annotations = l.annotations;
          return d;
        }),
        ...(Object.keys(annotations).length > 0 ? { annotations: sortKeys(annotations) } : {}),
      };
      const manifestBytes = Buffer.from(JSON.stringify(manifest));
      const manifestDesc = await this.addBlob(manifestBytes, MediaType.OciManifest);

      const tags = image.tags ?? [];
      const index: ImageIndex = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests:
          tags.length === 0
            ? [manifestDesc]
            : tags.map((t) => ({ ...manifestDesc, annotations: { [REF_NAME_ANNOTATION]: t } })),
      };
      await writeFile(join(this.tmp, 'index.json'), JSON.stringify(index));
      await writeFile(join(this.tmp, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

      await this.moveIntoPlace();
      this.state = 'finished';
      return {
        dir: this.dir,
        manifestDigest: manifestDesc.digest,
        manifestSize: manifestDesc.size,
        configDigest: configDesc.digest,
        layers,
        tags,
      };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  private async moveIntoPlace(): Promise<void> {
    try {
      await rename(this.tmp, this.dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (this.ifExists !== 'replace' || (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR')) {
        throw new VouchError('INVALID_LAYOUT', `${this.dir}: cannot move layout into place: ${(e as Error).message}`, { cause: e });
      }
    }
    // Swap: move the old one aside (atomic), move ours in (atomic), then delete the old one.
    const aside = `${this.tmp}.old`;
    await rename(this.dir, aside);
    await rename(this.tmp, this.dir);
    await rm(aside, { recursive: true, force: true });
  }

  /** Remove everything written so far. Safe to call twice. */
  async abort(): Promise<void> {
    if (this.state === 'finished') return;
    this.state = 'aborted';
    await rm(this.tmp, { recursive: true, force: true });
  }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}


/**
 * Check a layout written by anyone: every blob referenced from index.json
 * (recursively through indexes and manifests) exists, has the declared size
 * and hashes to its name. Returns the number of blobs checked. Meant for
 * small layouts (tests, the demo image); it reads whole blobs.
 */
export async function verifyLayoutBlobs(dir: string): Promise<number> {
  const seen = new Set<string>();
  const readBlob = async (d: Descriptor): Promise<Buffer> => {
    const m = /^sha256:([a-f0-9]{64})$/.exec(d.digest);
    if (!m) throw new VouchError('INVALID_LAYOUT', `${dir}: unsupported digest ${d.digest}`);
    const bytes = await readFile(join(dir, 'blobs', 'sha256', m[1]!));
    if (bytes.length !== d.size) throw new VouchError('SIZE_MISMATCH', `${dir}: blob ${d.digest}: size ${bytes.length}, descriptor says ${d.size}`);
    const actual = digestOf(bytes);
    if (actual !== d.digest) throw new VouchError('DIGEST_MISMATCH', `${dir}: blob ${d.digest} hashes to ${actual}`);
    seen.add(d.digest);
    return bytes;
  };
  const walk = async (d: Descriptor): Promise<void> => {
    const bytes = await readBlob(d);
    if (d.mediaType === MediaType.OciIndex || d.mediaType === MediaType.DockerManifestList) {
      const idx = JSON.parse(bytes.toString('utf8')) as ImageIndex;
      for (const m of idx.manifests ?? []) await walk(m);
    } else if (d.mediaType === MediaType.OciManifest || d.mediaType === MediaType.DockerManifest) {
      const man = JSON.parse(bytes.toString('utf8')) as ImageManifest;
      await readBlob(man.config);
      for (const l of man.layers) await readBlob(l);
    }
  };
  const layout = JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')) as { imageLayoutVersion?: string };
  if (layout.imageLayoutVersion !== '1.0.0') throw new VouchError('INVALID_LAYOUT', `${dir}: oci-layout version ${String(layout.imageLayoutVersion)}`);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  for (const m of index.manifests ?? []) await walk(m);
  return seen.size;
}
