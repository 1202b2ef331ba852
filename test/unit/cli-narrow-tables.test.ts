/**
 * CLI tables in narrow terminals use the TUI's column priorities (one rule,
 * core/util/column-fit.ts): the least important column is cut, then dropped,
 * first; cut cells end in "…"; the key column (a path, a package name and its
 * versions) keeps its room. Piped output keeps full width unless COLUMNS is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciLayoutWriter } from '../../src/core/oci/layout-writer.js';
import { humanBytes, table, WHOLE } from '../../src/cli/format/text.js';
import { fitColumns } from '../../src/core/util/column-fit.js';
import { columnWidths } from '../../src/tui/components/table.js';
import { tar } from '../helpers/tar-writer.js';
import { rawNameEntry } from '../helpers/layer-layout.js';
import { runCli, spawnCli } from '../helpers/inspect.js';

const work = mkdtempSync(join(tmpdir(), 'vouch-narrow-tables-'));
// Longer than CREATED BY gets at 80 columns, shorter than its 70-character maximum.
const LONG_RUN = 'RUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*';
const PKG = 'libgssapi-krb5-2';
const ALPHA = '/srv/app/releases/current/tool-alpha';
const BRAVO = '/srv/app/releases/current/tool-bravo';
const status = (version: string): string => `Package: ${PKG}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: ${version}\nDescription: x\n`;

async function image(name: string, version: string, extra: boolean): Promise<string> {
  const dir = join(work, name);
  const w = await OciLayoutWriter.create(dir);
  await w.addLayer(
    tar([
      { name: 'etc/', type: 'dir', mode: 0o755 },
      { name: 'etc/os-release', data: 'ID=debian\nVERSION_ID="12"\n' },
      { name: 'var/lib/dpkg/status', data: status(version) },
    ]),
    { createdBy: 'ADD rootfs.tar /' },
  );
  if (extra) {
    // Two paths that differ only in their last characters: a path cut at its end would show them as one.
    // And two names that are not UTF-8 and differ only in their last byte (shown escaped: …tool\xff, …tool\xfe).
    const raw = (last: number): Buffer => rawNameEntry(Buffer.concat([Buffer.from('srv/app/releases/current/tool'), Buffer.from([last])]), { mode: 0o644, data: 'r' });
    await w.addLayer(tar([{ name: ALPHA.slice(1), mode: 0o755, data: 'a'.repeat(1234) }, { name: BRAVO.slice(1), mode: 0o755, data: 'b'.repeat(4321) }, raw(0xff), raw(0xfe)]), { createdBy: LONG_RUN });
  }
  await w.finish({ tags: ['v1'], created: '2024-01-01T00:00:00Z', config: {} });
  return `oci:${dir}:v1`;
}
const ready = Promise.all([image('base', '2.36.1-8+deb12u1', false), image('target', '2.36.1-8+deb12u2', true)]);

/** Runs the CLI in-process with COLUMNS set (stdout is a pipe here, so COLUMNS alone decides the width). */
async function at(columns: number, args: string[]): Promise<string> {
  const saved = process.env.COLUMNS;
  process.env.COLUMNS = String(columns);
  try {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  } finally {
    if (saved === undefined) delete process.env.COLUMNS;
    else process.env.COLUMNS = saved;
  }
}

/** The table under the line starting with `title`: its header line and rows, up to the next blank line. */
function block(text: string, title: string): string[] {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(title));
  assert.ok(i >= 0, `no ${title} in\n${text}`);
  const end = lines.findIndex((l, j) => j > i && (l === '' || /^(FILES SIZE:|… and|  NEW )/.test(l)));
  return lines.slice(i + 1, end < 0 ? undefined : end).filter((l) => !l.startsWith('  NEW '));
}

