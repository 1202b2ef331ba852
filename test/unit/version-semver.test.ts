import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareGo, compareNpm, isGoPseudoVersion, parseGoVersion } from '../../src/core/packages/version/semver.js';
import { compareVersions } from '../../src/core/packages/version/index.js';
import { checkOrderProperties } from './version-properties.js';

// node-semver test/fixtures/comparisons.js, restated: [greater, lesser, loose?].
const COMPARISONS: Array<[string, string]> = [
  ['0.0.0', '0.0.0-foo'], ['0.0.1', '0.0.0'], ['1.0.0', '0.9.9'], ['0.10.0', '0.9.0'], ['0.99.0', '0.10.0'], ['2.0.0', '1.2.3'],
  ['v0.0.0', '0.0.0-foo'], ['v0.0.1', '0.0.0'], ['v1.0.0', '0.9.9'], ['v0.10.0', '0.9.0'], ['v0.99.0', '0.10.0'], ['v2.0.0', '1.2.3'],
  ['0.0.0', 'v0.0.0-foo'], ['0.0.1', 'v0.0.0'], ['1.0.0', 'v0.9.9'], ['0.10.0', 'v0.9.0'], ['0.99.0', 'v0.10.0'], ['2.0.0', 'v1.2.3'],
  ['1.2.3', '1.2.3-asdf'], ['1.2.3', '1.2.3-4'], ['1.2.3', '1.2.3-4-foo'], ['1.2.3-5-foo', '1.2.3-5'], ['1.2.3-5', '1.2.3-4'],
  ['1.2.3-5-foo', '1.2.3-5-Foo'], ['3.0.0', '2.7.2+asdf'], ['1.2.3-a.10', '1.2.3-a.5'], ['1.2.3-a.b', '1.2.3-a.5'], ['1.2.3-a.b', '1.2.3-a'],
  ['1.2.3-a.b.c.10.d.5', '1.2.3-a.b.c.5.d.100'], ['1.2.3-r2', '1.2.3-r100'], ['1.2.3-r100', '1.2.3-R2'],
];

// node-semver test/fixtures/equality.js (loose forms included).
const EQUALITY: Array<[string, string]> = [
  ['1.2.3', 'v1.2.3'], ['1.2.3', '=1.2.3'], ['1.2.3', 'v 1.2.3'], ['1.2.3', '= 1.2.3'], ['1.2.3', ' v1.2.3'], ['1.2.3', ' =1.2.3'],
  ['1.2.3', ' v 1.2.3'], ['1.2.3', ' = 1.2.3'], ['1.2.3-0', 'v1.2.3-0'], ['1.2.3-0', '=1.2.3-0'], ['1.2.3-0', 'v 1.2.3-0'],
  ['1.2.3-0', '= 1.2.3-0'], ['1.2.3-0', ' v1.2.3-0'], ['1.2.3-0', ' =1.2.3-0'], ['1.2.3-0', ' v 1.2.3-0'], ['1.2.3-0', ' = 1.2.3-0'],
  ['1.2.3-1', 'v1.2.3-1'], ['1.2.3-1', '=1.2.3-1'], ['1.2.3-1', 'v 1.2.3-1'], ['1.2.3-1', '= 1.2.3-1'], ['1.2.3-1', ' v1.2.3-1'],
  ['1.2.3-1', ' =1.2.3-1'], ['1.2.3-1', ' v 1.2.3-1'], ['1.2.3-1', ' = 1.2.3-1'], ['1.2.3-beta', 'v1.2.3-beta'], ['1.2.3-beta', '=1.2.3-beta'],
  ['1.2.3-beta', 'v 1.2.3-beta'], ['1.2.3-beta', '= 1.2.3-beta'], ['1.2.3-beta', ' v1.2.3-beta'], ['1.2.3-beta', ' =1.2.3-beta'],
  ['1.2.3-beta', ' v 1.2.3-beta'], ['1.2.3-beta', ' = 1.2.3-beta'], ['1.2.3-beta+build', ' = 1.2.3-beta+otherbuild'],
  ['1.2.3+build', ' = 1.2.3+otherbuild'], ['1.2.3-beta+build', '1.2.3-beta+otherbuild'], ['1.2.3+build', '1.2.3+otherbuild'],
  ['  v1.2.3+build', '1.2.3+otherbuild'],
];

test('npm: node-semver comparisons.js and equality.js', () => {
  for (const [hi, lo] of COMPARISONS) {
    assert.equal(compareNpm(hi, lo), 1, `${hi} > ${lo}`);
    assert.equal(compareNpm(lo, hi), -1, `${lo} < ${hi}`);
  }
  for (const [a, b] of EQUALITY) assert.equal(compareNpm(a, b), 0, `${a} == ${b}`);
});

test('npm: not versions', () => {
  for (const bad of ['1.2', 'latest', '1.2.3.4', 'x.y.z', `${Number.MAX_SAFE_INTEGER}0.0.0`, 'file:../foo', 'github:a/b']) {
    assert.equal(compareNpm(bad, '1.0.0'), undefined, bad);
  }
  assert.equal(compareVersions('npm', '4.17.20', '4.17.21'), -1);
});

