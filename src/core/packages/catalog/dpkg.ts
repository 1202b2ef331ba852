/**
 * Debian/Ubuntu dpkg: `/var/lib/dpkg/status` (deb822 stanzas), the one-file-per-package
 * `/var/lib/dpkg/status.d/` of distroless images, and licences from the
 * machine-readable `/usr/share/doc/<pkg>/copyright` (DEP-5) files.
 */
import type { Cataloger, FoundPackage, ParseResult } from './types.js';
import { basename, dirname, field, parseStanzas, q, text, uniq } from './util.js';

export const DPKG_STATUS = '/var/lib/dpkg/status';
const STATUS_D = '/var/lib/dpkg/status.d';
const DOC = '/usr/share/doc/';

/** Status words (third word of `Status:`) of packages whose files are not on disk. */
const ABSENT = new Set(['not-installed', 'config-files']);

export const dpkgCataloger: Cataloger = {
  name: 'dpkg',
  maxBytes: 64 << 20,
  hint: { basenames: ['status'], prefixes: [`${STATUS_D}/`] },
  wants(path) {
    if (path === DPKG_STATUS) return true;
    return path.startsWith(STATUS_D) && dirname(path) === STATUS_D && !path.endsWith('.md5sums') && !path.endsWith('.list');
  },
  parse(path, data) {
    return parseDpkgStatus(text(data), path);
  },
};

/** Parse a dpkg status file (or one status.d entry). Records without a name or version are skipped with a warning. */
export function parseDpkgStatus(src: string, path: string): ParseResult {
  const packages: FoundPackage[] = [];
  const warnings: string[] = [];
  const stanzas = parseStanzas(src);
  stanzas.forEach((s, i) => {
    const rec = `record ${i + 1} (line ${s.line})`;
    const name = field(s, 'Package');
    const version = field(s, 'Version');
    if (s.bad.length > 0) warnings.push(`${path}: ${rec}${name ? ` (${q(name)})` : ''}: ${s.bad.length} malformed line(s), first at line ${s.bad[0]}`);
    if (!name || !version || /\s/.test(name) || /\s/.test(version)) {
      warnings.push(`${path}: ${rec}${name ? ` (${q(name)})` : ''}: ${!name ? 'no Package field' : !version ? 'no Version field' : 'malformed Package or Version'}; record skipped`);
      return;
    }
    const status = field(s, 'Status');
    if (status) {
      const words = status.split(/\s+/);
      if (words.length !== 3) warnings.push(`${path}: ${rec} (${q(name)}): malformed Status ${q(status)}`);
      else if (ABSENT.has(words[2]!)) return;
    }
    const metadata: Record<string, string> = {};
    const arch = field(s, 'Architecture');
    if (arch) metadata.arch = arch;
    const source = field(s, 'Source');
    if (source) {
      const m = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(source);
      if (m) {
        metadata.source = m[1]!;
        if (m[2]) metadata.sourceVersion = m[2];
      }
    }
    const maintainer = field(s, 'Maintainer');
    if (maintainer) metadata.maintainer = maintainer;
    packages.push({ name, version, type: 'deb', licenses: [], metadata });
  });
  return { packages, warnings };
}

/** `/usr/share/doc/<pkg>/copyright` → the package name, or null for other paths. */
export function copyrightPackage(path: string): string | null {
  if (!path.startsWith(DOC) || basename(path) !== 'copyright') return null;
  const rest = path.slice(DOC.length, -'/copyright'.length);
  return rest !== '' && !rest.includes('/') ? rest : null;
}

export const debCopyrightCataloger: Cataloger = {
  name: 'dpkg-copyright',
  maxBytes: 4 << 20,
  hint: { basenames: ['copyright'] },
  wants(path) {
    return copyrightPackage(path) !== null;
  },
  parse(path, data) {
    return { packages: [], warnings: [], licenses: parseDebCopyright(text(data), path) };
  },
};

/** Licence short names of a machine-readable debian/copyright file; [] for free-form ones. */
export function parseDebCopyright(src: string, _path: string): string[] {
  if (!/^Format:\s*\S/i.test(src)) return [];
  const out: string[] = [];
  for (const s of parseStanzas(src)) {
    const lic = field(s, 'License');
    if (!lic) continue;
    const first = lic.split('\n', 1)[0]!.trim();
    // "GPL-2+ or Artistic" style expressions: keep as written (it is what Debian declares).
    if (first !== '' && first.length <= 200) out.push(first);
  }
  return uniq(out);
}
