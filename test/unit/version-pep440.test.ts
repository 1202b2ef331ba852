import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { comparePep440, normalizePep440, parsePep440 } from '../../src/core/packages/version/pep440.js';
import { compareVersions } from '../../src/core/packages/version/index.js';
import { checkOrderProperties } from './version-properties.js';

// pypa/packaging tests/test_version.py VERSIONS: "This list must be in the correct sorting order".
const BASE = [
  '1.0.dev0', '1.0.dev456', '1.0.dev456+local', '1.0a0', '1.0a0.post0.dev0', '1.0a0.post0', '1.0a1.dev1', '1.0a1.dev1+local', '1.0a1', '1.0a1+local',
  '1.0b0', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0b2-346', '1.0rc0', '1.0rc1.dev1', '1.0c1', '1.0rc2', '1.0',
  '1.0.post0.dev0', '1.0.post0', '1.0.post456.dev34', '1.0.post456', '1.0.post456+local', '1.0.1.dev1', '1.0.1a1', '1.0.1', '1.0.1+local',
  '1.0.1.post1', '1.1.dev1', '1.2+a', '1.2+abc', '1.2+abcdef', '1.2+def', '1.2+0', '1.2+1', '1.2+1.abc', '1.2+1.1', '1.2+1.1.0', '1.2+2',
  '1.2+123', '1.2+123456', '1.2.r32+123456', '1.2.rev33+123456',
];
const VERSIONS = [...BASE, ...BASE.map((v) => `1!${v}`)];

test('packaging test_version.py: VERSIONS are in order', () => {
  for (let i = 0; i < VERSIONS.length; i++) {
    for (let j = 0; j < VERSIONS.length; j++) {
      const want = i === j ? 0 : i < j ? -1 : 1;
      assert.equal(comparePep440(VERSIONS[i]!, VERSIONS[j]!), want, `${VERSIONS[i]} vs ${VERSIONS[j]}`);
    }
  }
  assert.equal(comparePep440('1.0rc1', '1.0c1'), 0);
});

test('packaging test_version.py: invalid versions', () => {
  for (const bad of ['french toast', '1.0+a+', '1.0++', '1.0+_foobar', '1.0+foo&asd', '1.0+1+1', '1. 0', '1 .0', '1. 0a1', '1 .0a1', '1.0 a1', '1.0a 1',
    '٠١٢.٣٤٥.٦٧٨٩', '.', '..', '1..0', '1.0.', '.1.0', '1..2.3', '1.0+\u0130']) {
    assert.equal(parsePep440(bad), undefined, JSON.stringify(bad));
  }
  assert.equal(compareVersions('pypi', 'french toast', '1.0'), undefined);
});

