import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLayers } from '../../src/core/layers/filesystem.js';
import type { EntryType, LayerEntry } from '../../src/core/layers/types.js';
import { walkLayer } from '../../src/core/layers/walk.js';
import { memoryLayer, tar } from '../helpers/tar-writer.js';

function e(path: string, type: EntryType = 'file', size = 0, extra: Partial<LayerEntry> = {}): LayerEntry {
  return { path, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: type === 'file' ? size : 0, mtime: 0, ...extra };
}
const layer = (...entries: LayerEntry[]) => ({ entries });

test('added, modified and their bytes; files and totalBytes of the merged filesystem', () => {
  const fs = mergeLayers([
    layer(e('/etc', 'dir'), e('/etc/passwd', 'file', 100), e('/bin/busybox', 'file', 1000), e('/bin/sh', 'symlink', 0, { linkname: 'busybox' }), e('/bin/ls', 'hardlink', 0, { linkname: '/bin/busybox' })),
    layer(e('/etc', 'dir'), e('/etc/passwd', 'file', 120), e('/etc/group', 'file', 30)),
    layer(e('/etc', 'dir', 0, { mode: 0o700 }), e('/dev/null', 'char')),
  ]);
  assert.deepEqual(
    fs.layers.map((l) => [l.entries, l.added, l.modified, l.removed, l.addedBytes]),
    [
      [5, 5, 0, 0, 1100],
      [3, 1, 1, 0, 150], // /etc re-listed unchanged is not a modification
      [2, 1, 1, 0, 0], // /etc's mode changed
    ],
  );
  assert.equal(fs.files, 5); // passwd, busybox, sh, ls, group; the device and the dir are not files
  assert.equal(fs.totalBytes, 120 + 1000 + 30 + 1000); // /bin/ls is a hard link to busybox: its path holds 1000 bytes too
  assert.equal(fs.paths.get('/etc/passwd')!.layer, 1);
  assert.equal(fs.paths.get('/etc/passwd')!.entry.size, 120);
  assert.equal(fs.paths.get('/etc')!.layer, 2);
});

test('a whiteout removes the path and everything under it from lower layers', () => {
  const fs = mergeLayers([
    layer(e('/a', 'dir'), e('/a/b', 'dir'), e('/a/b/c', 'file', 10), e('/a/d', 'file', 5), e('/keep', 'file', 1)),
    layer(e('/a/b', 'whiteout'), e('/nothing-there', 'whiteout')),
    layer(e('/a', 'whiteout')),
  ]);
  assert.deepEqual(fs.layers.map((l) => [l.removed, l.removedBytes]), [[0, 0], [2, 10], [2, 5]]);
  assert.deepEqual([...fs.paths.keys()], ['/keep']);
  assert.equal(fs.files, 1);
  assert.equal(fs.totalBytes, 1);
});

test('a whiteout also removes implicit directories (tars without parent entries)', () => {
  const fs = mergeLayers([layer(e('/x/y/z', 'file', 3)), layer(e('/x', 'whiteout'))]);
  assert.equal(fs.paths.size, 0);
  assert.equal(fs.layers[1]!.removed, 1);
});

test('whiteout and re-creation in the same layer: the new path survives (whiteouts apply to lower layers only)', () => {
  const fs = mergeLayers([layer(e('/f', 'file', 10), e('/d', 'dir'), e('/d/old', 'file', 1)), layer(e('/f', 'file', 20), e('/f', 'whiteout'), e('/d/new', 'file', 2), e('/d', 'whiteout'))]);
  assert.equal(fs.paths.get('/f')!.entry.size, 20);
  assert.ok(fs.paths.has('/d/new'));
  assert.ok(!fs.paths.has('/d/old'));
  assert.deepEqual([fs.layers[1]!.added, fs.layers[1]!.removed], [2, 3]);
});

test('an opaque marker hides lower children; entries of its own layer survive, wherever they sit in the tar', () => {
  const fs = mergeLayers([
    layer(e('/var', 'dir'), e('/var/cache', 'dir'), e('/var/cache/a', 'file', 7), e('/var/cache/sub', 'dir'), e('/var/cache/sub/b', 'file', 3), e('/var/log', 'file', 1)),
    layer(e('/var/cache/new', 'file', 4), e('/var/cache', 'opaque'), e('/var/cache/sub/c', 'file', 2)),
  ]);
  assert.deepEqual([...fs.paths.keys()].sort(), ['/var', '/var/cache', '/var/cache/new', '/var/cache/sub/c', '/var/log']);
  assert.equal(fs.paths.get('/var/cache')!.layer, 0); // the directory itself stays
  assert.deepEqual([fs.layers[1]!.removed, fs.layers[1]!.removedBytes], [3, 10]);
  assert.equal(fs.totalBytes, 4 + 2 + 1);
});

