/**
 * Issue 12, "Lying and flaky registries": the bearer-token server. A registry
 * behind a small node:http front that answers 401 with `WWW-Authenticate:
 * Bearer realm=…` until it sees the token, and a real token server (node:http
 * on 127.0.0.1) that misbehaves on purpose: it never answers, trickles its
 * headers or its body, answers 503 or 429 with Retry-After, or redirects in a
 * loop. `vouch inspect` through the front must get the token where a retry
 * can, and otherwise end within the retry budget (VOUCH_REGISTRY_RETRY, made
 * small here) with exit 2 and one line naming the token server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pushImage } from '../helpers/cosign-sign.js';
import { runCli, type CliRun } from '../helpers/inspect.js';
import { inCI, startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * Small waits: 10–50 ms backoff. Where the token server misbehaves on purpose, silence is a stall after 200 ms and a
 * token fetch gives up 1 s in; elsewhere 2 s and 10 s, so that a loaded machine does not add tries.
 */
const RETRY = 'base=10,max=50,total=10000,stall=2000';
const QUICK = 'base=10,max=50,total=1000,stall=200';
const TOKEN = `tok-${randomBytes(8).toString('hex')}`;
const repo = `vouch-test/token-${randomBytes(5).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'vouch-token-'));

type Mode = 'ok' | 'hang' | 'trickle-headers' | 'trickle-body' | 'reset' | '503-twice' | '429-once' | '429-long' | 'redirect-once' | 'redirect-loop';

let registry: TestRegistry | undefined;
let mode: Mode = 'ok';
let tokenRequests: Array<{ at: number; path: string }> = [];
let tokenHost = '';
let frontHost = '';
const servers: Server[] = [];
const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();

async function listen(server: Server): Promise<string> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Writes `piece` every 50 ms until the socket closes: never quiet long enough to trip a stall timer. */
function trickle(socket: Socket, piece: string): void {
  const t = setInterval(() => (socket.destroyed ? clearInterval(t) : socket.write(piece)), 50);
  timers.add(t);
  socket.once('close', () => clearInterval(t));
}

function tokenServer(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const n = tokenRequests.push({ at: Date.now(), path: req.url ?? '' });
  const ok = (): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: TOKEN, expires_in: 300 }));
  };
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/token2') return ok();
  switch (mode) {
    case 'ok':
      return ok();
    case 'hang':
      return; // accepts the connection, never answers
    case 'trickle-headers':
      req.socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n');
      return trickle(req.socket, 'x-pad: a\r\n');
    case 'trickle-body':
      req.socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"token":"');
      return trickle(req.socket, 'a');
    case 'reset':
      if (n <= 2) return void req.socket.resetAndDestroy();
      return ok();
    case '503-twice':
      if (n <= 2) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        return void res.end('token service warming up');
      }
      return ok();
    case '429-once':
    case '429-long':
      if (n === 1 || mode === '429-long') {
        res.writeHead(429, { 'retry-after': mode === '429-once' ? '1' : '120' });
        return void res.end();
      }
      return ok();
    case 'redirect-once':
      res.writeHead(307, { location: `http://${tokenHost}/token2${req.url?.slice('/token'.length) ?? ''}` });
      return void res.end();
    case 'redirect-loop':
      res.writeHead(307, { location: `http://${tokenHost}${req.url}` });
      return void res.end();
  }
}

/** The registry, but only for requests with the token; others get the bearer challenge. */
function front(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    req.resume();
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': `Bearer realm="http://${tokenHost}/token",service="vouch-test",scope="repository:${repo}:pull"`,
    });
    return void res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
  }
  const [host, port] = registry!.host.split(':') as [string, string];
  const headers = { ...req.headers, host: registry!.host };
  delete headers.authorization;
  const up = httpRequest({ host, port: Number(port), path: req.url, method: req.method, headers }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, ur.headers);
    ur.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
}

