/**
 * Package databases, each through its cataloger's parse (the contract: never
 * throw for bad content, return warnings naming the file instead): dpkg status
 * and copyright, apk installed, the sqlite rpmdb (small databases generated with
 * sql.js, and the real fixture) and rpm header blobs, npm package.json and
 * lockfiles, Python METADATA / PKG-INFO, Go build info in ELF binaries, Java
 * archives (MANIFEST.MF, pom.properties, nested jars), os-release.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import initSqlJs from 'sql.js';
import type { Cataloger, ParseResult } from '../../../src/core/packages/catalog/types.js';
import { apkCataloger } from '../../../src/core/packages/catalog/apk.js';
import { dpkgCataloger, debCopyrightCataloger } from '../../../src/core/packages/catalog/dpkg.js';
import { goCataloger } from '../../../src/core/packages/catalog/golang.js';
import { javaCataloger } from '../../../src/core/packages/catalog/java.js';
import { npmCataloger } from '../../../src/core/packages/catalog/npm.js';
import { osReleaseCataloger } from '../../../src/core/packages/catalog/os-release.js';
import { pythonCataloger } from '../../../src/core/packages/catalog/python.js';
import { RPMTAG, parseRpmHeader, rpmCataloger } from '../../../src/core/packages/catalog/rpm.js';
import { fuzzTarget, showBytes } from '../harness.js';
import { mutateBytes, mutateJson, mutateString } from '../mutate.js';
import { buildInfoBlob, elfWith, rpmHeader, zip } from '../binaries.js';

const word = fc.stringMatching(/^[a-z][a-z0-9+.-]{0,12}$/);
const version = fc.oneof(fc.stringMatching(/^\d{1,3}(\.\d{1,3}){0,3}(-r\d|-\d+ubuntu\d)?$/), fc.constantFrom('1:2.3-4', '', '0.0.0-dev', 'v1.2.3'));
const licence = fc.constantFrom('MIT', 'Apache-2.0', 'GPL-2.0-or-later AND MIT', 'BSD', 'UNKNOWN', '');
const junkLine = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(' continuation', '\t', ':', 'Key:', ' .', '\r', '\u0000'));

interface FileCase {
  path: string;
  data: Uint8Array;
}

function checkResult(r: ParseResult): void {
  // What the assembly relies on: strings where strings are expected.
  if (!Array.isArray(r.packages) || !Array.isArray(r.warnings)) throw new Error('parse returned no packages/warnings arrays');
  for (const p of r.packages) {
    if (typeof p.name !== 'string' || typeof p.version !== 'string' || !Array.isArray(p.licenses) || p.licenses.some((l) => typeof l !== 'string')) {
      throw new Error(`malformed package ${JSON.stringify(p)}`);
    }
    for (const v of Object.values(p.metadata ?? {})) if (typeof v !== 'string') throw new Error(`non-string metadata in ${JSON.stringify(p)}`);
  }
  for (const w of r.warnings) if (typeof w !== 'string') throw new Error('non-string warning');
}

/** Text documents: generated valid, a line-level edit, characters mutated, cut short, or raw bytes. */
function textCase(paths: string[], valid: fc.Arbitrary<string>): fc.Arbitrary<FileCase> {
  const lines = valid.chain((t) =>
    fc.array(fc.tuple(fc.nat(), fc.option(junkLine, { nil: undefined })), { maxLength: 3 }).map((edits) => {
      const ls = t.split('\n');
      for (const [at, l] of edits) {
        const i = at % (ls.length + 1);
        if (l === undefined) ls.splice(i, 1);
        else ls.splice(i, 0, l);
      }
      return ls.join('\n');
    }),
  );
  const data = fc.oneof(
    { weight: 2, arbitrary: valid.map((t) => Buffer.from(t)) },
    { weight: 2, arbitrary: lines.map((t) => Buffer.from(t)) },
    { weight: 1, arbitrary: mutateString(valid).map((t) => Buffer.from(t)) },
    { weight: 1, arbitrary: mutateBytes(valid.map((t) => Buffer.from(t))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }) },
  );
  return fc.record({ path: fc.constantFrom(...paths), data });
}

