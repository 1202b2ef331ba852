/**
 * The issue's screen list and Keys section, walked: Enter on a check of each
 * subject kind lands on its subject and Esc comes back; Findings' Enter does
 * the same across images; the help scrolls at 80×24; `a` works on Overview;
 * the annotation editor shows a stored text inert; NO_COLOR and the light and
 * dark palettes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import chalk from 'chalk';
import type { CheckResult } from '../../src/core/checks/types.js';
import { makeTheme, PALETTES } from '../../src/tui/components/text.js';
import { KEYMAP } from '../../src/tui/keys.js';
import { CLEAR, fixtureModel, KEY, open, portFor } from './fixture.js';

const cursorLine = (frame: string): string => frame.split('\n').find((l) => l.includes('›')) ?? '';

/** The fixture with two more failing results on api: an environment variable and a layer as subjects. */
function modelWithEnvAndLayer() {
  const model = fixtureModel();
  const api = model.images[0]!;
  const base = { step: 'least-privilege', severity: 'high', status: 'fail', exception: null } as const;
  const none = { layer: null, path: null, env: null, package: null, signature: null };
  api.checks.push(
    { ...base, id: 'VCH-SC-001', subject: { ...none, image: 'api', env: 'TOKEN' }, message: 'env TOKEN looks like a secret' } satisfies CheckResult,
    { ...base, id: 'VCH-HY-003', subject: { ...none, image: 'api', layer: { index: 1, digest: api.layers[1]!.digest, createdBy: 'RUN rm /app/.env' } }, message: 'layer one removes a secret' } satisfies CheckResult,
  );
  return model;
}

test('Checks: Enter on an env subject lands on its name in the image config (never its value), on a layer subject on the layer; Esc comes back', async () => {
  const model = modelWithEnvAndLayer();
  const t = await open({ model, port: portFor(model), height: 40 });
  await t.press('6', '/');
  await t.type('looks like a secret');
  let f = await t.press(KEY.enter, 'g', 'j', KEY.enter);
  assert.match(f.split('\n')[1]!, /\b1 Overview\b/);
  assert.match(cursorLine(f), /env +TOKEN +✘ flagged by a check \(value not shown\)/);
  assert.doesNotMatch(f, /TOKEN=/, 'the value is never shown');
  assert.match(f, /Config of api/);
  f = await t.press(KEY.esc);
  assert.match(cursorLine(f), /VCH-SC-001/, 'Esc returns to the check it came from');
  await t.press(KEY.esc); // clears the Checks filter
  await t.press('/');
  await t.type('removes a secret');
  f = await t.press(KEY.enter, 'g', 'j', KEY.enter);
  assert.match(f, /LAYER 1/);
  assert.match(cursorLine(f), /^.1 +RUN rm \/app\/\.env/);
  f = await t.press(KEY.esc);
  assert.match(cursorLine(f), /VCH-HY-003/);
  t.unmount();
});

