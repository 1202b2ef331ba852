import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LayerEntry } from '../../src/core/layers/types.js';
import { layerFileStatuses } from '../../src/tui/build.js';
import { ancestors, buildTree, visibleRows } from '../../src/tui/tree.js';

const e = (path: string, type: LayerEntry['type'] = 'file', size = 10): LayerEntry => ({ path, type, mode: 0o644, uid: 0, gid: 0, size, mtime: 0 });

test('layer entries are added, modified or removed relative to the layers below', () => {
  const s = layerFileStatuses([
    { entries: [e('/etc', 'dir'), e('/etc/passwd'), e('/opt', 'dir'), e('/opt/a'), e('/opt/b')] },
    { entries: [e('/etc/passwd'), e('/opt', 'whiteout'), e('/tmp/x')] },
    { entries: [e('/opt/a'), e('/etc', 'dir')] },
  ]);
  const st = (l: number, p: string): string => s[l]!.find((f) => f.path === p)!.status;
  assert.equal(st(0, '/etc/passwd'), 'added');
  assert.equal(st(1, '/etc/passwd'), 'modified');
  assert.equal(st(1, '/opt'), 'removed');
  assert.equal(st(1, '/tmp/x'), 'added');
  // /opt/a was removed with its directory in layer 1: writing it again adds it.
  assert.equal(st(2, '/opt/a'), 'added');
  assert.equal(st(2, '/etc'), 'unchanged', 'a directory written again is not a modification of its own');
});

test('the flattened tree: sizes, collapse skips subtrees, filter keeps ancestors', () => {
  const t = buildTree([
    { path: '/a/b/c.txt', type: 'file', size: 5, mode: 0o644, status: 'added' },
    { path: '/a/d.txt', type: 'file', size: 7, mode: 0o644, status: 'added' },
    { path: '/z', type: 'file', size: 1, mode: 0o644, status: 'unchanged' },
  ]);
  assert.deepEqual(
    t.nodes.map((n) => [n.path, n.depth, n.size]),
    [
      ['/a', 0, 12],
      ['/a/b', 1, 5],
      ['/a/b/c.txt', 2, 5],
      ['/a/d.txt', 1, 7],
      ['/z', 0, 1],
    ],
  );
  assert.deepEqual(visibleRows(t, new Set(), '').length, 5);
  assert.deepEqual(visibleRows(t, new Set(['/a/b']), '').map((i) => t.nodes[i]!.path), ['/a', '/a/b', '/a/d.txt', '/z']);
  assert.deepEqual(visibleRows(t, new Set(['/a']), '').map((i) => t.nodes[i]!.path), ['/a', '/z']);
  assert.deepEqual(visibleRows(t, new Set(['/a']), 'c.t').map((i) => t.nodes[i]!.path), ['/a', '/a/b', '/a/b/c.txt'], 'a filter shows matches inside collapsed directories');
  assert.deepEqual(ancestors('/a/b/c.txt'), ['/a', '/a/b']);
});

test('a 100k-path tree is built once and filtered in linear time', () => {
  const files = Array.from({ length: 100_000 }, (_, i) => ({ path: `/d${i % 100}/e${i % 7}/f${i}`, type: 'file', size: 1, mode: 0o644, status: 'added' as const }));
  const t = buildTree(files);
  assert.equal(t.nodes.filter((n) => !n.dir).length, 100_000);
  const rows = visibleRows(t, new Set(), 'f99999');
  assert.deepEqual(rows.map((i) => t.nodes[i]!.path), ['/d99', '/d99/e4', '/d99/e4/f99999']);
});

test('visible rows as runs agree with a plain pre-order walk, for any collapsed set and filter', () => {
  const paths = fc.uniqueArray(fc.array(fc.constantFrom('a', 'b', 'c', 'x.txt'), { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`), { maxLength: 40 });
  fc.assert(
    fc.property(paths, fc.array(fc.nat(60)), fc.constantFrom('', 'b', 'x'), (ps, shutAt, filter) => {
      const t = buildTree(ps.map((path) => ({ path, type: 'file', size: 1, mode: 0o644, status: 'added' as const })));
      const collapsed = new Set(shutAt.map((i) => t.nodes[i % Math.max(1, t.nodes.length)]?.path ?? '/none'));
      // The model: every node, skipping the subtree of a collapsed directory (no filter), or matches + ancestors.
      const expect: number[] = [];
      for (let i = 0; i < t.nodes.length; ) {
        const n = t.nodes[i]!;
        if (filter) {
          if (t.nodes.slice(i, n.end).some((d) => d.path.toLowerCase().includes(filter))) expect.push(i);
          i++;
          continue;
        }
        expect.push(i);
        i = n.dir && collapsed.has(n.path) ? n.end : i + 1;
      }
      const rows = visibleRows(t, collapsed, filter);
      assert.equal(rows.length, expect.length);
      assert.deepEqual(rows.map((n) => n), expect);
      expect.forEach((n, row) => {
        assert.equal(rows.at(row), n);
        assert.equal(rows.indexOf(n), row);
      });
      assert.equal(rows.at(-1), undefined);
      assert.equal(rows.at(expect.length), undefined);
      for (let n = 0; n < t.nodes.length; n++) if (!expect.includes(n)) assert.equal(rows.indexOf(n), -1);
    }),
    { numRuns: 300 },
  );
});
