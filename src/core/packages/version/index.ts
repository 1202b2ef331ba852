/**
 * Each ecosystem's own version ordering, behind one dispatcher keyed by purl type.
 *
 *   compareVersions('deb', '1:1.0-1', '2.0-1')   →  1   (epochs first)
 *   compareVersions('npm', '1.0.0', 'latest')    →  undefined (not a version: direction "unknown")
 */
import type { PackageType } from '../types.js';
import { compareApk } from './apk.js';
import { compareDpkg } from './dpkg.js';
import { compareMaven } from './maven.js';
import { comparePep440 } from './pep440.js';
import { compareRpm } from './rpm.js';
import { compareGo, compareNpm } from './semver.js';
import type { Ordering } from './types.js';

export type { Ordering } from './types.js';
export { compareDpkg, parseDpkgVersion, verrevcmp } from './dpkg.js';
export { compareApk, isValidApkVersion } from './apk.js';
export { compareRpm, rpmvercmp, parseRpmEvr } from './rpm.js';
export { compareNpm, compareGo, parseNpmVersion, parseGoVersion, isGoPseudoVersion } from './semver.js';
export { comparePep440, parsePep440, normalizePep440 } from './pep440.js';
export { compareMaven, mavenCanonical } from './maven.js';

export type VersionComparator = (a: string, b: string) => Ordering | undefined;

/** The ordering each purl type uses. Types not listed have none: only identical strings compare (as equal). */
export const VERSION_COMPARATORS: Readonly<Record<string, VersionComparator>> = {
  deb: compareDpkg,
  apk: compareApk,
  alpm: compareRpm, // pacman's vercmp is rpmvercmp on [epoch:]version[-release]
  rpm: compareRpm,
  npm: compareNpm,
  golang: compareGo,
  pypi: comparePep440,
  maven: compareMaven,
  cargo: compareNpm, // Cargo versions are SemVer 2.0
};

/** The comparator for a purl type, or undefined when vouch knows no ordering for it. */
export function versionComparator(type: PackageType): VersionComparator | undefined {
  return Object.prototype.hasOwnProperty.call(VERSION_COMPARATORS, type) ? VERSION_COMPARATORS[type] : undefined;
}

/**
 * Compare two versions of a package of this purl type with the ecosystem's
 * ordering: -1 (a older), 0 (same version), 1 (a newer), or undefined when
 * either does not parse under that ecosystem's rules or the type has no known
 * ordering.
 */
export function compareVersions(type: PackageType, a: string, b: string): Ordering | undefined {
  const f = versionComparator(type);
  if (!f) return a === b ? 0 : undefined;
  return f(a, b);
}