test('an opaque marker at the root hides every lower path', () => {
  const fs = mergeLayers([layer(e('/a', 'file', 1), e('/b', 'dir'), e('/b/c', 'file', 2)), layer(e('/', 'opaque'), e('/d', 'file', 4))]);
  assert.deepEqual([...fs.paths.keys()], ['/d']);
});

test('a file replacing a directory hides the directory\'s lower children', () => {
  const fs = mergeLayers([layer(e('/p', 'dir'), e('/p/x', 'file', 9)), layer(e('/p', 'symlink', 0, { linkname: '/elsewhere' }))]);
  assert.deepEqual([...fs.paths.keys()], ['/p']);
  assert.deepEqual([fs.layers[1]!.modified, fs.layers[1]!.removed, fs.layers[1]!.removedBytes], [1, 1, 9]);
  assert.equal(fs.files, 1);
});

test('hard links count as files and their bytes count per path', () => {
  const fs = mergeLayers([layer(e('/a', 'file', 100), e('/b', 'hardlink', 0, { linkname: '/a' }), e('/c', 'file', 100))]);
  assert.equal(fs.files, 3);
  assert.equal(fs.totalBytes, 300);
  assert.equal(fs.hardLinks.get('/b')?.size, 100);
});

test('many layers, many whiteouts: removal costs the subtree, not the filesystem', { timeout: 60_000 }, () => {
  const base = [];
  for (let d = 0; d < 200; d++) for (let f = 0; f < 200; f++) base.push(e(`/d${d}/f${f}`, 'file', 1));
  const wh = [];
  for (let d = 0; d < 200; d += 2) wh.push(e(`/d${d}`, 'whiteout'));
  const fs = mergeLayers([layer(...base), layer(...wh)]);
  assert.equal(fs.files, 20000);
  assert.equal(fs.layers[1]!.removed, 20000);
});

test('a lower symlink or file where a later layer needs a parent directory is replaced, not followed (as docker overlay2 does)', () => {
  const fs = mergeLayers([
    layer(e('/etc', 'dir'), e('/etc/passwd', 'file', 5), e('/b', 'symlink', 0, { linkname: '/etc' }), e('/c', 'file', 3)),
    layer(e('/b/shadow', 'file', 7), e('/c/inside', 'file', 1)),
  ]);
  assert.deepEqual([...fs.paths.keys()].sort(), ['/b/shadow', '/c/inside', '/etc', '/etc/passwd']);
  assert.deepEqual([fs.layers[1]!.removed, fs.layers[1]!.removedBytes], [2, 3]);
  assert.equal(fs.paths.get('/etc/passwd')!.entry.size, 5);
});

// Same-layer symlinks: the walk resolves each entry's parent through the symlinks earlier entries of its layer made
// (docker's chrooted extraction; test/integration/symlink-parent.test.ts checks the same cases against the daemon).
const walked = async (...layers: Array<Parameters<typeof tar>[0]>) => {
  const walks = [];
  for (const l of layers) walks.push(await walkLayer(memoryLayer(tar(l))));
  return walks;
};
const BASE: Parameters<typeof tar>[0] = [
  { name: 'etc/', type: 'dir' },
  { name: 'etc/passwd', data: 'root:x:0:0::/root:/bin/sh\n' },
  { name: 'etc/motd', data: 'hi\n' },
  { name: 'opt/x', data: 'x' },
  { name: 'usr/bin/tool', data: 'GOODGOOD' },
];

test('a symlink made earlier in the same layer redirects later entries: `.`, `..` past the root and `/` all reach the root', async () => {
  for (const target of ['.', '../../..', '/', '/../.']) {
    const walks = await walked(BASE, [
      { name: 'a', type: 'symlink', linkname: target },
      { name: 'a/usr/bin/tool', data: 'EVILEVIL' },
      { name: 'a/etc/passwd', data: 'root::0:0::/root:/bin/sh\n' },
    ]);
    assert.deepEqual(walks[1]!.entries.map((x) => x.path), ['/a', '/usr/bin/tool', '/etc/passwd'], target);
    const fs = mergeLayers(walks);
    assert.equal(fs.paths.get('/usr/bin/tool')!.layer, 1, target);
    assert.equal(fs.paths.get('/etc/passwd')!.layer, 1, target);
    assert.ok(!fs.paths.has('/a/usr/bin/tool'));
    assert.deepEqual(fs.layers[1], { entries: 3, added: 1, modified: 2, removed: 0, addedBytes: 8 + 25, removedBytes: 0 });
    assert.ok(walks[1]!.warnings.some((w) => w.includes('written through a symlink of the same layer')));
  }
});

