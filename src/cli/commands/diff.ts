import { progressReporter } from '../progress.js';
import type { Command } from 'commander';
import { diffInputs, type DiffReport, type DiffResult, type DiffSide, type KeyedChanges, type LayerRef } from '../../core/diff/index.js';
import { formatReference } from '../../core/ref/parse.js';
import { sanitizeLine, terminalSafeJson } from '../../core/util/sanitize.js';
import { humanBytes, LAYER_SIZES_LEGEND, shortDigest, table, WHOLE } from '../format/text.js';
import { collect, parsePlatform } from '../options.js';
import type { CliIo } from '../io.js';

export interface DiffFlags {
  json?: boolean;
  platform?: string;
  cache: boolean;
  insecureRegistry?: string[];
  showSecrets?: boolean;
  trust?: string;
  baselineImage?: string;
}

export async function runDiff(base: string, target: string, flags: DiffFlags, io: CliIo): Promise<number> {
  const progress = progressReporter();
  const result = await diffInputs(base, target, {
    onProgress: (input, p) => progress.update(p, input === base ? 'base' : 'target'),
    noCache: !flags.cache,
    ...(flags.platform ? { platform: parsePlatform(flags.platform) } : {}),
    ...(flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {}),
    ...(flags.showSecrets ? { showSecrets: true } : {}),
    ...(flags.trust ? { trustFile: flags.trust } : {}),
    ...(flags.baselineImage !== undefined ? { baselineImage: flags.baselineImage } : {}),
    onResolved: (input, r) => {
      if (!flags.json && !r.how.startsWith('transport ')) io.err(`vouch: ${sanitizeLine(input)}: ${r.how}: ${sanitizeLine(formatReference(r.reference))}\n`);
    },
  }).finally(progress.done);
  if (flags.json) io.out(`${terminalSafeJson({ base: sideJson(result.base), target: sideJson(result.target), ...result.report }, 2)}\n`);
  else io.out(formatDiff(result));
  return 0;
}

/**
 * What one side of `diff --json` was: the input as given, the reference it resolved to and the manifest
 * digest compared (for an approval record, the record's image paired with the other side); null where unknown
 * (an SBOM file).
 */
export function sideJson(side: DiffSide): { kind: string; input: string; reference: string | null; digest: string | null } {
  if (side.image) return { kind: side.kind, input: side.input, reference: side.image.analysis.reference, digest: side.image.analysis.digest };
  const paired = side.approval?.paired ? side.approval.images.find((i) => i.key === side.approval!.paired) : undefined;
  if (paired) return { kind: side.kind, input: side.input, reference: paired.name, digest: paired.digest };
  return { kind: side.kind, input: side.input, reference: side.resolution ? formatReference(side.resolution.reference) : null, digest: null };
}

const s = sanitizeLine;
/** Files shown per set (added, removed, changed) in text; --json carries them all. */
const FILES_SHOWN = 20;
const argv = (a: string[] | null): string => (a === null ? '(none)' : JSON.stringify(a));

function keyedRows(k: KeyedChanges): string[][] {
  return [
    ...k.added.map((e) => ['+', e.name, '', e.value]),
    ...k.removed.map((e) => ['-', e.name, e.value, '']),
    ...k.changed.map((e) => ['~', e.name, e.from, e.to]),
  ];
}

