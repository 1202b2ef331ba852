/**
 * Lists of any length: no array is spread into Math.max/Math.min or push()
 * (a spread of ~130k elements exceeds V8's argument limit: "Maximum call
 * stack size exceeded"). A 200k-row text table, a 200k-package diff and the
 * `vouch sbom` text view of a 200k-component SBOM all complete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from '../../src/cli/format/text.js';
import { diffInventories } from '../../src/core/diff/packages.js';
import type { Package } from '../../src/core/packages/types.js';
import { runCli } from '../helpers/inspect.js';

const N = 200_000;

test('a 200k-row text table is laid out, fitted to a width and unfitted', () => {
  const rows = Array.from({ length: N }, (_, i) => [`pkg-${i}`, `1.${i}`]);
  const cols = [{ header: 'NAME' }, { header: 'VERSION' }];
  const unfitted = table(cols, rows, undefined);
  assert.equal(unfitted.split('\n').length, N + 1);
  assert.match(unfitted.split('\n')[N]!, /^pkg-199999 +1\.199999$/);
  const fitted = table(cols, rows, 40);
  assert.equal(fitted.split('\n').length, N + 1);
});

test('a 200k-package diff of one identity (every version added) completes', () => {
  const pkg = (v: string): Package => ({ name: 'many', version: v, type: 'npm', purl: `pkg:npm/many@${v}`, licenses: [], locations: [] });
  const target = { packages: Array.from({ length: N }, (_, i) => pkg(`1.0.${i}`)) };
  const d = diffInventories({ packages: [] }, target);
  assert.equal(d.added.length, N);
  const back = diffInventories(target, { packages: [] });
  assert.equal(back.removed.length, N);
});

test('vouch sbom on a 200k-component CycloneDX file prints its table', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-large-lists-'));
  const file = join(dir, 'big.cdx.json');
  const components = Array.from({ length: N }, (_, i) => ({ type: 'library', name: `pkg-${i}`, version: `1.0.${i}`, purl: `pkg:npm/pkg-${i}@1.0.${i}` }));
  writeFileSync(file, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1, components }));
  const r = await runCli(['sbom', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /call stack/);
  assert.match(r.stdout, /pkg-199999/);
});
