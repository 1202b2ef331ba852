import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLayers } from '../../src/core/layers/filesystem.js';
import type { EntryType, LayerEntry } from '../../src/core/layers/types.js';

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
  assert.equal(fs.totalBytes, 120 + 1000 + 30);
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

test('hard links count as files but add no bytes; paths are per path', () => {
  const fs = mergeLayers([layer(e('/a', 'file', 100), e('/b', 'hardlink', 0, { linkname: '/a' }), e('/c', 'file', 100))]);
  assert.equal(fs.files, 3);
  assert.equal(fs.totalBytes, 200);
});

test('many layers, many whiteouts: removal costs the subtree, not the filesystem', () => {
  const base = [];
  for (let d = 0; d < 200; d++) for (let f = 0; f < 200; f++) base.push(e(`/d${d}/f${f}`, 'file', 1));
  const wh = [];
  for (let d = 0; d < 200; d += 2) wh.push(e(`/d${d}`, 'whiteout'));
  const t = performance.now();
  const fs = mergeLayers([layer(...base), layer(...wh)]);
  assert.ok(performance.now() - t < 2000);
  assert.equal(fs.files, 20000);
  assert.equal(fs.layers[1]!.removed, 20000);
});
