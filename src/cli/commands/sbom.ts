/**
 * `vouch sbom REF|FILE [--format table|json|cyclonedx-json|spdx-json] [--sbom FILE] [--attached [--attached-index N]]`
 *
 * A FILE that is an SBOM document (CycloneDX, SPDX or syft JSON) is read and
 * normalised, so `--format spdx-json` converts it; anything else is an image
 * reference, catalogued by the packages cataloger. `--sbom FILE` compares that
 * (attached) SBOM with the inventory and reports packages only one side has
 * and version mismatches.
 *
 * Attached SBOMs (cosign `.sbom` tag, SPDX/CycloneDX attestations, SBOM
 * referrers): `--attached` prints them instead of the catalogue (several are
 * merged, `--attached-index N` picks the Nth, numbered as the note on stderr
 * lists them); without it, an image that has attached SBOMs is catalogued and
 * compared with them (JSON `comparison`, a summary line in the table), unless
 * `--sbom FILE` names the SBOM to compare with.
 */
import type { Progress } from '../../core/layers/image-analysis.js';
import { progressReporter } from '../progress.js';
import { ReferencePins } from '../../core/sources/pins.js';
import type { Command } from 'commander';
import { createRequire } from 'node:module';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { VouchError } from '../../core/errors.js';
import type { CacheInfo } from '../../core/layers/verify.js';
import type { Platform } from '../../core/oci/types.js';
import type { AttachedOptions, AttachedReport, AttachedSbom } from '../../core/packages/attached.js';
import { compareInventories, type InventoryComparison } from '../../core/packages/compare.js';
import { describe, imageSubject, readSbomFile, SBOM_MAX_BYTES, toCycloneDx, toSpdx, type ImageSubject, type SbomInventory } from '../../core/packages/sbom/index.js';
import type { Package, PackageInventory } from '../../core/packages/types.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { synthesisedDigestCaveat } from '../../core/util/digest-caveat.js';
import { table, WHOLE } from '../format/text.js';
import type { CliIo } from '../io.js';
import { collect, parsePlatform } from '../options.js';
import { pathTextJson } from '../../core/util/path-bytes.js';

export const SBOM_OUTPUT_FORMATS = ['table', 'json', 'cyclonedx-json', 'spdx-json'] as const;
export type SbomOutputFormat = (typeof SBOM_OUTPUT_FORMATS)[number];

export interface SbomFlags {
  format?: string;
  json?: boolean;
  sbom?: string;
  platform?: string;
  cache: boolean;
  insecureRegistry?: string[];
  attached?: boolean;
  attachedIndex?: string;
  trust?: string;
  verify?: boolean;
}

/** The cataloger's entry point (src/core/packages/catalog/index.ts). */
export type CatalogImage = (
  ref: string,
  opts: { noCache?: boolean; platform?: Platform; insecureRegistries?: string[]; pins?: ReferencePins; verify?: boolean; onProgress?: (p: Progress) => void },
) => Promise<{ cache?: CacheInfo; inventory: PackageInventory; image: { reference: string; name: string; digest: string; platform: { architecture: string }; synthesizedManifest?: boolean } }>;

async function loadCatalogImage(): Promise<CatalogImage> {
  // Loaded on demand: reading or converting an SBOM file needs none of the image machinery.
  const mod = await import('../../core/packages/catalog/index.js');
  return mod.catalogReference;
}

const TRANSPORT = /^(docker|oci|oci-archive|docker-archive|docker-daemon):/;

