/**
 * Package URLs (https://github.com/package-url/purl-spec) over packageurl-js:
 * builders that spell purls the way syft and trivy do (OS packages carry
 * `arch` and `distro` qualifiers), a parser that never throws, and the
 * normalisation used to match packages from two sources.
 */
import { PackageURL } from 'packageurl-js';
import type { Distro } from './types.js';

export interface PurlParts {
  type: string;
  namespace?: string | null;
  name: string;
  version?: string | null;
  qualifiers?: Record<string, string> | null;
  subpath?: string | null;
}

export interface ParsedPurl {
  type: string;
  namespace: string | null;
  name: string;
  version: string | null;
  qualifiers: Record<string, string>;
  subpath: string | null;
}

/** Qualifiers without empty values (packageurl-js drops them too), or null when none are left. */
function cleanQualifiers(q: Record<string, string | null | undefined> | null | undefined): Record<string, string> | null {
  if (!q) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (typeof v === 'string' && v !== '') out[k] = v;
  return Object.keys(out).length ? out : null;
}

/** Percent-encoding for a hand-built purl (used only when packageurl-js refuses a value it should accept). */
function enc(s: string): string {
  return encodeURIComponent(s).replace(/%3A/gi, ':');
}

/**
 * A purl string from its parts. packageurl-js normalises per type (npm and pypi
 * lower-case, pypi `_` → `-`); when it rejects a value (it throws on some golang
 * versions), the purl is built by hand with the same encoding.
 */
export function buildPurl(p: PurlParts): string {
  const qualifiers = cleanQualifiers(p.qualifiers);
  try {
    return new PackageURL(p.type, p.namespace || undefined, p.name, p.version || undefined, qualifiers ?? undefined, p.subpath || undefined).toString();
  } catch {
    const ns = p.namespace ? `${p.namespace.split('/').filter(Boolean).map(enc).join('/')}/` : '';
    const v = p.version ? `@${enc(p.version)}` : '';
    const q = qualifiers
      ? `?${Object.keys(qualifiers)
          .sort()
          .map((k) => `${k.toLowerCase()}=${enc(qualifiers[k]!)}`)
          .join('&')}`
      : '';
    const sp = p.subpath ? `#${p.subpath.split('/').filter(Boolean).map(enc).join('/')}` : '';
    return `pkg:${p.type.toLowerCase()}/${ns}${enc(p.name)}${v}${q}${sp}`;
  }
}

/** `debian-12`, `alpine-3.20.1`: the distro qualifier as syft and trivy write it (null without an id). */
export function distroQualifier(distro: Distro | null | undefined): string | null {
  if (!distro?.id) return null;
  return distro.versionId ? `${distro.id}-${distro.versionId}` : distro.id;
}

/** Inverse of distroQualifier: `opensuse-leap-15.5` → {id: opensuse-leap, versionId: 15.5}. */
export function parseDistroQualifier(q: string): Distro {
  const m = /^(.+?)-(\d[^-]*)$/.exec(q);
  return m ? { id: m[1]!, versionId: m[2]! } : { id: q, versionId: null };
}

export interface OsPurlOptions {
  arch?: string | null;
  distro?: Distro | null;
  /** Overrides the namespace (default: the distro id, else debian/alpine/redhat by type). */
  namespace?: string | null;
  /** RPM epoch (a qualifier, as syft writes it). */
  epoch?: string | number | null;
  /** Source package (`upstream` qualifier), when it differs from the binary package. */
  upstream?: string | null;
}

const DEFAULT_NAMESPACE: Record<string, string> = { deb: 'debian', apk: 'alpine', rpm: 'redhat' };

/** deb/apk/rpm purls: `pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12`. */
export function osPurl(type: 'deb' | 'apk' | 'rpm', name: string, version: string, opts: OsPurlOptions = {}): string {
  const namespace = opts.namespace ?? opts.distro?.id ?? DEFAULT_NAMESPACE[type] ?? null;
  const epoch = opts.epoch === null || opts.epoch === undefined || opts.epoch === '' || opts.epoch === 0 ? null : String(opts.epoch);
  return buildPurl({
    type,
    namespace,
    name,
    version,
    qualifiers: {
      arch: opts.arch ?? null,
      distro: distroQualifier(opts.distro),
      epoch: type === 'rpm' ? epoch : null,
      upstream: opts.upstream && opts.upstream !== name ? opts.upstream : null,
    } as Record<string, string | null>,
  } as PurlParts);
}

