/**
 * Semantic Versioning 2.0.0 precedence, as node-semver (npm) and
 * golang.org/x/mod/semver (Go modules) implement it: major.minor.patch
 * numerically, a version with a pre-release below the same version without,
 * pre-release identifiers compared one by one (numeric ones numerically and
 * below alphanumeric ones, which compare in ASCII order; a shorter list of
 * equal identifiers sorts first), build metadata ignored.
 */
import { type Ordering, compareDigits, compareStrings, stripZeros } from './types.js';

export interface SemVer {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  build: string[];
}

const MAX_SAFE = String(Number.MAX_SAFE_INTEGER);
const tooBig = (d: string): boolean => compareDigits(d, MAX_SAFE) > 0;

// node-semver's LOOSE grammar: leading `v`/`=`/blanks, numbers may have leading zeros, the
// pre-release hyphen is optional when the pre-release starts with a letter.
const NPM_LOOSE = /^[v=\s]*([0-9]+)\.([0-9]+)\.([0-9]+)(?:-?((?:[0-9]+|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)(?:\.(?:[0-9]+|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** Parse an npm version as `semver.parse(v, {loose: true})` accepts it; undefined otherwise. */
export function parseNpmVersion(input: string): SemVer | undefined {
  if (input.length > 256) return undefined;
  const m = NPM_LOOSE.exec(input.trim());
  if (!m) return undefined;
  const [major, minor, patch] = [stripZeros(m[1]!), stripZeros(m[2]!), stripZeros(m[3]!)];
  if (tooBig(major) || tooBig(minor) || tooBig(patch)) return undefined;
  const prerelease = m[4] ? m[4].split('.').map((id) => (/^[0-9]+$/.test(id) ? stripZeros(id) : id)) : [];
  return { major, minor, patch, prerelease, build: m[5] ? m[5].split('.') : [] };
}

// golang.org/x/mod/semver: `v` required, no leading zeros, `vMAJOR` and `vMAJOR.MINOR` shorthands
// (only without pre-release or build).
const GO = /^v(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?$/;

/**
 * Parse a Go module version (`v1.2.3`, `v1.2.3-pre`, pseudo-versions such as
 * `v0.0.0-20191109021931-daa7c04131f5`, `v2.0.0+incompatible`). SBOM producers
 * sometimes drop the `v`; a bare `1.2.3` is read as `v1.2.3`.
 */
export function parseGoVersion(input: string): SemVer | undefined {
  let s = input.trim();
  if (/^[0-9]/.test(s)) s = `v${s}`;
  const m = GO.exec(s);
  if (!m) return undefined;
  return {
    major: m[1]!,
    minor: m[2] ?? '0',
    patch: m[3] ?? '0',
    prerelease: m[4] ? m[4].split('.') : [],
    build: m[5] ? m[5].split('.') : [],
  };
}

function compareIdentifiers(a: string, b: string): Ordering {
  const an = /^[0-9]+$/.test(a);
  const bn = /^[0-9]+$/.test(b);
  if (an && bn) return compareDigits(a, b);
  if (an) return -1;
  if (bn) return 1;
  return compareStrings(a, b);
}

export function compareSemVer(a: SemVer, b: SemVer): Ordering {
  const main = compareDigits(a.major, b.major) || compareDigits(a.minor, b.minor) || compareDigits(a.patch, b.patch);
  if (main) return main;
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (pa.length === 0 || pb.length === 0) return pa.length === pb.length ? 0 : pa.length === 0 ? 1 : -1;
  for (let i = 0; ; i++) {
    if (i >= pa.length || i >= pb.length) return pa.length === pb.length ? 0 : i >= pa.length ? -1 : 1;
    const r = compareIdentifiers(pa[i]!, pb[i]!);
    if (r) return r;
  }
}

export function compareNpm(a: string, b: string): Ordering | undefined {
  const pa = parseNpmVersion(a);
  const pb = parseNpmVersion(b);
  return pa && pb ? compareSemVer(pa, pb) : undefined;
}

export function compareGo(a: string, b: string): Ordering | undefined {
  const pa = parseGoVersion(a);
  const pb = parseGoVersion(b);
  return pa && pb ? compareSemVer(pa, pb) : undefined;
}

/** Is this Go version a pseudo-version (golang.org/x/mod/module.IsPseudoVersion)? */
export function isGoPseudoVersion(v: string): boolean {
  return (v.split('-').length - 1 >= 2) && parseGoVersion(v) !== undefined && GO_PSEUDO.test(v);
}

const GO_PSEUDO = /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
