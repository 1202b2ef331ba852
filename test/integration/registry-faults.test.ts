/**
 * Issue 12, "Lying and flaky registries": `vouch inspect` and `vouch chain`
 * through test/helpers/fault-proxy.ts, in front of the real test registry.
 * Every fault kind is tried where it can be survived (the run ends 0 with the
 * same JSON as a fault-free run) and where it cannot (one line on stderr naming
 * the blob and its repository, exit 2, nothing in the cache). Backoff and
 * stall timeouts are made small through VOUCH_REGISTRY_RETRY.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { attach, pushBlob, pushManifest, signatureLayer, signWithKey, simpleSigningPayload, digestTag, type Descriptor } from '../helpers/cosign-sign.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../helpers/fault-proxy.js';
import { runCli, type CliRun } from '../helpers/inspect.js';
import { tarOf } from '../helpers/mini-layout.js';
import { skipOrFail } from '../helpers/docker.js';

const registry = process.env.VOUCH_TEST_REGISTRY;
const repo = `vouch-test/faults-${randomBytes(5).toString('hex')}`;
/**
 * Small waits so the suite stays fast: 10–80 ms backoff (10 s per request in all, never reached on a healthy machine). Silence counts as a stall
 * after 2 s (a loaded CI machine can pause that long), and after 250 ms in the tests that inject it.
 */
const RETRY = 'base=10,max=80,total=10000,stall=2000';
const QUICK_STALL = 'base=10,max=80,total=10000,stall=250';
const work = mkdtempSync(join(tmpdir(), 'vouch-faults-'));

let proxy: FaultProxy;
let layer: Descriptor;
let config: Descriptor;
let manifest: Descriptor;
let sigManifest: Descriptor;
let sigLayer: string;
let trustFile: string;
let baseline: { inspect: string; chain: string };
const tally = { survived: 0, survivedRuns: 0, refused: 0, refusedRuns: 0 };

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const blobPath = (d: string): RegExp => new RegExp(`^/v2/${esc(repo)}/blobs/${esc(d)}$`);
const manifestPath = (ref: string): RegExp => new RegExp(`^/v2/${esc(repo)}/manifests/${esc(ref)}$`);

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

/** One vouch run in-process through the proxy with `rules`, on a fresh cache. */
async function run(args: string[], rules: FaultRule[], retry = RETRY, cacheDir = mkdtempSync(join(work, 'cache-'))): Promise<CliRun & { cache: string[]; faults: number }> {
  const saved = { cache: process.env.VOUCH_CACHE_DIR, retry: process.env.VOUCH_REGISTRY_RETRY };
  process.env.VOUCH_CACHE_DIR = cacheDir;
  process.env.VOUCH_REGISTRY_RETRY = retry;
  proxy.setRules(rules);
  const before = proxy.injectedTotal();
  try {
    const r = await runCli(args);
    return { ...r, cache: filesUnder(cacheDir), faults: proxy.injectedTotal() - before };
  } finally {
    proxy.setRules([]);
    process.env.VOUCH_CACHE_DIR = saved.cache;
    if (saved.retry === undefined) delete process.env.VOUCH_REGISTRY_RETRY;
    else process.env.VOUCH_REGISTRY_RETRY = saved.retry;
  }
}

const inspectArgs = (): string[] => ['inspect', `docker://${proxy.host}/${repo}:v1`, '--json'];
const chainArgs = (): string[] => ['chain', `docker://${proxy.host}/${repo}:v1`, '--trust', trustFile, '--json'];

/** The output without the times of the run. */
const figures = (json: string): string => json.replace(/"(analysedAt|verifiedAt)": "[^"]*"/g, '"$1": "…"');

/** Survived: exit 0, the same JSON as without faults, and the faults really happened. */
async function survives(t: TestContext, what: 'inspect' | 'chain', rules: FaultRule[], minFaults = 1, retry = RETRY): Promise<void> {
  const r = await run(what === 'inspect' ? inspectArgs() : chainArgs(), rules, retry);
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  assert.equal(figures(r.stdout), baseline[what], 'same output as the fault-free run');
  assert.ok(r.faults >= minFaults, `${r.faults} faults injected`);
  tally.survived += r.faults;
  tally.survivedRuns++;
  t.diagnostic(`${r.faults} fault(s) injected and survived`);
}

