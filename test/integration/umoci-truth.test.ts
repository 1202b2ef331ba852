/**
 * Issue 9, "done when": the figures `vouch inspect --json` gives match what
 * `umoci unpack` writes to disk, as `find` sees it — regular files, symlinks,
 * hard links, bytes per path, the setuid/setgid list — on the images the
 * suite builds (crafted multi-layer layouts, the demo image, dive's image,
 * the mini layouts, the image built with the daemon).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePathBytes, escapePathBytes } from '../../src/core/util/path-bytes.js';
import { openReference, resolveReference } from '../../src/core/sources/open.js';
import { layerWalks } from '../../src/core/layers/image-analysis.js';
import { mergeLayers } from '../../src/core/layers/filesystem.js';
import { ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { runCli } from '../helpers/inspect.js';
import { entry, header, metaEntry, pad, tar } from '../helpers/tar-writer.js';
import { rawNameEntry, writeLayersLayout } from '../helpers/layer-layout.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { buildTestImage, dockerOrSkip, skipOrFail } from '../helpers/docker.js';
import { randomBytes } from 'node:crypto';

const have = (cmd: string): boolean => spawnSync(cmd, ['--version']).status === 0;
const diveTar = join(import.meta.dirname, '../fixtures/dive/test-docker-image.tar');

interface Truth {
  /** path → size of every regular file (each hard-linked path counts). */
  regular: Map<string, number>;
  symlinks: Set<string>;
  /** Groups of paths sharing an inode (more than one path), each sorted, sorted by first path. */
  hardLinkGroups: string[][];
  setuid: string[];
}

