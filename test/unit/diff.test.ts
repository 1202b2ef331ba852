import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciLayoutWriter } from '../../src/core/oci/layout-writer.js';
import { TarWriter, type TarEntry } from '../../src/core/oci/tar-writer.js';
import { diffInventories, packageKey, isSecretEnv, REDACTED, diffInputs } from '../../src/core/diff/index.js';
import type { Package } from '../../src/core/packages/types.js';
import { runCli } from '../helpers/inspect.js';

const pkg = (type: string, name: string, version: string, licenses: string[] = [], purl?: string): Package => ({
  name,
  version,
  type,
  purl: purl ?? `pkg:${type}/${name}@${version}`,
  licenses,
  locations: [],
});
const inv = (packages: Package[]) => ({ source: 'file' as const, distro: null, packages, warnings: [] });

test('diffInventories: added, removed, changed with each ecosystem order, licence changes, sorted', () => {
  const base = inv([
    pkg('deb', 'libc6', '2.36-9', ['LGPL-2.1'], 'pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12'),
    pkg('deb', 'openssl', '3.0.11-1~deb12u2', [], 'pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12'),
    pkg('deb', 'curl', '7.88.1-10'),
    pkg('npm', 'left-pad', '1.3.0', ['MIT']),
    pkg('npm', 'lodash', '4.17.21', ['MIT']),
    pkg('pypi', 'requests', '2.31.0', ['Apache-2.0']),
    pkg('maven', 'guava', '32.1.2-jre', [], 'pkg:maven/com.google.guava/guava@32.1.2-jre'),
    pkg('golang', 'golang.org/x/net', 'v0.17.0', [], 'pkg:golang/golang.org/x/net@v0.17.0'),
    pkg('npm', 'weird', 'latest'),
  ]);
  const target = inv([
    pkg('deb', 'libc6', '2.36-9+deb12u4', ['LGPL-2.1'], 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12'),
    pkg('deb', 'openssl', '3.0.11-1', [], 'pkg:deb/debian/openssl@3.0.11-1?distro=debian-12'),
    pkg('deb', 'bash', '5.2.15-2+b2'),
    pkg('npm', 'left-pad', '1.3.0', ['ISC']),
    pkg('npm', 'lodash', '4.17.20', ['MIT']),
    pkg('pypi', 'requests', '2.31.0.post1', ['Apache-2.0']),
    pkg('maven', 'guava', '32.1.2-android', [], 'pkg:maven/com.google.guava/guava@32.1.2-android'),
    pkg('golang', 'golang.org/x/net', 'v0.0.0-20231201000000-abcdefabcdef', [], 'pkg:golang/golang.org/x/net@v0.0.0-20231201000000-abcdefabcdef'),
    pkg('npm', 'weird', 'next'),
  ]);
  const d = diffInventories(base, target);
  assert.deepEqual(d.added.map((p) => `${p.type}/${p.name}@${p.version}`), ['deb/bash@5.2.15-2+b2']);
  assert.deepEqual(d.removed.map((p) => `${p.type}/${p.name}@${p.version}`), ['deb/curl@7.88.1-10']);
  assert.deepEqual(d.changed, [
    { name: 'libc6', type: 'deb', from: '2.36-9', to: '2.36-9+deb12u4', direction: 'upgrade' },
    { name: 'openssl', type: 'deb', from: '3.0.11-1~deb12u2', to: '3.0.11-1', direction: 'upgrade' },
    { name: 'golang.org/x/net', type: 'golang', from: 'v0.17.0', to: 'v0.0.0-20231201000000-abcdefabcdef', direction: 'downgrade' },
    { name: 'guava', type: 'maven', from: '32.1.2-jre', to: '32.1.2-android', direction: 'downgrade' },
    { name: 'lodash', type: 'npm', from: '4.17.21', to: '4.17.20', direction: 'downgrade' },
    { name: 'weird', type: 'npm', from: 'latest', to: 'next', direction: 'unknown' },
    { name: 'requests', type: 'pypi', from: '2.31.0', to: '2.31.0.post1', direction: 'upgrade' },
  ]);
  assert.deepEqual(d.licenseChanges, [{ name: 'left-pad', type: 'npm', from: ['MIT'], to: ['ISC'] }]);
});

test('diffInventories: several versions of one package, purl identity', () => {
  const base = inv([pkg('npm', 'ms', '2.0.0'), pkg('npm', 'ms', '2.1.2'), pkg('npm', 'ms', '2.1.3')]);
  const target = inv([pkg('npm', 'ms', '2.1.3'), pkg('npm', 'ms', '2.1.1'), pkg('npm', 'ms', '3.0.0'), pkg('npm', 'ms', '3.0.1')]);
  const d = diffInventories(base, target);
  assert.deepEqual(d.changed.map((c) => [c.from, c.to, c.direction]), [['2.0.0', '2.1.1', 'upgrade'], ['2.1.2', '3.0.0', 'upgrade']]);
  assert.deepEqual(d.added.map((p) => p.version), ['3.0.1']);
  assert.deepEqual(d.removed, []);
  assert.equal(packageKey({ purl: 'pkg:npm/%40babel/core@7.0.0?x=1#sub', type: 'npm', name: '@babel/core' }), 'pkg:npm/@babel/core');
  assert.equal(packageKey({ purl: 'pkg:NPM/@babel/core@7.1.0', type: 'npm', name: 'core' }), 'pkg:npm/@babel/core');
  assert.equal(packageKey({ purl: '', type: 'generic', name: 'thing' }), 'type:generic/thing');
  // identical inventories: nothing
  assert.deepEqual(diffInventories(base, base), { added: [], removed: [], changed: [], licenseChanges: [] });
});

test('secret-looking env values', () => {
  assert.ok(isSecretEnv('API_TOKEN', 'x'));
  assert.ok(isSecretEnv('DB_PASSWORD', 'x'));
  assert.ok(isSecretEnv('AWS_SECRET_ACCESS_KEY', 'x'));
  assert.ok(isSecretEnv('X', 'AKIAIOSFODNN7EXAMPLE'));
  assert.ok(isSecretEnv('X', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'));
  assert.ok(isSecretEnv('DATABASE_URL', 'postgres://user:hunter2@db:5432/app'));
  assert.ok(isSecretEnv('X', 'Zk9pQ2x3N1V4bTRhR2t0cE1yOHdEeUZxSjZzTA9hQ'));
  assert.ok(!isSecretEnv('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
  assert.ok(!isSecretEnv('NODE_VERSION', '20.11.1'));
  assert.ok(!isSecretEnv('LANG', 'C.UTF-8'));
});

// --- two small OCI images -------------------------------------------------------------------

function tarOf(entries: Array<TarEntry & { data?: string }>): Buffer {
  const w = new TarWriter();
  for (const { data, ...e } of entries) {
    const bytes = data === undefined ? undefined : Buffer.from(data);
    w.add(bytes ? { ...e, size: bytes.length } : e, bytes);
  }
  w.finish();
  return Buffer.concat(w.take());
}

const stanza = (name: string, version: string): string => `Package: ${name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: ${version}\nDescription: ${name}\n`;
const status = (pkgs: Array<[string, string]>): string => pkgs.map(([n, v]) => stanza(n, v)).join('\n');
const npmPkg = (name: string, version: string, license: string): string => JSON.stringify({ name, version, license });
const CREATED = '2024-01-01T00:00:00Z';

async function writeImage(dir: string, which: 'base' | 'target'): Promise<void> {
  const w = await OciLayoutWriter.create(dir);
  // Layer 1: shared by both images (identical bytes).
  await w.addLayer(
    tarOf([
      { path: 'etc', type: 'dir' },
      { path: 'etc/os-release', type: 'file', data: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
      { path: 'bin', type: 'dir' },
      { path: 'bin/sh', type: 'file', mode: 0o755, data: 'x'.repeat(1000) },
    ]),
    { createdBy: 'ADD rootfs.tar /' },
  );
  if (which === 'base') {
    await w.addLayer(
      tarOf([
        { path: 'var/lib/dpkg/status', type: 'file', data: status([['libc6', '2.36-9'], ['openssl', '3.0.11-1'], ['zlib1g', '1:1.2.13.dfsg-1'], ['curl', '7.88.1-10']]) },
        { path: 'app/node_modules/left-pad/package.json', type: 'file', data: npmPkg('left-pad', '1.3.0', 'MIT') },
        { path: 'app/old.txt', type: 'file', data: 'old'.repeat(100) },
        { path: 'app/config.json', type: 'file', mode: 0o644, data: '{"a":1}' },
        { path: 'app/link', type: 'symlink', linkname: 'old.txt' },
      ]),
      { createdBy: 'RUN apt-get install -y curl openssl' },
    );
  } else {
    await w.addLayer(
      tarOf([
        { path: 'var/lib/dpkg/status', type: 'file', data: status([['libc6', '2.36-9+deb12u4'], ['openssl', '3.0.9-1'], ['zlib1g', '1:1.2.13.dfsg-1'], ['bash', '5.2.15-2+b2']]) },
        { path: 'app/node_modules/left-pad/package.json', type: 'file', data: npmPkg('left-pad', '1.3.0', 'ISC') },
        { path: 'app/new.bin', type: 'file', data: 'n'.repeat(5000) },
        { path: 'app/config.json', type: 'file', mode: 0o600, data: '{"a":1,"b":2}' },
        { path: 'app/link', type: 'symlink', linkname: 'new.bin' },
      ]),
      { createdBy: 'RUN apt-get install -y bash openssl=3.0.9-1' },
    );
  }
  await w.finish({
    tags: ['v1'],
    created: CREATED,
    config: {
      User: which === 'base' ? 'app' : '0',
      Env: which === 'base'
        ? ['PATH=/usr/bin:/bin', 'API_TOKEN=tok-base-abc123', 'MODE=prod', 'OLD=1']
        : ['PATH=/usr/bin:/bin', 'API_TOKEN=tok-target-zzz999', 'MODE=prod', 'DATABASE_URL=postgres://svc:hunter2pw@db/app'],
      Entrypoint: ['/bin/sh'],
      Cmd: which === 'base' ? ['serve'] : ['serve', '--fast'],
      ExposedPorts: which === 'base' ? { '8080/tcp': {} } : { '8080/tcp': {}, '9090/tcp': {} },
    },
    labels: which === 'base' ? { 'org.example.tier': 'web' } : { 'org.example.tier': 'api', 'org.example.team': 'core' },
    manifestAnnotations: {
      'org.opencontainers.image.base.name': 'docker.io/library/debian:12',
      'org.opencontainers.image.base.digest': which === 'base' ? 'sha256:' + '1'.repeat(64) : 'sha256:' + '2'.repeat(64),
    },
  });
}

const work = mkdtempSync(join(tmpdir(), 'vouch-diff-'));
const baseDir = join(work, 'base');
const targetDir = join(work, 'target');
const ready = Promise.all([writeImage(baseDir, 'base'), writeImage(targetDir, 'target')]);
const SECRETS = ['tok-base-abc123', 'tok-target-zzz999', 'hunter2pw'];

test('diff of two images: packages, config (secrets redacted), layers, files', async () => {
  await ready;
  const { report } = await diffInputs(`oci:${baseDir}:v1`, `oci:${targetDir}:v1`);
  const p = report.packages;
  assert.deepEqual(p.added.map((x) => `${x.type}/${x.name}@${x.version}`), ['deb/bash@5.2.15-2+b2']);
  assert.deepEqual(p.removed.map((x) => `${x.type}/${x.name}@${x.version}`), ['deb/curl@7.88.1-10']);
  assert.deepEqual(p.changed, [
    { name: 'libc6', type: 'deb', from: '2.36-9', to: '2.36-9+deb12u4', direction: 'upgrade' },
    { name: 'openssl', type: 'deb', from: '3.0.11-1', to: '3.0.9-1', direction: 'downgrade' },
  ]);
  assert.deepEqual(p.licenseChanges, [{ name: 'left-pad', type: 'npm', from: ['MIT'], to: ['ISC'] }]);

  const c = report.config!;
  assert.deepEqual(c.user, { from: 'app', to: '0' });
  assert.deepEqual(c.env, {
    added: [{ name: 'DATABASE_URL', value: REDACTED }],
    removed: [{ name: 'OLD', value: '1' }],
    changed: [{ name: 'API_TOKEN', from: REDACTED, to: REDACTED }],
  });
  assert.equal(c.entrypoint, null);
  assert.deepEqual(c.cmd, { from: ['serve'], to: ['serve', '--fast'] });
  assert.equal(c.workingDir, null);
  assert.deepEqual(c.exposedPorts, { added: ['9090/tcp'], removed: [] });
  assert.deepEqual(c.labels, { added: [{ name: 'org.example.team', value: 'core' }], removed: [], changed: [{ name: 'org.example.tier', from: 'web', to: 'api' }] });
  assert.deepEqual(c.baseImage, {
    from: { name: 'docker.io/library/debian:12', digest: 'sha256:' + '1'.repeat(64) },
    to: { name: 'docker.io/library/debian:12', digest: 'sha256:' + '2'.repeat(64) },
  });

  const l = report.layers!;
  assert.equal(l.shared.length, 1);
  assert.equal(l.shared[0]!.createdBy, 'ADD rootfs.tar /');
  assert.deepEqual(l.added.map((x) => x.createdBy), ['RUN apt-get install -y bash openssl=3.0.9-1']);
  assert.deepEqual(l.removed.map((x) => x.createdBy), ['RUN apt-get install -y curl openssl']);
  assert.notEqual(l.added[0]!.diffId, l.removed[0]!.diffId);

  const f = report.files!;
  const strip = <T extends { sha256?: string }>(x: T): Omit<T, 'sha256'> => {
    const { sha256: _s, ...rest } = x;
    return rest;
  };
  assert.deepEqual({ count: f.added.count, bytes: f.added.bytes, files: f.added.files.map(strip) }, { count: 1, bytes: 5000, files: [{ path: '/app/new.bin', type: 'file', size: 5000, mode: 0o644, uid: 0, gid: 0 }] });
  assert.match(f.added.files[0]!.sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.deepEqual({ count: f.removed.count, bytes: f.removed.bytes, paths: f.removed.files.map((x) => x.path) }, { count: 1, bytes: 300, paths: ['/app/old.txt'] });
  // left-pad's package.json changed content but not size (MIT → ISC): seen through the content digests.
  assert.equal(f.changed.count, 4);
  assert.deepEqual(f.changed.files.map((x) => [x.path, x.fields]), [
    ['/var/lib/dpkg/status', ['size', 'content']],
    ['/app/node_modules/left-pad/package.json', ['content']],
    ['/app/config.json', ['size', 'mode', 'content']],
    ['/app/link', ['linkname']],
  ]);
  const config = f.changed.files.find((x) => x.path === '/app/config.json')!;
  assert.deepEqual({ ...config, from: strip(config.from), to: strip(config.to) }, {
    path: '/app/config.json',
    from: { type: 'file', size: 7, mode: 0o644, uid: 0, gid: 0 },
    to: { type: 'file', size: 13, mode: 0o600, uid: 0, gid: 0 },
    fields: ['size', 'mode', 'content'],
  });
  assert.notEqual(config.from.sha256, config.to.sha256);
  const json = JSON.stringify(report);
  for (const s of SECRETS) assert.ok(!json.includes(s), `${s} leaked into the report`);
});

test('vouch diff: --json document, human tables, secrets redacted everywhere', async () => {
  await ready;
  const j = await runCli(['diff', `oci:${baseDir}:v1`, `oci:${targetDir}:v1`, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.deepEqual(Object.keys(doc), ['base', 'target', 'packages', 'config', 'layers', 'files']);
  // Newcomer 15: the document names what it compared: input, reference, digest.
  for (const [side, dir] of [['base', baseDir], ['target', targetDir]] as const) {
    assert.equal(doc[side].kind, 'image');
    assert.equal(doc[side].input, `oci:${dir}:v1`);
    assert.match(doc[side].reference, new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.match(doc[side].digest, /^sha256:[0-9a-f]{64}$/);
  }
  assert.notEqual(doc.base.digest, doc.target.digest);
  assert.deepEqual(Object.keys(doc.packages), ['added', 'removed', 'changed', 'licenseChanges']);
  assert.deepEqual(Object.keys(doc.layers), ['shared', 'added', 'removed']);
  assert.deepEqual(Object.keys(doc.files), ['added', 'removed', 'changed', 'attention']);
  const h = await runCli(['diff', `oci:${baseDir}:v1`, `oci:${targetDir}:v1`]);
  assert.equal(h.code, 0, h.stderr);
  for (const s of SECRETS) {
    assert.ok(!j.stdout.includes(s) && !j.stderr.includes(s), `${s} in JSON output`);
    assert.ok(!h.stdout.includes(s) && !h.stderr.includes(s), `${s} in text output`);
  }
  assert.match(h.stdout, /Packages: 1 added, 1 removed, 2 changed \(1 upgraded, 1 downgraded, 0 unknown\), 1 licence change/);
  assert.match(h.stdout, /~\s+deb\s+openssl\s+3\.0\.11-1\s+3\.0\.9-1\s+downgrade/);
  assert.match(h.stdout, /~\s+User\s+app\s+0/);
  assert.match(h.stdout, /~\s+Env API_TOKEN\s+<redacted>\s+<redacted>/);
  assert.match(h.stdout, /Layers: 1 shared, 1 added, 1 removed/);
  assert.match(h.stdout, /Files: 1 added \(5\.00 kB\), 1 removed \(300 B\), 4 changed/);
});

const cdx = (components: Array<{ name: string; version: string; purl: string; license?: string }>): string =>
  JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    components: components.map((c) => ({ type: 'library', name: c.name, version: c.version, purl: c.purl, ...(c.license ? { licenses: [{ license: { id: c.license } }] } : {}) })),
  });

test('vouch diff with SBOM files: packages only, image sections null; bad input exits 2', async () => {
  await ready;
  const a = join(work, 'a.cdx.json');
  const b = join(work, 'b.cdx.json');
  writeFileSync(a, cdx([{ name: 'express', version: '4.18.2', purl: 'pkg:npm/express@4.18.2', license: 'MIT' }, { name: 'ms', version: '2.1.3', purl: 'pkg:npm/ms@2.1.3' }]));
  writeFileSync(b, cdx([{ name: 'express', version: '4.19.2', purl: 'pkg:npm/express@4.19.2', license: 'MIT' }]));
  const r = await runCli(['diff', a, b, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual([doc.base, doc.target], [{ kind: 'sbom', input: a, reference: null, digest: null }, { kind: 'sbom', input: b, reference: null, digest: null }]);
  assert.deepEqual(doc.packages.changed, [{ name: 'express', type: 'npm', from: '4.18.2', to: '4.19.2', direction: 'upgrade' }]);
  assert.deepEqual(doc.packages.removed.map((p: Package) => p.name), ['ms']);
  assert.equal(doc.config, null);
  assert.equal(doc.layers, null);
  assert.equal(doc.files, null);
  // SBOM against an image: the image's catalogue against the SBOM
  const mixed = await runCli(['diff', a, `oci:${targetDir}:v1`, '--json']);
  assert.equal(mixed.code, 0, mixed.stderr);
  const m = JSON.parse(mixed.stdout);
  assert.equal(m.config, null);
  assert.ok(m.packages.added.some((p: Package) => p.name === 'libc6'));
  const text = await runCli(['diff', a, b]);
  assert.match(text.stdout, /not compared \(one side is not an image\)/);

  const bad = join(work, 'bad.json');
  writeFileSync(bad, '{"bomFormat": "CycloneDX", "specVersion": "9.9", "components": [');
  for (const args of [['diff', bad, b], ['diff', join(work, 'missing'), b], ['diff', a]]) {
    const e = await runCli(args);
    assert.equal(e.code, 2, `${args.join(' ')}: ${e.stdout}`);
    assert.equal(e.stdout, '');
    if (args.length === 3) assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr);
  }
});

// --- issue 9 item 4: every file in JSON, review-relevant files first in text ----------------

test('vouch diff: JSON lists every added/removed file; text puts setuid, keys, PATH executables first and calls out new setuid and secrets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-diff-many-'));
  const write = async (d: string, entries: Array<TarEntry & { data?: string }>): Promise<void> => {
    const w = await OciLayoutWriter.create(d);
    await w.addLayer(tarOf(entries), { createdBy: 'ADD rootfs.tar /' });
    await w.finish({ tags: ['v1'], created: CREATED, config: {} });
  };
  const big = Array.from({ length: 30 }, (_, i) => ({ path: `data/blob${String(i).padStart(2, '0')}.bin`, type: 'file' as const, data: 'b'.repeat(10_000 + i) }));
  await write(join(dir, 'a'), [{ path: 'etc/motd', type: 'file', data: 'hi' }, { path: 'bin/sh', type: 'file', mode: 0o755, data: 'sh' }, { path: 'usr/bin/passwd', type: 'file', mode: 0o755, data: 'pw' }]);
  await write(join(dir, 'b'), [
    ...big,
    { path: 'bin/sh', type: 'file', mode: 0o755, data: 'sh' },
    { path: 'usr/bin/passwd', type: 'file', mode: 0o4755, data: 'pw' },
    { path: 'usr/local/bin/helper', type: 'file', mode: 0o4755, data: 'tiny' },
    { path: 'usr/bin/newtool', type: 'file', mode: 0o755, data: 'tool' },
    { path: 'root/.ssh/id_rsa', type: 'file', mode: 0o600, data: 'key' },
    { path: 'srv/drop', type: 'file', mode: 0o666, data: 'x' },
  ]);
  const j = await runCli(['diff', `oci:${dir}/a:v1`, `oci:${dir}/b:v1`, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const f = JSON.parse(j.stdout).files;
  assert.equal(f.added.count, 34);
  assert.equal(f.added.files.length, 34, 'every added file is in the JSON');
  assert.deepEqual(f.removed.files.map((x: { path: string }) => x.path), ['/etc/motd']);
  // review-relevant first (then by size), each with its reasons
  assert.deepEqual(f.added.files.slice(0, 4).map((x: { path: string; review: string[] }) => [x.path, x.review]), [
    ['/usr/local/bin/helper', ['setuid', 'executable-in-path']],
    ['/root/.ssh/id_rsa', ['secret']],
    ['/srv/drop', ['world-writable']],
    ['/usr/bin/newtool', ['executable-in-path']],
  ]);
  assert.deepEqual(f.attention, { newSetuid: ['/usr/bin/passwd', '/usr/local/bin/helper'], newSecrets: ['/root/.ssh/id_rsa'] });
  const h = await runCli(['diff', `oci:${dir}/a:v1`, `oci:${dir}/b:v1`]);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /NEW SETUID\/SETGID: \/usr\/local\/bin\/helper/);
  assert.match(h.stdout, /NEW SETUID\/SETGID: \/usr\/bin\/passwd/);
  assert.match(h.stdout, /NEW KEY\/CREDENTIAL FILE: \/root\/\.ssh\/id_rsa/);
  assert.match(h.stdout, /-\s+\/etc\/motd/);
  assert.match(h.stdout, /… and 14 more added \(--json lists every file\)/);
  const lines = h.stdout.split('\n');
  assert.ok(lines.findIndex((l) => l.includes('/usr/local/bin/helper')) < lines.findIndex((l) => l.includes('/data/blob29.bin')), 'setuid listed before the largest file');
});
