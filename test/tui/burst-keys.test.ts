/**
 * Keys that arrive together (a held arrow key, a fast typist over SSH, a
 * script): "\x1b[B\x1b[B\x1b[B" in one chunk is three moves, as three chunks
 * are (newcomer review, session 5: it moved one row).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitKeys } from '../../src/tui/app.js';
import { KEY, open, tick } from './fixture.js';

test('splitKeys: each escape sequence and each character on its own; Meta and lone ESC kept whole', () => {
  assert.deepEqual(splitKeys('\x1b[B\x1b[B\x1b[B'), ['\x1b[B', '\x1b[B', '\x1b[B']);
  assert.deepEqual(splitKeys('jj\x1b[6~\r'), ['j', 'j', '\x1b[6~', '\r']);
  assert.deepEqual(splitKeys('\x1bOA\x1b[1;5C\x1b[3~'), ['\x1bOA', '\x1b[1;5C', '\x1b[3~']);
  assert.deepEqual(splitKeys('\x1b\x1b[A'), ['\x1b\x1b[A']);
  assert.deepEqual(splitKeys('\x1bx'), ['\x1bx']);
  assert.deepEqual(splitKeys('\x1b'), ['\x1b']);
  assert.deepEqual(splitKeys('é😀'), ['é', '😀']);
});

test('three Downs in one chunk move the Packages cursor as three separate Downs do', async () => {
  const one = await open();
  await one.press('3');
  const apart = await one.press(KEY.down, KEY.down, KEY.down);
  one.unmount();
  const two = await open();
  await two.press('3');
  two.stdin.write(KEY.down.repeat(3));
  await tick(300);
  const together = two.frame();
  two.unmount();
  const cursorRow = (f: string): string | undefined => f.split('\n').find((l) => l.startsWith('›') || l.includes('▶') || /^\s*>/.test(l));
  assert.equal(together, apart, `one chunk:\n${together}\nthree chunks:\n${apart}\n(${cursorRow(apart)})`);
});
