/**
 * The progress line on stderr: only on a terminal; one line per run however
 * many images are analysed (check with several references, diff's two sides),
 * each image named, untrusted names sanitised, never wider than the terminal.
 * Then for real: inspect, check, sbom and diff under a pty.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { progressReporter } from '../../src/cli/progress.js';
import { cliCommand } from '../helpers/inspect.js';

function fakeTty(columns: number, isTTY = true): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  return { stream: { isTTY, columns, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream, written };
}
const p = (layersDone: number, layersTotal: number, bytesDone = 0, bytesTotal = 0) => ({ layersDone, layersTotal, bytesDone, bytesTotal });

test('a pipe gets no progress; a terminal gets one line, cleared at the end', () => {
  const pipe = fakeTty(80, false);
  const r = progressReporter(pipe.stream);
  r.update(p(1, 2));
  r.done();
  assert.deepEqual(pipe.written, []);
  const tty = fakeTty(80);
  const t = progressReporter(tty.stream);
  t.update(p(2, 2, 2048, 2048));
  t.done();
  assert.equal(tty.written.length, 2);
  assert.match(tty.written[0]!, /^\r\x1b\[2Kanalysing layers 2\/2 · 2\.05 kB \/ 2\.05 kB$/);
  assert.equal(tty.written[1], '\r\x1b[2K');
});

test('two images at once share the line, each named; names are sanitised and the line fits the terminal', () => {
  const tty = fakeTty(70);
  const t = progressReporter(tty.stream);
  t.update(p(1, 3), 'base');
  t.update(p(3, 3), 'target');
  assert.match(tty.written.at(-1)!, /analysing base: layers 1\/3 .*; target: layers 3\/3/);
  t.update(p(4, 4), 'evil\x1b]0;pwned\x07name-that-goes-on-and-on-and-on-and-on-and-on-and-on');
  const last = tty.written.at(-1)!.replace(/^\r\x1b\[2K/, '');
  assert.doesNotMatch(last, /[\x00-\x1f\x7f]/);
  assert.ok([...last].length <= 69, `${[...last].length} characters: ${last}`);
  assert.match(last, /…$/);
});

test('inspect, check, sbom and diff show progress on a terminal (under a pty), and stdout keeps only the result', (t) => {
  if (spawnSync('script', ['--version']).status !== 0) return void t.skip('util-linux script is not installed');
  const dive = join(import.meta.dirname, '../fixtures/dive/test-docker-image.tar');
  const dir = mkdtempSync(join(tmpdir(), 'vouch-progress-'));
  const cli = cliCommand().map((a) => `'${a}'`).join(' ');
  const copy = join(dir, 'copy.tar');
  copyFileSync(dive, copy);
  for (const args of [`inspect docker-archive:${dive} --json`, `check docker-archive:${dive} --format json`, `sbom docker-archive:${dive} --no-cache --json`, `diff docker-archive:${dive} docker-archive:${copy} --json --no-cache`]) {
    const out = join(dir, 'out.json');
    // A fresh cache each time: every layer is walked, so there is progress to show.
    const env = { ...process.env, VOUCH_CACHE_DIR: mkdtempSync(join(tmpdir(), 'vouch-progress-cache-')), COLUMNS: '100' };
    const r = spawnSync('script', ['-qec', `${cli} ${args} > '${out}'`, '/dev/null'], { env, encoding: 'utf8', timeout: 120_000 });
    assert.ok([0, 1].includes(r.status ?? -1), `${args}: exit ${r.status} ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /analysing .*layers \d+\/14/, `${args}: the terminal saw no progress line: ${JSON.stringify(r.stdout.slice(0, 400))}`);
    assert.match(r.stdout, /\r\x1b\[2K/, 'the line is cleared');
    assert.doesNotThrow(() => JSON.parse(readFileSync(out, 'utf8')), `${args}: stdout is the result only`);
    // Both sides on one line, in the order they first reported (they are analysed at the same time).
    if (args.startsWith('diff')) assert.match(r.stdout, /analysing (base: layers .*; target: layers|target: layers .*; base: layers)/);
  }
});
