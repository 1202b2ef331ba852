/**
 * Issue 9 item 12: a bare registry name that the daemon holds (after `docker
 * pull`) resolves to the daemon copy, whose digest vouch synthesises. `chain`
 * must verify the registry image the daemon recorded in RepoDigests — after
 * matching config digests — instead of saying "no trusted signature".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attach, signatureLayer, signWithKey, simpleSigningPayload } from '../helpers/cosign-sign.js';
import { dockerOrSkip, ensureRegistries, registriesUnavailableReason, skipOrFail, which } from '../helpers/docker.js';
import { writeMiniLayout } from '../helpers/mini-layout.js';
import { spawnCli } from '../helpers/inspect.js';
import { VouchError } from '../../src/core/errors.js';
import { repoDigestFor, sameImageOrThrow } from '../../src/core/trust/daemon-registry.js';

test('repoDigestFor takes the RepoDigest of the repository named, never another repository\'s', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  const other = `sha256:${'b'.repeat(64)}`;
  const digests = [`127.0.0.1:5000/other/app@${other}`, `127.0.0.1:5000/repo/app@${d}`];
  assert.deepEqual(repoDigestFor('127.0.0.1:5000/repo/app:1', digests), { registry: '127.0.0.1:5000', repository: 'repo/app', digest: d });
  assert.equal(repoDigestFor('127.0.0.1:5001/repo/app:1', digests), null, 'same path, another registry');
  assert.equal(repoDigestFor('127.0.0.1:5000/repo/app:1', []), null);
  assert.deepEqual(repoDigestFor('alpine:3', [`alpine@${d}`]), { registry: 'docker.io', repository: 'library/alpine', digest: d });
});

test('a daemon copy whose config differs from the registry image at its RepoDigest is refused, naming both configs', () => {
  const ref = { registry: '127.0.0.1:5000', repository: 'repo/app', digest: `sha256:${'d'.repeat(64)}` };
  const daemon = `sha256:${'1'.repeat(64)}`;
  const registry = `sha256:${'2'.repeat(64)}`;
  assert.throws(() => sameImageOrThrow('docker-daemon:127.0.0.1:5000/repo/app:1', daemon, ref, registry), (e: unknown) => {
    assert.ok(e instanceof VouchError);
    assert.equal(e.code, 'DIGEST_MISMATCH');
    assert.equal(e.exitCode, 1);
    assert.match(e.message, /the daemon copy is not the registry image 127\.0\.0\.1:5000\/repo\/app@sha256:d+ \(config sha256:1+ in the daemon, sha256:2+ in the registry\)/);
    return true;
  });
  assert.match(sameImageOrThrow('docker-daemon:x', daemon, ref, daemon), /matched by config digest/);
});

test('chain of a pulled, key-signed image by its bare name verifies the registry image matched by config digest', async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const regs = await ensureRegistries();
  if (!regs) return skipOrFail(t, registriesUnavailableReason());
  if (!which('skopeo')) return skipOrFail(t, 'skopeo not installed');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-daemon-chain-'));
  const path = `vouch-dchain-${process.pid}-${Date.now()}/app`;
  const repo = `${regs.plain}/${path}`;
  const ref = `${repo}:1`;
  t.after(async () => {
    await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  await writeMiniLayout(join(dir, 'layout'), { tag: 'v1', platforms: [{ os: 'linux', architecture: 'amd64' }] });
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${join(dir, 'layout')}:v1`, `docker://${ref}`]);
  const digest = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]).toString()).Digest as string;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = simpleSigningPayload(repo, digest);
  await attach(regs.plain, path, digest, 'sig', [signatureLayer(payload, signWithKey(key.privateKey, payload))]);
  await writeFile(join(dir, 'cosign.pub'), key.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const trust = join(dir, 'vouch.trust.yaml');
  await writeFile(trust, ['signers:', '  - name: release-key', '    key: ./cosign.pub', '    tlog: optional', ''].join('\n'));
  execFileSync('docker', ['pull', '-q', ref]);

  const r = await spawnCli(['chain', ref, '--trust', trust, '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const j = JSON.parse(r.stdout);
  assert.equal(j.image.digest, digest, 'the registry digest, not a synthesised one');
  assert.equal(j.image.caveat, undefined);
  assert.match(j.image.note, /matched by config digest/);
  assert.ok(j.signatures.some((s: { verified: boolean }) => s.verified));
  const text = await spawnCli(['chain', ref, '--trust', trust]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /note +the Docker daemon's copy .* matched by config digest/);

  // inspect (newcomer 11): it is the daemon's copy, not an archive, and the daemon's RepoDigest is shown.
  const ins = await spawnCli(['inspect', ref], { VOUCH_CACHE_DIR: join(dir, 'cache') });
  assert.equal(ins.code, 0, ins.stderr);
  assert.match(ins.stdout, /^Digest +sha256:[0-9a-f]{64} +\(manifest synthesised: the Docker daemon keeps no registry manifest\)$/m);
  assert.doesNotMatch(ins.stdout, /archive/);
  assert.match(ins.stdout, new RegExp(`^RepoDigest +${repo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}@${digest} +\\(recorded by the daemon`, 'm'));
  const insJ = JSON.parse((await spawnCli(['inspect', ref, '--json'], { VOUCH_CACHE_DIR: join(dir, 'cache') })).stdout);
  assert.equal(insJ.transport, 'docker-daemon');
  assert.equal(insJ.daemonRepoDigest, `${repo}@${digest}`);

  // check: the signature rule reads the same registry image; the note replaces the caveat.
  const chk = await spawnCli(['check', ref, '--trust', trust, '--format', 'json'], { VOUCH_CACHE_DIR: join(dir, 'cache') });
  assert.ok(chk.code === 0 || chk.code === 1, chk.stderr); // other rules (no provenance) may fail this tiny image
  const cr = JSON.parse(chk.stdout) as { results: Array<{ id: string; status: string; message: string }>; warnings: string[] };
  const signed = cr.results.find((x) => x.id === 'VCH-PV-002');
  assert.equal(signed?.status, 'pass', JSON.stringify(signed));
  assert.match(signed!.message, /verified by release-key/);
  assert.ok(cr.warnings.some((w) => /matched by config digest/.test(w)), cr.warnings.join('\n'));
  assert.ok(!cr.warnings.some((w) => /synthesised by vouch/.test(w)), cr.warnings.join('\n'));

  // The same image tagged into another repository: the daemon has no RepoDigest for that one, so the caveat stays.
  execFileSync('docker', ['tag', ref, `${regs.plain}/${path}-copy:1`]);
  t.after(async () => {
    await docker.getImage(`${regs.plain}/${path}-copy:1`).remove({ force: true }).catch(() => undefined);
  });
  const copy = await spawnCli(['chain', `${regs.plain}/${path}-copy:1`, '--trust', trust, '--json']);
  assert.equal(copy.code, 1, copy.stderr + copy.stdout);
  const cj = JSON.parse(copy.stdout);
  assert.notEqual(cj.image.digest, digest);
  assert.match(cj.image.caveat, /synthesised by vouch/);
  assert.equal(cj.image.note, undefined);
});
