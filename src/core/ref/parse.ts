/**
 * Image references as skopeo / containers-image spell them, and docker's own
 * normalisation of short names (distribution/reference's grammar).
 */
import { VouchError } from '../errors.js';
import type { DockerReference, ImageReference } from './types.js';

const MAX_INPUT = 4096;
const NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)';
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

export const DEFAULT_REGISTRY = 'docker.io';

function invalid(input: string, why: string): VouchError {
  return new VouchError('INVALID_REFERENCE', `invalid image reference ${JSON.stringify(clip(input))}: ${why}`);
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function checkDigest(input: string, digest: string): string {
  if (!DIGEST.test(digest)) throw invalid(input, `malformed digest ${JSON.stringify(clip(digest))}`);
  const [alg, hex] = digest.split(':') as [string, string];
  if (alg === 'sha256' && !/^[a-f0-9]{64}$/.test(hex)) throw invalid(input, 'a sha256 digest has 64 lowercase hex digits');
  if (alg === 'sha512' && !/^[a-f0-9]{128}$/.test(hex)) throw invalid(input, 'a sha512 digest has 128 lowercase hex digits');
  if (alg !== 'sha256' && alg !== 'sha512') throw invalid(input, `unsupported digest algorithm ${JSON.stringify(alg)}`);
  return digest;
}

/** Parse a docker-style reference (`alpine`, `ghcr.io/a/b:1.2@sha256:…`) and normalise it as docker does. */
export function parseDockerReference(input: string): DockerReference {
  if (input.length === 0) throw invalid(input, 'empty');
  if (input.length > MAX_INPUT) throw invalid(input, 'too long');
  if (/\s/.test(input) || /[\u0000-\u001f\u007f]/.test(input)) throw invalid(input, 'contains whitespace or control characters');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = checkDigest(input, rest.slice(at + 1));
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid(input, `malformed tag ${JSON.stringify(clip(tag))}`);
  }
  if (rest.length === 0) throw invalid(input, 'missing repository name');
  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    // docker's rule: the first component is a registry when it looks like a host.
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN.test(first)) throw invalid(input, `malformed registry host ${JSON.stringify(clip(first))}`);
      registry = first;
      path = rest.slice(firstSlash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (path !== path.toLowerCase()) throw invalid(input, 'repository name must be lowercase');
  const components = path.split('/');
  for (const c of components) {
    if (!NAME_COMPONENT.test(c)) throw invalid(input, `malformed repository component ${JSON.stringify(clip(c))}`);
  }
  if (registry === DEFAULT_REGISTRY && components.length === 1) path = `library/${path}`;
  if (registry.length + 1 + path.length > 255) throw invalid(input, 'repository name longer than 255 characters');
  if (!tag && !digest) tag = 'latest';
  const ref: DockerReference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `docker.io/library/alpine:latest@sha256:…` */
export function formatDockerReference(ref: DockerReference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** Docker's short form for display: `alpine:3.20`, `ghcr.io/a/b:1`. */
export function familiarName(ref: DockerReference): string {
  let repo = ref.repository;
  if (ref.registry === DEFAULT_REGISTRY && repo.startsWith('library/')) repo = repo.slice('library/'.length);
  const base = ref.registry === DEFAULT_REGISTRY ? repo : `${ref.registry}/${repo}`;
  return base + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** Split `PATH[:TAG]` or `PATH[:TAG]@sha256:HEX` / `PATH:@sha256:HEX` for the oci and oci-archive transports. */
function splitPathSelector(input: string, body: string, allowDigest: boolean): { path: string; tag?: string; digest?: string } {
  let rest = body;
  let digest: string | undefined;
  if (allowDigest) {
    const m = /@(sha256:[^@:/]*)$/.exec(rest);
    if (m) {
      if (!SHA256.test(m[1]!)) throw invalid(input, `malformed digest ${JSON.stringify(clip(m[1]!))}`);
      digest = m[1]!;
      rest = rest.slice(0, m.index);
      if (rest.endsWith(':')) rest = rest.slice(0, -1);
    }
  }
  // containers-image splits at the first colon: the path may not contain one.
  const colon = rest.indexOf(':');
  const path = colon >= 0 ? rest.slice(0, colon) : rest;
  const tag = colon >= 0 ? rest.slice(colon + 1) : undefined;
  if (path.length === 0) throw invalid(input, 'missing path');
  if (tag !== undefined) {
    if (tag.length === 0) throw invalid(input, 'empty tag after ":"');
    if (!/^[a-zA-Z0-9_.:/@+-]+$/.test(tag)) throw invalid(input, `malformed tag ${JSON.stringify(clip(tag))}`);
  }
  const out: { path: string; tag?: string; digest?: string } = { path };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

const TRANSPORTS = ['docker', 'oci', 'oci-archive', 'docker-archive', 'docker-daemon'] as const;

/** Edit distance (insertions, deletions, substitutions), for transport typos. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * `docker-archiv:/x.tar`: a prefix one or two edits from a transport, before
 * something that is a path rather than a tag, is a mistyped transport (not an
 * image named "docker-archiv"). Returns the transport meant, or null.
 */
function nearTransport(prefix: string, body: string): string | null {
  if (!/^[a-z][a-z-]{1,20}$/i.test(prefix)) return null;
  const pathLike = /^[/.~]/.test(body) || /\.(tar|tar\.gz|tgz)(:|$)/i.test(body) || (body.includes('/') && !/^\d+\//.test(body));
  if (!pathLike) return null;
  let best: string | null = null;
  let bestD = 3;
  for (const t of TRANSPORTS) {
    const d = distance(prefix.toLowerCase(), t);
    if (d > 0 && d < bestD && d <= Math.max(1, Math.floor(t.length / 3))) {
      best = t;
      bestD = d;
    }
  }
  return best;
}

/** Parse any reference vouch accepts. A bare argument becomes `{transport: 'auto'}` and is resolved by sources/open.ts. */
export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string' || input.length === 0) throw invalid(String(input), 'empty');
  if (input.length > MAX_INPUT) throw invalid(input, 'too long');
  if (/[\u0000-\u001f\u007f]/.test(input)) throw invalid(input, 'contains control characters');
  if (input.startsWith('docker://')) return { transport: 'docker', ref: parseDockerReference(input.slice('docker://'.length)) };
  const colon = input.indexOf(':');
  const prefix = colon > 0 ? input.slice(0, colon) : '';
  const body = input.slice(colon + 1);
  switch (prefix) {
    case 'oci':
    case 'oci-archive': {
      const { path, tag, digest } = splitPathSelector(input, body, true);
      const r: { transport: typeof prefix; path: string; tag?: string; digest?: string } = { transport: prefix, path };
      if (tag !== undefined) r.tag = tag;
      if (digest !== undefined) r.digest = digest;
      return r;
    }
    case 'docker-archive': {
      const { path, tag } = splitPathSelector(input, body, false);
      const r: { transport: 'docker-archive'; path: string; tag?: string } = { transport: 'docker-archive', path };
      if (tag !== undefined) {
        // The selector is a docker reference (`name:tag`), or containers-image's `@N` index form.
        if (!/^@\d+$/.test(tag)) parseDockerReference(tag);
        r.tag = tag;
      }
      return r;
    }
    case 'docker-daemon': {
      if (body.length === 0) throw invalid(input, 'missing image name');
      // `docker-daemon:sha256:<hex>` names an image ID.
      if (/^sha256:/.test(body)) {
        if (!SHA256.test(body)) throw invalid(input, `malformed image ID ${JSON.stringify(clip(body))}`);
        return { transport: 'docker-daemon', name: body, digest: body };
      }
      const ref = parseDockerReference(body);
      if (ref.digest && !ref.tag) return { transport: 'docker-daemon', name: formatDockerReference(ref), digest: ref.digest };
      return { transport: 'docker-daemon', name: formatDockerReference(ref) };
    }
    default:
      break;
  }
  const near = nearTransport(prefix, body);
  if (near) throw invalid(input, `unknown transport ${JSON.stringify(prefix)} (did you mean ${near}:?); use one of ${TRANSPORTS.join(', ')}`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) throw invalid(input, `unknown transport ${JSON.stringify(input.slice(0, input.indexOf(':')))}; use one of ${TRANSPORTS.join(', ')}`);
  return { transport: 'auto', input };
}

/** Canonical transport:form of a parsed reference (paths as given). */
export function formatReference(r: ImageReference): string {
  switch (r.transport) {
    case 'docker':
      return `docker://${formatDockerReference(r.ref)}`;
    case 'oci':
    case 'oci-archive':
      return `${r.transport}:${r.path}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
    case 'docker-archive':
      return `docker-archive:${r.path}${r.tag ? `:${r.tag}` : ''}`;
    case 'docker-daemon':
      return `docker-daemon:${r.name}`;
    case 'auto':
      return r.input;
  }
}
