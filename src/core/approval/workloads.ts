/**
 * The images a deployment would run, read from Kubernetes manifests and Docker
 * Compose files: every container, init container and ephemeral container of
 * every pod template, and every compose service image. YAML comes from other
 * people: parsed with bounded size, alias expansion and document count, and
 * duplicate keys refused (two `image:` keys must not let a reviewer see one
 * and the cluster run the other). For the same reason every YAML feature that
 * kubectl's parser (go-yaml v2 through sigs.k8s.io/yaml) reads differently is
 * refused: merge keys (go-yaml lets a later `<<` override an explicit key,
 * this parser keeps the explicit one) and tags outside the core schema.
 */
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { isAlias, isCollection, isScalar, parseAllDocuments, visit, type Document } from 'yaml';
import { VouchError } from '../errors.js';
import { parseDockerReference, formatDockerReference } from '../ref/parse.js';
import { sanitizeLine } from '../util/sanitize.js';
import { readLocalFile } from '../util/local-file.js';
import { duplicateKeyError } from '../util/yaml.js';
import { pushAll } from '../util/fold.js';

export const MAX_MANIFEST_FILE_BYTES = 16 << 20;
const MAX_DOCUMENTS = 10_000;
const MAX_ALIASES = 100;
const MAX_LIST_DEPTH = 8;

/** Where the image sits: a container list, a compose service, an image volume, or elsewhere (see `path`). */
export type ContainerField = 'containers' | 'initContainers' | 'ephemeralContainers' | 'service' | 'volume' | 'other';

/** One image a workload names, with where it was written. */
export interface WorkloadImage {
  file: string;
  /** Index of the YAML document in the file (0-based). */
  document: number;
  /** Kubernetes kind, or "compose" for a compose service. */
  kind: string;
  /** metadata.name (the service name for compose), null when absent. */
  name: string | null;
  /** Container (or compose service) name, null when absent. */
  container: string | null;
  field: ContainerField;
  /** Where in the document, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
  /** As written; null when a compose service has no image (it builds one) or the image is not a string. */
  image: string | null;
  /** Why no reference can be read here (a container without an image, an image written as a mapping). */
  problem?: { code: 'NO_IMAGE' | 'UNREADABLE_IMAGE'; message: string };
}

/** The pod spec inside each workload kind, as a path from the document root. */
const POD_SPEC_PATH: Record<string, string[]> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

export const WORKLOAD_KINDS = Object.keys(POD_SPEC_PATH);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function bad(file: string, msg: string): never {
  throw new VouchError('INVALID_MANIFEST', `${file}: ${sanitizeLine(msg)}`);
}

/** The YAML 1.2 core schema: tags both parsers read alike. `!!binary`, `!!merge`, `!` and custom tags are not. */
const CORE_TAGS = new Set(['str', 'map', 'seq', 'int', 'float', 'bool', 'null'].map((t) => `tag:yaml.org,2002:${t}`));
const MERGE_TAG = 'tag:yaml.org,2002:merge';

/**
 * Refuse what kubectl's parser reads differently. go-yaml v2 takes `<<` as a merge key when
 * the scalar is plain or tagged (`!!merge`, and the non-specific `!`, which libyaml marks
 * plain-implicit even when quoted), and lets a later merge override an explicit key; a
 * `!!binary` key decodes to text there (a second `image` key). Only an untagged quoted
 * "<<" is the plain key it looks like, to both parsers.
 */
function refuseDivergence(doc: Document, text: string, file: string, i: number): void {
  const line = (node: { range?: [number, number, number] | null } | null): string => {
    const at = node?.range?.[0];
    return at === undefined ? '' : ` (line ${text.slice(0, at).split('\n').length})`;
  };
  const tagged = (node: { tag?: string; range?: [number, number, number] | null }): void => {
    if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
      if (node.tag === MERGE_TAG) bad(file, `document ${i}: a YAML merge key${line(node)}: kubectl and vouch apply merge keys differently; write the fields out (a compose project: gate the output of "docker compose config")`);
      bad(file, `document ${i}: the tag ${node.tag}${line(node)} is not read the same way by kubectl; only the core schema's tags (!!str, !!int, …) are accepted`);
    }
  };
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      if (key === null || isAlias(key) || isCollection(key)) {
        bad(file, `document ${i}: a mapping key that is ${key === null ? 'empty' : isAlias(key) ? 'an alias' : 'a list or mapping'}${line(isAlias(key) || isCollection(key) ? key : null)}: no Kubernetes or Compose field is named so`);
      }
      if (isScalar(key)) {
        const quoted = key.type === 'QUOTE_DOUBLE' || key.type === 'QUOTE_SINGLE';
        // Under a `%YAML 1.1` directive this parser turns a plain `<<` into a symbol.
        const merge = key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<');
        if (key.tag === MERGE_TAG || (merge && (!quoted || key.tag !== undefined))) {
          bad(file, `document ${i}: a YAML merge key (<<)${line(key)}: kubectl and vouch apply merge keys differently; write the fields out (a compose project: gate the output of "docker compose config")`);
        }
      }
    },
    Scalar: (_, n) => tagged(n),
    Map: (_, n) => tagged(n),
    Seq: (_, n) => tagged(n),
  });
  const warning = doc.warnings[0];
  if (warning) bad(file, `document ${i}: ${warning.message.split('\n')[0]}`);
}

