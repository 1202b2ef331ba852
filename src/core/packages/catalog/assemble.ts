/**
 * Image-level assembly of the per-layer findings, against the merged
 * filesystem: a file's findings count only when that very file (same path,
 * same layer, a regular file) is in the final filesystem, so a package
 * database deleted or overwritten by a later layer is gone or replaced.
 *
 * Locations name the layer that introduced the package: the layer of the file
 * for one-package files (package.json, METADATA, jars, binaries); for
 * databases rewritten by each install (dpkg status, apk installed, rpmdb) the
 * lowest layer whose version of the same database already had the package,
 * with nothing in between removing it (as trivy attributes layers).
 */
import { mergeLayers, type MergedFilesystem } from '../../layers/filesystem.js';
import type { LayerWalk } from '../../layers/types.js';
import { golangPurl, mavenPurl, npmPurl, osPurl, pypiPurl, genericPurl } from '../purl.js';
import { comparePackages, type Distro, type Package, type PackageInventory } from '../types.js';
import { copyrightPackage } from './dpkg.js';
import { OS_RELEASE_PATHS } from './os-release.js';
import type { FileFindings, FoundPackage, LayerCatalog } from './types.js';
import { pushAll } from '../../util/fold.js';

/** Catalogers whose file is a database rewritten by every install. */
const DATABASES = new Set(['dpkg', 'apk', 'rpm']);

export interface AssembleOptions {
  /** The merged filesystem of the same walks, when the caller already has it. */
  merged?: MergedFilesystem;
}

export function assembleInventory(
  walks: ReadonlyArray<Pick<LayerWalk, 'entries' | 'diffId'>>,
  catalogs: ReadonlyArray<LayerCatalog>,
  opts: AssembleOptions = {},
): PackageInventory {
  if (walks.length !== catalogs.length) throw new Error(`${walks.length} layer walks for ${catalogs.length} layer catalogues`);
  const merged = opts.merged ?? mergeLayers(walks);
  const survivors: Array<{ f: FileFindings; layer: number }> = [];
  catalogs.forEach((c, layer) => {
    for (const f of c.files) {
      const node = merged.paths.get(f.path);
      if (node && node.layer === layer && node.entry.type === 'file') survivors.push({ f, layer });
    }
  });

  let distro: Distro | null = null;
  for (const p of OS_RELEASE_PATHS) {
    const s = survivors.find((x) => x.f.path === p && x.f.distro);
    if (s) {
      distro = s.f.distro!;
      break;
    }
  }
  const debLicenses = new Map<string, string[]>();
  for (const { f } of survivors) {
    const name = f.licenses && f.cataloger === 'dpkg-copyright' ? copyrightPackage(f.path) : null;
    if (name) debLicenses.set(name, f.licenses!);
  }

  const removals = new Removals(walks);
  const byKey = new Map<string, Package>();
  const warnings: string[] = [];
  for (const { f, layer } of survivors) {
    pushAll(warnings, f.warnings);
    const earlier = DATABASES.has(f.cataloger) ? earlierVersions(catalogs, removals, f, layer) : [];
    for (const p of f.packages) {
      let introduced = layer;
      if (earlier.length > 0) {
        const k = dbKey(p);
        for (const e of earlier) {
          if (!e.keys.has(k)) break;
          introduced = e.layer;
        }
      }
      const pkg = toPackage(p, distro, f.path, walks[introduced]!.diffId);
      if (p.type === 'deb' && pkg.licenses.length === 0) pkg.licenses = [...(debLicenses.get(p.name) ?? debLicenses.get(docLink(merged, p.name) ?? '') ?? [])];
      const key = `${pkg.type}\0${pkg.name}\0${pkg.version}\0${pkg.purl}`;
      const prev = byKey.get(key);
      if (!prev) byKey.set(key, pkg);
      else mergeInto(prev, pkg);
    }
  }
  const packages = [...byKey.values()];
  for (const p of packages) p.locations.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  packages.sort(comparePackages);
  return { source: 'catalog', distro, packages, warnings: [...new Set(warnings)] };
}

/** `/usr/share/doc/libgcc-s1 -> gcc-12-base`: the package whose doc directory a package's points at. */
function docLink(merged: MergedFilesystem, name: string): string | null {
  const n = merged.paths.get(`/usr/share/doc/${name}`);
  const target = n?.entry.type === 'symlink' ? n.entry.linkname : undefined;
  return target && !target.includes('/') ? target : null;
}

