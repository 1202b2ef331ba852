/**
 * The docker-daemon source against a real dockerd: an image built FROM scratch
 * with busybox-static, read back through dockerode (inspect, history, export).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { createGunzip } from 'node:zlib';
import { VouchError } from '../../src/core/errors.js';
import { daemonHasImage, isDaemonReachable, openDaemonImage } from '../../src/core/sources/daemon.js';
import { TEST_IMAGE_REVISION, TEST_IMAGE_SOURCE, buildTestImage, dockerOrSkip } from '../helpers/docker.js';

const TAG = 'vouch-test/daemon:latest';
const MISSING = 'vouch-test/does-not-exist:nope';

async function sha256Of(stream: Readable): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}

const daemonTempDirs = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('vouch-daemon-')));

/** Runs `fn` with DOCKER_HOST set to `value`, restoring it afterwards. */
async function withDockerHost<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  }
}

test('an unreachable daemon (DOCKER_HOST) is a one-line DAEMON_ERROR naming the socket', async () => {
  await withDockerHost('unix:///nonexistent/vouch-test/docker.sock', async () => {
    assert.equal(await isDaemonReachable(), false);
    assert.equal(await daemonHasImage('busybox:latest'), false);
    await assert.rejects(openDaemonImage('busybox:latest'), (e: unknown) => {
      assert.ok(e instanceof VouchError);
      assert.equal(e.code, 'DAEMON_ERROR');
      assert.match(e.message, /^cannot reach the Docker daemon at unix:\/\/\/nonexistent\/vouch-test\/docker\.sock: /);
      assert.ok(!/[\r\n]/.test(e.message), 'one line');
      assert.equal(e.exitCode, 2);
      return true;
    });
  });
  // tcp:// to a closed loopback port: refused, quickly.
  await withDockerHost('tcp://127.0.0.1:1', async () => {
    await assert.rejects(openDaemonImage('busybox:latest'), (e: unknown) => {
      assert.ok(e instanceof VouchError);
      assert.equal(e.code, 'DAEMON_ERROR');
      assert.match(e.message, /^cannot reach the Docker daemon at tcp:\/\/127\.0\.0\.1:1: /);
      return true;
    });
  });
});

test('malformed daemon image names are rejected before any request', async () => {
  for (const bad of ['', 'a b', 'x?y', '../../etc', 'name#frag', 'q\u001b[31m']) {
    await assert.rejects(openDaemonImage(bad), (e: unknown) => e instanceof VouchError && e.code === 'INVALID_REFERENCE', bad);
  }
});

