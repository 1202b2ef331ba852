/**
 * The same image read through every source gives the same digests and the same
 * analysis. The image is built by the real daemon, then copied by tools nobody
 * here wrote: `docker save`, `skopeo copy` into an OCI layout, an oci-archive and
 * both local registries (plain, and htpasswd basic auth).
 *
 * Sources: docker-daemon, docker-archive, oci, oci-archive, docker:// (plain),
 * docker:// (auth).
 *
 * One thing legitimately differs: the `oci:` transport only takes OCI manifests,
 * so `skopeo copy docker-daemon:… oci:…` converts the Docker v2 config into an OCI
 * config (dropping container_config, docker_version…): a different config digest.
 * So config digests are compared within each format (Docker: daemon, docker-archive,
 * both registries = the image ID; OCI: oci, oci-archive = what skopeo wrote), and
 * everything else (diffIds, layers, files, sizes, efficiency, labels…) across all six.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { inspectForTest } from '../helpers/inspect.js';
import { buildTestImage, dockerOrSkip, ensureRegistries, registriesUnavailableReason, skipOrFail, which } from '../helpers/docker.js';

const run = promisify(execFile);
const TAG = 'vouch-test/cross:latest';
const REPO = 'vouch-test/cross';

async function tool(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 64 << 20, timeout: 180_000 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}`);
  }
}

/** What must be identical whichever source the image came from (the manifest digest and blob digests may differ: skopeo may recompress). */
function analysisView(r: any) {
  return {
    diffIds: r.layers?.map((l: any) => l.diffId),
    layers: r.layers?.map((l: any) => ({
      diffId: l.diffId,
      createdBy: l.createdBy,
      entries: l.entries,
      added: l.added,
      modified: l.modified,
      removed: l.removed,
      addedBytes: l.addedBytes,
      uncompressedSize: l.uncompressedSize,
    })),
    files: r.files,
    totalBytes: r.totalBytes,
    efficiency: r.efficiency,
    sizeBytes: r.sizeBytes,
    userSizeBytes: r.userSizeBytes,
    wastedBytes: r.wastedBytes,
    userWastedPercent: r.userWastedPercent,
    inefficientFiles: r.inefficientFiles,
    source: r.source,
    labels: r.config?.labels,
    user: r.config?.user,
    platform: r.platform,
  };
}

