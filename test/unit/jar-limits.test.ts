/**
 * Issue 12, "a zip bomb inside a jar": the Java cataloger reads archives with
 * bounds on what it inflates and holds. A lying entry is stopped at its
 * declared size, a nested archive too big to hold is refused before anything
 * is allocated, nesting depth and the bytes inflated per archive and per
 * layer are capped; each limit hit is a warning naming the archive and the
 * entry, and every package that could be read is still listed. (Memory is
 * measured in test/e2e/hostile-images.test.ts and reported, not asserted here.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { JAVA_ARCHIVE_LIMITS, javaArchiveCataloger, javaCataloger } from '../../src/core/packages/catalog/java.js';
import { LayerCataloguer } from '../../src/core/packages/catalog/layer.js';
import type { ParseResult } from '../../src/core/packages/catalog/types.js';
import type { LayerEntry } from '../../src/core/layers/types.js';
import { deflatedZeros, zipOf } from '../helpers/hostile-images.js';
import { zip } from '../helpers/zip-writer.js';

const KiB = 1024;
const MiB = 1 << 20;
const pom = (g: string, a: string, v: string): Buffer => Buffer.from(`groupId=${g}\nartifactId=${a}\nversion=${v}\n`);
/** A small jar that is one package, `pad` bytes bigger than it needs to be. */
const lib = (a: string, v: string, pad = 0): Buffer =>
  zip([{ name: `META-INF/maven/org.example/${a}/pom.properties`, data: pom('org.example', a, v), deflate: true }, ...(pad ? [{ name: 'pad.bin', data: Buffer.alloc(pad), deflate: false }] : [])]);
/** The entry of a nested jar as a jar tool writes it: deflated, its true size declared. */
const deflatedJar = (name: string, jar: Buffer): { name: string; data: Buffer; deflated: true; size: number } => ({ name, data: deflateRawSync(jar), deflated: true, size: jar.length });
const nv = (r: ParseResult): string[] => r.packages.map((p) => `${p.name}@${p.version}`).sort();

test('a lying nested jar and one too big to hold are refused with warnings naming them; the rest of the war is listed', () => {
  const war = zipOf([
    { name: 'META-INF/maven/com.example/shop/pom.properties', data: pom('com.example', 'shop', '1.4.0') },
    deflatedJar('WEB-INF/lib/commons-lang3-3.12.0.jar', lib('commons-lang3', '3.12.0')),
    // Declares 1,000 bytes, inflates to 64 MiB: stopped at 1,001.
    { name: 'WEB-INF/lib/liar-1.0.jar', data: deflatedZeros(64), deflated: true, size: 1000 },
    // Honest about its 64 MiB: refused before anything is inflated.
    { name: 'WEB-INF/lib/huge-1.0.jar', data: deflatedZeros(64), deflated: true, size: 64 * MiB },
    deflatedJar('WEB-INF/lib/guava-32.1.3.jar', lib('guava', '32.1.3')),
  ]);
  const r = javaCataloger.parse('/app/shop.war', war, 'l') as ParseResult;
  assert.deepEqual(nv(r), ['commons-lang3@3.12.0', 'guava@32.1.3', 'shop@1.4.0']);
  assert.deepEqual(r.warnings, [
    '/app/shop.war: "/app/shop.war": WEB-INF/lib/liar-1.0.jar: inflates to more than the 1000 bytes its directory declares (a zip bomb?); not read',
    `/app/shop.war: "/app/shop.war:WEB-INF/lib/huge-1.0.jar" not read: a nested archive of ${64 * MiB} bytes inflated is over the limit of ${JAVA_ARCHIVE_LIMITS.maxNestedInMemory} bytes for a nested archive read into memory`,
  ]);
});

test('the inflate budget of one archive: the first nested jars are listed, then one warning naming where it stopped', () => {
  const c = javaArchiveCataloger({ ...JAVA_ARCHIVE_LIMITS, archiveBudget: 100 * KiB });
  const jar = zipOf([
    { name: 'META-INF/maven/com.example/app/pom.properties', data: pom('com.example', 'app', '2.0.0') },
    ...Array.from({ length: 5 }, (_v, i) => deflatedJar(`lib/dep${i}-1.${i}.jar`, lib(`dep${i}`, `1.${i}`, 30 * KiB))),
  ]);
  const r = c.parse('/opt/app.jar', jar, 'l') as ParseResult;
  assert.deepEqual(nv(r), ['app@2.0.0', 'dep0@1.0', 'dep1@1.1', 'dep2@1.2']);
  assert.deepEqual(r.warnings, ['/opt/app.jar: "/opt/app.jar:lib/dep3-1.3.jar" and the rest not read: inflate budget of 102400 bytes for this archive exhausted (a zip bomb?)']);
});

test('overlapping entries (many central records for one stretch of bytes) are not read; one warning says how many', () => {
  const inner = lib('inner', '1.0', 100 * KiB);
  const jar = zipOf([{ name: 'lib/inner-1.0.jar', data: inner }, ...Array.from({ length: 1000 }, (_v, i) => ({ name: `lib/copy${i}.jar`, data: inner, sameDataAs: 0 }))]);
  const r = javaCataloger.parse('/opt/x.jar', jar, 'l') as ParseResult;
  assert.deepEqual(nv(r), ['inner@1.0', 'x@']);
  assert.deepEqual(r.warnings, ['/opt/x.jar: "/opt/x.jar": 1000 entries not read: their bytes overlap another entry\'s (a zip bomb?; first: "/opt/x.jar:lib/copy0.jar")']);
});

