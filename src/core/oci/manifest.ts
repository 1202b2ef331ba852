/**
 * Parsing and validation of OCI / Docker v2 manifests, indexes, descriptors and
 * image configs, straight from untrusted bytes.
 *
 * The checks mirror the OCI JSON schemas (image-spec schema/*.json) plus the
 * extra rules upstream's Go validator applies on top of them (registered digest
 * algorithms must have a well-formed encoding, Env entries are KEY=VALUE,
 * `data` is padded base64). They are hand-written rather than driven by a
 * schema engine so that every error is one line naming the blob and the JSON
 * path at fault, e.g. `manifest sha256:ab…: layers[2].digest: malformed …`.
 *
 * Anything this module rejects throws a VouchError; nothing else escapes
 * (the property test feeds it arbitrary bytes to hold that line).
 */
import { createHash } from 'node:crypto';
import * as nodeOs from 'node:os';
import { VouchError, type ErrorCode } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { MediaType, isImageManifestMediaType, isIndexMediaType } from './mediatypes.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, ParsedManifest, Platform } from './types.js';

/** Docker's registry client and containerd refuse manifests above 4 MiB; so do we. */
export const MAX_MANIFEST_BYTES = 4 << 20;
/** Configs carry history and labels; generous, but still bounded. */
export const MAX_CONFIG_BYTES = 8 << 20;
/** index.json / oci-layout / manifest.json of an archive. */
export const MAX_METADATA_BYTES = 4 << 20;

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';
/** BuildKit marks attestation manifests in an index with this annotation (and platform unknown/unknown). */
export const ANNOTATION_DOCKER_REFERENCE_TYPE = 'vnd.docker.reference.type';
/** The digest of the index entry a BuildKit attestation manifest is about. */
export const ANNOTATION_DOCKER_REFERENCE_DIGEST = 'vnd.docker.reference.digest';

// RFC 6838 restricted names, as the OCI schema spells them (defs-descriptor.json#/definitions/mediaType).
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
// defs-descriptor.json#/definitions/digest
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Algorithms registered with go-digest / the image spec: their encoding is checked; others pass the pattern only. */
const REGISTERED_ALGORITHMS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128, blake3: 64 };
const STRICT_BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 3339 date-time (JSON schema "format": "date-time").
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const ENV_RE = /^[^=]+=/s;

type Json = unknown;
type Obj = Record<string, Json>;

