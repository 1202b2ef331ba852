#!/usr/bin/env node
// Runs every test (test/**/*.test.ts, sorted) with node's own test runner under
// the node running this script, TypeScript loaded through tsx, and exits with the
// runner's exit code. Tests run from source so that fixtures resolve beside them;
// `npm test` type-checks and compiles first (the CLI tests spawn dist/ when built).
// The spec reporter closes with the summary lines CI reads (ℹ tests N / ℹ pass N / ℹ fail N).
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern=...), and
// arguments that name test files or folders narrow the run to them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() && e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
const args = process.argv.slice(2);
const targets = args.filter((a) => !a.startsWith('-'));
const extra = args.filter((a) => a.startsWith('-'));
const roots = targets.length ? targets.map((t) => resolve(t)) : [join(root, 'test')];
const files = roots
  .flatMap((t) => (statSync(t).isDirectory() ? walk(t) : [t]))
  .map((f) => relative(root, f))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test/**/*.test.ts found');
  process.exit(2);
}
const reporter = extra.some((a) => a.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
// Under CI every fast-check property starts from a fixed seed (VOUCH_FC_SEED overrides).
const seeded = process.env.CI === 'true' || process.env.VOUCH_FC_SEED ? ['--import', './test/helpers/fc-seed.ts'] : [];
// The reviewer's pin journal (src/core/review/pin-journal.ts) of this run, not of the user running it.
const stateDir = process.env.VOUCH_STATE_DIR ? null : mkdtempSync(join(tmpdir(), 'vouch-test-state-'));
// The reviewer's preferences (`vouch annotate`'s default author reads reviewer.name) of this run, not the user's.
const configDir = process.env.VOUCH_CONFIG_DIR ? null : mkdtempSync(join(tmpdir(), 'vouch-test-config-'));
const r = spawnSync(process.execPath, ['--import', 'tsx', ...seeded, '--test', '--test-concurrency=2', ...reporter, ...extra, ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ...(stateDir ? { VOUCH_STATE_DIR: stateDir } : {}), ...(configDir ? { VOUCH_CONFIG_DIR: configDir } : {}) },
});
if (stateDir) rmSync(stateDir, { recursive: true, force: true });
if (configDir) rmSync(configDir, { recursive: true, force: true });
if (r.error) console.error(`run-tests: ${r.error.message}`);
process.exit(r.status ?? 1);
