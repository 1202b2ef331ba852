/**
 * The cache is optional (issue 12 review, item 4): a cache folder that cannot be
 * written — a file where the folder should be, a read-only file system, a full
 * disk — must not throw away a finished analysis. The command ends with its normal
 * output and exit code, plus ONE warning line on stderr naming the folder, the
 * reason and the way out (VOUCH_CACHE_DIR or --no-cache); reads from it are misses.
 * The read-only and full cases need a mount (root; CI runs as root).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { cliCommand, runCli, testCacheDir } from '../helpers/inspect.js';
import { writeLayersLayout } from '../helpers/layer-layout.js';
import { inCI } from '../helpers/registry.js';
import { tar } from '../helpers/tar-writer.js';

const root = mkdtempSync(join(tmpdir(), 'vouch-cache-unusable-'));
let ref = '';
let expected = { inspect: '', sbom: '' };
const mounts: string[] = [];
/** The analysis time is the only field that differs between two runs. */
const norm = (s: string) => s.replace(/"(analysedAt|verifiedAt|generatedAt|timestamp|created)": "20\d\d-[^"]*"/g, '"$1": "T"').replace(/urn:uuid:[0-9a-f-]+/g, 'urn:uuid:U');

/** A fresh tmpfs of `kib` KiB at a new folder, or undefined where this process may not mount. */
function tmpfs(name: string, kib: number): string | undefined {
  const at = join(root, name);
  execFileSync('mkdir', ['-p', at]);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', at], { stdio: 'ignore' });
  } catch {
    if (process.env.CI === 'true') throw new Error(`mount -t tmpfs failed at ${at}: CI runs as root and needs it`);
    return undefined;
  }
  mounts.push(at);
  return at;
}

async function run(cacheDir: string, args: string[]) {
  process.env.VOUCH_CACHE_DIR = cacheDir;
  try {
    return await runCli(args);
  } finally {
    process.env.VOUCH_CACHE_DIR = testCacheDir;
  }
}

async function assertCompletesWithOneWarning(cacheDir: string, reason: RegExp): Promise<void> {
  for (const [cmd, want] of [['inspect', expected.inspect], ['sbom', expected.sbom]] as const) {
    const r = await run(cacheDir, [cmd, ref, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(norm(r.stdout), want, `${cmd}: the finished analysis is printed as without a cache`);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `${cmd}: one warning line, got:\n${r.stderr}`);
    assert.match(lines[0]!, /^vouch: warning: cache folder /);
    assert.ok(lines[0]!.includes(cacheDir), `names the folder: ${lines[0]}`);
    assert.match(lines[0]!, reason);
    assert.match(lines[0]!, /VOUCH_CACHE_DIR/);
    assert.match(lines[0]!, /--no-cache/);
  }
}

before(async () => {
  const layer = tar([
    { name: 'etc/', type: 'dir', mode: 0o755 },
    { name: 'etc/os-release', data: 'ID=alpine\nVERSION_ID=3.19.1\n' },
    { name: 'usr/bin/tool', data: 'x'.repeat(2000), mode: 0o4755 },
  ]);
  const layout = await writeLayersLayout(join(root, 'img'), [layer], 'v1');
  ref = layout.ref;
  const i = await runCli(['inspect', ref, '--json', '--no-cache']);
  const s = await runCli(['sbom', ref, '--json', '--no-cache']);
  assert.equal(i.code, 0, i.stderr);
  assert.equal(s.code, 0, s.stderr);
  expected = { inspect: norm(i.stdout), sbom: norm(s.stdout) };
});

after(() => {
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
  execFileSync('rm', ['-rf', root]);
});

test('a file where the cache folder should be: the command completes, one warning naming ENOTDIR', async () => {
  const file = join(root, 'cachefile');
  writeFileSync(file, 'not a folder\n');
  await assertCompletesWithOneWarning(file, /ENOTDIR/);
  await assertCompletesWithOneWarning(join(file, 'below'), /ENOTDIR/);
  // check (no --no-cache of its own): its verdict and exit code as with a working cache; the way out named is the variable.
  const fresh = mkdtempSync(join(root, 'fresh-cache-'));
  const want = await run(fresh, ['check', ref, '--json']);
  const r = await run(file, ['check', ref, '--json']);
  assert.equal(r.code, want.code, r.stderr);
  assert.equal(norm(r.stdout), norm(want.stdout));
  assert.equal(want.stderr, '');
  assert.match(r.stderr, /^vouch: warning: cache folder .*\(ENOTDIR: .*\(set VOUCH_CACHE_DIR to a writable folder\)\n$/);
});

test('a read-only cache folder: EROFS named (not the ENOENT mkdir reports), reads are plain misses', async (t) => {
  const at = tmpfs('ro', 256);
  if (!at) return void (inCI() ? assert.fail('a tmpfs mount is needed under CI (runs as root)') : t.skip('cannot mount here (not root)'));
  // An existing entry-free tree and a missing one: both read-only.
  await mkdir(join(at, 'layer-walk'), { recursive: true });
  execFileSync('mount', ['-o', 'remount,ro', at]);
  await assertCompletesWithOneWarning(at, /EROFS/);
  await assertCompletesWithOneWarning(join(at, 'missing'), /EROFS/);
});

test('a full disk under the cache: ENOSPC named, no temp files left', async (t) => {
  const at = tmpfs('full', 64);
  if (!at) return void (inCI() ? assert.fail('a tmpfs mount is needed under CI (runs as root)') : t.skip('cannot mount here (not root)'));
  // Fill it, leaving no room for an entry.
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(at, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    /* dd stops at ENOSPC */
  }
  await assertCompletesWithOneWarning(at, /ENOSPC/);
  const left = execFileSync('find', [at, '-name', '*.tmp']).toString();
  assert.equal(left, '');
});

test('a cache folder this user may not write (EACCES): named, and the command completes', (t) => {
  const dir = join(root, 'not-mine');
  execFileSync('mkdir', ['-p', dir]);
  chmodSync(root, 0o755);
  chmodSync(dir, 0o555);
  // Root writes anywhere: run the CLI as nobody then (root's own runs can drop to it).
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const [node, ...pre] = cliCommand();
  // nobody must be able to reach the node binary (a 0700 folder on its path gives EACCES before vouch runs).
  if (asNobody.uid !== undefined) {
    for (let d = dirname(node!); d !== dirname(d); d = dirname(d)) assert.ok((statSync(d).mode & 0o001) !== 0, `${d} is not searchable by others: nobody cannot run ${node}`);
  }
  const r = spawnSync(node!, [...pre, 'inspect', ref, '--json'], { ...asNobody, encoding: 'utf8', env: { ...process.env, VOUCH_CACHE_DIR: dir, HOME: dir } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(norm(r.stdout), expected.inspect);
  assert.match(r.stderr, new RegExp(`^vouch: warning: cache folder ${dir} is not usable \\(EACCES: permission denied\\); continuing without the cache \\(set VOUCH_CACHE_DIR to a writable folder, or pass --no-cache\\)\\n$`));
});
