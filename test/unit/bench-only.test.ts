/** `npm run bench -- --only` (issue 12 review, item 6): a misspelt section is refused, exit 2, naming the valid ones. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BenchUsageError, onlySections, SECTIONS } from '../../bench/only.js';

test('--only: known sections in either form; unknown or missing names refused with the valid list', () => {
  assert.equal(onlySections(['--quick']), null);
  assert.deepEqual([...onlySections(['--only', 'trust,checks'])!], ['trust', 'checks']);
  assert.deepEqual([...onlySections(['--only=scaling'])!], ['scaling']);
  const list = SECTIONS.join(', ');
  assert.equal(list, 'inspect, packages, trust, checks, approval, tui, scaling');
  for (const [argv, msg] of [
    [['--only', 'trsut'], `unknown section trsut (${list})`],
    [['--only=trust,tiu,x'], `unknown sections tiu, x (${list})`],
    [['--only'], `--only needs one or more sections, comma-separated (${list})`],
    [['--only', '--quick'], `--only needs one or more sections, comma-separated (${list})`],
    [['--only='], `--only needs one or more sections, comma-separated (${list})`],
  ] as const) {
    assert.throws(() => onlySections(argv), (e: unknown) => e instanceof BenchUsageError && e.message === msg, argv.join(' '));
  }
});

test('npm run bench -- --only trsut: one line, exit 2, before anything is measured or written', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--only', 'trsut'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `bench: unknown section trsut (${SECTIONS.join(', ')})\n`);
});
