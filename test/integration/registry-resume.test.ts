/**
 * Issue 9, gaps: a blob download cut mid-body resumes with an HTTP Range
 * request instead of failing. A node:http proxy on 127.0.0.1 in front of the
 * real test registry cuts the connection once, halfway through the layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { inspectReference } from '../../src/core/layers/inspect.js';
import { RegistryClient } from '../../src/core/sources/registry/client.js';
import { pushBlob, pushManifest } from '../helpers/cosign-sign.js';
import { tarOf } from '../helpers/mini-layout.js';
import { skipOrFail } from '../helpers/docker.js';

const registry = process.env.VOUCH_TEST_REGISTRY;

interface Proxy {
  server: Server;
  host: string;
  /** Range headers seen on blob GETs. */
  ranges: string[];
  cuts: number;
}

/** Forwards everything to the registry; the first GET of `cutBlob` sends half the body, then the socket is destroyed. */
async function cuttingProxy(target: string, cutBlob: () => string | undefined, mode: 'once' | 'always' = 'once'): Promise<Proxy> {
  const p: Proxy = { server: undefined as unknown as Server, host: '', ranges: [], cuts: 0 };
  const [th, tp] = target.split(':') as [string, string];
  p.server = createServer((req, res) => {
    const blob = cutBlob();
    const isBlob = blob !== undefined && req.method === 'GET' && req.url?.endsWith(`/blobs/${blob}`);
    if (isBlob) p.ranges.push(req.headers.range ?? '');
    const up = httpRequest({ host: th, port: Number(tp), path: req.url, method: req.method, headers: { ...req.headers, host: target } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (isBlob && (mode === 'always' || (p.cuts === 0 && !req.headers.range))) {
        const total = Number(ur.headers['content-length']);
        let sent = 0;
        ur.on('data', (c: Buffer) => {
          if (sent >= total / 2) return;
          const part = c.subarray(0, Math.max(0, Math.ceil(total / 2) - sent));
          sent += part.length;
          res.write(part);
          if (sent >= total / 2) {
            p.cuts++;
            // Let the half reach the client, then drop the connection mid-body.
            setTimeout(() => {
              res.socket?.destroy();
              ur.destroy();
            }, 50);
          }
        });
        return;
      }
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r));
  p.host = `127.0.0.1:${(p.server.address() as AddressInfo).port}`;
  return p;
}

test('a blob download cut mid-body resumes with a Range request and verifies', async (t) => {
  if (!registry) return skipOrFail(t, 'VOUCH_TEST_REGISTRY is not set (source /tmp/vouch-services/env)');
  const repo = `vouch-test/resume-${randomBytes(5).toString('hex')}`;
  const tar = tarOf([{ path: 'data/random.bin', content: randomBytes(600_000) }, { path: 'etc/hello', content: 'hello\n' }]);
  const layer = gzipSync(tar, { level: 1 });
  const l = await pushBlob(registry, repo, layer);
  const { createHash } = await import('node:crypto');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`] } }));
  const c = await pushBlob(registry, repo, config);
  await pushManifest(registry, repo, 'v1', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size }],
  });

  const proxy = await cuttingProxy(registry, () => l.digest);
  t.after(() => proxy.server.close());
  const { analysis } = await inspectReference(`docker://${proxy.host}/${repo}:v1`, { noCache: true });
  assert.equal(analysis.files, 2);
  assert.equal(proxy.cuts, 1);
  assert.equal(proxy.ranges.length, 2);
  assert.equal(proxy.ranges[0], '');
  const m = /^bytes=(\d+)-$/.exec(proxy.ranges[1]!);
  assert.ok(m, proxy.ranges[1]);
  assert.ok(Number(m[1]) > 0 && Number(m[1]) <= l.size / 2 + 1, `resumed from ${m[1]} of ${l.size}`);

  // A server that cuts every time: the resumes run out and the error names the blob.
  const always = await cuttingProxy(registry, () => l.digest, 'always');
  t.after(() => always.server.close());
  const client = new RegistryClient(always.host, { retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 20 } });
  const stream = await client.openBlob(repo, l.digest, l.size);
  await assert.rejects(
    (async () => {
      for await (const _chunk of stream) void _chunk;
    })(),
    (e: { code?: string; message?: string }) => e.code === 'NETWORK_ERROR' && (e.message ?? '').includes(l.digest),
  );
  assert.equal(always.cuts, 6, 'the first request and five resumes were cut');
  assert.ok(always.ranges.slice(1).every((r) => /^bytes=\d+-$/.test(r)));
});
