/** Shared pieces of the SBOM readers: errors, warnings, defensive accessors, package assembly. */
import { VouchError, type ErrorCode } from '../../errors.js';
import { buildPurl, genericPurl, parseDistroQualifier, parsePurl, type ParsedPurl } from '../purl.js';
import type { Distro, Package, PackageLocation } from '../types.js';
import { comparePackages } from '../types.js';

/** What went wrong with an SBOM: malformed, a format or version we do not read, or too large. */
export type SbomErrorKind = 'invalid' | 'unsupported' | 'too-large';

const CODE: Record<SbomErrorKind, ErrorCode> = {
  // ErrorCode has no SBOM-specific member yet; these are the closest existing codes (all exit 2).
  invalid: 'INVALID_MANIFEST',
  unsupported: 'UNSUPPORTED_MEDIA_TYPE',
  'too-large': 'LIMIT_EXCEEDED',
};

/** A VouchError (exit code 2) whose one-line message names the file and, when there is one, the record. */
export class SbomError extends VouchError {
  readonly kind: SbomErrorKind;
  constructor(kind: SbomErrorKind, message: string, options?: { cause?: unknown }) {
    super(CODE[kind], message.replace(/[\r\n]+/g, ' '), options);
    this.name = 'SbomError';
    this.kind = kind;
  }
}

/** At most this many warnings are kept per document; the rest are counted. */
export const MAX_WARNINGS = 200;

export class ReadContext {
  readonly what: string;
  readonly warnings: string[] = [];
  private dropped = 0;
  constructor(what: string) {
    this.what = what;
  }
  warn(msg: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(`${this.what}: ${oneLine(msg)}`);
    else this.dropped++;
  }
  fail(msg: string, kind: SbomErrorKind = 'invalid'): never {
    throw new SbomError(kind, `${this.what}: ${msg}`);
  }
  finishWarnings(): string[] {
    return this.dropped ? [...this.warnings, `${this.what}: … and ${this.dropped} more warnings`] : this.warnings;
  }
}

export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

/** A value quoted for a message: clipped and single-line. */
export function q(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  const c = oneLine(s);
  return JSON.stringify(c.length > 80 ? `${c.slice(0, 79)}…` : c);
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** syft artifact types (and CycloneDX/SPDX hints) → purl types. */
const SYFT_TYPES: Record<string, string> = {
  apk: 'apk',
  deb: 'deb',
  rpm: 'rpm',
  npm: 'npm',
  python: 'pypi',
  'go-module': 'golang',
  'java-archive': 'maven',
  'jenkins-plugin': 'maven',
  gem: 'gem',
  'rust-crate': 'cargo',
  'php-composer': 'composer',
  'dotnet': 'nuget',
  'hex': 'hex',
  'conan': 'conan',
  'dart-pub': 'pub',
  'cocoapods': 'cocoapods',
  'swift': 'swift',
  'hackage': 'hackage',
  'alpm': 'alpm',
  'portage': 'ebuild',
  'binary': 'generic',
};

export function typeFromSyft(t: string | null): string | null {
  if (!t) return null;
  return SYFT_TYPES[t] ?? null;
}

export interface RawPackage {
  /** How a message names this record: `component bom-ref "x"`, `package SPDXRef-y`, `artifact id "z"`. */
  record: string;
  name: string;
  version: string;
  purl: string | null;
  /** The purl already parsed by the reader (saves a second parse); undefined = not parsed yet. */
  parsedPurl?: ParsedPurl | null;
  /** Type hint when the purl is missing or invalid (syft type, ...). */
  typeHint?: string | null;
  /** Namespace for a synthesised purl (CycloneDX group). */
  namespace?: string | null;
  licenses: string[];
  locations: PackageLocation[];
  metadata?: Record<string, string>;
}

/**
 * Turns a reader's record into a Package: the type comes from the purl; a
 * missing or invalid purl is synthesised from the type hint (or `generic`), an
 * invalid one with a warning.
 */
export function toPackage(raw: RawPackage, ctx: ReadContext): Package {
  let purl = raw.purl;
  const parsed = raw.parsedPurl !== undefined ? raw.parsedPurl : purl ? parsePurl(purl) : null;
  if (purl && !parsed) ctx.warn(`${raw.record}: invalid purl ${q(purl)}; using a synthesised one`);
  let type: string;
  if (parsed) {
    type = parsed.type;
  } else {
    type = raw.typeHint || 'generic';
    purl = synthesisePurl(type, raw.name, raw.version, raw.namespace ?? null);
  }
  const pkg: Package = {
    name: raw.name,
    version: raw.version,
    type,
    purl: purl!,
    licenses: uniq(raw.licenses.filter((l) => l && l !== 'NOASSERTION' && l !== 'NONE')),
    locations: raw.locations,
  };
  if (raw.metadata && Object.keys(raw.metadata).length) pkg.metadata = raw.metadata;
  return pkg;
}

function synthesisePurl(type: string, name: string, version: string, namespace: string | null): string {
  if (type === 'generic' || !name) return genericPurl(name, version || null, namespace);
  try {
    if (type === 'npm') {
      const m = /^(@[^/]+)\/(.+)$/.exec(name);
      if (m) return buildPurl({ type, namespace: m[1]!, name: m[2]!, version: version || null });
    }
    if (type === 'golang') {
      const i = name.lastIndexOf('/');
      if (i > 0) return buildPurl({ type, namespace: name.slice(0, i), name: name.slice(i + 1), version: version || null });
    }
    return buildPurl({ type, namespace, name, version: version || null });
  } catch {
    return genericPurl(name, version || null, namespace);
  }
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

/**
 * Sorted, deduplicated packages: two records with the same purl, name,
 * version and locations are one package (warned about, the first kept).
 */
export function finishPackages(items: Array<{ pkg: Package; record: string }>, ctx: ReadContext): Package[] {
  const seen = new Map<string, string>();
  const out: Package[] = [];
  for (const { pkg, record } of items) {
    const key = `${pkg.purl}\0${pkg.name}\0${pkg.version}\0${pkg.locations.map((l) => `${l.path}\u0001${l.layer ?? ''}`).join('\u0002')}`;
    const first = seen.get(key);
    if (first !== undefined) {
      ctx.warn(`${record}: duplicate of ${first} (${pkg.name}@${pkg.version}); deduplicated`);
      continue;
    }
    seen.set(key, record);
    out.push(pkg);
  }
  return out.sort(comparePackages);
}

/** The distro most OS purls name in their `distro` qualifier (syft, trivy), or null. */
export function distroFromPurls(pkgs: Package[]): Distro | null {
  const counts = new Map<string, number>();
  for (const p of pkgs) {
    if (p.type !== 'deb' && p.type !== 'apk' && p.type !== 'rpm') continue;
    const d = parsePurl(p.purl)?.qualifiers.distro;
    if (d) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best: string | null = null;
  let n = 0;
  for (const [d, c] of counts) if (c > n) [best, n] = [d, c];
  return best ? parseDistroQualifier(best) : null;
}

/** Licence strings that are SPDX placeholders rather than licences. */
export function isNoAssertion(s: string | null): boolean {
  return !s || s === 'NOASSERTION' || s === 'NONE';
}

export function location(path: unknown, layer: unknown): PackageLocation | null {
  const p = str(path);
  if (!p) return null;
  return { path: p, layer: str(layer) || null };
}
