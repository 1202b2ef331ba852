/**
 * Issue 12 review (attacker): the tar parser and the layer walk must see what Go's archive/tar (docker,
 * podman, containerd, umoci) extracts, or refuse the layer. Each case here hid a file from vouch, or made it
 * see another name, before the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarParser, type TarHeader } from '../../src/core/layers/tar.js';
import { walkLayer, analysisLimits, cleanPath } from '../../src/core/layers/walk.js';
import { mergeLayers } from '../../src/core/layers/filesystem.js';
import { VouchError } from '../../src/core/errors.js';
import { END, entry, header, memoryLayer, metaEntry, pad, paxRecords, tar } from '../helpers/tar-writer.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentCache } from '../../src/core/cache/cache.js';
import { analyzeImageFull } from '../../src/core/layers/image-analysis.js';
import { openReference, resolveReference } from '../../src/core/sources/open.js';
import { writeLayersLayout } from '../helpers/layer-layout.js';

function headersOf(bytes: Buffer, o: { maxPaxBytes?: number } = {}): TarHeader[] {
  const out: TarHeader[] = [];
  const p = new TarParser({ what: 'layer sha256:test', onEntry: (h) => void out.push(h), ...o });
  p.write(bytes);
  p.end();
  return out;
}

function refused(bytes: Buffer, pattern: RegExp): void {
  assert.throws(
    () => headersOf(bytes),
    (e: unknown) => e instanceof VouchError && e.code === 'INVALID_TAR' && pattern.test(e.message) && /layer sha256:test/.test(e.message),
  );
}

/** Rewrites a header's checksum after its bytes were edited. */
function resum(h: Buffer): Buffer {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of h) sum += c;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

const dir = (name: string): Buffer => entry({ name, type: 'dir', mode: 0o755 });

test('an empty GNU long name or long link is ignored, as Go does (the ustar name and link stay)', async () => {
  const oneNul = metaEntry('L', Buffer.from([0]), '././@LongLink');
  const sizeZero = header({ name: '././@LongLink', typeflag: 'L', size: 0 });
  for (const L of [oneNul, sizeZero]) {
    const t = Buffer.concat([dir('usr/'), dir('usr/bin/'), L, entry({ name: 'usr/bin/sudo-evil', data: '#!/bin/sh\nid\n', mode: 0o4755 }), END]);
    assert.equal(headersOf(t)[2]!.name, 'usr/bin/sudo-evil');
    const w = await walkLayer(memoryLayer(t));
    const e = w.entries.find((x) => x.path === '/usr/bin/sudo-evil');
    assert.ok(e, `the setuid file is seen: ${JSON.stringify(w.warnings)}`);
    assert.equal(e.mode, 0o4755);
    assert.deepEqual(w.warnings, []);
  }
  const K = metaEntry('K', Buffer.from([0]), '././@LongLink');
  const link = Buffer.concat([dir('etc/'), K, entry({ name: 'etc/motd', type: 'symlink', linkname: '/etc/shadow' }), END]);
  const w = await walkLayer(memoryLayer(link));
  assert.equal(w.entries.find((x) => x.path === '/etc/motd')?.linkname, '/etc/shadow');
  // A non-empty long name still wins over PAX and ustar; an empty PAX path keeps the ustar name (Go's mergePAX).
  const both = Buffer.concat([metaEntry('x', paxRecords({ path: 'from/pax' })), metaEntry('L', Buffer.from('from/gnu\0')), entry({ name: 'ustar' }), metaEntry('x', paxRecords({ path: '' })), entry({ name: 'kept' }), END]);
  assert.deepEqual(headersOf(both).map((h) => h.name), ['from/gnu', 'kept']);
  // An empty long name after a PAX path: the PAX path stays.
  const paxThenEmpty = Buffer.concat([metaEntry('x', paxRecords({ path: 'from/pax' })), oneNul, entry({ name: 'ustar' }), END]);
  assert.deepEqual(headersOf(paxThenEmpty).map((h) => h.name), ['from/pax']);
});

/** A GNU-format header ("ustar  \0") for `name`, its bytes 345.. set to `area` (atime, ctime, ...). */
function gnuHeader(name: string, area: Buffer, size = 0): Buffer {
  const h = header({ name, typeflag: '0', size, format: 'gnu' });
  area.copy(h, 345);
  return resum(h);
}

