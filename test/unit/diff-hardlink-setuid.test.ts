/**
 * `vouch diff`'s "new setuid" list uses the checks' rule for hard links: every
 * name of an inode is setuid/setgid when any tar header of the group carries
 * the bit (layers/link-groups.ts, one function for both). A file can become
 * setuid without its own header changing: a new hard link into a setuid inode
 * (written with a plain header), or a new link whose header sets the bit on an
 * existing file's inode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLayersLayout } from '../helpers/layer-layout.js';
import { tar } from '../helpers/tar-writer.js';
import { runCli } from '../helpers/inspect.js';

const base = () =>
  tar([
    { name: 'opt/', type: 'dir', mode: 0o755 },
    { name: 'opt/helper', mode: 0o4755, data: 'h'.repeat(10) },
    { name: 'opt/tool', mode: 0o755, data: 't'.repeat(20) },
  ]);
// A second layer: links into the first layer's inodes.
const links = () =>
  tar([
    // Plain header, but the inode is setuid (opt/helper's header): a new setuid file on disk.
    { name: 'opt/helper-alias', type: 'hardlink', linkname: 'opt/helper', mode: 0o755 },
    // The link's header sets the bit on opt/tool's inode: opt/tool itself becomes setuid, its own header unchanged.
    { name: 'opt/tool-s', type: 'hardlink', linkname: 'opt/tool', mode: 0o4755 },
  ]);
// One layer, links within it (the checks' own hard-link test image).
const sameLayer = () =>
  tar([
    { name: 'bin/', type: 'dir', mode: 0o755 },
    { name: 'bin/plain', mode: 0o644, data: 'p'.repeat(10) },
    { name: 'bin/plain-link', type: 'hardlink', linkname: 'bin/plain', mode: 0o4755 },
    { name: 'bin/sg', mode: 0o2755, data: 's'.repeat(20) },
    { name: 'bin/sg-link', type: 'hardlink', linkname: 'bin/sg', mode: 0o644 },
    { name: 'bin/quiet', mode: 0o755, data: 'q' },
    { name: 'bin/quiet-link', type: 'hardlink', linkname: 'bin/quiet', mode: 0o755 },
  ]);

/** Paths VCH-LP-002 fails on (the checks' verdict), sorted. */
async function checkSetuid(ref: string): Promise<string[]> {
  const r = await runCli(['check', ref, '--format', 'json']);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const results = (JSON.parse(r.stdout) as { results: Array<{ id: string; status: string; subject: { path: string | null } }> }).results;
  return results.filter((x) => x.id === 'VCH-LP-002' && x.status === 'fail').map((x) => x.subject.path!).sort();
}

test('diff: a file made setuid only by a hard link is a new setuid file, as the checks judge it (text, --json, cached)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-diff-hardlink-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = await writeLayersLayout(join(dir, 'a'), [base()]);
  const b = await writeLayersLayout(join(dir, 'b'), [base(), links()]);
  const empty = await writeLayersLayout(join(dir, 'empty'), [tar([{ name: 'etc/', type: 'dir', mode: 0o755 }])]);
  const one = await writeLayersLayout(join(dir, 'one'), [sameLayer()]);

  const expected = ['/opt/helper-alias', '/opt/tool', '/opt/tool-s'];
  // The checks' verdict on both images: the diff's list must be exactly what became setuid between them.
  const [before, after] = await Promise.all([checkSetuid(a.ref), checkSetuid(b.ref)]);
  assert.deepEqual(after.filter((p) => !before.includes(p)), expected);

  // Twice: the second run reads the diff snapshots from the cache.
  for (const run of ['cold', 'cached']) {
    const j = await runCli(['diff', a.ref, b.ref, '--json']);
    assert.equal(j.code, 0, j.stderr);
    const f = JSON.parse(j.stdout).files;
    assert.deepEqual(f.attention.newSetuid, expected, run);
    const alias = f.added.files.find((x: { path: string }) => x.path === '/opt/helper-alias');
    assert.equal(alias.mode & 0o7777, 0o755, 'the header mode is reported as written');
    assert.equal(alias.linkBits, 0o4000, 'the bit the inode has from another name');
    assert.ok(alias.review.includes('setuid'));
    const tool = f.changed.files.find((x: { path: string }) => x.path === '/opt/tool');
    assert.ok(tool, `${run}: /opt/tool is changed although its own header is not`);
    assert.deepEqual(tool.fields, ['linkBits']);
    assert.ok(tool.review.includes('setuid'));

    const h = await runCli(['diff', a.ref, b.ref]);
    assert.equal(h.code, 0, h.stderr);
    for (const p of expected) assert.ok(h.stdout.includes(`NEW SETUID/SETGID: ${p}\n`), `${run}: ${p} called out\n${h.stdout}`);
    assert.match(h.stdout, /\/opt\/helper-alias .*setuid.*04000 from another name of its inode/);
    assert.match(h.stdout, /\/opt\/tool .*bits from another name of its inode 0→04000/);
  }

  // Links within one layer, both directions (the link's header sets the file's bit; the file's bit covers the link).
  const j = await runCli(['diff', empty.ref, one.ref, '--json']);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout).files.attention.newSetuid, await checkSetuid(one.ref));
  assert.deepEqual(JSON.parse(j.stdout).files.attention.newSetuid, ['/bin/plain', '/bin/plain-link', '/bin/sg', '/bin/sg-link']);

  // Nothing new the other way round: the base already had every one of them.
  const back = JSON.parse((await runCli(['diff', b.ref, b.ref, '--json'])).stdout).files;
  assert.deepEqual(back.attention.newSetuid, []);
});