/** Raises errors for one document: keeps the code and the blob name in one place. */
class Checker {
  constructor(
    readonly code: ErrorCode,
    readonly what: string,
  ) {}
  fail(path: string, msg: string): never {
    const where = path ? `${this.what}: ${path}: ` : `${this.what}: `;
    throw new VouchError(this.code, where + msg);
  }
  obj(v: Json, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${typeName(v)}`);
    return v as Obj;
  }
  str(v: Json, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${typeName(v)}`);
    return v;
  }
  optStr(o: Obj, key: string, path: string): void {
    if (o[key] !== undefined) this.str(o[key], join(path, key));
  }
  strArray(v: Json, path: string): string[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${typeName(v)}`);
    v.forEach((s, i) => this.str(s, `${path}[${i}]`));
    return v as string[];
  }
  bool(v: Json, path: string): void {
    if (typeof v !== 'boolean') this.fail(path, `expected a boolean, got ${typeName(v)}`);
  }
  mediaType(v: Json, path: string): string {
    const s = this.str(v, path);
    if (!MEDIA_TYPE_RE.test(s)) this.fail(path, `invalid media type ${quote(s)}`);
    return s;
  }
  digest(v: Json, path: string): string {
    const s = this.str(v, path);
    if (!DIGEST_RE.test(s)) this.fail(path, `malformed digest ${quote(s)}`);
    const colon = s.indexOf(':');
    const want = REGISTERED_ALGORITHMS[s.slice(0, colon)];
    const enc = s.slice(colon + 1);
    if (want !== undefined && (enc.length !== want || !/^[a-f0-9]+$/.test(enc))) {
      this.fail(path, `malformed ${s.slice(0, colon)} digest ${quote(s)} (want ${want} lowercase hex characters)`);
    }
    return s;
  }
  size(v: Json, path: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `expected an integer size, got ${typeName(v)}`);
    if (v < 0) this.fail(path, `negative size ${v}`);
    if (v > Number.MAX_SAFE_INTEGER) this.fail(path, `size ${v} too large`);
    return v;
  }
  /** mapStringString: an object whose values are all strings. */
  stringMap(v: Json, path: string): Record<string, string> {
    const o = this.obj(v, path);
    for (const k of Object.keys(o)) this.str(o[k], `${path}[${quote(k)}]`);
    return o as Record<string, string>;
  }
  /** mapStringObject (ExposedPorts, Volumes). */
  objectMap(v: Json, path: string): void {
    const o = this.obj(v, path);
    for (const k of Object.keys(o)) this.obj(o[k], `${path}[${quote(k)}]`);
  }
  /**
   * Go's encoding/json (docker, containerd, skopeo) matches object keys to struct fields case-insensitively, so
   * `"Config"` or `"layerſ"` is read as the field we know as `config` / `layers`. A key that folds onto a field
   * we read but is not spelled exactly would make us see a different document than the runtime: refuse it.
   */
  fields(o: Obj, path: string, known: FieldSet): void {
    for (const k of Object.keys(o)) {
      if (known.exact.has(k)) continue;
      const f = known.folded.get(goFold(k));
      if (f !== undefined) this.fail(path, `key ${quote(k)} is not ${quote(f)} but Go's JSON decoder reads it as that field; refusing the ambiguity`);
    }
  }
  dateTime(v: Json, path: string): void {
    const s = this.str(v, path);
    if (!DATE_TIME_RE.test(s) || Number.isNaN(Date.parse(s))) this.fail(path, `not an RFC 3339 date-time: ${quote(s)}`);
  }
}

interface FieldSet {
  exact: ReadonlySet<string>;
  folded: ReadonlyMap<string, string>;
}

/** Go's key folding (encoding/json foldName): ASCII case, plus the two non-ASCII runes that fold onto ASCII letters. */
function goFold(k: string): string {
  return k.replace(/[a-z\u017f\u212a]/g, (c) => (c === '\u017f' ? 'S' : c === '\u212a' ? 'K' : c.toUpperCase()));
}

export function fieldSet(...names: string[]): FieldSet {
  return { exact: new Set(names), folded: new Map(names.map((n) => [goFold(n), n])) };
}

const DESCRIPTOR_FIELDS = fieldSet('mediaType', 'digest', 'size', 'urls', 'annotations', 'data', 'artifactType', 'platform');
const PLATFORM_FIELDS = fieldSet('architecture', 'os', 'os.version', 'os.features', 'variant', 'features');
const MANIFEST_FIELDS = fieldSet('schemaVersion', 'mediaType', 'artifactType', 'config', 'layers', 'manifests', 'subject', 'annotations');
const CONFIG_FIELDS = fieldSet('created', 'author', 'architecture', 'os', 'variant', 'os.version', 'os.features', 'config', 'rootfs', 'history');
const CONTAINER_CONFIG_FIELDS = fieldSet(
  'User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped', 'Healthcheck', 'OnBuild', 'Shell',
);
const ROOTFS_FIELDS = fieldSet('type', 'diff_ids');
const HISTORY_FIELDS = fieldSet('created', 'created_by', 'author', 'comment', 'empty_layer');

/** Refuse keys of a Go-decoded struct that fold onto `known` fields without being spelled as them (see Checker.fields). */
export function checkStructKeys(v: unknown, known: FieldSet, what: string, path: string, code: ErrorCode): void {
  const c = new Checker(code, what);
  c.fields(c.obj(v, path), path, known);
}

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (typeof v === 'number') return `the number ${String(v).slice(0, 40)}`;
  return `a ${typeof v}`;
}

