/**
 * The dependency diff between two package inventories. Packages are matched by
 * identity: the purl without version, qualifiers and subpath (type + name when
 * a package has no purl); versions are ordered with the ecosystem's own rules.
 */
import { comparePackages, type Package, type PackageInventory } from '../packages/types.js';
import { compareVersions } from '../packages/version/index.js';
import { pushAll } from '../util/fold.js';

export type Direction = 'upgrade' | 'downgrade' | 'unknown';

export interface PackageChange {
  name: string;
  type: string;
  from: string;
  to: string;
  direction: Direction;
}

export interface LicenseChange {
  name: string;
  type: string;
  from: string[];
  to: string[];
}

export interface PackageDiff {
  added: Package[];
  removed: Package[];
  changed: PackageChange[];
  licenseChanges: LicenseChange[];
}

/** The identity two versions of one package share: `pkg:type/namespace/name`, decoded, type lower-cased. */
export function packageKey(p: Pick<Package, 'purl' | 'type' | 'name'>): string {
  const purl = p.purl;
  if (typeof purl === 'string' && purl.startsWith('pkg:')) {
    let s = purl.slice(4);
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(0, hash);
    const q = s.indexOf('?');
    if (q >= 0) s = s.slice(0, q);
    const at = s.lastIndexOf('@');
    if (at > s.lastIndexOf('/')) s = s.slice(0, at);
    const slash = s.indexOf('/');
    if (slash > 0 && slash < s.length - 1 && !s.includes('%') && !s.includes('//') && !s.endsWith('/')) {
      // The common case: nothing to decode or collapse.
      const type = s.slice(0, slash).toLowerCase();
      return `pkg:${type}/${normalizeName(type, s.slice(slash + 1))}`;
    }
    const parts = s.split('/').filter((x) => x !== '');
    if (parts.length >= 2) {
      const type = parts[0]!.toLowerCase();
      return `pkg:${type}/${normalizeName(type, parts.slice(1).map(decode).join('/'))}`;
    }
  }
  return `type:${String(p.type).toLowerCase()}/${p.name}`;
}

/**
 * The purl spec's per-type name rules, which packageurl-js applies when vouch
 * builds a purl but other tools (syft writes `pkg:pypi/PyYAML`, `pkg:npm/JSONStream`)
 * do not: npm namespace and name lower-cased, pypi lower-cased with `_` as `-`
 * (and PEP 503's runs of `-_.` as one `-`).
 */
function normalizeName(type: string, nsName: string): string {
  if (type === 'npm') return nsName.toLowerCase();
  if (type === 'pypi') return nsName.toLowerCase().replace(/[-_.]+/g, '-');
  return nsName;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function direction(type: string, from: string, to: string): Direction {
  const r = compareVersions(type, from, to);
  return r === undefined || r === 0 ? 'unknown' : r < 0 ? 'upgrade' : 'downgrade';
}

/** Sort versions of one package oldest first (ecosystem order; unparseable ones by string, after the others). */
function sortByVersion(type: string, ps: Package[]): Package[] {
  return ps.sort((a, b) => {
    const r = compareVersions(type, a.version, b.version);
    if (r !== undefined && r !== 0) return r;
    if (r === undefined) {
      const av = compareVersions(type, a.version, a.version) !== undefined;
      const bv = compareVersions(type, b.version, b.version) !== undefined;
      if (av !== bv) return av ? -1 : 1;
    }
    return a.version < b.version ? -1 : a.version > b.version ? 1 : comparePackages(a, b);
  });
}

const normLicenses = (ls: readonly string[] | undefined): string[] => [...new Set((ls ?? []).map((l) => l.trim()).filter((l) => l !== ''))].sort();
const sameList = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Diff two inventories. Within one identity, versions present on both sides are
 * unchanged; the remaining ones are paired oldest-to-oldest as changes, and
 * what is left over is added or removed. Licence changes are reported for
 * every matched pair (same or different version) whose licence set differs.
 * Every list is sorted (type, name, then version).
 */
export function diffInventories(base: Pick<PackageInventory, 'packages'>, target: Pick<PackageInventory, 'packages'>): PackageDiff {
  const groups = new Map<string, { base: Package[]; target: Package[] }>();
  const group = (k: string): { base: Package[]; target: Package[] } => {
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { base: [], target: [] }));
    return g;
  };
  for (const p of base.packages) group(packageKey(p)).base.push(p);
  for (const p of target.packages) group(packageKey(p)).target.push(p);

  const out: PackageDiff = { added: [], removed: [], changed: [], licenseChanges: [] };
  const licence = (a: Package, b: Package): void => {
    const la = a.licenses ?? [];
    const lb = b.licenses ?? [];
    if (la.length === lb.length && la.every((x, i) => x === lb[i])) return; // the common case: identical lists
    const from = normLicenses(a.licenses);
    const to = normLicenses(b.licenses);
    if (!sameList(from, to)) out.licenseChanges.push({ name: b.name, type: b.type, from, to });
  };
  for (const g of groups.values()) {
    // Fast path: one version each side (the common case).
    if (g.base.length === 1 && g.target.length === 1) {
      const [a, b] = [g.base[0]!, g.target[0]!];
      if (a.version !== b.version) out.changed.push({ name: b.name, type: b.type, from: a.version, to: b.version, direction: direction(b.type, a.version, b.version) });
      licence(a, b);
      continue;
    }
    // Versions on both sides (as a multiset) are unchanged.
    const byVersion = new Map<string, Package[]>();
    for (const p of g.target) {
      const l = byVersion.get(p.version);
      if (l) l.push(p);
      else byVersion.set(p.version, [p]);
    }
    const restBase: Package[] = [];
    for (const p of g.base) {
      const same = byVersion.get(p.version);
      const match = same?.shift();
      if (match) licence(p, match);
      else restBase.push(p);
    }
    const restTarget = [...byVersion.values()].flat();
    const type = (restTarget[0] ?? restBase[0])?.type ?? '';
    sortByVersion(type, restBase);
    sortByVersion(type, restTarget);
    const n = Math.min(restBase.length, restTarget.length);
    for (let i = 0; i < n; i++) {
      const [a, b] = [restBase[i]!, restTarget[i]!];
      out.changed.push({ name: b.name, type: b.type, from: a.version, to: b.version, direction: direction(b.type, a.version, b.version) });
      licence(a, b);
    }
    pushAll(out.removed, restBase.slice(n));
    pushAll(out.added, restTarget.slice(n));
  }
  out.added.sort(comparePackages);
  out.removed.sort(comparePackages);
  const byNameType = (a: { type: string; name: string }, b: { type: string; name: string }): number =>
    a.type < b.type ? -1 : a.type > b.type ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  out.changed.sort((a, b) => byNameType(a, b) || (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  out.licenseChanges.sort((a, b) => byNameType(a, b) || (a.from.join() < b.from.join() ? -1 : a.from.join() > b.from.join() ? 1 : 0));
  return out;
}
