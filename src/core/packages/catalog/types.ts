/**
 * What catalogers find in one layer, before the image-level assembly: plain
 * JSON (it is cached with the layer walk), keyed by the file it came from, so
 * the assembly can keep only what survives in the merged filesystem.
 */
import type { Distro, PackageType } from '../types.js';
import type { AccountsFinding, SecretFinding } from '../../checks/content/types.js';

/** A package as one file describes it. The purl is built at assembly time, once the image's distro is known. */
export interface FoundPackage {
  name: string;
  version: string;
  type: PackageType;
  licenses: string[];
  /** Extras (arch, source, epoch, release, groupId, virtualPath...). Also what purls are built from. */
  metadata?: Record<string, string>;
}

/** The findings of one file of one layer: what its cataloger's parse returned, and where. */
export interface FileFindings extends ParseResult {
  /** Absolute path of the file in the layer. */
  path: string;
  /** Name of the cataloger that read it. */
  cataloger: string;
}

/** Everything the catalogers found in one layer (cached beside the layer walk). */
export interface LayerCatalog {
  /** CATALOG_VERSION of the catalogers that produced it. */
  version: number;
  /** One per file with findings (packages, warnings, a distro or licences), sorted by path then cataloger. */
  files: FileFindings[];
}

/** Header-level facts a cataloger may look at to decide (the walker's entry). */
export interface EntryInfo {
  size: number;
  mode: number;
}

export interface CatalogerHint {
  /** File names (last path element) the cataloger may want. */
  basenames?: readonly string[];
  /** Extensions (from the last dot of the file name, lower case, e.g. ".jar"). */
  extensions?: readonly string[];
  /** Path prefixes. */
  prefixes?: readonly string[];
  /** Any file with an execute bit. */
  executables?: boolean;
}

/** State a cataloger keeps across the files of one layer (one object per cataloger per layer pass). */
export type LayerScratch = Record<string, unknown>;

/** What parse returns for one file. */
export interface ParseResult {
  packages: FoundPackage[];
  /** Warnings about this file (truncated records, formats not catalogued, content too large...). Already name the file. */
  warnings: string[];
  /** os-release files: the distro they describe. */
  distro?: Distro;
  /** Licence files (e.g. Debian's machine-readable copyright): the licences they declare. */
  licenses?: string[];
  /** Credential files (the secrets scanner): what kind of secret they hold, never the value. */
  secrets?: SecretFinding[];
  /** /etc/passwd, /etc/group, /etc/shadow (the accounts scanner): names and ids, never a password hash. */
  accounts?: AccountsFinding;
}

/**
 * One ecosystem's cataloger. Runs inside the single streaming pass of a layer:
 * `wants` is asked for every regular file (it must be cheap), and the content of
 * wanted files (up to `maxBytes`) is handed to `parse`, which must never throw
 * for bad content: it returns warnings naming the file and record instead.
 */
export interface Cataloger {
  readonly name: string;
  /**
   * A cheap superset of what `wants` and `note` accept, so the pass can skip
   * most entries with one set lookup: without it, `wants` is asked for every file.
   */
  readonly hint?: CatalogerHint;
  /** Largest file content this cataloger reads; larger wanted files get a warning. */
  readonly maxBytes: number;
  wants(path: string, entry: EntryInfo): boolean;
  /** Findings that need no content (e.g. an rpmdb format we do not read); called for files `wants` rejected. */
  note?(path: string, entry: EntryInfo): ParseResult | undefined;
  /**
   * Parse the complete content. `layer` is the layer's diffId (or blob digest while unknown). `scratch` is
   * this cataloger's own object for the whole layer pass (e.g. a budget shared by the layer's files).
   */
  parse(path: string, data: Buffer, layer: string, scratch?: LayerScratch): ParseResult | Promise<ParseResult>;
}
