/**
 * The registry source against a real registry (distribution 2.8), fed by a tool
 * nobody here wrote (skopeo) from OCI layouts written by test/helpers/mini-layout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { VouchError } from '../../src/core/errors.js';
import { RegistryClient } from '../../src/core/sources/registry/client.js';
import { anonymousCredentials, dockerConfigCredentials } from '../../src/core/sources/registry/credentials.js';
import { parsePlatform } from '../../src/core/oci/manifest.js';
import { openRegistryImage } from '../../src/core/sources/registry/source.js';
import { writeMiniLayout, type MiniLayout } from '../helpers/mini-layout.js';
import { inCI, registryUnavailable, startRegistry, which, type TestRegistry } from '../helpers/registry.js';

async function drain(s: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const c of s) n += (c as Buffer).length;
  return n;
}

function skopeoCopy(layout: MiniLayout, dest: string, opts: { creds?: string; all?: boolean }): void {
  const args = [
    '--insecure-policy',
    'copy',
    '--quiet',
    '--preserve-digests',
    '--dest-tls-verify=false',
    ...(opts.creds ? ['--dest-creds', opts.creds] : []),
    ...(opts.all ? ['--all'] : []),
    `oci:${layout.dir}:${layout.tag}`,
    `docker://${dest}`,
  ];
  const r = spawnSync('skopeo', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`skopeo copy to ${dest} failed: ${r.stderr || r.error?.message}`);
}

describe('registry source against a real registry', () => {
  const run = randomBytes(4).toString('hex'); // CI registries are shared: unique repositories per run
  let work: string;
  let plain: TestRegistry | undefined;
  let authed: TestRegistry | undefined;
  let skip: string | undefined;
  let skipAuth: string | undefined;
  let single: MiniLayout;
  let multi: MiniLayout;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'vouch-reg-it-'));
    if (!which('skopeo')) {
      skip = skipAuth = 'skopeo not installed (apt-get install skopeo)';
      if (inCI()) throw new Error(`CI=true: ${skip}`);
      return;
    }
    single = await writeMiniLayout(join(work, 'single'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
    multi = await writeMiniLayout(join(work, 'multi'), {
      tag: 'multi',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
    });
    plain = await startRegistry();
    if (!plain) skip = registryUnavailable();
    else {
      skopeoCopy(single, `${plain.host}/vouch-${run}/app:v1`, {});
      skopeoCopy(multi, `${plain.host}/vouch-${run}/app:multi`, { all: true });
    }
    authed = await startRegistry({ auth: true });
    if (!authed) skipAuth = registryUnavailable({ auth: true });
    else skopeoCopy(single, `${authed.host}/vouch-${run}/private:v1`, { creds: `${authed.user}:${authed.password}` });
  });

  after(async () => {
    await plain?.stop();
    await authed?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const need = (t: TestContext, reg: TestRegistry | undefined, reason: string | undefined): reg is TestRegistry => {
    if (reg) return true;
    t.skip(reason ?? 'registry unavailable');
    return false;
  };

  test('by tag and by digest: the digests skopeo pushed, layers stream and verify', async (t) => {
    if (!need(t, plain, skip)) return;
    const want = single.images[0]!;
    const ref = { registry: plain.host, repository: `vouch-${run}/app`, tag: 'v1' };
    const image = await openRegistryImage(ref, { credentials: anonymousCredentials() });
    assert.equal(image.transport, 'docker');
    assert.equal(image.digest, want.manifestDigest);
    assert.equal(image.reference, `docker://${plain.host}/vouch-${run}/app:v1@${want.manifestDigest}`);
    assert.equal(image.configDigest, want.configDigest);
    assert.equal(image.config.rootfs.diff_ids[0], want.diffId);
    assert.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
    assert.equal(image.index, undefined);
    assert.equal(image.layers.length, 1);
    assert.equal(image.layers[0]!.digest, want.layerDigest);
    assert.equal(image.layers[0]!.diffId, want.diffId);
    assert.equal(image.layers[0]!.compression, 'gzip');
    assert.equal(await drain(await image.layers[0]!.open()), want.layerSize);

    const pinned = await openRegistryImage({ registry: plain.host, repository: `vouch-${run}/app`, digest: want.manifestDigest }, { credentials: anonymousCredentials() });
    assert.equal(pinned.digest, want.manifestDigest);
    assert.equal(pinned.reference, `docker://${plain.host}/vouch-${run}/app@${want.manifestDigest}`);
    await image.close();
    await image.close();
  });

  test('multi-platform index: --platform selects, the index is recorded', async (t) => {
    if (!need(t, plain, skip)) return;
    const ref = { registry: plain.host, repository: `vouch-${run}/app`, tag: 'multi' };
    const [amd, arm] = multi.images;
    const a = await openRegistryImage(ref, { platform: parsePlatform('linux/arm64'), credentials: anonymousCredentials() });
    assert.equal(a.digest, arm!.manifestDigest);
    assert.equal(a.index?.digest, multi.indexDigest);
    assert.equal(a.index?.descriptor.digest, arm!.manifestDigest);
    assert.deepEqual(a.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.equal(await drain(await a.layers[0]!.open()), arm!.layerSize);
    const b = await openRegistryImage(ref, { platform: parsePlatform('linux/amd64'), credentials: anonymousCredentials() });
    assert.equal(b.digest, amd!.manifestDigest);
    // pinned to the index digest: still a platform choice
    const c = await openRegistryImage({ ...ref, digest: multi.indexDigest! }, { platform: parsePlatform('linux/arm64/v8'), credentials: anonymousCredentials() });
    assert.equal(c.digest, arm!.manifestDigest);
    await assert.rejects(
      openRegistryImage(ref, { platform: parsePlatform('linux/riscv64'), credentials: anonymousCredentials() }),
      (e: unknown) => e instanceof VouchError && e.code === 'PLATFORM_NOT_FOUND' && /available: linux\/amd64, linux\/arm64\/v8/.test(e.message),
    );
  });

  test('unknown tag → NOT_FOUND naming the tag; unknown repository; tags; no referrers API', async (t) => {
    if (!need(t, plain, skip)) return;
    await assert.rejects(openRegistryImage({ registry: plain.host, repository: `vouch-${run}/app`, tag: 'nope' }, { credentials: anonymousCredentials() }), (e: unknown) => {
      assert.ok(e instanceof VouchError);
      assert.equal(e.code, 'NOT_FOUND');
      assert.match(e.message, new RegExp(`^${plain!.host.replace(/\./g, '\\.')}/vouch-${run}/app: manifest unknown: tag "nope" not found`));
      return true;
    });
    await assert.rejects(openRegistryImage({ registry: plain.host, repository: `vouch-${run}/none`, tag: 'v1' }, { credentials: anonymousCredentials() }), (e: unknown) => e instanceof VouchError && e.code === 'NOT_FOUND' && /repository not found|manifest unknown/.test(e.message));
    const client = new RegistryClient(plain.host, { credentials: anonymousCredentials() });
    assert.deepEqual((await client.listTags(`vouch-${run}/app`, { pageSize: 1 })).sort(), ['multi', 'v1']);
    // distribution 2.8 has no referrers API: 404 → undefined, callers fall back to tags
    assert.equal(await client.getReferrers(`vouch-${run}/app`, single.images[0]!.manifestDigest), undefined);
    const head = await client.headManifest(`vouch-${run}/app`, 'v1');
    assert.equal(head.digest, single.images[0]!.manifestDigest);
  });

  test('htpasswd registry: credentials from a docker config file; anonymous and wrong password → UNAUTHORIZED', async (t) => {
    if (!need(t, authed, skipAuth)) return;
    const repo = `vouch-${run}/private`;
    const ref = { registry: authed.host, repository: repo, tag: 'v1' };
    const configDir = join(work, 'docker-config');
    const writeConfig = async (password: string) => {
      await rm(configDir, { recursive: true, force: true });
      await mkdir(configDir, { recursive: true });
      const auth = Buffer.from(`${authed!.user}:${password}`).toString('base64');
      await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [`http://${authed!.host}`]: { auth } } }));
    };
    await writeConfig(authed.password!);
    const image = await openRegistryImage(ref, { credentials: dockerConfigCredentials({ configDir, env: { ...process.env, HOME: work } }) });
    assert.equal(image.digest, single.images[0]!.manifestDigest);
    assert.equal(await drain(await image.layers[0]!.open()), single.images[0]!.layerSize);

    // DOCKER_CONFIG is honoured when no directory is given
    const viaEnv = await openRegistryImage(ref, { credentials: dockerConfigCredentials({ env: { ...process.env, DOCKER_CONFIG: configDir } }) });
    assert.equal(viaEnv.digest, image.digest);

    const hostRe = authed.host.replace(/\./g, '\\.');
    await assert.rejects(openRegistryImage(ref, { credentials: dockerConfigCredentials({ configDir: join(work, 'empty'), env: { ...process.env, HOME: work } }) }), (e: unknown) => {
      assert.ok(e instanceof VouchError);
      assert.equal(e.code, 'UNAUTHORIZED');
      assert.match(e.message, new RegExp(`^${hostRe}/${repo}: authentication required; no credentials for ${hostRe} \\(.*config\\.json does not exist\\)`));
      return true;
    });
    await writeConfig('wrong-password');
    await assert.rejects(openRegistryImage(ref, { credentials: dockerConfigCredentials({ configDir, env: { ...process.env, HOME: work } }) }), (e: unknown) => {
      assert.ok(e instanceof VouchError);
      assert.equal(e.code, 'UNAUTHORIZED');
      assert.match(e.message, new RegExp(`^${hostRe}/${repo}: authentication failed with credentials for http://${hostRe} from ~/docker-config/config\\.json \\(auths\\)`));
      assert.ok(!e.message.includes('wrong-password'));
      return true;
    });
  });
});
