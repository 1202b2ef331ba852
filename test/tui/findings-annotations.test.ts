/**
 * Findings lists every live annotation on a finding (not only the one that
 * decides it), each reachable by e / c / x; prompts name the subject as people
 * read it; an annotation written by someone else says whose it is, and after
 * an edit or a re-classification the original author stays in its history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSubject } from '../../src/tui/session-port.js';
import { fixtureModel, KEY, open, portFor } from './fixture.js';

const cursorLine = (frame: string): string => frame.split('\n').find((l) => l.startsWith('›')) ?? '';

test('two annotations on one finding: both listed, each reachable by e and x; the edit prompt names the finding, not an internal key', async () => {
  const model = fixtureModel();
  const port = portFor(model);
  const lp = model.images[0]!.checks.find((r) => r.id === 'VCH-LP-002')!;
  await port.annotate(checkSubject('api', lp), { disposition: 'must-fix', text: 'drop the setuid bit' });
  await port.annotate(checkSubject('api', lp), { disposition: 'note', text: 'asked the team' });
  const t = await open({ model, port, height: 30, width: 160 });
  let f = await t.press('7');
  assert.match(f, /must-fix .*VCH-LP-002 \/usr\/bin\/su .*drop the setuid bit/);
  assert.match(f, /note .*VCH-LP-002 \/usr\/bin\/su .*asked the team/);
  // The second row under the finding is the note: `e` edits that one.
  f = await t.press('j');
  assert.match(cursorLine(f), /asked the team/);
  f = await t.press('e');
  assert.match(f, /Edit annotation/);
  assert.match(f, /subject: VCH-LP-002 \/usr\/bin\/su/);
  assert.doesNotMatch(f, /subject: check /);
  await t.press(KEY.esc);
  f = await t.press('x');
  assert.match(f, /delete annotation note on VCH-LP-002 \/usr\/bin\/su\? y\/N/);
  f = await t.press('y');
  const live = (await port.load()).filter((a) => !a.deleted);
  assert.deepEqual(live.map((a) => a.disposition), ['must-fix']);
  t.unmount();
});

test("someone else's annotation says whose it is; re-classifying or editing it keeps that author in its history", async () => {
  const model = fixtureModel();
  const port = portFor(model);
  const lp = model.images[0]!.checks.find((r) => r.id === 'VCH-LP-002')!;
  // Written by alice (the test port records its own author: switch it for this one annotation).
  const who = port as unknown as { author: string };
  who.author = 'alice <alice@example.com>';
  await port.annotate(checkSubject('api', lp), { disposition: 'must-fix', text: 'remove it' });
  who.author = 'Rita Reviewer <rita@example.com>';
  const t = await open({ model, port, height: 30 });
  let f = await t.press('7');
  assert.match(cursorLine(f), /must-fix/);
  // The row's note ends with its author, and the line under the table says it in full.
  assert.match(f, /\n\/usr\/bin\/su is setuid — must-fix: remove it \(by alice <alice@example\.com>\)/);
  f = await t.press('c');
  assert.match(f, /change must-fix by alice <alice@example\.com> → accepted-risk\? y\/N/);
  f = await t.press('y');
  assert.match(f, /re-classified as accepted-risk \(was must-fix by alice <alice@example\.com>, kept in its history\)/);
  f = await t.press('e');
  assert.match(f, /written by Rita Reviewer/);
  await t.press(KEY.esc);
  const [a] = await port.load();
  assert.equal(a!.author, 'Rita Reviewer <rita@example.com>');
  assert.equal(a!.history[0]!.author, 'alice <alice@example.com>');
  f = t.frame();
  assert.match(f, /history: must-fix "remove it" · by alice <alice@example\.com>/);
  t.unmount();
});

test('/ on a screen without a list to filter says so (Overview, Chain, Approve)', async () => {
  const t = await open();
  let f = await t.press('1', '/');
  assert.match(f, /Overview has no list to filter \(Layers, Packages, Diff, Checks, Findings have\)/);
  f = await t.press('5', '/');
  assert.match(f, /Chain has no list to filter/);
  // The keys after it are not taken as a filter: `2` still switches screens.
  f = await t.press('2');
  assert.match(f, /MERGED FILESYSTEM/);
  t.unmount();
});
