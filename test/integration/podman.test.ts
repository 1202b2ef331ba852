/**
 * Issue 9, gaps: the daemon source through Podman's Docker-compatible socket
 * (`podman system service`), selected with DOCKER_HOST as a user would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/inspect.js';
import { skipOrFail } from '../helpers/docker.js';
import { tar } from '../helpers/tar-writer.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function ping(sock: string): Promise<boolean> {
  const r = spawnSync('curl', ['-sf', '--unix-socket', sock, 'http://d/_ping'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout === 'OK';
}

test('docker-daemon: through Podman\'s socket (DOCKER_HOST=unix://…podman.sock)', async (t) => {
  if (spawnSync('podman', ['--version']).status !== 0) return skipOrFail(t, 'podman is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-podman-'));
  const sock = join(dir, 'podman.sock');
  const service = spawn('podman', ['system', 'service', '--time=0', `unix://${sock}`], { stdio: 'ignore' });
  const tag = `localhost/vouch-test/podman-${randomBytes(4).toString('hex')}:latest`;
  t.after(async () => {
    spawnSync('podman', ['rmi', '-f', tag]);
    service.kill();
    await rm(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 100 && !(existsSync(sock) && (await ping(sock))); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await ping(sock))) return skipOrFail(t, 'podman system service did not answer on its socket');

  const layer = tar([{ name: 'etc/', type: 'dir', mode: 0o755 }, { name: 'etc/os-release', data: 'ID=podman-test\n' }, { name: 'bin/', type: 'dir' }, { name: 'bin/tool', data: 'tool', mode: 0o4755 }]);
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/tool'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } }));
  const archive = join(dir, 'image.tar');
  await writeFile(archive, tar([{ name: 'l.tar', data: layer }, { name: `${sha(cfg)}.json`, data: cfg }, { name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(cfg)}.json`, RepoTags: [tag], Layers: ['l.tar'] }]) }]));
  const load = spawnSync('podman', ['load', '-i', archive], { encoding: 'utf8' });
  assert.equal(load.status, 0, load.stderr);

  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = `unix://${sock}`;
  try {
    const r = await runCli(['inspect', `docker-daemon:${tag}`, '--json', '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.transport, 'docker-daemon');
    assert.equal(doc.config.digest, `sha256:${sha(cfg)}`, 'the image ID Podman reports is the config digest');
    assert.equal(doc.layers[0].diffId, `sha256:${sha(layer)}`);
    assert.equal(doc.files, 2);
    assert.equal(doc.totalBytes, 19);
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  }
});
