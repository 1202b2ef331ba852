/**
 * Java archives (jar, war, ear, and Jenkins' jpi/hpi), nested ones included
 * (WEB-INF/lib, BOOT-INF/lib, lib/ of an ear...): one package per
 * `META-INF/maven/<groupId>/<artifactId>/pom.properties`, and the archive
 * itself from `META-INF/MANIFEST.MF` and its file name when no pom.properties
 * describes it. Bounded: nesting depth, bytes inflated per archive.
 */
import type { Cataloger, FoundPackage, ParseResult } from './types.js';
import { basename, q } from './util.js';
import { readZipDirectory, readZipEntry, type ZipEntry } from './zip.js';

const ARCHIVE = /\.(jar|war|ear|jpi|hpi|par|sar|nar)$/i;
const MAX_DEPTH = 4;
const MAX_META = 1 << 20;
const MAX_NESTED = 64 << 20;
/** Bytes inflated for one top-level archive, nested archives included. */
const BUDGET = 256 << 20;

export const javaCataloger: Cataloger = {
  name: 'java-archive',
  maxBytes: 64 << 20,
  hint: { extensions: ['.jar', '.war', '.ear', '.jpi', '.hpi', '.par', '.sar', '.nar'] },
  wants(path) {
    return ARCHIVE.test(path);
  },
  parse(path, data) {
    const out: ParseResult = { packages: [], warnings: [] };
    const budget = { left: BUDGET };
    readArchive(data, path, path, 0, budget, out);
    return out;
  },
};

function readArchive(data: Buffer, path: string, virtualPath: string, depth: number, budget: { left: number }, out: ParseResult): void {
  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(data);
  } catch (e) {
    out.warnings.push(`${path}: archive ${q(virtualPath)} unreadable: ${(e as Error).message}`);
    return;
  }
  const read = (e: ZipEntry, max: number): Buffer | null => {
    if (e.size > budget.left) {
      out.warnings.push(`${path}: ${q(`${virtualPath}:${e.name}`)} not read: inflate budget of ${BUDGET} bytes exhausted`);
      return null;
    }
    try {
      const b = readZipEntry(data, e, max);
      budget.left -= b.length;
      return b;
    } catch (err) {
      out.warnings.push(`${path}: ${q(virtualPath)}: ${(err as Error).message}`);
      return null;
    }
  };
  let manifest: Map<string, string> | null = null;
  const poms: Array<Record<string, string>> = [];
  const nested: ZipEntry[] = [];
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    if (e.name === 'META-INF/MANIFEST.MF') {
      const b = read(e, MAX_META);
      if (b) manifest = parseManifest(b.toString('utf8'));
    } else if (e.name.startsWith('META-INF/maven/') && e.name.endsWith('/pom.properties')) {
      const b = read(e, MAX_META);
      if (b) poms.push(parseProperties(b.toString('utf8')));
    } else if (ARCHIVE.test(e.name)) {
      nested.push(e);
    }
  }
  const fileName = basename(virtualPath.slice(virtualPath.lastIndexOf(':') + 1));
  const fromName = nameVersionFromFile(fileName);
  const meta = (extra: Record<string, string>): Record<string, string> => (virtualPath !== path ? { ...extra, virtualPath } : extra);
  const licenses = manifest?.get('Bundle-License') ? [manifest.get('Bundle-License')!.split(',')[0]!.trim()] : [];
  let own = false;
  for (const p of poms) {
    const artifactId = p.artifactId?.trim();
    const version = p.version?.trim();
    const groupId = p.groupId?.trim();
    if (!artifactId || !version) {
      out.warnings.push(`${path}: ${q(virtualPath)}: pom.properties without artifactId or version; skipped`);
      continue;
    }
    const isOwn = fromName !== null && fromName.name === artifactId;
    own ||= isOwn;
    out.packages.push({ name: artifactId, version, type: 'maven', licenses: isOwn ? licenses : [], metadata: meta(groupId ? { groupId } : {}) });
  }
  if (!own) {
    const pkg = fromManifest(manifest, fromName, fileName, licenses);
    // Shaded/uber jars: the archive is itself a package unless one of its poms already is (or it says nothing more than its poms).
    const described = poms.length > 0 && (pkg?.version === '' || poms.some((p) => p.artifactId?.trim() === pkg?.name));
    if (pkg && !described) {
      pkg.metadata = meta(pkg.metadata ?? {});
      out.packages.push(pkg);
    }
  }
  if (nested.length > 0 && depth >= MAX_DEPTH) {
    out.warnings.push(`${path}: ${q(virtualPath)}: archives nested deeper than ${MAX_DEPTH}; ${nested.length} not read`);
    return;
  }
  for (const e of nested) {
    const b = read(e, MAX_NESTED);
    if (b) readArchive(b, path, `${virtualPath}:${e.name}`, depth + 1, budget, out);
  }
}

function fromManifest(m: Map<string, string> | null, fromName: { name: string; version: string } | null, fileName: string, licenses: string[]): FoundPackage | null {
  const get = (k: string): string | undefined => {
    const v = m?.get(k)?.trim();
    return v ? v : undefined;
  };
  const symbolic = get('Bundle-SymbolicName')?.split(';', 1)[0]?.trim();
  const name = fromName?.name ?? get('Implementation-Title') ?? symbolic ?? get('Specification-Title') ?? fileName.replace(ARCHIVE, '');
  const version = get('Implementation-Version') ?? get('Bundle-Version') ?? get('Specification-Version') ?? fromName?.version ?? '';
  if (name === '') return null;
  const metadata: Record<string, string> = {};
  const group = get('Implementation-Vendor-Id') ?? (symbolic && symbolic.includes('.') && symbolic.endsWith(`.${name}`) ? symbolic.slice(0, -name.length - 1) : undefined);
  if (group) metadata.groupId = group;
  return { name, version, type: 'maven', licenses, metadata };
}

/** "commons-lang3-3.12.0.jar" → {name: "commons-lang3", version: "3.12.0"}. */
export function nameVersionFromFile(fileName: string): { name: string; version: string } | null {
  const stem = fileName.replace(ARCHIVE, '');
  const m = /^(.+?)-(\d[\w.+~-]*)$/.exec(stem);
  return m ? { name: m[1]!, version: m[2]! } : null;
}

/** Main attributes of a MANIFEST.MF (72-byte lines continued with a leading space). */
export function parseManifest(src: string): Map<string, string> {
  const out = new Map<string, string>();
  // Join continuation lines first: a header may be split anywhere, even inside its name.
  const lines: string[] = [];
  for (const raw of src.split(/\r\n|\r|\n/)) {
    if (raw === '') break; // end of the main section
    if (raw.startsWith(' ') && lines.length > 0) lines[lines.length - 1] += raw.slice(1);
    else lines.push(raw);
  }
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const key = line.slice(0, i).trim();
    if (!out.has(key)) out.set(key, line.slice(i + 1).trim());
  }
  return out;
}

/** Java .properties (the subset pom.properties uses: key=value or key: value, # and ! comments). */
export function parseProperties(src: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of src.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
