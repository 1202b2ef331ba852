/**
 * `vouch.release.yaml`: the release under review. Schema-checked like the
 * trust file (unknown keys are errors), relative paths (files and the path
 * part of oci:/oci-archive:/docker-archive: references) resolved against the
 * file's own folder.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readLocalFile } from '../util/local-file.js';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import { checkSchema } from '../util/schema-check.js';
import { parseYamlUnique } from '../util/yaml.js';
import { VouchError } from '../errors.js';
import { parseReference } from '../ref/parse.js';
import { sanitizeLine } from '../util/sanitize.js';

export const RELEASE_FILE_NAME = 'vouch.release.yaml';
const MAX_RELEASE_BYTES = 1 << 20;

export interface ReleaseFile {
  /** Absolute path. */
  path: string;
  /** sha256 of the file's bytes. */
  digest: string;
  name: string;
  version: string;
  /** In file order: key → reference with paths made absolute. */
  images: Array<{ key: string; reference: string; written: string }>;
  baseline?: string;
  policy?: string;
  trust: string;
}

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version', 'images', 'trust'],
  properties: {
    // Both end up in file names (the session, the approval): a safe file-name charset, no '/' and no '..'.
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' },
    version: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$' },
    images: {
      type: 'object',
      minProperties: 1,
      maxProperties: 200,
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
      additionalProperties: { type: 'string', minLength: 1 },
    },
    baseline: { type: 'string', minLength: 1 },
    policy: { type: 'string', minLength: 1 },
    trust: { type: 'string', minLength: 1 },
  },
} as const;

/** Exported so that a test can hold schema-check to ajv on it. */
export const RELEASE_FILE_SCHEMA = SCHEMA;

// Loading and compiling ajv costs ~0.1-0.2 s per process: a valid file passes schema-check alone
// (never laxer than ajv); ajv is loaded (synchronously: it is CommonJS) only to word the errors.
let validator: ValidateFunction | undefined;
function ajvValidate(): ValidateFunction {
  if (!validator) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    validator = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(SCHEMA);
  }
  return validator;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') return `${at}: unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  if (e.keyword === 'required') return `${at}: missing ${JSON.stringify((e.params as { missingProperty: string }).missingProperty)}`;
  if (e.keyword === 'propertyNames' || (e.keyword === 'pattern' && at.startsWith('images'))) return `${at}: image keys are letters, digits, '.', '_' or '-'`;
  return `${at}: ${e.message ?? e.keyword}`;
}

function fail(path: string, msg: string): never {
  throw new VouchError('USAGE', `${path}: ${sanitizeLine(msg)}`);
}

/** A reference with its path part made absolute against `dir` (registry and daemon references unchanged). */
export function resolveImageReference(ref: string, dir: string): string {
  const r = parseReference(ref);
  if (r.transport === 'oci' || r.transport === 'oci-archive' || r.transport === 'docker-archive') {
    if (isAbsolute(r.path)) return ref;
    const prefix = `${r.transport}:`;
    return `${prefix}${resolve(dir, r.path)}${ref.slice(prefix.length + r.path.length)}`;
  }
  if (r.transport === 'auto') {
    if (/^\.\.?\//.test(ref) || isAbsolute(ref) || existsSync(resolve(dir, ref))) return resolve(dir, ref);
    // A name in a release file is what ships: the registry's image, never a same-named local daemon copy (whose
    // digest vouch synthesises and no registry serves). `docker-daemon:NAME` says the daemon explicitly.
    return `docker://${ref}`;
  }
  return ref;
}

export function parseReleaseFile(text: string, path: string, digest = `sha256:${createHash('sha256').update(text).digest('hex')}`): ReleaseFile {
  const abs = resolve(path);
  const dir = dirname(abs);
  let doc: unknown;
  try {
    // Failsafe schema: every scalar is its source text, so an unquoted `version: 1.10` stays "1.10"
    // (the core schema would read the number 1.1) and `name: 2024` stays a name.
    doc = parseYamlUnique(text, { maxAliasCount: 100, schema: 'failsafe' });
  } catch (e) {
    fail(abs, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const validate = checkSchema(SCHEMA, doc) === null ? null : ajvValidate();
  if (validate && !validate(doc)) fail(abs, (validate.errors ?? []).slice(0, 3).map(describe).join('; '));
  const d = doc as { name: string; version: string; images: Record<string, string>; baseline?: string; policy?: string; trust: string };
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  const images: ReleaseFile['images'] = [];
  for (const [key, written] of Object.entries(d.images)) {
    let reference: string;
    try {
      reference = resolveImageReference(written, dir);
    } catch (e) {
      fail(abs, `images.${key}: ${(e as Error).message}`);
    }
    images.push({ key, reference, written });
  }
  const out: ReleaseFile = { path: abs, digest, name: d.name, version: d.version, images, trust: at(d.trust) };
  if (d.baseline !== undefined) out.baseline = at(d.baseline);
  if (d.policy !== undefined) out.policy = at(d.policy);
  return out;
}

export async function loadReleaseFile(path: string): Promise<ReleaseFile> {
  const buf = await readLocalFile(path, { what: 'release file', max: MAX_RELEASE_BYTES });
  return parseReleaseFile(buf.toString('utf8'), path, `sha256:${createHash('sha256').update(buf).digest('hex')}`);
}

/** Default session path: `<name>-<version>.review.json` next to the release file. */
export function defaultSessionPath(release: Pick<ReleaseFile, 'path' | 'name' | 'version'>): string {
  return join(dirname(release.path), `${release.name}-${release.version}.review.json`);
}