test('GNU headers: the prefix area names the entry when atime/ctime do not parse (Go reads pre-1.8 files so)', () => {
  const data = Buffer.from('root::0:0:root:/root:/bin/sh\n');
  const withData = (h: Buffer): Buffer => Buffer.concat([h, data, pad(data.length), END]);
  // "etc\0" in the prefix area: atime is "etc" — not octal — so Go names the entry etc/passwd.
  assert.equal(headersOf(withData(gnuHeader('passwd', Buffer.from('etc\0'), data.length)))[0]!.name, 'etc/passwd');
  // atime empty (first byte NUL), ctime not a number: the prefix area from 345 still starts with a NUL: no prefix.
  const ctimeBad = Buffer.alloc(24);
  ctimeBad.write('zz', 12, 'latin1');
  assert.equal(headersOf(withData(gnuHeader('passwd', ctimeBad, data.length)))[0]!.name, 'passwd');
  // Valid octal atime and ctime: a real GNU header, the area is times, not a prefix.
  const times = Buffer.from('14571375515\u000014571375515\u0000', 'latin1');
  assert.equal(headersOf(withData(gnuHeader('passwd', times, data.length)))[0]!.name, 'passwd');
  // Base-256 atime that parses: no prefix either.
  const b256 = Buffer.alloc(12);
  b256[0] = 0x80;
  b256[11] = 5;
  assert.equal(headersOf(withData(gnuHeader('passwd', b256, data.length)))[0]!.name, 'passwd');
  // atime octal with garbage after a NUL parses in Go ("1\0x" is 1): not a prefix.
  assert.equal(headersOf(withData(gnuHeader('passwd', Buffer.from('1\0x', 'latin1'), data.length)))[0]!.name, 'passwd');
  // Non-ASCII in the prefix area: Go keeps the plain name.
  assert.equal(headersOf(withData(gnuHeader('passwd', Buffer.from([0x65, 0xff, 0x63, 0]), data.length)))[0]!.name, 'passwd');
  // A prefix that reaches into the times ("usr/local/etc" is 13 bytes: past atime into ctime), and a GNU long
  // name still wins over it.
  assert.equal(headersOf(withData(gnuHeader('passwd', Buffer.from('usr/local/etc\0'), data.length)))[0]!.name, 'usr/local/etc/passwd');
  const longWins = Buffer.concat([metaEntry('L', Buffer.from('x/long\0')), gnuHeader('passwd', Buffer.from('etc\0'), 0), END]);
  assert.equal(headersOf(longWins)[0]!.name, 'x/long');
});

test('names that climb above the root are clamped there (containerd, podman, umoci), with a warning naming the entry', async () => {
  const t = tar([
    { name: 'etc/', type: 'dir' },
    { name: '/../etc/evil-rooted', data: 'rooted\n' },
    { name: '../usr/bin/evil-suid', data: '#!/bin/sh\n', mode: 0o4755 },
    { name: 'usr/../../etc/evil-mid', data: 'mid\n' },
    { name: 'a/b/../../../../c', type: 'dir' },
    { name: 'l', type: 'hardlink', linkname: '../../etc/evil-rooted' },
  ]);
  const w = await walkLayer(memoryLayer(t));
  const by = new Map(w.entries.map((e) => [e.path, e]));
  assert.deepEqual([...by.keys()].sort(), ['/c', '/etc', '/etc/evil-mid', '/etc/evil-rooted', '/l', '/usr/bin/evil-suid']);
  assert.equal(by.get('/usr/bin/evil-suid')!.mode, 0o4755);
  assert.equal(by.get('/l')!.linkname, '/etc/evil-rooted');
  const climbs = w.warnings.filter((m) => /climbs above the root/.test(m));
  assert.equal(climbs.length, 5, JSON.stringify(w.warnings));
  assert.ok(climbs.some((m) => m.includes('"../usr/bin/evil-suid"') && m.includes('/usr/bin/evil-suid')));
  assert.ok(w.warnings.some((m) => /hard link target "..\/..\/etc\/evil-rooted" climbs above the root/.test(m)));
  assert.equal(cleanPath('x/y/../../..'), '/');
  assert.equal(cleanPath('/../etc/x'), '/etc/x');

  // A whiteout through "/../" removes the file below, as the runtimes apply it.
  const lower = await walkLayer(memoryLayer(tar([{ name: 'etc/', type: 'dir' }, { name: 'etc/motd', data: 'hi\n' }, { name: 'etc/issue', data: 'x\n' }])));
  const upper = await walkLayer(memoryLayer(tar([{ name: '/../etc/.wh.motd' }])));
  const merged = mergeLayers([lower, upper]);
  assert.ok(!merged.paths.has('/etc/motd'));
  assert.ok(merged.paths.has('/etc/issue'));
});