function catalogerTarget(name: string, cataloger: Cataloger, entry: string, arbitrary: fc.Arbitrary<FileCase>, ciRuns: number) {
  return fuzzTarget({
    name,
    entry,
    arbitrary,
    run: async (c: FileCase) => checkResult(await cataloger.parse(c.path, Buffer.from(c.data), 'sha256:' + '0'.repeat(64))),
    // The cataloger contract: bad content is a warning, never a throw.
    isExpectedError: () => false,
    ciRuns,
    show: (c) => `path ${JSON.stringify(c.path)}, ${showBytes(c.data)} (${JSON.stringify(Buffer.from(c.data).toString('latin1').slice(0, 2000))})`,
  });
}

// ---- dpkg

const dpkgPara = fc
  .record({ name: word, version, arch: fc.constantFrom('amd64', 'all', 'arm64'), source: fc.option(fc.tuple(word, fc.option(version, { nil: undefined })), { nil: undefined }), status: fc.constantFrom('install ok installed', 'deinstall ok config-files', 'install ok half-installed'), desc: fc.array(word, { maxLength: 3 }) })
  .map((p) =>
    [
      `Package: ${p.name}`,
      `Status: ${p.status}`,
      `Architecture: ${p.arch}`,
      ...(p.source ? [`Source: ${p.source[0]}${p.source[1] ? ` (${p.source[1]})` : ''}`] : []),
      `Version: ${p.version}`,
      `Description: ${p.desc[0] ?? ''}`,
      ...p.desc.slice(1).map((d) => ` ${d}`),
    ].join('\n'),
  );
const dpkgStatus = fc.array(dpkgPara, { maxLength: 5 }).map((ps) => ps.join('\n\n') + '\n');
const copyright = fc
  .array(fc.tuple(fc.constantFrom('*', 'debian/*', 'src/x.c'), licence), { maxLength: 4 })
  .map((fs) => ['Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/', '', ...fs.flatMap(([f, l]) => [`Files: ${f}`, `Copyright: 2020 someone`, `License: ${l}`, ''])].join('\n'));

export const dpkg = catalogerTarget('dpkg-status', dpkgCataloger, 'catalog/dpkg.ts parseDpkgStatus', textCase(['/var/lib/dpkg/status', '/var/lib/dpkg/status.d/foo'], dpkgStatus), 600);
export const debCopyright = catalogerTarget('deb-copyright', debCopyrightCataloger, 'catalog/dpkg.ts parseDebCopyright', textCase(['/usr/share/doc/foo/copyright'], copyright), 400);

// ---- apk

const apkRecord = fc
  .record({ name: word, version, arch: fc.constantFrom('x86_64', 'aarch64', 'noarch'), lic: licence, origin: word, commit: fc.stringMatching(/^[0-9a-f]{40}$/) })
  .map((p) => [`C:Q1${Buffer.from(p.commit, 'hex').toString('base64')}`, `P:${p.name}`, `V:${p.version}`, `A:${p.arch}`, `L:${p.lic}`, `o:${p.origin}`, `c:${p.commit}`, 'F:usr/bin', 'R:x'].join('\n'));
const apkDb = fc.array(apkRecord, { maxLength: 5 }).map((rs) => rs.join('\n\n') + '\n');
export const apk = catalogerTarget('apk-installed', apkCataloger, 'catalog/apk.ts parseApkInstalled', textCase(['/lib/apk/db/installed'], apkDb), 600);

// ---- python

