/** The distro, from os-release(5): `/etc/os-release`, else `/usr/lib/os-release`. */
import type { Distro } from '../types.js';
import type { Cataloger } from './types.js';
import { text } from './util.js';

export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'] as const;

export const osReleaseCataloger: Cataloger = {
  name: 'os-release',
  maxBytes: 1 << 20,
  hint: { basenames: ['os-release'] },
  wants(path) {
    return path === OS_RELEASE_PATHS[0] || path === OS_RELEASE_PATHS[1];
  },
  parse(path, data) {
    const kv = parseOsRelease(text(data));
    if (!kv.ID && !kv.VERSION_ID) return { packages: [], warnings: [`${path}: no ID or VERSION_ID`] };
    const distro: Distro = { id: kv.ID ?? null, versionId: kv.VERSION_ID ?? null, prettyName: kv.PRETTY_NAME ?? null };
    return { packages: [], warnings: [], distro };
  },
};

/** KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(src: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of src.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    if (!/^[A-Z0-9_]+$/.test(key)) continue;
    let v = line.slice(eq + 1);
    const qc = v[0];
    if ((qc === '"' || qc === "'") && v.endsWith(qc) && v.length >= 2) {
      v = v.slice(1, -1);
      if (qc === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out[key] = v;
  }
  return out;
}
