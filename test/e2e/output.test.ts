/** Issue 9 items 14/15: how the CLI behaves as a child process writing to pipes and terminals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cliCommand, testCacheDir } from '../helpers/inspect.js';
import { ensureDemoImage } from '../../src/core/demo/demo-image.js';

const BIG_SBOM = new URL('../fixtures/cyclonedx-bom-examples/SBOM/juice-shop/v11.1.2/bom.json', import.meta.url).pathname;

const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

for (const args of [['sbom', BIG_SBOM], ['sbom', BIG_SBOM, '--json']]) {
  test(`piped into \`head -2\`: vouch ${args.slice(2).join(' ') || 'text'} exits quietly (no EPIPE trace), status 0`, async () => {
    // A real shell pipeline, as a user types it; PIPESTATUS gives vouch's own exit status.
    const line = `${cliCommand().map(q).join(' ')} ${args.map(q).join(' ')} | head -2 >/dev/null; echo "vouch=\${PIPESTATUS[0]}" >&2`;
    const child = spawn('bash', ['-c', line], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    assert.equal(stderr, 'vouch=0\n');
  });
}

test('piped into `head -c 10`: a failing verdict keeps its exit status (1), as unpiped', async () => {
  // The demo image fails its checks: `vouch check` exits 1 whether or not the reader stays to the end.
  const demo = await ensureDemoImage(testCacheDir);
  for (const format of ['sarif', 'json', 'table']) {
    const line = `${cliCommand().map(q).join(' ')} check ${q(demo.reference)} --format ${format} | head -c 10 >/dev/null; echo "vouch=\${PIPESTATUS[0]}" >&2`;
    const child = spawn('bash', ['-c', line], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    assert.equal(stderr, 'vouch=1\n', format);
  }
});
