/**
 * Issue 9, items 1, 2, 6, 7: paths are the tar's bytes, regular files carry
 * their content digest, hard links count their bytes per path, and a layer's
 * entry count is every tar entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { decodePathBytes, encodePathBytes, escapePathBytes } from '../../src/core/util/path-bytes.js';
import { sanitizeLine } from '../../src/core/util/sanitize.js';
import { walkLayer } from '../../src/core/layers/walk.js';
import { mergeLayers } from '../../src/core/layers/filesystem.js';
import { inspectReference } from '../../src/core/layers/inspect.js';
import { ContentCache } from '../../src/core/cache/cache.js';
import { checkReferences } from '../../src/core/checks/index.js';
import { diffImages } from '../../src/core/diff/image.js';
import { diffInputs } from '../../src/core/diff/index.js';
import { openReference, resolveReference } from '../../src/core/sources/open.js';
import { layerWalks } from '../../src/core/layers/image-analysis.js';
import { memoryLayer, tar, entry } from '../helpers/tar-writer.js';
import { rawNameEntry, writeLayersLayout } from '../helpers/layer-layout.js';

const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

test('path bytes: decoding is injective and reversible; valid UTF-8 decodes as UTF-8', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
      const A = Buffer.from(a);
      const B = Buffer.from(b);
      const da = decodePathBytes(A);
      assert.deepEqual(encodePathBytes(da), A);
      if (!A.equals(B)) assert.notEqual(da, decodePathBytes(B));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
      assert.equal(decodePathBytes(Buffer.from(s, 'utf8')), s);
    }),
  );
  // Encoded surrogates (CESU) and overlong forms are not UTF-8: each byte stays itself.
  assert.equal(escapePathBytes(decodePathBytes(Buffer.from([0xed, 0xb3, 0xbf]))), '\\xed\\xb3\\xbf');
  assert.equal(escapePathBytes(decodePathBytes(Buffer.from([0xc0, 0xaf]))), '\\xc0\\xaf');
  assert.equal(decodePathBytes(Buffer.from('caf\u00e9 \u{1f480}', 'utf8')), 'caf\u00e9 \u{1f480}');
  // Display: the escapes print as \xNN, an emoji whose low surrogate is in the same range does not.
  assert.equal(sanitizeLine(decodePathBytes(Buffer.from([0x74, 0xff, 0x1b]))), 't\\xff\\x1b');
  assert.equal(sanitizeLine('\u{1f480}'), '\u{1f480}');
});

const toolFF = Buffer.from([...Buffer.from('usr/bin/tool'), 0xff]);
const toolFE = Buffer.from([...Buffer.from('usr/bin/tool'), 0xfe]);

test('item 1: two non-UTF-8 names stay two paths; the setuid check fires; files count 2; efficiency sane', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bytes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const layer = tar([
    { name: 'usr/', type: 'dir', mode: 0o755 },
    { name: 'usr/bin/', type: 'dir', mode: 0o755 },
    rawNameEntry(toolFF, { data: 'setuid tool\n', mode: 0o4755 }),
    rawNameEntry(toolFE, { data: 'other tool!\n', mode: 0o755 }),
  ]);
  // GNU tar agrees that there are two distinct names.
  const listed = execFileSync('tar', ['-t', '--quoting-style=escape'], { input: layer }).toString().trim().split('\n');
  assert.equal(listed.length, 4);

  const l = await writeLayersLayout(join(dir, 'layout'), [layer]);
  const cache = new ContentCache(join(dir, 'cache'));
  const { analysis } = await inspectReference(l.ref, { cache });
  assert.equal(analysis.files, 2);
  assert.equal(analysis.totalBytes, 24);
  assert.ok(analysis.efficiency <= 1, `efficiency ${analysis.efficiency}`);
  assert.equal(analysis.wastedBytes, 0);

  const image = await openReference((await resolveReference(l.ref)).reference);
  try {
    const walks = await layerWalks(image, { cache });
    const merged = mergeLayers(walks);
    const paths = [...merged.paths.keys()].filter((p) => p.startsWith('/usr/bin/tool'));
    assert.deepEqual(paths.map((p) => encodePathBytes(p)).sort(Buffer.compare), [Buffer.from([...Buffer.from('/'), ...toolFE]), Buffer.from([...Buffer.from('/'), ...toolFF])]);
    assert.deepEqual(paths.map(escapePathBytes).sort(), ['/usr/bin/tool\\xfe', '/usr/bin/tool\\xff']);
  } finally {
    await image.close();
  }

  const run = await checkReferences([l.ref], { cache, noChain: true });
  const setuid = run.resultSet.results.filter((r) => r.id === 'VCH-LP-002' && r.status === 'fail');
  assert.equal(setuid.length, 1, JSON.stringify(run.resultSet.results.filter((r) => r.status === 'fail').map((r) => [r.id, r.message])));
  assert.match(setuid[0]!.message, /tool\\xff/);
});

test('item 2: each regular file carries the sha256 of its bytes, whatever the chunking; collected files too; sparse files none', async () => {
  const big = Buffer.alloc(70_000, 7);
  big.write('end', 69_990);
  const t = tar([
    { name: 'a', data: 'hello\n' },
    { name: 'empty', data: '' },
    { name: 'big', data: big },
    { name: 'etc/os-release', data: 'ID=test\n' },
    { name: 'l', type: 'hardlink', linkname: 'a' },
    { name: 's', type: 'symlink', linkname: 'a' },
  ]);
  for (const chunk of [1, 511, 512, 513, 4096, 1 << 20]) {
    const got = new Map<string, string>();
    const w = await walkLayer(memoryLayer(t, { chunk }), {
      wantContent: (e) => e.path === '/etc/os-release',
      onContent: (e, data) => got.set(e.path, data.toString()),
    });
    const digest = (p: string): string | undefined => w.entries.find((e) => e.path === p)?.sha256;
    assert.equal(digest('/a'), hex('hello\n'), `chunk ${chunk}`);
    assert.equal(digest('/empty'), hex(''));
    assert.equal(digest('/big'), hex(big));
    assert.equal(digest('/etc/os-release'), hex('ID=test\n'));
    assert.equal(digest('/l'), undefined);
    assert.equal(digest('/s'), undefined);
    assert.equal(got.get('/etc/os-release'), 'ID=test\n');
  }
});

test('item 2: vouch diff sees a swapped binary of the same size, mode and owner', async () => {
  const base = tar([{ name: 'usr/bin/app', data: 'AAAAAAAA', mode: 0o755 }, { name: 'same', data: 'x' }, { name: 'usr/bin/app2', type: 'hardlink', linkname: 'usr/bin/app' }]);
  const swap = tar([{ name: 'usr/bin/app', data: 'BBBBBBBB', mode: 0o755 }, { name: 'same', data: 'x' }, { name: 'usr/bin/app2', type: 'hardlink', linkname: 'usr/bin/app' }]);
  const wa = [await walkLayer(memoryLayer(base))];
  const wb = [await walkLayer(memoryLayer(swap))];
  const stub = { config: { user: '', env: [], entrypoint: null, cmd: null, workingDir: '', exposedPorts: [], volumes: [], labels: {} }, layers: [] } as never;
  const d = diffImages(stub, stub, wa, wb);
  assert.equal(d.files.changed.count, 2);
  const byPath = new Map(d.files.changed.files.map((c) => [c.path, c]));
  assert.deepEqual(byPath.get('/usr/bin/app')!.fields, ['content']);
  assert.deepEqual(byPath.get('/usr/bin/app2')!.fields, ['content'], 'a hard link to the swapped file changed content too');
  assert.equal(byPath.get('/usr/bin/app')!.to.sha256, hex('BBBBBBBB'));
});

test('item 6: totalBytes counts every hard-linked path; item 7: entries counts every tar entry, ./ included', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-hl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const layer = tar([
    { name: './', type: 'dir', mode: 0o755 },
    { name: './usr/', type: 'dir', mode: 0o755 },
    { name: './usr/bin/', type: 'dir', mode: 0o755 },
    { name: './usr/bin/perl', data: Buffer.alloc(3000, 1), mode: 0o755 },
    { name: './usr/bin/perl5.36', type: 'hardlink', linkname: './usr/bin/perl' },
    { name: './usr/bin/cpan', type: 'symlink', linkname: 'perl' },
  ]);
  assert.equal(execFileSync('tar', ['-t'], { input: layer }).toString().trim().split('\n').length, 6);
  const l = await writeLayersLayout(join(dir, 'layout'), [layer]);
  const { analysis } = await inspectReference(l.ref, { cache: new ContentCache(join(dir, 'cache')) });
  assert.equal(analysis.layers[0]!.entries, 6);
  assert.equal(analysis.totalBytes, 6000);
  assert.equal(analysis.files, 3);
  // dive's own figure stays dive's: the link adds no bytes there.
  assert.equal(analysis.sizeBytes, 3000);
});

test('VCH-DC-007: same path, same size, mode and owner, different content from the baseline image', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-swap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = (app: string, conf: string) =>
    tar([
      { name: 'usr/', type: 'dir' },
      { name: 'usr/bin/', type: 'dir' },
      { name: 'usr/bin/app', data: app, mode: 0o755 },
      { name: 'usr/bin/app-link', type: 'hardlink', linkname: 'usr/bin/app', mode: 0o755 },
      { name: 'etc/', type: 'dir' },
      { name: 'etc/app.conf', data: conf },
      { name: 'etc/same', data: 'same' },
    ]);
  const base = await writeLayersLayout(join(dir, 'base'), [files('binary-v1', 'level=1')]);
  const swapped = await writeLayersLayout(join(dir, 'swapped'), [files('binary-v2', 'level=22')]);
  const cache = new ContentCache(join(dir, 'cache'));
  const results = async (ref: string, baseline?: string) =>
    (await checkReferences([ref], { cache, noChain: true, ...(baseline ? { baseline } : {}) })).resultSet.results.filter((r) => r.id === 'VCH-DC-007');
  const r = await results(swapped.ref, base.ref);
  // The binary and its hard link were swapped for bytes of the same length; app.conf changed size (diff lists it).
  assert.deepEqual(r.filter((x) => x.status === 'fail').map((x) => x.subject.path), ['/usr/bin/app', '/usr/bin/app-link']);
  assert.match(r[0]!.message, /different content from the baseline \(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\) with the same size \(9 bytes\)/);
  assert.deepEqual((await results(base.ref, base.ref)).map((x) => x.status), ['pass']);
  assert.deepEqual((await results(swapped.ref)).map((x) => [x.status, x.message]), [['pass', 'not applicable: no --baseline']]);
});

test('attack: a symlink `a -> .` (or `../../..`, `/`) made earlier in the same layer does not hide a swapped binary and an empty root password from diff and check', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-samelayer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const L0 = tar([{ name: 'etc/', type: 'dir', mode: 0o755 }, { name: 'etc/passwd', mode: 0o644, data: 'root:x:0:0:root:/root:/bin/sh\n' }, { name: 'etc/motd', data: 'hi\n' }, { name: 'usr/', type: 'dir', mode: 0o755 }, { name: 'usr/bin/', type: 'dir', mode: 0o755 }, { name: 'usr/bin/tool', mode: 0o755, data: 'GOODGOOD' }]);
  const base = await writeLayersLayout(join(dir, 'base'), [L0]);
  const cache = new ContentCache(join(dir, 'cache'));
  for (const target of ['.', '../../..', '/']) {
    const evil = await writeLayersLayout(join(dir, `evil${target.length}`), [L0, tar([{ name: 'a', type: 'symlink', linkname: target }, { name: 'a/usr/bin/tool', mode: 0o755, data: 'EVILEVIL' }, { name: 'a/etc/passwd', mode: 0o644, data: 'root::0:0:root:/root:/bin/sh\n' }, { name: 'a/etc/.wh.motd', data: '' }])]);
    const d = await diffInputs(base.ref, evil.ref, { cache });
    const f = d.report.files!;
    assert.deepEqual(f.added.files.map((x) => x.path), ['/a'], target);
    assert.deepEqual(f.changed.files.map((x) => x.path).sort(), ['/etc/passwd', '/usr/bin/tool'], target);
    assert.deepEqual(f.removed.files.map((x) => x.path), ['/etc/motd'], target);
    const failed = (await checkReferences([evil.ref], { cache, noChain: true, baseline: base.ref })).resultSet.results.filter((r) => r.status === 'fail');
    assert.ok(failed.some((r) => r.id === 'VCH-AC-001' && /root.*empty password/.test(r.message)), target);
    assert.deepEqual(failed.filter((r) => r.id === 'VCH-DC-007').map((r) => r.subject.path), ['/usr/bin/tool'], target);
  }
});
