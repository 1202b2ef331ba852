import type { Command } from 'commander';
import { diffInputs, type DiffReport, type DiffResult, type KeyedChanges } from '../../core/diff/index.js';
import { formatReference } from '../../core/ref/parse.js';
import { sanitizeLine } from '../../core/util/sanitize.js';
import { humanBytes, shortDigest, table } from '../format/text.js';
import { collect, parsePlatform } from '../options.js';
import type { CliIo } from '../io.js';

export interface DiffFlags {
  json?: boolean;
  platform?: string;
  cache: boolean;
  insecureRegistry?: string[];
}

export async function runDiff(base: string, target: string, flags: DiffFlags, io: CliIo): Promise<number> {
  const result = await diffInputs(base, target, {
    noCache: !flags.cache,
    ...(flags.platform ? { platform: parsePlatform(flags.platform) } : {}),
    ...(flags.insecureRegistry?.length ? { insecureRegistries: flags.insecureRegistry } : {}),
    onResolved: (input, r) => {
      if (!flags.json && !r.how.startsWith('transport ')) io.err(`vouch: ${sanitizeLine(input)}: ${r.how}: ${sanitizeLine(formatReference(r.reference))}\n`);
    },
  });
  if (flags.json) io.out(`${JSON.stringify(result.report, null, 2)}\n`);
  else io.out(formatDiff(result));
  return 0;
}

const s = sanitizeLine;
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
    if (rows.length) out.push(table([{ header: '' }, { header: 'SETTING', max: 60 }, { header: 'BASE', max: 70 }, { header: 'TARGET', max: 70 }], rows));
    out.push('');
  }
  if (report.layers) {
    const l = report.layers;
    out.push(`Layers: ${l.shared.length} shared, ${l.added.length} added, ${l.removed.length} removed`);
    const rows = [
      ...l.shared.map((x) => ['=', shortDigest(x.diffId), humanBytes(x.size), x.createdBy ?? '']),
      ...l.added.map((x) => ['+', shortDigest(x.diffId), humanBytes(x.size), x.createdBy ?? '']),
      ...l.removed.map((x) => ['-', shortDigest(x.diffId), humanBytes(x.size), x.createdBy ?? '']),
    ];
    if (rows.length) out.push(table([{ header: '' }, { header: 'DIFF ID' }, { header: 'SIZE', align: 'right' }, { header: 'CREATED BY', max: 80 }], rows));
    out.push('');
  }
  if (report.files) {
    const f = report.files;
    out.push(`Files: ${f.added.count} added (${humanBytes(f.added.bytes)}), ${f.removed.count} removed (${humanBytes(f.removed.bytes)}), ${f.changed.count} changed`);
    const rows = [
      ...f.added.largest.map((x) => ['+', x.path, humanBytes(x.size), x.type]),
      ...f.removed.largest.map((x) => ['-', x.path, humanBytes(x.size), x.type]),
      ...f.changed.largest.map((x) => ['~', x.path, `${humanBytes(x.from.size)} → ${humanBytes(x.to.size)}`, x.fields.map((k) => fieldChange(k, x.from, x.to)).join(', ')]),
    ];
    if (rows.length) out.push(table([{ header: '' }, { header: 'PATH (largest first)', max: 90 }, { header: 'SIZE', align: 'right' }, { header: 'WHAT', max: 70 }], rows));
    out.push('');
  }
  if (!report.config) out.push('Config, layers and files: not compared (one side is not an image)', '');
  const warnings = [...result.base.inventory.warnings.map((w) => `base: ${w}`), ...result.target.inventory.warnings.map((w) => `target: ${w}`)];
  for (const w of warnings) out.push(`warning: ${s(w)}`);
  return `${out.join('\n').trimEnd()}\n`;
}

function fieldChange(k: string, from: Record<string, unknown>, to: Record<string, unknown>): string {
  const v = (x: unknown): string => (k === 'mode' && typeof x === 'number' ? `0${x.toString(8)}` : x === undefined ? '-' : String(x));
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
  if (rows.length) out.push(table([{ header: '' }, { header: 'TYPE' }, { header: 'NAME', max: 60 }, { header: 'BASE', max: 40 }, { header: 'TARGET', max: 40 }, { header: 'DIRECTION' }], rows));
  out.push('');
  if (p.licenseChanges.length) {
    out.push('Licence changes:');
    out.push(table([{ header: 'TYPE' }, { header: 'NAME', max: 60 }, { header: 'BASE', max: 60 }, { header: 'TARGET', max: 60 }], p.licenseChanges.map((l) => [l.type, l.name, l.from.join(', ') || '(none)', l.to.join(', ') || '(none)'])));
    out.push('');
  }
  return out;
}

export function registerDiff(program: Command, io: CliIo): void {
  program
    .command('diff')
    .description('what changed between two releases: packages (each ecosystem\'s version order), config, layers, files')
    .argument('<base>', 'image reference (docker://, oci:, oci-archive:, docker-archive:, docker-daemon:, bare path/name) or SBOM file')
    .argument('<target>', 'image reference or SBOM file')
    .option('--json', 'print one JSON object')
    .option('--platform <os/arch[/variant]>', "platform to pick from multi-platform images (default: the host's)")
    .option('--no-cache', 'analyse every layer again, ignoring and not writing the cache')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry (repeatable); loopback is always allowed', collect)
    .action(async (base: string, target: string, flags: DiffFlags) => {
      io.setExitCode(await runDiff(base, target, flags, io));
    });
}
