/**
 * Issue 12, concurrency: eight `vouch attach` processes at once on one image
 * in a registry without a referrers API (distribution 2.8). The referrers tag
 * index and cosign's `.att` image are read, extended and written back with no
 * compare-and-swap, so a writer that read before another one wrote would put
 * back an index without the other's entry. Afterwards every approval must be
 * listed in both places, and `vouch chain --json` must verify all of them.
 * VOUCH_ATTACH_RACE_ROUNDS repeats the race on fresh repositories.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cosignAttestationLayer, readApprovalBundle } from '../../src/core/approval/attach.js';
import { digestOf } from '../../src/core/oci/digest.js';
import { RegistryClient } from '../../src/core/sources/registry/client.js';
import { anonymousCredentials } from '../../src/core/sources/registry/credentials.js';
import { makeReviewers, type Reviewers } from '../helpers/approval.js';
import { writeApproval } from '../helpers/approved.js';
import { pushImage } from '../helpers/cosign-sign.js';
import { runCli, spawnNode } from '../helpers/inspect.js';
import { inCI, startRegistry, type TestRegistry } from '../helpers/registry.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = join(root, 'dist/src/cli/main.js');
// The compiled CLI when built (`npm test` builds it first), else the source through tsx.
const CLI = existsSync(dist) ? [dist] : ['--import', 'tsx', join(root, 'src/cli/main.ts')];
const WRITERS = 8;
const ROUNDS = Number(process.env['VOUCH_ATTACH_RACE_ROUNDS'] ?? 1);
const NS = `attach-race-${process.pid}-${Date.now() % 1e6}`;

describe('concurrent vouch attach on one image', { timeout: 90_000 + ROUNDS * 30_000 }, () => {
  let registry: TestRegistry | undefined;
  let rv: Reviewers;
  before(async () => {
    registry = await startRegistry();
    rv = await makeReviewers(['alice']);
  });
  after(async () => {
    await registry?.stop();
    await rm(rv.dir, { recursive: true, force: true });
  });

  test(`${WRITERS} processes attach ${WRITERS} approvals at once: the referrers index and .att list all ${WRITERS}; vouch chain verifies all`, async (t) => {
    if (!registry) return void (inCI() ? assert.fail('registry needed under CI') : t.skip('docker-registry not installed'));
    const h = registry.host;
    const trust = join(rv.dir, 'vouch.trust.yaml');
    await writeFile(trust, rv.trustYaml(['alice']));
    const client = new RegistryClient(h, { credentials: anonymousCredentials() });
    const losses: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const repo = `${NS}/app${round}`;
      const img = await pushImage(h, repo, 'v1', { seed: `race ${round}` });
      const files = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writeApproval(rv, 'alice', [{ name: `${h}/${repo}`, digest: img.digest }], rv.dir, `r${round}-w${i}`)));
      // Each approval as it should appear: the bundle (referrer layer) and cosign's DSSE layer.
      const bundles = await Promise.all(files.map(async (f) => digestOf(await readFile(f))));
      const envelopes = await Promise.all(files.map(async (f) => digestOf(cosignAttestationLayer(await readApprovalBundle(f)).bytes)));
      const runs = await Promise.all(files.map((f) => spawnNode([...CLI, 'attach', f, '--to', `docker://${h}/${repo}@${img.digest}`, '--json'])));
      const failed = runs.filter((r) => r.code !== 0);
      if (failed.length) {
        losses.push(`round ${round}: ${failed.length} of ${WRITERS} attaches failed: ${failed[0]!.stderr.trim()}`);
        if (ROUNDS > 1) continue;
      }
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      const referrers = runs.map((r) => JSON.parse(r.stdout).referrer.digest as string);

      const tag = img.digest.replace(':', '-');
      const index = JSON.parse((await client.getManifest(repo, tag)).bytes.toString()) as { manifests: Array<{ digest: string }> };
      const att = JSON.parse((await client.getManifest(repo, `${tag}.att`)).bytes.toString()) as { layers: Array<{ digest: string }> };
      const inIndex = new Set(index.manifests.map((d) => d.digest));
      const inAtt = new Set(att.layers.map((d) => d.digest));
      const lostReferrers = referrers.filter((d) => !inIndex.has(d)).length;
      const lostLayers = envelopes.filter((d) => !inAtt.has(d)).length;
      if (lostReferrers || lostLayers) losses.push(`round ${round}: ${lostReferrers} of ${WRITERS} referrers and ${lostLayers} of ${WRITERS} .att layers lost`);
      if (ROUNDS > 1) continue; // a repeated run counts the rounds that lose something, and fails at the end

      assert.equal(index.manifests.length, WRITERS, 'each referrer once');
      assert.equal(att.layers.length, WRITERS, 'each attestation once');
      const chain = await runCli(['chain', `docker://${h}/${repo}@${img.digest}`, '--trust', trust, '--json']);
      assert.notEqual(chain.code, 2, chain.stderr);
      const approvals = JSON.parse(chain.stdout).approvals as Array<{ via: string; digest: string; verified: boolean; reviewer: string | null }>;
      const listed = (via: string): string[] =>
        approvals
          .filter((a) => a.via === via && a.verified && a.reviewer === 'alice')
          .map((a) => a.digest)
          .sort();
      assert.deepEqual(listed('referrers-tag'), [...bundles].sort(), 'vouch chain: every referrer, verified');
      assert.deepEqual(listed('cosign-tag'), [...envelopes].sort(), 'vouch chain: every .att layer, verified');
    }
    if (ROUNDS > 1) t.diagnostic(`${losses.length} of ${ROUNDS} rounds failed or lost entries${losses.length ? `: ${losses.join('; ')}` : ''}`);
    assert.deepEqual(losses, [], 'every attach succeeds and no writer loses another writer’s entry');
  });
});
