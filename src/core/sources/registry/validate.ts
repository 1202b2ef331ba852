/**
 * Minimal structural validation of the manifest documents a registry serves:
 * enough that everything downstream may trust the shapes in oci/types.ts.
 * Errors are one line and name the field. (The full schema validation lives
 * in oci/manifest.ts, written in parallel; this is the registry's floor.)
 */
import { VouchError } from '../../errors.js';
import { parseDigest } from '../../oci/digest.js';
import { isImageManifestMediaType, isIndexMediaType, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, ImageConfig, ParsedManifest } from '../../oci/types.js';
import { sanitizeLine } from '../../util/sanitize.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(what: string, field: string, problem: string): VouchError {
  return new VouchError('INVALID_MANIFEST', `${what}: ${field} ${problem}`);
}

export function validateDescriptor(v: unknown, what: string, field: string): Descriptor {
  if (!isObject(v)) throw bad(what, field, 'is not an object');
  if (typeof v['mediaType'] !== 'string' || v['mediaType'] === '') throw bad(what, `${field}.mediaType`, 'is missing');
  if (typeof v['digest'] !== 'string') throw bad(what, `${field}.digest`, 'is missing');
  parseDigest(v['digest'], `${what}: ${field}.digest`);
  const size = v['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(what, `${field}.size`, 'is not a non-negative integer');
  if (v['platform'] !== undefined) {
    const p = v['platform'];
    if (!isObject(p) || typeof p['os'] !== 'string' || typeof p['architecture'] !== 'string') {
      throw bad(what, `${field}.platform`, 'needs string os and architecture');
    }
  }
  if (v['annotations'] !== undefined && !isObject(v['annotations'])) throw bad(what, `${field}.annotations`, 'is not an object');
  return v as unknown as Descriptor;
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new VouchError('INVALID_MANIFEST', `${what}: not valid JSON`);
  }
  if (!isObject(doc)) throw new VouchError('INVALID_MANIFEST', `${what}: not a JSON object`);
  return doc;
}

/**
 * Parses a manifest or index. The document's own mediaType wins over the
 * Content-Type the registry sent; when the document has none, its shape decides
 * (`manifests` → index, `config` → image), as containers/image does.
 */
export function parseManifestDocument(bytes: Buffer, contentType: string | undefined, what: string): ParsedManifest {
  const doc = parseJson(bytes, what);
  if (doc['schemaVersion'] === 1 || contentType === MediaType.DockerManifestSchema1 || contentType === MediaType.DockerManifestSchema1Signed) {
    throw new VouchError('UNSUPPORTED_MEDIA_TYPE', `${what}: Docker schema 1 manifests are not supported (deprecated; push the image again with a current client)`);
  }
  if (doc['schemaVersion'] !== 2) throw bad(what, 'schemaVersion', `is ${sanitizeLine(JSON.stringify(doc['schemaVersion']) ?? 'missing').slice(0, 20)}, expected 2`);
  const declared = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined;
  let mediaType = declared ?? contentType ?? '';
  if (!isIndexMediaType(mediaType) && !isImageManifestMediaType(mediaType)) {
    if (declared !== undefined) throw new VouchError('UNSUPPORTED_MEDIA_TYPE', `${what}: unsupported manifest media type ${JSON.stringify(sanitizeLine(declared.slice(0, 100)))}`);
    mediaType = Array.isArray(doc['manifests']) ? MediaType.OciIndex : MediaType.OciManifest;
  }
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(doc['manifests'])) throw bad(what, 'manifests', 'is not an array');
    doc['manifests'].forEach((d, i) => validateDescriptor(d, what, `manifests[${i}]`));
    return { kind: 'index', mediaType, index: doc as never };
  }
  validateDescriptor(doc['config'], what, 'config');
  if (!Array.isArray(doc['layers'])) throw bad(what, 'layers', 'is not an array');
  doc['layers'].forEach((d, i) => validateDescriptor(d, what, `layers[${i}]`));
  if (doc['subject'] !== undefined) validateDescriptor(doc['subject'], what, 'subject');
  return { kind: 'image', mediaType, manifest: doc as never };
}

/** Config media types of runnable images. Anything else (cosign signatures, helm charts, SBOM artifacts) is not an image. */
export function isImageConfigMediaType(mt: string): boolean {
  return mt === MediaType.OciConfig || mt === MediaType.DockerConfig;
}

export function parseImageConfig(bytes: Buffer, what: string): ImageConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new VouchError('INVALID_CONFIG', `${what}: not valid JSON`);
  }
  const fail = (field: string, problem: string): VouchError => new VouchError('INVALID_CONFIG', `${what}: ${field} ${problem}`);
  if (!isObject(doc)) throw new VouchError('INVALID_CONFIG', `${what}: not a JSON object`);
  if (typeof doc['os'] !== 'string') throw fail('os', 'is missing');
  if (typeof doc['architecture'] !== 'string') throw fail('architecture', 'is missing');
  const rootfs = doc['rootfs'];
  if (!isObject(rootfs)) throw fail('rootfs', 'is missing');
  if (!Array.isArray(rootfs['diff_ids'])) throw fail('rootfs.diff_ids', 'is not an array');
  rootfs['diff_ids'].forEach((d, i) => {
    if (typeof d !== 'string') throw fail(`rootfs.diff_ids[${i}]`, 'is not a string');
    try {
      parseDigest(d);
    } catch {
      throw fail(`rootfs.diff_ids[${i}]`, 'is not a digest');
    }
  });
  if (doc['config'] !== undefined && doc['config'] !== null && !isObject(doc['config'])) throw fail('config', 'is not an object');
  if (doc['history'] !== undefined && doc['history'] !== null && !Array.isArray(doc['history'])) throw fail('history', 'is not an array');
  return doc as unknown as ImageConfig;
}
