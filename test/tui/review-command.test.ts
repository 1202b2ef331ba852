/** `vouch review` and `vouch config` as commands: no terminal, bad flags, the preferences store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../helpers/inspect.js';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { reviewRequest, runReview } from '../../src/cli/commands/review.js';
import { ensureDemoRelease } from '../../src/core/demo/demo-release.js';
import { isVouchError } from '../../src/core/errors.js';
import { loadReleaseFile } from '../../src/core/review/release.js';
import { ContentCache } from '../../src/core/cache/cache.js';
import { createSession, refreshSession } from '../../src/core/review/session.js';
import type { ReviewSession } from '../../src/core/review/types.js';

test('without a terminal, vouch review exits 2 and names the headless commands', async () => {
  // A child process with stdin and stdout piped: what CI sees.
  const r = await spawnCli(['review', '--demo']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /needs an interactive terminal/);
  for (const c of ['vouch inspect', 'vouch sbom', 'vouch chain', 'vouch check', 'vouch diff']) assert.ok(r.stderr.includes(c), c);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
});

test('stdout piped but stdin a terminal still counts as no terminal', async () => {
  let err = '';
  const code = await runReview([], { demo: true }, { out: () => {}, err: (s) => (err += s), setExitCode: () => {} }, { stdin: true, stdout: false });
  assert.equal(code, 2);
  assert.match(err, /headless commands/);
});

test('review: nothing to review, or two things at once, are usage errors (exit 2)', async () => {
  const tty = { stdin: true, stdout: true };
  const io = { out: () => {}, err: () => {}, setExitCode: () => {} };
  await assert.rejects(runReview([], {}, io, tty), /give an image reference/);
  await assert.rejects(runReview(['oci:/x:1'], { demo: true }, io, tty), /give one of --demo, --release FILE/);
  await assert.rejects(runReview([], { release: join(tmpdir(), 'no-such-release.yaml') }, io, tty), /cannot read release file/);
  await assert.rejects(runReview([], { session: join(tmpdir(), 'no-such.review.json') }, io, tty), /does not exist; give --release FILE \(or --demo\) to create it there/);
});

// One demo release for the tests below (generating it takes a few seconds).
const cache = mkdtempSync(join(tmpdir(), 'vouch-review-cache-'));

test('review --release: the session beside the release; a session in use is refused before any UI (exit 2)', async () => {
  const demo = await ensureDemoRelease(cache);
  const { start, plan } = await reviewRequest([], { release: demo.releaseFile }, cache);
  assert.equal(plan.path, join(demo.dir, 'shop-2.4.0.review.json'));
  assert.deepEqual(start.opts.names, ['api', 'worker']);
  assert.equal(start.opts.baseline, demo.baselineApproval);
  assert.equal(start.opts.trustFile, demo.trustFile);
  // --demo names the same release and session, and the demo key to sign with.
  const d = await reviewRequest([], { demo: true }, cache);
  assert.equal(d.plan.path, plan.path);
  assert.equal(d.plan.demoKey?.path, demo.reviewerKey);
  // Another vouch holds the session: refused with its PID, exit 2, and no UI was started.
  const since = new Date().toISOString();
  await writeFile(`${plan.path}.lock`, JSON.stringify({ pid: process.pid, startedAt: since, host: hostname() }));
  let err = '';
  const io = { out: () => {}, err: (x: string) => (err += x), setExitCode: () => {} };
  const e = await runReview([], { release: demo.releaseFile }, io, { stdin: true, stdout: true }).catch((x: unknown) => x);
  assert.ok(isVouchError(e), String(e));
  assert.equal(e.exitCode, 2);
  assert.match(e.message, new RegExp(`in use by PID ${process.pid} since ${since.replace(/\./g, '\\.')}`));
  assert.equal(err, '', 'nothing drawn');
});

test('review IMAGE: an ad-hoc session and release file in the cache directory, one per set of references', async () => {
  const demo = await ensureDemoRelease(cache);
  const ref = demo.images[1]!.reference;
  const a = await reviewRequest([ref], {}, cache);
  assert.ok(a.plan.path.startsWith(join(cache, 'sessions')), a.plan.path);
  assert.match(a.plan.path, /review-[0-9a-f]{16}\.review\.json$/);
  assert.deepEqual(a.start.refs, [ref]);
  assert.deepEqual(a.start.opts.names, ['worker']);
  const release = await loadReleaseFile(a.plan.release!);
  assert.deepEqual(release.images.map((i) => [i.key, i.reference]), [['worker', ref]]);
  assert.equal((await reviewRequest([ref], {}, cache)).plan.path, a.plan.path, 'the same references reopen the same session');
  assert.notEqual((await reviewRequest([demo.images[0]!.reference], {}, cache)).plan.path, a.plan.path);
});

test('vouch config set/get/list keep the preferences in a 0600 file; bad keys and values exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-config-'));
  const env = { VOUCH_CONFIG_DIR: dir };
  assert.equal((await spawnCli(['config', 'set', 'reviewer.name', 'Rita Reviewer'], env)).code, 0);
  assert.equal((await spawnCli(['config', 'set', 'reviewer.email', 'rita@example.com'], env)).code, 0);
  const get = await spawnCli(['config', 'get', 'reviewer.name'], env);
  assert.equal(get.stdout, 'Rita Reviewer\n');
  const list = await spawnCli(['config', 'list', '--json'], env);
  const j = JSON.parse(list.stdout);
  assert.equal(j['reviewer.email'], 'rita@example.com');
  assert.equal(j['signing.key'], null);
  assert.equal(statSync(j.path).mode & 0o777, 0o600);
  const bad = await spawnCli(['config', 'set', 'reviewer.email', 'not-an-email'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /reviewer\.email "not-an-email" is not an email address/);
  const unknown = await spawnCli(['config', 'set', 'colour', 'red'], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown key "colour"/);
  const unset = await spawnCli(['config', 'get', 'theme'], env);
  assert.equal(unset.code, 1, 'an unset key prints nothing and exits 1');
});

/** A demo session written to its own folder, as JSON (what someone with push access can edit). */
async function demoSessionIn(edit: (s: ReviewSession) => void): Promise<{ dir: string; path: string; session: ReviewSession }> {
  const demo = await ensureDemoRelease(cache);
  const session = await createSession(demo.releaseFile, { cache: new ContentCache(cache) });
  edit(session);
  const dir = mkdtempSync(join(tmpdir(), 'vouch-review-session-'));
  const path = join(dir, 'shop.review.json');
  await writeFile(path, JSON.stringify(session, null, 2));
  return { dir, path, session };
}

