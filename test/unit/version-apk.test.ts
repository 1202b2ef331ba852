import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { apkVersionCompare, compareApk, isValidApkVersion } from '../../src/core/packages/version/apk.js';
import { compareVersions } from '../../src/core/packages/version/index.js';
import { checkOrderProperties } from './version-properties.js';

const DATA = new URL('../fixtures/versions/apk-version.data', import.meta.url);

test('apk-tools version.data: every comparison and validity line', () => {
  let checked = 0;
  for (const raw of readFileSync(DATA, 'utf8').split('\n')) {
    const line = raw.split('#')[0]!.trim();
    if (!line) continue;
    const parts = line.split(' ');
    if (parts.length === 3) {
      const [a, opRaw, b] = parts as [string, string, string];
      const invert = opRaw.startsWith('!');
      const op = invert ? opRaw.slice(1) : opRaw;
      if (op.includes('~')) continue; // fuzzy (prefix) matching is a dependency operator, not an ordering
      // The raw algorithm, as apk runs it even on invalid strings ("23_foo > 4_beta"); compareApk
      // (what the diff uses) answers undefined for those.
      const r = apkVersionCompare(a, b);
      if (!isValidApkVersion(a) || !isValidApkVersion(b)) assert.equal(compareApk(a, b), undefined, line);
      else assert.equal(compareApk(a, b), r, line);
      const ok = (op.includes('<') && r === -1) || (op.includes('>') && r === 1) || (op.includes('=') && r === 0);
      assert.equal(ok !== invert, true, `${line}: got ${r}`);
      // and the mirror image
      assert.equal(apkVersionCompare(b, a), r === 0 ? 0 : -r, `${line} (reversed)`);
    } else {
      const v = parts[0]!;
      if (v.startsWith('!')) assert.equal(isValidApkVersion(v.slice(1)), false, `${v} should be invalid`);
      else assert.equal(isValidApkVersion(v), true, `${v} should be valid`);
    }
    checked++;
  }
  assert.ok(checked > 700, `checked ${checked} lines`);
});

test('apk: suffix order, revisions, commit hashes, leading zeros', () => {
  const ordered = ['1.0_alpha', '1.0_alpha1', '1.0_beta', '1.0_pre', '1.0_rc1', '1.0', '1.0-r1', '1.0_cvs', '1.0_svn', '1.0_git', '1.0_hg', '1.0_p1', '1.0a', '1.0.1'];
  for (let i = 0; i < ordered.length; i++)
    for (let j = i + 1; j < ordered.length; j++) assert.equal(compareApk(ordered[i]!, ordered[j]!), -1, `${ordered[i]} < ${ordered[j]}`);
  assert.equal(compareApk('1.0~abc1-r1', '1.0~abc1-r0'), 1);
  assert.equal(compareApk('1.01', '1.1'), -1); // "01" vs "1": string order
  assert.equal(compareApk('1.0bc', '1.0'), undefined); // invalid
  assert.equal(compareVersions('apk', '3.1.4-r5', '3.1.4-r6'), -1);
  assert.equal(compareVersions('apk', 'x', '1'), undefined);
});

const apkVersion = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 }),
    fc.option(fc.constantFrom('a', 'b', 'z'), { nil: undefined }),
    fc.array(fc.tuple(fc.constantFrom('alpha', 'beta', 'pre', 'rc', 'cvs', 'svn', 'git', 'hg', 'p'), fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined })), { maxLength: 2 }),
    fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  )
  .map(([nums, letter, sufs, rev]) => `${nums.join('.')}${letter ?? ''}${sufs.map(([s, n]) => `_${s}${n ?? ''}`).join('')}${rev === undefined ? '' : `-r${rev}`}`);

test('apk: antisymmetry and transitivity on generated versions', () => {
  checkOrderProperties(apkVersion, compareApk);
});