const pyMeta = fc
  .record({ mv: fc.constantFrom('1.0', '2.1', '2.3', '2.4'), name: word, version, lic: fc.option(licence, { nil: undefined }), expr: fc.option(licence, { nil: undefined }), classifiers: fc.array(fc.constantFrom('License :: OSI Approved :: MIT License', 'License :: OSI Approved', 'Programming Language :: Python'), { maxLength: 3 }), body: fc.string({ maxLength: 40 }) })
  .map((m) =>
    [
      `Metadata-Version: ${m.mv}`,
      `Name: ${m.name}`,
      `Version: ${m.version}`,
      ...(m.lic !== undefined ? [`License: ${m.lic}`, '        continued licence text'] : []),
      ...(m.expr !== undefined ? [`License-Expression: ${m.expr}`] : []),
      ...m.classifiers.map((c) => `Classifier: ${c}`),
      '',
      m.body,
    ].join('\n'),
  );
export const python = catalogerTarget(
  'python-metadata',
  pythonCataloger,
  'catalog/python.ts parsePythonMetadata',
  textCase(['/usr/lib/python3/site-packages/x-1.0.dist-info/METADATA', '/usr/lib/python3/site-packages/x.egg-info/PKG-INFO', '/usr/lib/python3/site-packages/x.egg-info'], pyMeta),
  600,
);

// ---- os-release

const osRelease = fc
  .record({ id: word, v: version, pretty: fc.string({ maxLength: 20 }), quote: fc.constantFrom('"', "'", '') })
  .map((o) => [`ID=${o.id}`, `VERSION_ID=${o.quote}${o.v}${o.quote}`, `PRETTY_NAME="${o.pretty.replace(/"/g, '\\"')}"`, '# comment', 'ID_LIKE="debian"'].join('\n'));
export const osReleaseTarget = catalogerTarget('os-release', osReleaseCataloger, 'catalog/os-release.ts parseOsRelease', textCase(['/etc/os-release', '/usr/lib/os-release'], osRelease), 400);

// ---- npm

const npmLicence = fc.oneof(licence, licence.map((type) => ({ type })), fc.constant(['MIT']));
const pkgJson = fc.record({ name: fc.oneof(word, word.map((w) => `@scope/${w}`)), version, license: npmLicence, licenses: fc.array(licence.map((type) => ({ type })), { maxLength: 2 }) }, { requiredKeys: ['name', 'version'] });
const lockEntry = fc.record({ version, resolved: fc.constant('https://registry.npmjs.org/x/-/x-1.0.0.tgz'), integrity: fc.constant('sha512-AAAA'), license: npmLicence, dev: fc.boolean(), link: fc.boolean() }, { requiredKeys: ['version'] });
const lockfile = fc
  .record({ v: fc.constantFrom(1, 2, 3), name: word, entries: fc.array(fc.tuple(word, lockEntry, fc.boolean()), { maxLength: 5 }) })
  .map(({ v, name, entries }) => ({
    name,
    version: '1.0.0',
    lockfileVersion: v,
    ...(v >= 2 ? { packages: { '': { name, version: '1.0.0' }, ...Object.fromEntries(entries.map(([n, e, nested]) => [nested ? `node_modules/a/node_modules/${n}` : `node_modules/${n}`, e])) } } : {}),
    ...(v <= 2 ? { dependencies: Object.fromEntries(entries.map(([n, e]) => [n, { ...e, dependencies: { [n]: { version: e.version } } }])) } : {}),
  }));
const npmCase: fc.Arbitrary<FileCase> = fc.oneof(
  fc.record({ path: fc.constantFrom('/app/node_modules/x/package.json', '/app/node_modules/@s/x/package.json'), doc: fc.oneof(pkgJson, mutateJson(pkgJson)) }).map(({ path, doc }) => ({ path, data: Buffer.from(JSON.stringify(doc) ?? 'null') })),
  fc.record({ path: fc.constantFrom('/app/package-lock.json', '/app/npm-shrinkwrap.json', '/app/node_modules/.package-lock.json'), doc: fc.oneof(lockfile, mutateJson(lockfile), mutateJson(mutateJson(lockfile))) }).map(({ path, doc }) => ({ path, data: Buffer.from(JSON.stringify(doc) ?? 'null') })),
  textCase(['/app/package-lock.json', '/app/node_modules/x/package.json'], lockfile.map((l) => JSON.stringify(l, null, 2))),
);
export const npm = catalogerTarget('npm', npmCataloger, 'catalog/npm.ts parseInstalledManifest, parsePackageLock', npmCase, 600);

