/**
 * Attached SBOM vs catalogue: which packages only one side has, and which
 * both have at different versions. Matching is a multiset match in two
 * passes: first by purl without qualifiers and subpath (normalised: pypi
 * names PEP 503, packageurl-js's per-type rules), then what is left by
 * type + name (language namespaces kept, OS vendor namespaces dropped), which
 * pairs the same package at two versions.
 */
import { normalizePurl, packageIdentity } from './purl.js';
import { comparePackages, type Package, type PackageInventory } from './types.js';

export interface VersionMismatch {
  type: string;
  name: string;
  attachedVersion: string;
  catalogVersion: string;
  attachedPurl: string;
  catalogPurl: string;
}

export interface InventoryComparison {
  onlyInAttached: Package[];
  onlyInCatalog: Package[];
  versionMismatch: VersionMismatch[];
  /** Packages matched exactly (by purl without qualifiers). */
  matched: number;
}

type Side = Package[] | Pick<PackageInventory, 'packages'>;
const list = (s: Side): Package[] => (Array.isArray(s) ? s : s.packages);

function exactKey(p: Package): string {
  return normalizePurl(p.purl) ?? `${packageIdentity(p.type, p.name, null)}@${p.version}`;
}

function group(pkgs: Package[], key: (p: Package) => string): Map<string, Package[]> {
  const m = new Map<string, Package[]>();
  for (const p of pkgs) {
    const k = key(p);
    const l = m.get(k);
    if (l) l.push(p);
    else m.set(k, [p]);
  }
  return m;
}

export function compareInventories(attached: Side, catalog: Side): InventoryComparison {
  const a = [...list(attached)].sort(comparePackages);
  const c = [...list(catalog)].sort(comparePackages);

  // Pass 1: purl without qualifiers (multiset: n copies match n copies).
  const cByPurl = group(c, exactKey);
  const restA: Package[] = [];
  let matched = 0;
  for (const p of a) {
    const l = cByPurl.get(exactKey(p));
    if (l?.length) {
      l.shift();
      matched++;
    } else restA.push(p);
  }
  const restC = [...cByPurl.values()].flat().sort(comparePackages);

  // Pass 2: type + name, versions differ.
  const identity = (p: Package): string => packageIdentity(p.type, p.name, p.purl);
  const cByName = group(restC, identity);
  const onlyInAttached: Package[] = [];
  const versionMismatch: VersionMismatch[] = [];
  for (const p of restA) {
    const l = cByName.get(identity(p));
    const other = l?.shift();
    if (other) {
      versionMismatch.push({
        type: p.type,
        name: p.name,
        attachedVersion: p.version,
        catalogVersion: other.version,
        attachedPurl: p.purl,
        catalogPurl: other.purl,
      });
    } else onlyInAttached.push(p);
  }
  const onlyInCatalog = [...cByName.values()].flat().sort(comparePackages);
  versionMismatch.sort((x, y) => cmp(x.type, y.type) || cmp(x.name, y.name) || cmp(x.attachedVersion, y.attachedVersion));
  return { onlyInAttached, onlyInCatalog, versionMismatch, matched };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
