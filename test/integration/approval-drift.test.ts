/**
 * `vouch drift` against the real daemon: one container from an image pushed
 * to the real registry (it has a repository digest) and approved, one from an
 * image built here only (image ID, with the caveat) and not approved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { drift } from '../../src/core/approval/drift.js';
import type { Coverage } from '../../src/core/approval/gate.js';
import { makeReviewers } from '../helpers/approval.js';
import { writeApproval } from '../helpers/approved.js';
import { buildTestImage, dockerOrSkip } from '../helpers/docker.js';
import { runCli } from '../helpers/inspect.js';
import { inCI, startRegistry } from '../helpers/registry.js';

const RUN = `${process.pid}-${Date.now() % 1e6}`;

async function follow(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  const out: Array<{ error?: string }> = await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, res: unknown[]) => (err ? reject(err) : resolve(res as never))));
  const failed = out.find((o) => o.error);
  if (failed) throw new Error(failed.error);
}

async function runSleeper(docker: Dockerode, image: string, name: string): Promise<Dockerode.Container> {
  const c = await docker.createContainer({ Image: image, name, Cmd: ['/bin/sh', '-c', 'sleep 600'], HostConfig: { AutoRemove: false } });
  await c.start();
  return c;
}

test('drift: the approved container (repository digest) passes; the unapproved one is reported with its image ID and the caveat', { timeout: 180_000 }, async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const reg = await startRegistry();
  if (!reg) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
  const containers: Dockerode.Container[] = [];
  const ctx = mkdtempSync(join(tmpdir(), 'vouch-drift-'));
  const repo = `${reg.host}/drift-${RUN}/app`;
  const localTag = `vouch-drift-${RUN}/local:v1`;
  try {
    const built = await buildTestImage(docker);
    await docker.getImage(built.id).tag({ repo, tag: 'v1' });
    await follow(docker, await docker.getImage(`${repo}:v1`).push({}, undefined, { serveraddress: reg.host } as Dockerode.AuthConfig));
    const pushed = await docker.getImage(`${repo}:v1`).inspect();
    const repoDigest = pushed.RepoDigests.find((d) => d.startsWith(`${repo}@`))!;
    assert.ok(repoDigest, JSON.stringify(pushed.RepoDigests));
    const approvedDigest = repoDigest.split('@')[1]!;

    // A second image, built here only: no repository digest.
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${repo}:v1\nLABEL dev.vouch.test.drift="${RUN}"\n`);
    await follow(docker, await docker.buildImage({ context: ctx, src: ['Dockerfile'] }, { t: localTag, rm: true }));
    const local = await docker.getImage(localTag).inspect();

    containers.push(await runSleeper(docker, `${repo}:v1`, `vouch-drift-${RUN}-approved`));
    containers.push(await runSleeper(docker, localTag, `vouch-drift-${RUN}-unapproved`));

    const asked: string[] = [];
    const covers = async (image: { name: string; digest: string }): Promise<Coverage> => {
      asked.push(`${image.name}@${image.digest}`);
      return image.digest === approvedDigest
        ? { ok: true, decision: 'approved', release: { name: 'payments', version: '2.4.0' }, reviewers: [{ name: 'alice', identity: 'key' }], reasons: [] }
        : { ok: false, decision: null, release: null, reviewers: [], reasons: [{ code: 'NO_APPROVAL', message: 'no approval names this digest' }] };
    };
    const report = await drift(docker, covers);
    // Other containers may run on a shared daemon: look at ours.
    const ours = report.containers.filter((c) => c.name.startsWith(`vouch-drift-${RUN}-`));
    assert.deepEqual(
      ours.map((c) => [c.name, c.image, c.digest, c.digestSource, c.ok, c.reasons.map((r) => r.code).join(','), c.caveat !== null]),
      [
        [`vouch-drift-${RUN}-approved`, `${repo}:v1`, approvedDigest, 'repo-digest', true, '', false],
        [`vouch-drift-${RUN}-unapproved`, localTag, local.Id, 'image-id', false, 'NO_APPROVAL', true],
      ],
    );
    assert.equal(report.ok, false);
    assert.ok(asked.includes(`${repo}@${approvedDigest}`), asked.join('\n'));

    // The same through the CLI with a real approval signed by a trusted reviewer.
    const rv = await makeReviewers(['alice']);
    try {
      await writeApproval(rv, 'alice', [{ name: repo, digest: approvedDigest }], rv.dir, 'app-1.0');
      const trust = join(rv.dir, 'vouch.trust.yaml');
      writeFileSync(trust, rv.trustYaml(['alice']));
      const r = await runCli(['drift', '--approvals', rv.dir, '--trust', trust, '--json']);
      assert.equal(r.code, 1, r.stderr);
      const cli = (JSON.parse(r.stdout) as { containers: Array<{ name: string; ok: boolean; reviewers: Array<{ name: string }>; digestSource: string }> }).containers.filter((c) => c.name.startsWith(`vouch-drift-${RUN}-`));
      assert.deepEqual(
        cli.map((c) => [c.name, c.ok, c.reviewers.map((x) => x.name).join(), c.digestSource]),
        [
          [`vouch-drift-${RUN}-approved`, true, 'alice', 'repo-digest'],
          [`vouch-drift-${RUN}-unapproved`, false, '', 'image-id'],
        ],
      );
      const text = await runCli(['drift', '--approvals', rv.dir, '--trust', trust]);
      assert.match(text.stdout, new RegExp(`vouch-drift-${RUN}-unapproved \\(`));
      assert.match(text.stdout, /note: the image has no repository digest/);
    } finally {
      rmSync(rv.dir, { recursive: true, force: true });
    }
  } finally {
    for (const c of containers) await c.remove({ force: true }).catch(() => {});
    await docker.getImage(localTag).remove({ force: true }).catch(() => {});
    await docker.getImage(`${repo}:v1`).remove({ noprune: true }).catch(() => {});
    rmSync(ctx, { recursive: true, force: true });
    await reg.stop();
  }
});