// ---- Go build info

const modLine = fc.oneof(
  fc.tuple(word, version).map(([p, v]) => `dep\tgithub.com/x/${p}\tv${v}\th1:abc=`),
  fc.tuple(word, version).map(([p, v]) => `=>\tgithub.com/y/${p}\tv${v}\t`),
  fc.constantFrom('build\t-compiler=gc', 'build\tCGO_ENABLED=0', 'build\tvcs.revision=abc', 'dep\tonly-path', '=>\t'),
);
const modinfo = fc
  .tuple(word, fc.option(version, { nil: undefined }), fc.array(modLine, { maxLength: 5 }))
  .map(([p, v, lines]) => [`path\texample.com/${p}`, ...(v !== undefined ? [`mod\texample.com/${p}\tv${v}\th1:xyz=`] : []), ...lines].join('\n') + '\n');
const goBinary = fc
  .record({ go: fc.constantFrom('go1.21.5', 'go1.22.0 X:boringcrypto', 'devel +abc', ''), mod: modinfo, sentinels: fc.boolean(), flags: fc.constantFrom(0x2, 0x0, 0x3), sections: fc.boolean(), be: fc.boolean() })
  .map((g) => {
    const sentinel = '0123456789abcdef';
    const mod = g.sentinels ? `${sentinel}${g.mod}${sentinel}` : g.mod;
    return elfWith(buildInfoBlob(g.go, mod, g.flags), g.sections, g.be);
  });
export const golang = catalogerTarget(
  'go-buildinfo',
  goCataloger,
  'catalog/golang.ts findBuildInfoBlob, elfSection, decodeBuildInfo, parseGoBinary',
  fc.record({ path: fc.constant('/usr/local/bin/app'), data: fc.oneof(goBinary, mutateBytes(goBinary), fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), b]))) }),
  600,
);

// ---- Java archives

const manifestMf = fc
  .record({ title: word, version, vendor: word, extra: fc.array(fc.constantFrom('Created-By: 17 (Oracle)', ' continued', 'Bundle-SymbolicName: x.y', 'Main-Class: a.B'), { maxLength: 2 }) })
  .map((m) => [`Manifest-Version: 1.0`, `Implementation-Title: ${m.title}`, `Implementation-Version: ${m.version}`, `Implementation-Vendor: ${m.vendor}`, ...m.extra, ''].join('\r\n'));
const pomProps = fc.record({ g: word, a: word, v: version }).map((p) => `#Generated\ngroupId=${p.g}\nartifactId=${p.a}\nversion=${p.v}\n`);
const jarFiles = fc.record({ mf: fc.option(manifestMf, { nil: undefined }), poms: fc.array(fc.tuple(word, word, pomProps), { maxLength: 2 }), deflate: fc.boolean() }).map(({ mf, poms, deflate }) => [
  ...(mf !== undefined ? [{ name: 'META-INF/MANIFEST.MF', data: Buffer.from(mf), deflate }] : []),
  ...poms.map(([g, a, p]) => ({ name: `META-INF/maven/${g}/${a}/pom.properties`, data: Buffer.from(p), deflate })),
  { name: 'a/B.class', data: Buffer.from('cafebabe', 'hex'), deflate },
]);
const jar = fc
  .record({ outer: jarFiles, inner: fc.array(jarFiles, { maxLength: 2 }), prefix: fc.boolean() })
  .map(({ outer, inner, prefix }) => zip([...outer, ...inner.map((f, i) => ({ name: `BOOT-INF/lib/inner-${i}.jar`, data: zip(f), deflate: i % 2 === 0 }))], prefix ? Buffer.from('#!/bin/sh\nexec java -jar "$0"\n') : Buffer.alloc(0)));