// a11 finding 3: with --session alone the trust file came from the session file, resolved against the cwd,
// unchecked: a session file in the repository chose the trust behind "signed ✔".
test('review --session: a trust or policy file named by the session is used only with the recorded digest, relative to the session folder', async () => {
  const demo = await ensureDemoRelease(cache);
  const trustText = readFileSync(demo.trustFile, 'utf8');
  // The release file is gone, so the trust file would come from the session.
  const evil = await demoSessionIn((s) => {
    s.release.file.path = join(tmpdir(), 'gone', 'shop.release.yaml');
    s.trust.path = 'evil.trust.yaml';
  });
  await writeFile(join(evil.dir, 'evil.trust.yaml'), `${trustText}\n# trusts the attacker too\n`);
  const e = await reviewRequest([], { session: evil.path }, cache).catch((x: unknown) => x);
  assert.ok(isVouchError(e), String(e));
  assert.equal(e.code, 'USAGE');
  assert.equal(e.exitCode, 2);
  assert.match(e.message, new RegExp(`trust\\.path: ${join(evil.dir, 'evil.trust.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not the trust file the session recorded \\(sha256 differs\\); pass --trust FILE`));
  assert.equal(e.message.split('\n').length, 1);
  // --trust decides instead of the session.
  assert.equal((await reviewRequest([], { session: evil.path, trust: demo.trustFile }, cache)).start.opts.trustFile, demo.trustFile);
  // The same bytes, relative: taken from the session's folder (not the cwd).
  const good = await demoSessionIn((s) => {
    s.release.file.path = join(tmpdir(), 'gone', 'shop.release.yaml');
    s.trust.path = 'vouch.trust.yaml';
  });
  await writeFile(join(good.dir, 'vouch.trust.yaml'), trustText);
  assert.equal((await reviewRequest([], { session: good.path }, cache)).start.opts.trustFile, join(good.dir, 'vouch.trust.yaml'));
  // A policy named by the session the same way.
  const policy = await demoSessionIn((s) => {
    s.release.file.path = join(tmpdir(), 'gone', 'shop.release.yaml');
    s.trust.path = demo.trustFile;
    s.policy = { path: 'lax.policy.yaml', digest: `sha256:${'0'.repeat(64)}`, failOn: 'critical' };
  });
  await writeFile(join(policy.dir, 'lax.policy.yaml'), 'version: 1\n');
  await assert.rejects(reviewRequest([], { session: policy.path }, cache), /policy\.path: .*lax\.policy\.yaml is not the policy file the session recorded \(sha256 differs\); pass --policy FILE/);
});

