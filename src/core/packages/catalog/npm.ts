/**
 * npm: installed packages (`…/node_modules/<name>/package.json` and
 * `…/node_modules/@scope/<name>/package.json`) and lockfiles
 * (`package-lock.json` / `npm-shrinkwrap.json` v1–v3, and the hidden
 * `node_modules/.package-lock.json`). The project's own root entry and dev
 * dependencies of a lockfile are not packages of the image; the assembly
 * dedupes what lockfiles and node_modules both describe.
 */
import type { Cataloger, FoundPackage, ParseResult } from './types.js';
import { basename, q, text } from './util.js';

const LOCKS = new Set(['package-lock.json', 'npm-shrinkwrap.json']);

/** Is this `node_modules/<pkg>/package.json` (one level below node_modules, two for a scope)? */
export function isInstalledManifest(path: string): boolean {
  if (!path.endsWith('/package.json')) return false;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm < 0) return false;
  const rel = path.slice(nm + '/node_modules/'.length, -'/package.json'.length);
  const parts = rel.split('/');
  if (parts.length === 1) return parts[0] !== '' && !parts[0]!.startsWith('.') && !parts[0]!.startsWith('@');
  return parts.length === 2 && parts[0]!.startsWith('@') && parts[0]!.length > 1 && parts[1] !== '';
}

function isLockfile(path: string): boolean {
  const base = basename(path);
  if (base === '.package-lock.json') return path.endsWith('/node_modules/.package-lock.json');
  // A lockfile published inside a dependency describes that dependency's own dev tree, not this image.
  return LOCKS.has(base) && !path.includes('/node_modules/');
}

export const npmCataloger: Cataloger = {
  name: 'npm',
  maxBytes: 64 << 20,
  hint: { basenames: ['package.json', ...LOCKS, '.package-lock.json'] },
  wants(path) {
    return path.endsWith('.json') && (isInstalledManifest(path) || isLockfile(path));
  },
  parse(path, data) {
    return basename(path) === 'package.json' ? parseInstalledManifest(text(data), path) : parsePackageLock(text(data), path);
  },
};

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Licences as package.json spells them: "MIT", {type: "MIT"}, or a legacy `licenses` array. */
export function npmLicenses(m: Json): string[] {
  const out: string[] = [];
  const one = (v: unknown): void => {
    const s = str(v) ?? (isObj(v) ? str(v.type) : undefined);
    if (s) out.push(s);
  };
  one(m.license);
  if (Array.isArray(m.licenses)) m.licenses.forEach(one);
  else one(m.licenses);
  return [...new Set(out)];
}

export function parseInstalledManifest(src: string, path: string): ParseResult {
  let m: unknown;
  try {
    m = JSON.parse(src);
  } catch (e) {
    return { packages: [], warnings: [`${path}: not valid JSON (${(e as Error).message.slice(0, 120)}); package skipped`] };
  }
  if (!isObj(m)) return { packages: [], warnings: [`${path}: not a JSON object; package skipped`] };
  const name = str(m.name);
  const version = str(m.version);
  // Some packages ship package.json stubs without a version (e.g. nested "type": "module" markers); not packages.
  if (!name || !version) return { packages: [], warnings: [] };
  const metadata: Record<string, string> = {};
  const author = isObj(m.author) ? str(m.author.name) : str(m.author);
  if (author) metadata.author = author;
  return { packages: [{ name, version, type: 'npm', licenses: npmLicenses(m), metadata }], warnings: [] };
}

export function parsePackageLock(src: string, path: string): ParseResult {
  const packages: FoundPackage[] = [];
  const warnings: string[] = [];
  let lock: unknown;
  try {
    lock = JSON.parse(src);
  } catch (e) {
    return { packages, warnings: [`${path}: not valid JSON (${(e as Error).message.slice(0, 120)}); lockfile skipped`] };
  }
  if (!isObj(lock)) return { packages, warnings: [`${path}: not a JSON object; lockfile skipped`] };
  const lv = lock.lockfileVersion;
  if (isObj(lock.packages)) {
    // v2 and v3 (v2 also carries the v1 tree; `packages` is authoritative).
    for (const [key, v] of Object.entries(lock.packages)) {
      if (key === '') continue;
      const where = `${path}: packages[${q(key)}]`;
      if (!isObj(v)) {
        warnings.push(`${where}: not an object; entry skipped`);
        continue;
      }
      if (v.link === true || v.dev === true || v.extraneous === true) continue;
      const nm = key.lastIndexOf('node_modules/');
      // Workspace members are listed by their folder (no node_modules/); they come back through their link entries.
      if (nm < 0) continue;
      const name = str(v.name) ?? key.slice(nm + 'node_modules/'.length);
      const version = str(v.version);
      if (!version) {
        warnings.push(`${where}: no version; entry skipped`);
        continue;
      }
      packages.push({ name, version, type: 'npm', licenses: npmLicenses(v), metadata: lockMeta(v) });
    }
    return { packages, warnings };
  }
  if (isObj(lock.dependencies)) {
    // v1: a nested tree of dependencies.
    const walk = (deps: Json, trail: string, depth: number): void => {
      if (depth > 64) {
        warnings.push(`${path}: dependencies nested deeper than 64 at ${q(trail)}; rest skipped`);
        return;
      }
      for (const [name, v] of Object.entries(deps)) {
        const where = `${path}: dependencies${trail}[${q(name)}]`;
        if (!isObj(v)) {
          warnings.push(`${where}: not an object; entry skipped`);
          continue;
        }
        if (v.dev !== true) {
          const version = str(v.version);
          if (!version) warnings.push(`${where}: no version; entry skipped`);
          // "file:../x" and git URLs are versions too, but not registry versions: keep them as written.
          else packages.push({ name, version, type: 'npm', licenses: [], metadata: lockMeta(v) });
        }
        if (isObj(v.dependencies)) walk(v.dependencies, `${trail}[${q(name)}]`, depth + 1);
      }
    };
    walk(lock.dependencies, '', 0);
    return { packages, warnings };
  }
  if (lv === undefined && !('name' in lock)) return { packages, warnings: [`${path}: no lockfileVersion, packages or dependencies; not an npm lockfile`] };
  return { packages, warnings };
}

function lockMeta(v: Json): Record<string, string> {
  const m: Record<string, string> = {};
  const resolved = str(v.resolved);
  if (resolved) m.resolved = resolved;
  const integrity = str(v.integrity);
  if (integrity) m.integrity = integrity;
  return m;
}
