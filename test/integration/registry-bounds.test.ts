/**
 * Issue 12, review of "Lying and flaky registries": the bounds on time.
 * - the retry budget runs from an operation's first request, and the figures of
 *   its last line ("gave up after N tries in S s") are true;
 * - a layer whose decompression fails is reported at once, not read again to its
 *   end (a liar trickling a "1 GB" layer held a run for a day), and a blob
 *   download has a wall-time cap (VOUCH_REGISTRY_RETRY blobmax=);
 * - writes have a stall timer, and are sent again after a broken connection only
 *   when that does no harm (a blob upload is started over).
 * Through test/helpers/fault-proxy.ts in front of the real test registry.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pushBlob, pushManifest, type Descriptor } from '../helpers/cosign-sign.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../helpers/fault-proxy.js';
import { runCli, type CliRun } from '../helpers/inspect.js';
import { tarOf } from '../helpers/mini-layout.js';
import { skipOrFail } from '../helpers/docker.js';
import { RegistryClient } from '../../src/core/sources/registry/client.js';
import { digestOf } from '../../src/core/oci/digest.js';

const registry = process.env.VOUCH_TEST_REGISTRY;
const repo = `vouch-test/bounds-${randomBytes(5).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'vouch-bounds-'));
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const blobPath = (d: string): RegExp => new RegExp(`^/v2/${esc(repo)}/blobs/${esc(d)}$`);

let proxy: FaultProxy;
let layer: Descriptor;
let badLayer: Descriptor;

const client = (retry: string): RegistryClient => {
  const saved = process.env.VOUCH_REGISTRY_RETRY;
  process.env.VOUCH_REGISTRY_RETRY = retry;
  try {
    return new RegistryClient(proxy.host);
  } finally {
    if (saved === undefined) delete process.env.VOUCH_REGISTRY_RETRY;
    else process.env.VOUCH_REGISTRY_RETRY = saved;
  }
};

/** `vouch inspect --json` of `tag` through the proxy with `rules`, on a fresh cache. */
async function inspect(tag: string, rules: FaultRule[], retry: string): Promise<CliRun & { cached: number }> {
  const cacheDir = mkdtempSync(join(work, 'cache-'));
  const saved = { cache: process.env.VOUCH_CACHE_DIR, retry: process.env.VOUCH_REGISTRY_RETRY };
  process.env.VOUCH_CACHE_DIR = cacheDir;
  process.env.VOUCH_REGISTRY_RETRY = retry;
  proxy.setRules(rules);
  try {
    const r = await runCli(['inspect', `docker://${proxy.host}/${repo}:${tag}`, '--json']);
    const cached = readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    return { ...r, cached };
  } finally {
    proxy.setRules([]);
    process.env.VOUCH_CACHE_DIR = saved.cache;
    if (saved.retry === undefined) delete process.env.VOUCH_REGISTRY_RETRY;
    else process.env.VOUCH_REGISTRY_RETRY = saved.retry;
  }
}

function oneLine(r: CliRun): string {
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  return lines[0]!;
}

const manifestDoc = (configDigest: Descriptor, l: Descriptor): object => ({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest.digest, size: configDigest.size },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size }],
});

