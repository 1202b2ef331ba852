/** The package model every cataloger, SBOM reader/writer and diff shares. Identity is the purl. */

/** purl types we produce (https://github.com/package-url/purl-spec). */
export type PackageType = 'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'golang' | 'maven' | 'generic' | string;

export interface PackageLocation {
  /** Absolute path in the image filesystem (or the SBOM's own location field). */
  path: string;
  /** diffId of the layer that introduced it; null when unknown (e.g. from an SBOM file). */
  layer: string | null;
}

export interface Package {
  name: string;
  version: string;
  type: PackageType;
  /** Package URL, built with packageurl-js; carries the distro qualifier for OS packages (as syft/trivy do). */
  purl: string;
  /** SPDX licence expressions or names, as found. */
  licenses: string[];
  locations: PackageLocation[];
  /** Optional extras some sources know (arch, source package, supplier...). */
  metadata?: Record<string, string>;
}

export interface Distro {
  /** os-release ID, e.g. "debian", "alpine", "rhel". */
  id: string | null;
  /** os-release VERSION_ID, e.g. "12", "3.20.1". */
  versionId: string | null;
  prettyName?: string | null;
}

export interface PackageInventory {
  source: 'catalog' | 'attached' | 'file';
  distro: Distro | null;
  /** Sorted by type, name, version. */
  packages: Package[];
  /** Warnings that name the file and record (truncated database records, unsupported rpmdb formats...). */
  warnings: string[];
  /** An SBOM's own subject: the image digest it says it describes (sbom/described.ts), when it names one. */
  describes?: string;
}

/** Stable order for every package list vouch prints: type, name, version (then purl). */
export function comparePackages(a: Package, b: Package): number {
  return cmp(a.type, b.type) || cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.purl, b.purl);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