/** A regular file whose content starts like a JSON document or SPDX tag-value: an SBOM, not an image. */
export async function looksLikeSbomFile(target: string): Promise<boolean> {
  if (TRANSPORT.test(target)) return false;
  try {
    if (!(await stat(target)).isFile()) return false;
    const fh = await open(target, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const head = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
      return /^\s*[{[]/.test(head) || /^\s*(SPDXVersion|DataLicense|SPDXID|DocumentName)\s*:/m.test(head.slice(0, 2048));
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

function maxBytes(): number {
  const env = process.env.VOUCH_SBOM_MAX_BYTES;
  if (env === undefined || env === '') return SBOM_MAX_BYTES;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n <= 0) throw new VouchError('USAGE', `VOUCH_SBOM_MAX_BYTES must be a positive integer, got ${JSON.stringify(env)}`);
  return n;
}

function toolVersion(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../../../package.json', '../../../../package.json']) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      /* next layout (src vs dist) */
    }
  }
  return '0.0.0';
}

/** A package as `--format json` prints it: exactly these fields. */
export function jsonPackage(p: Package): Record<string, unknown> {
  return {
    name: p.name,
    version: p.version,
    type: p.type,
    purl: p.purl,
    licenses: p.licenses,
    locations: p.locations.map((l) => ({ path: l.path, layer: l.layer })),
  };
}

/** An attached SBOM as the JSON names it (in `attached` and `comparison.attached`). */
export function jsonAttachedSbom(s: AttachedSbom, index: number): Record<string, unknown> {
  return {
    index,
    where: s.where,
    digest: s.digest,
    manifestDigest: s.manifestDigest,
    format: describe(s.format),
    predicateType: s.predicateType ?? null,
    verified: s.verified,
    signer: s.signer ?? null,
    packages: s.inventory.packages.length,
  };
}

export function sbomJson(inv: PackageInventory, comparison?: InventoryComparison, attached?: Array<Record<string, unknown>>, attachedPlace: 'top' | 'comparison' = 'comparison'): Record<string, unknown> {
  const out: Record<string, unknown> = {
    source: inv.source,
    distro: { id: inv.distro?.id ?? null, versionId: inv.distro?.versionId ?? null },
    packages: inv.packages.map(jsonPackage),
    // What the catalogue may be missing (e.g. a foreign layer not analysed); also printed on stderr.
    ...(inv.warnings.length ? { warnings: inv.warnings.map((w) => sanitizeLine(w)) } : {}),
  };
  if (attached && attachedPlace === 'top') out.attached = attached;
  if (comparison) {
    out.comparison = {
      onlyInAttached: comparison.onlyInAttached.map(jsonPackage),
      onlyInCatalog: comparison.onlyInCatalog.map(jsonPackage),
      versionMismatch: comparison.versionMismatch,
      ...(attached && attachedPlace === 'comparison' ? { attached } : {}),
    };
  }
  return out;
}

function packagesTable(pkgs: Package[]): string {
  return table(
    [{ header: 'TYPE', max: 12, priority: 3, min: WHOLE }, { header: 'NAME', max: 60, min: 20 }, { header: 'VERSION', max: 40, min: 16 }, { header: 'LICENSES', max: 40, priority: 4, min: 12 }, { header: 'LOCATION', max: 80, priority: 5, min: 16 }],
    pkgs.map((p) => [
      p.type,
      p.name,
      p.version || '-',
      p.licenses.join(', ') || '-',
      p.locations.length ? `${p.locations[0]!.path}${p.locations.length > 1 ? ` (+${p.locations.length - 1})` : ''}` : '-',
    ]),
  );
}

function origin(inv: PackageInventory | SbomInventory): string {
  return 'format' in inv ? `${inv.source}, ${describe(inv.format)}` : inv.source;
}

function summary(inv: PackageInventory | SbomInventory, what: string): string {
  const d = inv.distro?.id ? `, distro ${inv.distro.id}${inv.distro.versionId ? ` ${inv.distro.versionId}` : ''}` : '';
  return sanitizeLine(`${what}: ${inv.packages.length} package${inv.packages.length === 1 ? '' : 's'} (${origin(inv)})${d}`);
}

export function comparisonText(c: InventoryComparison, attachedWhat: string): string {
  const parts: string[] = [
    sanitizeLine(
      `compared with ${attachedWhat}: ${c.matched} matched, ${c.onlyInAttached.length} only in the attached SBOM, ${c.onlyInCatalog.length} only in the catalogue, ${c.versionMismatch.length} at different versions`,
    ),
  ];
  if (c.onlyInAttached.length) parts.push('', `only in the attached SBOM (${c.onlyInAttached.length}):`, packagesTable(c.onlyInAttached));
  if (c.onlyInCatalog.length) parts.push('', `only in the catalogue (${c.onlyInCatalog.length}):`, packagesTable(c.onlyInCatalog));
  if (c.versionMismatch.length) {
    parts.push(
      '',
      `different versions (${c.versionMismatch.length}):`,
      table(
        [{ header: 'TYPE', max: 12, priority: 2, min: WHOLE }, { header: 'NAME', max: 60, min: 20 }, { header: 'ATTACHED', max: 40, min: 16 }, { header: 'CATALOGUE', max: 40, min: 16 }],
        c.versionMismatch.map((m) => [m.type, m.name, m.attachedVersion || '-', m.catalogVersion || '-']),
      ),
    );
  }
  return parts.join('\n');
}

/** Reads what is attached to an image (src/core/packages/attached.ts); replaceable in tests. */
async function loadReadAttached(): Promise<(ref: string, opts: AttachedOptions) => Promise<AttachedReport>> {
  return (await import('../../core/packages/attached.js')).readAttached;
}

/** `sbom-tag sha256:0123456789ab, SPDX 2.3 JSON (verified by ci)`: one attached SBOM, for notes and the table. */
function attachedLine(s: AttachedSbom, i: number): string {
  const v = s.verified === null ? '' : s.verified ? `, verified${s.signer?.trustedAs ? ` by ${s.signer.trustedAs}` : ''}` : ', signature not verified';
  return sanitizeLine(`#${i} ${s.where} ${s.digest.slice(0, 19)}, ${describe(s.format)}${s.predicateType ? ` (${s.predicateType})` : ''}, ${s.inventory.packages.length} packages${v}`);
}

function parseIndex(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new VouchError('USAGE', `--attached-index must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

export async function runSbom(target: string, flags: SbomFlags, io: CliIo): Promise<number> {
  const format = (flags.json ? 'json' : flags.format ?? 'table') as SbomOutputFormat;
  if (!SBOM_OUTPUT_FORMATS.includes(format)) {
    throw new VouchError('USAGE', `--format must be one of ${SBOM_OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(flags.format)}`);
  }
  const attachedIndex = parseIndex(flags.attachedIndex);
  if (attachedIndex !== undefined && !flags.attached) throw new VouchError('USAGE', '--attached-index needs --attached');
  if (flags.attached && flags.sbom) throw new VouchError('USAGE', '--attached and --sbom cannot be combined (--attached prints the attached SBOM; --sbom compares the catalogue with a file)');
  const limit = maxBytes();
  const warn = (ws: string[]): void => {
    for (const w of ws) io.err(`vouch: warning: ${sanitizeLine(w)}\n`);
  };

  let inv: PackageInventory | SbomInventory;
  const isFile = await looksLikeSbomFile(target);
  if (flags.attached && isFile) throw new VouchError('USAGE', `--attached reads the SBOMs attached to an image; ${target} is an SBOM file`);
  const platform = flags.platform ? parsePlatform(flags.platform) : undefined;
  // The catalogue and the attached SBOMs are of one digest, whatever the tag does meanwhile.
  const pins = new ReferencePins();
  const attachedOpts = (): AttachedOptions => ({
    pins,
    maxBytes: limit,
    ...(platform ? { platform } : {}),
    ...(flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {}),
    ...(flags.trust ? { trustFile: flags.trust } : {}),
  });
  /** The attached SBOMs, with a warning for each one not used. */
  const attachedSboms = async (): Promise<AttachedSbom[]> => {
    const report = await (await loadReadAttached())(target, attachedOpts());
    for (const s of report.skipped) if (s.kind === 'sbom') io.err(`vouch: warning: ${sanitizeLine(`${s.label}: ${s.reason}`)}\n`);
    return report.sboms;
  };
  let attachedJson: Array<Record<string, unknown>> | undefined;
  /** The catalogued image, which CycloneDX/SPDX output names by repository and digest. */
  let subject: ImageSubject | undefined;
  /** How a catalogue served from the cache was checked against the source (JSON `cache`). */
  let cacheInfo: CacheInfo | undefined;
  /** Caveats the CycloneDX/SPDX document carries beside the inventory's warnings. */
  const notes: string[] = [];

  if (flags.attached) {
    const sboms = await attachedSboms();
    if (sboms.length === 0) throw new VouchError('NOT_FOUND', `${target}: no SBOM is attached (no .sbom tag, SPDX/CycloneDX attestation or SBOM referrer)`);
    if (attachedIndex !== undefined && attachedIndex > sboms.length) throw new VouchError('USAGE', `--attached-index ${attachedIndex}: the image has ${sboms.length} attached SBOM${sboms.length === 1 ? '' : 's'}`);
    const { mergeAttachedSboms } = await import('../../core/packages/attached.js');
    const chosen = attachedIndex !== undefined ? [sboms[attachedIndex - 1]!] : sboms;
    if (sboms.length > 1) {
      io.err(
        `vouch: note: ${sboms.length} SBOMs are attached; ${attachedIndex !== undefined ? `printing #${attachedIndex}` : 'printing them merged (pick one with --attached-index N)'}:\n${sboms.map((s, i) => `  ${attachedLine(s, i + 1)}`).join('\n')}\n`,
      );
    }
    inv = chosen.length === 1 ? chosen[0]!.inventory : mergeAttachedSboms(chosen);
    attachedJson = chosen.map((s) => jsonAttachedSbom(s, sboms.indexOf(s) + 1));
  } else if (isFile) {
    inv = await readSbomFile(target, { source: 'file', maxBytes: limit });
  } else {
    const catalogImage = await loadCatalogImage();
    const opts: Parameters<CatalogImage>[1] = { noCache: !flags.cache, pins, ...(flags.verify ? { verify: true } : {}) };
    if (platform) opts.platform = platform;
    if (flags.insecureRegistry?.length) opts.insecureRegistries = flags.insecureRegistry;
    const progress = progressReporter();
    opts.onProgress = (p) => progress.update(p);
    const catalogued = await catalogImage(target, opts).finally(progress.done);
    inv = catalogued.inventory;
    subject = imageSubject(catalogued.image);
    cacheInfo = catalogued.cache;
    // The document names the image by a digest no registry has (unless the daemon recorded the pulled one).
    if (catalogued.image.synthesizedManifest && subject.digest === catalogued.image.digest) {
      const caveat = synthesisedDigestCaveat({
        transport: catalogued.image.reference.startsWith('docker-daemon:') ? 'docker-daemon' : 'archive',
        digest: catalogued.image.digest,
        synthesizedManifest: true,
      });
      if (caveat) notes.push(caveat);
    }
  }
  warn(inv.warnings);

  let comparison: InventoryComparison | undefined;
  let comparedWith: string | undefined;
  /** Attached comparisons print one summary line in the table (the full lists are in --json). */
  let shortComparison = false;
  if (flags.sbom) {
    const attached = await readSbomFile(flags.sbom, { source: 'attached', maxBytes: limit });
    warn(attached.warnings);
    comparison = compareInventories(attached, inv);
    comparedWith = flags.sbom;
  } else if (!isFile && !flags.attached) {
    // The catalogue of an image: compare it with what the pipeline attached, when it attached something.
    let sboms: AttachedSbom[] = [];
    try {
      sboms = await attachedSboms();
    } catch (e) {
      io.err(`vouch: warning: could not read the SBOMs attached to ${sanitizeLine(target)}: ${sanitizeLine(e instanceof Error ? e.message : String(e))}\n`);
    }
    if (sboms.length > 0) {
      const { mergeAttachedSboms } = await import('../../core/packages/attached.js');
      const merged = mergeAttachedSboms(sboms);
      comparison = compareInventories(merged, inv);
      attachedJson = sboms.map((s, i) => jsonAttachedSbom(s, i + 1));
      comparedWith = sboms.length === 1 ? `the attached SBOM (${attachedLine(sboms[0]!, 1).replace(/^#1 /, '')})` : `the ${sboms.length} attached SBOMs, merged (${sboms.map((s, i) => attachedLine(s, i + 1)).join('; ')})`;
      shortComparison = true;
    }
  }

  const meta = { name: isFile ? basename(target) : target, toolVersion: toolVersion(), ...(subject ? { image: subject } : {}), ...(notes.length ? { notes } : {}) };
  const compareText = (c: InventoryComparison): string => {
    const t = comparisonText(c, comparedWith!);
    return shortComparison ? `${t.split('\n')[0]}${c.onlyInAttached.length + c.onlyInCatalog.length + c.versionMismatch.length ? ' (the packages are listed in --json under comparison)' : ''}` : t;
  };
  switch (format) {
    case 'json':
      io.out(`${terminalSafeJson({ ...sbomJson(inv, comparison, attachedJson, flags.attached ? 'top' : 'comparison'), ...(cacheInfo ? { cache: cacheInfo } : {}) }, 2)}\n`);
      break;
    case 'cyclonedx-json':
      io.out(`${terminalSafeJson(toCycloneDx(inv, meta), 2, pathTextJson)}\n`);
      if (comparison) io.err(`${compareText(comparison)}\n`);
      break;
    case 'spdx-json':
      io.out(`${terminalSafeJson(toSpdx(inv, meta), 2, pathTextJson)}\n`);
      if (comparison) io.err(`${compareText(comparison)}\n`);
      break;
    case 'table': {
      const lines = [summary(inv, flags.attached ? `${target} (attached SBOM${attachedJson && attachedJson.length > 1 ? `s, ${attachedJson.length} merged` : ''})` : target), ''];
      if (inv.packages.length) lines.push(packagesTable(inv.packages));
      if (comparison) lines.push('', compareText(comparison));
      io.out(`${lines.join('\n').trimEnd()}\n`);
      break;
    }
  }
  return 0;
}

export function registerSbom(program: Command, io: CliIo): void {
  program
    .command('sbom')
    .description('list the packages in an image (catalogued) or an SBOM file (CycloneDX, SPDX, syft JSON); convert; compare with an attached SBOM')
    .argument('<target>', 'image reference, or an SBOM file (CycloneDX 1.2–1.7, SPDX 2.2/2.3 or syft JSON)')
    .option('--format <format>', `output: ${SBOM_OUTPUT_FORMATS.join(' | ')}`, 'table')
    .option('--json', 'same as --format json')
    .option('--sbom <file>', 'compare with this (attached) SBOM file: packages only one side has, version mismatches')
    .option('--attached', 'print the SBOM attached to the image (cosign .sbom tag, SPDX/CycloneDX attestation, referrer) instead of the catalogue; several are merged')
    .option('--attached-index <n>', 'with --attached: print only the Nth attached SBOM (numbered as the note on stderr lists them)')
    .option('--trust <file>', 'trust file to verify SBOM attestations with (default: ./vouch.trust.yaml when present)')
    .option('--platform <os/arch[/variant]>', "platform to pick from a multi-platform image (default: the host's)")
    .option('--no-cache', 'catalogue every layer again, ignoring and not writing the cache')
    .option('--verify', 're-hash every layer blob even when the cache answers (a cached answer always checks that each blob is there with its size)')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .addHelpText(
      'after',
      `\nFor an image with attached SBOMs, the catalogue is compared with them (JSON: comparison; table: a summary line).\nSBOM files above ${SBOM_MAX_BYTES / 1024 / 1024} MiB are refused (VOUCH_SBOM_MAX_BYTES raises the limit). Exit code 2 on unusable input.`,
    )
    .action(async (target: string, flags: SbomFlags) => {
      io.setExitCode(await runSbom(target, flags, io));
    });
}