test('stored nested archives are charged to the archive as work, and stop at its budget', () => {
  const c = javaArchiveCataloger({ ...JAVA_ARCHIVE_LIMITS, archiveBudget: 1 * MiB });
  const jar = zipOf(Array.from({ length: 15 }, (_v, i) => ({ name: `lib/inner${i}-1.0.jar`, data: lib(`inner${i}`, '1.0', 100 * KiB) })));
  const r = c.parse('/opt/x.jar', jar, 'l') as ParseResult;
  // 1 MiB of budget / ~100 KiB a read: ten nested jars, then the budget says stop.
  assert.equal(r.packages.filter((p) => p.name.startsWith('inner')).length, 10);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /^\/opt\/x\.jar: "\/opt\/x\.jar:lib\/inner10-1\.0\.jar" and the rest not read: inflate budget of 1048576 bytes for this archive exhausted/);
});

test('nesting depth and the nested archives held at once are capped, naming the archive and the entry', () => {
  // app.jar > l1.jar > l2.jar > l3.jar > l4.jar > l5.jar (stored): l5 is one level too deep.
  let jar = lib('l5', '5.0');
  for (let i = 4; i >= 1; i--) jar = zip([{ name: `META-INF/maven/org.example/l${i}/pom.properties`, data: pom('org.example', `l${i}`, `${i}.0`), deflate: true }, { name: `lib/l${i + 1}.jar`, data: jar, deflate: false }]);
  const top = zip([{ name: 'lib/l1.jar', data: jar, deflate: false }]);
  const deep = javaCataloger.parse('/app.jar', top, 'l') as ParseResult;
  assert.deepEqual(nv(deep).filter((p) => p.startsWith('l')), ['l1@1.0', 'l2@2.0', 'l3@3.0', 'l4@4.0']);
  assert.deepEqual(deep.warnings, ['/app.jar: "/app.jar:lib/l1.jar:lib/l2.jar:lib/l3.jar:lib/l4.jar": archives nested deeper than 4; 1 not read (first: "/app.jar:lib/l1.jar:lib/l2.jar:lib/l3.jar:lib/l4.jar:lib/l5.jar")']);

  // Deflated nested jars are held while their own nested jars are read: 30 KiB + 30 KiB is over 50 KiB.
  const c = javaArchiveCataloger({ ...JAVA_ARCHIVE_LIMITS, maxNestedInMemory: 40 * KiB, maxLiveNested: 50 * KiB });
  const b = lib('b', '2.0', 30 * KiB);
  const a = zipOf([{ name: 'META-INF/maven/org.example/a/pom.properties', data: pom('org.example', 'a', '1.0') }, { name: 'pad.bin', data: Buffer.alloc(30 * KiB) }, deflatedJar('lib/b-2.0.jar', b)]);
  const r = c.parse('/w.war', zipOf([deflatedJar('WEB-INF/lib/a-1.0.jar', a)]), 'l') as ParseResult;
  assert.deepEqual(nv(r), ['a@1.0', 'w@']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, new RegExp(`^/w\\.war: "/w\\.war:WEB-INF/lib/a-1\\.0\\.jar:lib/b-2\\.0\\.jar" not read: a nested archive of ${b.length} bytes inflated is over the ${50 * KiB - a.length} bytes left of the ${50 * KiB}-byte limit for nested archives held at once$`));
});

test('the inflate budget is shared by the archives of one layer (LayerCataloguer gives each cataloger its layer state)', async () => {
  const c = javaArchiveCataloger({ ...JAVA_ARCHIVE_LIMITS, layerBudget: 100 * KiB });
  const jar = (n: number): Buffer =>
    zipOf([{ name: `META-INF/maven/com.example/app${n}/pom.properties`, data: pom('com.example', `app${n}`, '1.0') }, ...[0, 1].map((i) => deflatedJar(`lib/d${n}${i}-1.0.jar`, lib(`d${n}${i}`, '1.0', 30 * KiB)))]);
  const layer = new LayerCataloguer('sha256:l', [c]);
  const hooks = layer.hooks();
  for (const n of [1, 2]) {
    const data = jar(n);
    const e: LayerEntry = { path: `/srv/app${n}.jar`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0 };
    assert.equal(hooks.wantContent(e), true);
    hooks.onContent(e, data);
  }
  const { files } = await layer.finish();
  const all = files.flatMap((f) => f.packages.map((p) => p.name)).sort();
  // 30 KiB + 30 KiB + 30 KiB fit in 100 KiB; the fourth nested jar (the second of app2) does not.
  assert.deepEqual(all, ['app1', 'app2', 'd10', 'd11', 'd20']);
  assert.deepEqual(files.find((f) => f.path === '/srv/app1.jar')!.warnings, []);
  assert.deepEqual(files.find((f) => f.path === '/srv/app2.jar')!.warnings, ['/srv/app2.jar: "/srv/app2.jar:lib/d21-1.0.jar" and the rest not read: inflate budget of 102400 bytes for the archives of this layer exhausted (a zip bomb?)']);
  // Outside a layer pass, each call has a budget of its own.
  assert.deepEqual(nv(c.parse('/srv/app2.jar', jar(2), 'l') as ParseResult), ['app2@1.0', 'd20@1.0', 'd21@1.0']);
});
