/**
 * The analysis process hands a large review (tens of thousands of files) to
 * the UI: its 'done' message is megabytes, written after process.send returned,
 * so the process must not disconnect before it is written.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { loadInWorker, stoppedLine } from '../../src/tui/worker-client.js';

test('an image of 20,000 files opens through the analysis process (its large result is written before the process leaves)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-worker-large-'));
  const n = 20_000;
  const files = Array.from({ length: n }, (_, k) => ({ path: `data/d${String(Math.floor(k / 1000)).padStart(3, '0')}/file-${String(k).padStart(6, '0')}.txt`, content: '' }));
  await writeMiniLayout(join(dir, 'layout'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }], files: () => files });
  const prev = process.env.VOUCH_CACHE_DIR;
  process.env.VOUCH_CACHE_DIR = mkdtempSync(join(tmpdir(), 'vouch-worker-large-cache-'));
  try {
    const load = loadInWorker({ refs: [`oci:${join(dir, 'layout')}:v1`], opts: { names: ['big'], noChain: true } });
    const m = await load.result;
    const merged = m.images[0]!.tree('merged');
    assert.ok(merged.index.has('/data/d019/file-019999.txt'));
    assert.ok(merged.index.has('/data/d000/file-000000.txt'));
  } finally {
    process.env.VOUCH_CACHE_DIR = prev;
  }
});

test('an analysis process that ends without a result says how it ended', () => {
  assert.equal(stoppedLine(0, null, ''), 'the analysis process ended (exit 0) before it sent the review to the workbench');
  assert.match(stoppedLine(null, 'SIGKILL', ''), /was killed \(SIGKILL, perhaps out of memory\) before it sent the review/);
  assert.match(stoppedLine(3, null, 'noise\ncould not send the done message to the workbench: EPIPE\n'), /failed \(exit 3\) before it sent the review to the workbench: could not send the done message to the workbench: EPIPE$/);
});
