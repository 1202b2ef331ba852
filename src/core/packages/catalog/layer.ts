/**
 * Runs the catalogers inside a layer's single streaming pass: `hooks()` gives
 * walkLayer's content hook (`wantContent` / `onContent` / `maxContentBytes`),
 * and `finish()` (after the walk succeeded) gives the layer's findings. Parsing
 * is synchronous inside the pass except for the few parsers that need an async
 * engine (sql.js for the rpmdb), which finish afterwards.
 */
import type { LayerEntry } from '../../layers/types.js';
import { apkCataloger } from './apk.js';
import { debCopyrightCataloger, dpkgCataloger } from './dpkg.js';
import { goCataloger } from './golang.js';
import { javaCataloger } from './java.js';
import { npmCataloger } from './npm.js';
import { osReleaseCataloger } from './os-release.js';
import { pythonCataloger } from './python.js';
import { rpmCataloger } from './rpm.js';
import { accountsCataloger } from '../../checks/content/accounts-scanner.js';
import { secretsCataloger } from '../../checks/content/secrets-scanner.js';
import type { Cataloger, FileFindings, LayerCatalog, LayerScratch, ParseResult } from './types.js';
import { errMsg } from './util.js';
import { maxOf } from '../../util/fold.js';

/** Bump when a cataloger's findings change: cached layer walks without them are walked again (v2: secrets and accounts scanners). */
// 3: paths follow the walk's (entries written through a same-layer symlink sit where they land).
export const CATALOG_VERSION = 3;

export const DEFAULT_CATALOGERS: readonly Cataloger[] = [
  osReleaseCataloger,
  dpkgCataloger,
  debCopyrightCataloger,
  apkCataloger,
  rpmCataloger,
  npmCataloger,
  pythonCataloger,
  goCataloger,
  javaCataloger,
  secretsCataloger,
  accountsCataloger,
];

/** Warnings kept per file: a hostile database cannot grow the cache without bound. */
const MAX_FILE_WARNINGS = 50;

export interface LayerHooks {
  wantContent: (e: LayerEntry) => boolean;
  onContent: (e: LayerEntry, data: Buffer) => void;
  maxContentBytes: number;
}

export class LayerCataloguer {
  private readonly catalogers: readonly Cataloger[];
  /** path → cataloger name → findings (a later duplicate tar entry replaces an earlier one, as in the walk). */
  private readonly found = new Map<string, Map<string, FileFindings | Promise<FileFindings>>>();
  /** The union of the catalogers' hints, or null when one has none (then every file is asked about). */
  private readonly hint: { basenames: Set<string>; extensions: Set<string>; prefixes: string[]; executables: boolean } | null;
  /** Catalogers that wanted the entry being collected. */
  private wanted: Cataloger[] = [];
  private readonly layerId: string;
  /** Each cataloger's state for this layer (Cataloger.parse's scratch). */
  private readonly scratch = new Map<string, LayerScratch>();

  constructor(layerId: string, catalogers: readonly Cataloger[] = DEFAULT_CATALOGERS) {
    this.catalogers = catalogers;
    this.layerId = layerId;
    if (catalogers.every((c) => c.hint)) {
      const h = { basenames: new Set<string>(), extensions: new Set<string>(), prefixes: [] as string[], executables: false };
      for (const c of catalogers) {
        for (const b of c.hint!.basenames ?? []) h.basenames.add(b);
        for (const x of c.hint!.extensions ?? []) h.extensions.add(x.toLowerCase());
        h.prefixes.push(...(c.hint!.prefixes ?? []));
        h.executables ||= c.hint!.executables === true;
      }
      this.hint = h;
    } else this.hint = null;
  }

  /** Could any cataloger want this file? (One set lookup for the common "no".) */
  private maybe(e: LayerEntry): boolean {
    const h = this.hint;
    if (!h) return true;
    if (h.executables && (e.mode & 0o111) !== 0) return true;
    const path = e.path;
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (h.basenames.has(base)) return true;
    const dot = base.lastIndexOf('.');
    if (dot > 0 && h.extensions.has(base.slice(dot).toLowerCase())) return true;
    for (const p of h.prefixes) if (path.startsWith(p)) return true;
    return false;
  }

