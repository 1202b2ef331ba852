/** Issue 9 item 5: the analysis's warnings reach `vouch check` as results (hostile-archive findings high). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { runCli } from '../helpers/inspect.js';

test('check: a ../../etc/evil entry (4755) and a duplicate entry become high VCH-AN-001 results naming the layer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-hostile-'));
  await writeMiniLayout(dir, {
    tag: 'v1',
    platforms: [{ os: 'linux', architecture: 'amd64' }],
    files: () => [
      { path: 'bin/ok', content: 'fine', mode: 0o755 },
      { path: '../../etc/evil', content: '#!/bin/sh\nid\n', mode: 0o4755 },
      { path: 'etc/motd', content: 'first' },
      { path: 'etc/motd', content: 'second, hides the first' },
    ],
  });
  const r = await runCli(['check', `oci:${dir}:v1`, '--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  const results = JSON.parse(r.stdout).results as Array<{ id: string; status: string; severity: string; message: string; subject: { layer: { index: number } | null } }>;
  const hostile = results.filter((x) => x.id === 'VCH-AN-001' && x.status === 'fail');
  assert.equal(hostile.length, 2, JSON.stringify(hostile));
  assert.ok(hostile.every((x) => x.severity === 'high' && x.subject.layer?.index === 0));
  assert.ok(hostile.some((x) => /path climbs above the root; clamped there/.test(x.message) && x.message.includes('../../etc/evil')), JSON.stringify(hostile));
  assert.ok(hostile.some((x) => /duplicate entry "\/etc\/motd"/.test(x.message)));
  assert.ok(results.some((x) => x.id === 'VCH-AN-002' && x.status === 'pass'));
  const t = await runCli(['check', `oci:${dir}:v1`]);
  assert.match(t.stdout, /FAIL\s+high\s+VCH-AN-001/);
});

test('check: a clean image passes both analysis checks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-clean-'));
  await writeMiniLayout(dir, { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
  const r = await runCli(['check', `oci:${dir}:v1`, '--format', 'json']);
  const results = JSON.parse(r.stdout).results as Array<{ id: string; status: string }>;
  assert.deepEqual(results.filter((x) => x.id.startsWith('VCH-AN-')).map((x) => [x.id, x.status]), [['VCH-AN-001', 'pass'], ['VCH-AN-002', 'pass']]);
});

// Attack (rev-attack8 #3): a layer with a world-writable char device 1,1 (/dev/mem's numbers) under another
// name passed every check (only `vouch diff` tagged it world-writable).
test('check: a world-writable char device 1,1 in a layer is a high VCH-LP-008 result naming the layer', async () => {
  const { writeLayersLayout } = await import('../helpers/layer-layout.js');
  const { tar } = await import('../helpers/tar-writer.js');
  const dir = mkdtempSync(join(tmpdir(), 'vouch-chardev-'));
  await writeLayersLayout(dir, [tar([{ name: 'etc/motd', mode: 0o644, data: 'hi' }]), tar([{ name: 'dev/mem2', type: 'char', devmajor: 1, devminor: 1, mode: 0o666 }, { name: 'dev/fuse', type: 'char', devmajor: 10, devminor: 229, mode: 0o600 }])], 'v1');
  const r = await runCli(['check', `oci:${dir}:v1`, '--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  const results = JSON.parse(r.stdout).results as Array<{ id: string; status: string; severity: string; message: string; subject: { path: string | null; layer: { index: number } | null } }>;
  const dev = results.filter((x) => x.id === 'VCH-LP-008' && x.status === 'fail');
  assert.deepEqual(dev.map((x) => [x.subject.path, x.severity, x.subject.layer?.index]).sort(), [['/dev/fuse', 'medium', 1], ['/dev/mem2', 'high', 1]]);
  assert.match(dev.find((x) => x.subject.path === '/dev/mem2')!.message, /char device \/dev\/mem2 \(1,1, mode 0666.*the numbers of \/dev\/mem, world-writable/);
  const t = await runCli(['check', `oci:${dir}:v1`]);
  assert.match(t.stdout, /FAIL\s+high\s+VCH-LP-008/);
});