/**
 * Every image named in the YAML text of `file`. Throws (exit 2) when the text is not YAML, uses a
 * feature kubectl reads differently, is neither Kubernetes nor Compose, or a workload is malformed.
 * Compose `include` paths are appended to `includes` (readWorkloadImages follows them); without
 * that list a file with includes is refused.
 */
export function workloadImages(text: string, file: string, includes?: string[]): WorkloadImage[] {
  // Duplicate keys are refused below, in linear time (yaml's own uniqueKeys check is quadratic).
  const docs = parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false, merge: false });
  // parseAllDocuments returns an EmptyStream (no length) for an empty file.
  const list = Array.isArray(docs) ? docs : [];
  if (list.length > MAX_DOCUMENTS) bad(file, `more than ${MAX_DOCUMENTS} YAML documents`);
  const out: WorkloadImage[] = [];
  list.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) bad(file, `document ${i}: not valid YAML: ${err.message.split('\n')[0]}`);
    const dup = duplicateKeyError(doc, text);
    if (dup) bad(file, `document ${i}: not valid YAML: ${dup}`);
    refuseDivergence(doc, text, file, i);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (e) {
      bad(file, `document ${i}: ${(e as Error).message.split('\n')[0]}`);
    }
    // An empty document (a trailing `---`) holds nothing.
    if (value === null || value === undefined) return;
    collect(value, file, i, '', out, 0, includes);
  });
  return out;
}

/** Kinds whose content is data or schema, not something that runs: an `image` key there is a value, not a workload. */
const DATA_KINDS = new Set(['ConfigMap', 'Secret', 'CustomResourceDefinition']);

function collect(value: unknown, file: string, document: number, prefix: string, out: WorkloadImage[], depth: number, includes: string[] | undefined): void {
  const kind = isObject(value) ? str(value['kind']) : null;
  if (!isObject(value) || kind === null) {
    // Compose: a top-level `services` mapping (or `include`) and no Kubernetes kind.
    if (isObject(value) && depth === 0 && (isObject(value['services']) || value['include'] !== undefined)) {
      composeImages(value, file, document, out, includes);
      return;
    }
    bad(file, `document ${document}: ${prefix}neither a Kubernetes object (no kind) nor a Compose file (no services): vouch cannot tell what it runs`);
  }
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value['items']))) {
    if (depth >= MAX_LIST_DEPTH) bad(file, `document ${document}: lists nested more than ${MAX_LIST_DEPTH} deep`);
    const items = value['items'];
    if (!Array.isArray(items)) bad(file, `document ${document}: ${prefix}items: a ${kind} needs an items array`);
    items.forEach((item, j) => collect(item, file, document, `${prefix}items[${j}].`, out, depth + 1, includes));
    return;
  }
  if (DATA_KINDS.has(kind)) return;
  const before = out.length;
  if (kind in POD_SPEC_PATH) podImages(value, kind, file, document, prefix, out);
  // Every kind is walked whole (image volumes in a Pod; an Argo Workflow's templates, a Tekton
  // Task's steps, an operator's CRD…): no kind, known or custom, is a way around the gate.
  const metadata = value['metadata'];
  const name = isObject(metadata) ? str(metadata['name']) : null;
  const known = new Set(out.slice(before).map((w) => w.path));
  // `status` is what a cluster reported (e.g. `kubectl get -o yaml`), never applied: its tags are not gaps.
  const desired = Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'status'));
  walkImages(desired, { file, document, kind, name }, prefix, out, known);
}

const CONTAINER_FIELDS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
const MAX_WALK_DEPTH = 64;

/** Where the object holding an `image` key sits decides the field: a container list, a volume, or other. */
function fieldAt(holderPath: string): ContainerField {
  const m = /(?:^|\.)(containers|initContainers|ephemeralContainers|volumes)\[\d+\]$/.exec(holderPath);
  if (!m) return 'other';
  return m[1] === 'volumes' ? 'volume' : (m[1] as ContainerField);
}

/**
 * Every `image` (a string, or an image volume's `{reference}`) and `images` (a list of strings)
 * anywhere under `root`, in document order, except paths already reported. Container lists whose
 * entries carry images report an entry without one, too. `container` is the nearest `name`.
 */
