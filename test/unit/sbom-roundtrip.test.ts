/** Issue 9 item 16: vouch reads its own `vouch sbom --json` output in sbom, diff and check --sbom. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { runCli } from '../helpers/inspect.js';

const stanza = (name: string, version: string): string => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nDescription: ${name}\n`;

test('sbom --json output is read back by sbom, diff and check --sbom', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-own-json-'));
  const lay = await writeMiniLayout(join(dir, 'img'), {
    tag: 'v1',
    platforms: [{ os: 'linux', architecture: 'amd64' }],
    files: () => [
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
      { path: 'var/lib/dpkg/status', content: [stanza('libc6', '2.36-9'), stanza('bash', '5.2.15-2+b2')].join('\n') },
    ],
  });
  const ref = `oci:${lay.dir}:v1`;
  const out = await runCli(['sbom', ref, '--json']);
  assert.equal(out.code, 0, out.stderr);
  const file = join(dir, 'img.vouch.json');
  writeFileSync(file, out.stdout);
  const first = JSON.parse(out.stdout);
  assert.equal(first.packages.length, 2);

  const again = await runCli(['sbom', file, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).packages, first.packages);
  assert.deepEqual(JSON.parse(again.stdout).distro, first.distro);
  const text = await runCli(['sbom', file]);
  assert.match(text.stdout, /2 packages \(file, vouch sbom JSON\)/);

  const d = await runCli(['diff', file, ref, '--json']);
  assert.equal(d.code, 0, d.stderr);
  const pk = JSON.parse(d.stdout).packages;
  assert.deepEqual([pk.added.length, pk.removed.length, pk.changed.length], [0, 0, 0]);

  const c = await runCli(['check', ref, '--sbom', file, '--format', 'json']);
  assert.ok(c.code === 0 || c.code === 1, c.stderr);
  const results = JSON.parse(c.stdout).results as Array<{ id: string; status: string }>;
  assert.deepEqual(results.filter((r) => r.id === 'VCH-DC-001' || r.id === 'VCH-DC-002').map((r) => r.status), ['pass', 'pass']);
});
