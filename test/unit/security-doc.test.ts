/**
 * docs/SECURITY.md names, for each claim, the test that covers it: every test
 * file it names exists, and every test name it quotes (up to a "…") is a test
 * in that file, so a renamed or deleted test cannot leave a claim uncovered.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/SECURITY.md'), 'utf8').replace(/\n\s*/g, ' ');

test('every test file and test name docs/SECURITY.md cites exists', () => {
  const cites = [...doc.matchAll(/`(test\/[^`]+?\.tsx?)`(?: › ((?:"(?:[^"\\]|\\.)*"(?:, )?)+))?/g)];
  assert.ok(cites.length > 40, `found ${cites.length} citations`);
  const missing: string[] = [];
  let checked = 0;
  for (const [, file, names] of cites) {
    if (!existsSync(join(root, file!))) {
      missing.push(`${file}: no such file`);
      continue;
    }
    const src = readFileSync(join(root, file!), 'utf8').replace(/\\(["'`])/g, '$1');
    for (const [, quoted] of (names ?? '').matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      // A name is cited up to "…" (the rest elided); inner "…" elide a middle part.
      const parts = quoted!.replace(/\\"/g, '"').split('…').map((p) => p.trim()).filter(Boolean);
      checked++;
      if (!parts.every((p) => src.includes(p))) missing.push(`${file} › "${quoted}"`);
    }
  }
  assert.ok(checked > 60, `checked ${checked} test names`);
  assert.deepEqual(missing, []);
});