function walkImages(
  root: Record<string, unknown>,
  at: { file: string; document: number; kind: string; name: string | null },
  prefix: string,
  out: WorkloadImage[],
  known: Set<string>,
): void {
  const { file, document } = at;
  const push = (path: string, field: ContainerField, container: string | null, image: string | null, problem?: WorkloadImage['problem']): void => {
    if (known.has(path)) return;
    known.add(path);
    out.push({ ...at, container, field, path, image, ...(problem === undefined ? {} : { problem }) });
  };
  const imageAt = (v: unknown, path: string, field: ContainerField, label: string | null): void => {
    if (typeof v === 'string') return push(path, field, label, v);
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') bad(file, `document ${document}: ${path} is not a string`);
    if (isObject(v) && 'reference' in v) {
      // A Kubernetes image volume: `image: {reference: REF, pullPolicy}`.
      if (typeof v['reference'] !== 'string') bad(file, `document ${document}: ${path}.reference is not a string`);
      return push(`${path}.reference`, field, label, v['reference']);
    }
    push(
      path,
      field,
      label,
      null,
      v === null || v === undefined
        ? { code: 'NO_IMAGE', message: 'no image written: whatever runs here was not reviewed' }
        : { code: 'UNREADABLE_IMAGE', message: `an image written as a ${Array.isArray(v) ? 'list' : 'mapping'}, not a reference: vouch cannot tell which image runs` },
    );
  };
  const walk = (node: unknown, path: string, depth: number, label: string | null): void => {
    if (depth > MAX_WALK_DEPTH) bad(file, `document ${document}: ${at.kind} nested more than ${MAX_WALK_DEPTH} deep`);
    if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1, label));
      return;
    }
    if (!isObject(node)) return;
    const here = str(node['name']) ?? label;
    for (const [k, v] of Object.entries(node)) {
      const p = path ? `${path}.${k}` : `${prefix}${k}`;
      if (k === 'image') {
        imageAt(v, p, fieldAt(path), here);
      } else if (k === 'images' && typeof v === 'string') {
        push(p, 'other', here, v);
      } else if (k === 'images' && Array.isArray(v)) {
        v.forEach((x, j) => (typeof x === 'string' ? push(`${p}[${j}]`, 'other', here, x) : walk(x, `${p}[${j}]`, depth + 1, here)));
      } else {
        if ((CONTAINER_FIELDS as readonly string[]).includes(k) && Array.isArray(v) && v.some((c) => isObject(c) && 'image' in c)) {
          // A container without an image is not runnable as written; report it so that it is not silently passed.
          v.forEach((c, j) => {
            if (isObject(c) && !('image' in c)) push(`${p}[${j}].image`, k as ContainerField, str(c['name']), null, { code: 'NO_IMAGE', message: 'a container without an image: whatever runs here was not reviewed' });
          });
        }
        walk(v, p, depth + 1, here);
      }
    }
  };
  walk(root, '', 0, at.name);
}

function podImages(obj: Record<string, unknown>, kind: string, file: string, document: number, prefix: string, out: WorkloadImage[]): void {
  const metadata = obj['metadata'];
  const name = isObject(metadata) ? str(metadata['name']) : null;
  let spec: unknown = obj;
  const steps = POD_SPEC_PATH[kind]!;
  for (const step of steps) {
    if (!isObject(spec)) break;
    spec = spec[step];
  }
  const specPath = `${prefix}${steps.join('.')}`;
  if (!isObject(spec)) bad(file, `document ${document}: ${kind} ${name ?? '(unnamed)'}: ${specPath} is missing or not a mapping`);
  let found = 0;
  for (const field of CONTAINER_FIELDS) {
    const list = spec[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) bad(file, `document ${document}: ${specPath}.${field} is not a list`);
    list.forEach((c, j) => {
      const path = `${specPath}.${field}[${j}].image`;
      if (!isObject(c)) bad(file, `document ${document}: ${specPath}.${field}[${j}] is not a mapping`);
      const image = c['image'];
      if (image !== undefined && typeof image !== 'string') bad(file, `document ${document}: ${path} is not a string`);
      found++;
      // A container without an image is not runnable as written; report it so that it is not silently passed.
      out.push({ file, document, kind, name, container: str(c['name']), field, path, image: typeof image === 'string' ? image : null });
    });
  }
  if (found === 0) bad(file, `document ${document}: ${kind} ${name ?? '(unnamed)'}: ${specPath}.containers lists no container`);
}

/** A remote include (git, OCI, https…) is not a file here. */
const REMOTE_INCLUDE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|oci:)/i;

