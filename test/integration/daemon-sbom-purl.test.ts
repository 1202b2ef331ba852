/**
 * Newcomer review of issue 9 (item 12 there): a bare registry name resolves to
 * the daemon's copy once pulled, whose manifest digest vouch synthesises. The
 * SBOM's image purl must not pair that digest with repository_url: it takes
 * the digest the daemon recorded for the repository (RepoDigests), and
 * without one (a warm cache answers without asking the daemon) names no repository.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerOrSkip, ensureRegistries, registriesUnavailableReason, skipOrFail, which } from '../helpers/docker.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { spawnCli } from '../helpers/inspect.js';

test('sbom of a pulled image by its bare registry name: the purl carries the registry digest with repository_url, never the synthesised one', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const regs = await ensureRegistries();
  if (!regs) return skipOrFail(t, registriesUnavailableReason());
  if (!which('skopeo')) return skipOrFail(t, 'skopeo not installed');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-daemon-purl-'));
  const repo = `${regs.plain}/vouch-purl-${process.pid}-${Date.now()}/app`;
  const ref = `${repo}:1`;
  t.after(async () => {
    await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  await writeMiniLayout(join(dir, 'layout'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${join(dir, 'layout')}:v1`, `docker://${ref}`]);
  execFileSync('docker', ['pull', '-q', ref]);
  const repoDigest = JSON.parse(execFileSync('docker', ['image', 'inspect', ref, '--format', '{{json .RepoDigests}}']).toString())[0].replace(/^.*@/, '');

  const env = { VOUCH_CACHE_DIR: join(dir, 'cache') };
  const purl = async (args: string[]): Promise<string> => {
    const r = await spawnCli(['sbom', ref, '--format', 'cyclonedx-json', ...args], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).metadata.component.purl as string;
  };
  const enc = (d: string): string => d.replace(':', '%3A');
  // Cold: the daemon's RepoDigests name the registry manifest of this repository.
  assert.equal(await purl(['--no-cache']), `pkg:oci/app@${enc(repoDigest)}?arch=amd64&repository_url=${repo}&tag=1`);
  await purl([]); // fills the cache
  // Warm: the analysis in the cache has only the synthesised digest: no repository_url next to it.
  const warm = await purl([]);
  assert.doesNotMatch(warm, /repository_url/);
  assert.ok(!warm.includes(enc(repoDigest)), warm);
});
