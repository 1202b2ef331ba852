/** purl helpers (syft/trivy spelling) and attached-vs-catalogue comparison. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apkPurl,
  debPurl,
  golangPurl,
  mavenPurl,
  normalizePurl,
  npmPurl,
  packageIdentity,
  parseDistroQualifier,
  parsePurl,
  pypiPurl,
  rpmPurl,
} from '../../src/core/packages/purl.js';
import { compareInventories } from '../../src/core/packages/compare.js';
import type { Package } from '../../src/core/packages/types.js';

test('OS purls carry arch and distro qualifiers as syft/trivy write them', () => {
  assert.equal(debPurl('bash', '5.2.15-2', { arch: 'amd64', distro: { id: 'debian', versionId: '12' } }), 'pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12');
  assert.equal(debPurl('libc6', '2.36-9', { arch: 'arm64', distro: { id: 'ubuntu', versionId: '22.04' }, upstream: 'glibc' }), 'pkg:deb/ubuntu/libc6@2.36-9?arch=arm64&distro=ubuntu-22.04&upstream=glibc');
  assert.equal(apkPurl('musl', '1.2.4-r2', { arch: 'x86_64', distro: { id: 'alpine', versionId: '3.18.4' } }), 'pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4');
  assert.equal(rpmPurl('bash', '5.1.8-6.el9', { arch: 'x86_64', epoch: 1, distro: { id: 'rhel', versionId: '9.3' } }), 'pkg:rpm/rhel/bash@5.1.8-6.el9?arch=x86_64&distro=rhel-9.3&epoch=1');
  assert.equal(rpmPurl('bash', '5.1', { epoch: 0 }), 'pkg:rpm/redhat/bash@5.1');
  assert.equal(debPurl('x', '1:2.0~rc1'), 'pkg:deb/debian/x@1:2.0~rc1');
});

test('language purls: npm scopes, pypi PEP 503 names, go module paths, maven', () => {
  assert.equal(npmPurl('@babel/core', '7.24.0'), 'pkg:npm/%40babel/core@7.24.0');
  assert.equal(npmPurl('lodash', '4.17.21'), 'pkg:npm/lodash@4.17.21');
  assert.equal(pypiPurl('Foo_Bar.baz', '1.0'), 'pkg:pypi/foo-bar-baz@1.0');
  assert.equal(golangPurl('github.com/spf13/cobra', 'v1.8.0'), 'pkg:golang/github.com/spf13/cobra@v1.8.0');
  // packageurl-js 2.0.1 throws a ReferenceError on this one; we build it by hand
  assert.equal(golangPurl('example.com/m', 'v1'), 'pkg:golang/example.com/m@v1');
  assert.equal(mavenPurl('org.apache.commons', 'commons-lang3', '3.14.0'), 'pkg:maven/org.apache.commons/commons-lang3@3.14.0');
});

test('parse never throws; normalise for comparison', () => {
  for (const bad of ['', 'pkg:', 'a-purl-1', 'pkg:golang/x@vbad', 42, null, 'pkg:npm/%E0%A4%A']) assert.equal(parsePurl(bad), null, String(bad));
  assert.equal(parsePurl('pkg:npm/%40a/b@1?x=y')?.namespace, '@a');
  assert.equal(normalizePurl('pkg:deb/debian/bash@5.2?arch=amd64&distro=debian-12'), 'pkg:deb/debian/bash@5.2');
  assert.equal(normalizePurl('pkg:pypi/Foo.Bar@1'), 'pkg:pypi/foo-bar@1');
  assert.equal(normalizePurl('pkg:PYPI/foo_bar@1', { version: false }), 'pkg:pypi/foo-bar');
  assert.equal(packageIdentity('deb', 'bash', 'pkg:deb/ubuntu/bash@1'), packageIdentity('deb', 'bash', 'pkg:deb/debian/bash@2'));
  assert.equal(packageIdentity('npm', '@a/b', null), packageIdentity('npm', 'b', 'pkg:npm/%40a/b@1'));
  assert.deepEqual(parseDistroQualifier('opensuse-leap-15.5'), { id: 'opensuse-leap', versionId: '15.5' });
  assert.deepEqual(parseDistroQualifier('debian-12'), { id: 'debian', versionId: '12' });
});

const pkg = (type: string, name: string, version: string, purl: string): Package => ({ type, name, version, purl, licenses: [], locations: [] });

test('compareInventories: purl without qualifiers first, then type + name', () => {
  const attached = [
    pkg('deb', 'bash', '5.2.15-2', 'pkg:deb/debian/bash@5.2.15-2?arch=amd64'),
    pkg('deb', 'libc6', '2.36-9', 'pkg:deb/debian/libc6@2.36-9'),
    pkg('npm', '@a/b', '1.0.0', 'pkg:npm/%40a/b@1.0.0'),
    pkg('npm', 'dup', '1.0.0', 'pkg:npm/dup@1.0.0'),
    pkg('npm', 'dup', '1.0.0', 'pkg:npm/dup@1.0.0'),
    pkg('pypi', 'Foo_Bar', '1', 'pkg:pypi/foo-bar@1'),
    pkg('npm', 'only-attached', '1', 'pkg:npm/only-attached@1'),
  ];
  const catalog = [
    pkg('deb', 'bash', '5.2.15-2', 'pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12'),
    pkg('deb', 'libc6', '2.36-9+deb12u4', 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?distro=debian-12'),
    pkg('npm', '@a/b', '1.0.0', 'pkg:npm/%40a/b@1.0.0'),
    pkg('npm', 'dup', '1.0.0', 'pkg:npm/dup@1.0.0'),
    pkg('pypi', 'foo.bar', '1', 'pkg:pypi/foo.bar@1'),
    pkg('rpm', 'only-catalog', '1', 'pkg:rpm/fedora/only-catalog@1'),
  ];
  const c = compareInventories(attached, catalog);
  assert.equal(c.matched, 4);
  assert.deepEqual(c.onlyInAttached.map((p) => p.name), ['dup', 'only-attached']);
  assert.deepEqual(c.onlyInCatalog.map((p) => p.name), ['only-catalog']);
  assert.deepEqual(c.versionMismatch, [
    { type: 'deb', name: 'libc6', attachedVersion: '2.36-9', catalogVersion: '2.36-9+deb12u4', attachedPurl: 'pkg:deb/debian/libc6@2.36-9', catalogPurl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?distro=debian-12' },
  ]);
  const same = compareInventories({ packages: catalog }, { packages: catalog });
  assert.deepEqual([same.onlyInAttached.length, same.onlyInCatalog.length, same.versionMismatch.length, same.matched], [0, 0, 0, catalog.length]);
});