export const java = catalogerTarget(
  'java-archive',
  javaCataloger,
  'catalog/java.ts readArchive → catalog/zip.ts readZipDirectory, readZipEntry; parseManifest, parseProperties',
  fc.record({ path: fc.constantFrom('/app/app-1.2.3.jar', '/opt/x.war', '/plugins/p.hpi'), data: fc.oneof(jar, mutateBytes(jar), mutateBytes(mutateBytes(jar)), fc.uint8Array({ maxLength: 512 })) }),
  300,
);

// ---- rpm

const rpmTags = fc
  .record({ name: word, version, release: fc.option(word, { nil: undefined }), epoch: fc.option(fc.nat({ max: 5 }), { nil: undefined }), arch: fc.constantFrom('x86_64', 'noarch'), license: licence, src: fc.option(word.map((w) => `${w}-1.src.rpm`), { nil: undefined }), vendor: fc.option(word, { nil: undefined }) })
  .map((r) => [
    { tag: RPMTAG.NAME, value: r.name },
    { tag: RPMTAG.VERSION, value: r.version },
    ...(r.release !== undefined ? [{ tag: RPMTAG.RELEASE, value: r.release }] : []),
    ...(r.epoch !== undefined ? [{ tag: RPMTAG.EPOCH, value: r.epoch }] : []),
    { tag: RPMTAG.ARCH, value: r.arch },
    { tag: RPMTAG.LICENSE, value: r.license },
    ...(r.src !== undefined ? [{ tag: RPMTAG.SOURCERPM, value: r.src }] : []),
    ...(r.vendor !== undefined ? [{ tag: RPMTAG.VENDOR, value: r.vendor }] : []),
    { tag: 5000, value: 'ignored' },
  ]);
const headerBlob = rpmTags.map(rpmHeader);

export const rpmHeaderTarget = fuzzTarget({
  name: 'rpm-header',
  entry: 'catalog/rpm.ts parseRpmHeader (throws a short Error by design; parseRpmSqlite turns it into a warning)',
  arbitrary: fc.oneof(headerBlob, mutateBytes(headerBlob), fc.uint8Array({ maxLength: 512 })),
  run: (b: Uint8Array) => parseRpmHeader(Buffer.from(b)),
  // Its contract is "a short message for anything malformed": a plain Error with a one-line message.
  isExpectedError: (e) => e instanceof Error && e.constructor === Error,
  ciRuns: 2000,
  show: showBytes,
});

const SQL = await initSqlJs();
const realRpmdb = readFileSync(fileURLToPath(new URL('../../fixtures/catalog/rpmdb.sqlite', import.meta.url)));

/** A small sqlite rpmdb: the Packages table rpm 4.16+ writes, with generated (maybe damaged) header blobs. */
const generatedRpmdb = fc
  .record({ blobs: fc.array(fc.oneof(headerBlob, mutateBytes(headerBlob), fc.constant(null)), { maxLength: 4 }), table: fc.constantFrom('Packages', 'Packages', 'Other'), blobType: fc.constantFrom('BLOB', 'TEXT', 'INTEGER') })
  .map(({ blobs, table, blobType }) => {
    const db = new SQL.Database();
    try {
      db.run(`CREATE TABLE ${table} (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob ${blobType} NOT NULL DEFAULT x'')`);
      blobs.forEach((b, i) => db.run(`INSERT INTO ${table} (hnum, blob) VALUES (?, ?)`, [i + 1, b === null ? 'text, not a blob' : new Uint8Array(b)]));
      return Buffer.from(db.export());
    } finally {
      db.close();
    }
  });
export const rpmdb = catalogerTarget(
  'rpmdb-sqlite',
  rpmCataloger,
  'catalog/rpm.ts parseRpmSqlite (sql.js) → parseRpmHeader',
  fc.record({ path: fc.constant('/var/lib/rpm/rpmdb.sqlite'), data: fc.oneof(generatedRpmdb, mutateBytes(generatedRpmdb), mutateBytes(fc.constant(realRpmdb)), fc.uint8Array({ maxLength: 512 })) }),
  40,
);