function composeImages(doc: Record<string, unknown>, file: string, document: number, out: WorkloadImage[], includes: string[] | undefined): void {
  const services = doc['services'] ?? {};
  if (!isObject(services)) bad(file, `document ${document}: services is not a mapping`);
  const before = out.length;
  for (const [service, def] of Object.entries(services)) {
    if (!isObject(def)) bad(file, `document ${document}: services.${service} is not a mapping`);
    const image = def['image'];
    if (image !== undefined && typeof image !== 'string') bad(file, `document ${document}: services.${service}.image is not a string`);
    out.push({ file, document, kind: 'compose', name: service, container: service, field: 'service', path: `services.${service}.image`, image: typeof image === 'string' ? image : null });
    // An image volume (`{type: image, source: REF}`) mounts another image's content into the service.
    const volumes = def['volumes'];
    if (Array.isArray(volumes)) {
      volumes.forEach((v, j) => {
        if (!isObject(v) || v['type'] !== 'image') return;
        const source = v['source'];
        if (typeof source !== 'string') bad(file, `document ${document}: services.${service}.volumes[${j}].source is not a string`);
        out.push({ file, document, kind: 'compose', name: service, container: service, field: 'volume', path: `services.${service}.volumes[${j}].source`, image: source });
      });
    }
  }
  // Anything else that names an image (not `x-` extensions: they run only through aliases, which are expanded in place).
  const rest = Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('x-') && k !== 'include'));
  walkImages(rest, { file, document, kind: 'compose', name: null }, '', out, new Set(out.slice(before).map((w) => w.path)));
  const include = doc['include'];
  if (include === undefined || include === null) return;
  if (!Array.isArray(include)) bad(file, `document ${document}: include is not a list`);
  include.forEach((entry, j) => {
    // Compose spec: a path, or {path: path | [paths], project_directory, env_file}.
    const raw = isObject(entry) ? entry['path'] : entry;
    const paths = Array.isArray(raw) ? raw : [raw];
    for (const p of paths) {
      if (typeof p !== 'string' || p === '') bad(file, `document ${document}: include[${j}]: a path must be a non-empty string`);
      if (REMOTE_INCLUDE.test(p)) bad(file, `document ${document}: include[${j}]: ${p} is remote; vouch gates local files only: render the project with "docker compose config" and gate that`);
      if (!includes) bad(file, `document ${document}: include[${j}]: compose includes are followed only when the file is read from disk`);
      includes.push(p);
    }
  });
}

const MAX_INCLUDED_FILES = 256;

/** Read `file` (bounded) and list its images, and those of the compose files it includes (each file once: cycles end). */
export async function readWorkloadImages(file: string, seen: Set<string> = new Set()): Promise<WorkloadImage[]> {
  const out: WorkloadImage[] = [];
  const read = async (f: string, from: string | null): Promise<void> => {
    const where = from === null ? f : `${from}: include ${f}`;
    let real: string;
    try {
      real = await realpath(f);
    } catch (e) {
      throw new VouchError('NOT_FOUND', `${sanitizeLine(where)}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (seen.has(real)) return;
    seen.add(real);
    if (seen.size > MAX_INCLUDED_FILES) throw new VouchError('LIMIT_EXCEEDED', `${sanitizeLine(where)}: more than ${MAX_INCLUDED_FILES} manifest and included files`);
    // Bounded, non-blocking, regular files only: an include of /dev/zero, /dev/urandom or a FIFO is refused at once.
    const text = (await readLocalFile(real, { what: 'manifest', max: MAX_MANIFEST_FILE_BYTES, name: where })).toString('utf8');
    const includes: string[] = [];
    pushAll(out, workloadImages(text, f, includes));
    // Relative to the including file's folder, as compose resolves them.
    for (const inc of includes) await read(isAbsolute(inc) ? inc : join(dirname(f), inc), f);
  };
  await read(file, null);
  return out;
}

export type PinProblem = { code: 'NO_IMAGE' | 'INVALID_REFERENCE' | 'NOT_PINNED' | 'UNREADABLE_IMAGE'; message: string };

/** The normalised name and digest of a pinned image, or why it is not pinned. */
export function pinnedImage(image: string | null): { name: string; digest: string } | PinProblem {
  if (image === null) return { code: 'NO_IMAGE', message: 'no image: the service builds one, nothing was reviewed' };
  let ref;
  try {
    ref = parseDockerReference(image);
  } catch (e) {
    return { code: 'INVALID_REFERENCE', message: (e as Error).message };
  }
  if (!ref.digest) return { code: 'NOT_PINNED', message: `${sanitizeLine(image)} is not pinned by digest (a tag can move after the review)` };
  return { name: formatDockerReference({ registry: ref.registry, repository: ref.repository }), digest: ref.digest };
}