// a11 finding 5: an edited `pinned` made every screen show another image under a name, and the refresh kept it.
test('review --session: a pinned reference that does not name the pinned digest in the release\'s repository is refused (screens and refresh)', async () => {
  const demo = await ensureDemoRelease(cache);
  const edited = await demoSessionIn((s) => {
    s.images[0]!.pinned = s.images[1]!.pinned; // api now opens the worker image
  });
  await assert.rejects(reviewRequest([], { session: edited.path }, cache), (e: unknown) => isVouchError(e) && e.exitCode === 2 && /images\.api\.pinned: the session pins .*worker.*, which is not its pinned digest in the release's repository or layout/.test(e.message));
  await assert.rejects(refreshSession(edited.session, demo.releaseFile, { cache: new ContentCache(cache) }), /images\.api\.pinned: the session pins .*; start a new session/);
});

// Session 4: with --session alone the release file was taken from the path the session records, whatever it
// held by then (another image, policy or trust file would be reviewed and approved under the old session).
test('review --session: a release file changed since the session was made is refused naming both digests; --release accepts it and says what changed', async () => {
  const demo = await ensureDemoRelease(cache);
  const original = readFileSync(demo.releaseFile, 'utf8');
  // A copy beside the demo release (its relative paths resolve the same), edited after the session was made.
  const edited = join(demo.dir, 'shop-edited.release.yaml');
  await writeFile(edited, original);
  const s = await demoSessionIn((x) => {
    x.release.file.path = edited;
  });
  const recorded = s.session.release.file.digest;
  // Unchanged bytes: reopened as before.
  assert.equal((await reviewRequest([], { session: s.path }, cache)).plan.release, edited);
  // A comment only: still another file than the one reviewed.
  await writeFile(edited, `${original}# edited\n`);
  const now = (await loadReleaseFile(edited)).digest;
  const e = await reviewRequest([], { session: s.path }, cache).catch((x: unknown) => x);
  assert.ok(isVouchError(e), String(e));
  assert.equal(e.exitCode, 2);
  assert.equal(e.message.split('\n').length, 1);
  assert.ok(e.message.includes(edited) && e.message.includes(recorded) && e.message.includes(now), e.message);
  assert.match(e.message, /changed since the session .* was made \(recorded sha256:[0-9a-f]{64}, now sha256:[0-9a-f]{64}\); pass --release /);
  // Passed explicitly: accepted, and said so (only the bytes changed).
  const ok = await reviewRequest([], { session: s.path, release: edited }, cache);
  assert.equal(ok.plan.release, edited);
  assert.equal(ok.plan.notes?.length, 1);
  assert.match(ok.plan.notes![0]!, new RegExp(`changed since the session was made \\(${recorded} → ${now}\\): the same images, policy, trust and baseline`));
  // A change of meaning is named: the baseline dropped.
  await writeFile(edited, original.split('\n').filter((l) => !/^baseline:/.test(l)).join('\n'));
  const dropped = await reviewRequest([], { session: s.path, release: edited }, cache);
  assert.match(dropped.plan.notes![0]!, /: baseline: \S+\.sigstore\.json → \(none\); the session now records the new file$/);
});
