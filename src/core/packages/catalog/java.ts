/**
 * Java archives (jar, war, ear, and Jenkins' jpi/hpi), nested ones included
 * (WEB-INF/lib, BOOT-INF/lib, lib/ of an ear...): one package per
 * `META-INF/maven/<groupId>/<artifactId>/pom.properties`, and the archive
 * itself from `META-INF/MANIFEST.MF` and its file name when no pom.properties
 * describes it. Bounded, so that a hostile archive costs little memory and
 * time: see JavaArchiveLimits. Every limit hit is a warning naming the archive
 * and the entry; what could be read is still listed.
 */
import type { Cataloger, FoundPackage, LayerScratch, ParseResult } from './types.js';
import { basename, q } from './util.js';
import { overlappingEntries, readZipDirectory, readZipEntry, type ZipEntry } from './zip.js';

const ARCHIVE = /\.(jar|war|ear|jpi|hpi|par|sar|nar)$/i;

export interface JavaArchiveLimits {
  /** Archives inside archives inside ... the top-level one, at most this deep. */
  maxDepth: number;
  /** Largest MANIFEST.MF or pom.properties read. */
  maxMeta: number;
  /**
   * Largest deflated nested archive inflated into memory (its central directory is at its end, so it is
   * read whole). A stored one is read where it lies in its parent, at no cost.
   */
  maxNestedInMemory: number;
  /** Inflated nested archives held at once, along one chain of nesting. */
  maxLiveNested: number;
  /** Bytes inflated for one top-level archive, nested ones included (charged by what each inflate may write). */
  archiveBudget: number;
  /** Bytes inflated for all the archives of one layer. */
  layerBudget: number;
}

export const JAVA_ARCHIVE_LIMITS: Readonly<JavaArchiveLimits> = Object.freeze({
  maxDepth: 4,
  maxMeta: 1 << 20,
  maxNestedInMemory: 16 << 20,
  maxLiveNested: 32 << 20,
  archiveBudget: 256 << 20,
  layerBudget: 1 << 30,
});

/** Bytes left to inflate in one layer (kept in the layer's scratch across its archives). */
interface LayerBudget {
  left: number;
}

/** The reading of one top-level archive. */
interface ReadState {
  limits: JavaArchiveLimits;
  archiveLeft: number;
  layer: LayerBudget;
  /** Bytes of inflated nested archives held now (the chain being read). */
  live: number;
  /** A budget ran out: said once, then nothing more is inflated. */
  exhausted: boolean;
}

/** The Java cataloger with these limits (tests use small ones; the default cataloger uses JAVA_ARCHIVE_LIMITS). */
export function javaArchiveCataloger(limits: JavaArchiveLimits = JAVA_ARCHIVE_LIMITS): Cataloger {
  return {
    name: 'java-archive',
    maxBytes: 64 << 20,
    hint: { extensions: ['.jar', '.war', '.ear', '.jpi', '.hpi', '.par', '.sar', '.nar'] },
    wants(path) {
      return ARCHIVE.test(path);
    },
    parse(path, data, _layer, scratch?: LayerScratch) {
      const out: ParseResult = { packages: [], warnings: [] };
      // One budget for every archive of the layer (a fresh one when called outside a layer pass).
      let layer = scratch?.javaInflate as LayerBudget | undefined;
      if (!layer) {
        layer = { left: limits.layerBudget };
        if (scratch) scratch.javaInflate = layer;
      }
      readArchive(data, path, path, 0, { limits, archiveLeft: limits.archiveBudget, layer, live: 0, exhausted: false }, out);
      return out;
    },
  };
}

export const javaCataloger: Cataloger = javaArchiveCataloger();

