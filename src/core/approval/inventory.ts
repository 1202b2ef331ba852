/**
 * An approval record's package inventory (purls per image) as the package
 * model the diff and the checks read: the next review diffs against the
 * record without fetching the old images.
 */
import { parsePurl } from '../packages/purl.js';
import { comparePackages, type Package, type PackageInventory } from '../packages/types.js';

const OS_TYPES = new Set(['deb', 'apk', 'rpm', 'alpm']);

export function inventoryFromPurls(purls: readonly string[], licenses: Record<string, string[]> = {}): PackageInventory {
  const packages: Package[] = [];
  const warnings: string[] = [];
  for (const purl of purls) {
    const p = parsePurl(purl);
    if (!p) {
      warnings.push(`approval inventory: ${purl.slice(0, 200)} is not a package URL`);
      continue;
    }
    const name = p.namespace && !OS_TYPES.has(p.type) ? `${p.namespace}${p.type === 'maven' ? ':' : '/'}${p.name}` : p.name;
    packages.push({ name, version: p.version ?? '', type: p.type, purl, licenses: Object.hasOwn(licenses, purl) ? [...licenses[purl]!] : [], locations: [] });
  }
  packages.sort(comparePackages);
  return { source: 'file', distro: null, packages, warnings };
}
