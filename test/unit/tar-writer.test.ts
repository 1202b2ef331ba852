import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VouchError } from '../../src/core/errors.js';
import { archiveName, encodeHeader, normalizeTarPath, paddingSize, tarBuffer, tarChunks, TarWriter, type TarEntry } from '../../src/core/oci/tar-writer.js';

const work = mkdtempSync(join(tmpdir(), 'vouch-tar-writer-'));
after(() => rmSync(work, { recursive: true, force: true }));

const hasTar = spawnSync('tar', ['--version']).status === 0;
const TAR_ENV = { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC' };

function tar(args: string[], file: string): { stdout: string; stderr: string } {
  const r = spawnSync('tar', [...args, file], { env: TAR_ENV, encoding: 'utf8' });
  assert.equal(r.status, 0, `tar ${args.join(' ')} failed: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

interface Listed {
  mode: string;
  uid: number;
  gid: number;
  size: number;
  date: string;
  name: string;
  link?: string;
  hard?: boolean;
}

/** Parse `tar --numeric-owner -tvf` (GNU tar) lines. */
function listVerbose(file: string): Listed[] {
  const { stdout, stderr } = tar(['--numeric-owner', '--quoting-style=literal', '-tvf'], file);
  assert.equal(stderr, '', `tar warned: ${stderr}`);
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\S{10}) (\d+)\/(\d+)\s+(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d) (.*)$/.exec(l);
      assert.ok(m, `unexpected tar line: ${l}`);
      let name = m[6]!;
      let link: string | undefined;
      let hard = false;
      if (m[1]!.startsWith('l')) [name, link] = name.split(' -> ') as [string, string];
      else if (name.includes(' link to ')) {
        [name, link] = name.split(' link to ') as [string, string];
        hard = true;
      }
      return { mode: m[1]!, uid: Number(m[2]), gid: Number(m[3]), size: Number(m[4]), date: m[5]!, name, ...(link !== undefined ? { link } : {}), ...(hard ? { hard } : {}) };
    });
}

function write(name: string, entries: { entry: TarEntry; data?: Uint8Array }[]): string {
  const file = join(work, name);
  writeFileSync(file, tarBuffer(entries, { defaults: { mtime: 1714561200 } }));
  return file;
}

describe('tar writer', () => {
  it('writes an archive that GNU tar lists back exactly', { skip: hasTar ? false : 'tar is not installed' }, () => {
    const hello = Buffer.from('hello, world\n');
    const big = Buffer.alloc(70_000, 0x61);
    const file = write('basic.tar', [
      { entry: { path: '/etc', type: 'dir' } },
      { entry: { path: '/etc/hello.txt', type: 'file', uid: 1000, gid: 1001 }, data: hello },
      { entry: { path: 'usr/bin/demo-su', type: 'file', mode: 0o4755 }, data: big },
      { entry: { path: './usr/bin/again', type: 'hardlink', linkname: '/usr/bin/demo-su' } },
      { entry: { path: 'usr/bin/sh', type: 'symlink', linkname: 'dash' } },
      { entry: { path: 'tmp', type: 'dir', mode: 0o1777 } },
      { entry: { path: 'app/.env', type: 'whiteout' } },
      { entry: { path: 'app/cache', type: 'opaque' } },
      { entry: { path: 'empty', type: 'file' } },
    ]);
    const listed = listVerbose(file);
    assert.deepEqual(
      listed.map((l) => [l.mode, l.uid, l.gid, l.size, l.name, l.link ?? null]),
      [
        ['drwxr-xr-x', 0, 0, 0, 'etc/', null],
        ['-rw-r--r--', 1000, 1001, hello.length, 'etc/hello.txt', null],
        ['-rwsr-xr-x', 0, 0, big.length, 'usr/bin/demo-su', null],
        ['hrw-r--r--', 0, 0, 0, 'usr/bin/again', 'usr/bin/demo-su'],
        ['lrwxrwxrwx', 0, 0, 0, 'usr/bin/sh', 'dash'],
        ['drwxrwxrwt', 0, 0, 0, 'tmp/', null],
        ['-rw-r--r--', 0, 0, 0, 'app/.wh..env', null],
        ['-rw-r--r--', 0, 0, 0, 'app/cache/.wh..wh..opq', null],
        ['-rw-r--r--', 0, 0, 0, 'empty', null],
      ],
    );
    assert.ok(listed.every((l) => l.date === '2024-05-01 11:00'));
    // Data round-trips.
    const r = spawnSync('tar', ['-xOf', file, 'etc/hello.txt'], { env: TAR_ENV });
    assert.equal(r.status, 0);
    assert.deepEqual(r.stdout, hello);
    const r2 = spawnSync('tar', ['-xOf', file, 'usr/bin/demo-su'], { env: TAR_ENV, maxBuffer: 1 << 20 });
    assert.deepEqual(r2.stdout, big);
  });

  it('uses the ustar prefix for medium names and PAX for long or non-ASCII names, long link targets and big ids', { skip: hasTar ? false : 'tar is not installed' }, () => {
    const seg = (c: string, n: number): string => c.repeat(n);
    const medium = `${seg('a', 60)}/${seg('b', 60)}/${seg('c', 60)}.txt`; // 185 bytes: fits prefix + name
    const long = `${seg('d', 120)}/${seg('e', 120)}/${seg('f', 120)}.txt`; // 366 bytes: PAX
    const unsplittable = `x/${seg('g', 130)}`; // last segment > 100: PAX
    const unicode = 'usr/share/doc/ünïcødé/README-日本語';
    const longTarget = `../${seg('t', 150)}/target`;
    const file = write('pax.tar', [
      { entry: { path: medium, type: 'file' }, data: Buffer.from('m') },
      { entry: { path: long, type: 'file' }, data: Buffer.from('long') },
      { entry: { path: unsplittable, type: 'file' }, data: Buffer.from('u') },
      { entry: { path: unicode, type: 'file' }, data: Buffer.from('ü') },
      { entry: { path: 'link', type: 'symlink', linkname: longTarget } },
      { entry: { path: `${seg('h', 200)}/dir`, type: 'dir' } },
      { entry: { path: 'big-ids', type: 'file', uid: 5_000_000, gid: 3_000_000 }, data: Buffer.from('i') },
      { entry: { path: `${seg('w', 150)}/${seg('v', 99)}`, type: 'whiteout' } },
    ]);
    const listed = listVerbose(file);
    assert.deepEqual(
      listed.map((l) => l.name),
      [medium, long, unsplittable, unicode, 'link', `${seg('h', 200)}/dir/`, 'big-ids', `${seg('w', 150)}/.wh.${seg('v', 99)}`],
    );
    assert.equal(listed[4]!.link, longTarget);
    assert.equal(listed[6]!.uid, 5_000_000);
    assert.equal(listed[6]!.gid, 3_000_000);
    const r = spawnSync('tar', ['-xOf', file, long], { env: TAR_ENV });
    assert.equal(r.stdout.toString(), 'long');
    // The medium name needs no PAX header: exactly header + 1 data block.
    assert.equal(encodeHeader({ path: medium, type: 'file', size: 1 }).length, 512);
    assert.equal(encodeHeader({ path: long, type: 'file', size: 1 }).length > 512, true);
  });

  it('is deterministic and independent of the chunk size', async () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({
      entry: { path: `d${i % 7}/f${i}`, type: 'file' as const, mtime: 1 },
      data: Buffer.alloc((i * 37) % 3000, i & 0xff),
    }));
    const a = tarBuffer(entries);
    const b = tarBuffer(entries, { chunkSize: 4096 });
    const chunks: Buffer[] = [];
    for await (const c of tarChunks(entries, { chunkSize: 8192 })) chunks.push(c);
    assert.ok(chunks.length > 10);
    assert.ok(chunks.slice(0, -1).every((c) => c.length === 8192));
    assert.deepEqual(a, b);
    assert.deepEqual(Buffer.concat(chunks), a);
    assert.equal(a.length % 512, 0);
    assert.deepEqual(a.subarray(a.length - 1024), Buffer.alloc(1024));
  });

  it('streams pieces and reports sizes', () => {
    const tw = new TarWriter({ chunkSize: 1024 });
    tw.add({ path: 'f', type: 'file', size: 1500 }, [Buffer.alloc(1000, 1), Buffer.alloc(500, 2)]);
    assert.equal(tw.entries, 1);
    assert.equal(tw.bytesWritten, 512 + 1500 + paddingSize(1500));
    tw.finish();
    const out = Buffer.concat(tw.take());
    assert.equal(out.length, 512 + 1536 + 1024);
    assert.equal(out[512 + 999], 1);
    assert.equal(out[512 + 1000], 2);
    assert.equal(out[512 + 1500], 0);
  });

  it('refuses what would make a hostile or inconsistent archive', () => {
    assert.throws(() => normalizeTarPath('../etc/passwd'), VouchError);
    assert.throws(() => normalizeTarPath('a/../../b'), VouchError);
    assert.throws(() => normalizeTarPath('/'), VouchError);
    const tw = new TarWriter();
    assert.throws(() => tw.add({ path: 'f', type: 'file', size: 10 }, Buffer.alloc(3)), /header says 10 bytes/);
    assert.throws(() => tw.add({ path: 'd', type: 'dir' }, Buffer.alloc(3)), /only regular files/);
    assert.throws(() => tw.add({ path: 'l', type: 'symlink' }), /without target/);
    assert.throws(() => tw.add({ path: 'f', type: 'file', mode: -1 }), /non-negative/);
    tw.finish();
    assert.throws(() => tw.add({ path: 'late', type: 'dir' }), /after finish/);
    assert.equal(archiveName({ path: '/a/b/', type: 'dir' }), 'a/b/');
    assert.equal(archiveName({ path: 'top', type: 'whiteout' }), '.wh.top');
  });
});
