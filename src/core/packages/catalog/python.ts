/**
 * Python: installed distributions, `*.dist-info/METADATA` (wheels, pip) and
 * `*.egg-info/PKG-INFO` (setuptools), or a legacy single-file `*.egg-info`.
 * Core metadata is an RFC 822 header block (https://packaging.python.org/en/latest/specifications/core-metadata/).
 */
import type { Cataloger, ParseResult } from './types.js';
import { basename, dirname, field, parseStanzas, text, uniq } from './util.js';

export const pythonCataloger: Cataloger = {
  name: 'python',
  maxBytes: 16 << 20,
  hint: { basenames: ['METADATA', 'PKG-INFO'], extensions: ['.egg-info'] },
  wants(path) {
    if (path.endsWith('/METADATA')) return dirname(path).endsWith('.dist-info');
    if (path.endsWith('/PKG-INFO')) return dirname(path).endsWith('.egg-info');
    return path.endsWith('.egg-info');
  },
  parse(path, data) {
    return parsePythonMetadata(text(data), path);
  },
};

const CLASSIFIER = 'License :: ';

export function parsePythonMetadata(src: string, path: string): ParseResult {
  const head = parseStanzas(src, true)[0];
  if (!head) return { packages: [], warnings: [`${path}: empty metadata; package skipped`] };
  const name = field(head, 'Name')?.split('\n', 1)[0]?.trim();
  const version = field(head, 'Version')?.split('\n', 1)[0]?.trim();
  if (!name || !version) {
    return { packages: [], warnings: [`${path}: no ${!name ? 'Name' : 'Version'} field in the metadata header; package skipped`] };
  }
  const warnings: string[] = [];
  if (head.bad.length > 0) warnings.push(`${path}: ${head.bad.length} malformed header line(s), first at line ${head.bad[0]}`);
  const licenses: string[] = [];
  // PEP 639: License-Expression is the SPDX expression; else the License field (if short), else the classifiers.
  const expr = field(head, 'License-Expression');
  if (expr) licenses.push(expr.split('\n', 1)[0]!);
  else {
    const lic = field(head, 'License')?.split('\n', 1)[0]?.trim();
    if (lic && lic !== 'UNKNOWN' && lic.length <= 100) licenses.push(lic);
    if (licenses.length === 0) {
      for (const c of (field(head, 'Classifier') ?? '').split('\n')) {
        if (!c.startsWith(CLASSIFIER)) continue;
        const parts = c.split(' :: ');
        const last = parts[parts.length - 1]!.trim();
        if (last !== '' && last !== 'OSI Approved') licenses.push(last);
      }
    }
  }
  const metadata: Record<string, string> = {};
  const author = field(head, 'Author')?.split('\n', 1)[0];
  if (author) metadata.author = author;
  if (basename(path) !== 'METADATA' && basename(path) !== 'PKG-INFO') metadata.format = 'egg-info-file';
  return { packages: [{ name, version, type: 'pypi', licenses: uniq(licenses), metadata }], warnings };
}
