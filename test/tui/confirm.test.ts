import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY, open } from './fixture.js';

const cursorLine = (frame: string): string => frame.split('\n').find((l) => l.includes('›')) ?? '';

test('Findings: c and x ask y/N first; the default (Enter, n, Esc) changes nothing', async () => {
  const t = await open();
  await t.press('7', 'a', KEY.enter);
  await t.type('fix before release');
  let f = await t.press(KEY.enter);
  assert.match(cursorLine(f), /must-fix/);
  // Re-classify: asked, Enter is No.
  f = await t.press('c');
  assert.match(f, /change must-fix by Rita Reviewer <rita@example\.com> → accepted-risk\? y\/N/);
  assert.match(cursorLine(f), /must-fix/);
  f = await t.press(KEY.enter);
  assert.match(f, /cancelled: nothing changed/);
  assert.match(cursorLine(f), /must-fix/);
  assert.equal((await t.port.load())[0]!.disposition, 'must-fix');
  // n is No too; y goes ahead.
  f = await t.press('c', 'n');
  assert.match(cursorLine(f), /must-fix/);
  f = await t.press('c', 'y');
  assert.match(cursorLine(f), /accepted-risk/);
  assert.equal((await t.port.load())[0]!.disposition, 'accepted-risk');
  // Delete: asked; Esc keeps it, y deletes it (the history stays).
  f = await t.press('x');
  assert.match(f, /delete annotation accepted-risk on VCH-LP-002 \/usr\/bin\/su\? y\/N/);
  f = await t.press(KEY.esc);
  assert.match(f, /cancelled: nothing changed/);
  assert.equal((await t.port.load())[0]!.deleted, false);
  f = await t.press('x', 'y');
  assert.match(f, /annotation deleted/);
  assert.equal((await t.port.load())[0]!.deleted, true);
  t.unmount();
});