test('chains, relative targets from the link\'s directory, and a directory of the same layer', async () => {
  const [, w] = await walked(BASE, [
    { name: 'd', type: 'symlink', linkname: 'e' },
    { name: 'e', type: 'symlink', linkname: 'usr/../usr/bin' },
    { name: 'd/chained', data: 'c' },
    { name: 'f/', type: 'dir' },
    { name: 'f/up', type: 'symlink', linkname: '../etc' },
    { name: 'f/up/group', data: 'g' },
    { name: 'g', type: 'symlink', linkname: 'f' },
    { name: 'g/inside', data: 'i' },
    { name: 'g/up/shadow', data: 's' },
  ]);
  assert.deepEqual(w!.entries.map((x) => x.path), ['/d', '/e', '/usr/bin/chained', '/f', '/f/up', '/etc/group', '/g', '/f/inside', '/etc/shadow']);
});

test('whiteouts, opaque markers and hard-link targets under a same-layer symlink act on the paths it leads to', async () => {
  const walks = await walked(BASE, [
    { name: 'a', type: 'symlink', linkname: '.' },
    { name: 'a/usr/bin/tool', data: 'EVILEVIL' },
    { name: 'a/etc/.wh.motd', data: '' },
    { name: 'a/opt/.wh..wh..opq', data: '' },
    { name: 'a/usr/bin/hl', type: 'hardlink', linkname: 'a/usr/bin/tool' },
  ]);
  const fs = mergeLayers(walks);
  assert.ok(!fs.paths.has('/etc/motd'));
  assert.ok(!fs.paths.has('/opt/x'));
  assert.equal(fs.paths.get('/usr/bin/hl')!.entry.linkname, '/usr/bin/tool');
  assert.equal(fs.hardLinks.get('/usr/bin/hl')!.sha256, fs.paths.get('/usr/bin/tool')!.entry.sha256);
  assert.equal(fs.layers[1]!.removed, 2);
});

test('a lower layer\'s symlink is still not followed; a same-layer symlink to a lower-only directory is (containerd writes there, docker fails)', async () => {
  const fs = mergeLayers(await walked([...BASE, { name: 'low', type: 'symlink', linkname: '/etc' }], [{ name: 'low/x', data: 'x' }, { name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/new', data: 'n' }]));
  assert.notEqual(fs.paths.get('/low')?.entry.type, 'symlink');
  assert.ok(fs.paths.has('/low/x'));
  assert.ok(!fs.paths.has('/etc/x'));
  assert.equal(fs.paths.get('/etc/new')!.layer, 1);
});

test('a later entry replacing the symlink itself ends the redirection; a file replacing a directory drops the symlinks under it', async () => {
  const [w] = await walked([
    { name: 'h', type: 'symlink', linkname: 'usr' },
    { name: 'h/a', data: '1' },
    { name: 'h/', type: 'dir' },
    { name: 'h/b', data: '2' },
    { name: 'k/', type: 'dir' },
    { name: 'k/s', type: 'symlink', linkname: '/etc' },
    { name: 'k', data: 'now a file' },
    { name: 'k/s/c', data: '3' },
  ]);
  assert.deepEqual(w!.entries.map((x) => `${x.path}:${x.type}`), ['/h:dir', '/usr/a:file', '/h/b:file', '/k:file', '/k/s:symlink', '/k/s/c:file']);
});

test('a symlink loop is bounded: the entry is rejected with a warning (the kernel gives ELOOP)', async () => {
  const [w] = await walked([
    { name: 'x', type: 'symlink', linkname: 'y' },
    { name: 'y', type: 'symlink', linkname: 'x' },
    { name: 'x/f', data: 'n' },
    { name: 'z', type: 'symlink', linkname: 'z/z' },
    { name: 'z/g', data: 'n' },
  ]);
  assert.deepEqual(w!.entries.map((x) => x.path), ['/x', '/y', '/z']);
  assert.equal(w!.warnings.filter((m) => m.includes('a loop')).length, 2);
});