test('packaging test_version.py: normalisation', () => {
  const cases: Array<[string, string]> = [
    ['1.0dev', '1.0.dev0'], ['1.0.dev', '1.0.dev0'], ['1.0dev1', '1.0.dev1'], ['1.0-dev', '1.0.dev0'], ['1.0-dev1', '1.0.dev1'], ['1.0DEV', '1.0.dev0'],
    ['1.0.DEV', '1.0.dev0'], ['1.0DEV1', '1.0.dev1'], ['1.0.DEV1', '1.0.dev1'], ['1.0-DEV', '1.0.dev0'], ['1.0-DEV1', '1.0.dev1'],
    ['1.0a', '1.0a0'], ['1.0.a', '1.0a0'], ['1.0.a1', '1.0a1'], ['1.0-a', '1.0a0'], ['1.0-a1', '1.0a1'], ['1.0alpha', '1.0a0'], ['1.0.alpha', '1.0a0'],
    ['1.0.alpha1', '1.0a1'], ['1.0-alpha', '1.0a0'], ['1.0-alpha1', '1.0a1'], ['1.0A', '1.0a0'], ['1.0.A', '1.0a0'], ['1.0.A1', '1.0a1'], ['1.0-A', '1.0a0'],
    ['1.0-A1', '1.0a1'], ['1.0ALPHA', '1.0a0'], ['1.0.ALPHA', '1.0a0'], ['1.0.ALPHA1', '1.0a1'], ['1.0-ALPHA', '1.0a0'], ['1.0-ALPHA1', '1.0a1'],
    ['1.0b', '1.0b0'], ['1.0.b', '1.0b0'], ['1.0.b1', '1.0b1'], ['1.0-b', '1.0b0'], ['1.0-b1', '1.0b1'], ['1.0beta', '1.0b0'], ['1.0.beta', '1.0b0'],
    ['1.0.beta1', '1.0b1'], ['1.0-beta', '1.0b0'], ['1.0-beta1', '1.0b1'], ['1.0B', '1.0b0'], ['1.0.B', '1.0b0'], ['1.0.B1', '1.0b1'], ['1.0-B', '1.0b0'],
    ['1.0-B1', '1.0b1'], ['1.0BETA', '1.0b0'], ['1.0.BETA', '1.0b0'], ['1.0.BETA1', '1.0b1'], ['1.0-BETA', '1.0b0'], ['1.0-BETA1', '1.0b1'],
    ['1.0c', '1.0rc0'], ['1.0.c', '1.0rc0'], ['1.0.c1', '1.0rc1'], ['1.0-c', '1.0rc0'], ['1.0-c1', '1.0rc1'], ['1.0rc', '1.0rc0'], ['1.0.rc', '1.0rc0'],
    ['1.0.rc1', '1.0rc1'], ['1.0-rc', '1.0rc0'], ['1.0-rc1', '1.0rc1'], ['1.0C', '1.0rc0'], ['1.0.C', '1.0rc0'], ['1.0.C1', '1.0rc1'], ['1.0-C', '1.0rc0'],
    ['1.0-C1', '1.0rc1'], ['1.0RC', '1.0rc0'], ['1.0.RC', '1.0rc0'], ['1.0.RC1', '1.0rc1'], ['1.0-RC', '1.0rc0'], ['1.0-RC1', '1.0rc1'],
    ['1.0post', '1.0.post0'], ['1.0.post', '1.0.post0'], ['1.0post1', '1.0.post1'], ['1.0-post', '1.0.post0'], ['1.0-post1', '1.0.post1'],
    ['1.0POST', '1.0.post0'], ['1.0.POST', '1.0.post0'], ['1.0POST1', '1.0.post1'], ['1.0r', '1.0.post0'], ['1.0rev', '1.0.post0'],
    ['1.0.POST1', '1.0.post1'], ['1.0.r1', '1.0.post1'], ['1.0.rev1', '1.0.post1'], ['1.0-POST', '1.0.post0'], ['1.0-POST1', '1.0.post1'],
    ['1.0-5', '1.0.post5'], ['1.0-r5', '1.0.post5'], ['1.0-rev5', '1.0.post5'], ['1.0+AbC', '1.0+abc'], ['1.01', '1.1'], ['1.0a05', '1.0a5'],
    ['1.0b07', '1.0b7'], ['1.0c056', '1.0rc56'], ['1.0rc09', '1.0rc9'], ['1.0.post000', '1.0.post0'], ['1.1.dev09000', '1.1.dev9000'],
    ['00!1.2', '1.2'], ['0100!0.0', '100!0.0'], ['v1.0', '1.0'], ['   v1.0\t\n', '1.0'], ['\u202f1.0\t\u2029\n ', '1.0'],
    ['7!1.0b2.post345.dev456', '7!1.0b2.post345.dev456'], ['1.0.3+7', '1.0.3+7'], ['0!1.0.4+8.0', '1.0.4+8.0'],
  ];
  for (const [v, want] of cases) {
    const p = parsePep440(v);
    assert.ok(p, JSON.stringify(v));
    assert.equal(normalizePep440(p), want, JSON.stringify(v));
  }
});

const pep440Gen = fc
  .tuple(
    fc.option(fc.constantFrom('1', '2'), { nil: undefined }),
    fc.array(fc.constantFrom('0', '1', '2', '10'), { minLength: 1, maxLength: 3 }),
    fc.option(fc.tuple(fc.constantFrom('a', 'b', 'rc', 'c', 'alpha', '.pre'), fc.nat(3)), { nil: undefined }),
    fc.option(fc.constantFrom('.post1', '-2', '.post', 'r3'), { nil: undefined }),
    fc.option(fc.constantFrom('.dev0', '.dev2', 'dev'), { nil: undefined }),
    fc.option(fc.constantFrom('+abc', '+1', '+1.abc', '+abc.1', '+0', '+a-b_c'), { nil: undefined }),
  )
  .map(([e, rel, pre, post, dev, local]) => `${e ? `${e}!` : ''}${rel.join('.')}${pre ? `${pre[0]}${pre[1]}` : ''}${post ?? ''}${dev ?? ''}${local ?? ''}`);

test('pep440: antisymmetry and transitivity on generated versions', () => {
  checkOrderProperties(pep440Gen, comparePep440);
});

const hasPackaging = spawnSync('python3', ['-c', 'import packaging.version'], { stdio: 'ignore' }).status === 0;

test('pep440: agrees with pypa/packaging on generated pairs', { skip: hasPackaging ? false : 'python3 with packaging is not installed' }, () => {
  const pairs = fc.sample(fc.tuple(pep440Gen, pep440Gen), { numRuns: 1500, seed: 440 });
  const py = 'import sys,json\nfrom packaging.version import Version as V\nfor a,b in json.load(sys.stdin):\n  x,y=V(a),V(b)\n  print(-1 if x<y else (0 if x==y else 1))\n';
  const r = spawnSync('python3', ['-c', py], { input: JSON.stringify(pairs), encoding: 'utf8' });
  const answers = r.stdout.trim().split('\n').map(Number);
  assert.equal(answers.length, pairs.length, r.stderr);
  pairs.forEach(([a, b], i) => assert.equal(comparePep440(a, b), answers[i], `${a} vs ${b}`));
});