/** Refused: exit 2, one line naming the blob and the repository, nothing cached. */
async function refuses(t: TestContext, what: 'inspect' | 'chain', rules: FaultRule[], line: RegExp, retry = RETRY): Promise<string> {
  const r = await run(what === 'inspect' ? inspectArgs() : chainArgs(), rules, retry);
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^vouch: error: /);
  assert.ok(lines[0]!.includes(`${proxy.host}/${repo}`), `names the repository: ${lines[0]}`);
  assert.match(lines[0]!, line);
  assert.deepEqual(r.cache, [], 'nothing cached');
  tally.refused += r.faults;
  tally.refusedRuns++;
  t.diagnostic(lines[0]!);
  return lines[0]!;
}

describe('lying and flaky registries (fault-injecting proxy)', { timeout: 60_000 }, () => {
  let skip: string | undefined;
  before(async () => {
    if (!registry) {
      skip = 'VOUCH_TEST_REGISTRY is not set (source /tmp/vouch-services/env)';
      return;
    }
    proxy = await startFaultProxy(registry);
    // One gzip layer big enough to be cut in the middle (random bytes do not compress), a config, a manifest.
    // Words first: their deflated bytes are where a flipped byte trips gunzip before the digest is known.
    const words = Array.from({ length: 6000 }, (_, i) => `word${(i * 7919) % 1009}`).join(' ');
    const tar = tarOf([
      { path: 'etc/words', content: words },
      { path: 'data/random.bin', content: randomBytes(256 << 10) },
      { path: 'etc/hello', content: 'hello\n' },
      { path: 'etc/os-release', content: 'ID=faults\nVERSION_ID=1\n' },
    ]);
    layer = await pushBlob(registry, repo, gzipSync(tar, { level: 1 }));
    const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
    config = await pushBlob(registry, repo, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['A=1'] }, rootfs: { type: 'layers', diff_ids: [diffId] } })));
    manifest = await pushManifest(registry, repo, 'v1', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
    });
    // A key signature (cosign .sig tag) naming the repository as seen through the proxy.
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(work, 'cosign.pub'), key.publicKey.export({ format: 'pem', type: 'spki' }));
    trustFile = join(work, 'vouch.trust.yaml');
    writeFileSync(trustFile, 'signers:\n  - {name: ci, key: ./cosign.pub, tlog: optional}\n');
    const payload = simpleSigningPayload(`${proxy.host}/${repo}`, manifest.digest);
    sigLayer = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
    sigManifest = await attach(registry, repo, manifest.digest, 'sig', [signatureLayer(payload, signWithKey(key.privateKey, payload))]);

    const i = await run(inspectArgs(), []);
    assert.equal(i.code, 0, i.stderr);
    assert.ok(i.cache.length > 0, 'a fault-free run caches its analysis');
    const c = await run(chainArgs(), []);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).signatures.filter((s: { verified?: boolean }) => s.verified).length, 1, c.stdout);
    baseline = { inspect: figures(i.stdout), chain: figures(c.stdout) };
  });
  after(async () => {
    if (!skip) {
      // The figures for the closing note.
      process.stdout.write(`# faults: ${tally.survived} injected and survived over ${tally.survivedRuns} runs; ${tally.refused} injected into ${tally.refusedRuns} runs that could not succeed and were refused cleanly\n`);
    }
    await proxy?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const layerRule = (fault: FaultRule['fault'], times?: number, method = 'GET'): FaultRule => ({ method, path: blobPath(layer.digest), fault, ...(times !== undefined ? { times } : {}) });

  describe('survived: same figures as a fault-free run', () => {
    test('500, 502 and 503 on the manifest, config and layer', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await survives(t, 'inspect', [
        { path: manifestPath('v1'), fault: { kind: 'status', status: 500 }, times: 1 },
        { path: blobPath(config.digest), fault: { kind: 'status', status: 502 }, times: 2 },
        layerRule({ kind: 'status', status: 503 }, 3),
      ], 6);
    });

    test('429 with Retry-After in seconds, and as an HTTP date: waited for, then served', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await survives(t, 'inspect', [{ path: manifestPath('v1'), fault: { kind: 'status', status: 429, retryAfter: '1' }, times: 1 }]);
      const [limited, again] = proxy.requests.filter((r) => r.method === 'GET' && manifestPath('v1').test(r.path)).slice(-2);
      assert.equal(limited!.fault, 'status');
      assert.equal(again!.fault, undefined);
      // Not a speed figure: a lower bound. The client must not come back before the registry said it may.
      assert.ok(again!.at - limited!.at >= 990, `came back after ${again!.at - limited!.at} ms`); // 10 ms for timer granularity
      await survives(t, 'inspect', [layerRule({ kind: 'status', status: 429, retryAfter: () => new Date(Date.now() + 1000).toUTCString() }, 1)]);
    });

    test('connection reset mid-blob: resumed with a Range request from where it stopped', async (t) => {
      if (skip) return skipOrFail(t, skip);
      const from = proxy.requests.length;
      await survives(t, 'inspect', [layerRule({ kind: 'reset', afterBytes: 100_000 }, 2)], 2);
      const gets = proxy.requests.slice(from).filter((r) => r.method === 'GET' && blobPath(layer.digest).test(r.path));
      assert.equal(gets.length, 3);
      assert.equal(gets[0]!.range, undefined);
      // Each resume starts where the bytes stopped: after at most 100 000 more (what reached us before the reset).
      gets.slice(1).forEach((g, i) => {
        const m = /^bytes=(\d+)-$/.exec(g.range ?? '');
        assert.ok(m && Number(m[1]) <= 100_000 * (i + 1), `resume ${i + 1} asked for ${g.range}`);
      });
    });

    test('a body truncated under its full Content-Length: the layer resumes, the config and manifest are fetched again', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await survives(t, 'inspect', [
        { path: manifestPath('v1'), fault: { kind: 'truncate', afterBytes: 50 }, times: 1 },
        { path: blobPath(config.digest), fault: { kind: 'truncate', afterBytes: 20 }, times: 1 },
        layerRule({ kind: 'truncate', afterBytes: 150_000 }, 1),
      ], 3);
    });

    test('a wrong Content-Length, too long and too short', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await survives(t, 'inspect', [
        { path: manifestPath('v1'), fault: { kind: 'content-length', delta: -40 }, times: 1 },
        { path: blobPath(config.digest), fault: { kind: 'content-length', delta: 25 }, times: 1 },
        layerRule({ kind: 'content-length', delta: 1000 }, 1),
        layerRule({ kind: 'content-length', delta: -1000 }, 1),
      ], 4);
    });

    test('a redirect back to itself once, and a redirect to another host', async (t) => {
      if (skip) return skipOrFail(t, skip);
      const from = proxy.requests.length;
      await survives(t, 'inspect', [
        { path: manifestPath('v1'), fault: { kind: 'redirect-loop' }, times: 3 },
        layerRule({ kind: 'redirect-away' }),
      ], 4);
      assert.ok(proxy.requests.slice(from).some((r) => r.via === 'away' && blobPath(layer.digest).test(r.path)), 'the layer came from the other host');
    });

    test('wrong bytes once for the manifest, the config and the layer: one fresh download each, verified', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await survives(t, 'inspect', [
        { path: manifestPath('v1'), fault: { kind: 'flip' }, times: 1 },
        { path: blobPath(config.digest), fault: { kind: 'flip' }, times: 1 },
        layerRule({ kind: 'flip' }, 1),
      ], 3);
      // A flipped byte that trips gunzip before the digest is known: the layer gets its fresh pass all the same.
      await survives(t, 'inspect', [layerRule({ kind: 'flip', at: 400, pauseAfter: 8192 }, 1)]);
    });

    test('a registry that goes silent (before the headers, and mid-blob) is dropped after the stall timeout and retried', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await survives(t, 'inspect', [
        { path: manifestPath('v1'), fault: { kind: 'hang' }, times: 1 },
        layerRule({ kind: 'hang', afterBytes: 120_000 }, 1),
      ], 2, QUICK_STALL);
    });

    test('a layer that trickles once is dropped under the minimum rate and resumed', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await survives(t, 'inspect', [layerRule({ kind: 'drip', bytes: 2000, everyMs: 40 }, 1)], 1, `${RETRY},minrate=200000,ratewindow=150`);
    });

    test('chain: faults on the signature tag, its blob and the referrers API', async (t) => {
      if (skip) return skipOrFail(t, skip);
      const referrers = new RegExp(`^/v2/${esc(repo)}/referrers/`);
      await survives(t, 'chain', [
        { path: manifestPath('v1'), fault: { kind: 'status', status: 503 }, times: 1 },
        { path: manifestPath(`${digestTag(manifest.digest)}.sig`), fault: { kind: 'truncate', afterBytes: 30 }, times: 1 },
        { path: blobPath(sigLayer), fault: { kind: 'flip' }, times: 1 },
        { path: referrers, fault: { kind: 'reset', afterBytes: 0 }, times: 1 },
      ], 4);
    });
  });

  describe('refused: one line naming the blob, exit 2, nothing cached', () => {
    test('a layer that is always 503', async (t) => {
      if (skip) return skipOrFail(t, skip);
      const line = await refuses(t, 'inspect', [layerRule({ kind: 'status', status: 503 })], new RegExp(`blob ${esc(layer.digest)}.*HTTP 503.*gave up after 5 tries`));
      assert.match(line, /fault injected: HTTP 503/, 'the last failure, with what the registry said');
      // The total budget stops retrying before the attempts run out (waits of 150–300 ms against 400 ms: 1 to 3 tries).
      await refuses(t, 'inspect', [layerRule({ kind: 'status', status: 503 })], /HTTP 503.*gave up after [1-4] tr(y|ies).*the 0\.4 s retry budget is spent/, 'base=300,max=300,total=400');
    });

    test('429 asking for longer than the retry budget is not waited for', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await refuses(t, 'inspect', [layerRule({ kind: 'status', status: 429, retryAfter: '3600' })], new RegExp(`rate limited \\(HTTP 429\\) fetching blob ${esc(layer.digest)}; the registry asks to retry in 3600 s.*1 try( in [^;)]*)?; that is more than vouch waits`));
    });

    test('a layer reset every time: the resumes run out', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await refuses(t, 'inspect', [layerRule({ kind: 'reset', afterBytes: 30_000 })], new RegExp(`blob ${esc(layer.digest)}.*connection lost after \\d+ of ${layer.size} bytes and 5 resumed downloads`));
    });

    test('a redirect loop is cut at 10 hops', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await refuses(t, 'inspect', [layerRule({ kind: 'redirect-loop' })], new RegExp(`blob ${esc(layer.digest)}.*more than 10 redirects`));
    });

    test('wrong bytes for the layer: DIGEST_MISMATCH naming the blob, never cached', async (t) => {
      if (skip) return skipOrFail(t, skip);
      // gunzip or the tar parser may trip before the digest is known: a remote blob is then reported corrupt as it
      // stands (one line naming it, exit 2), not downloaded again to name the mismatch (a liar sets that download's pace).
      const wrong = new RegExp(`blob ${esc(layer.digest)}.*(digest mismatch|decompression failed.*a corrupt layer|a corrupt layer)`);
      await refuses(t, 'inspect', [layerRule({ kind: 'flip' })], wrong);
      // In the gzip trailer (its CRC) and in the deflated tail.
      await refuses(t, 'inspect', [layerRule({ kind: 'flip', at: layer.size - 6 })], wrong);
      await refuses(t, 'inspect', [layerRule({ kind: 'flip', at: layer.size - 30 })], wrong);
      const from = proxy.requests.length;
      // Usually the parser fails on the first 8 KiB, before the digest is known; on a loaded machine the rest can
      // arrive first and the digest check names the blob instead. Both are the right refusal for these bytes.
      await refuses(t, 'inspect', [layerRule({ kind: 'flip', at: 400, pauseAfter: 8192 })], new RegExp(`blob ${esc(layer.digest)}.*(a corrupt layer; not downloaded again|digest mismatch)`));
      // The parser fails first (the rest of the blob is held back 200 ms); the layer gets its one fresh pass, which
      // goes the same way: 2 downloads, never a third.
      const gets = proxy.requests.slice(from).filter((r) => r.method === 'GET' && blobPath(layer.digest).test(r.path)).length;
      assert.ok(gets >= 1 && gets <= 2, `${gets} downloads`);
    });

    test('wrong bytes for the config every time: one fresh try, then DIGEST_MISMATCH', async (t) => {
      if (skip) return skipOrFail(t, skip);
      const from = proxy.requests.length;
      await refuses(t, 'inspect', [{ path: blobPath(config.digest), fault: { kind: 'flip' } }], new RegExp(`blob ${esc(config.digest)}.*digest mismatch`));
      assert.equal(proxy.requests.slice(from).filter((r) => blobPath(config.digest).test(r.path)).length, 2);
    });

    test('a wrong Content-Length every time', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await refuses(t, 'inspect', [layerRule({ kind: 'content-length', delta: -1 })], new RegExp(`blob ${esc(layer.digest)}.*Content-Length.*size mismatch.*gave up after 5 tries`));
    });

    test('a registry that never answers: the stall timeout and the total budget bound the wait', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await refuses(t, 'inspect', [{ path: manifestPath('v1'), fault: { kind: 'hang' } }], new RegExp(`manifest ${esc(proxy.host)}/${esc(repo)}:v1.*stalled: no response within 0.25 s.*gave up after 2 tries`), 'attempts=2,base=10,max=20,stall=250');
    });

    test('a registry that trickles bytes: a manifest past its deadline (total), a layer under the minimum rate (minrate over ratewindow)', async (t) => {
      if (skip) return skipOrFail(t, skip);
      // Never silent for as long as the stall timeout: only the deadline and the rate floor end these (a12 #2).
      const line = await refuses(
        t,
        'inspect',
        [{ path: manifestPath('v1'), fault: { kind: 'drip', bytes: 1, everyMs: 40 } }],
        // The budget runs from the first request: the one try spent it all.
        new RegExp(`manifest ${esc(proxy.host)}/${esc(repo)}:v1.*stalled: response not complete within 0.3 s.*gave up after 1 try in [\\d.]+ s; the 0\\.3 s retry budget is spent`),
        'attempts=2,base=10,max=20,stall=1000,total=300',
      );
      // The time said is the wall time: at least the deadline (0.4 s was seen on a loaded machine), and far from the
      // 15 s and more the drip takes to send the whole manifest.
      const took = Number(/gave up after 1 try in ([\d.]+) s/.exec(line)![1]);
      assert.ok(took >= 0.3 && took < 5, `gave up after ${took} s`);
      await refuses(
        t,
        'inspect',
        [layerRule({ kind: 'drip', bytes: 2000, everyMs: 40 })],
        new RegExp(`blob ${esc(layer.digest)}.*connection lost after \\d+ of ${layer.size} bytes and 5 resumed downloads.*stalled: slower than 200000 bytes/s`),
        'base=10,max=20,stall=1000,total=10000,minrate=200000,ratewindow=150',
      );
    });

    test('chain: the signature tag or its blob served with wrong bytes every time: DIGEST_MISMATCH naming it', async (t) => {
      if (skip) return skipOrFail(t, skip);
      const sigTag = `${digestTag(manifest.digest)}.sig`;
      await refuses(t, 'chain', [{ path: manifestPath(sigTag), fault: { kind: 'flip' } }], new RegExp(`manifest ${esc(proxy.host)}/${esc(repo)}:${esc(sigTag)}.*digest mismatch`));
      await refuses(t, 'chain', [{ path: blobPath(sigLayer), fault: { kind: 'flip' } }], new RegExp(`blob ${esc(sigLayer)} of .*digest mismatch`));
    });

    test('a cached inspect checks each layer by HEAD: a 503 there is retried; always 503 is one line and the cache is kept', async (t) => {
      if (skip) return skipOrFail(t, skip);
      const cacheDir = mkdtempSync(join(work, 'cache-'));
      const first = await run(inspectArgs(), [], RETRY, cacheDir);
      assert.equal(first.code, 0, first.stderr);
      const head = layerRule({ kind: 'status', status: 503 }, 2, 'HEAD');
      const cached = await run(inspectArgs(), [head], RETRY, cacheDir);
      assert.equal(cached.code, 0, cached.stderr);
      assert.equal(cached.faults, 2);
      assert.equal(JSON.parse(cached.stdout).cache.hit, true);
      tally.survived += cached.faults;
      tally.survivedRuns++;
      const refused = await run(inspectArgs(), [layerRule({ kind: 'status', status: 503 }, undefined, 'HEAD')], RETRY, cacheDir);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, new RegExp(`^vouch: error: ${esc(proxy.host)}/${esc(repo)}: HTTP 503 fetching blob ${esc(layer.digest)}.*gave up after 5 tries[^\n]*\n$`));
      assert.deepEqual(refused.cache, first.cache, 'the cached analysis is neither lost nor changed');
      tally.refused += refused.faults;
      tally.refusedRuns++;
    });

    test('chain: referrers always 500', async (t) => {
      if (skip) return skipOrFail(t, skip);
      await refuses(t, 'chain', [{ path: new RegExp(`^/v2/${esc(repo)}/referrers/`), fault: { kind: 'status', status: 500 } }], new RegExp(`referrers of .*${esc(manifest.digest)}.*HTTP 500.*gave up after 5 tries`));
    });
  });
});
