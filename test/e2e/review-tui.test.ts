/**
 * `vouch review --demo` in a real terminal (tmux) at 120×40 and 80×24: first
 * run asks who the reviewer is, every screen is visited, a file and a package
 * are annotated, approval is refused with blockers listed, `q` quits with 0.
 * Then the session store end to end: an annotation acknowledged on screen
 * survives a SIGKILL; the reopened session shows the annotations; a second
 * vouch on the same session is refused; Approve signs with the demo key and
 * `vouch verify` accepts the written bundle for both demo images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentCache } from '../../src/core/cache/cache.js';
import { ensureDemoRelease } from '../../src/core/demo/demo-release.js';
import { addAnnotations, resolveSubjects } from '../../src/core/review/annotations.js';
import { createSession } from '../../src/core/review/session.js';
import { readSessionFile, SessionWriter } from '../../src/core/review/store.js';
import { cliCommand, spawnCli, testCacheDir } from '../helpers/inspect.js';
import { hasTmux, Tmux } from '../tui/tmux.js';

const configDir = mkdtempSync(join(tmpdir(), 'vouch-review-e2e-'));
// CI=true as on the CI machine, whatever the tmux server was started with: Ink (is-in-ci) then draws only
// the last frame on unmount, so a reviewer's terminal would stay blank unless `vouch review` undoes it.
const env = { VOUCH_CACHE_DIR: testCacheDir, VOUCH_CONFIG_DIR: configDir, NO_COLOR: '', CI: 'true' };
const cli = cliCommand().map((a) => `'${a}'`).join(' ');

function skipWithoutTmux(t: { skip(m: string): void }): boolean {
  if (hasTmux()) return false;
  if (process.env.CI === 'true') throw new Error('tmux is required under CI');
  t.skip('tmux is not installed');
  return true;
}

test('vouch review --demo at 120×40: identity, every screen, filter, annotate a file and a package, approve, quit', { timeout: 300_000 }, async (t) => {
  if (skipWithoutTmux(t)) return;
  const tm = new Tmux(`vouch-e2e-${process.pid}-a`, 120, 40);
  try {
    // A session of its own (the demo's default one, beside the release, is the next test's).
    tm.start(`${cli} review --demo --session '${join(mkdtempSync(join(tmpdir(), 'vouch-review-a-')), 'shop.review.json')}'`, env);
    await tm.waitFor(/Your name:/, 120_000);
    await tm.type('Rita Reviewer');
    await tm.press(/Email:/, 'Enter');
    await tm.type('rita@example.com');
    tm.keys('Enter');
    let s = await tm.waitFor(/Release shop 2\.4\.0/, 180_000);
    // The email field starts empty (it once kept the typed name: "Rita Reviewerrita@example.com").
    assert.deepEqual(JSON.parse(readFileSync(join(configDir, 'preferences.json'), 'utf8')).reviewer, { name: 'Rita Reviewer', email: 'rita@example.com' });
    assert.match(s, /api +sha256:[0-9a-f]{64} +signed ✔/);
    assert.match(s, /worker +sha256:[0-9a-f]{64} +unsigned ✘/);
    assert.match(s, /shop-api-fork +✘ sources disagree/);

    // Layers: filter the merged tree to the setuid binary and annotate it.
    await tm.press(/MERGED FILESYSTEM/, '2');
    tm.keys('l');
    await tm.press(/\/filter…/, '/');
    await tm.type('demo-su');
    s = await tm.press(/filter: demo-su/, 'Enter');
    s = await tm.press(/subject: file \/usr\/bin\/demo-su/, 'G', 'a');
    await tm.press(/disposition: must-fix/, 'Enter');
    await tm.type('setuid helper must go');
    await tm.press(/annotated: file \/usr\/bin\/demo-su/, 'Enter');

    // Packages: the SBOM's other lodash is marked; annotate the package.
    await tm.press(/NAME \(sort/, '3');
    await tm.press(/\/filter…/, '/');
    await tm.type('lodash');
    s = await tm.press(/filter: lodash/, 'Enter');
    assert.match(s, /V lodash +4\.17\.20 \(SBOM 4\.17\.21\)/);
    await tm.press(/subject: package pkg:npm\/lodash@4\.17\.20/, 'a');
    await tm.press(/disposition: accepted-risk/, 'Down', 'Enter');
    await tm.type('pinned back for a regression, tracked');
    await tm.press(/annotated: package/, 'Enter');

    s = await tm.press(/DOWNGRADE/, '4');
    assert.match(s, /↓ npm +lodash +4\.17\.21 → 4\.17\.20/);
    s = await tm.press(/a trusted signature verifies/, '5');
    assert.match(s, /trusted as demo-ci/);
    s = await tm.press(/UNSIGNED/, ']');
    s = await tm.press(/api sha256/, '[');
    s = await tm.press(/Least privilege — \d+ failing/, '6');
    assert.match(s, /VCH-LP-002/);
    s = await tm.press(/must-fix +path \/usr\/bin\/demo-su/, '7');
    assert.match(s, /accepted-risk +package pkg:npm\/lodash/);
    s = await tm.press(/approved +\d+ blockers/, '8');
    assert.match(s, /approved +\d+ blockers/);
    assert.match(s, /must-fix a\d+ on api \(\/usr\/bin\/demo-su\): setuid helper must go/);
    await tm.press(/Rationale/, 'Enter');
    await tm.type('not yet');
    await tm.press(/Blocked/, 'Enter');
    await tm.press(/refused: \d+ blockers/, 'Enter');
    await tm.press(/Decision \(↑\/↓, Enter\)/, 'Enter');
    s = await tm.press(/Keys \(Esc or \? closes\)/, '?');
    await tm.press(/1 Overview/, 'Escape');
    await tm.press(/__exit 0/, 'q');
  } finally {
    tm.kill();
  }
});

test('vouch review --demo at 80×24: every screen fits, the identity is remembered', { timeout: 300_000 }, async (t) => {
  if (skipWithoutTmux(t)) return;
  const tm = new Tmux(`vouch-e2e-${process.pid}-b`, 80, 24);
  try {
    tm.start(`${cli} config set reviewer.name 'Rita Reviewer' && ${cli} review --demo`, env);
    await tm.waitFor(/Release shop 2\.4\.0/, 180_000);
    const marks: Array<[string, RegExp]> = [
      ['2', /MERGED FILESYSTEM/],
      ['3', /NAME \(sort: name/],
      ['4', /DOWNGRADE/],
      ['5', /signature #1 cosign +✔ verified/],
      ['6', /FAIL/],
      ['7', /DISPOSITION/],
      ['8', /Decision/],
      ['1', /Release shop/],
    ];
    for (const [k, re] of marks) {
      const s = await tm.press(re, k);
      const lines = s.replace(/\n$/, '').split('\n');
      assert.ok(lines.length <= 24, `screen ${k}: ${lines.length} lines`);
      assert.match(lines[1]!, /1 Ove/, `screen ${k}: the tab bar is still on screen`);
    }
    await tm.press(/__exit 0/, 'q');
  } finally {
    tm.kill();
  }
});

test('the session store in a real terminal: SIGKILL after an acknowledged annotation loses nothing; reopen shows it; a second vouch is refused; approve with the demo key; vouch verify accepts it', { timeout: 300_000 }, async (t) => {
  if (skipWithoutTmux(t)) return;
  // A session whose blocking results already carry accepted-risk (as `vouch annotate` would add them), so Approve can sign.
  const demo = await ensureDemoRelease(testCacheDir);
  const dir = mkdtempSync(join(tmpdir(), 'vouch-review-c-'));
  const session = join(dir, 'shop.review.json');
  const w = await SessionWriter.create(session, () => createSession(demo.releaseFile, { cache: new ContentCache(testCacheDir) }));
  for (const im of w.session.images) {
    for (const r of im.checks.results.filter((x) => x.status === 'fail' && ['high', 'critical'].includes(x.severity))) {
      const subjects = (await resolveSubjects(w.session, im.key, { kind: 'check', check: r.id })).filter((x) => x.kind === 'check' && x.subject === r.subject);
      await w.update((sess) => addAnnotations(sess, subjects, { disposition: 'accepted-risk', text: 'accepted for the demo', author: 'Rita Reviewer' }));
    }
  }
  const accepted = w.session.annotations.length;
  await w.close();
  assert.ok(accepted >= 6, `${accepted} accepted risks`);

  const start = `${cli} config set reviewer.name 'Rita Reviewer' && ${cli} review --demo --session '${session}'`;
  const tm = new Tmux(`vouch-e2e-${process.pid}-c`, 120, 40);
  const other = new Tmux(`vouch-e2e-${process.pid}-d`, 100, 10);
  try {
    tm.start(start, env);
    await tm.waitFor(/Release shop 2\.4\.0/, 180_000);
    await tm.press(/MERGED FILESYSTEM/, '2');
    tm.keys('l');
    await tm.press(/\/filter…/, '/');
    await tm.type('demo-su');
    await tm.press(/filter: demo-su/, 'Enter');
    await tm.press(/subject: file \/usr\/bin\/demo-su/, 'G', 'a');
    tm.keys('Down', 'Down', 'Down');
    await tm.press(/disposition: note/, 'Enter');
    await tm.type('killed right after this');
    await tm.press(/annotated: file \/usr\/bin\/demo-su/, 'Enter');
    // Acknowledged on screen: kill the workbench at once (its PID is in the session's lock).
    const pid = (JSON.parse(readFileSync(`${session}.lock`, 'utf8')) as { pid: number }).pid;
    process.kill(pid, 'SIGKILL');
    // Reaped by its shell (a zombie still answers kill(pid, 0), and its lock would look held).
    await tm.waitFor(/__exit 137/);
    const after = await readSessionFile(session);
    assert.deepEqual(
      after.annotations.filter((a) => a.subject.kind === 'path').map((a) => [a.subject, a.disposition, a.text]),
      [[{ kind: 'path', image: 'api', path: '/usr/bin/demo-su' }, 'note', 'killed right after this']],
    );

    // Reopen (the dead process's lock is taken over): the annotations are on screen.
    tm.start(start, env);
    await tm.waitFor(/Release shop 2\.4\.0/, 180_000);
    let s = await tm.press(/DISPOSITION/, '7');
    assert.match(s, /note +path \/usr\/bin\/demo-su +killed right after this/);
    assert.match(s, /accepted-risk +VCH-LP-002 \/usr\/bin\/demo-su/);
    // A second vouch on the same session: refused before any UI, exit 2.
    other.start(`${cli} review --demo --session '${session}'`, env);
    s = await other.waitFor(/__exit/, 60_000);
    assert.match(s.replace(/\n/g, ''), /in use by PID \d+ since /);
    assert.match(s, /__exit 2/);

    // Approve with exceptions: signed with the demo key, written next to the session, verified at once.
    s = await tm.press(/approved-with-exceptions +allowed/, '8');
    await tm.press(/Rationale/, 'Down', 'Enter');
    await tm.type('risks accepted for the demo');
    await tm.press(/Enter signs/, 'Enter');
    s = await tm.press(/✔ approved-with-exceptions signed/, 'Enter');
    assert.match(s, /vouch verify: ok for api, worker/);
    const approval = join(dir, 'shop-2.4.0.demo-reviewer.sigstore.json');
    assert.match(s.replace(/\n/g, ''), new RegExp(`written: ${approval.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await tm.press(/__exit 0/, 'q');
    for (const im of after.images) {
      const v = await spawnCli(['verify', approval, '--image', `${im.name}@${im.digest}`, '--trust', demo.trustFile], { VOUCH_CACHE_DIR: testCacheDir });
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /approved-with-exceptions/);
    }
  } finally {
    tm.kill();
    other.kill();
  }
});
