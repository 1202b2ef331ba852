/** Media types we read, as the OCI image spec and Docker's v2 schema 2 name them. */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifestSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerManifestSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.OciIndex || mt === MediaType.DockerManifestList;
}

export function isImageManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.OciManifest || mt === MediaType.DockerManifest;
}

/** The Accept header a registry client sends for manifests (schema 1 deliberately absent). */
export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifestList, MediaType.DockerManifest].join(', ');

export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * Compression named by a layer media type; undefined when the type does not say
 * (e.g. the custom `application/tar+gzip`, or unknown types) so that callers
 * can sniff the magic bytes instead.
 */
export function compressionOfMediaType(mt: string): Compression | undefined {
  if (/(\+|\.)gzip$/.test(mt)) return 'gzip';
  if (/(\+|\.)zstd$/.test(mt)) return 'zstd';
  if (/\.tar$/.test(mt) || mt === 'application/x-tar') return 'none';
  return undefined;
}

/** Sniff compression from the first bytes of a blob. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}
