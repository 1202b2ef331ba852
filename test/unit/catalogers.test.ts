/**
 * Each cataloger on inputs in its real format: dpkg status stanzas as Debian 12
 * writes them, apk's installed db, rpm header blobs in a sqlite rpmdb with
 * rpm's schema, npm lockfiles v1–v3, Python core metadata, a Go ELF with a
 * Go ≥1.18 buildinfo section, jar/war archives with nested jars. Damaged
 * records come out as warnings naming the file and record; the rest still
 * comes out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { parseDpkgStatus, parseDebCopyright, dpkgCataloger, copyrightPackage } from '../../src/core/packages/catalog/dpkg.js';
import { parseApkInstalled } from '../../src/core/packages/catalog/apk.js';
import { parseRpmSqlite, parseRpmHeader, rpmCataloger, RPMTAG } from '../../src/core/packages/catalog/rpm.js';
import { isInstalledManifest, npmCataloger, parseInstalledManifest, parsePackageLock } from '../../src/core/packages/catalog/npm.js';
import { parsePythonMetadata, pythonCataloger } from '../../src/core/packages/catalog/python.js';
import { goCataloger, parseGoBinary } from '../../src/core/packages/catalog/golang.js';
import { javaCataloger, nameVersionFromFile } from '../../src/core/packages/catalog/java.js';
import { readZipDirectory } from '../../src/core/packages/catalog/zip.js';
import { osReleaseCataloger, parseOsRelease } from '../../src/core/packages/catalog/os-release.js';
import { purlOf } from '../../src/core/packages/catalog/assemble.js';
import type { FoundPackage, ParseResult } from '../../src/core/packages/catalog/types.js';
import { zip as zipArchive } from '../helpers/zip-writer.js';

const nv = (r: ParseResult): string[] => r.packages.map((p) => `${p.name}@${p.version}`);

// ---------------------------------------------------------------------------
// dpkg

const STATUS = `Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u15
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Pre-Depends: awk
Conffiles:
 /etc/debian_version da9f3e5a56d6162ea9d5feed57fbf349
 /etc/host.conf 4eb63731c9f5e30903ac4fc07a7fe3d6
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files, such as /etc/debian_version,
 .
 /etc/host.conf, /etc/issue, /etc/motd, /etc/profile, and others.

Package: libgcc-s1
Protected: yes
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 140
Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14+deb12u1
Depends: gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.35)
Description: GCC support library
Homepage: http://gcc.gnu.org/

Package: libgcc-s1
Status: install ok installed
Architecture: i386
Multi-Arch: same
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14+deb12u1
Description: GCC support library

Package: nano
Status: deinstall ok config-files
Architecture: amd64
Version: 7.2-1
Description: small, friendly text editor

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime
`;

test('dpkg: a Debian 12 status file: every installed package, epochs and multi-arch kept, config-files left out', () => {
  const r = parseDpkgStatus(STATUS, '/var/lib/dpkg/status');
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(nv(r), ['base-files@12.4+deb12u15', 'libgcc-s1@12.2.0-14+deb12u1', 'libgcc-s1@12.2.0-14+deb12u1', 'zlib1g@1:1.2.13.dfsg-1']);
  assert.deepEqual(r.packages[1]!.metadata, { arch: 'amd64', source: 'gcc-12', sourceVersion: '12.2.0-14', maintainer: 'Debian GCC Maintainers <debian-gcc@lists.debian.org>' });
  assert.equal(r.packages[2]!.metadata!.arch, 'i386');
  const distro = { id: 'debian', versionId: '12' };
  assert.equal(purlOf(r.packages[0]!, distro), 'pkg:deb/debian/base-files@12.4+deb12u15?arch=amd64&distro=debian-12');
  assert.equal(purlOf(r.packages[3]!, distro), 'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib');
  assert.equal(purlOf(r.packages[3]!, { id: 'ubuntu', versionId: '22.04' }), 'pkg:deb/ubuntu/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=ubuntu-22.04&upstream=zlib');
});

test('dpkg: a truncated status file and a garbled record give warnings naming the file and record; the rest comes out', () => {
  const garbled = STATUS.replace('Package: nano\n', 'Package: nano\nthis line is not a field\n');
  const cut = garbled.slice(0, garbled.indexOf('Version: 1:1.2.13'));
  const r = parseDpkgStatus(cut, '/var/lib/dpkg/status');
  assert.deepEqual(nv(r), ['base-files@12.4+deb12u15', 'libgcc-s1@12.2.0-14+deb12u1', 'libgcc-s1@12.2.0-14+deb12u1']);
  assert.equal(r.warnings.length, 2, r.warnings.join('\n'));
  assert.match(r.warnings[0]!, /^\/var\/lib\/dpkg\/status: record 4 \(line \d+\) \("nano"\): 1 malformed line/);
  assert.match(r.warnings[1]!, /^\/var\/lib\/dpkg\/status: record 5 \(line \d+\) \("zlib1g"\): no Version field; record skipped$/);
  // Binary garbage: no crash, warnings only.
  const junk = parseDpkgStatus('\u0000\u0001garbage\n\n\u00ff: x\n', '/var/lib/dpkg/status');
  assert.deepEqual(junk.packages, []);
  assert.ok(junk.warnings.length >= 1);
});

test('dpkg: distroless status.d files (one package each, .md5sums ignored) and machine-readable copyright licences', () => {
  assert.equal(dpkgCataloger.wants('/var/lib/dpkg/status.d/libc6', { size: 1, mode: 0o644 }), true);
  assert.equal(dpkgCataloger.wants('/var/lib/dpkg/status.d/libc6.md5sums', { size: 1, mode: 0o644 }), false);
  assert.equal(dpkgCataloger.wants('/var/lib/dpkg/status-old', { size: 1, mode: 0o644 }), false);
  const r = parseDpkgStatus('Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nMaintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n', '/var/lib/dpkg/status.d/tzdata');
  assert.deepEqual(nv(r), ['tzdata@2024a-0+deb12u1']);
  const copyright = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: zlib
Source: http://zlib.net/

Files: *
Copyright: 1995-2022 Jean-loup Gailly and Mark Adler
License: Zlib

Files: debian/*
Copyright: 2000-2023 Mark Brown
License: GPL-2+

License: Zlib
 This software is provided 'as-is', without any express or implied
 warranty.
`;
  assert.deepEqual(parseDebCopyright(copyright, '/usr/share/doc/zlib1g/copyright'), ['Zlib', 'GPL-2+']);
  assert.deepEqual(parseDebCopyright('This is the Debian prepackaged version of the GNU C Library.\n', 'x'), []);
  assert.equal(copyrightPackage('/usr/share/doc/zlib1g/copyright'), 'zlib1g');
  assert.equal(copyrightPackage('/usr/share/doc/zlib1g/examples/copyright'), null);
});

// ---------------------------------------------------------------------------
// apk

const APK = `C:Q1/OLXSl5ZrxLRX+UkYwJO4EpWPPBI=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1698690735
c:7a7ccfa7d3c8ef52b05b6a1ba1b4c8b56d8ac49d
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1wUkRFrlBF+GEbbjIyvbhpZh7kaE=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1M+Hn/Vh3vn1uZ0kq2BmzdpGGm8A=
P:libcrypto3
V:3.1.4-r1
A:x86_64
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
D:so:libc.musl-x86_64.so.1
F:lib
R:libcrypto.so.3

C:Q1trunc
P:busybox
A:x86_64
`;

test('apk: /lib/apk/db/installed records; a truncated last record is a warning', () => {
  const r = parseApkInstalled(APK, '/lib/apk/db/installed');
  assert.deepEqual(nv(r), ['musl@1.2.4-r2', 'libcrypto3@3.1.4-r1']);
  assert.deepEqual(r.packages[1]!.licenses, ['Apache-2.0']);
  assert.equal(r.packages[1]!.metadata!.source, 'openssl');
  assert.deepEqual(r.warnings, ['/lib/apk/db/installed: record 3 (line 33) ("busybox"): no V (version) field; record skipped']);
  assert.equal(purlOf(r.packages[1]!, { id: 'alpine', versionId: '3.18.4' }), 'pkg:apk/alpine/libcrypto3@3.1.4-r1?arch=x86_64&distro=alpine-3.18.4&upstream=openssl');
});

// ---------------------------------------------------------------------------
// rpm

/** An rpm header blob as rpmdb stores it: il, dl, index entries (tag, type, offset, count), data store. */
function rpmHeader(tags: Array<[number, 'string' | 'int32' | 'i18n', string | number]>): Buffer {
  const data: Buffer[] = [];
  const index: Buffer[] = [];
  let off = 0;
  // rpm's region tag comes first in real headers (HEADER_IMMUTABLE, BIN): readers must skip it.
  const region = Buffer.alloc(16);
  const entries: Array<[number, number, Buffer, number]> = [];
  for (const [tag, type, v] of tags) {
    if (type === 'int32') {
      const pad = (4 - (off % 4)) % 4;
      if (pad) data.push(Buffer.alloc(pad)), (off += pad);
      const b = Buffer.alloc(4);
      b.writeUInt32BE(v as number);
      entries.push([tag, 4, b, off]);
      data.push(b);
      off += 4;
    } else {
      const b = Buffer.from(`${v}\0`);
      entries.push([tag, type === 'string' ? 6 : 9, b, off]);
      data.push(b);
      off += b.length;
    }
  }
  const regionData = Buffer.alloc(16);
  region.writeUInt32BE(63, 0);
  region.writeUInt32BE(7, 4);
  region.writeUInt32BE(off, 8);
  region.writeUInt32BE(16, 12);
  data.push(regionData);
  off += 16;
  index.push(region);
  for (const [tag, type, , o] of entries) {
    const e = Buffer.alloc(16);
    e.writeUInt32BE(tag, 0);
    e.writeUInt32BE(type, 4);
    e.writeUInt32BE(o, 8);
    e.writeUInt32BE(1, 12);
    index.push(e);
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(index.length, 0);
  head.writeUInt32BE(off, 4);
  return Buffer.concat([head, ...index, ...data]);
}

const pkg = (name: string, version: string, release: string, arch: string, license: string, epoch?: number): Buffer =>
  rpmHeader([
    [RPMTAG.NAME, 'string', name],
    [RPMTAG.VERSION, 'string', version],
    [RPMTAG.RELEASE, 'string', release],
    ...(epoch !== undefined ? [[RPMTAG.EPOCH, 'int32', epoch] as [number, 'int32', number]] : []),
    [RPMTAG.SUMMARY, 'i18n', 'summary'],
    [RPMTAG.LICENSE, 'string', license],
    [RPMTAG.ARCH, 'string', arch],
    [RPMTAG.SOURCERPM, 'string', `${name}-${version}-${release}.src.rpm`],
    [RPMTAG.VENDOR, 'string', 'Red Hat, Inc.'],
  ]);

async function rpmdb(blobs: Buffer[]): Promise<Buffer> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  // The schema rpm 4.16+ creates (lib/backend/sqlite.c).
  db.run('CREATE TABLE IF NOT EXISTS Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
  db.run("CREATE TABLE IF NOT EXISTS 'Name' (key 'TEXT' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))");
  for (const b of blobs) db.run('INSERT INTO Packages (blob) VALUES (?)', [new Uint8Array(b)]);
  const out = Buffer.from(db.export());
  db.close();
  return out;
}

test('rpm: the sqlite rpmdb of RHEL/UBI 9: name, epoch:version-release, arch, licence; gpg-pubkey skipped', async () => {
  const bash = pkg('bash', '5.1.8', '6.el9_1', 'x86_64', 'GPLv3+');
  const h = parseRpmHeader(bash);
  assert.equal(h.get(RPMTAG.NAME), 'bash');
  const db = await rpmdb([bash, pkg('openssl-libs', '3.0.7', '27.el9', 'x86_64', 'ASL 2.0', 1), pkg('gpg-pubkey', 'fd431d51', '4ae0493b', '', 'pubkey')]);
  assert.equal(rpmCataloger.wants('/var/lib/rpm/rpmdb.sqlite', { size: db.length, mode: 0o644 }), true);
  assert.equal(rpmCataloger.wants('/usr/lib/sysimage/rpm/rpmdb.sqlite', { size: db.length, mode: 0o644 }), true);
  const r = await parseRpmSqlite(db, '/var/lib/rpm/rpmdb.sqlite');
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(nv(r), ['bash@5.1.8-6.el9_1', 'openssl-libs@1:3.0.7-27.el9']);
  assert.deepEqual(r.packages[1]!.licenses, ['ASL 2.0']);
  const distro = { id: 'rhel', versionId: '9.3' };
  assert.equal(purlOf(r.packages[1]!, distro), 'pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.3&epoch=1&upstream=openssl-libs-3.0.7-27.el9.src.rpm');
});

test('rpm: a real rpmdb.sqlite written by rpm 4.18 (WAL mode) gives what rpm -qa prints', async () => {
  const db = readFileSync(join(import.meta.dirname, '../fixtures/catalog/rpmdb.sqlite'));
  const r = await parseRpmSqlite(db, '/usr/lib/sysimage/rpm/rpmdb.sqlite');
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(
    r.packages.map((p) => `${p.name} ${p.version} ${p.metadata?.arch} ${p.licenses.join(',')}`),
    ['vouch-other 0.9-1 x86_64 GPL-2.0-or-later', 'vouch-hello 2:1.2.3-4.fc40 noarch MIT AND Apache-2.0'],
  );
  assert.equal(purlOf(r.packages[1]!, { id: 'fedora', versionId: '40' }), 'pkg:rpm/fedora/vouch-hello@1.2.3-4.fc40?arch=noarch&distro=fedora-40&epoch=2&upstream=vouch-hello-1.2.3-4.fc40.src.rpm');
});

test('rpm: a truncated header blob is a warning naming the record; Berkeley DB and ndb rpmdbs are reported, never silent', async () => {
  const good = pkg('bash', '5.1.8', '6.el9_1', 'x86_64', 'GPLv3+');
  const bad = pkg('glibc', '2.34', '83.el9', 'x86_64', 'LGPLv2+').subarray(0, 60);
  const r = await parseRpmSqlite(await rpmdb([bad, good]), '/var/lib/rpm/rpmdb.sqlite');
  assert.deepEqual(nv(r), ['bash@5.1.8-6.el9_1']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /^\/var\/lib\/rpm\/rpmdb\.sqlite: record hnum=1: header truncated/);
  const notDb = await parseRpmSqlite(Buffer.from('not sqlite at all, just text'.repeat(10)), '/var/lib/rpm/rpmdb.sqlite');
  assert.equal(notDb.packages.length, 0);
  assert.match(notDb.warnings[0]!, /not a readable sqlite rpmdb/);
  const entry = { size: 50 << 20, mode: 0o644 };
  assert.equal(rpmCataloger.wants('/var/lib/rpm/Packages', entry), false);
  assert.deepEqual(rpmCataloger.note!('/var/lib/rpm/Packages', entry)!.warnings, ['/var/lib/rpm/Packages: rpmdb format Berkeley DB not catalogued (only the sqlite rpmdb is read)']);
  assert.deepEqual(rpmCataloger.note!('/usr/lib/sysimage/rpm/Packages.db', entry)!.warnings, ['/usr/lib/sysimage/rpm/Packages.db: rpmdb format ndb not catalogued (only the sqlite rpmdb is read)']);
  assert.equal(rpmCataloger.note!('/var/lib/rpm/Name', entry), undefined);
});

// ---------------------------------------------------------------------------
// npm

test('npm: which package.json files are installed packages', () => {
  const yes = ['/app/node_modules/express/package.json', '/app/node_modules/@babel/core/package.json', '/usr/lib/node_modules/npm/node_modules/abbrev/package.json'];
  const no = ['/app/package.json', '/app/node_modules/express/lib/package.json', '/app/node_modules/@babel/package.json', '/app/node_modules/.bin/package.json'];
  for (const p of yes) assert.equal(isInstalledManifest(p), true, p);
  for (const p of no) assert.equal(isInstalledManifest(p), false, p);
  const e = { size: 10, mode: 0o644 };
  assert.equal(npmCataloger.wants('/app/package-lock.json', e), true);
  assert.equal(npmCataloger.wants('/app/node_modules/.package-lock.json', e), true);
  assert.equal(npmCataloger.wants('/app/node_modules/foo/package-lock.json', e), false);
});

test('npm: package-lock v1 (nested dependencies), v2 and v3 (packages); root, dev and links left out', () => {
  const v1 = JSON.stringify({
    name: 'app',
    version: '1.0.0',
    lockfileVersion: 1,
    requires: true,
    dependencies: {
      express: { version: '4.18.2', resolved: 'https://registry.npmjs.org/express/-/express-4.18.2.tgz', integrity: 'sha512-x', requires: { debug: '2.6.9' }, dependencies: { debug: { version: '2.6.9' } } },
      mocha: { version: '10.2.0', dev: true },
      'left-pad': { version: '1.3.0' },
    },
  });
  assert.deepEqual(nv(parsePackageLock(v1, '/app/package-lock.json')), ['express@4.18.2', 'debug@2.6.9', 'left-pad@1.3.0']);
  const packages = {
    '': { name: 'app', version: '1.0.0', workspaces: ['packages/*'] },
    'node_modules/express': { version: '4.18.2', license: 'MIT' },
    'node_modules/express/node_modules/debug': { version: '2.6.9', license: 'MIT' },
    'node_modules/@types/node': { version: '20.11.0', dev: true, license: 'MIT' },
    'node_modules/my-alias': { name: 'lodash', version: '4.17.21', license: 'MIT' },
    'node_modules/shared': { resolved: 'packages/shared', link: true },
    'packages/shared': { name: 'shared', version: '0.1.0' },
  };
  const v2 = JSON.stringify({ name: 'app', lockfileVersion: 2, packages, dependencies: { express: { version: '4.18.2' } } });
  const v3 = JSON.stringify({ name: 'app', lockfileVersion: 3, packages });
  for (const src of [v2, v3]) {
    const r = parsePackageLock(src, '/app/package-lock.json');
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(nv(r), ['express@4.18.2', 'debug@2.6.9', 'lodash@4.17.21']);
    assert.deepEqual(r.packages[0]!.licenses, ['MIT']);
  }
  const broken = parsePackageLock('{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0"}, "node_modules/b": {}, "node_modules/c": 7}}', '/app/package-lock.json');
  assert.deepEqual(nv(broken), ['a@1.0.0']);
  assert.deepEqual(broken.warnings, ['/app/package-lock.json: packages["node_modules/b"]: no version; entry skipped', '/app/package-lock.json: packages["node_modules/c"]: not an object; entry skipped']);
  assert.match(parsePackageLock('{"lockfileVersion": 3, "packa', '/app/package-lock.json').warnings[0]!, /^\/app\/package-lock\.json: not valid JSON/);
});

test('npm: installed package.json, licence spellings, purls of scoped packages', () => {
  const r = parseInstalledManifest(JSON.stringify({ name: '@babel/core', version: '7.23.0', license: 'MIT', author: { name: 'The Babel Team' } }), '/app/node_modules/@babel/core/package.json');
  assert.deepEqual(nv(r), ['@babel/core@7.23.0']);
  assert.equal(purlOf(r.packages[0]!, null), 'pkg:npm/%40babel/core@7.23.0');
  assert.deepEqual(parseInstalledManifest(JSON.stringify({ name: 'old', version: '0.1.0', licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] }), 'x').packages[0]!.licenses, ['MIT', 'Apache-2.0']);
  assert.deepEqual(parseInstalledManifest('{"type": "module"}', 'x'), { packages: [], warnings: [] });
  assert.match(parseInstalledManifest('{"name": "x", ', '/app/node_modules/x/package.json').warnings[0]!, /^\/app\/node_modules\/x\/package\.json: not valid JSON/);
});

