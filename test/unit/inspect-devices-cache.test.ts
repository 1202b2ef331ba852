/**
 * Issue 9 leftovers: `inspect` names the device nodes and FIFOs that `diff`
 * lists (same paths, same types), and `check --json` says, per image, whether
 * its analysis came from the cache and when the source was verified, as
 * `inspect --json` does.
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

const base = () => tar([{ name: 'etc/', type: 'dir', mode: 0o755 }, { name: 'etc/motd', mode: 0o644, data: 'hi\n' }]);
const devices = () =>
  tar([
    { name: 'dev/', type: 'dir', mode: 0o755 },
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
    { name: 'run/initctl', type: 'fifo', mode: 0o600 },
    { name: 'dev/\x1b[31mred', type: 'char', devmajor: 1, devminor: 1, mode: 0o600 },
  ]);

test('inspect lists device nodes and FIFOs with their type and numbers, the same paths diff lists as added', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-devices-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const before = await writeLayersLayout(join(dir, 'before'), [base()]);
  const after = await writeLayersLayout(join(dir, 'after'), [base(), devices()]);
  const r = await runCli(['inspect', after.ref, '--json', '--no-cache']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { files: number; specialFiles: Array<{ path: string; type: string; devmajor?: number; devminor?: number; mode: number; gid: number }> };
  assert.equal(doc.files, 1, 'files still counts regular files, hard links and symlinks (as find does on an unpacked rootfs)');
  assert.deepEqual(
    doc.specialFiles.map((f) => [f.path, f.type, f.devmajor ?? null, f.devminor ?? null, f.mode]),
    [
      ['/dev/\x1b[31mred', 'char', 1, 1, 0o600],
      ['/dev/null', 'char', 1, 3, 0o666],
      ['/dev/sda', 'block', 8, 0, 0o660],
      ['/run/initctl', 'fifo', null, null, 0o600],
    ],
  );
  assert.equal(doc.specialFiles.find((f) => f.path === '/dev/sda')!.gid, 6);

  const { report } = await diffInputs(before.ref, after.ref, { cache: new ContentCache(join(dir, 'cache')) });
  const added = report.files!.added.files.filter((f) => f.type === 'char' || f.type === 'block' || f.type === 'fifo');
  assert.deepEqual(
    added.map((f) => [f.path, f.type]).sort(),
    doc.specialFiles.map((f) => [f.path, f.type]).sort(),
    'inspect and diff name the same special files',
  );

  const text = await runCli(['inspect', after.ref, '--no-cache']);
  assert.equal(text.code, 0, text.stderr);
  const line = text.stdout.split('\n').find((l) => l.startsWith('Devices'));
  assert.ok(line, text.stdout);
  assert.match(line, /^Devices\s+4: /);
  assert.match(line, /\/dev\/null \(char 1,3\)/);
  assert.match(line, /\/run\/initctl \(fifo\)/);
  assert.ok(!line.includes('\x1b'), 'a device name from the image is printed escaped');
});

test('check --json carries each image with the cache object inspect prints (hit, analysedAt, verifiedAt, verification)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-check-cache-'));
  const saved = process.env.VOUCH_CACHE_DIR;
  process.env.VOUCH_CACHE_DIR = join(dir, 'cache');
  t.after(async () => {
    if (saved === undefined) delete process.env.VOUCH_CACHE_DIR;
    else process.env.VOUCH_CACHE_DIR = saved;
    await rm(dir, { recursive: true, force: true });
  });
  const l = await writeLayersLayout(join(dir, 'layout'), [base()]);
  type Cache = { hit: boolean; analysedAt: string | null; verifiedAt: string; verification: string };
  const run = async (extra: string[] = []): Promise<{ images: Array<{ reference: string; digest: string; cache: Cache }> }> => {
    const r = await runCli(['check', l.ref, '--format', 'json', ...extra]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    return JSON.parse(r.stdout);
  };
  const cold = await run();
  assert.equal(cold.images.length, 1);
  assert.equal(cold.images[0]!.digest, l.manifestDigest);
  assert.equal(cold.images[0]!.cache.hit, false);
  assert.equal(cold.images[0]!.cache.verification, 'full');
  assert.equal(cold.images[0]!.cache.verifiedAt, cold.images[0]!.cache.analysedAt);

  const warm = await run();
  assert.equal(warm.images[0]!.cache.hit, true);
  assert.equal(warm.images[0]!.cache.verification, 'sizes');
  assert.equal(warm.images[0]!.cache.analysedAt, cold.images[0]!.cache.analysedAt, 'the analysis is the cached one');
  assert.ok(Date.parse(warm.images[0]!.cache.verifiedAt) >= Date.parse(cold.images[0]!.cache.verifiedAt));

  const verified = await run(['--verify']);
  assert.equal(verified.images[0]!.cache.hit, true);
  assert.equal(verified.images[0]!.cache.verification, 'full');

  // The same object inspect prints for the same cache.
  const i = await runCli(['inspect', l.ref, '--json']);
  const inspected = JSON.parse(i.stdout) as { cache: Cache };
  assert.deepEqual(Object.keys(inspected.cache).sort(), Object.keys(warm.images[0]!.cache).sort());
});

test('check takes --json as every command does (same document as --format json); --json with another --format is a usage error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-check-json-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const l = await writeLayersLayout(join(dir, 'layout'), [base()]);
  const a = await runCli(['check', l.ref, '--json']);
  const b = await runCli(['check', l.ref, '--format', 'json']);
  assert.equal(a.code, b.code, a.stderr);
  // The second run is served from the cache: compare all but the cache objects and the times.
  const strip = (s: string): unknown => {
    const j = JSON.parse(s.replace(/"(analysedAt|verifiedAt|generatedAt|time)": "[^"]*"/g, '"$1": ""')) as { images: Array<{ cache?: unknown }> };
    for (const im of j.images) delete im.cache;
    return j;
  };
  assert.deepEqual(strip(a.stdout), strip(b.stdout));
  const c = await runCli(['check', l.ref, '--json', '--format', 'sarif']);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /--json and --format "sarif": give one/);
});

test('a malformed limit is a usage error even when the cache answers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-limit-cached-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const l = await writeLayersLayout(join(dir, 'layout'), [base()]);
  const warm = await runCli(['inspect', l.ref, '--json']);
  assert.equal(warm.code, 0, warm.stderr);
  const saved = process.env.VOUCH_MAX_LAYER_BYTES;
  process.env.VOUCH_MAX_LAYER_BYTES = '10x';
  try {
    for (const cmd of [['inspect', l.ref, '--json'], ['check', l.ref, '--json'], ['sbom', l.ref, '--format', 'json']]) {
      const r = await runCli(cmd);
      assert.equal(r.code, 2, `${cmd[0]}: ${r.stdout.slice(0, 200)}`);
      assert.match(r.stderr, /VOUCH_MAX_LAYER_BYTES="10x" is not a limit: /);
    }
  } finally {
    if (saved === undefined) delete process.env.VOUCH_MAX_LAYER_BYTES;
    else process.env.VOUCH_MAX_LAYER_BYTES = saved;
  }
});