/** `umoci unpack` the image, then `find -printf` over the rootfs (names as bytes, NUL-separated). */
function umociTruth(layoutTag: string, bundle: string): Truth {
  const u = spawnSync('umoci', ['unpack', '--image', layoutTag, bundle], { encoding: 'utf8' });
  assert.equal(u.status, 0, u.stderr);
  const f = spawnSync('find', ['.', '-mindepth', '1', '-printf', '%y %s %m %n %i %P\\0'], { cwd: join(bundle, 'rootfs'), maxBuffer: 1 << 28 });
  assert.equal(f.status, 0, String(f.stderr));
  const t: Truth = { regular: new Map(), symlinks: new Set(), hardLinkGroups: [], setuid: [] };
  const inodes = new Map<string, string[]>();
  const out = f.stdout as Buffer;
  let start = 0;
  for (let i = out.indexOf(0, start); i >= 0; start = i + 1, i = out.indexOf(0, start)) {
    const rec = out.subarray(start, i);
    // The five fields are ASCII; the path is the rest, raw bytes.
    let sp = 0;
    const fields: string[] = [];
    for (let k = 0; k < 5; k++) {
      const next = rec.indexOf(0x20, sp);
      fields.push(rec.toString('latin1', sp, next));
      sp = next + 1;
    }
    const path = `/${decodePathBytes(rec, sp)}`;
    const [type, size, mode, nlink, ino] = fields as [string, string, string, string, string];
    if (type === 'f') {
      t.regular.set(path, Number(size));
      if ((parseInt(mode, 8) & 0o6000) !== 0) t.setuid.push(path);
      if (Number(nlink) > 1) inodes.set(ino, [...(inodes.get(ino) ?? []), path]);
    } else if (type === 'l') t.symlinks.add(path);
  }
  t.hardLinkGroups = [...inodes.values()].map((g) => g.sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  t.setuid.sort();
  return t;
}

async function vouchTruth(ref: string): Promise<{ doc: any; truth: Truth }> {
  const r = await runCli(['inspect', ref, '--json', '--no-cache']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const image = await openReference((await resolveReference(ref)).reference);
  try {
    const merged = mergeLayers(await layerWalks(image, { noCache: true }));
    const t: Truth = { regular: new Map(), symlinks: new Set(), hardLinkGroups: [], setuid: [] };
    const groups = new Map<string, string[]>();
    for (const [path, n] of merged.paths) {
      const e = n.entry;
      if (e.type === 'file') t.regular.set(path, e.size);
      else if (e.type === 'hardlink') {
        const file = merged.hardLinks.get(path);
        assert.ok(file, `hard link ${path} resolves`);
        t.regular.set(path, file.size);
        const target = e.linkname!;
        groups.set(target, [...(groups.get(target) ?? [target]), path]);
      } else if (e.type === 'symlink') t.symlinks.add(path);
      if ((e.type === 'file' || e.type === 'hardlink') && (e.mode & 0o6000) !== 0) t.setuid.push(path);
    }
    t.hardLinkGroups = [...groups.values()].map((g) => g.sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    t.setuid.sort();
    return { doc, truth: t };
  } finally {
    await image.close();
  }
}

async function compare(layoutDir: string, tag: string, work: string): Promise<{ files: number; totalBytes: number }> {
  const u = umociTruth(`${layoutDir}:${tag}`, join(work, `bundle-${tag}`));
  const v = await vouchTruth(`oci:${layoutDir}:${tag}`);
  const bytes = [...u.regular.values()].reduce((a, b) => a + b, 0);
  // inspect --json: files = regular files (hard-linked paths included) + symlinks; totalBytes = bytes per path.
  assert.equal(v.doc.files, u.regular.size + u.symlinks.size, 'files');
  assert.equal(v.doc.totalBytes, bytes, 'totalBytes');
  assert.deepEqual(new Map([...v.truth.regular].sort()), new Map([...u.regular].sort()), 'bytes per path');
  assert.deepEqual([...v.truth.symlinks].sort(), [...u.symlinks].sort(), 'symlinks');
  assert.deepEqual(v.truth.hardLinkGroups, u.hardLinkGroups, 'hard links');
  assert.deepEqual(v.truth.setuid, u.setuid, 'setuid/setgid');
  // The same figures as inspect --json prints them.
  assert.equal(v.doc.symlinks, u.symlinks.size, 'inspect --json symlinks');
  assert.equal(v.doc.hardLinks, u.hardLinkGroups.reduce((n, g) => n + g.length - 1, 0), 'inspect --json hardLinks');
  assert.deepEqual(v.doc.setuidFiles, u.setuid.map(escapePathBytes), 'inspect --json setuidFiles (non-UTF-8 bytes escaped as everywhere in JSON text)');
  return { files: v.doc.files, totalBytes: v.doc.totalBytes };
}

test('inspect --json figures equal umoci unpack + find on the images the suite builds', async (t) => {
  if (!have('umoci') || !have('skopeo')) return skipOrFail(t, 'umoci and skopeo are needed');
  const work = await mkdtemp(join(tmpdir(), 'vouch-umoci-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const seen: string[] = [];

  // A crafted three-layer image: setuid, hard links (one into a lower layer's file), symlinks, whiteouts,
  // an opaque directory, a directory replaced by a file, and names that are not UTF-8.
  const crafted = await writeLayersLayout(join(work, 'crafted'), [
    tar([
      { name: './', type: 'dir' },
      { name: 'bin/', type: 'dir' },
      { name: 'bin/busybox', data: Buffer.alloc(4000, 1), mode: 0o755 },
      { name: 'bin/sh', type: 'hardlink', linkname: 'bin/busybox' },
      { name: 'bin/ls', type: 'hardlink', linkname: 'bin/busybox' },
      { name: 'bin/su', data: 'su', mode: 0o4755 },
      { name: 'usr/', type: 'dir' },
      { name: 'usr/lib/', type: 'dir' },
      { name: 'usr/lib/a.so', data: 'aaaa' },
      { name: 'usr/lib/b.so', type: 'symlink', linkname: 'a.so' },
      { name: 'opt/', type: 'dir' },
      { name: 'opt/x/', type: 'dir' },
      { name: 'opt/x/old', data: 'old' },
      { name: 'var/', type: 'dir' },
      { name: 'var/cache/', type: 'dir' },
      { name: 'var/cache/big', data: Buffer.alloc(9000, 2) },
      { name: 'data/', type: 'dir' },
      { name: 'data/f', data: 'f' },
    ]),
    tar([
      { name: 'bin/', type: 'dir' },
      { name: 'bin/.wh.ls', data: '' },
      { name: 'var/cache/.wh.big', data: '' },
      { name: 'opt/x/', type: 'dir' },
      { name: 'opt/x/.wh..wh..opq', data: '' },
      { name: 'opt/x/new', data: 'newer' },
      { name: 'data', data: 'now a file' },
      { name: 'usr/', type: 'dir' },
      { name: 'usr/bin/', type: 'dir' },
      rawNameEntry(Buffer.from([...Buffer.from('usr/bin/tool'), 0xff]), { data: 'setuid tool', mode: 0o4755 }),
      rawNameEntry(Buffer.from([...Buffer.from('usr/bin/tool'), 0xfe]), { data: 'other', mode: 0o2755 }),
    ]),
    tar([
      { name: 'usr/', type: 'dir' },
      { name: 'usr/lib/', type: 'dir' },
      { name: 'usr/lib/a.so', data: 'replaced a' },
      { name: 'usr/lib/c.so', type: 'hardlink', linkname: 'usr/lib/a.so' },
      { name: 'bin/', type: 'dir' },
      { name: 'bin/busybox2', type: 'hardlink', linkname: 'bin/busybox' },
    ]),
  ]);
  const c = await compare(crafted.dir, 'test', work);
  assert.equal(c.files, 11); // busybox, sh, busybox2, su, a.so, b.so, c.so, new, data, tool\xff, tool\xfe
  seen.push(`crafted: ${c.files} files, ${c.totalBytes} bytes`);

  const demo = await ensureDemoImage(join(work, 'demo-cache'));
  const d = await compare(demo.dir, 'demo', work);
  seen.push(`demo: ${d.files} files, ${d.totalBytes} bytes`);

  const dive = join(work, 'dive');
  const s = spawnSync('skopeo', ['copy', '--quiet', `docker-archive:${diveTar}`, `oci:${dive}:dive`], { encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  const v = await compare(dive, 'dive', work);
  assert.equal(v.files, 405);
  seen.push(`dive: ${v.files} files, ${v.totalBytes} bytes`);

  const mini = await writeMiniLayout(join(work, 'mini'), { tag: 'mini', platforms: [{ os: 'linux', architecture: 'amd64' }] });
  const m = await compare(mini.dir, 'mini', work);
  seen.push(`mini: ${m.files} files, ${m.totalBytes} bytes`);
  t.diagnostic(seen.join('; '));
});

/** A GNU-format header ("ustar  \0") whose atime area holds `prefix`: not a number, so Go names the entry prefix/name. */
function gnuPrefixEntry(prefix: string, name: string, data: string): Buffer {
  const h = header({ name, typeflag: '0', size: data.length, format: 'gnu' });
  h.write(`${prefix}\0`, 345, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of h) sum += c;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return Buffer.concat([h, Buffer.from(data), pad(data.length)]);
}

test('umoci unpack and inspect agree on the tar-parity layers of the issue 12 review (names Go reads differently)', async (t) => {
  if (!have('umoci') || !have('skopeo')) return skipOrFail(t, 'umoci and skopeo are needed');
  const work = await mkdtemp(join(tmpdir(), 'vouch-umoci-p-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const emptyL = metaEntry('L', Buffer.from([0]), '././@LongLink');
  const emptyL0 = header({ name: '././@LongLink', typeflag: 'L', size: 0 });
  const emptyK = metaEntry('K', Buffer.from([0]), '././@LongLink');
  const img = await writeLayersLayout(join(work, 'parity'), [
    tar([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/motd', data: 'hello\n' },
      { name: 'etc/issue', data: 'x\n' },
      { name: 'usr/', type: 'dir' },
      { name: 'usr/bin/', type: 'dir' },
      emptyL,
      entry({ name: 'usr/bin/sudo-evil', data: '#!/bin/sh\nid\n', mode: 0o4755 }),
      emptyL0,
      entry({ name: 'etc/ld.so.preload', data: '/tmp/evil.so\n' }),
      emptyK,
      entry({ name: 'etc/localtime', type: 'symlink', linkname: '/etc/shadow' }),
      gnuPrefixEntry('etc', 'passwd', 'evil::0:0::/:/bin/sh\n'),
      { name: '/../etc/evil-rooted', data: 'rooted\n' },
      { name: '../usr/bin/evil-suid', data: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'usr/../../etc/evil-mid', data: 'mid\n' },
    ]),
    tar([{ name: '/../etc/.wh.motd' }]),
  ]);
  const c = await compare(img.dir, 'test', work);
  // issue, sudo-evil, ld.so.preload, localtime, passwd, evil-rooted, evil-suid, evil-mid; motd whited out.
  assert.equal(c.files, 8);
});

test('inspect --json figures equal umoci unpack + find on the image the suite builds with the daemon', async (t) => {
  if (!have('umoci') || !have('skopeo')) return skipOrFail(t, 'umoci and skopeo are needed');
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const work = await mkdtemp(join(tmpdir(), 'vouch-umoci-d-'));
  const tag = `vouch-test/umoci-${randomBytes(4).toString('hex')}:latest`;
  t.after(async () => {
    await docker.getImage(tag).remove().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });
  await buildTestImage(docker, tag);
  const dir = join(work, 'built');
  const s = spawnSync('skopeo', ['copy', '--quiet', `docker-daemon:${tag}`, `oci:${dir}:built`], { encoding: 'utf8' });
  assert.equal(s.status, 0, s.stderr);
  const r = await compare(dir, 'built', work);
  t.diagnostic(`docker-built test image: ${r.files} files, ${r.totalBytes} bytes`);
});