test('table(): the least important column is cut and then dropped first; the key column keeps its room', () => {
  const cols = [
    { header: '', min: WHOLE },
    { header: 'PATH', min: 32 },
    { header: 'SIZE', align: 'right' as const, priority: 3, min: WHOLE },
    { header: 'WHAT', priority: 2, min: 16 },
  ];
  const rows = [['+', ALPHA, '1.23 kB', 'file [executable-in-path, world-writable]'], ['+', BRAVO, '4.32 kB', 'file']];
  const full = table(cols, rows, undefined).split('\n');
  assert.ok(full[1]!.includes('file [executable-in-path, world-writable]'), 'no width: nothing cut');
  for (const width of [60, 80, 200]) {
    const lines = table(cols, rows, width).split('\n');
    for (const l of lines) assert.ok(l.length <= width, `${width}: ${l.length}: ${l}`);
    assert.ok(lines[1]!.includes(ALPHA) && lines[2]!.includes(BRAVO), `${width}: the paths stay whole\n${lines.join('\n')}`);
  }
  const narrow = table(cols, rows, 60).split('\n');
  assert.doesNotMatch(narrow[0]!, /SIZE/, 'the least important column is dropped at 60');
  assert.match(narrow[1]!, /file \[exec.*…$/, 'a cut cell ends in an ellipsis');
  assert.match(table(cols, rows, 80).split('\n')[0]!, /PATH\s+SIZE\s+WHAT/);
  assert.deepEqual(table(cols, rows, 200).split('\n'), full);
  // A header longer than its cells is cut before the cells are, and shown whole when there is room.
  const long = [{ header: 'PATH (review-relevant first, then largest)', min: 32 }, { header: 'WHAT', priority: 2, min: 16 }];
  const lrows = [[ALPHA, 'content sha256:0123456789ab→ba9876543210']];
  const at60 = table(long, lrows, 60).split('\n');
  assert.ok(at60[0]!.startsWith('PATH (review-relevant') && at60[0]!.includes('…') && at60[1]!.startsWith(`${ALPHA}  content sha256:`), at60.join('\n'));
  assert.ok(table(long, lrows, 200).startsWith('PATH (review-relevant first, then largest)  WHAT'));
  // Within one priority the room is shared: neither version of a package is cut to nothing.
  assert.deepEqual(fitColumns([{ min: 8, want: 30 }, { min: 8, want: 30 }], 40, 2), [19, 19]);
});

test('the TUI and the CLI fit columns with one rule (the TUI\'s widths are unchanged)', () => {
  const tui = [{ header: '#', width: 2, priority: 2 }, { header: 'LAYER', min: 10, priority: 1 }, { header: 'SIZE', width: 8, priority: 3 }, { header: 'CHANGES', width: 12, priority: 4 }];
  assert.deepEqual(columnWidths(tui, 120), [2, 95, 8, 12]);
  assert.deepEqual(columnWidths(tui, 30), [2, 18, 8, 0]);
  assert.deepEqual(columnWidths(tui, 12), [0, 12, 0, 0]);
});

test('vouch diff at 60, 80 and 200 columns: paths, package names and versions whole; tables fit; less important columns go first', async () => {
  const [base, target] = await ready;
  for (const width of [60, 80, 200]) {
    const out = await at(width, ['diff', base, target]);
    const files = block(out, 'Files:');
    const pkgs = block(out, 'Packages:');
    const layers = block(out, 'Layers:');
    for (const l of [...files, ...pkgs, ...layers]) assert.ok(l.length <= width, `${width}: ${l.length}: ${l}\n${out}`);
    for (const p of [ALPHA, BRAVO, '/srv/app/releases/current/tool\\xff ', '/srv/app/releases/current/tool\\xfe ']) assert.ok(files.some((l) => l.includes(p)), `${width}: ${p} whole\n${out}`);
    const row = pkgs.find((l) => l.includes(PKG));
    assert.ok(row?.includes(` ${PKG} `) && row.includes('2.36.1-8+deb12u1') && row.includes('2.36.1-8+deb12u2'), `${width}: name and both versions whole\n${out}`);
    const layerRow = layers.find((l) => l.includes('RUN apt-get'))!;
    if (width === 200) {
      assert.match(pkgs[0]!, /TYPE\s+NAME\s+BASE\s+TARGET\s+DIRECTION/);
      assert.ok(layerRow.includes('/var/lib/apt/lists/*'), 'wide: nothing cut');
    } else {
      assert.ok(layerRow.endsWith('…'), `${width}: CREATED BY is cut, with an ellipsis: ${layerRow}`);
    }
    if (width === 60) assert.doesNotMatch(pkgs[0]!, /TYPE|DIRECTION/, 'at 60 the type and direction columns are dropped, not the versions');
  }
});

test('vouch inspect at 60, 80 and 200 columns: the layer number, size and what made it stay; counts go first', async () => {
  const [, target] = await ready;
  for (const width of [60, 80, 200]) {
    const out = await at(width, ['inspect', target]);
    const layers = block(out, 'Layers (');
    for (const l of layers) assert.ok(l.length <= width, `${width}: ${l.length}: ${l}`);
    assert.match(layers[0]!, /#\s+DIGEST\s+FILES SIZE/, `${width}: ${layers[0]}`);
    const row = layers.find((l) => l.includes('RUN apt-get'))!;
    assert.match(row, /^\s*1 /);
    assert.ok(row.includes(humanBytes(1234 + 4321 + 2)), `${width}: the layer's files size whole: ${row}`);
    if (width === 200) assert.match(layers[0]!, /ENTRIES\s+\+\s+~\s+-\s+CREATED BY/);
    else assert.doesNotMatch(layers[0]!, /ENTRIES/, `${width}: the entry count is the first to go`);
  }
});

test('piped output without COLUMNS keeps full width (a child process: stdout is a real pipe)', async () => {
  const [base, target] = await ready;
  // COLUMNS set on a pipe fits the tables: the in-process runs above.
  const piped = await spawnCli(['diff', base, target], { COLUMNS: undefined, NO_COLOR: '1' });
  assert.equal(piped.code, 0, piped.stderr);
  assert.ok(piped.stdout.includes(LONG_RUN), piped.stdout);
  assert.match(piped.stdout, /TYPE\s+NAME\s+BASE\s+TARGET\s+DIRECTION/);
});

test('newcomer 21: the check table keeps SEVERITY while MESSAGE can still be cut; the subject and then the status go first', async () => {
  const { ensureDemoImage } = await import('../../src/core/demo/demo-image.js');
  const { testCacheDir } = await import('../helpers/inspect.js');
  const demo = await ensureDemoImage(testCacheDir);
  const saved = process.env.COLUMNS;
  try {
    for (const width of [60, 50, 45, 40]) {
      process.env.COLUMNS = String(width);
      const r = await runCli(['check', demo.reference]);
      const lines = r.stdout.split('\n');
      const header = lines.find((l) => /^\S.*CHECK/.test(l) && l.includes('CHECK'))!;
      assert.ok(header, r.stdout);
      assert.match(header, /SEVERITY/, `${width}: ${header}`);
      assert.match(header, /MESSAGE/, `${width}: ${header}`);
      const at = lines.indexOf(header);
      const rows = lines.slice(at, lines.indexOf('', at));
      assert.ok(rows.every((l) => l.length <= width), `${width}: a table line is wider than the terminal`);
      if (width <= 50) assert.doesNotMatch(header, /SUBJECT/);
      assert.match(r.stdout, /^(FAIL\s+)?high\s+VCH-LP-002\s+\S/m);
    }
  } finally {
    if (saved === undefined) delete process.env.COLUMNS;
    else process.env.COLUMNS = saved;
  }
});
