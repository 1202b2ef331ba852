/**
 * The real Debian check: a Debian 12 root built by debootstrap (--variant=minbase),
 * packed by GNU tar into the single layer of an OCI layout, catalogued by vouch;
 * the dpkg result must equal `dpkg-query -W` run against the same root, package
 * for package and version for version.
 *
 * The layout and dpkg-query's answer are cached between runs under
 * $VOUCH_TEST_FIXTURES (default: .vouch-test/ in the repository), keyed by
 * FIXTURE_VERSION. Building needs root, debootstrap and Debian's mirror
 * ($VOUCH_DEBIAN_MIRROR, default http://deb.debian.org/debian); without them
 * the test skips visibly, and under CI=true it fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OciLayoutWriter } from '../../src/core/oci/layout-writer.js';
import { catalogReference } from '../../src/core/packages/catalog/index.js';
import { skipOrFail, which } from '../helpers/docker.js';
import { pathExists } from '../../src/core/util/fs.js';

const FIXTURE_VERSION = 1;
const SUITE = 'bookworm';
const TAG = 'bookworm-minbase';
const root = join(import.meta.dirname, '../..');
const fixtures = process.env.VOUCH_TEST_FIXTURES ?? join(root, '.vouch-test');
const dir = join(fixtures, `dpkg-debian-${SUITE}-minbase-v${FIXTURE_VERSION}`);
const mirror = process.env.VOUCH_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${String(r.stderr).slice(-2000)}`);
}

/** Why the fixture cannot be built here, or null. */
function cannotBuild(): string | null {
  if (process.platform !== 'linux') return 'debootstrap needs Linux';
  if (process.getuid?.() !== 0) return 'debootstrap needs root';
  if (!which('debootstrap')) return 'debootstrap is not installed (apt-get install debootstrap)';
  if (!which('dpkg-query')) return 'dpkg-query is not installed';
  if (!which('tar')) return 'tar is not installed';
  return null;
}

/** Build (once) the layout and dpkg-query's listing; returns the layout directory. */
async function ensureFixture(): Promise<{ layout: string; expected: string[] }> {
  const layout = join(dir, 'layout');
  const expectedFile = join(dir, 'dpkg-query.txt');
  if (!(await pathExists(join(layout, 'index.json'))) || !(await pathExists(expectedFile))) {
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    try {
      const rootfs = join(work, 'rootfs');
      // The one test that needs the network (Debian's mirror): a transient mirror error gets two more tries.
      for (let attempt = 1; ; attempt++) {
        try {
          run(which('debootstrap')!, ['--variant=minbase', SUITE, rootfs, mirror]);
          break;
        } catch (e) {
          if (attempt >= 3) throw e;
          await rm(rootfs, { recursive: true, force: true });
          await new Promise((r) => setTimeout(r, 5000 * attempt));
        }
      }
      const q = spawnSync('dpkg-query', [`--admindir=${join(rootfs, 'var/lib/dpkg')}`, '-W', '-f', '${Package} ${Version}\n'], { maxBuffer: 16 << 20 });
      if (q.status !== 0) throw new Error(`dpkg-query failed: ${String(q.stderr)}`);
      await writeFile(join(work, 'dpkg-query.txt'), q.stdout);
      // GNU tar writes the layer, as a build tool would: numeric owners, devices and all.
      const tar = spawn('tar', ['--numeric-owner', '--sort=name', '-C', rootfs, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let tarErr = '';
      tar.stderr.on('data', (d: Buffer) => (tarErr += d.toString()));
      const tarDone = new Promise<void>((resolve, reject) => tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar failed (${code}): ${tarErr.slice(-2000)}`)))));
      const w = await OciLayoutWriter.create(join(work, 'layout'));
      await w.addLayer(tar.stdout, { gzipLevel: 1, createdBy: `debootstrap --variant=minbase ${SUITE}` });
      await tarDone;
      await w.finish({ tags: [TAG], created: '2024-01-01T00:00:00Z', config: { Cmd: ['bash'] } });
      await rm(rootfs, { recursive: true, force: true });
      // Another test run may have finished the same fixture meanwhile: either copy is good.
      if (!(await pathExists(join(dir, 'dpkg-query.txt')))) {
        await rm(dir, { recursive: true, force: true });
        await rename(work, dir).catch(async (e: unknown) => {
          if (!(await pathExists(join(dir, 'dpkg-query.txt')))) throw e;
        });
      }
      await rm(work, { recursive: true, force: true });
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw e;
    }
  }
  const expected = (await readFile(expectedFile, 'utf8')).split('\n').filter((l) => l !== '');
  return { layout, expected };
}

test('dpkg on a real Debian root equals dpkg-query -W, package for package and version for version', { timeout: 15 * 60_000 }, async (t) => {
  const cached = (await pathExists(join(dir, 'layout/index.json'))) && (await pathExists(join(dir, 'dpkg-query.txt')));
  if (!cached) {
    const why = cannotBuild();
    if (why) return skipOrFail(t, why);
  }
  const { layout, expected } = await ensureFixture();
  const r = await catalogReference(`oci:${layout}:${TAG}`, { noCache: true });
  const inv = r.inventory;
  const got = inv.packages
    .filter((p) => p.type === 'deb')
    .map((p) => `${p.name} ${p.version}`)
    .sort();
  assert.ok(expected.length > 50, `dpkg-query listed ${expected.length} packages`);
  assert.deepEqual(got, [...expected].sort());
  assert.deepEqual(inv.warnings, []);
  // /etc/os-release is a symlink to ../usr/lib/os-release in Debian: the distro comes from the latter.
  assert.equal(inv.distro?.id, 'debian');
  assert.equal(inv.distro?.versionId, '12');
  const bash = inv.packages.find((p) => p.type === 'deb' && p.name === 'bash')!;
  assert.match(bash.purl, /^pkg:deb\/debian\/bash@[^?]+\?arch=[a-z0-9]+&distro=debian-12$/);
  assert.deepEqual(bash.locations.map((l) => l.path), ['/var/lib/dpkg/status']);
  assert.match(bash.locations[0]!.layer ?? '', /^sha256:[0-9a-f]{64}$/);
  // Licences from the machine-readable copyright files (most of minbase has them).
  const licensed = inv.packages.filter((p) => p.type === 'deb' && p.licenses.length > 0).length;
  assert.ok(licensed > expected.length / 2, `${licensed} of ${expected.length} packages have licences`);
  // Only Debian packages in a minbase root (no npm, python, go or java finds from stray files).
  assert.deepEqual([...new Set(inv.packages.map((p) => p.type))], ['deb']);
});