// golang.org/x/mod/semver semver_test.go, restated: in order, with the canonical form ('' = invalid).
const GO_TESTS: Array<[string, string]> = [
  ['bad', ''], ['v1-alpha.beta.gamma', ''], ['v1-pre', ''], ['v1+meta', ''], ['v1-pre+meta', ''], ['v1.2-pre', ''], ['v1.2+meta', ''], ['v1.2-pre+meta', ''],
  ['v1.0.0-alpha', 'v1.0.0-alpha'], ['v1.0.0-alpha.1', 'v1.0.0-alpha.1'], ['v1.0.0-alpha.beta', 'v1.0.0-alpha.beta'], ['v1.0.0-beta', 'v1.0.0-beta'],
  ['v1.0.0-beta.2', 'v1.0.0-beta.2'], ['v1.0.0-beta.11', 'v1.0.0-beta.11'], ['v1.0.0-rc.1', 'v1.0.0-rc.1'], ['v1', 'v1.0.0'], ['v1.0', 'v1.0.0'],
  ['v1.0.0', 'v1.0.0'], ['v1.2', 'v1.2.0'], ['v1.2.0', 'v1.2.0'], ['v1.2.3-456', 'v1.2.3-456'], ['v1.2.3-456.789', 'v1.2.3-456.789'],
  ['v1.2.3-456-789', 'v1.2.3-456-789'], ['v1.2.3-456a', 'v1.2.3-456a'], ['v1.2.3-pre', 'v1.2.3-pre'], ['v1.2.3-pre+meta', 'v1.2.3-pre'],
  ['v1.2.3-pre.1', 'v1.2.3-pre.1'], ['v1.2.3-zzz', 'v1.2.3-zzz'], ['v1.2.3', 'v1.2.3'], ['v1.2.3+meta', 'v1.2.3'], ['v1.2.3+meta-pre', 'v1.2.3'],
  ['v1.2.3+meta-pre.sha.256a', 'v1.2.3'],
];

test('go: x/mod/semver TestIsValid and TestCompare', () => {
  GO_TESTS.forEach(([vi, outi], i) => {
    assert.equal(parseGoVersion(vi) !== undefined, outi !== '', `IsValid(${vi})`);
    GO_TESTS.forEach(([vj, outj], j) => {
      const got = compareGo(vi, vj);
      if (outi === '' || outj === '') return assert.equal(got, undefined, `${vi} vs ${vj}`);
      const want = outi === outj ? 0 : i < j ? -1 : 1;
      assert.equal(got, want, `Compare(${vi}, ${vj})`);
    });
  });
  // The stored copy of semver_test.go lists {"v1.19", "v1.2", -1}; x/mod's compareInt (length, then digits)
  // gives +1, as SemVer's numeric minor does (go1.19 is newer than go1.2), so +1 is asserted here.
  for (const [v, w, r] of [['v1', 'v1', 0], ['v2', 'v1', 1], ['v1', 'v2', -1], ['v1.19', 'v1.2', 1]] as const) assert.equal(compareGo(v, w), r, `${v} vs ${w}`);
});

test('go: pseudo-versions and +incompatible', () => {
  // Pseudo-versions sort between the tagged releases around them, by timestamp.
  const ordered = ['v0.0.0-20190101000000-abcdefabcdef', 'v0.0.0-20200101000000-abcdefabcdef', 'v0.1.0', 'v0.1.1-0.20200101000000-abcdefabcdef', 'v0.1.1', 'v1.2.3-pre', 'v1.2.3-pre.0.20200101000000-abcdefabcdef', 'v1.2.3'];
  for (let i = 1; i < ordered.length; i++) assert.equal(compareGo(ordered[i - 1]!, ordered[i]!), -1, `${ordered[i - 1]} < ${ordered[i]}`);
  assert.ok(isGoPseudoVersion('v0.0.0-20191109021931-daa7c04131f5'));
  assert.ok(isGoPseudoVersion('v1.2.4-0.20191109021931-daa7c04131f5'));
  assert.ok(!isGoPseudoVersion('v1.2.3'));
  assert.equal(compareGo('v2.0.0+incompatible', 'v2.0.0'), 0); // build metadata is ignored
  assert.equal(compareGo('v2.0.0+incompatible', 'v2.1.0+incompatible'), -1);
  assert.equal(compareGo('1.2.3', 'v1.2.3'), 0); // SBOMs that drop the v
  assert.equal(compareVersions('golang', '(devel)', 'v1.0.0'), undefined);
});

const ident = fc.oneof(fc.constantFrom('0', '1', '2', '10', '11'), fc.constantFrom('alpha', 'beta', 'rc', 'a', 'A', 'x-y', '1a'));
const semverGen = fc
  .tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.array(ident, { maxLength: 3 }), fc.option(fc.constantFrom('build', 'b.1'), { nil: undefined }))
  .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre.length ? `-${pre.join('.')}` : ''}${build ? `+${build}` : ''}`);

test('npm and go: antisymmetry and transitivity on generated versions', () => {
  checkOrderProperties(semverGen, compareNpm);
  checkOrderProperties(semverGen.map((v) => `v${v}`), compareGo);
});