// ---------------------------------------------------------------------------
// python

test('python: dist-info METADATA and egg-info PKG-INFO; licence from License-Expression, License, or classifiers', () => {
  const e = { size: 10, mode: 0o644 };
  assert.equal(pythonCataloger.wants('/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA', e), true);
  assert.equal(pythonCataloger.wants('/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO', e), true);
  assert.equal(pythonCataloger.wants('/usr/lib/python3.11/lib-dynload/python_apt-2.6.0.egg-info', e), true);
  assert.equal(pythonCataloger.wants('/usr/lib/python3/dist-packages/foo/METADATA', e), false);
  const meta = `Metadata-Version: 2.1
Name: requests
Version: 2.31.0
Summary: Python HTTP for Humans.
Home-page: https://requests.readthedocs.io
Author: Kenneth Reitz
Author-email: me@kennethreitz.org
License: Apache 2.0
Classifier: Development Status :: 5 - Production/Stable
Classifier: License :: OSI Approved :: Apache Software License
Requires-Python: >=3.7
Description-Content-Type: text/markdown
Requires-Dist: charset-normalizer (<4,>=2)

# Requests

License: this line is the description, not a header
`;
  const r = parsePythonMetadata(meta, '/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA');
  assert.deepEqual(nv(r), ['requests@2.31.0']);
  assert.deepEqual(r.packages[0]!.licenses, ['Apache 2.0']);
  const cls = parsePythonMetadata('Metadata-Version: 1.1\nName: Six\nVersion: 1.16.0\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n', 'x');
  assert.deepEqual(cls.packages[0]!.licenses, ['MIT License']);
  const pep639 = parsePythonMetadata('Metadata-Version: 2.4\nName: Zope_Interface\nVersion: 6.1\nLicense-Expression: ZPL-2.1\n', 'x');
  assert.deepEqual(pep639.packages[0]!.licenses, ['ZPL-2.1']);
  assert.equal(purlOf(pep639.packages[0]!, null), 'pkg:pypi/zope-interface@6.1');
  const trunc = parsePythonMetadata('Metadata-Version: 2.1\nName: broken\n', '/x.dist-info/METADATA');
  assert.deepEqual(trunc, { packages: [], warnings: ['/x.dist-info/METADATA: no Version field in the metadata header; package skipped'] });
});