  hooks(): LayerHooks {
    return {
      maxContentBytes: maxOf(this.catalogers.map((c) => c.maxBytes), 1),
      wantContent: (e) => this.want(e),
      onContent: (e, data) => this.content(e, data),
    };
  }

  private set(path: string, cataloger: string, f: FileFindings | Promise<FileFindings>): void {
    let m = this.found.get(path);
    if (!m) this.found.set(path, (m = new Map()));
    m.set(cataloger, f);
  }

  private want(e: LayerEntry): boolean {
    const path = e.path;
    // A later entry for the same path replaces what an earlier one gave.
    if (this.found.size > 0) this.found.delete(path);
    if (!this.maybe(e)) return false;
    let wanted: Cataloger[] | null = null;
    for (const c of this.catalogers) {
      if (c.wants(path, e)) {
        if (e.size > c.maxBytes) {
          this.set(path, c.name, finding(path, c.name, { packages: [], warnings: [`${path}: ${e.size} bytes exceed the ${c.name} cataloger's limit of ${c.maxBytes}; not catalogued`] }));
        } else (wanted ??= []).push(c);
      } else if (c.note) {
        const r = c.note(path, e);
        if (r) this.set(path, c.name, finding(path, c.name, r));
      }
    }
    this.wanted = wanted ?? [];
    return wanted !== null;
  }

  private content(e: LayerEntry, data: Buffer): void {
    for (const c of this.wanted) {
      let r: ParseResult | Promise<ParseResult>;
      try {
        let scratch = this.scratch.get(c.name);
        if (!scratch) this.scratch.set(c.name, (scratch = {}));
        r = c.parse(e.path, data, this.layerId, scratch);
      } catch (err) {
        r = { packages: [], warnings: [`${e.path}: ${c.name} cataloger failed: ${errMsg(err)}`] };
      }
      if (r instanceof Promise) {
        const p = r.then(
          (x) => finding(e.path, c.name, x),
          (err: unknown) => finding(e.path, c.name, { packages: [], warnings: [`${e.path}: ${c.name} cataloger failed: ${errMsg(err)}`] }),
        );
        this.set(e.path, c.name, p);
      } else {
        this.set(e.path, c.name, finding(e.path, c.name, r));
      }
    }
    this.wanted = [];
  }

  /** The layer's findings: only files that gave something. */
  async finish(): Promise<LayerCatalog> {
    const files: FileFindings[] = [];
    for (const m of this.found.values()) {
      for (const f of m.values()) {
        const x = await f;
        if (x.packages.length > 0 || x.warnings.length > 0 || x.distro || (x.licenses && x.licenses.length > 0) || (x.secrets && x.secrets.length > 0) || x.accounts) files.push(x);
      }
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.cataloger < b.cataloger ? -1 : a.cataloger > b.cataloger ? 1 : 0));
    return { version: CATALOG_VERSION, files };
  }
}

function finding(path: string, cataloger: string, r: ParseResult): FileFindings {
  let warnings = r.warnings;
  if (warnings.length > MAX_FILE_WARNINGS) warnings = [...warnings.slice(0, MAX_FILE_WARNINGS), `${path}: ${warnings.length - MAX_FILE_WARNINGS} more warnings not shown`];
  const f: FileFindings = { path, cataloger, packages: r.packages, warnings };
  if (r.distro) f.distro = r.distro;
  if (r.licenses && r.licenses.length > 0) f.licenses = r.licenses;
  if (r.secrets && r.secrets.length > 0) f.secrets = r.secrets;
  if (r.accounts) f.accounts = r.accounts;
  return f;
}

/** For a quick check in tests and tools: is this a path some default cataloger reads? */
export function catalogedPath(path: string, entry: { size: number; mode: number } = { size: 0, mode: 0o644 }): boolean {
  return DEFAULT_CATALOGERS.some((c) => c.wants(path, entry));
}