test('Findings: Enter on an automated finding shows its subject, on the image it belongs to; Esc comes back', async () => {
  const t = await open({ height: 40 });
  let f = await t.press('7');
  assert.match(cursorLine(f), /api .*VCH-LP-002/);
  f = await t.press(KEY.enter);
  assert.match(f, /MERGED FILESYSTEM/);
  assert.match(cursorLine(f), /su$/);
  f = await t.press(KEY.esc, KEY.esc);
  assert.match(cursorLine(f), /api .*VCH-LP-002/, 'tree → layer list → back to Findings');
  f = await t.press('j', 'j');
  assert.match(cursorLine(f), /VCH-DC-003/);
  f = await t.press(KEY.enter);
  assert.match(cursorLine(f), /lodash/);
  assert.match(f, /NAME \(sort/);
  f = await t.press(KEY.esc, 'G', KEY.enter);
  assert.match(f, /VCH-PV-001 is about the image as a whole: nothing to jump to/);
  // A signature finding of api while worker is selected: the jump switches image.
  f = await t.press(']', 'g', 'j', 'j', 'j', KEY.enter);
  assert.match(f, /api sha256:7{64} +✔ a trusted signature verifies/);
  assert.match(cursorLine(f), /signature #2/);
  f = await t.press(KEY.esc);
  assert.match(cursorLine(f), /VCH-PV-002/);
  t.unmount();
});

test('? at 80×24 scrolls: every key of the table can be seen', async () => {
  const t = await open({ width: 80, height: 24 });
  const seen = new Set<string>();
  const collect = (f: string): void => {
    for (const b of KEYMAP) if (f.includes(b.help)) seen.add(b.action);
  };
  let f = await t.press('?');
  collect(f);
  assert.match(f, /\d+ more below/);
  assert.ok(seen.size < KEYMAP.length, 'the table is longer than the screen (else this test proves nothing)');
  f = await t.press(KEY.pgDown);
  collect(f);
  f = await t.press('G');
  collect(f);
  assert.match(f, /quit \(annotations are saved/);
  assert.match(f, /\d+ above/);
  assert.deepEqual([...seen].sort(), KEYMAP.map((b) => b.action).sort());
  f = await t.press('g');
  assert.match(f, /move up/);
  assert.doesNotMatch(await t.press(KEY.esc), /Keys \(/);
  t.unmount();
});

test('a annotates on Overview too: the image line; the image config shows env names and inert labels', async () => {
  const t = await open();
  let f = await t.press('j', 'j', 'j', 'a');
  assert.match(f, /subject: image api/);
  await t.press(KEY.esc);
  f = await t.press('G');
  assert.match(f, /env +TOKEN$/m);
  assert.doesNotMatch(f, /TOKEN=/, 'env values are never shown');
  assert.ok(f.includes('label       title=shop\\x1b]8;;https://evil.example/\\x07click'), 'the OSC 8 label is shown escaped');
  assert.ok(!f.includes('\x1b]') && !f.includes('\x07'));
  t.unmount();
});

test('editing an annotation whose stored text carries escapes shows it inert', async () => {
  const model = fixtureModel();
  const port = portFor(model);
  await port.annotate({ image: 'api', kind: 'path', value: '/usr/bin/su' }, { disposition: 'note', text: `was${CLEAR}here\x1b]52;c;ZXZpbA==\x07` });
  const t = await open({ model, port });
  await t.press('7', 'G');
  let f = await t.press('e');
  f = await t.press(KEY.enter);
  assert.match(f, /was\\x1b\[2Jhere/);
  assert.ok(!f.includes('\x1b[2J') && !f.includes('\x1b]52') && !f.includes('\x07'), 'no live escape in the editor');
  await t.press(KEY.esc);
  t.unmount();
});

test('NO_COLOR: no colour codes at all; without it the tones are coloured', async () => {
  const level = chalk.level;
  chalk.level = 1; // as on a colour terminal (the test runner's stdout is a pipe)
  try {
    const colour = /\x1b\[(3[0-7]|9[0-7]|90)m/;
    const on = await open({ theme: makeTheme({}) });
    assert.match(await on.press('6'), colour);
    on.unmount();
    const off = await open({ theme: makeTheme({ NO_COLOR: '1' }) });
    for (const k of ['1', '2', '3', '4', '5', '6', '7', '8']) assert.doesNotMatch(await off.press(k), colour, `screen ${k}`);
    // @inkjs/ui's own inputs too: the decision list, the filter, the annotation form.
    let f = await off.press(KEY.enter);
    assert.match(f, /Rationale/);
    assert.doesNotMatch(f, colour, 'rationale input');
    f = await off.press(KEY.esc, '3', '/');
    assert.match(f, /ilter…/); // the cursor (inverse) sits on its first letter
    assert.doesNotMatch(f, colour, 'filter input');
    f = await off.press(KEY.esc, 'a');
    assert.match(f, /disposition \(↑\/↓, Enter\)/);
    assert.doesNotMatch(f, colour, 'annotation form');
    assert.match(off.frame(), /\x1b\[7m/, 'the selection still shows (inverse needs no colour)');
    off.unmount();
  } finally {
    chalk.level = level;
  }
});

test('palettes: no white or black text on either; the light palette avoids yellow and cyan; COLORFGBG and the choice pick it', () => {
  for (const [name, p] of Object.entries(PALETTES)) for (const c of Object.values(p)) assert.ok(!/white|black/i.test(c), `${name}: ${c}`);
  for (const c of Object.values(PALETTES.light)) assert.ok(!/yellow|cyan/.test(c), `light: ${c}`);
  assert.equal(makeTheme({ COLORFGBG: '0;15' }).color('warn'), 'magenta');
  assert.equal(makeTheme({ COLORFGBG: '15;0' }).color('warn'), 'yellow');
  assert.equal(makeTheme({}, 'light').color('modified'), 'magenta');
  assert.equal(makeTheme({ COLORFGBG: '0;15' }, 'dark').color('modified'), 'yellow');
  assert.equal(makeTheme({ VOUCH_THEME: 'light' }).color('accent'), 'blue');
  assert.equal(makeTheme({}, 'no-color').color('bad'), undefined);
  assert.equal(makeTheme({ NO_COLOR: '1' }, 'light').color('bad'), undefined);
});
