#!/usr/bin/env node
// Runs every compiled test (dist/test/**/*.test.js, sorted) with node's own test
// runner under the node running this script, and exits with its exit code. The
// spec reporter closes with the summary lines CI reads (ℹ tests N / ℹ pass N / ℹ fail N).
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() && e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );
let files = [];
try {
  files = walk(join(root, 'dist', 'test')).map((f) => relative(root, f)).sort();
} catch {}
if (files.length === 0) {
  console.error('run-tests: no dist/test/**/*.test.js; run `npm run build` first');
  process.exit(2);
}
const extra = process.argv.slice(2);
const reporter = extra.some((a) => a.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...reporter, ...extra, ...files], { cwd: root, stdio: 'inherit' });
if (r.error) console.error(`run-tests: ${r.error.message}`);
process.exit(r.status ?? 1);
