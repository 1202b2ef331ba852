import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureModel, KEY, open, tick } from './fixture.js';

/** The line of the frame the cursor is on (the gutter shows ›). */
const cursorLine = (frame: string): string => frame.split('\n').find((l) => l.includes('›')) ?? '';

/**
 * The frame once `re` is on it (or after `ms`): a target screen says what it cannot show from an effect after it
 * mounts, which on a loaded machine can come after the frame the key brought.
 */
async function until(t: Awaited<ReturnType<typeof open>>, re: RegExp, ms = 5000): Promise<string> {
  for (const t0 = Date.now(); !re.test(t.frame()) && Date.now() - t0 < ms; ) await tick(20);
  return t.frame();
}

test('a jump clears a leftover filter on the target screen and lands on exactly the subject; one Esc returns', async () => {
  const t = await open({ height: 40 });
  let f = await t.press('2', 'l', '/');
  f = await t.type('passwd');
  f = await t.press(KEY.enter);
  assert.match(f, /filter: passwd/);
  // Checks rows: Provenance header, PV-002, Least privilege header, LP-002 (/usr/bin/su), ...
  f = await t.press('6', 'g', 'j', 'j', 'j', KEY.enter);
  assert.match(f, /MERGED FILESYSTEM/);
  assert.match(cursorLine(f), /su$/);
  assert.doesNotMatch(cursorLine(f), /passwd/);
  assert.match(f, /filter "passwd" cleared/);
  // `a` annotates the file the check is about.
  f = await t.press('a');
  assert.match(f, /subject: file \/usr\/bin\/su/);
  await t.press(KEY.esc);
  f = await t.press(KEY.esc);
  assert.match(f, /Least privilege — 2 failing/, 'one Esc after the jump is back on Checks');
  t.unmount();
});

test('a jump to a file the image does not have says so and does not put the cursor on another file', async () => {
  const model = fixtureModel();
  const api = model.images[0]!;
  const lp = api.checks.find((r) => r.id === 'VCH-LP-002')!;
  lp.subject = { ...lp.subject, path: '/usr/bin/gone' };
  const t = await open({ model, height: 40 });
  await t.press('6', 'g', 'j', 'j', 'j', KEY.enter);
  let f = await until(t, /\/usr\/bin\/gone is not in any layer of api/);
  assert.match(f, /\/usr\/bin\/gone is not in any layer of api/);
  // The tree is not focused: the layer list keeps its cursor (merged filesystem), no file row is selected.
  assert.match(cursorLine(f), /merged filesystem/);
  f = await t.press('a');
  assert.match(f, /subject: image api/);
  t.unmount();
});

test('a jump to a package or a signature the image does not have says so and leaves the cursor where it was', async () => {
  const model = fixtureModel();
  const api = model.images[0]!;
  const dc = api.checks.find((r) => r.id === 'VCH-DC-003')!;
  dc.subject = { ...dc.subject, package: { ...dc.subject.package!, purl: 'pkg:npm/nowhere@1.0.0' } };
  const pv = api.checks.find((r) => r.id === 'VCH-PV-002')!;
  pv.subject = { ...pv.subject, signature: { ...pv.subject.signature!, index: 9 } };
  const t = await open({ model, height: 40 });
  const before = cursorLine(await t.press('3'));
  // Checks rows: Provenance header, PV-002, Least privilege header, LP-002, SC-003, Dependency header, DC-003.
  await t.press('6', 'g', 'j', 'j', 'j', 'j', 'j', 'j', KEY.enter);
  let f = await until(t, /pkg:npm\/nowhere@1\.0\.0 is not among the packages of api/);
  assert.match(f, /pkg:npm\/nowhere@1\.0\.0 is not among the packages of api/);
  assert.equal(cursorLine(f), before, 'the cursor stays where it was');
  await t.press('6', 'g', 'j', KEY.enter);
  f = await until(t, /signature #9 is not attached to api: nothing to show/);
  assert.match(f, /signature #9 is not attached to api: nothing to show/);
  assert.doesNotMatch(cursorLine(f), /signature #/);
  t.unmount();
});