/** JSON.stringify escapes control characters, so the message stays on one line. */
function quote(s: string): string {
  return JSON.stringify(s.length > 140 ? `${s.slice(0, 140)}…` : s);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function isUri(s: string): boolean {
  // JSON schema "format": "uri" = an absolute RFC 3986 URI: a scheme, then no whitespace or control characters.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s\u0000-\u001f\u007f]*$/.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Bytes → JSON

function decodeJson(bytes: Uint8Array, what: string, code: ErrorCode, max: number): Json {
  if (bytes.length > max) throw new VouchError('LIMIT_EXCEEDED', `${what}: ${bytes.length} bytes is over the ${max}-byte limit`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new VouchError(code, `${what}: not valid UTF-8`);
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (e) {
    // V8's message quotes the input, control characters (CR, ESC) and all: keep it one visible line.
    throw new VouchError(code, `${what}: not valid JSON: ${e instanceof Error ? sanitizeLine(e.message.split('\n')[0]!) : 'parse error'}`);
  }
  const dup = duplicateKey(text);
  if (dup !== undefined) {
    // JSON.parse keeps the last; other parsers keep the first or fail: which document was signed and reviewed?
    throw new VouchError(code, `${what}: duplicate key ${quote(dup)} in one object`);
  }
  return value;
}

/**
 * The first key that appears twice in one object of `text` (already known to be valid JSON), or undefined.
 * Iterative, so deeply nested input cannot exhaust the stack.
 */
export function duplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else if (d === 0x22) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}

/** Parse a small JSON metadata file (index.json, manifest.json, …) with a size bound. */
export function parseJsonBytes(bytes: Uint8Array, what: string, code: ErrorCode, max = MAX_METADATA_BYTES): unknown {
  return decodeJson(bytes, what, code, max);
}

// ---------------------------------------------------------------------------
// Descriptors and platforms

/**
 * Validate a content descriptor (content-descriptor.json, plus `platform` as
 * image-index.json allows it). `path` prefixes error locations.
 */
export function validateDescriptor(v: unknown, what: string, path = '', code: ErrorCode = 'INVALID_MANIFEST'): Descriptor {
  return checkDescriptor(new Checker(code, what), v, path);
}

function checkDescriptor(c: Checker, v: Json, path: string): Descriptor {
  const o = c.obj(v, path);
  c.fields(o, path, DESCRIPTOR_FIELDS);
  if (o.mediaType === undefined) c.fail(join(path, 'mediaType'), 'required field missing');
  c.mediaType(o.mediaType, join(path, 'mediaType'));
  if (o.digest === undefined) c.fail(join(path, 'digest'), 'required field missing');
  const digest = c.digest(o.digest, join(path, 'digest'));
  if (o.size === undefined) c.fail(join(path, 'size'), 'required field missing');
  const size = c.size(o.size, join(path, 'size'));
  if (o.urls !== undefined) {
    const urls = c.strArray(o.urls, join(path, 'urls'));
    urls.forEach((u, i) => {
      if (!isUri(u)) c.fail(`${join(path, 'urls')}[${i}]`, `not a URI: ${quote(u)}`);
    });
  }
  if (o.annotations !== undefined) c.stringMap(o.annotations, join(path, 'annotations'));
  if (o.artifactType !== undefined) c.mediaType(o.artifactType, join(path, 'artifactType'));
  if (o.platform !== undefined) checkPlatform(c, o.platform, join(path, 'platform'));
  if (o.data !== undefined) {
    const data = c.str(o.data, join(path, 'data'));
    if (!STRICT_BASE64_RE.test(data)) c.fail(join(path, 'data'), 'not padded base64');
    // Embedded data must be the content itself: check it as we would a fetched blob.
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length !== size) c.fail(join(path, 'data'), `decodes to ${bytes.length} bytes, descriptor size is ${size}`);
    const alg = digest.slice(0, digest.indexOf(':'));
    if (alg === 'sha256' || alg === 'sha512') {
      const actual = `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
      if (actual !== digest) c.fail(join(path, 'data'), `does not match the digest: expected ${digest}, got ${actual}`);
    }
  }
  return o as unknown as Descriptor;
}

function checkPlatform(c: Checker, v: Json, path: string): Platform {
  const o = c.obj(v, path);
  c.fields(o, path, PLATFORM_FIELDS);
  if (o.architecture === undefined) c.fail(join(path, 'architecture'), 'required field missing');
  c.str(o.architecture, join(path, 'architecture'));
  if (o.os === undefined) c.fail(join(path, 'os'), 'required field missing');
  c.str(o.os, join(path, 'os'));
  c.optStr(o, 'os.version', path);
  c.optStr(o, 'variant', path);
  if (o['os.features'] !== undefined) c.strArray(o['os.features'], join(path, 'os.features'));
  if (o.features !== undefined) c.strArray(o.features, join(path, 'features'));
  return o as unknown as Platform;
}

// ---------------------------------------------------------------------------
// Manifests and indexes

const SCHEMA1 = new Set<string>([MediaType.DockerManifestSchema1, MediaType.DockerManifestSchema1Signed]);

function schema1Error(what: string): VouchError {
  return new VouchError(
    'UNSUPPORTED_MEDIA_TYPE',
    `${what}: Docker image manifest schema 1 is not supported (deprecated since 2017, unverifiable layer digests); re-push the image with a current client`,
  );
}

/**
 * Parse a manifest or an index. `mediaTypeHint` is what the referring
 * descriptor or the registry's Content-Type said; when the document carries
 * its own `mediaType` the two must agree on the kind (image vs index).
 */
export function parseManifest(bytes: Uint8Array, what: string, mediaTypeHint?: string): ParsedManifest {
  const c: Checker = new Checker('INVALID_MANIFEST', what);
  if (mediaTypeHint !== undefined && SCHEMA1.has(mediaTypeHint)) throw schema1Error(what);
  const doc = c.obj(decodeJson(bytes, what, 'INVALID_MANIFEST', MAX_MANIFEST_BYTES), '');
  c.fields(doc, '', MANIFEST_FIELDS);
  if (doc.schemaVersion === 1) throw schema1Error(what);
  if (doc.schemaVersion === undefined) c.fail('schemaVersion', 'required field missing');
  if (doc.schemaVersion !== 2) c.fail('schemaVersion', `expected 2, got ${typeName(doc.schemaVersion)}`);

  let own: string | undefined;
  if (doc.mediaType !== undefined) {
    own = c.mediaType(doc.mediaType, 'mediaType');
    if (SCHEMA1.has(own)) throw schema1Error(what);
  }
  const kindOf = (mt: string | undefined): 'image' | 'index' | undefined =>
    isIndexMediaType(mt) ? 'index' : isImageManifestMediaType(mt) ? 'image' : undefined;
  const hintKind = kindOf(mediaTypeHint);
  const ownKind = kindOf(own);
  if (own !== undefined && ownKind === undefined) {
    throw new VouchError('UNSUPPORTED_MEDIA_TYPE', `${what}: unsupported manifest media type ${quote(own)}`);
  }
  if (hintKind && ownKind && hintKind !== ownKind) {
    c.fail('mediaType', `document says ${quote(own!)} but it was described as ${quote(mediaTypeHint!)}`);
  }
  if (mediaTypeHint !== undefined && hintKind === undefined && ownKind === undefined) {
    throw new VouchError('UNSUPPORTED_MEDIA_TYPE', `${what}: unsupported manifest media type ${quote(mediaTypeHint)}`);
  }
  // Neither says: go by shape, as registries and tools that omit mediaType expect.
  const kind = ownKind ?? hintKind ?? (doc.manifests !== undefined && doc.config === undefined ? 'index' : 'image');
  // The referring descriptor's media type wins when both are known (go-containerregistry does the same).
  const mediaType = (hintKind ? mediaTypeHint : undefined) ?? own ?? (kind === 'index' ? MediaType.OciIndex : MediaType.OciManifest);

  if (doc.artifactType !== undefined) c.mediaType(doc.artifactType, 'artifactType');
  if (doc.subject !== undefined) checkDescriptor(c, doc.subject, 'subject');
  if (doc.annotations !== undefined) c.stringMap(doc.annotations, 'annotations');

  // CVE-2021-41190: a document that is both an index and a manifest reads as either, depending on who reads it.
  if (kind === 'index' && (doc.config !== undefined || doc.layers !== undefined)) {
    c.fail(doc.config !== undefined ? 'config' : 'layers', 'an index must not have config or layers (ambiguous document)');
  }
  if (kind === 'image' && doc.manifests !== undefined) c.fail('manifests', 'an image manifest must not have manifests (ambiguous document)');
  if (kind === 'index') {
    if (doc.manifests === undefined) c.fail('manifests', 'required field missing');
    if (!Array.isArray(doc.manifests)) c.fail('manifests', `expected an array, got ${typeName(doc.manifests)}`);
    doc.manifests.forEach((d, i) => checkDescriptor(c, d, `manifests[${i}]`));
    return { kind: 'index', mediaType, index: doc as unknown as ImageIndex };
  }
  if (doc.config === undefined) c.fail('config', 'required field missing');
  checkDescriptor(c, doc.config, 'config');
  if (doc.layers === undefined) c.fail('layers', 'required field missing');
  if (!Array.isArray(doc.layers)) c.fail('layers', `expected an array, got ${typeName(doc.layers)}`);
  // The OCI schema requires at least one layer; Docker v2s2 has no such rule
  // (docker builds FROM scratch with only metadata produce zero layers).
  if (doc.layers.length === 0 && mediaType !== MediaType.DockerManifest) c.fail('layers', 'expected at least one layer');
  doc.layers.forEach((d, i) => checkDescriptor(c, d, `layers[${i}]`));
  return { kind: 'image', mediaType, manifest: doc as unknown as ImageManifest };
}

export function parseImageManifest(bytes: Uint8Array, what: string, mediaTypeHint?: string): { mediaType: string; manifest: ImageManifest } {
  const p = parseManifest(bytes, what, mediaTypeHint);
  if (p.kind !== 'image') throw new VouchError('INVALID_MANIFEST', `${what}: expected an image manifest, got an index (${p.mediaType})`);
  return p;
}

export function parseIndex(bytes: Uint8Array, what: string, mediaTypeHint?: string): { mediaType: string; index: ImageIndex } {
  const p = parseManifest(bytes, what, mediaTypeHint);
  if (p.kind !== 'index') throw new VouchError('INVALID_MANIFEST', `${what}: expected an index, got an image manifest (${p.mediaType})`);
  return p;
}

/** The `oci-layout` file of an image layout (image-layout-schema.json). */
export function parseOciLayoutFile(bytes: Uint8Array, what: string): { imageLayoutVersion: string } {
  const c: Checker = new Checker('INVALID_LAYOUT', what);
  const o = c.obj(decodeJson(bytes, what, 'INVALID_LAYOUT', 64 << 10), '');
  if (o.imageLayoutVersion === undefined) c.fail('imageLayoutVersion', 'required field missing');
  const v = c.str(o.imageLayoutVersion, 'imageLayoutVersion');
  if (v !== '1.0.0') c.fail('imageLayoutVersion', `unsupported version ${quote(v)} (want "1.0.0")`);
  return { imageLayoutVersion: v };
}

// ---------------------------------------------------------------------------
// Image config

/** Config fields Docker writes as `null` for empty Go slices/maps; we drop them so the types hold. */
const NULLABLE_DROPPED = ['Env', 'ExposedPorts', 'Volumes', 'OnBuild', 'Shell', 'Healthcheck'] as const;

export function parseConfig(bytes: Uint8Array, what: string): ImageConfig {
  const c: Checker = new Checker('INVALID_CONFIG', what);
  const o = c.obj(decodeJson(bytes, what, 'INVALID_CONFIG', MAX_CONFIG_BYTES), '');
  c.fields(o, '', CONFIG_FIELDS);
  for (const k of ['architecture', 'os'] as const) {
    if (o[k] === undefined) c.fail(k, 'required field missing');
    c.str(o[k], k);
  }
  for (const k of ['variant', 'os.version', 'author']) c.optStr(o, k, '');
  if (o['os.features'] !== undefined) c.strArray(o['os.features'], 'os.features');
  if (o.created !== undefined) c.dateTime(o.created, 'created');

  if (o.config !== undefined && o.config !== null) {
    const cfg = c.obj(o.config, 'config');
    c.fields(cfg, 'config', CONTAINER_CONFIG_FIELDS);
    for (const k of NULLABLE_DROPPED) if (cfg[k] === null) delete cfg[k];
    for (const k of ['User', 'WorkingDir', 'StopSignal']) c.optStr(cfg, k, 'config');
    if (cfg.ExposedPorts !== undefined) c.objectMap(cfg.ExposedPorts, 'config.ExposedPorts');
    if (cfg.Volumes !== undefined) c.objectMap(cfg.Volumes, 'config.Volumes');
    if (cfg.Env !== undefined) {
      c.strArray(cfg.Env, 'config.Env').forEach((e, i) => {
        if (!ENV_RE.test(e)) c.fail(`config.Env[${i}]`, `not KEY=VALUE: ${quote(e)}`);
      });
    }
    for (const k of ['Entrypoint', 'Cmd'] as const) if (cfg[k] !== undefined && cfg[k] !== null) c.strArray(cfg[k], `config.${k}`);
    for (const k of ['OnBuild', 'Shell'] as const) if (cfg[k] !== undefined) c.strArray(cfg[k], `config.${k}`);
    if (cfg.Labels !== undefined && cfg.Labels !== null) c.stringMap(cfg.Labels, 'config.Labels');
    if (cfg.ArgsEscaped !== undefined) c.bool(cfg.ArgsEscaped, 'config.ArgsEscaped');
    if (cfg.Healthcheck !== undefined) c.obj(cfg.Healthcheck, 'config.Healthcheck');
  } else if (o.config === null) {
    delete o.config;
  }

  if (o.rootfs === undefined) c.fail('rootfs', 'required field missing');
  const rootfs = c.obj(o.rootfs, 'rootfs');
  c.fields(rootfs, 'rootfs', ROOTFS_FIELDS);
  if (rootfs.type === undefined) c.fail('rootfs.type', 'required field missing');
  if (c.str(rootfs.type, 'rootfs.type') !== 'layers') c.fail('rootfs.type', `expected "layers", got ${quote(rootfs.type as string)}`);
  // Docker omits diff_ids (omitempty) for images without layers.
  if (rootfs.diff_ids === undefined || rootfs.diff_ids === null) rootfs.diff_ids = [];
  if (!Array.isArray(rootfs.diff_ids)) c.fail('rootfs.diff_ids', `expected an array, got ${typeName(rootfs.diff_ids)}`);
  rootfs.diff_ids.forEach((d, i) => c.digest(d, `rootfs.diff_ids[${i}]`));

  if (o.history === null) delete o.history;
  if (o.history !== undefined) {
    if (!Array.isArray(o.history)) c.fail('history', `expected an array, got ${typeName(o.history)}`);
    o.history.forEach((h, i) => {
      const p = `history[${i}]`;
      const e = c.obj(h, p);
      c.fields(e, p, HISTORY_FIELDS);
      if (e.created !== undefined) c.dateTime(e.created, `${p}.created`);
      for (const k of ['author', 'created_by', 'comment']) c.optStr(e, k, p);
      if (e.empty_layer !== undefined) c.bool(e.empty_layer, `${p}.empty_layer`);
    });
  }
  return o as unknown as ImageConfig;
}

/** The platform an image config declares (os, architecture, and variant / os.version when present). */
export function configPlatform(config: ImageConfig): Platform {
  const platform: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) platform.variant = config.variant;
  if (config['os.version']) platform['os.version'] = config['os.version'];
  return platform;
}

/** Config media types that describe a runnable container image (artifacts use others). */
export function isImageConfigMediaType(mt: string): boolean {
  return mt === MediaType.OciConfig || mt === MediaType.DockerConfig;
}

// ---------------------------------------------------------------------------
// Platforms

/** Normalise os/arch/variant the way containerd's platforms.Normalize does. */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  let arch = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  switch (arch) {
    case 'i386':
    case 'i686':
    case 'x86':
      arch = '386';
      variant = undefined;
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = undefined;
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      // arm64 without a variant means v8 (docker treats the two as one); "8", "v8.0", "9.0" are spellings of v8, v9.
      if (variant === undefined) variant = 'v8';
      else if (/^v?\d+(?:\.\d+)?$/.test(variant)) variant = `v${variant.replace(/^v/, '').replace(/\.0$/, '')}`;
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === undefined || variant === '7') variant = 'v7';
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  const out: Platform = { os, architecture: arch };
  if (variant) out.variant = variant;
  if (p['os.version']) out['os.version'] = p['os.version'];
  return out;
}

/**
 * Platforms a host of `wanted` can run, best first (containerd's platforms.Only):
 * amd64/vN also runs amd64/vN-1…v1 and 386; arm/vN runs arm/vN-1…v5; arm64/v8
 * runs 32-bit arm/v8…v5 (containerd assumes the kernel's compat mode).
 */
function compatibleVector(w: Platform): Platform[] {
  const out: Platform[] = [w];
  const level = Number((w.variant ?? '').replace(/^v/, ''));
  if (w.architecture === 'amd64') {
    for (let v = (Number.isInteger(level) && level > 1 ? level : 1) - 1; v >= 1; v--) {
      out.push(v === 1 ? { os: w.os, architecture: 'amd64' } : { os: w.os, architecture: 'amd64', variant: `v${v}` });
    }
    out.push({ os: w.os, architecture: '386' });
  } else if (w.architecture === 'arm') {
    if (Number.isInteger(level)) for (let v = level - 1; v >= 5; v--) out.push({ os: w.os, architecture: 'arm', variant: `v${v}` });
  } else if (w.architecture === 'arm64' && w.variant === 'v8') {
    for (let v = 8; v >= 5; v--) out.push({ os: w.os, architecture: 'arm', variant: `v${v}` });
  }
  return out;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/**
 * Whether a host of `want` runs an image built for `have` (both normalised):
 * the same platform, or one of its compatible fallbacks (arm/v7 runs arm/v6).
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const h = normalizePlatform(have);
  return compatibleVector(normalizePlatform(want)).some((w) => samePlatform(w, h));
}

/** `os/arch[/variant]` for messages; platforms come from untrusted indexes, so each part is made single-line safe. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant]
    .filter(Boolean)
    .map((s) => sanitizeLine(String(s)).slice(0, 100))
    .join('/');
}

/** Parse `os/arch[/variant]` as `docker --platform` takes it (case-insensitive, like containerd's platforms.Parse). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    // Worded for the CLI, the one place platforms are typed in (the message is the one `--platform` users see).
    throw new VouchError('USAGE', `--platform ${quote(s)}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  const p: Platform = { os: parts[0]!.toLowerCase(), architecture: parts[1]!.toLowerCase() };
  if (parts[2]) p.variant = parts[2].toLowerCase();
  return p;
}

/**
 * True only for a BuildKit attestation manifest as BuildKit writes it: platform
 * unknown/unknown, `vnd.docker.reference.type: attestation-manifest` and a
 * `vnd.docker.reference.digest`. Docker and containerd select index entries by
 * platform alone, never by annotation: an annotated entry with a real platform
 * is pulled like any other, so it must be selectable and covered.
 */
export function isAttestationDescriptor(d: Descriptor): boolean {
  const a = d.annotations;
  return (
    d.platform?.os?.toLowerCase() === 'unknown' &&
    d.platform?.architecture?.toLowerCase() === 'unknown' &&
    a?.[ANNOTATION_DOCKER_REFERENCE_TYPE] === 'attestation-manifest' &&
    typeof a[ANNOTATION_DOCKER_REFERENCE_DIGEST] === 'string'
  );
}

/** An index entry platform selection may pick: a manifest or index with a platform, not an attestation or a foreign artifact. */
function isSelectable(d: Descriptor): boolean {
  if (d.platform === undefined || isAttestationDescriptor(d)) return false;
  return isImageManifestMediaType(d.mediaType) || isIndexMediaType(d.mediaType);
}

/**
 * Pick the manifest for `wanted` from an index, as `docker pull --platform`
 * does: exact (normalised) match first, then compatible fallbacks in
 * containerd's order; attestation manifests and entries that are not manifests
 * or indexes (foreign artifacts) are never candidates; among equals
 * the first in index order wins. Throws PLATFORM_NOT_FOUND listing what exists.
 */
export function selectPlatform(index: ImageIndex, wanted: Platform, what = 'index'): Descriptor {
  const w = normalizePlatform(wanted);
  const candidates = index.manifests.filter(isSelectable);
  for (const want of compatibleVector(w)) {
    for (const d of candidates) {
      const have = normalizePlatform(d.platform!);
      if (!samePlatform(have, want)) continue;
      if (want['os.version'] && have['os.version'] && want.os === 'windows' && !sameWindowsBuild(want['os.version'], have['os.version'])) continue;
      return d;
    }
  }
  const available = candidates.map((d) => formatPlatform(d.platform!));
  throw new VouchError(
    'PLATFORM_NOT_FOUND',
    `${what}: no manifest for platform ${formatPlatform(w)}` + (available.length ? ` (available: ${[...new Set(available)].join(', ')})` : ' (the index lists no platforms)'),
  );
}

function sameWindowsBuild(a: string, b: string): boolean {
  return a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.');
}

/** Node's process.platform / process.arch mapped to Go's GOOS / GOARCH (and GOARM / arm64 v8). */
export function hostPlatform(): Platform {
  const osMap: Record<string, string> = { win32: 'windows', sunos: 'solaris', cygwin: 'windows', android: 'android' };
  const os = osMap[process.platform] ?? process.platform;
  const archMap: Record<string, string> = { x64: 'amd64', ia32: '386', mipsel: 'mipsle', ppc: 'ppc', s390: 's390' };
  let architecture = archMap[process.arch] ?? process.arch;
  // Node reports ppc64 for both endiannesses; Linux on POWER is little-endian nowadays.
  if (process.arch === 'ppc64') architecture = nodeOs.endianness() === 'LE' ? 'ppc64le' : 'ppc64';
  const p: Platform = { os, architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') {
    const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
    p.variant = `v${typeof armVersion === 'string' || typeof armVersion === 'number' ? armVersion : 7}`;
  }
  return p;
}

/**
 * The platform used when the user names none: the host's architecture on
 * linux, as docker does; on macOS and Windows docker's daemon runs Linux
 * containers in a VM, so images are linux ones there too.
 */
export function defaultPlatform(): Platform {
  const h = hostPlatform();
  return { ...h, os: 'linux' };
}