/** `vouch inspect` through the front, in-process, with the small retry budget and a fresh cache. */
async function inspect(m: Mode, retry = RETRY): Promise<CliRun> {
  mode = m;
  tokenRequests = [];
  const saved = { cache: process.env.VOUCH_CACHE_DIR, retry: process.env.VOUCH_REGISTRY_RETRY, docker: process.env.DOCKER_CONFIG };
  process.env.VOUCH_CACHE_DIR = mkdtempSync(join(work, 'cache-'));
  process.env.VOUCH_REGISTRY_RETRY = retry;
  process.env.DOCKER_CONFIG = work; // no credentials: an anonymous token, as for a public image
  try {
    return await runCli(['inspect', `docker://${frontHost}/${repo}:v1`, '--json']);
  } finally {
    for (const [k, v] of [['VOUCH_CACHE_DIR', saved.cache], ['VOUCH_REGISTRY_RETRY', saved.retry], ['DOCKER_CONFIG', saved.docker]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // What a misbehaving token server still holds open is dropped between cases.
    for (const t of timers) clearInterval(t);
    timers.clear();
  }
}

/** Exit 2 and one line on stderr that names the token server. */
function refused(r: CliRun, line: RegExp): string {
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^vouch: error: /);
  assert.ok(lines[0]!.includes(`token server ${tokenHost}`), `names the token server: ${lines[0]}`);
  assert.match(lines[0]!, line);
  return lines[0]!;
}

describe('bearer-token server: deadlines, retries, redirects', { timeout: 60_000 }, () => {
  before(async () => {
    registry = await startRegistry();
    if (!registry) return;
    await pushImage(registry.host, repo, 'v1', { seed: 'token' });
    tokenHost = await listen(createServer(tokenServer));
    frontHost = await listen(createServer(front));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const needsRegistry = (t: { skip(m: string): void }): boolean => {
    if (registry) return false;
    if (inCI()) assert.fail('registry needed under CI');
    t.skip('docker-registry not installed');
    return true;
  };

  test('a healthy token server: the image is read with the token (baseline)', async (t) => {
    if (needsRegistry(t)) return;
    const r = await inspect('ok');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).digest.startsWith('sha256:'), true);
    assert.equal(tokenRequests.length, 1, 'one token for the repository, cached for the run');
    assert.match(tokenRequests[0]!.path, /[?&]scope=repository%3Avouch-test%2Ftoken-/);
  });

  for (const [m, what] of [
    ['hang', 'accepts the connection and never answers'],
    ['trickle-headers', 'trickles header lines, never ending them'],
    ['trickle-body', 'sends headers, then trickles the body a byte at a time'],
  ] as const) {
    // The per-test timeout is what fails a fetch without a deadline (it would wait forever).
    test(`a token server that ${what}: retried within the budget, then exit 2 naming the token server`, { timeout: 15_000 }, async (t) => {
      if (needsRegistry(t)) return;
      const r = await inspect(m, QUICK);
      const line = refused(r, /stalled|not complete|gave up/);
      assert.ok(tokenRequests.length >= 1, 'the token server was asked');
      t.diagnostic(`${tokenRequests.length} token request(s): ${line}`);
    });
  }

  test('503, 503, then a token: retried like a registry request', async (t) => {
    if (needsRegistry(t)) return;
    const r = await inspect('503-twice');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(tokenRequests.length, 3);
  });

  test('connection reset twice, then a token: retried', async (t) => {
    if (needsRegistry(t)) return;
    const r = await inspect('reset');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(tokenRequests.length >= 3, `${tokenRequests.length} token requests`);
  });

  test('429 with Retry-After: 1, then a token: the wait is honoured, then it works', async (t) => {
    if (needsRegistry(t)) return;
    const r = await inspect('429-once');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(tokenRequests.length, 2);
    // Not a speed figure: the second request must not come before the server said it may.
    assert.ok(tokenRequests[1]!.at - tokenRequests[0]!.at >= 950, `waited ${tokenRequests[1]!.at - tokenRequests[0]!.at} ms`);
  });

  test('429 with Retry-After: 120 (beyond the budget): not waited for; exit 2 saying so', async (t) => {
    if (needsRegistry(t)) return;
    const r = await inspect('429-long');
    refused(r, /429.*asks to wait 120 s/);
    assert.equal(tokenRequests.length, 1);
  });

  test('one redirect to another path of the token server is followed', async (t) => {
    if (needsRegistry(t)) return;
    const r = await inspect('redirect-once');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(tokenRequests.map((q) => new URL(q.path, 'http://x').pathname), ['/token', '/token2']);
  });

  test('a redirect loop at the token endpoint is bounded: exit 2 naming the token server', async (t) => {
    if (needsRegistry(t)) return;
    const r = await inspect('redirect-loop');
    refused(r, /redirect/);
    assert.ok(tokenRequests.length <= 6, `${tokenRequests.length} requests`);
  });
});