/** Human summary: one table per section. Every string from an image or SBOM goes through sanitizeLine (table() clips and sanitises cells). */
export function formatDiff(result: DiffResult): string {
  const { report } = result;
  const out: string[] = [];
  out.push(`base:   ${s(result.base.label)}`, `target: ${s(result.target.label)}`, '');
  out.push(...formatPackages(report));
  if (report.config) {
    const c = report.config;
    const rows: string[][] = [];
    if (c.user) rows.push(['~', 'User', c.user.from || '(root)', c.user.to || '(root)']);
    for (const r of keyedRows(c.env)) rows.push([r[0]!, `Env ${r[1]}`, r[2]!, r[3]!]);
    if (c.entrypoint) rows.push(['~', 'Entrypoint', argv(c.entrypoint.from), argv(c.entrypoint.to)]);
    if (c.cmd) rows.push(['~', 'Cmd', argv(c.cmd.from), argv(c.cmd.to)]);
    if (c.workingDir) rows.push(['~', 'WorkingDir', c.workingDir.from, c.workingDir.to]);
    for (const p of c.exposedPorts.added) rows.push(['+', 'ExposedPort', '', p]);
    for (const p of c.exposedPorts.removed) rows.push(['-', 'ExposedPort', p, '']);
    for (const v of c.volumes.added) rows.push(['+', 'Volume', '', v]);
    for (const v of c.volumes.removed) rows.push(['-', 'Volume', v, '']);
    for (const r of keyedRows(c.labels)) rows.push([r[0]!, `Label ${r[1]}`, r[2]!, r[3]!]);
    if (c.baseImage) {
      const b = (x: { name: string | null; digest: string | null }): string => [x.name, x.digest].filter(Boolean).join(' ') || '(none)';
      rows.push(['~', 'Base image', b(c.baseImage.from), b(c.baseImage.to)]);
    }
    out.push(`Config: ${rows.length === 0 ? 'unchanged' : `${rows.length} change${rows.length === 1 ? '' : 's'}`}`);
    if (rows.length) out.push(table([{ header: '', min: WHOLE }, { header: 'SETTING', max: 60, min: 16 }, { header: 'BASE', max: 70, priority: 2, min: 12 }, { header: 'TARGET', max: 70, min: 12 }], rows));
    out.push('');
  }
  if (report.layers) {
    const l = report.layers;
    out.push(`Layers: ${l.shared.length} shared, ${l.added.length} added, ${l.removed.length} removed`);
    const rows = [
      ...l.shared.map((x) => ['=', ...layerRow(x)]),
      ...l.added.map((x) => ['+', ...layerRow(x)]),
      ...l.removed.map((x) => ['-', ...layerRow(x)]),
    ];
    if (rows.length) {
      out.push(table([{ header: '', min: WHOLE }, { header: 'DIFF ID', priority: 3, min: WHOLE }, { header: 'FILES SIZE', align: 'right', priority: 2, min: WHOLE }, { header: 'TAR SIZE', align: 'right', priority: 4, min: WHOLE }, { header: 'CREATED BY', max: 80, min: 24 }], rows));
      out.push(LAYER_SIZES_LEGEND);
    }
    out.push('');
  }
  if (report.files) {
    const f = report.files;
    out.push(`Files: ${f.added.count} added (${humanBytes(f.added.bytes)}), ${f.removed.count} removed (${humanBytes(f.removed.bytes)}), ${f.changed.count} changed`);
    // The reviewer's first questions, answered before any table: a new setuid binary, a new key.
    for (const p of f.attention.newSetuid) out.push(`  NEW SETUID/SETGID: ${s(p)}`);
    for (const p of f.attention.newSecrets) out.push(`  NEW KEY/CREDENTIAL FILE: ${s(p)}`);
    const why = (r: string[] | undefined): string => (r?.length ? ` [${r.join(', ')}]` : '');
    const rows: string[][] = [];
    const more: string[] = [];
    const top = <T,>(label: string, set: { count: number; files: T[] }, row: (x: T) => string[]): void => {
      const shown = set.files.slice(0, FILES_SHOWN);
      rows.push(...shown.map(row));
      if (set.files.length > shown.length) more.push(`… and ${set.files.length - shown.length} more ${label}`);
    };
    top('added', f.added, (x) => ['+', x.path, humanBytes(x.size), `${x.type}${why(x.review)}${viaLink(x.linkBits)}`]);
    top('removed', f.removed, (x) => ['-', x.path, humanBytes(x.size), `${x.type}${why(x.review)}${viaLink(x.linkBits)}`]);
    top('changed', f.changed, (x) => ['~', x.path, `${humanBytes(x.from.size)} → ${humanBytes(x.to.size)}`, `${x.fields.map((k) => fieldChange(k, x.from, x.to)).join(', ')}${why(x.review)}`]);
    if (rows.length) out.push(table([{ header: '', min: WHOLE }, { header: 'PATH (review-relevant first, then largest)', max: 90, min: 32 }, { header: 'SIZE', align: 'right', priority: 3, min: WHOLE }, { header: 'WHAT', max: 70, priority: 2, min: 16 }], rows));
    if (more.length) out.push(`${more.join(', ')} (--json lists every file)`);
    out.push('');
  }
  if (!report.config) {
    const why = result.base.kind === 'approval' || result.target.kind === 'approval' ? 'an approval record holds package lists only, no config, layers or files' : 'one side is not an image';
    out.push(`Config, layers and files: not compared (${why})`, '');
  }
  const warnings = [...result.base.inventory.warnings.map((w) => `base: ${w}`), ...result.target.inventory.warnings.map((w) => `target: ${w}`)];
  for (const w of warnings) out.push(`warning: ${s(w)}`);
  return `${out.join('\n').trimEnd()}\n`;
}

