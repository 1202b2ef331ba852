/**
 * The annotation form takes keys as they come, however fast: keys typed right
 * behind the `a` that opens it (before it has mounted), a burst sent in one
 * chunk, and text with its Enter in one chunk all land in order, and Enter
 * saves what was typed, not the previous frame's value. An exception
 * (accepted-risk, false-positive) needs a reason: an empty text is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession } from '../../src/core/review/session.js';
import { SessionWriter } from '../../src/core/review/store.js';
import { spawnCli } from '../helpers/inspect.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { KEY, open, tick } from './fixture.js';

const DOWN = KEY.down;

/** Wait until the frame matches (or give up after 3 s and return the last frame). */
async function until(t: { frame(): string }, re: RegExp): Promise<string> {
  for (let i = 0; i < 150 && !re.test(t.frame()); i++) await tick(20);
  return t.frame();
}

test('a burst in one chunk (a Down Down Down Enter) and the text with its Enter in one chunk land in order', async () => {
  const t = await open();
  await t.press('7');
  t.stdin.write(`a${DOWN}${DOWN}${DOWN}\r`);
  t.stdin.write('typed at once\r');
  await until(t, /annotated/);
  const saved = await t.port.load();
  assert.equal(saved.length, 1, t.frame());
  assert.equal(saved[0]!.disposition, 'note');
  assert.equal(saved[0]!.text, 'typed at once');
  t.unmount();
});

test('keys sent back to back, each its own write, faster than a frame', async () => {
  const t = await open();
  await t.press('7');
  for (const k of ['a', DOWN, '\r', 'f', 'a', 's', 't', '\r']) t.stdin.write(k);
  await until(t, /annotated/);
  const saved = await t.port.load();
  assert.equal(saved.length, 1, t.frame());
  assert.equal(saved[0]!.disposition, 'accepted-risk');
  assert.equal(saved[0]!.text, 'fast');
  t.unmount();
});

test('accepted-risk and false-positive with no text are refused in the form (nothing saved); must-fix and note may be empty', async () => {
  const t = await open();
  await t.press('7');
  let f = await t.press('a', DOWN, KEY.enter, KEY.enter);
  assert.match(f, /accepted-risk needs a reason/);
  assert.equal((await t.port.load()).length, 0);
  f = await t.type('   ');
  f = await t.press(KEY.enter);
  assert.match(f, /accepted-risk needs a reason/);
  assert.equal((await t.port.load()).length, 0);
  await t.press(KEY.esc);
  f = await t.press('a', DOWN, DOWN, DOWN, KEY.enter, KEY.enter);
  assert.match(f, /annotated/);
  assert.equal((await t.port.load())[0]!.disposition, 'note');
  t.unmount();
});

test('the form sets a severity (Tab cycles it), as `vouch annotate --severity` does', async () => {
  const t = await open();
  await t.press('7');
  let f = await t.press('a');
  assert.match(f, /severity: none/);
  f = await t.press(KEY.tab, KEY.tab);
  assert.match(f, /severity: high/);
  await t.press(KEY.enter);
  await t.type('bad');
  await t.press(KEY.enter);
  const [a] = await t.port.load();
  assert.equal(a!.severity, 'high');
  assert.equal(a!.disposition, 'must-fix');
  t.unmount();
});

test('`vouch annotate --text ""` on an accepted-risk or false-positive exits 2 naming --text; a note may be empty', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-annotate-empty-'));
  const env = { VOUCH_CACHE_DIR: join(dir, 'cache') };
  process.env.VOUCH_CACHE_DIR = env.VOUCH_CACHE_DIR;
  await writeMiniLayout(join(dir, 'layout'), { tag: '1.0.0', platforms: [{ os: 'linux', architecture: 'amd64' }] });
  writeFileSync(join(dir, 'vouch.trust.yaml'), 'reviewers: []\n');
  writeFileSync(join(dir, 'vouch.release.yaml'), 'name: t\nversion: 1.0.0\nimages:\n  api: oci:./layout:1.0.0\ntrust: ./vouch.trust.yaml\n');
  const session = join(dir, 't.review.json');
  const w = await SessionWriter.create(session, () => createSession(join(dir, 'vouch.release.yaml')));
  await w.close();
  for (const d of ['accepted-risk', 'false-positive']) {
    const r = await spawnCli(['annotate', '--session', session, '--whole-image', '--disposition', d, '--text', ' '], env);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--text: .*needs a reason/);
  }
  const ok = await spawnCli(['annotate', '--session', session, '--whole-image', '--disposition', 'note', '--text', ''], env);
  assert.equal(ok.code, 0, ok.stderr);
  // Editing an exception down to no text is refused too.
  const x = await spawnCli(['annotate', '--session', session, '--whole-image', '--disposition', 'accepted-risk', '--text', 'ok'], env);
  assert.equal(x.code, 0, x.stderr);
  const e = await spawnCli(['annotate', '--session', session, '--edit', 'a2', '--text', ''], env);
  assert.equal(e.code, 2, e.stdout + e.stderr);
  assert.match(e.stderr, /--text: accepted-risk needs a reason/);
});
