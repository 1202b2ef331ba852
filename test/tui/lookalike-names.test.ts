/**
 * Two files whose names look the same once sanitised (one holds a real ESC,
 * the other a literal backslash, "x1b") stay two subjects: two rows in the
 * tree, two results in the session, and an annotation on one decides only
 * that one. Names are kept raw in the session and the model; only drawing
 * sanitises them, and no raw control character reaches the terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentCache } from '../../src/core/cache/cache.js';
import { approvalBlockers } from '../../src/core/approval/blockers.js';
import { addAnnotations, resolveSubjects } from '../../src/core/review/annotations.js';
import { parseSession } from '../../src/core/review/schema.js';
import { createSession } from '../../src/core/review/session.js';
import { loadReview } from '../../src/tui/loader.js';
import type { ReviewModel } from '../../src/tui/model.js';
import { fit } from '../../src/tui/components/text.js';
import { displayWidth } from '../../src/core/util/column-fit.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { KEY, open, portFor } from './fixture.js';

const ESC_NAME = '/usr/bin/su\x1b[8mhidden';
const LITERAL_NAME = '/usr/bin/su\\x1b[8mhidden';
const dir = mkdtempSync(join(tmpdir(), 'vouch-lookalike-'));
const cacheDir = mkdtempSync(join(tmpdir(), 'vouch-lookalike-cache-'));
const prevCache = process.env.VOUCH_CACHE_DIR;
let release = '';
let model: ReviewModel;

test.before(async () => {
  process.env.VOUCH_CACHE_DIR = cacheDir;
  await writeMiniLayout(join(dir, 'layout'), {
    tag: '1.0.0',
    platforms: [{ os: 'linux', architecture: 'amd64' }],
    files: () => [
      { path: 'etc/os-release', content: 'NAME=t\n' },
      { path: ESC_NAME.slice(1), content: 'a', mode: 0o4755 },
      { path: LITERAL_NAME.slice(1), content: 'b', mode: 0o4755 },
    ],
  });
  release = join(dir, 'vouch.release.yaml');
  writeFileSync(join(dir, 'vouch.trust.yaml'), 'reviewers: []\n');
  writeFileSync(release, 'name: look\nversion: 1.0.0\nimages:\n  api: oci:./layout:1.0.0\ntrust: ./vouch.trust.yaml\n');
  model = await loadReview([`oci:${join(dir, 'layout')}:1.0.0`], { cache: new ContentCache(cacheDir), names: ['api'], noChain: true });
});

test.after(() => {
  process.env.VOUCH_CACHE_DIR = prevCache;
});

/** Every ESC in a frame starts an SGR sequence Ink wrote for styling, never one from a name. */
const noHostile = (frame: string): void => {
  assert.doesNotMatch(frame, /\x1b\[8m/);
  assert.doesNotMatch(frame.replace(/\x1b\[[0-9;]*m/g, ''), /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
};

test('the session keeps two subjects, and an annotation on one file decides only its own finding', async () => {
  const s = await createSession(release, { cache: new ContentCache(cacheDir) });
  const im = s.images[0]!;
  const setuid = im.checks.results.filter((r) => r.id === 'VCH-LP-002').map((r) => r.subject).sort();
  assert.deepEqual(setuid, [LITERAL_NAME, ESC_NAME].sort());
  // The session file round-trips the raw names (JSON escapes the control character) and its schema takes them.
  const again = parseSession(JSON.stringify(s, null, 2), 'x.review.json');
  assert.deepEqual(again.images[0]!.checks.results.filter((r) => r.id === 'VCH-LP-002').map((r) => r.subject).sort(), setuid);
  const subjects = await resolveSubjects(s, 'api', { kind: 'path', path: ESC_NAME });
  addAnnotations(s, subjects, { disposition: 'accepted-risk', text: 'only the ESC one', author: 'rita' });
  const blockers = approvalBlockers(s, 'approved-with-exceptions');
  assert.equal(blockers.filter((b) => b.startsWith('VCH-LP-002')).length, 1, blockers.join('\n'));
  assert.ok(blockers.some((b) => b.includes(LITERAL_NAME)), blockers.join('\n'));
});

test('the tree shows each file on its own row; nothing raw reaches the terminal', async () => {
  const t = await open({ model, port: portFor(model), height: 30 });
  let f = await t.press('2', 'l', '/');
  f = await t.type('hidden');
  f = await t.press(KEY.enter);
  noHostile(f);
  const rows = f.split('\n').filter((l) => l.includes('su\\x1b[8mhidden'));
  assert.equal(rows.length, 2, f);
  assert.equal(model.images[0]!.tree('merged').nodes.filter((n) => n.name.startsWith('su')).length, 2);
  t.unmount();
});

test('Enter on a finding about a file with a control character in its name jumps to that file, and `a` annotates it', async () => {
  const t = await open({ model, port: portFor(model), height: 30 });
  let f = await t.press('6', '/');
  await t.type('hidden');
  f = await t.press(KEY.enter);
  noHostile(f);
  // Rows: the Least privilege header, then the two LP-002 results (one per file): each jumps to its own file.
  const rows = new Set<number>();
  for (const down of [1, 2]) {
    f = await t.press('g', ...Array<string>(down).fill('j'), KEY.enter);
    noHostile(f);
    assert.doesNotMatch(f, /is not in any layer/);
    assert.match(f, /MERGED FILESYSTEM/);
    const lines = f.split('\n');
    rows.add(lines.findIndex((l) => l.includes('›')));
    assert.match(lines.find((l) => l.includes('›')) ?? '', /su\\x1b\[8mhidden$/);
    f = await t.press('a');
    noHostile(f);
    assert.match(f, /subject: file \/usr\/bin\/su\\x1b\[8mhidden/);
    assert.doesNotMatch(f, /subject: image/);
    await t.press(KEY.esc);
    f = await t.press(KEY.esc);
    assert.match(f, /Least privilege/);
  }
  assert.equal(rows.size, 2, 'two findings, two rows');
  t.unmount();
});

test('cells are sanitised before they are padded, and padded by terminal columns (CJK two, combining marks none)', () => {
  assert.equal(fit('a\x1bb', 8), 'a\\x1bb  ');
  assert.equal(displayWidth(fit('wide中文\u0301', 12)), 12);
  assert.equal(fit('中文中文', 5), '中文…');
  assert.equal(displayWidth(fit('中文中文', 5)), 5);
  assert.equal(fit('x', 4, 'right'), '   x');
  assert.equal(fit('abc', 1), '…');
});
