/**
 * A hard link shares its target's inode, but each tar header carries its own
 * mode and the runtimes disagree on which wins (the daemon applies the last
 * header's mode to the inode, umoci keeps the first file's). The checks treat
 * every name of a hard-link group as setuid/setgid/world-writable when any
 * header of the group says so; `diff` counts a hard-linked path with its
 * target's bytes, as inspect's totalBytes does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLayersLayout } from '../helpers/layer-layout.js';
import { tar } from '../helpers/tar-writer.js';
import { runCli } from '../helpers/inspect.js';
import { diffInputs } from '../../src/core/diff/index.js';
import { ContentCache } from '../../src/core/cache/cache.js';

const links = () =>
  tar([
    { name: 'bin/', type: 'dir', mode: 0o755 },
    // The link's header sets the bit the file's does not (the daemon shows /bin/plain as -rwsr-xr-x).
    { name: 'bin/plain', mode: 0o644, data: 'p'.repeat(10) },
    { name: 'bin/plain-link', type: 'hardlink', linkname: 'bin/plain', mode: 0o4755 },
    // The file is setgid, the link's header is not (umoci shows /bin/sg-link as 2755).
    { name: 'bin/sg', mode: 0o2755, data: 's'.repeat(20) },
    { name: 'bin/sg-link', type: 'hardlink', linkname: 'bin/sg', mode: 0o644 },
    { name: 'bin/sg-link2', type: 'hardlink', linkname: 'bin/sg-link', mode: 0o644 },
    // World-writable through a link's header only.
    { name: 'bin/ww', mode: 0o644, data: 'w'.repeat(30) },
    { name: 'bin/ww-link', type: 'hardlink', linkname: 'bin/ww', mode: 0o666 },
    // An unrelated link group with no special bits stays quiet.
    { name: 'bin/quiet', mode: 0o755, data: 'q' },
    { name: 'bin/quiet-link', type: 'hardlink', linkname: 'bin/quiet', mode: 0o755 },
  ]);

type Result = { id: string; status: string; subject: { path: string | null }; message: string };

test('every name of a hard-link group is setuid/setgid/world-writable when any header of the group is', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-hardlink-modes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const l = await writeLayersLayout(join(dir, 'layout'), [links()]);
  const r = await runCli(['check', l.ref, '--format', 'json']);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const results = (JSON.parse(r.stdout) as { results: Result[] }).results;
  const failing = (id: string): Result[] => results.filter((x) => x.id === id && x.status === 'fail').sort((a, b) => (a.subject.path! < b.subject.path! ? -1 : 1));

  const suid = failing('VCH-LP-002');
  assert.deepEqual(
    suid.map((x) => x.subject.path),
    ['/bin/plain', '/bin/plain-link', '/bin/sg', '/bin/sg-link', '/bin/sg-link2'],
    'both directions: the file gets the link header\'s setuid, the links get the file\'s setgid',
  );
  const plain = suid.find((x) => x.subject.path === '/bin/plain')!;
  assert.match(plain.message, /setuid/);
  assert.match(plain.message, /\/bin\/plain-link/, 'the finding names every path sharing the inode');
  assert.match(suid.find((x) => x.subject.path === '/bin/sg-link2')!.message, /setgid.*\/bin\/sg\b/);

  const ww = failing('VCH-LP-003').map((x) => x.subject.path);
  assert.deepEqual(ww, ['/bin/ww', '/bin/ww-link']);

  // diff counts a hard-linked path with its target's bytes, as inspect's totalBytes does.
  const empty = await writeLayersLayout(join(dir, 'empty'), [tar([{ name: 'etc/', type: 'dir', mode: 0o755 }])]);
  const doc = JSON.parse((await runCli(['inspect', l.ref, '--json', '--no-cache'])).stdout) as { totalBytes: number };
  assert.equal(doc.totalBytes, 10 * 2 + 20 * 3 + 30 * 2 + 1 * 2);
  const { report } = await diffInputs(l.ref, empty.ref, { cache: new ContentCache(join(dir, 'cache')) });
  assert.equal(report.files!.removed.count, 9);
  assert.equal(report.files!.removed.bytes, doc.totalBytes);
  const back = await diffInputs(empty.ref, l.ref, { cache: new ContentCache(join(dir, 'cache')) });
  assert.equal(back.report.files!.added.bytes, doc.totalBytes, 'the same from the cached snapshots');
});
