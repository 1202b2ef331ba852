import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { compareDpkg, parseDpkgVersion, verrevcmp } from '../../src/core/packages/version/dpkg.js';
import { compareVersions } from '../../src/core/packages/version/index.js';
import { checkOrderProperties } from './version-properties.js';

// dpkg's lib/dpkg/t/t-version.c, restated: DPKG_VERSION_OBJECT(epoch, version, revision) pairs.
test('dpkg t-version.c: compare', () => {
  const obj = (e: number, v: string, r: string): string => `${e}:${v}${r === '' ? '' : `-${r}`}`;
  assert.equal(compareDpkg(obj(1, '0', ''), obj(2, '0', '')), -1);
  assert.equal(compareDpkg(obj(0, '1', '1'), obj(0, '2', '1')), -1);
  assert.equal(compareDpkg(obj(0, '1', '1'), obj(0, '1', '2')), -1);
  assert.equal(compareDpkg(obj(0, '0', '0'), obj(0, '0', '0')), 0);
  assert.equal(compareDpkg(obj(0, '0', '00'), obj(0, '00', '0')), 0);
  assert.equal(compareDpkg(obj(1, '2', '3'), obj(1, '2', '3')), 0);
  assert.equal(compareDpkg(obj(0, '0', '0'), obj(1, '0', '0')), -1);
  assert.equal(compareDpkg(obj(1, '0', '0'), obj(0, '0', '0')), 1);
  assert.equal(compareDpkg(obj(0, 'a', '0'), obj(0, 'b', '0')), -1);
  assert.equal(compareDpkg(obj(0, '0', 'a'), obj(0, '0', 'b')), -1);
  assert.equal(compareDpkg(obj(0, '0', 'b'), obj(0, '0', 'a')), 1);
});

test('dpkg t-version.c: parse', () => {
  const same = (s: string, epoch: number, upstream: string, revision: string): void => {
    const p = parseDpkgVersion(s);
    assert.ok(p, `${JSON.stringify(s)} parses`);
    assert.equal(compareDpkg(s, `${epoch}:${upstream}-${revision}`), 0, s);
  };
  same('0', 0, '0', '');
  same('0:0', 0, '0', '');
  same('0:0-', 0, '0', '');
  same('0:0-0', 0, '0', '0');
  same('0:0.0-0.0', 0, '0.0', '0.0');
  same('1:0', 1, '0', '');
  same('5:1', 5, '1', '');
  same('0:0-0-0', 0, '0-0', '0');
  same('0:0-0-0-0', 0, '0-0-0', '0');
  same('0:0:0-0', 0, '0:0', '0');
  same('0:0:0:0-0', 0, '0:0:0', '0');
  same('0:0:0-0-0', 0, '0:0-0', '0');
  same('0:0-0:0-0', 0, '0-0:0', '0');
  same('0:09azAZ.-+~:-0', 0, '09azAZ.-+~:', '0');
  same('0:0-azAZ09.+~', 0, '0', 'azAZ09.+~');
  same('  \t0:0-1', 0, '0', '1');
  same('0:0-1\t  ', 0, '0', '1');
  same('\t  0:0-1  \t', 0, '0', '1');
  assert.deepEqual(parseDpkgVersion('0:09azAZ.-+~:-0'), { epoch: 0, upstream: '09azAZ.-+~:', revision: '0' });
  // hard errors: unparseable
  for (const bad of ['', '  ', '0:', '0:0 0-1', '-1:0-1', '999999999999999999999999:0-1', 'a:0-0', 'A:0-0', '-0', '0:-0']) {
    assert.equal(parseDpkgVersion(bad), undefined, JSON.stringify(bad));
  }
  // dpkg only warns about these and still compares them
  assert.ok(parseDpkgVersion('0:abc3-0'));
  assert.equal(compareVersions('deb', '', '1.0'), undefined);
});

test('dpkg: tilde sorts before everything, letters before non-letters', () => {
  assert.equal(verrevcmp('1.0~rc1', '1.0'), -1);
  assert.equal(verrevcmp('1.0~~', '1.0~'), -1);
  assert.equal(verrevcmp('1.0~~a', '1.0~'), -1);
  assert.equal(verrevcmp('1.0~', '1.0'), -1);
  assert.equal(verrevcmp('1.0', '1.0a'), -1);
  assert.equal(verrevcmp('1.0a', '1.0+'), -1); // letters before non-letters
  assert.equal(verrevcmp('1.0+', '1.0.'), -1); // '+' (43) before '.' (46)
  assert.equal(verrevcmp('1.0', '1.0+'), -1);
  assert.equal(verrevcmp('1.0', '1.00'), 0);
  assert.equal(compareVersions('deb', '1:1.0', '2.0'), 1);
  assert.equal(compareVersions('deb', '2.36.1-8+deb11u1', '2.36.1-8+deb11u2'), -1);
  assert.equal(compareVersions('deb', '1.2.3-1~bpo11+1', '1.2.3-1'), -1);
});

const dpkgPart = (first: string): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...first), fc.array(fc.constantFrom('0', '1', '2', '9', '10', '007', 'a', 'b', 'Z', '.', '+', '~', '~~', 'rc', 'deb'), { maxLength: 6 }))
    .map(([f, rest]) => f + rest.join(''));

const dpkgVersion = fc
  .tuple(fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), dpkgPart('0123456789'), fc.option(dpkgPart('0123456789a~+'), { nil: undefined }))
  .map(([e, up, rev]) => `${e === undefined ? '' : `${e}:`}${up}${rev === undefined ? '' : `-${rev}`}`);

test('dpkg: antisymmetry and transitivity on generated versions', () => {
  checkOrderProperties(dpkgVersion, compareDpkg);
});

const hasDpkg = spawnSync('dpkg', ['--version'], { stdio: 'ignore' }).status === 0;

test('dpkg: agrees with `dpkg --compare-versions` on generated pairs', { skip: hasDpkg ? false : 'dpkg is not installed on this machine' }, () => {
  const pairs = fc.sample(fc.tuple(dpkgVersion, dpkgVersion), { numRuns: 600, seed: 440 });
  // Near pairs too: the same version with one edit, where the interesting ties and tildes are.
  pairs.push(...fc.sample(dpkgVersion, { numRuns: 150, seed: 7 }).flatMap((v): Array<[string, string]> => [[v, `${v}~`], [v, `${v}+`], [v, `${v}a`], [v, `${v}.0`], [v, `${v}-0`]]));
  // One shell, many dpkg runs: prints lt/eq/gt per pair.
  const script = pairs
    .map(([a, b]) => `if dpkg --compare-versions '${a}' lt '${b}' 2>/dev/null; then echo lt; elif dpkg --compare-versions '${a}' eq '${b}' 2>/dev/null; then echo eq; else echo gt; fi`)
    .join('\n');
  const r = spawnSync('sh', [], { input: script, encoding: 'utf8', maxBuffer: 1 << 24 });
  const answers = r.stdout.trim().split('\n');
  assert.equal(answers.length, pairs.length);
  let mismatches = 0;
  pairs.forEach(([a, b], i) => {
    const want = { lt: -1, eq: 0, gt: 1 }[answers[i] as 'lt' | 'eq' | 'gt'];
    const got = compareDpkg(a, b);
    if (got !== want) {
      mismatches++;
      assert.fail(`${a} vs ${b}: dpkg says ${answers[i]}, vouch says ${got}`);
    }
  });
  assert.equal(mismatches, 0);
});
