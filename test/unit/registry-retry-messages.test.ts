/**
 * The lines a registry that keeps failing ends in (issue 12 review, item 9): the
 * Retry-After said once, no "0 s" budget, and a VOUCH_REGISTRY_RETRY with the wrong
 * separator blamed on the separator. A node:http server stands in for the registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient } from '../../src/core/sources/registry/client.js';
import { anonymousCredentials } from '../../src/core/sources/registry/credentials.js';
import { retryPolicyFromEnv } from '../../src/core/sources/registry/http.js';

async function serve(status: number, headers: Record<string, string>): Promise<{ host: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function failure(host: string, retry: object): Promise<string> {
  const c = new RegistryClient(host, { insecureRegistries: [host], credentials: anonymousCredentials(), retry });
  const e = await c.getManifest('app', 'v1').then(() => undefined, (err: Error) => err);
  assert.ok(e instanceof Error, 'the request fails');
  return e.message;
}

test('429 with a Retry-After beyond the budget: the wait asked for is said once', async (t) => {
  const { host, server } = await serve(429, { 'retry-after': '3600' });
  t.after(() => server.close());
  const m = await failure(host, {});
  assert.match(m, /rate limited \(HTTP 429\)/);
  assert.equal(m.match(/\b3600 ?s\b/g)?.length, 1, m);
  assert.match(m, /more than vouch waits \(60 s\)/);
});

test('a budget under a second is not printed as "0 s"', async (t) => {
  const { host, server } = await serve(503, {});
  t.after(() => server.close());
  const m = await failure(host, { totalMs: 1, baseDelayMs: 5, maxDelayMs: 5, stallMs: 10_000 });
  assert.doesNotMatch(m, /\b0 s\b/, m);
  assert.match(m, /the 1 ms retry budget is spent/);
});

test('VOUCH_REGISTRY_RETRY with ";" between settings blames the separator', () => {
  for (const v of ['attempts=5;total=100', 'attempts=5 total=100']) {
    assert.throws(() => retryPolicyFromEnv({ VOUCH_REGISTRY_RETRY: v }), (e: Error) => /separate the settings with commas/.test(e.message) && !/takes a whole number/.test(e.message), v);
  }
});
