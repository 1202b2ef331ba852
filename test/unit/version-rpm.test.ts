import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareRpm, parseRpmEvr, rpmvercmp } from '../../src/core/packages/version/rpm.js';
import { compareVersions } from '../../src/core/packages/version/index.js';
import { checkOrderProperties } from './version-properties.js';

// rpm's tests/rpmvercmp.at, restated: RPMVERCMP(a, b, expected).
const RPMVERCMP: Array<[string, string, -1 | 0 | 1]> = [
  ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1],
  ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1], ['2.0.1', '2.0', 1],
  ['2.0.1a', '2.0.1a', 0], ['2.0.1a', '2.0.1', 1], ['2.0.1', '2.0.1a', -1],
  ['5.5p1', '5.5p1', 0], ['5.5p1', '5.5p2', -1], ['5.5p2', '5.5p1', 1],
  ['5.5p10', '5.5p10', 0], ['5.5p1', '5.5p10', -1], ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1], ['10.1xyz', '10xyz', 1],
  ['xyz10', 'xyz10', 0], ['xyz10', 'xyz10.1', -1], ['xyz10.1', 'xyz10', 1],
  ['xyz.4', 'xyz.4', 0], ['xyz.4', '8', -1], ['8', 'xyz.4', 1], ['xyz.4', '2', -1], ['2', 'xyz.4', 1],
  ['5.5p2', '5.6p1', -1], ['5.6p1', '5.5p2', 1],
  ['5.6p1', '6.5p1', -1], ['6.5p1', '5.6p1', 1],
  ['6.0.rc1', '6.0', 1], ['6.0', '6.0.rc1', -1],
  ['10b2', '10a1', 1], ['10a2', '10b2', -1],
  ['1.0aa', '1.0aa', 0], ['1.0a', '1.0aa', -1], ['1.0aa', '1.0a', 1],
  ['10.0001', '10.0001', 0], ['10.0001', '10.1', 0], ['10.1', '10.0001', 0], ['10.0001', '10.0039', -1], ['10.0039', '10.0001', 1],
  ['4.999.9', '5.0', -1], ['5.0', '4.999.9', 1],
  ['20101121', '20101121', 0], ['20101121', '20101122', -1], ['20101122', '20101121', 1],
  ['2_0', '2_0', 0], ['2.0', '2_0', 0], ['2_0', '2.0', 0],
  // RhBug:178798
  ['a', 'a', 0], ['a+', 'a+', 0], ['a+', 'a_', 0], ['a_', 'a+', 0], ['+a', '+a', 0], ['+a', '_a', 0], ['_a', '+a', 0],
  ['+_', '+_', 0], ['_+', '+_', 0], ['_+', '_+', 0], ['+', '_', 0], ['_', '+', 0],
  // tilde
  ['1.0~rc1', '1.0~rc1', 0], ['1.0~rc1', '1.0', -1], ['1.0', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc2', -1], ['1.0~rc2', '1.0~rc1', 1],
  ['1.0~rc1~git123', '1.0~rc1~git123', 0], ['1.0~rc1~git123', '1.0~rc1', -1], ['1.0~rc1', '1.0~rc1~git123', 1],
  // caret (rpm >= 4.15, tests/rpmvercmp.at in those releases)
  ['1.0^', '1.0^', 0], ['1.0^', '1.0', 1], ['1.0', '1.0^', -1], ['1.0^git1', '1.0^git1', 0], ['1.0^git1', '1.0', 1], ['1.0', '1.0^git1', -1],
  ['1.0^git1', '1.0^git2', -1], ['1.0^git2', '1.0^git1', 1], ['1.0^git1', '1.01', -1], ['1.01', '1.0^git1', 1],
  ['1.0^20160101', '1.0^20160101', 0], ['1.0^20160101', '1.0.1', -1], ['1.0.1', '1.0^20160101', 1],
  ['1.0^20160101^git1', '1.0^20160101^git1', 0], ['1.0^20160102', '1.0^20160101^git1', 1], ['1.0^20160101^git1', '1.0^20160102', -1],
  ['1.0~rc1^git1', '1.0~rc1^git1', 0], ['1.0~rc1^git1', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc1^git1', -1],
  ['1.0^git1~pre', '1.0^git1~pre', 0], ['1.0^git1', '1.0^git1~pre', 1], ['1.0^git1~pre', '1.0^git1', -1],
];

test('rpm tests/rpmvercmp.at vectors', () => {
  for (const [a, b, want] of RPMVERCMP) assert.equal(rpmvercmp(a, b), want, `rpmvercmp(${a}, ${b})`);
});

test('rpm: epoch:version-release', () => {
  assert.deepEqual(parseRpmEvr('1:2.3-4.el9'), { epoch: '1', version: '2.3', release: '4.el9' });
  assert.deepEqual(parseRpmEvr('2.3'), { epoch: null, version: '2.3', release: null });
  assert.equal(compareRpm('1:1.0-1', '2.0-1'), 1);
  assert.equal(compareRpm('0:1.0-1', '1.0-1'), 0);
  assert.equal(compareRpm('1.0-1.el9', '1.0-2.el9'), -1);
  assert.equal(compareRpm('1.0-1.el9', '1.0-1.el9_1'), -1);
  assert.equal(compareRpm('3.0.7-24.el9', '3.0.7-25.el9'), -1);
  assert.equal(compareRpm('1.0', '1.0-5'), 0); // a missing release matches any (rpmverCmp)
  assert.equal(compareVersions('rpm', '2.9.1-3.fc40', '2.9.1-3.fc40'), 0);
  assert.equal(compareVersions('rpm', '', '1'), undefined);
});

const rpmVersion = fc
  .array(fc.constantFrom('0', '1', '2', '10', '007', 'a', 'b', 'rc', 'git', '.', '_', '+', '~', '^'), { minLength: 1, maxLength: 7 })
  .map((p) => p.join(''));

test('rpm: antisymmetry and transitivity on generated versions (and releases)', () => {
  checkOrderProperties(rpmVersion, (a, b) => rpmvercmp(a, b));
  const evr = fc.tuple(fc.option(fc.constantFrom('0', '1', '2'), { nil: undefined }), rpmVersion.filter((v) => !v.includes('-')), rpmVersion).map(([e, v, r]) => `${e ? `${e}:` : ''}${v}-${r}`);
  checkOrderProperties(evr, compareRpm, 1000);
});
