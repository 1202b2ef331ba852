/** Narrow terminals: tables cut their least important column first; every screen keeps the tab bar and the selected row's key fields; resizes are followed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement as h } from 'react';
import { render } from 'ink-testing-library';
import { columnWidths, type Column } from '../../src/tui/components/table.js';
import { App } from '../../src/tui/app.js';
import { makeTheme } from '../../src/tui/components/text.js';
import { KEYMAP } from '../../src/tui/keys.js';
import { fixtureModel, KEY, open, portFor, tick } from './fixture.js';

const cursorLine = (frame: string): string => frame.split('\n').find((l) => l.includes('›')) ?? '';
const TITLES = ['Overview', 'Layers', 'Packages', 'Diff', 'Chain', 'Checks', 'Findings', 'Approve'];

test('columnWidths cuts the least important column first, not the widest', () => {
  const cols: Column[] = [
    { header: 'A', width: 4, priority: 2 },
    { header: 'B', width: 20, priority: 1 },
    { header: 'C', width: 6, priority: 5 },
    { header: 'D', min: 10, priority: 1 },
  ];
  assert.deepEqual(columnWidths(cols, 100), [4, 20, 6, 67]);
  assert.deepEqual(columnWidths(cols, 40), [4, 20, 0, 14], 'C goes first though B is the widest');
  assert.deepEqual(columnWidths(cols, 35), [0, 20, 0, 14], 'then A');
  assert.deepEqual(columnWidths([{ header: 'X', width: 5, priority: 3 }, { header: 'Y', width: 5, priority: 3 }, { header: 'Z', min: 4 }], 11), [5, 0, 5], 'ties: the rightmost goes first');
});

for (const width of [80, 60]) {
  test(`${width}×24: every screen fits, shows the tab bar and the selected row's key fields`, async () => {
    const t = await open({ width, height: 24 });
    const check = (f: string, screen: number): string => {
      const lines = f.split('\n');
      assert.ok(lines.length <= 24, `screen ${screen}: ${lines.length} lines`);
      for (const l of lines) assert.ok([...l].length <= width, `screen ${screen}: line wider than ${width}: ${l}`);
      const bar = lines[1]!;
      assert.ok(bar.includes(`${screen} ${TITLES[screen - 1]}`), `screen ${screen}: the active tab keeps its title: ${bar}`);
      for (let i = 1; i <= 8; i++) assert.match(bar, new RegExp(`(^| )${i} \\S`), `screen ${screen}: tab ${i} in the bar`);
      return f;
    };
    let f = check(await t.press('1'), 1);
    assert.match(cursorLine(f), /Release shop 2\.4\.0/);
    assert.match(f, /api +signed ✔/, 'the signature status is not clipped away');
    assert.match(f, /worker +unsigned ✘/);
    f = check(await t.press('2'), 2);
    assert.match(cursorLine(f), /merged filesys\S* +600 B/, 'the selected layer: what it is and its size');
    f = check(await t.press('l', 'j'), 2);
    assert.match(cursorLine(f), /100 B +evil/, 'the selected file: its size and name');
    f = check(await t.press('3'), 3);
    assert.match(f, /VERSION/);
    assert.match(cursorLine(f), /evil.* 1\.0\.0 /, 'the selected package: name and version');
    if (width === 60) assert.doesNotMatch(f, /LAYER/, 'the least important column (layer) is cut, not the widest (version)');
    else assert.match(f, /LAYER/);
    f = check(await t.press('4', 'j', 'j'), 4);
    assert.match(cursorLine(f), /↓ npm +lodash +4\.17\.21 → 4\.17\.20 +DOWNGRADE/);
    f = check(await t.press('5'), 5);
    assert.match(cursorLine(f), /api ✔ a trusted signature verifies/);
    f = check(await t.press('6', 'j'), 6);
    assert.match(cursorLine(f), /FAIL .*VCH-PV-002 signature #2/);
    if (width === 60) assert.doesNotMatch(f, /SEVERITY/, 'severity goes before check and subject');
    else assert.match(f, /SEVERITY/);
    f = check(await t.press('7'), 7);
    assert.match(cursorLine(f), /api .*open +VCH-LP-002 \/usr\/bin/);
    f = check(await t.press('8'), 8);
    // The blockers are computed asynchronously ("computing…"): wait for them, without a timed assertion.
    for (let i = 0; i < 100 && /computing…/.test(f); i++) f = (await tick(50), t.frame());
    assert.match(check(f, 8), /approved +4 blockers/);
    t.unmount();
  });
}

test('a resize is followed: the frame narrows to the new width and the tables cut columns, then widen again', async () => {
  const model = fixtureModel();
  // No width or height: the App follows the terminal (ink-testing-library's stdout says 100 columns).
  const r = render(h(App, { model, port: portFor(model), theme: makeTheme({ NO_COLOR: '1' }), keys: KEYMAP, initialScreen: 'packages' }));
  const settle = async (): Promise<string> => {
    for (let seen = -1; seen !== r.frames.length; ) {
      seen = r.frames.length;
      await tick(60);
    }
    return r.lastFrame() ?? '';
  };
  const resize = async (columns: number): Promise<string> => {
    Object.defineProperty(r.stdout, 'columns', { configurable: true, get: () => columns });
    r.stdout.emit('resize');
    return settle();
  };
  let f = await settle();
  assert.match(f, /LAYER/);
  assert.ok(f.split('\n').some((l) => [...l].length > 60), 'wider than 60 before the resize');
  f = await resize(60);
  for (const l of f.split('\n')) assert.ok([...l].length <= 60, `line wider than 60 after the resize: ${l}`);
  assert.doesNotMatch(f, /LAYER/);
  assert.match(f.split('\n')[1]!, /3 Packages/);
  f = await resize(120);
  assert.match(f, /LAYER/);
  assert.match(f.split('\n')[1]!, /1 Overview +2 Layers +3 Packages/, 'full tab titles again');
  r.unmount();
  void KEY;
});
