/**
 * `vouch sbom REF|FILE [--format table|json|cyclonedx-json|spdx-json] [--sbom FILE]`
 *
 * A FILE that is an SBOM document (CycloneDX, SPDX or syft JSON) is read and
 * normalised, so `--format spdx-json` converts it; anything else is an image
 * reference, catalogued by the packages cataloger. `--sbom FILE` compares that
 * (attached) SBOM with the inventory and reports packages only one side has
 * and version mismatches.
 */
import type { Command } from 'commander';
import { createRequire } from 'node:module';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { VouchError } from '../../core/errors.js';
import type { Platform } from '../../core/oci/types.js';
import { compareInventories, type InventoryComparison } from '../../core/packages/compare.js';
import { describe, readSbomFile, SBOM_MAX_BYTES, toCycloneDx, toSpdx, type SbomInventory } from '../../core/packages/sbom/index.js';
import type { Package, PackageInventory } from '../../core/packages/types.js';
import { sanitizeLine } from '../../core/util/sanitize.js';
import { table } from '../format/text.js';
import type { CliIo } from '../io.js';
import { collect, parsePlatform } from '../options.js';

export const SBOM_OUTPUT_FORMATS = ['table', 'json', 'cyclonedx-json', 'spdx-json'] as const;
export type SbomOutputFormat = (typeof SBOM_OUTPUT_FORMATS)[number];

export interface SbomFlags {
  format?: string;
  json?: boolean;
  sbom?: string;
  platform?: string;
  cache: boolean;
  insecureRegistry?: string[];
}

/** The cataloger's entry point (src/core/packages/catalog/index.ts). */
export type CatalogImage = (
  ref: string,
  opts: { noCache?: boolean; platform?: Platform; insecureRegistries?: string[] },
) => Promise<PackageInventory>;

async function loadCatalogImage(): Promise<CatalogImage> {
  // Loaded on demand: reading or converting an SBOM file needs none of the image machinery.
  const mod = await import('../../core/packages/catalog/index.js');
  return mod.catalogImage;
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

export function sbomJson(inv: PackageInventory, comparison?: InventoryComparison): Record<string, unknown> {
  const out: Record<string, unknown> = {
    source: inv.source,
    distro: { id: inv.distro?.id ?? null, versionId: inv.distro?.versionId ?? null },
    packages: inv.packages.map(jsonPackage),
  };
  if (comparison) {
    out.comparison = {
      onlyInAttached: comparison.onlyInAttached.map(jsonPackage),
      onlyInCatalog: comparison.onlyInCatalog.map(jsonPackage),
      versionMismatch: comparison.versionMismatch,
    };
  }
  return out;
}

function packagesTable(pkgs: Package[]): string {
  return table(
    [{ header: 'TYPE', max: 12 }, { header: 'NAME', max: 60 }, { header: 'VERSION', max: 40 }, { header: 'LICENSES', max: 40 }, { header: 'LOCATION', max: 80 }],
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
        [{ header: 'TYPE', max: 12 }, { header: 'NAME', max: 60 }, { header: 'ATTACHED', max: 40 }, { header: 'CATALOGUE', max: 40 }],
        c.versionMismatch.map((m) => [m.type, m.name, m.attachedVersion || '-', m.catalogVersion || '-']),
      ),
    );
  }
  return parts.join('\n');
}

export async function runSbom(target: string, flags: SbomFlags, io: CliIo): Promise<number> {
  const format = (flags.json ? 'json' : flags.format ?? 'table') as SbomOutputFormat;
  if (!SBOM_OUTPUT_FORMATS.includes(format)) {
    throw new VouchError('USAGE', `--format must be one of ${SBOM_OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(flags.format)}`);
  }
  const limit = maxBytes();
  const warn = (ws: string[]): void => {
    for (const w of ws) io.err(`vouch: warning: ${sanitizeLine(w)}\n`);
  };

  let inv: PackageInventory | SbomInventory;
  const isFile = await looksLikeSbomFile(target);
  if (isFile) {
    inv = await readSbomFile(target, { source: 'file', maxBytes: limit });
  } else {
    const catalogImage = await loadCatalogImage();
    const opts: Parameters<CatalogImage>[1] = { noCache: !flags.cache };
    if (flags.platform) opts.platform = parsePlatform(flags.platform);
    if (flags.insecureRegistry?.length) opts.insecureRegistries = flags.insecureRegistry;
    inv = await catalogImage(target, opts);
  }
  warn(inv.warnings);

  let comparison: InventoryComparison | undefined;
  if (flags.sbom) {
    const attached = await readSbomFile(flags.sbom, { source: 'attached', maxBytes: limit });
    warn(attached.warnings);
    comparison = compareInventories(attached, inv);
  }

  const meta = { name: isFile ? basename(target) : target, toolVersion: toolVersion() };
  switch (format) {
    case 'json':
      io.out(`${JSON.stringify(sbomJson(inv, comparison), null, 2)}\n`);
      break;
    case 'cyclonedx-json':
      io.out(`${JSON.stringify(toCycloneDx(inv, meta), null, 2)}\n`);
      if (comparison) io.err(`${comparisonText(comparison, flags.sbom!)}\n`);
      break;
    case 'spdx-json':
      io.out(`${JSON.stringify(toSpdx(inv, meta), null, 2)}\n`);
      if (comparison) io.err(`${comparisonText(comparison, flags.sbom!)}\n`);
      break;
    case 'table': {
      const lines = [summary(inv, target), ''];
      if (inv.packages.length) lines.push(packagesTable(inv.packages));
      if (comparison) lines.push('', comparisonText(comparison, flags.sbom!));
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
    .option('--platform <os/arch[/variant]>', "platform to pick from a multi-platform image (default: the host's)")
    .option('--no-cache', 'catalogue every layer again, ignoring and not writing the cache')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .addHelpText(
      'after',
      `\nSBOM files above ${SBOM_MAX_BYTES / 1024 / 1024} MiB are refused (VOUCH_SBOM_MAX_BYTES raises the limit). Exit code 2 on unusable input.`,
    )
    .action(async (target: string, flags: SbomFlags) => {
      io.setExitCode(await runSbom(target, flags, io));
    });
}