test('docker daemon source (real dockerd)', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const built = await buildTestImage(docker, TAG);
  const info = await docker.getImage(TAG).inspect();

  await t.test('daemonHasImage / isDaemonReachable', async () => {
    assert.equal(await isDaemonReachable({ docker }), true);
    assert.equal(await daemonHasImage(TAG, { docker }), true);
    assert.equal(await daemonHasImage(MISSING, { docker }), false);
  });

  await t.test('open by tag: config digest = image ID, diffIds = RootFS.Layers, every byte verifies', async () => {
    const before = daemonTempDirs();
    const image = await openDaemonImage(TAG, { docker });
    const exportDir = dirname(image.daemon.exportFile);
    try {
      assert.equal(image.transport, 'docker-daemon');
      assert.equal(image.reference, `docker-daemon:${TAG}`);
      assert.equal(image.configDigest, built.id);
      assert.equal(image.configDigest, info.Id);
      assert.equal(createHash('sha256').update(image.configBytes).digest('hex'), info.Id.slice('sha256:'.length));
      assert.deepEqual(image.config.rootfs.diff_ids, info.RootFS.Layers);
      assert.deepEqual(image.layers.map((l) => l.diffId), info.RootFS.Layers);
      assert.equal(image.layers.length, 6, 'six non-empty layers');
      assert.deepEqual(image.manifest.layers.map((l) => l.digest), image.layers.map((l) => l.digest));
      assert.equal(image.manifest.config.digest, image.configDigest);
      assert.equal(createHash('sha256').update(image.manifestBytes).digest('hex'), image.digest.slice('sha256:'.length));

      assert.equal(image.config.config?.Labels?.['org.opencontainers.image.source'], TEST_IMAGE_SOURCE);
      assert.equal(image.config.config?.Labels?.['org.opencontainers.image.revision'], TEST_IMAGE_REVISION);
      assert.equal(image.config.config?.User, '1000:1000');
      assert.equal(image.platform.os, 'linux');

      assert.ok(image.daemon.repoTags.includes(TAG), `RepoTags ${JSON.stringify(image.daemon.repoTags)}`);
      assert.equal(image.daemon.id, info.Id);
      assert.ok(image.daemon.history.length >= 11, 'history has every Dockerfile step');
      assert.ok(image.daemon.history.some((h) => h.createdBy.includes('chmod 4755')));

      // The export lives in a private temporary file while the image is open (other test files use
      // the daemon at the same time, so the file is found through the image, not by listing tmpdir).
      const tarPath = image.daemon.exportFile;
      assert.ok(before.has(dirname(tarPath).slice(tmpdir().length + 1)) === false, 'a new temp dir');
      assert.equal(statSync(tarPath).mode & 0o777, 0o600);
      assert.equal(statSync(dirname(tarPath)).mode & 0o777, 0o700);

      for (const [i, layer] of image.layers.entries()) {
        const stored = await sha256Of(await layer.open());
        assert.equal(stored.digest, layer.digest, `layer ${i} blob digest`);
        assert.equal(stored.size, layer.size, `layer ${i} size`);
        const plain = layer.compression === 'gzip' ? (await layer.open()).pipe(createGunzip()) : await layer.open();
        if (layer.compression !== 'zstd') assert.equal((await sha256Of(plain)).digest, layer.diffId, `layer ${i} diffId`);
      }
    } finally {
      await image.close();
      await image.close(); // twice is fine
    }
    assert.equal(existsSync(exportDir), false, 'close() removes the temporary export');
  });

  await t.test('open by image ID', async () => {
    const image = await openDaemonImage(info.Id, { docker });
    try {
      assert.equal(image.configDigest, info.Id);
      assert.deepEqual(image.layers.map((l) => l.diffId), info.RootFS.Layers);
    } finally {
      await image.close();
    }
  });

  await t.test('a missing image is NOT_FOUND naming it', async () => {
    await assert.rejects(openDaemonImage(MISSING, { docker }), (e: unknown) => {
      assert.ok(e instanceof VouchError);
      assert.equal(e.code, 'NOT_FOUND');
      assert.ok(e.message.includes(MISSING), e.message);
      assert.ok(!/[\r\n]/.test(e.message));
      return true;
    });
  });

  await t.test('the default client honours DOCKER_HOST (unix:// to the same socket)', async (t2) => {
    const socket = (docker.modem as { socketPath?: unknown }).socketPath;
    // Without DOCKER_HOST dockerode resolves the socket lazily (a function); Linux's default is /var/run/docker.sock.
    const path = typeof socket === 'string' ? socket : '/var/run/docker.sock';
    if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) {
      t2.skip(`DOCKER_HOST is ${process.env.DOCKER_HOST}, not a unix socket`);
      return;
    }
    await withDockerHost(`unix://${path}`, async () => {
      const image = await openDaemonImage(TAG);
      try {
        assert.equal(image.configDigest, info.Id);
        assert.equal(image.daemon.endpoint, `unix://${path}`);
      } finally {
        await image.close();
      }
    });
  });
});

test('a bare name the daemon has resolves to the daemon, and a second inspect exports nothing', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const { id, tag } = await buildTestImage(docker, TAG);
  const { inspectReference } = await import('../../src/core/layers/inspect.js');
  const { ContentCache } = await import('../../src/core/cache/cache.js');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-daemon-cache-'));
  try {
    const cache = new ContentCache(dir);
    const first = await inspectReference(tag, { cache });
    assert.equal(first.resolution.reference.transport, 'docker-daemon');
    assert.match(first.resolution.how, /Docker daemon/);
    assert.equal(first.cached, false);
    assert.equal(first.analysis.config.digest, id);
    // Found by image ID before the image was opened: nothing was exported.
    const second = await inspectReference(tag, { cache });
    assert.equal(second.cached, true, 'found in the cache');
    assert.equal(second.opened, false, 'found by image ID: the image was not exported');
    assert.equal(first.opened, true);
    assert.deepEqual(second.analysis.layers, first.analysis.layers);
    assert.equal(second.analysis.efficiency, first.analysis.efficiency);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