// ---------------------------------------------------------------------------
// go

/** modinfo exactly as cmd/go embeds it: 16-byte sentinels around the text. */
function modinfo(text: string): string {
  const start = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex').toString('latin1');
  const end = Buffer.from('f932433186182072008242104116d8f2', 'hex').toString('latin1');
  return start + text + end;
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A buildinfo blob in the Go ≥1.18 inline format. */
function buildInfoBlob(goVersion: string, mod: string, flags = 0x2): Buffer {
  const head = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(head);
  head[14] = 8;
  head[15] = flags;
  const v = Buffer.from(goVersion);
  const m = Buffer.from(mod, 'latin1');
  return Buffer.concat([head, uvarint(v.length), v, uvarint(m.length), m]);
}

/** A minimal ELF64 little-endian file: sections null, .text, .go.buildinfo, .shstrtab. */
function elfWith(blob: Buffer, withSections = true): Buffer {
  const text = Buffer.alloc(4096, 0x90);
  const shstr = Buffer.from('\0.text\0.go.buildinfo\0.shstrtab\0', 'latin1');
  const textOff = 64;
  // The blob is 16-byte aligned in the file, as the linker aligns the section.
  const biOff = textOff + text.length;
  const strOff = biOff + blob.length;
  const shoff = Math.ceil((strOff + shstr.length) / 8) * 8;
  const shnum = 4;
  const out = Buffer.alloc(shoff + (withSections ? shnum * 64 : 0));
  out.write('\x7fELF', 0, 'latin1');
  out[4] = 2; // 64-bit
  out[5] = 1; // little-endian
  out[6] = 1;
  out.writeUInt16LE(2, 16); // ET_EXEC
  out.writeUInt16LE(62, 18); // x86-64
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(BigInt(withSections ? shoff : 0), 0x28);
  out.writeUInt16LE(64, 0x34);
  out.writeUInt16LE(64, 0x3a);
  out.writeUInt16LE(withSections ? shnum : 0, 0x3c);
  out.writeUInt16LE(withSections ? 3 : 0, 0x3e);
  text.copy(out, textOff);
  blob.copy(out, biOff);
  shstr.copy(out, strOff);
  if (withSections) {
    const sec = (i: number, name: number, type: number, off: number, size: number): void => {
      const o = shoff + i * 64;
      out.writeUInt32LE(name, o);
      out.writeUInt32LE(type, o + 4);
      out.writeBigUInt64LE(BigInt(off), o + 24);
      out.writeBigUInt64LE(BigInt(size), o + 32);
    };
    sec(1, 1, 1, textOff, text.length);
    sec(2, 7, 1, biOff, blob.length);
    sec(3, 21, 3, strOff, shstr.length);
  }
  return out;
}

const MODINFO = [
  'path\tgithub.com/example/hello',
  'mod\tgithub.com/example/hello\t(devel)\t',
  'dep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=',
  'dep\tgolang.org/x/text\tv0.14.0\th1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=',
  'dep\tgithub.com/old/lib\tv1.0.0',
  '=>\tgithub.com/fork/lib\tv1.0.1\th1:abc=',
  'build\t-buildmode=exe',
  'build\t-compiler=gc',
  'build\tCGO_ENABLED=0',
  'build\tGOARCH=amd64',
  'build\tGOOS=linux',
  '',
].join('\n');

test('go: an ELF with a Go ≥1.18 .go.buildinfo section: main module, deps (replacements applied), stdlib', () => {
  const elf = elfWith(buildInfoBlob('go1.22.1', modinfo(MODINFO)));
  assert.equal(goCataloger.wants('/usr/local/bin/hello', { size: 2 << 20, mode: 0o755 }), true);
  assert.equal(goCataloger.wants('/usr/local/bin/hello', { size: 2 << 20, mode: 0o644 }), false);
  assert.equal(goCataloger.wants('/usr/local/bin/run.sh', { size: 2 << 20, mode: 0o755 }), false);
  for (const p of ['/usr/local/bin/node', '/usr/bin/python3.11', '/usr/lib/x86_64-linux-gnu/libLLVM-15.so.1', '/usr/bin/perl5.36.0']) assert.equal(goCataloger.wants(p, { size: 2 << 20, mode: 0o755 }), false, p);
  for (const p of ['/usr/bin/dockerd', '/ko-app/server', '/usr/local/bin/kubectl', '/usr/bin/nodeexporter']) assert.equal(goCataloger.wants(p, { size: 2 << 20, mode: 0o755 }), true, p);
  const r = parseGoBinary(elf, '/usr/local/bin/hello');
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(nv(r), ['github.com/example/hello@(devel)', 'github.com/google/uuid@v1.6.0', 'golang.org/x/text@v0.14.0', 'github.com/fork/lib@v1.0.1', 'stdlib@go1.22.1']);
  assert.equal(r.packages[3]!.metadata!.replaces, 'github.com/old/lib@v1.0.0');
  assert.equal(purlOf(r.packages[1]!, null), 'pkg:golang/github.com/google/uuid@v1.6.0');
  assert.equal(purlOf(r.packages[0]!, null), 'pkg:golang/github.com/example/hello');
  assert.equal(purlOf(r.packages[4]!, null), 'pkg:golang/stdlib@1.22.1');
  // Without section headers, the blob is found by its magic at a 16-byte boundary.
  assert.deepEqual(nv(parseGoBinary(elfWith(buildInfoBlob('go1.22.1', modinfo(MODINFO)), false), '/x')), nv(r));
});

test('go: pre-1.18 pointer format and truncated build info are warnings; non-Go ELFs and non-ELFs are silent', () => {
  const old = parseGoBinary(elfWith(buildInfoBlob('go1.16', '', 0x0)), '/usr/bin/old');
  assert.deepEqual(old, { packages: [], warnings: ['/usr/bin/old: Go binary built before Go 1.18 (pointer-format build info); modules not catalogued'] });
  const blob = buildInfoBlob('go1.22.1', modinfo(MODINFO));
  const cut = blob.subarray(0, blob.length - 200);
  const t = parseGoBinary(elfWith(cut), '/usr/bin/cut');
  assert.equal(t.packages.length, 0);
  assert.match(t.warnings[0]!, /^\/usr\/bin\/cut: Go build info unreadable: buildinfo module info truncated/);
  assert.deepEqual(parseGoBinary(elfWith(Buffer.alloc(64)), '/usr/bin/c'), { packages: [], warnings: [] });
  assert.deepEqual(parseGoBinary(Buffer.from('#!/bin/sh\necho hi\n'.repeat(100)), '/usr/bin/s'), { packages: [], warnings: [] });
});

// ---------------------------------------------------------------------------
// java

/** A zip archive (deflated or stored entries) with a central directory, as `jar` writes it. */
function zip(files: Array<[string, Buffer | string, 'deflate' | 'store']>, prefix = Buffer.alloc(0)): Buffer {
  return zipArchive(files.map(([name, content, how]) => ({ name, data: Buffer.isBuffer(content) ? content : Buffer.from(content), deflate: how === 'deflate' })), prefix);
}

const pomProps = (g: string, a: string, v: string): string => `#Generated by Maven\n#Tue Feb 06 10:00:00 UTC 2024\nartifactId=${a}\ngroupId=${g}\nversion=${v}\n`;

test('java: a war with nested jars: pom.properties per package, the manifest for jars without one, virtual paths', () => {
  const commons = zip([
    ['META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt\r\nImplementation-Version: 3.12.0\r\n\r\n', 'deflate'],
    ['META-INF/maven/org.apache.commons/commons-lang3/pom.properties', pomProps('org.apache.commons', 'commons-lang3', '3.12.0'), 'deflate'],
    ['org/apache/commons/lang3/StringUtils.class', Buffer.alloc(2000, 0xca), 'deflate'],
  ]);
  const guava = zip([
    ['META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\nBundle-SymbolicName: com.google.guava\nBundle-Version: 32.1.3.jre\nImplementation-Vendor-Id: com.google.guava\nImplemen\n tation-Title: Guava\n\nName: com/google/\nImplementation-Version: 0\n', 'deflate'],
  ]);
  const war = zip([
    ['META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\n', 'deflate'],
    ['META-INF/maven/com.example/shop/pom.properties', pomProps('com.example', 'shop', '1.4.0'), 'deflate'],
    ['WEB-INF/lib/commons-lang3-3.12.0.jar', commons, 'store'],
    ['WEB-INF/lib/guava-32.1.3-jre.jar', guava, 'deflate'],
    ['WEB-INF/classes/App.class', Buffer.alloc(100), 'store'],
  ]);
  assert.equal(javaCataloger.wants('/app/shop.war', { size: war.length, mode: 0o644 }), true);
  const r = javaCataloger.parse('/app/shop.war', war, 'sha256:x') as ParseResult;
  assert.deepEqual(r.warnings, []);
  const byName = (n: string): FoundPackage => r.packages.find((p) => p.name === n)!;
  assert.deepEqual(nv(r).sort(), ['commons-lang3@3.12.0', 'guava@32.1.3.jre', 'shop@1.4.0']);
  assert.deepEqual(byName('commons-lang3').metadata, { groupId: 'org.apache.commons', virtualPath: '/app/shop.war:WEB-INF/lib/commons-lang3-3.12.0.jar' });
  assert.deepEqual(byName('commons-lang3').licenses, ['https://www.apache.org/licenses/LICENSE-2.0.txt']);
  assert.equal(byName('guava').metadata!.groupId, 'com.google.guava');
  assert.equal(purlOf(byName('commons-lang3'), null), 'pkg:maven/org.apache.commons/commons-lang3@3.12.0');
  assert.equal(purlOf(byName('shop'), null), 'pkg:maven/com.example/shop@1.4.0');
  assert.deepEqual(nameVersionFromFile('jackson-databind-2.15.2.jar'), { name: 'jackson-databind', version: '2.15.2' });
});

test('java: launcher-prefixed jars are read; a truncated archive is a warning naming it', () => {
  const jar = zip([['META-INF/maven/io.x/tool/pom.properties', pomProps('io.x', 'tool', '2.0.0'), 'deflate']], Buffer.from('#!/bin/sh\nexec java -jar "$0" "$@"\n'));
  assert.equal(readZipDirectory(jar).length, 1);
  assert.deepEqual(nv(javaCataloger.parse('/usr/bin/tool.jar', jar, 'l') as ParseResult), ['tool@2.0.0']);
  const cut = javaCataloger.parse('/opt/app.jar', jar.subarray(0, jar.length - 30), 'l') as ParseResult;
  assert.deepEqual(cut.packages, []);
  assert.match(cut.warnings[0]!, /^\/opt\/app\.jar: archive "\/opt\/app\.jar" unreadable: /);
});

// ---------------------------------------------------------------------------
// os-release

test('os-release: quoted values and escapes', () => {
  const src = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n# comment\nX="a \\"q\\" b"\n';
  assert.deepEqual(parseOsRelease(src).X, 'a "q" b');
  const r = osReleaseCataloger.parse('/etc/os-release', Buffer.from(src), 'l') as ParseResult;
  assert.deepEqual(r.distro, { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
});
