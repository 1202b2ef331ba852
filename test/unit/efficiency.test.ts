import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeEfficiency, compareUtf8, diveFileList } from '../../src/core/layers/efficiency.js';
import type { EntryType, LayerEntry } from '../../src/core/layers/types.js';

function e(path: string, type: EntryType = 'file', size = 0): LayerEntry {
  return { path, type, mode: 0o644, uid: 0, gid: 0, size, mtime: 0 };
}
const layer = (...entries: LayerEntry[]) => ({ entries });

test('no duplication: efficiency 1, nothing wasted', () => {
  const r = computeEfficiency([layer(e('/a', 'file', 10)), layer(e('/b', 'file', 5))]);
  assert.deepEqual([r.efficiency, r.sizeBytes, r.userSizeBytes, r.wastedBytes, r.userWastedPercent], [1, 15, 5, 0, 0]);
  assert.deepEqual(r.inefficientFiles, []);
});

test('an empty image has efficiency 1 and no user size', () => {
  const r = computeEfficiency([]);
  assert.deepEqual([r.efficiency, r.sizeBytes, r.userSizeBytes, r.userWastedPercent], [1, 0, 0, 0]);
});

test('overwritten file: counted twice, min over cumulative', () => {
  // paths: /a seen 10 then 30 → min 10, cumulative 40; /b 5.
  const r = computeEfficiency([layer(e('/a', 'file', 10), e('/b', 'file', 5)), layer(e('/a', 'file', 30))]);
  assert.equal(r.efficiency, (10 + 5) / (40 + 5));
  assert.equal(r.wastedBytes, 40);
  assert.equal(r.userWastedPercent, 40 / 30);
  assert.deepEqual(r.inefficientFiles, [{ path: '/a', count: 2, wastedBytes: 40 }]);
});

test('whiteout of a file adds a zero-size sighting; whiteout of a directory sums the stacked subtree', () => {
  const r = computeEfficiency([
    layer(e('/f', 'file', 100), e('/d', 'dir'), e('/d/x', 'file', 7), e('/d/y', 'file', 3)),
    layer(e('/d', 'dir'), e('/d/z', 'file', 5)),
    layer(e('/f', 'whiteout'), e('/d', 'whiteout')),
  ]);
  // /f: 100 + 0; /d (a leaf only as a whiteout): 7 + 3 + 5; leaves /d/x, /d/y, /d/z once each.
  assert.deepEqual(r.inefficientFiles, [{ path: '/f', count: 2, wastedBytes: 100 }]);
  const min = 0 /* /f */ + 15 /* /d */ + 7 + 3 + 5;
  const cum = 100 + 15 + 7 + 3 + 5;
  assert.equal(r.efficiency, min / cum);
});

test('dive quirk: a directory whose payload was replaced by an implicit parent is not summed', () => {
  // Layer 1 adds /d/new without a /d entry: stacking gives /d an empty payload (not a dir), so the whiteout sizes 0.
  const r = computeEfficiency([layer(e('/d', 'dir'), e('/d/x', 'file', 50)), layer(e('/d/new', 'file', 1)), layer(e('/d', 'whiteout'))]);
  const min = 50 + 1 + 0;
  assert.equal(r.efficiency, min / min);
});

test('dive quirk: a whiteout of a path missing below stops that layer and leaves a minimum of -1', () => {
  const r = computeEfficiency([layer(e('/a', 'file', 10)), layer(e('/-early', 'file', 2), e('/ghost', 'whiteout'), e('/a', 'file', 10))]);
  // Layer 1 visits "-early", then ".wh.ghost" (byte order: '-' < '.' < 'a'), which is missing below and aborts
  // the layer: its /a is never seen, and /ghost keeps dive's initial minimum of -1.
  assert.equal(r.efficiency, (10 + 2 - 1) / (10 + 2));
  assert.deepEqual(r.inefficientFiles, []);
});

test('opaque markers are not nodes, but create their parent directories; implicit parents are nodes', () => {
  const r = computeEfficiency([layer(e('/x/y', 'opaque'), e('/p/q/r', 'file', 1))]);
  assert.deepEqual(r.layerNodeCounts, [5]); // x, x/y, p, p/q, p/q/r
  const list = diveFileList([e('/p/q/r', 'file', 1), e('/p', 'dir')]);
  assert.deepEqual(list.map((n) => [n.path, n.entry === null]), [['/p/q/r', false], ['/p/q', true], ['/p', false]]);
});

test('layer sizes use dive\'s header byte sums when the walk has them', () => {
  const r = computeEfficiency([{ entries: [e('/a', 'file', 1)], headerBytes: 99 }, layer(e('/b', 'file', 2))]);
  assert.deepEqual(r.layerSizes, [99, 2]);
  assert.equal(r.sizeBytes, 101);
  assert.equal(r.userSizeBytes, 2);
});

test('inefficient files: largest first; ties in reverse order of discovery, as dive prints them', () => {
  const r = computeEfficiency([
    layer(e('/a', 'file', 5), e('/b', 'file', 5), e('/c', 'file', 1)),
    layer(e('/a', 'file', 5), e('/b', 'file', 5), e('/c', 'file', 100)),
  ]);
  assert.deepEqual(r.inefficientFiles.map((f) => [f.path, f.wastedBytes]), [['/c', 101], ['/b', 10], ['/a', 10]]);
});

test('names sort in UTF-8 byte order, as Go sorts strings', () => {
  assert.ok(compareUtf8('a', 'b') < 0);
  assert.ok(compareUtf8('Z', 'a') < 0);
  assert.ok(compareUtf8('\uffff', '\u{1f600}') < 0); // UTF-16 order says the opposite
  assert.ok(compareUtf8('ab', 'a') > 0);
  assert.equal(compareUtf8('x', 'x'), 0);
});

// A quadratic stacking would take minutes here: the test's timeout is the guard (speed itself is the bench's job).
test('large layers stay fast (incremental stacking for whiteouts)', { timeout: 60_000 }, () => {
  const base = [];
  for (let i = 0; i < 50_000; i++) base.push(e(`/d${i % 100}/f${i}`, 'file', 10));
  const layers = [layer(...base)];
  for (let l = 1; l < 8; l++) {
    const es = [];
    for (let i = 0; i < 2000; i++) es.push(e(`/d${(i + l) % 100}/f${i * 7 + l}`, i % 5 === 0 ? 'whiteout' : 'file', 10));
    layers.push(layer(...es));
  }
  const r = computeEfficiency(layers);
  assert.ok(r.efficiency > 0 && r.efficiency <= 1);
});