test('one image, six sources, one analysis', { timeout: 600_000 }, async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const skopeo = which('skopeo');
  const dockerCli = which('docker');
  if (!skopeo || !dockerCli) {
    skipOrFail(t, `${!skopeo ? 'skopeo' : 'the docker CLI'} is not installed (apt-get install skopeo docker.io)`);
    return;
  }
  const regs = await ensureRegistries();
  if (!regs) {
    skipOrFail(t, `no test registries: ${registriesUnavailableReason()}`);
    return;
  }

  const built = await buildTestImage(docker, TAG);
  const dir = mkdtempSync(join(tmpdir(), 'vouch-cross-'));
  const savedDockerConfig = process.env.DOCKER_CONFIG;
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (savedDockerConfig === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = savedDockerConfig;
  });

  // --- preparation: the same image through tools nobody here wrote ---------
  const saveTar = join(dir, 'docker-save.tar');
  const layoutDir = join(dir, 'oci-layout');
  const ociTar = join(dir, 'image.oci.tar');
  const plainRef = `${regs.plain}/${REPO}:latest`;
  const authRef = `${regs.auth}/${REPO}:latest`;
  const creds = `${regs.user}:${regs.password}`;
  // Each source is prepared in its own step so a failure names the tool.
  await tool(dockerCli, ['save', '-o', saveTar, TAG]);
  await tool(skopeo, ['copy', '--quiet', `docker-daemon:${TAG}`, `oci:${layoutDir}:latest`]);
  await tool(skopeo, ['copy', '--quiet', `docker-daemon:${TAG}`, `oci-archive:${ociTar}:latest`]);
  await tool(skopeo, ['copy', '--quiet', '--dest-tls-verify=false', `docker-daemon:${TAG}`, `docker://${plainRef}`]);
  await tool(skopeo, ['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', creds, `docker-daemon:${TAG}`, `docker://${authRef}`]);

  // The preparation really produced what the sources will read.
  assert.ok(statSync(saveTar).size > 1_000_000, 'docker save wrote the archive');
  assert.ok(existsSync(join(layoutDir, 'index.json')) && existsSync(join(layoutDir, 'oci-layout')), 'skopeo wrote an OCI layout');
  assert.ok(statSync(ociTar).size > 100_000, 'skopeo wrote an oci-archive');
  const plainInfo = JSON.parse(await tool(skopeo, ['inspect', '--tls-verify=false', '--raw', `docker://${plainRef}`]));
  assert.equal(plainInfo.config.digest, built.id, 'the plain registry holds the image (config digest = image ID)');
  const authInfo = JSON.parse(await tool(skopeo, ['inspect', '--tls-verify=false', '--creds', creds, '--raw', `docker://${authRef}`]));
  assert.equal(authInfo.config.digest, built.id, 'the auth registry holds the image');
  const anon = await fetch(`http://${regs.auth}/v2/${REPO}/manifests/latest`);
  await anon.arrayBuffer();
  assert.equal(anon.status, 401, 'the auth registry refuses anonymous pulls');

  // Credentials for the auth registry the way a developer has them: DOCKER_CONFIG/config.json.
  const dockerConfig = join(dir, 'docker-config');
  mkdirSync(dockerConfig, { mode: 0o700 });
  writeFileSync(
    join(dockerConfig, 'config.json'),
    JSON.stringify({ auths: { [regs.auth]: { auth: Buffer.from(creds).toString('base64') } } }),
    { mode: 0o600 },
  );
  process.env.DOCKER_CONFIG = dockerConfig;

  // --- comparison (inspectForTest returns the JSON of `vouch inspect REF --json`) ---
  const refs: Record<string, string> = {
    'docker-daemon': `docker-daemon:${TAG}`,
    'docker-archive': `docker-archive:${saveTar}`,
    'oci': `oci:${layoutDir}:latest`,
    'oci-archive': `oci-archive:${ociTar}:latest`,
    'registry': `docker://${plainRef}`,
    'registry+auth': `docker://${authRef}`,
  };
  // The config digest each source must report: the image ID, or the OCI config skopeo wrote.
  const ociConfig = JSON.parse(await tool(skopeo, ['inspect', '--raw', `oci:${layoutDir}:latest`])).config.digest as string;
  const ociArchiveConfig = JSON.parse(await tool(skopeo, ['inspect', '--raw', `oci-archive:${ociTar}:latest`])).config.digest as string;
  assert.equal(ociArchiveConfig, ociConfig, 'skopeo converts the config the same way for oci and oci-archive');
  const expectedConfig: Record<string, string> = {
    'docker-daemon': built.id,
    'docker-archive': built.id,
    'oci': ociConfig,
    'oci-archive': ociConfig,
    'registry': built.id,
    'registry+auth': built.id,
  };
  const results: Record<string, any> = {};
  for (const [source, ref] of Object.entries(refs)) {
    await t.test(`inspect via ${source}`, async () => {
      const r = await inspectForTest(ref);
      assert.equal(r.config?.digest, expectedConfig[source], `${source}: config digest`);
      results[source] = r;
    });
  }

  await t.test('every source gives the same digests and the same analysis', () => {
    const reference = analysisView(results['docker-daemon']);
    assert.equal(reference.diffIds?.length, 6, 'six non-empty layers');
    for (const source of Object.keys(refs)) {
      assert.ok(results[source], `${source} was inspected`);
      assert.deepEqual(analysisView(results[source]), reference, `${source} agrees with docker-daemon`);
    }
    // A few facts about the test image, so "equal" cannot mean "equally empty".
    if (Array.isArray(reference.files)) {
      const paths = new Set(reference.files.map((f: any) => (typeof f === 'string' ? f : f.path)));
      assert.ok(paths.has('/bin/busybox') && paths.has('/bin/sh'), 'busybox and its symlinks');
      assert.ok(!paths.has('/app/secret.txt'), 'the deleted file is gone');
      assert.ok(paths.has('/usr/local/bin/suid-helper'), 'the setuid file');
    } else {
      assert.ok(typeof reference.files === 'number' && reference.files >= 15, `files: ${reference.files}`);
    }
    const wasted = new Set((reference.inefficientFiles ?? []).map((f: any) => f.path));
    assert.ok(wasted.has('/app/config.toml') && wasted.has('/app/secret.txt'), 'the overwritten and the deleted file waste space');
    assert.ok(reference.layers?.some((l: any) => l.removed > 0), 'a layer removes a file');
    assert.ok(reference.layers?.some((l: any) => l.modified > 0), 'a layer overwrites a file');
    assert.ok(typeof reference.totalBytes === 'number' && reference.totalBytes > 1_000_000);
    assert.ok(typeof reference.efficiency === 'number' && reference.efficiency > 0 && reference.efficiency <= 1);
  });
});