export const debPurl = (name: string, version: string, opts?: OsPurlOptions): string => osPurl('deb', name, version, opts);
export const apkPurl = (name: string, version: string, opts?: OsPurlOptions): string => osPurl('apk', name, version, opts);
export const rpmPurl = (name: string, version: string, opts?: OsPurlOptions): string => osPurl('rpm', name, version, opts);

/** npm, scoped or not: `@babel/core` → `pkg:npm/%40babel/core@7.0.0`. */
export function npmPurl(name: string, version?: string | null): string {
  const m = /^(@[^/]+)\/(.+)$/.exec(name);
  return buildPurl({ type: 'npm', namespace: m ? m[1]! : null, name: m ? m[2]! : name, version: version ?? null });
}

/** PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export function pypiPurl(name: string, version?: string | null): string {
  return buildPurl({ type: 'pypi', name: normalizePypiName(name), version: version ?? null });
}

/** Go modules: the module path's last element is the name, the rest the namespace (as syft writes them). */
export function golangPurl(modulePath: string, version?: string | null): string {
  const i = modulePath.lastIndexOf('/');
  return buildPurl({
    type: 'golang',
    namespace: i > 0 ? modulePath.slice(0, i) : null,
    name: i > 0 ? modulePath.slice(i + 1) : modulePath,
    version: version ?? null,
  });
}

export function mavenPurl(groupId: string | null, artifactId: string, version?: string | null): string {
  return buildPurl({ type: 'maven', namespace: groupId, name: artifactId, version: version ?? null });
}

export function genericPurl(name: string, version?: string | null, namespace?: string | null): string {
  return buildPurl({ type: 'generic', namespace: namespace ?? null, name: name || 'unknown', version: version ?? null });
}

/** Parse a purl; null when it is not one (never throws, whatever the input). */
export function parsePurl(s: unknown): ParsedPurl | null {
  if (typeof s !== 'string' || !s.startsWith('pkg:') || s.length > 4096) return null;
  try {
    const p = PackageURL.fromString(s);
    if (!p.type || !p.name) return null;
    return {
      type: String(p.type).toLowerCase(),
      namespace: p.namespace ?? null,
      name: p.name,
      version: p.version ?? null,
      qualifiers: { ...(p.qualifiers ?? {}) },
      subpath: p.subpath ?? null,
    };
  } catch {
    return null;
  }
}

export function isPurl(s: unknown): s is string {
  return parsePurl(s) !== null;
}

/** OS package types, whose namespace is the vendor rather than part of the name. */
const OS_TYPES = new Set(['deb', 'apk', 'rpm', 'alpm']);

function normalName(type: string, name: string): string {
  if (type === 'pypi') return normalizePypiName(name);
  if (type === 'npm' || type === 'deb' || type === 'apk' || type === 'golang') return name;
  return name;
}

/**
 * The purl as vouch compares it: parsed and printed again (packageurl-js's
 * per-type normalisation), pypi names PEP 503-normalised, qualifiers and
 * subpath dropped unless asked for. Null when `s` is not a purl.
 */
export function normalizePurl(s: unknown, opts: { qualifiers?: boolean; version?: boolean } = {}): string | null {
  const p = parsePurl(s);
  if (!p) return null;
  return buildPurl({
    type: p.type,
    namespace: p.namespace,
    name: normalName(p.type, p.name),
    version: opts.version === false ? null : p.version,
    qualifiers: opts.qualifiers ? p.qualifiers : null,
    subpath: opts.qualifiers ? p.subpath : null,
  });
}

/**
 * type + name identity for the second matching pass: language ecosystems keep
 * their namespace (npm scope, maven group, go module path), OS packages drop
 * the vendor namespace (debian vs ubuntu), names normalised per type.
 */
export function packageIdentity(type: string, name: string, purl?: string | null): string {
  const p = parsePurl(purl);
  if (p) {
    const ns = OS_TYPES.has(p.type) || !p.namespace ? '' : `${p.namespace.toLowerCase()}/`;
    return `${p.type}/${ns}${normalName(p.type, p.name).toLowerCase()}`;
  }
  const t = type.toLowerCase();
  return `${t}/${normalName(t, name).toLowerCase()}`;
}
