/**
 * The one small image interface every source implements (as go-containerregistry
 * does with v1.Image / v1.Layer). Everything above sources/ works on this and
 * never on a concrete source.
 */
import type { Readable } from 'node:stream';
import type { Compression } from '../oci/mediatypes.js';
import type { Descriptor, ImageConfig, ImageManifest, Platform } from '../oci/types.js';
import type { ReferencePins } from './pins.js';

export type Transport = 'docker' | 'oci' | 'oci-archive' | 'docker-archive' | 'docker-daemon';

export interface Layer {
  /** Blob digest as the manifest names it (of the stored, possibly compressed bytes). */
  readonly digest: string;
  /** Digest of the uncompressed tar, from the config's rootfs.diff_ids. */
  readonly diffId: string;
  readonly mediaType: string;
  /** Stored (compressed) size in bytes, from the manifest. */
  readonly size: number;
  /** Compression as declared by the media type, or sniffed when the type is silent. */
  readonly compression: Compression | undefined;
  readonly annotations?: Record<string, string>;
  /** The descriptor's `urls`: a foreign (non-distributable) layer whose blob may live only there. Never fetched by vouch. */
  readonly urls?: readonly string[];
  /**
   * The stored bytes, verified against `digest` and `size` as they stream: the
   * stream errors (DigestMismatchError / SizeMismatchError) instead of ending
   * when they are wrong.
   */
  open(): Promise<Readable>;
  /**
   * Where the blob comes from over the network ("registry/repository"), when it does: reading it again costs a
   * download whose pace the registry sets, so a layer that fails to decompress is not re-read to name a digest mismatch.
   */
  readonly remote?: string;
  /**
   * Size of the stored blob as the source holds it now, without reading it
   * (a stat, an index lookup, a HEAD request); undefined when the source no
   * longer has the blob. Lets a cached analysis check that the source still
   * holds the image's bytes.
   */
  storedSize?(): Promise<number | undefined>;
}

export interface Image {
  /** The transport the bytes came from. */
  readonly transport: Transport;
  /** The reference as the user wrote it (after resolution, in canonical transport:form). */
  readonly reference: string;
  /** A human name: repository, file or directory, plus tag when known. */
  readonly name: string;
  /** Manifest digest. For sources that have no stored manifest (legacy docker save, daemon), the digest of the manifest we synthesise from what the source carries. */
  readonly digest: string;
  /** True when `digest` is of a manifest vouch synthesised, not one the source stored. */
  readonly synthesizedManifest: boolean;
  readonly mediaType: string;
  readonly manifestBytes: Buffer;
  readonly manifest: ImageManifest;
  readonly configDigest: string;
  readonly configBytes: Buffer;
  readonly config: ImageConfig;
  readonly platform: Platform;
  /** When the image was picked from an index / manifest list. */
  readonly index?: { digest: string; mediaType: string; descriptor: Descriptor };
  readonly layers: readonly Layer[];
  /** Release file handles, temp files, connections. Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Wanted platform for indexes; default: the host's (like docker). */
  platform?: Platform;
  /** Registries (host[:port]) that may be reached over plain HTTP. */
  insecureRegistries?: string[];
  /** Abort long operations. */
  signal?: AbortSignal;
  /** Tags resolved so far in this run: a tag is looked up once, then read by its pinned digest. */
  pins?: ReferencePins;
}
