/**
 * Alpine apk: `/lib/apk/db/installed`, records of one-letter "K:value" lines
 * separated by blank lines (https://wiki.alpinelinux.org/wiki/Apk_spec).
 */
import type { Cataloger, FoundPackage, ParseResult } from './types.js';
import { q, text } from './util.js';

export const APK_INSTALLED = '/lib/apk/db/installed';

export const apkCataloger: Cataloger = {
  name: 'apk',
  maxBytes: 64 << 20,
  hint: { basenames: ['installed'] },
  wants(path) {
    return path === APK_INSTALLED || path === '/usr/lib/apk/db/installed';
  },
  parse(path, data) {
    return parseApkInstalled(text(data), path);
  },
};

export function parseApkInstalled(src: string, path: string): ParseResult {
  const packages: FoundPackage[] = [];
  const warnings: string[] = [];
  let rec: Map<string, string> | null = null;
  let start = 0;
  let bad = 0;
  let index = 0;
  const flush = (): void => {
    if (!rec) return;
    index++;
    const where = `record ${index} (line ${start})`;
    const name = rec.get('P');
    const version = rec.get('V');
    if (bad > 0) warnings.push(`${path}: ${where}${name ? ` (${q(name)})` : ''}: ${bad} malformed line(s)`);
    if (!name || !version) {
      warnings.push(`${path}: ${where}${name ? ` (${q(name)})` : ''}: no ${!name ? 'P (name)' : 'V (version)'} field; record skipped`);
    } else {
      const metadata: Record<string, string> = {};
      const arch = rec.get('A');
      if (arch) metadata.arch = arch;
      const origin = rec.get('o');
      if (origin) metadata.source = origin;
      const maintainer = rec.get('m');
      if (maintainer) metadata.maintainer = maintainer;
      const license = rec.get('L');
      packages.push({ name, version, type: 'apk', licenses: license ? [license] : [], metadata });
    }
    rec = null;
    bad = 0;
  };
  const lines = src.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') {
      flush();
      continue;
    }
    if (!rec) {
      rec = new Map();
      start = i + 1;
    }
    if (line.length < 2 || line[1] !== ':') {
      bad++;
      continue;
    }
    const k = line[0]!;
    // File lists (F, R, Z, a, M) repeat; only the first of the package fields matters.
    if (!rec.has(k)) rec.set(k, line.slice(2));
  }
  flush();
  return { packages, warnings };
}
