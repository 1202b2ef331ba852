/**
 * The text of `vouch inspect` and `vouch diff` shows the same figures as their
 * --json on the same image (files, bytes, wasted space, per-layer sizes and
 * counts, setuid), whichever of the two ran first (cold or from the cache).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciLayoutWriter } from '../../src/core/oci/layout-writer.js';
import { humanBytes } from '../../src/cli/format/text.js';
import { tar } from '../helpers/tar-writer.js';
import { runCli } from '../helpers/inspect.js';

// Full-width tables (stdout is a pipe here): the rows are matched whole.
delete process.env.COLUMNS;
const work = mkdtempSync(join(tmpdir(), 'vouch-text-json-'));
const status = (pkgs: Array<[string, string]>): string =>
  pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: ${v}\nDescription: x\n`).join('\n');

const lower = () =>
  tar([
    { name: 'etc/', type: 'dir', mode: 0o755 },
    { name: 'etc/os-release', data: 'ID=debian\nVERSION_ID="12"\n' },
    { name: 'var/lib/dpkg/status', data: status([['libfoo1', '1.0-1'], ['gone', '3']]) },
    { name: 'opt/', type: 'dir', mode: 0o755 },
    { name: 'opt/data.bin', data: 'd'.repeat(3000) },
    { name: 'opt/tool', mode: 0o755, data: 't'.repeat(20) },
    { name: 'opt/gone', data: 'g'.repeat(700) },
    { name: 'usr/bin/passwd', mode: 0o4755, data: 'p'.repeat(40) },
  ]);
const upper = () =>
  tar([
    { name: 'var/lib/dpkg/status', data: status([['libfoo1', '1.1-1'], ['newpkg', '2.0']]) },
    { name: 'opt/data.bin', data: 'D'.repeat(5000) },
    { name: 'opt/tool-s', type: 'hardlink', linkname: 'opt/tool', mode: 0o4755 },
    { name: 'opt/link', type: 'symlink', linkname: 'tool', mode: 0o777 },
    { name: 'opt/.wh.gone', data: '' },
    { name: 'usr/local/bin/sg', mode: 0o2755, data: 's'.repeat(10) },
    { name: 'srv/big.bin', data: 'b'.repeat(123_456) },
  ]);

async function image(name: string, layers: Buffer[]): Promise<string> {
  const dir = join(work, name);
  const w = await OciLayoutWriter.create(dir);
  for (const [i, l] of layers.entries()) await w.addLayer(l, { createdBy: `layer ${i}` });
  await w.finish({ tags: ['v1'], created: '2024-01-01T00:00:00Z', config: {} });
  return `oci:${dir}:v1`;
}
const ready = Promise.all([image('base', [lower()]), image('target', [lower(), upper()])]);

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

const field = (text: string, re: RegExp): RegExpMatchArray => {
  const m = text.match(re);
  assert.ok(m, `${re} not in\n${text}`);
  return m;
};
const pct = (x: number): string => (x * 100).toFixed(2);

test('inspect: text and --json give the same figures, cold or cached', async () => {
  const [, target] = await ready;
  // Text cold then JSON from the cache, and JSON cold then text from the cache.
  for (const order of ['text first', 'json first']) {
    const args = order === 'text first' ? [['inspect', target, '--no-cache'], ['inspect', target, '--json']] : [['inspect', target, '--json', '--no-cache'], ['inspect', target]];
    const [a, b] = [await cli(args[0]!), await cli(args[1]!)];
    const [text, doc] = order === 'text first' ? [a, JSON.parse(b)] : [b, JSON.parse(a)];
    const files = field(text, /^Files\s+(\d+) \((\d+) symlinks?, (\d+) hard links?; (.+) in regular files, each hard link counted with its file's bytes\)$/m);
    assert.deepEqual(files.slice(1).map((x, i) => (i === 3 ? x : Number(x))), [doc.files, doc.symlinks, doc.hardLinks, humanBytes(doc.totalBytes)], order);
    assert.deepEqual([doc.symlinks, doc.hardLinks], [1, 1]);
    assert.equal(doc.totalBytes, 3000 + 5000 - 3000 + 20 * 2 + 40 + 10 + 123_456 + 'ID=debian\nVERSION_ID="12"\n'.length + status([['libfoo1', '1.1-1'], ['newpkg', '2.0']]).length);
    const size = field(text, /^Image size\s+(.+) \(user layers (.+)\)$/m);
    assert.deepEqual([size[1], size[2]], [humanBytes(doc.sizeBytes), humanBytes(doc.userSizeBytes)], order);
    assert.equal(field(text, /^Efficiency\s+([\d.]+) %$/m)[1], pct(doc.efficiency), order);
    const wasted = field(text, /^Wasted\s+(.+) \(([\d.]+) % of user layers\)$/m);
    assert.deepEqual([wasted[1], wasted[2]], [humanBytes(doc.wastedBytes), pct(doc.userWastedPercent)], order);
    // Every layer row: index, digest, both sizes, entries and the +/~/- counts.
    for (const l of doc.layers) {
      const row = new RegExp(`^\\s*${l.index}\\s+${l.digest.slice(7, 19)}\\s+${humanBytes(l.sizeBytes)}\\s+${humanBytes(l.uncompressedSize)}\\s+${l.entries}\\s+${l.added}\\s+${l.modified}\\s+${l.removed}\\s`, 'm');
      assert.match(text, row, `${order}: layer ${l.index}`);
    }
    for (const f of doc.inefficientFiles.slice(0, 10)) assert.match(text, new RegExp(`^\\s*${f.count}\\s+${humanBytes(f.wastedBytes)}\\s+${f.path}$`, 'm'), order);
    // /opt/tool by the hard-link-group rule: /opt/tool-s, a setuid-header link to it, names the same inode.
    assert.deepEqual(doc.setuidFiles, ['/opt/tool', '/opt/tool-s', '/usr/bin/passwd', '/usr/local/bin/sg']);
    const setuid = field(text, /^Setuid\s+(\d+)/m);
    assert.equal(Number(setuid[1]), doc.setuidFiles.length, order);
    for (const p of doc.setuidFiles) assert.ok(text.includes(p), `${order}: ${p} named in the text`);
  }
});

test('diff: text and --json give the same figures, cold or cached', async () => {
  const [base, target] = await ready;
  for (const order of ['text first', 'json first']) {
    const args = order === 'text first' ? [['diff', base, target, '--no-cache'], ['diff', base, target, '--json']] : [['diff', base, target, '--json', '--no-cache'], ['diff', base, target]];
    const [a, b] = [await cli(args[0]!), await cli(args[1]!)];
    const [text, doc] = order === 'text first' ? [a, JSON.parse(b)] : [b, JSON.parse(a)];
    const f = doc.files;
    const files = field(text, /^Files: (\d+) added \((.+)\), (\d+) removed \((.+)\), (\d+) changed/m);
    assert.deepEqual(files.slice(1), [String(f.added.count), humanBytes(f.added.bytes), String(f.removed.count), humanBytes(f.removed.bytes), String(f.changed.count)], order);
    assert.deepEqual([f.added.count, f.added.bytes, f.removed.count, f.removed.bytes], [4, 20 + 10 + 123_456, 1, 700], order);
    const newSetuid = [...text.matchAll(/^ {2}NEW SETUID\/SETGID: (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(newSetuid, f.attention.newSetuid, order);
    assert.deepEqual(f.attention.newSetuid, ['/opt/tool', '/opt/tool-s', '/usr/local/bin/sg'], order);
    const p = doc.packages;
    const pk = field(text, /^Packages: (\d+) added, (\d+) removed, (\d+) changed \((\d+) upgraded, (\d+) downgraded, (\d+) unknown\)/m);
    const dir = (d: string): number => p.changed.filter((c: { direction: string }) => c.direction === d).length;
    assert.deepEqual(pk.slice(1).map(Number), [p.added.length, p.removed.length, p.changed.length, dir('upgrade'), dir('downgrade'), dir('unknown')], order);
    assert.deepEqual([p.added.length, p.removed.length, p.changed.length], [1, 1, 1], order);
    const l = doc.layers;
    const ls = field(text, /^Layers: (\d+) shared, (\d+) added, (\d+) removed$/m);
    assert.deepEqual(ls.slice(1).map(Number), [l.shared.length, l.added.length, l.removed.length], order);
    for (const x of [...l.shared, ...l.added]) {
      assert.match(text, new RegExp(`^[=+]\\s+${x.diffId.slice(7, 19)}\\s+${humanBytes(x.sizeBytes)}\\s+${humanBytes(x.uncompressedSize)}\\s`, 'm'), order);
    }
    // Each file row shows the size the JSON has.
    for (const x of f.added.files) assert.match(text, new RegExp(`^\\+\\s+${x.path}\\s+${humanBytes(x.size)}\\s`, 'm'), `${order}: ${x.path}`);
    for (const x of f.removed.files) assert.match(text, new RegExp(`^-\\s+${x.path}\\s+${humanBytes(x.size)}\\s`, 'm'), `${order}: ${x.path}`);
  }
});
