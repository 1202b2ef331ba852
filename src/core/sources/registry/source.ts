/**
 * The registry as an image source: resolve a docker:// reference to one image
 * manifest (through an index when there is one), verify everything, and hand
 * out layers that stream from the registry and verify as they go.
 */
import { VouchError } from '../../errors.js';
import {
  configPlatform,
  defaultPlatform,
  formatPlatform,
  isImageConfigMediaType,
  MAX_CONFIG_BYTES,
  normalizePlatform,
  parseConfig,
  parseManifest,
  selectPlatform,
} from '../../oci/manifest.js';
import { compressionOfMediaType, isImageManifestMediaType, isIndexMediaType, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../../oci/types.js';
import type { DockerReference } from '../../ref/types.js';
import { sanitizeLine } from '../../util/sanitize.js';
import type { Image, Layer, OpenOptions } from '../image.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import type { CredentialProvider } from './credentials.js';
import type { RetryPolicy } from './http.js';
/** Indexes may nest (an index of indexes); docker follows a few levels, never a cycle. */
const MAX_INDEX_DEPTH = 4;

export interface RegistryOpenOptions extends OpenOptions {
  /** Reuse a client (and its token cache), e.g. across the images of one release. */
  client?: RegistryClient;
  credentials?: CredentialProvider;
  retry?: Partial<RetryPolicy>;
}

/** "docker://reg/repo:tag@sha256:…": the tag as asked, the digest of the image manifest actually read. */
export function canonicalReference(ref: DockerReference, digest: string): string {
  return `docker://${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}@${digest}`;
}

/**
 * The registry's Content-Type as a hint for parseManifest: only a manifest type
 * counts. Registries that send nothing, application/json or text/plain leave
 * the document (its own mediaType, else its shape) to decide, as containers/image does.
 */
function contentTypeHint(contentType: string): string | undefined {
  const schema1 = contentType === MediaType.DockerManifestSchema1 || contentType === MediaType.DockerManifestSchema1Signed;
  return schema1 || isImageManifestMediaType(contentType) || isIndexMediaType(contentType) ? contentType : undefined;
}

function sameOsArch(a: Platform, b: Platform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return x.os === y.os && x.architecture === y.architecture;
}

export async function openRegistryImage(ref: DockerReference, opts: RegistryOpenOptions = {}): Promise<Image> {
  const clientOpts: RegistryClientOptions = {
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const client = opts.client ?? new RegistryClient(ref.registry, clientOpts);
  const repo = ref.repository;
  // A pinned digest wins over the tag (the tag is then informational), as in docker.
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const display = `${ref.registry}/${repo}${ref.digest ? `@${ref.digest}` : `:${reference}`}`;

  // A tag already resolved in this run is read by its pinned digest (verified against the bytes by the client).
  const pinName = ref.digest ? undefined : `${ref.registry}/${repo}:${reference}`;
  const pinned = pinName ? opts.pins?.get(pinName) : undefined;
  let fetched = await client.getManifest(repo, pinned ?? reference);
  if (pinName) opts.pins?.record(pinName, fetched.digest);
  let parsed = parseManifest(fetched.bytes, `manifest ${display}`, contentTypeHint(fetched.contentType));
  let picked: Image['index'];
  const want: Platform = opts.platform ?? defaultPlatform();
  for (let depth = 0; parsed.kind === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH) throw new VouchError('INVALID_MANIFEST', `manifest ${display}: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
    const index: ImageIndex = parsed.index;
    const descriptor = selectPlatform(index, want, `index ${display}`);
    // The outermost index is the one the user's reference names; remember it, with the descriptor that led to the image.
    picked = { digest: picked?.digest ?? fetched.digest, mediaType: picked?.mediaType ?? parsed.mediaType, descriptor };
    fetched = await client.getManifest(repo, descriptor.digest);
    if (fetched.bytes.length !== descriptor.size) {
      throw new VouchError('SIZE_MISMATCH', `manifest ${ref.registry}/${repo}@${descriptor.digest}: size mismatch: index says ${descriptor.size} bytes, got ${fetched.bytes.length}`);
    }
    // The index's descriptor (digest-verified) says what the child is, over the Content-Type (as in oci/layout).
    parsed = parseManifest(fetched.bytes, `manifest ${ref.registry}/${repo}@${descriptor.digest}`, descriptor.mediaType);
  }
  const manifest: ImageManifest = parsed.manifest;
  const manifestDigest = fetched.digest;
  const what = `${ref.registry}/${repo}@${manifestDigest}`;

  const configDesc: Descriptor = manifest.config;
  if (!isImageConfigMediaType(configDesc.mediaType)) {
    throw new VouchError(
      'UNSUPPORTED_MEDIA_TYPE',
      `${what}: not a container image (config media type ${JSON.stringify(sanitizeLine(configDesc.mediaType.slice(0, 100)))})`,
    );
  }
  const configBytes = await client.fetchBlob(repo, configDesc.digest, { size: configDesc.size, maxBytes: MAX_CONFIG_BYTES });
  const config = parseConfig(configBytes, `config ${configDesc.digest} of ${what}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new VouchError('INVALID_CONFIG', `config ${configDesc.digest} of ${what}: rootfs.diff_ids has ${diffIds.length} entries for ${manifest.layers.length} layers`);
  }
  if (picked?.descriptor.platform && !sameOsArch(picked.descriptor.platform, config)) {
    // An index that lies about its images' platforms is worth refusing: the review would be of the wrong binary.
    throw new VouchError('INVALID_MANIFEST', `${what}: index says ${formatPlatform(picked.descriptor.platform)} but the config says ${formatPlatform({ os: config.os, architecture: config.architecture })}`);
  }

  const layers: Layer[] = manifest.layers.map((d, i) => ({
    digest: d.digest,
    diffId: diffIds[i]!,
    mediaType: d.mediaType,
    size: d.size,
    compression: compressionOfMediaType(d.mediaType),
    ...(d.annotations ? { annotations: d.annotations } : {}),
    ...(d.urls?.length ? { urls: d.urls } : {}),
    open: () => client.openBlob(repo, d.digest, d.size),
    remote: client.name(repo),
    storedSize: () => client.blobSize(repo, d.digest),
  }));

  return {
    transport: 'docker',
    reference: canonicalReference(ref, manifestDigest),
    name: `${ref.registry}/${repo}${ref.tag ? `:${ref.tag}` : ''}`,
    digest: manifestDigest,
    synthesizedManifest: false,
    mediaType: parsed.mediaType,
    manifestBytes: fetched.bytes,
    manifest,
    configDigest: configDesc.digest,
    configBytes,
    config,
    platform: configPlatform(config),
    ...(picked ? { index: picked } : {}),
    layers,
    // Connections are pooled by fetch; there is nothing of ours to release.
    close: async () => {},
  };
}
