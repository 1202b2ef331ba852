/** Issue 9 items 8 and 14: figures named the same everywhere; tables that fit the terminal; colour rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { runCli } from '../helpers/inspect.js';
import { humanBytes } from '../../src/cli/format/text.js';

const work = mkdtempSync(join(tmpdir(), 'vouch-cli-output-'));
const platforms = [{ os: 'linux', architecture: 'amd64' }];
const ready = Promise.all([
  writeMiniLayout(join(work, 'a'), { tag: 'v1', platforms, files: () => [{ path: 'etc/a', content: 'a'.repeat(3000) }] }),
  writeMiniLayout(join(work, 'b'), { tag: 'v1', platforms, files: () => [{ path: 'etc/b', content: 'b'.repeat(70_000) }, { path: 'etc/c', content: 'c' }] }),
]);

test('per-layer sizes: FILES SIZE (sizeBytes) and TAR SIZE (uncompressedSize), the same in inspect and diff, text and JSON', async () => {
  await ready;
  const ref = `oci:${join(work, 'b')}:v1`;
  const layer = JSON.parse((await runCli(['inspect', ref, '--json'])).stdout).layers[0];
  assert.equal(layer.sizeBytes, 70_001);
  assert.ok(layer.uncompressedSize > layer.sizeBytes);
  const d = JSON.parse((await runCli(['diff', `oci:${join(work, 'a')}:v1`, ref, '--json'])).stdout);
  assert.deepEqual(d.layers.added.map((l: { sizeBytes: number; uncompressedSize: number }) => [l.sizeBytes, l.uncompressedSize]), [[layer.sizeBytes, layer.uncompressedSize]]);
  const it = (await runCli(['inspect', ref])).stdout;
  const dt = (await runCli(['diff', `oci:${join(work, 'a')}:v1`, ref])).stdout;
  for (const text of [it, dt]) {
    assert.match(text, /FILES SIZE\s+TAR SIZE/);
    assert.ok(text.includes(`${humanBytes(layer.sizeBytes)}  ${humanBytes(layer.uncompressedSize).padStart('TAR SIZE'.length)}`), text);
    assert.match(text, /FILES SIZE: bytes of the files in the layer \(as dive counts\); TAR SIZE: bytes of the uncompressed layer tar/);
  }
});

import { table, terminalWidth } from '../../src/cli/format/text.js';
import { styleFor } from '../../src/cli/format/style.js';
import { spawnCli } from '../helpers/inspect.js';
import { OciLayoutWriter } from '../../src/core/oci/layout-writer.js';
import { TarWriter } from '../../src/core/oci/tar-writer.js';

test('table(): fits a width, cutting with "…"; no width, no cut', () => {
  const rows = [['1', 'sha256:abc', 'RUN apt-get update && apt-get install -y curl ca-certificates openssl && rm -rf /var/lib/apt/lists/*']];
  const cols = [{ header: '#' }, { header: 'DIGEST' }, { header: 'CREATED BY', max: 200 }];
  const fitted = table(cols, rows, 60).split('\n');
  for (const l of fitted) assert.ok(l.length <= 60, `${l.length}: ${l}`);
  assert.match(fitted[1]!, /RUN apt-get update.*…$/);
  assert.ok(table(cols, rows, undefined).includes('/var/lib/apt/lists/*'));
  assert.equal(terminalWidth({ isTTY: true, columns: 60 }, {}), 60);
  assert.equal(terminalWidth({ isTTY: false }, { COLUMNS: '72' }), 72);
  assert.equal(terminalWidth({ isTTY: false }, {}), undefined);
});

test('inspect at 60 columns: every table line fits; "wasted" is explained', async () => {
  const dir = join(work, 'long');
  const w = new TarWriter();
  w.add({ path: 'etc/x', type: 'file', size: 1 }, Buffer.from('x'));
  w.finish();
  const o = await OciLayoutWriter.create(dir);
  await o.addLayer(Buffer.concat(w.take()), { createdBy: `RUN ${'apt-get install -y some-long-package-name '.repeat(4)}` });
  await o.finish({ tags: ['v1'], created: '2024-01-01T00:00:00Z', config: {} });
  const r = await spawnCli(['inspect', `oci:${dir}:v1`], { COLUMNS: '60', NO_COLOR: '1' });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Layers ('));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('FILES SIZE:'));
  assert.ok(start > 0 && end > start + 1);
  for (const l of lines.slice(start + 1, end)) assert.ok(l.length <= 60, `${l.length}: ${l}`);
  assert.ok(lines.slice(start + 1, end).some((l) => l.endsWith('…')));
  assert.match(r.stdout, /wasted, as dive counts it: every copy of a path written by more than one layer/);
});

test('colours: NO_COLOR and FORCE_COLOR=0 turn them off; severities in trivy\'s colours', async () => {
  assert.equal(styleFor({ isTTY: true }, { FORCE_COLOR: '0' }).bold('a'), 'a');
  assert.equal(styleFor({ isTTY: true }, { FORCE_COLOR: 'false' }).bold('a'), 'a');
  assert.equal(styleFor({ isTTY: false }, { FORCE_COLOR: '1' }).bold('a'), '\u001b[1ma\u001b[22m');
  assert.equal(styleFor({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' }).bold('a'), 'a');
  const st = styleFor({ isTTY: true }, {});
  assert.deepEqual(['critical', 'high', 'medium', 'low', 'info'].map((s) => st.severity(s)), ['\u001b[31mcritical\u001b[39m', '\u001b[91mhigh\u001b[39m', '\u001b[33mmedium\u001b[39m', '\u001b[34mlow\u001b[39m', '\u001b[36minfo\u001b[39m']);
  await ready;
  const ref = `oci:${join(work, 'a')}:v1`;
  const on = await spawnCli(['check', ref], { FORCE_COLOR: '1' });
  assert.match(on.stdout, /\u001b\[91mhigh\s*\u001b\[39m/);
  for (const env of [{ FORCE_COLOR: '0' }, { FORCE_COLOR: '1', NO_COLOR: '1' }]) {
    const off = await spawnCli(['check', ref], env);
    assert.doesNotMatch(off.stdout, /\u001b/, JSON.stringify(env));
  }
});