describe('registry time bounds: retry budget, corrupt and trickled layers, writes', { timeout: 60_000 }, () => {
  let skip: string | undefined;
  before(async () => {
    if (!registry) {
      skip = 'VOUCH_TEST_REGISTRY is not set (source /tmp/vouch-services/env)';
      return;
    }
    proxy = await startFaultProxy(registry);
    const tar = tarOf([
      { path: 'data/random.bin', content: randomBytes(128 << 10) },
      { path: 'etc/os-release', content: 'ID=bounds\n' },
    ]);
    layer = await pushBlob(registry, repo, gzipSync(tar, { level: 1 }));
    const config = await pushBlob(registry, repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`] } })));
    await pushManifest(registry, repo, 'v1', manifestDoc(config, layer));
    // Declared gzip, but its deflate stream is broken from the start: gunzip fails on the first bytes.
    const bad = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]), Buffer.alloc(16, 0xff), randomBytes(64 << 10)]);
    badLayer = await pushBlob(registry, repo, bad);
    await pushManifest(registry, repo, 'bad', manifestDoc(config, badLayer));
  });
  after(async () => {
    await proxy?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('a registry that never answers: the budget runs from the first request, and the last line tells the truth', async (t: TestContext) => {
    if (skip) return skipOrFail(t, skip);
    proxy.setRules([{ path: new RegExp(`^/v2/${esc(repo)}/manifests/v1$`), fault: { kind: 'hang' } }]);
    const t0 = Date.now();
    const err = await client('attempts=9,base=10,max=20,stall=200,total=500')
      .getManifest(repo, 'v1')
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    const elapsed = Date.now() - t0;
    proxy.setRules([]);
    assert.ok(err, 'refused');
    t.diagnostic(err.message);
    const m = /stalled: no response within 0\.2 s \(gave up after (\d+) tries in ([\d.]+) s; the 0\.5 s retry budget is spent\)/.exec(err.message);
    assert.ok(m, err.message);
    const tries = Number(m[1]);
    const said = Number(m[2]) * 1000;
    // Every try stalled for 200 ms, one after another: the figure covers them all, and is no more than the wall time.
    assert.ok(said >= tries * 200 - 50 && said <= elapsed + 50, `${tries} tries in ${said} ms; took ${elapsed} ms`);
    // No try started past the 500 ms budget (counted from the first request, not from the first stall).
    assert.ok((tries - 1) * 200 <= 500, `${tries} tries`);
  });

  test('a try that starts late in the budget (after a Retry-After) gets only the rest of it plus one stall to complete', async (t: TestContext) => {
    if (skip) return skipOrFail(t, skip);
    const path = new RegExp(`^/v2/${esc(repo)}/manifests/v1$`);
    proxy.setRules([
      { path, fault: { kind: 'status', status: 503, retryAfter: '1' }, times: 1 },
      { path, fault: { kind: 'drip', bytes: 1, everyMs: 20 } },
    ]);
    const err = await client('attempts=2,base=10,max=20,stall=300,total=1200')
      .getManifest(repo, 'v1')
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    proxy.setRules([]);
    assert.ok(err, 'refused');
    t.diagnostic(err.message);
    // The second try starts 1 s into the 1.2 s budget: its deadline is at most the 0.2 s left plus a 0.3 s stall, not 1.2 s.
    const m = /stalled: response not complete within ([\d.]+) s \(gave up after 2 tries/.exec(err.message);
    assert.ok(m, err.message);
    assert.ok(Number(m[1]) <= 0.5, `deadline ${m[1]} s`);
  });

  test('a layer whose gzip is broken: one line naming the blob and the error, exit 2, not read again to its end, nothing cached', { timeout: 20_000 }, async (t: TestContext) => {
    if (skip) return skipOrFail(t, skip);
    const from = proxy.requests.length;
    // 4 KiB, then silence: reading the blob to its end to name a digest mismatch would wait on it.
    const r = await inspect('bad', [{ path: blobPath(badLayer.digest), fault: { kind: 'hang', afterBytes: 4096 } }], 'base=10,max=20,stall=60000');
    const line = oneLine(r);
    t.diagnostic(line);
    assert.match(line, new RegExp(`^vouch: error: blob ${esc(badLayer.digest)} of ${esc(proxy.host)}/${esc(repo)}: gzip decompression failed: .*corrupt`));
    assert.equal(r.cached, 0, 'nothing cached');
    // The first pass and its one fresh try: each stops at the decompression error.
    const gets = proxy.requests.slice(from).filter((q) => q.method === 'GET' && blobPath(badLayer.digest).test(q.path)).length;
    assert.ok(gets >= 1 && gets <= 2, `${gets} downloads`);
  });

  test('a layer trickled above the minimum rate: the blob download is cut at blobmax, one line saying so', { timeout: 20_000 }, async (t: TestContext) => {
    if (skip) return skipOrFail(t, skip);
    // 50 KB/s for a 130 KB layer: ~2.6 s to finish, never under the 1 KB/s floor, never silent.
    const r = await inspect('v1', [{ path: blobPath(layer.digest), fault: { kind: 'drip', bytes: 2000, everyMs: 40 } }], 'base=10,max=20,stall=2000,minrate=1000,ratewindow=200,blobmax=600');
    const line = oneLine(r);
    t.diagnostic(line);
    assert.match(line, new RegExp(`^vouch: error: blob ${esc(layer.digest)} of ${esc(proxy.host)}/${esc(repo)}: download not complete within 0\\.6 s \\(\\d+ of ${layer.size} bytes; VOUCH_REGISTRY_RETRY blobmax= raises it\\)`));
    assert.equal(r.cached, 0, 'nothing cached');
  });

  test('a write to a registry that never answers is dropped after the stall timeout; a manifest PUT is sent again (idempotent)', { timeout: 15_000 }, async (t: TestContext) => {
    if (skip) return skipOrFail(t, skip);
    const manifestPut = new RegExp(`^/v2/${esc(repo)}/manifests/w1$`);
    proxy.setRules([{ method: 'PUT', path: manifestPut, fault: { kind: 'hang' } }]);
    const from = proxy.requests.length;
    const doc = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    const err = await client('attempts=2,base=10,max=20,stall=250')
      .putManifest(repo, 'w1', doc, 'application/vnd.oci.image.index.v1+json')
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    proxy.setRules([]);
    assert.ok(err, 'refused');
    t.diagnostic(err.message);
    assert.match(err.message, new RegExp(`^upload of w1 to ${esc(proxy.host)}/${esc(repo)}: .*stalled: no response within 0\\.25 s`));
    assert.equal(proxy.requests.slice(from).filter((q) => q.method === 'PUT' && manifestPut.test(q.path)).length, 2);
  });

  test('a write whose answer is lost: a manifest PUT is sent again; a blob upload starts over and finds the blob there', async (t: TestContext) => {
    if (skip) return skipOrFail(t, skip);
    const c = client('base=10,max=20,stall=2000');
    const manifestPut = new RegExp(`^/v2/${esc(repo)}/manifests/w2$`);
    const doc = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    proxy.setRules([{ method: 'PUT', path: manifestPut, fault: { kind: 'drop' }, times: 1 }]);
    let from = proxy.requests.length;
    const put = await c.putManifest(repo, 'w2', doc, 'application/vnd.oci.image.index.v1+json');
    assert.equal(put.digest, digestOf(doc));
    assert.equal(proxy.requests.slice(from).filter((q) => q.method === 'PUT').length, 2);

    // The upload's PUT lands, its answer is lost: the session is closed, so sending it again would be refused
    // (BLOB_UPLOAD_UNKNOWN). Started over, the HEAD finds the blob.
    const bytes = randomBytes(2048);
    proxy.setRules([{ method: 'PUT', path: new RegExp(`^/v2/${esc(repo)}/blobs/uploads/`), fault: { kind: 'drop' }, times: 1 }]);
    from = proxy.requests.length;
    const blob = await c.pushBlob(repo, bytes);
    proxy.setRules([]);
    assert.equal(blob.digest, digestOf(bytes));
    const seen = proxy.requests.slice(from).map((q) => `${q.method} ${q.path.split('?')[0]!.replace(/uploads\/.*/, 'uploads/…')}`);
    t.diagnostic(seen.join(', '));
    assert.deepEqual(seen.filter((s) => s.startsWith('PUT')).length, 1, 'the upload PUT was not sent again');
    assert.equal(seen.at(-1), `HEAD /v2/${repo}/blobs/${blob.digest}`);
    assert.equal(await c.hasBlob(repo, blob.digest), true);
  });
});