test('old GNU sparse entries are refused (Go needs the GNU format for them, and no runtime extracts them)', () => {
  const s = entry({ name: 'sparse', typeflag: 'S', data: 'abc', format: 'gnu' });
  refused(Buffer.concat([s, entry({ name: 'after' }), END]), /old GNU sparse/);
  refused(Buffer.concat([entry({ name: 'sparse', typeflag: 'S', data: 'abc' }), END]), /old GNU sparse/);
});

test('numeric fields and headers read as Go reads them', () => {
  // Octal: leading and trailing spaces/NULs trimmed, then up to the first NUL ("12\0zz" is 12 in Go).
  const h = header({ name: 'f', typeflag: '0', size: 0 });
  h.write('0000644\0', 100, 8, 'latin1');
  h.write('12\0zzzz\0', 108, 8, 'latin1');
  assert.equal(headersOf(Buffer.concat([resum(h), END]))[0]!.uid, 0o12);
  // "1 2" is not a number.
  const bad = header({ name: 'f', typeflag: '0', size: 0 });
  bad.write('1 2\0', 108, 4, 'latin1');
  refused(Buffer.concat([resum(bad), END]), /invalid uid/);
  // The checksum is octal only (Go's parseOctal), never base-256.
  const b = header({ name: 'f', typeflag: '0', size: 0 });
  let sum = 0;
  b.fill(0x20, 148, 156);
  for (const c of b) sum += c;
  b.fill(0, 148, 156);
  b[148] = 0x80;
  b[154] = sum >> 8;
  b[155] = sum & 0xff;
  refused(Buffer.concat([b, END]), /checksum/);
  // A metadata header with an invalid field fails in Go's readHeader, as any header does.
  const L = metaEntry('L', Buffer.from('long/name\0'));
  L.write('9\0', 108, 2, 'latin1');
  refused(Buffer.concat([resum(L.subarray(0, 512)), L.subarray(512), entry({ name: 'x' }), END]), /invalid uid/);
  // STAR headers: atime and ctime are parsed (and their errors stop the archive, as in Go).
  const star = header({ name: 'f', typeflag: '0', size: 0 });
  star.write('tar\0', 508, 4, 'latin1');
  star.write('9', 476, 1, 'latin1');
  refused(Buffer.concat([resum(star), END]), /invalid atime/);
});

test('PAX xattr records are handled in linear time: 100,000 in one header; last record wins, empty removes', () => {
  const recs: Record<string, string> = {};
  for (let i = 0; i < 100_000; i++) recs[`SCHILY.xattr.user.${i}`] = 'x';
  const data = Buffer.concat([paxRecords(recs), paxRecords({ 'SCHILY.xattr.user.5': '' }), paxRecords({ 'SCHILY.xattr.user.7': 'again' })]);
  const t = Buffer.concat([metaEntry('x', data), entry({ name: 'f' }), END]);
  const h = headersOf(t, { maxPaxBytes: 8 << 20 })[0]!;
  assert.equal(h.xattrs!.length, 99_999);
  assert.ok(!h.xattrs!.includes('user.5'));
  assert.equal(h.xattrs![0], 'user.0');
  // Re-set after removal: present once.
  const again = Buffer.concat([metaEntry('x', Buffer.concat([paxRecords({ 'SCHILY.xattr.a': '1' }), paxRecords({ 'SCHILY.xattr.a': '' }), paxRecords({ 'SCHILY.xattr.a': '2' })])), entry({ name: 'g' }), END]);
  assert.deepEqual(headersOf(again)[0]!.xattrs, ['a']);
});

test('the bytes of names held for an image are bounded (VOUCH_MAX_NAME_BYTES), naming the layer', async () => {
  assert.equal(analysisLimits({ VOUCH_MAX_NAME_BYTES: '1M' }).nameBytes, 1 << 20);
  assert.ok(analysisLimits({}).nameBytes > 0);
  assert.throws(() => analysisLimits({ VOUCH_MAX_NAME_BYTES: 'lots' }), /VOUCH_MAX_NAME_BYTES="lots" is not a limit/);
  const long = 'd/' + 'a'.repeat(200);
  const specs = Array.from({ length: 50 }, (_v, i) => ({ name: `${long}${i}` }));
  const layer = memoryLayer(tar([{ name: 'd/', type: 'dir' }, ...specs]));
  const budget = { left: 1 << 30, limit: 1 << 30, nameBytesLeft: 5000, nameBytesLimit: 5000 };
  await assert.rejects(walkLayer(layer, { imageBudget: budget }), (e: unknown) => {
    assert.ok(e instanceof VouchError && e.code === 'LIMIT_EXCEEDED', String(e));
    assert.match(e.message, new RegExp(`^layer ${layer.digest}: .*5000 bytes of path and link names.*VOUCH_MAX_NAME_BYTES raises it`));
    return true;
  });
  // Within the budget: walked, and the budget is charged.
  const ok = { left: 1 << 30, limit: 1 << 30, nameBytesLeft: 1 << 20, nameBytesLimit: 1 << 20 };
  const w = await walkLayer(layer, { imageBudget: ok });
  const charged = w.entries.reduce((n, e) => n + e.path.length + (e.linkname?.length ?? 0), 0);
  assert.equal((1 << 20) - ok.nameBytesLeft, charged);
});

