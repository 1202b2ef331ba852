import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareMaven, mavenCanonical } from '../../src/core/packages/version/maven.js';
import { compareVersions } from '../../src/core/packages/version/index.js';
import { checkOrderProperties } from './version-properties.js';

// Maven's ComparableVersionTest (maven-artifact), restated.
const VERSIONS_QUALIFIER = ['1-alpha2snapshot', '1-alpha2', '1-alpha-123', '1-beta-2', '1-beta123', '1-m2', '1-m11', '1-rc', '1-cr2', '1-rc123', '1-SNAPSHOT', '1', '1-sp', '1-sp2', '1-sp123', '1-abc', '1-def', '1-pom-1', '1-1-snapshot', '1-1', '1-2', '1-123'];
const VERSIONS_NUMBER = ['2.0', '2.0.a', '2-1', '2.0.2', '2.0.123', '2.1.0', '2.1-a', '2.1b', '2.1-c', '2.1-1', '2.1.0.1', '2.2', '2.123', '11.a2', '11.a11', '11.b2', '11.b11', '11.m2', '11.m11', '11', '11.a', '11b', '11c', '11m'];

/** newComparable: the canonical form re-parses to itself. */
function canonicalStable(v: string): void {
  const c = mavenCanonical(v)!;
  assert.equal(mavenCanonical(c), c, `canonical(${v}) = ${c}`);
}
function order(lo: string, hi: string): void {
  canonicalStable(lo);
  canonicalStable(hi);
  assert.equal(compareMaven(lo, hi), -1, `${lo} < ${hi}`);
  assert.equal(compareMaven(hi, lo), 1, `${hi} > ${lo}`);
}
function equal(a: string, b: string): void {
  canonicalStable(a);
  canonicalStable(b);
  assert.equal(compareMaven(a, b), 0, `${a} == ${b}`);
  assert.equal(compareMaven(b, a), 0, `${b} == ${a}`);
}
function orderAll(vs: string[]): void {
  for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) order(vs[i]!, vs[j]!);
}

test('maven: testVersionsQualifier and testVersionsNumber', () => {
  orderAll(VERSIONS_QUALIFIER);
  orderAll(VERSIONS_NUMBER);
});

test('maven: testVersionsEqual and testVersionsHaveSameOrderButAreNotEqual', () => {
  for (const [a, b] of [['1', '1'], ['1', '1.0'], ['1', '1.0.0'], ['1.0', '1.0.0'], ['1', '1-0'], ['1', '1.0-0'], ['1.0', '1.0-0'],
    ['1a', '1-a'], ['1a', '1.0-a'], ['1a', '1.0.0-a'], ['1.0a', '1-a'], ['1.0.0a', '1-a'], ['1x', '1-x'], ['1x', '1.0-x'], ['1x', '1.0.0-x'],
    ['1.0x', '1-x'], ['1.0.0x', '1-x'], ['1cr', '1rc'], ['1a1', '1-alpha-1'], ['1b2', '1-beta-2'], ['1m3', '1-milestone-3'],
    ['1X', '1x'], ['1A', '1a'], ['1B', '1b'], ['1M', '1m'], ['1Cr', '1Rc'], ['1cR', '1rC'], ['1m3', '1Milestone3'], ['1m3', '1MileStone3'], ['1m3', '1MILESTONE3'],
    ['1-abcdefghijklmnopqrstuvwxyz', '1-ABCDEFGHIJKLMNOPQRSTUVWXYZ']] as const) equal(a, b);
  for (const a of ['1ga', '1release', '1final', '1Ga', '1GA', '1RELEASE', '1RELeaSE', '1Final', '1FinaL', '1FINAL']) assert.equal(compareMaven(a, '1'), 0, `${a} same order as 1`);
});