function dbKey(p: FoundPackage): string {
  return `${p.name}\0${p.version}\0${p.metadata?.arch ?? ''}`;
}

/** Versions of the same database file in lower layers, nearest first, up to the first layer that removed it. */
function earlierVersions(catalogs: ReadonlyArray<LayerCatalog>, removals: Removals, f: FileFindings, layer: number): Array<{ layer: number; keys: Set<string> }> {
  const out: Array<{ layer: number; keys: Set<string> }> = [];
  for (let j = layer - 1; j >= 0; j--) {
    if (removals.removes(j + 1, f.path)) break;
    const g = catalogs[j]!.files.find((x) => x.path === f.path && x.cataloger === f.cataloger);
    if (!g) {
      // The layer wrote the file in a form no cataloger read (or not at all): only "not at all" lets us look further down.
      if (removals.writes(j, f.path)) break;
      continue;
    }
    out.push({ layer: j, keys: new Set(g.packages.map(dbKey)) });
  }
  return out;
}

/** Whiteouts, opaque markers and writes per layer, computed only for the layers asked about. */
class Removals {
  private readonly walks: ReadonlyArray<Pick<LayerWalk, 'entries'>>;
  private readonly cache = new Map<number, { wh: string[]; opq: string[]; paths: Set<string> }>();
  constructor(walks: ReadonlyArray<Pick<LayerWalk, 'entries'>>) {
    this.walks = walks;
  }
  private of(i: number): { wh: string[]; opq: string[]; paths: Set<string> } {
    let c = this.cache.get(i);
    if (!c) {
      c = { wh: [], opq: [], paths: new Set() };
      for (const e of this.walks[i]!.entries) {
        if (e.type === 'whiteout') c.wh.push(e.path);
        else if (e.type === 'opaque') c.opq.push(e.path);
        else c.paths.add(e.path);
      }
      this.cache.set(i, c);
    }
    return c;
  }
  /** Does layer i remove `path` of the layers below (whiteout of it or an ancestor, opaque ancestor)? */
  removes(i: number, path: string): boolean {
    const c = this.of(i);
    return c.wh.some((w) => path === w || path.startsWith(`${w}/`)) || c.opq.some((d) => path.startsWith(d === '/' ? '/' : `${d}/`));
  }
  writes(i: number, path: string): boolean {
    return this.of(i).paths.has(path);
  }
}

function toPackage(p: FoundPackage, distro: Distro | null, path: string, layer: string): Package {
  const m = p.metadata ?? {};
  const pkg: Package = {
    name: p.name,
    version: p.version,
    type: p.type,
    purl: purlOf(p, distro),
    licenses: [...p.licenses],
    locations: [{ path, layer }],
  };
  if (Object.keys(m).length > 0) pkg.metadata = { ...m };
  return pkg;
}

export function purlOf(p: FoundPackage, distro: Distro | null): string {
  const m = p.metadata ?? {};
  switch (p.type) {
    case 'deb':
    case 'apk':
      return osPurl(p.type, p.name, p.version, { arch: m.arch ?? null, distro, upstream: m.source ?? null });
    case 'rpm': {
      return osPurl('rpm', p.name, stripEpoch(p.version), { arch: m.arch ?? null, distro, epoch: m.epoch ?? null, upstream: m.sourceRpm ?? null });
    }
    case 'npm':
      return npmPurl(p.name, p.version || null);
    case 'pypi':
      return pypiPurl(p.name, p.version || null);
    case 'golang':
      if (p.name === 'stdlib') return golangPurl('stdlib', p.version.replace(/^go/, ''));
      return golangPurl(p.name, p.version === '(devel)' ? null : p.version);
    case 'maven':
      return mavenPurl(m.groupId ?? null, p.name, p.version || null);
    default:
      return genericPurl(p.name, p.version || null);
  }
}

function stripEpoch(v: string): string {
  const i = v.indexOf(':');
  return i > 0 && /^\d+$/.test(v.slice(0, i)) ? v.slice(i + 1) : v;
}

function mergeInto(into: Package, from: Package): void {
  for (const l of from.locations) {
    if (!into.locations.some((x) => x.path === l.path && x.layer === l.layer)) into.locations.push(l);
  }
  for (const l of from.licenses) if (!into.licenses.includes(l)) into.licenses.push(l);
  if (from.metadata) into.metadata = { ...from.metadata, ...(into.metadata ?? {}) };
}