test('a cache entry too large to serialise is skipped with a warning naming the layer, not an untyped crash', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'vouch-tp-cache-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const l = await writeLayersLayout(join(work, 'img'), [tar([{ name: 'etc/', type: 'dir' }, { name: 'etc/passwd', data: 'root' }])]);
  // What JSON.stringify throws past V8's string limit (~512 M characters), without building 512 MB here.
  class HugeCache extends ContentCache {
    override async putJson(): Promise<void> {
      JSON.stringify({ toJSON: () => { throw new RangeError('Invalid string length'); } });
    }
  }
  const image = await openReference((await resolveReference(`oci:${l.dir}:test`)).reference);
  try {
    const r = await analyzeImageFull(image, { cache: new HugeCache(join(work, 'cache')) });
    assert.equal(r.analysis.files, 1);
    assert.ok(r.walks[0]!.warnings.some((m) => m.startsWith(`layer ${l.layers[0]!.digest}: analysis not cached: too large to serialise`)), JSON.stringify(r.walks[0]!.warnings));
    assert.ok(r.analysis.warnings.some((m) => m.startsWith(`image ${image.digest}: analysis not cached`)), JSON.stringify(r.analysis.warnings));
  } finally {
    await image.close();
  }
});

test('the name budget also charges xattr names, wide names (three units a character) and kept warnings', async () => {
  const budgetOf = (n: number) => ({ left: 1 << 30, limit: 1 << 30, nameBytesLeft: n, nameBytesLimit: n });
  // 40 entries, each with 50 xattr names of ~60 characters: ~120 kB of names the paths alone would not show.
  const xattrs = Object.fromEntries(Array.from({ length: 50 }, (_v, i) => [`SCHILY.xattr.user.${'x'.repeat(50)}${i}`, 'v']));
  const withXattrs = memoryLayer(tar(Array.from({ length: 40 }, (_v, i) => ({ name: `f${i}`, data: 'x', pax: xattrs }))));
  await assert.rejects(walkLayer(withXattrs, { imageBudget: budgetOf(50_000) }), (e: unknown) => e instanceof VouchError && e.code === 'LIMIT_EXCEEDED');
  const roomy = budgetOf(1 << 24);
  const w = await walkLayer(withXattrs, { imageBudget: roomy });
  assert.ok((1 << 24) - roomy.nameBytesLeft > 40 * 50 * 55, 'xattr names charged');
  // A name beyond Latin-1 costs three units a character.
  const wide = memoryLayer(tar([{ name: `${'\u{1F600}'.repeat(10)}`, data: 'x' }]));
  const b = budgetOf(1 << 20);
  const ww = await walkLayer(wide, { imageBudget: b });
  assert.equal((1 << 20) - b.nameBytesLeft, ww.entries[0]!.path.length * 3);
  // Warnings: entries climbing above the root each leave one; they are charged too.
  const climbing = memoryLayer(tar(Array.from({ length: 30 }, (_v, i) => ({ name: `../../${'c'.repeat(100)}${i}`, data: 'x' }))));
  const c = budgetOf(1 << 20);
  const cw = await walkLayer(climbing, { imageBudget: c });
  const names = cw.entries.reduce((n, e) => n + e.path.length, 0);
  assert.ok(cw.warnings.length >= 30);
  assert.equal((1 << 20) - c.nameBytesLeft, names + cw.warnings.reduce((n, m) => n + m.length, 0));
  assert.ok(w.entries.length === 40);
});

test('a root directory entry with a world-writable or setuid mode is reported (umoci applies it to the rootfs)', async () => {
  const w = await walkLayer(memoryLayer(tar([{ name: './', type: 'dir', mode: 0o777 }, { name: 'etc/', type: 'dir' }])));
  assert.ok(w.warnings.some((m) => /root directory entry has mode 0777 \(world-writable\)/.test(m)), w.warnings.join('\n'));
  const quiet = await walkLayer(memoryLayer(tar([{ name: './', type: 'dir', mode: 0o755 }])));
  assert.deepEqual(quiet.warnings, []);
});