function readArchive(data: Buffer, path: string, virtualPath: string, depth: number, st: ReadState, out: ParseResult): void {
  const { limits } = st;
  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(data);
  } catch (e) {
    out.warnings.push(`${path}: archive ${q(virtualPath)} unreadable: ${(e as Error).message}`);
    return;
  }
  const where = (e: ZipEntry): string => q(`${virtualPath}:${e.name}`);
  // Disjoint entries only: then what is read of an archive, nested ones included, is bounded by its size.
  const overlapping = overlappingEntries(data, entries);
  if (overlapping.size > 0) {
    const skipped = entries.filter((e) => overlapping.has(e) && wanted(e.name));
    if (skipped.length > 0) {
      out.warnings.push(`${path}: ${q(virtualPath)}: ${skipped.length} entr${skipped.length === 1 ? 'y' : 'ies'} not read: their bytes overlap another entry's (a zip bomb?; first: ${where(skipped[0]!)})`);
    }
  }
  const read = (e: ZipEntry, max: number): Buffer | null => {
    if (st.exhausted || overlapping.has(e)) return null;
    // Deflated: charged what the inflate may write (its declared size, where it is stopped), whatever the
    // entry claims. Stored: a view of the parent's bytes, no memory, but charged to the archive as work.
    const inflates = e.method !== 0;
    const cost = inflates ? Math.min(e.size, max) + 1 : Math.min(e.compressedSize, max);
    if (cost > st.archiveLeft || (inflates && cost > st.layer.left)) {
      const which = cost > st.archiveLeft ? `of ${limits.archiveBudget} bytes for this archive` : `of ${limits.layerBudget} bytes for the archives of this layer`;
      out.warnings.push(`${path}: ${where(e)} and the rest not read: inflate budget ${which} exhausted (a zip bomb?)`);
      st.exhausted = true;
      return null;
    }
    let spent = cost;
    try {
      const b = readZipEntry(data, e, max);
      spent = inflates ? b.length : cost;
      return b;
    } catch (err) {
      out.warnings.push(`${path}: ${q(virtualPath)}: ${(err as Error).message}`);
      return null;
    } finally {
      st.archiveLeft -= spent;
      if (inflates) st.layer.left -= spent;
    }
  };
  let manifest: Map<string, string> | null = null;
  const poms: Array<Record<string, string>> = [];
  const nested: ZipEntry[] = [];
  for (const e of entries) {
    if (!wanted(e.name)) continue;
    if (e.name === 'META-INF/MANIFEST.MF') {
      const b = read(e, limits.maxMeta);
      if (b) manifest = parseManifest(b.toString('utf8'));
    } else if (e.name.startsWith('META-INF/maven/') && e.name.endsWith('/pom.properties')) {
      const b = read(e, limits.maxMeta);
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
  if (nested.length > 0 && depth >= limits.maxDepth) {
    out.warnings.push(`${path}: ${q(virtualPath)}: archives nested deeper than ${limits.maxDepth}; ${nested.length} not read (first: ${where(nested[0]!)})`);
    return;
  }
  for (const e of nested) {
    if (st.exhausted) break;
    if (overlapping.has(e)) continue; // said above
    if (e.method !== 0) {
      // Read whole into memory: only small ones, and only while the chain above leaves room.
      const room = Math.min(limits.maxNestedInMemory, limits.maxLiveNested - st.live);
      if (e.size > room) {
        out.warnings.push(
          `${path}: ${where(e)} not read: a nested archive of ${e.size} bytes inflated is over the ${room < limits.maxNestedInMemory ? `${room} bytes left of the ${limits.maxLiveNested}-byte limit for nested archives held at once` : `limit of ${limits.maxNestedInMemory} bytes for a nested archive read into memory`}`,
        );
        continue;
      }
    }
    const b = read(e, e.method === 0 ? data.length : limits.maxNestedInMemory);
    if (!b) continue;
    const held = e.method === 0 ? 0 : b.length;
    st.live += held;
    try {
      readArchive(b, path, `${virtualPath}:${e.name}`, depth + 1, st, out);
    } finally {
      st.live -= held;
    }
  }
}

/** The entries of an archive that the cataloger reads: its manifest, Maven's pom.properties, nested archives. */
function wanted(name: string): boolean {
  if (name.endsWith('/')) return false;
  return name === 'META-INF/MANIFEST.MF' || (name.startsWith('META-INF/maven/') && name.endsWith('/pom.properties')) || ARCHIVE.test(name);
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