const layerRow = (x: LayerRef): string[] => [shortDigest(x.diffId), humanBytes(x.sizeBytes), humanBytes(x.uncompressedSize), x.createdBy ?? ''];

/** Bits the file has only through another name of its inode (the checks' any-header rule). */
const viaLink = (bits: number | undefined): string => (bits ? ` (0${bits.toString(8)} from another name of its inode)` : '');

function fieldChange(k: string, from: Record<string, unknown>, to: Record<string, unknown>): string {
  const v = (x: unknown): string => (k === 'mode' && typeof x === 'number' ? `0${x.toString(8)}` : x === undefined ? '-' : String(x));
  if (k === 'content') return `content sha256:${String(from['sha256']).slice(0, 12)}→${String(to['sha256']).slice(0, 12)}`;
  if (k === 'linkBits') {
    const b = (x: unknown): string => (typeof x === 'number' && x !== 0 ? `0${x.toString(8)}` : '0');
    return `bits from another name of its inode ${b(from[k])}→${b(to[k])}`;
  }
  return k === 'size' ? 'size' : `${k} ${v(from[k])}→${v(to[k])}`;
}

function formatPackages(report: DiffReport): string[] {
  const p = report.packages;
  const out: string[] = [];
  const up = p.changed.filter((c) => c.direction === 'upgrade').length;
  const down = p.changed.filter((c) => c.direction === 'downgrade').length;
  out.push(`Packages: ${p.added.length} added, ${p.removed.length} removed, ${p.changed.length} changed (${up} upgraded, ${down} downgraded, ${p.changed.length - up - down} unknown), ${p.licenseChanges.length} licence change${p.licenseChanges.length === 1 ? '' : 's'}`);
  const rows = [
    ...p.added.map((x) => ['+', x.type, x.name, '', x.version, '']),
    ...p.removed.map((x) => ['-', x.type, x.name, x.version, '', '']),
    ...p.changed.map((x) => ['~', x.type, x.name, x.from, x.to, x.direction]),
  ];
  if (rows.length) out.push(table([{ header: '', min: WHOLE }, { header: 'TYPE', priority: 3, min: WHOLE }, { header: 'NAME', max: 60, min: 20 }, { header: 'BASE', max: 40, min: 16 }, { header: 'TARGET', max: 40, min: 16 }, { header: 'DIRECTION', priority: 2, min: WHOLE }], rows));
  out.push('');
  if (p.licenseChanges.length) {
    out.push('Licence changes:');
    out.push(table([{ header: 'TYPE', priority: 2, min: WHOLE }, { header: 'NAME', max: 60, min: 20 }, { header: 'BASE', max: 60, min: 12 }, { header: 'TARGET', max: 60, min: 12 }], p.licenseChanges.map((l) => [l.type, l.name, l.from.join(', ') || '(none)', l.to.join(', ') || '(none)'])));
    out.push('');
  }
  return out;
}

export function registerDiff(program: Command, io: CliIo): void {
  program
    .command('diff')
    .description('what changed between two releases: packages (each ecosystem\'s version order), config, layers, files')
    .argument('<base>', 'image reference (docker://, oci:, oci-archive:, docker-archive:, docker-daemon:, bare path/name), SBOM file, or approval record (*.sigstore.json)')
    .argument('<target>', 'image reference or SBOM file')
    .option('--json', 'print one JSON object')
    .option('--platform <os/arch[/variant]>', "platform to pick from multi-platform images (default: the host's)")
    .option('--no-cache', 'analyse every layer again, ignoring and not writing the cache')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .option('--show-secrets', 'print secret-looking env values, labels and history lines as they are (redacted by default)')
    .option('--trust <file>', 'trust file an approval record must verify against (default: ./vouch.trust.yaml)')
    .option('--baseline-image <key>', "which image of an approval record to compare (its release key; default: the record's image with the target's repository name, or its only image)")
    .action(async (base: string, target: string, flags: DiffFlags) => {
      io.setExitCode(await runDiff(base, target, flags, io));
    });
}