test('maven: testVersionComparing', () => {
  for (const [a, b] of [['1', '2'], ['1.5', '2'], ['1', '2.5'], ['1.0', '1.1'], ['1.1', '1.2'], ['1.0.0', '1.1'], ['1.0.1', '1.1'], ['1.1', '1.2.0'],
    ['1.0-alpha-1', '1.0'], ['1.0-alpha-1', '1.0-alpha-2'], ['1.0-alpha-1', '1.0-beta-1'], ['1.0-beta-1', '1.0-SNAPSHOT'], ['1.0-SNAPSHOT', '1.0'],
    ['1.0-alpha-1-SNAPSHOT', '1.0-alpha-1'], ['1.0', '1.0-1'], ['1.0-1', '1.0-2'], ['1.0.0', '1.0-1'], ['2.0-1', '2.0.1'], ['2.0.1-klm', '2.0.1-lmn'],
    ['2.0.1', '2.0.1-xyz'], ['2.0.1', '2.0.1-123'], ['2.0.1-xyz', '2.0.1-123'], ['0.7', '2'], ['0.2', '1.0.7']] as const) order(a, b);
});

test('maven: digits, letters, non-ASCII (testDigitGreaterThanNonAscii ... testLexicographicOrder)', () => {
  assert.equal(compareMaven('1', 'é'), 1);
  assert.equal(compareMaven('1', '\uD835\uDFE4'), 1);
  assert.equal(compareMaven('1.0.0-ALPHA1', '1.0.0-alpha1'), 0);
  assert.equal(compareMaven('1.A', '1.a'), 0);
  assert.equal(compareMaven('1.É', '1.é'), 0);
  assert.equal(compareMaven('7', 'J'), 1);
  assert.equal(compareMaven('7', 'c'), 1);
  assert.equal(compareMaven('1', '\u0668'), 1);
  assert.equal(compareMaven('9', '\u0668'), 1);
  assert.equal(compareMaven('zebra', 'aardvark'), 1);
  assert.equal(compareMaven('ζέβρα', 'zebra'), 1);
  assert.equal(mavenCanonical('0.x'), 'x');
  assert.equal(mavenCanonical('0.2'), '0.2');
  for (const v of ['0.x', '0-x', '0.rc', '0-1']) canonicalStable(v);
});

test('maven: MNG-5568, MNG-6572, MNG-6964, MNG-7644, MNG-7714, leading zeros', () => {
  order('6.1.0rc3', '6.1.0');
  order('6.1.0rc3', '6.1H.5-beta');
  order('6.1.0', '6.1H.5-beta');
  const [a, b, c, d] = ['20190126.230843', '1234567890.12345', '123456789012345.1H.5-beta', '12345678901234567890.1H.5-beta'];
  order(a, b); order(b, c); order(a, c); order(c, d); order(b, d); order(a, d);
  const ones = Array.from({ length: 19 }, (_, i) => `${'0'.repeat(i)}1`);
  const zeros = Array.from({ length: 19 }, (_, i) => '0'.repeat(i + 1));
  for (const arr of [ones, zeros]) for (let i = 0; i < arr.length; i++) for (let j = i; j < arr.length; j++) equal(arr[i]!, arr[j]!);
  order('1-0.alpha', '1');
  order('1-0.beta', '1');
  order('1-0.alpha', '1-0.beta');
  for (const x of ['abc', 'alpha', 'a', 'beta', 'b', 'def', 'milestone', 'm', 'RC']) {
    order(`1.0.0.${x}1`, `1.0.0-${x}2`);
    equal(`2-${x}`, `2.0.${x}`);
    equal(`2-${x}`, `2.0.0.${x}`);
    equal(`2.0.${x}`, `2.0.0.${x}`);
  }
  for (const sp of ['1.0-sp1-redhat', '1.0-sp-1-redhat', '1.0-sp.1-redhat']) assert.equal(compareMaven('1.0.final-redhat', sp), -1, sp);
  assert.equal(compareVersions('maven', '2.15.2', '2.15.3'), -1);
  assert.equal(compareVersions('maven', 'x'.repeat(300), '1'), undefined); // longer than Maven's 256-character bound
});

const mavenGen = fc
  .array(fc.constantFrom('1', '2', '0', '10', 'alpha', 'a', 'beta', 'm', 'rc', 'cr', 'SNAPSHOT', 'ga', 'final', 'sp', 'xyz', '.', '-', '.', '-'), { minLength: 1, maxLength: 7 })
  .map((p) => p.join(''));

test('maven: antisymmetry and transitivity on generated versions', () => {
  checkOrderProperties(mavenGen, compareMaven);
});
