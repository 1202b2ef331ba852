/**
 * `npm run fuzz` flags (issue 12 review): a usage mistake is refused with one line and
 * exit 2 before anything runs, never run as 0 cases reported "ok", nor replayed as a
 * parser failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseFuzzArgs, UsageError } from '../../scripts/fuzz-args.js';
import '../fuzz/targets/reference.js';
import { formatFailure, getTarget, replayPathProblem } from '../fuzz/harness.js';

const refused = (argv: string[], pattern: RegExp) =>
  assert.throws(() => parseFuzzArgs(argv, {}), (e: unknown) => e instanceof UsageError && pattern.test(e.message) && !e.message.includes('\n'), argv.join(' '));

test('--path without --seed is refused: it names no case on its own', () => {
  refused(['--parser', 'reference', '--path', '99:7', '--runs', '1'], /--path needs the --seed/);
  assert.deepEqual(parseFuzzArgs(['--seed', '-4', '--path', '1:0:3'], {}).path, '1:0:3');
});

test('a --path that is not colon-separated numbers is refused as a bad argument', () => {
  for (const p of ['', '1:', ':1', '1::2', '1:a', '1 2', '-1']) refused(['--seed', '1', `--path=${p}`], /--path must be numbers separated by colons/);
});

test('--seconds, --runs, --crash and --timeout-ms must be greater than 0; counts whole', () => {
  for (const v of ['-3', '0', 'abc', '']) {
    refused([`--seconds=${v}`], /--seconds (must be greater than 0|needs a number)/);
    refused([`--runs=${v}`], /--runs (must be greater than 0|needs a number)/);
    refused([`--crash=${v}`], /--crash (must be greater than 0|needs a number)/);
  }
  refused(['--runs', '1.5'], /--runs must be a whole number/);
  refused(['--timeout-ms', '0'], /--timeout-ms must be greater than 0/);
  refused(['--seed', '1.5'], /--seed must be a whole number/);
  // npm's config form goes through the same check.
  assert.throws(() => parseFuzzArgs([], { npm_config_seconds: '-3' }), UsageError);
  assert.equal(parseFuzzArgs(['--seconds', '0.5'], {}).seconds, 0.5);
});

test('--crash runs on its own', () => {
  assert.equal(parseFuzzArgs(['--crash', '1000', '--seed', '7'], {}).crash, 1000);
  refused(['--crash', '1000', '--parser', 'reference'], /--crash N runs the SIGKILL crash loop on its own/);
  refused(['--crash', '8'], /--crash needs at least 200 kills \(the suite already runs 200\), not 8/);
});

test('a replay path fast-check cannot walk for that seed is named as the usage mistake', () => {
  const t = getTarget('reference')!;
  assert.match(replayPathProblem(t, 1, '0:999:999') ?? '', /^--path 0:999:999 names no case of reference with seed 1 \(copy --seed and --path whole/);
  assert.equal(replayPathProblem(t, 1, '99:7'), undefined);
  assert.equal(replayPathProblem(t, 1, '5'), undefined);
});

test('npm run fuzz: a usage mistake is one line on stderr, exit 2, before any target runs', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/fuzz.ts', '--parser', 'reference', '--path', '99:7', '--runs', '1'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_seconds: '', npm_config_parser: '' } });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'fuzz: --path needs the --seed printed beside it in the failure report\n');
});

test('a hang\'s input, regenerated from seed and path, is not called minimised', () => {
  const base = { kind: 'hang' as const, seed: 7, path: '12', input: '"x"', message: 'case 13 made no progress' };
  assert.match(formatFailure('reference', { ...base, regenerated: true }), /\n  input \(regenerated from seed and path, not minimised\): "x"$/);
  assert.match(formatFailure('reference', { ...base, kind: 'untyped-error' }), /\n  minimised input: "x"$/);
});
