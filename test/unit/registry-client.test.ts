import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DigestMismatchError, VouchError } from '../../src/core/errors.js';
import { digestOf } from '../../src/core/oci/digest.js';
import { MediaType } from '../../src/core/oci/mediatypes.js';
import type { DockerReference } from '../../src/core/ref/types.js';
import { RegistryClient, nextLink } from '../../src/core/sources/registry/client.js';
import { anonymousCredentials, staticCredentials } from '../../src/core/sources/registry/credentials.js';
import { backoffDelay, DEFAULT_RETRY, parseRetryAfter } from '../../src/core/sources/registry/http.js';
import { parsePlatform } from '../../src/core/oci/manifest.js';
import { openRegistryImage } from '../../src/core/sources/registry/source.js';

const FAST = { baseDelayMs: 5, maxDelayMs: 20 };

// ---- a tiny image ----
interface Blob {
  bytes: Buffer;
  digest: string;
}
const blob = (bytes: Buffer | string): Blob => {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return { bytes: b, digest: digestOf(b) };
};

function makeImage(arch: string, variant?: string) {
  const layer = blob(`layer bytes for ${arch} ${'x'.repeat(3000)}`);
  const config = blob(
    JSON.stringify({ architecture: arch, os: 'linux', ...(variant ? { variant } : {}), rootfs: { type: 'layers', diff_ids: [digestOf(Buffer.from(`diff ${arch}`))] }, config: {} }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: config.digest, size: config.bytes.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer.digest, size: layer.bytes.length }],
    }),
  );
  return { layer, config, manifest };
}

// ---- a configurable fake registry ----
type Hook = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | void;
interface Fake {
  server: Server;
  host: string;
  url: string;
  requests: { method: string; path: string; auth: string | undefined }[];
  manifests: Map<string, { body: Buffer; type: string }>;
  blobs: Map<string, Buffer>;
  hook: Hook | undefined;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function fakeRegistry(): Promise<Fake> {
  const fake = {} as Fake;
  fake.requests = [];
  fake.manifests = new Map();
  fake.blobs = new Map();
  const { server, host } = await listen((req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    fake.requests.push({ method: req.method!, path: url.pathname + url.search, auth: req.headers.authorization });
    if (fake.hook && fake.hook(req, res, url)) return;
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (m) {
      if (m[2] === 'manifests') {
        const found = fake.manifests.get(`${m[1]}:${m[3]}`);
        if (!found) return sendError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
        res.writeHead(200, { 'content-type': found.type, 'docker-content-digest': digestOf(found.body), 'content-length': found.body.length });
        return res.end(req.method === 'HEAD' ? undefined : found.body);
      }
      const b = fake.blobs.get(m[3]!);
      if (!b) return sendError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length });
      return res.end(b);
    }
    sendError(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
  });
  fake.server = server;
  fake.host = host;
  fake.url = `http://${host}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

function push(fake: Fake, repo: string, tag: string, img: ReturnType<typeof makeImage>): void {
  fake.manifests.set(`${repo}:${tag}`, { body: img.manifest.bytes, type: MediaType.OciManifest });
  fake.manifests.set(`${repo}:${img.manifest.digest}`, { body: img.manifest.bytes, type: MediaType.OciManifest });
  fake.blobs.set(img.config.digest, img.config.bytes);
  fake.blobs.set(img.layer.digest, img.layer.bytes);
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const refTo = (fake: Fake, repo: string, tag?: string, digest?: string): DockerReference => ({
  registry: fake.host,
  repository: repo,
  ...(tag ? { tag } : {}),
  ...(digest ? { digest } : {}),
});

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<VouchError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VouchError, `expected a VouchError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.ok(!/[\n\r\u001b]/.test(e.message), 'one line, no control characters');
    return e;
  }
  assert.fail('expected a rejection');
}

describe('registry client against a fake registry', () => {
  let fake: Fake;
  const img = makeImage('amd64');
  before(async () => {
    fake = await fakeRegistry();
    push(fake, 'team/app', 'v1', img);
  });
  after(async () => fake.close());

  test('anonymous open by tag and by digest; layer streams and verifies', async () => {
    fake.hook = undefined;
    const image = await openRegistryImage(refTo(fake, 'team/app', 'v1'), { credentials: anonymousCredentials() });
    assert.equal(image.digest, img.manifest.digest);
    assert.equal(image.reference, `docker://${fake.host}/team/app:v1@${img.manifest.digest}`);
    assert.equal(image.name, `${fake.host}/team/app:v1`);
    assert.equal(image.configDigest, img.config.digest);
    assert.equal(image.layers.length, 1);
    assert.equal(image.layers[0]!.compression, 'gzip');
    assert.deepEqual(await readAll(await image.layers[0]!.open()), img.layer.bytes);
    assert.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
    const byDigest = await openRegistryImage(refTo(fake, 'team/app', undefined, img.manifest.digest), { credentials: anonymousCredentials() });
    assert.equal(byDigest.reference, `docker://${fake.host}/team/app@${img.manifest.digest}`);
    const m = fake.requests.find((r) => r.path.includes('/manifests/'));
    assert.ok(m);
  });

  test('token auth flow: challenge, token with basic credentials, cached per scope', async () => {
    const tokenRequests: { search: URLSearchParams; auth: string | undefined }[] = [];
    fake.hook = (req, res, url) => {
      if (url.pathname === '/token') {
        tokenRequests.push({ search: url.searchParams, auth: req.headers.authorization });
        if (req.headers.authorization !== `Basic ${Buffer.from('alice:s3cret').toString('base64')}`) return sendError(res, 401, 'UNAUTHORIZED', 'bad creds'), true;
        res.writeHead(200, { 'content-type': 'application/json' });
        // access_token instead of token, as some servers do
        res.end(JSON.stringify({ access_token: `tok-${url.searchParams.get('scope')}`, expires_in: 300 }));
        return true;
      }
      if (req.headers.authorization !== 'Bearer tok-repository:team/app:pull') {
        sendError(res, 401, 'UNAUTHORIZED', 'authentication required', {
          'www-authenticate': `Bearer realm="${fake.url}/token",service="fake-registry",scope="repository:team/app:pull"`,
        });
        return true;
      }
      return false;
    };
    const client = new RegistryClient(fake.host, { credentials: staticCredentials({ username: 'alice', password: 's3cret' }), retry: FAST });
    const image = await openRegistryImage(refTo(fake, 'team/app', 'v1'), { client });
    assert.deepEqual(await readAll(await image.layers[0]!.open()), img.layer.bytes);
    await client.getManifest('team/app', 'v1');
    assert.equal(tokenRequests.length, 1, 'one token for all requests of the same scope');
    assert.equal(tokenRequests[0]!.search.get('service'), 'fake-registry');
    assert.equal(tokenRequests[0]!.search.get('scope'), 'repository:team/app:pull');
    assert.equal(tokenRequests[0]!.search.get('account'), 'alice');

    // wrong password: the token server refuses, and the message says which credentials were tried
    const bad = new RegistryClient(fake.host, { credentials: staticCredentials({ username: 'alice', password: 'nope' }, 'credentials from ~/.docker/config.json (auths)'), retry: FAST });
    const e = await rejectsWith(bad.getManifest('team/app', 'v1'), 'UNAUTHORIZED', /team\/app: the token server 127\.0\.0\.1:\d+ refused credentials from ~\/\.docker\/config\.json \(auths\)/);
    assert.ok(!e.message.includes('nope'));

    // anonymous token, then the registry still says 401
    fake.hook = (req, res, url) => {
      if (url.pathname === '/token') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'anon' }));
        return true;
      }
      sendError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': `Bearer realm="${fake.url}/token",service="fake-registry"` });
      return true;
    };
    const anon = new RegistryClient(fake.host, { credentials: async () => ({ source: 'no credentials for x in ~/.docker/config.json' }), retry: FAST });
    await rejectsWith(anon.getManifest('team/app', 'v1'), 'UNAUTHORIZED', /team\/app: authentication required; no credentials for x in ~\/\.docker\/config\.json .*docker login/);
    fake.hook = undefined;
  });

  test('identity token: OAuth2 refresh grant (POST) to the realm', async () => {
    let form: URLSearchParams | undefined;
    fake.hook = (req, res, url) => {
      if (url.pathname === '/token') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          form = new URLSearchParams(body);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: 'oauth-tok', expires_in: 120 }));
        });
        return true;
      }
      if (req.headers.authorization !== 'Bearer oauth-tok') {
        sendError(res, 401, 'UNAUTHORIZED', 'x', { 'www-authenticate': `Bearer realm="${fake.url}/token",service="svc"` });
        return true;
      }
      return false;
    };
    const client = new RegistryClient(fake.host, { credentials: staticCredentials({ identityToken: 'refresh-123' }), retry: FAST });
    await client.getManifest('team/app', 'v1');
    assert.equal(form?.get('grant_type'), 'refresh_token');
    assert.equal(form?.get('refresh_token'), 'refresh-123');
    assert.equal(form?.get('service'), 'svc');
    assert.equal(form?.get('scope'), 'repository:team/app:pull');
    fake.hook = undefined;
  });

  test('stale cached token: one refresh, then success', async () => {
    let issued = 0;
    fake.hook = (req, res, url) => {
      if (url.pathname === '/token') {
        issued++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: `t${issued}` }));
        return true;
      }
      // Only the latest token is valid (the server rotated its keys).
      if (req.headers.authorization !== `Bearer t${issued}` || issued === 0) {
        sendError(res, 401, 'UNAUTHORIZED', 'x', { 'www-authenticate': `Bearer realm="${fake.url}/token"` });
        return true;
      }
      return false;
    };
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    await client.getManifest('team/app', 'v1');
    issued++; // invalidate t1 on the server side
    await client.getManifest('team/app', 'v1');
    assert.equal(issued, 3);
    fake.hook = undefined;
  });

  test('basic auth challenge; wrong password names the registry, repository and credentials', async () => {
    const good = `Basic ${Buffer.from('bob:pw').toString('base64')}`;
    fake.hook = (req, res) => {
      if (req.headers.authorization === good) return false;
      sendError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'www-authenticate': 'Basic realm="fake"' });
      return true;
    };
    const ok = new RegistryClient(fake.host, { credentials: staticCredentials({ username: 'bob', password: 'pw' }), retry: FAST });
    const m = await ok.getManifest('team/app', 'v1');
    assert.equal(m.digest, img.manifest.digest);
    const wrong = new RegistryClient(fake.host, {
      credentials: staticCredentials({ username: 'bob', password: 'wrong' }, 'credentials for 127.0.0.1 from ~/.docker/config.json (auths)'),
      retry: FAST,
    });
    await rejectsWith(
      wrong.getManifest('team/app', 'v1'),
      'UNAUTHORIZED',
      new RegExp(`^${fake.host.replace(/\./g, '\\.')}/team/app: authentication failed with credentials for 127\\.0\\.0\\.1 from ~/\\.docker/config\\.json \\(auths\\) \\(registry says: UNAUTHORIZED: authentication required\\)$`),
    );
    const none = new RegistryClient(fake.host, { credentials: async () => ({ source: 'no credentials for h in ~/.docker/config.json', problem: 'credential helper docker-credential-desktop not found on PATH' }), retry: FAST });
    await rejectsWith(none.getManifest('team/app', 'v1'), 'UNAUTHORIZED', /authentication required; no credentials for h in ~\/\.docker\/config\.json; credential helper docker-credential-desktop not found on PATH/);
    fake.hook = undefined;
  });

  test('429 with Retry-After is honoured, then success', async () => {
    let n = 0;
    fake.hook = (_req, res) => {
      if (n++ === 0) {
        sendError(res, 429, 'TOOMANYREQUESTS', 'slow down', { 'retry-after': '1' });
        return true;
      }
      return false;
    };
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    const t0 = Date.now();
    await client.getManifest('team/app', 'v1');
    assert.ok(Date.now() - t0 >= 950, `waited ${Date.now() - t0} ms`);
    assert.equal(n, 2);
    // A Retry-After beyond what we are willing to wait is reported, not slept on.
    fake.hook = (_req, res) => (sendError(res, 429, 'TOOMANYREQUESTS', 'pull limit', { 'retry-after': '3600' }), true);
    await rejectsWith(client.getManifest('team/app', 'v1'), 'REGISTRY_ERROR', /rate limited \(HTTP 429\).*retry in 3600 s.*TOOMANYREQUESTS: pull limit/);
    fake.hook = undefined;
  });

  test('500 then success; persistent 5xx is bounded and reported with the registry message, sanitised', async () => {
    let n = 0;
    fake.hook = (_req, res) => (n++ < 2 ? (sendError(res, 500, 'UNKNOWN', 'oops'), true) : false);
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    await client.getManifest('team/app', 'v1');
    assert.equal(n, 3);
    n = 0;
    fake.hook = (_req, res) => (n++, sendError(res, 503, 'UNAVAILABLE', 'down\u001b[31m for\nmaintenance'), true);
    await rejectsWith(client.getManifest('team/app', 'v1'), 'REGISTRY_ERROR', /team\/app: HTTP 503 fetching manifest for tag "v1" \(registry says: UNAVAILABLE: down\\x1b\[31m for\\x0amaintenance\)/);
    assert.equal(n, DEFAULT_RETRY.attempts);
    fake.hook = undefined;
  });

  test('connection reset then success', async () => {
    let n = 0;
    fake.hook = (req) => {
      if (n++ === 0) {
        req.socket.destroy();
        return true;
      }
      return false;
    };
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    const m = await client.getManifest('team/app', 'v1');
    assert.equal(m.digest, img.manifest.digest);
    assert.equal(n, 2);
    fake.hook = undefined;
  });

  test('unreachable registry is a NETWORK_ERROR', async () => {
    const { server, host } = await listen(() => {});
    await new Promise((r) => server.close(r));
    const client = new RegistryClient(host, { credentials: anonymousCredentials(), retry: FAST });
    await rejectsWith(client.getManifest('a/b', 'v1'), 'NETWORK_ERROR', new RegExp(`cannot reach http://${host.replace(/\./g, '\\.')}: .*ECONNREFUSED`));
  });

  test('blob redirect to another host: followed, Authorization NOT forwarded', async () => {
    const seen: (string | undefined)[] = [];
    const storage = await listen((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': img.layer.bytes.length });
      res.end(img.layer.bytes);
    });
    fake.hook = (req, res, url) => {
      if (req.headers.authorization !== 'Basic ' + Buffer.from('c:d').toString('base64')) {
        sendError(res, 401, 'UNAUTHORIZED', 'auth', { 'www-authenticate': 'Basic realm="x"' });
        return true;
      }
      if (url.pathname.includes('/blobs/')) {
        res.writeHead(307, { location: `http://${storage.host}/bucket/obj?sig=abc` });
        res.end();
        return true;
      }
      return false;
    };
    try {
      const client = new RegistryClient(fake.host, { credentials: staticCredentials({ username: 'c', password: 'd' }), retry: FAST });
      const s = await client.openBlob('team/app', img.layer.digest, img.layer.bytes.length);
      assert.deepEqual(await readAll(s), img.layer.bytes);
      assert.deepEqual(seen, [undefined]);
      const blobReq = fake.requests.filter((r) => r.path.includes('/blobs/')).at(-1)!;
      assert.ok(blobReq.auth?.startsWith('Basic '), 'the registry itself did get the credentials');
    } finally {
      fake.hook = undefined;
      await new Promise((r) => storage.server.close(r));
    }
  });

  test('redirect to plain HTTP on a non-loopback host is refused', async () => {
    fake.hook = (_req, res) => {
      res.writeHead(302, { location: 'http://storage.example.com/x' });
      res.end();
      return true;
    };
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    await rejectsWith(client.openBlob('team/app', img.layer.digest), 'REGISTRY_ERROR', /refusing redirect to http:\/\/storage\.example\.com: not HTTPS/);
    fake.hook = undefined;
  });

  test('403 DENIED and 404 NOT_FOUND messages', async () => {
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    await rejectsWith(client.getManifest('team/app', 'nope'), 'NOT_FOUND', /team\/app: manifest unknown: tag "nope" not found/);
    const d = digestOf(Buffer.from('nothing'));
    await rejectsWith(client.getManifest('team/app', d), 'NOT_FOUND', new RegExp(`manifest unknown: manifest ${d} not found`));
    await rejectsWith(client.openBlob('team/app', d), 'NOT_FOUND', new RegExp(`team/app: blob unknown: ${d} not found`));
    fake.hook = (_req, res) => (sendError(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry'), true);
    await rejectsWith(client.getManifest('team/other', 'v1'), 'NOT_FOUND', /team\/other: repository not found/);
    fake.hook = (_req, res) => (sendError(res, 403, 'DENIED', 'requested access to the resource is denied'), true);
    await rejectsWith(client.getManifest('team/app', 'v1'), 'DENIED', /team\/app: access to manifest for tag "v1" denied \(HTTP 403\) using no credentials \(anonymous\) \(registry says: DENIED: requested access/);
    fake.hook = undefined;
  });

  test('Docker-Content-Digest mismatch and a pinned digest that does not match the bytes', async () => {
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    const other = digestOf(Buffer.from('other'));
    fake.hook = (_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciManifest, 'docker-content-digest': other });
      res.end(img.manifest.bytes);
      return true;
    };
    await assert.rejects(client.getManifest('team/app', 'v1'), (e: unknown) => e instanceof DigestMismatchError && e.expected === other && e.actual === img.manifest.digest);
    fake.hook = (_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciManifest });
      res.end(img.manifest.bytes);
      return true;
    };
    await assert.rejects(client.getManifest('team/app', other), (e: unknown) => e instanceof DigestMismatchError && /manifest .*team\/app@sha256/.test(e.message));
    fake.hook = undefined;
  });

  test('tampered blob: the layer stream fails with DigestMismatchError; tampered config fails the open', async () => {
    const tampered = Buffer.from(img.layer.bytes);
    tampered[10] ^= 1;
    fake.hook = (_req, res, url) => {
      if (url.pathname.endsWith(img.layer.digest)) {
        res.writeHead(200, { 'content-length': tampered.length });
        res.end(tampered);
        return true;
      }
      return false;
    };
    const image = await openRegistryImage(refTo(fake, 'team/app', 'v1'), { credentials: anonymousCredentials(), retry: FAST });
    await assert.rejects(readAll(await image.layers[0]!.open()), (e: unknown) => e instanceof DigestMismatchError && e.expected === img.layer.digest && e.message.includes(img.layer.digest));
    fake.hook = (_req, res, url) => {
      if (url.pathname.endsWith(img.config.digest)) {
        res.writeHead(200);
        res.end(Buffer.concat([img.config.bytes.subarray(0, -1), Buffer.from(' ')]));
        return true;
      }
      return false;
    };
    await assert.rejects(openRegistryImage(refTo(fake, 'team/app', 'v1'), { credentials: anonymousCredentials(), retry: FAST }), DigestMismatchError);
    fake.hook = undefined;
  });

  test('a truncated blob (connection drops mid-body) errors the layer stream', async () => {
    fake.hook = (_req, res, url) => {
      if (url.pathname.endsWith(img.layer.digest)) {
        res.writeHead(200, { 'content-length': img.layer.bytes.length });
        res.write(img.layer.bytes.subarray(0, 100));
        setTimeout(() => res.socket?.destroy(), 20);
        return true;
      }
      return false;
    };
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    await assert.rejects(readAll(await client.openBlob('team/app', img.layer.digest, img.layer.bytes.length)), (e: unknown) => e instanceof VouchError && ['NETWORK_ERROR', 'SIZE_MISMATCH'].includes(e.code));
    fake.hook = undefined;
  });

  test('manifest size is bounded', async () => {
    fake.hook = (_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciManifest });
      res.end(Buffer.alloc(5 << 20, 0x20));
      return true;
    };
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    await rejectsWith(client.getManifest('team/app', 'v1'), 'LIMIT_EXCEEDED', /manifest .*team\/app:v1: .*4194304 bytes allowed/);
    fake.hook = undefined;
  });

  test('invalid manifests give one-line errors naming the field', async () => {
    const serve = (doc: unknown) => {
      fake.hook = (_req, res, url) => {
        if (!url.pathname.includes('/manifests/')) return false;
        res.writeHead(200, { 'content-type': MediaType.OciManifest });
        res.end(JSON.stringify(doc));
        return true;
      };
    };
    const open = () => openRegistryImage(refTo(fake, 'team/app', 'v1'), { credentials: anonymousCredentials(), retry: FAST });
    serve({ schemaVersion: 3 });
    await rejectsWith(open(), 'INVALID_MANIFEST', /schemaVersion: expected 2, got the number 3/);
    serve({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: 'sha256:zz', size: 1 }, layers: [] });
    await rejectsWith(open(), 'INVALID_MANIFEST', /config\.digest/);
    serve({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: img.config.digest, size: 1 }, layers: {} });
    await rejectsWith(open(), 'INVALID_MANIFEST', /layers: expected an array/);
    const chart = { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: img.layer.digest, size: img.layer.bytes.length };
    serve({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: img.config.digest, size: 1 }, layers: [chart] });
    await rejectsWith(open(), 'UNSUPPORTED_MEDIA_TYPE', /not a container image/);
    serve({ schemaVersion: 1, name: 'x' });
    await rejectsWith(open(), 'UNSUPPORTED_MEDIA_TYPE', /schema 1/);
    fake.hook = undefined;
  });

  test('a generic Content-Type leaves the document to say what it is', async () => {
    const doc = JSON.parse(img.manifest.bytes.toString('utf8')) as Record<string, unknown>;
    delete doc.mediaType;
    const bare = blob(JSON.stringify(doc));
    for (const type of ['application/json', 'text/plain', '']) {
      fake.manifests.set('team/bare:v1', { body: bare.bytes, type });
      const image = await openRegistryImage(refTo(fake, 'team/bare', 'v1'), { credentials: anonymousCredentials(), retry: FAST });
      assert.equal(image.digest, bare.digest, type);
      assert.equal(image.mediaType, MediaType.OciManifest, type);
    }
    fake.manifests.set('team/bare:v1', { body: img.manifest.bytes, type: MediaType.OciIndex });
    await rejectsWith(openRegistryImage(refTo(fake, 'team/bare', 'v1'), { credentials: anonymousCredentials(), retry: FAST }), 'INVALID_MANIFEST', /mediaType: document says .* but it was described as/);
  });

  test('index: host platform by default, --platform selection, attestations skipped', async () => {
    const amd = makeImage('amd64');
    const arm = makeImage('arm64', 'v8');
    push(fake, 'multi/app', 'x-amd', amd);
    push(fake, 'multi/app', 'x-arm', arm);
    const attestation = blob('{}');
    const index = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          // BuildKit's attestation manifest: unknown/unknown and the reference annotations (skipped; any other entry is a platform).
          { mediaType: MediaType.OciManifest, digest: attestation.digest, size: 2, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd.manifest.digest } },
          { mediaType: MediaType.OciManifest, digest: amd.manifest.digest, size: amd.manifest.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: MediaType.OciManifest, digest: arm.manifest.digest, size: arm.manifest.bytes.length, platform: { os: 'linux', architecture: 'arm64' } },
        ],
      }),
    );
    fake.manifests.set('multi/app:latest', { body: index.bytes, type: MediaType.OciIndex });
    const opts = { credentials: anonymousCredentials(), retry: FAST };
    const a = await openRegistryImage(refTo(fake, 'multi/app', 'latest'), { ...opts, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    assert.equal(a.digest, arm.manifest.digest);
    assert.equal(a.index?.digest, index.digest);
    assert.equal(a.index?.descriptor.digest, arm.manifest.digest);
    assert.deepEqual(a.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    const b = await openRegistryImage(refTo(fake, 'multi/app', 'latest'), { ...opts, platform: parsePlatform('linux/amd64') });
    assert.equal(b.digest, amd.manifest.digest);
    await rejectsWith(openRegistryImage(refTo(fake, 'multi/app', 'latest'), { ...opts, platform: parsePlatform('linux/s390x') }), 'PLATFORM_NOT_FOUND', /no manifest for platform linux\/s390x \(available: linux\/amd64, linux\/arm64\)$/);
    const host = await openRegistryImage(refTo(fake, 'multi/app', 'latest'), opts);
    if (process.arch === 'x64') assert.equal(host.digest, amd.manifest.digest);
    if (process.arch === 'arm64') assert.equal(host.digest, arm.manifest.digest);
  });

  test('tags list with Link pagination; referrers: 404 → undefined, index otherwise', async () => {
    const all = ['a', 'b', 'c', 'd', 'e'];
    fake.hook = (_req, res, url) => {
      if (url.pathname === '/v2/team/app/tags/list') {
        const n = Number(url.searchParams.get('n') ?? 100);
        const last = url.searchParams.get('last');
        const start = last ? all.indexOf(last) + 1 : 0;
        const page = all.slice(start, start + n);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (start + n < all.length) headers['link'] = `</v2/team/app/tags/list?n=${n}&last=${page.at(-1)}>; rel="next"`;
        res.writeHead(200, headers);
        res.end(JSON.stringify({ name: 'team/app', tags: page }));
        return true;
      }
      if (url.pathname.startsWith('/v2/team/app/referrers/')) {
        if (url.pathname.endsWith(img.manifest.digest)) {
          res.writeHead(200, { 'content-type': MediaType.OciIndex });
          res.end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [
            { mediaType: MediaType.OciManifest, digest: img.config.digest, size: 10, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
            { mediaType: MediaType.OciManifest, digest: img.layer.digest, size: 10, artifactType: 'application/spdx+json' },
          ] }));
          return true;
        }
        res.writeHead(404);
        res.end('404 page not found');
        return true;
      }
      return false;
    };
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials(), retry: FAST });
    assert.deepEqual(await client.listTags('team/app', { pageSize: 2 }), all);
    assert.deepEqual(await client.listTags('team/app'), all);
    assert.equal(await client.getReferrers('team/app', img.config.digest), undefined);
    const refs = await client.getReferrers('team/app', img.manifest.digest, { artifactType: 'application/spdx+json' });
    assert.deepEqual(refs?.manifests.map((d) => d.digest), [img.layer.digest], 'filtered client-side when the registry did not');
    const head = await client.headManifest('team/app', 'v1');
    assert.equal(head.digest, img.manifest.digest);
    fake.hook = undefined;
  });

  test('plain HTTP is refused for a non-loopback registry (it is reached over TLS)', () => {
    assert.equal(new RegistryClient('registry.example.com:5000').baseUrl.protocol, 'https:');
    assert.equal(new RegistryClient('registry.example.com:5000', { insecureRegistries: ['registry.example.com:5000'] }).baseUrl.protocol, 'http:');
    assert.equal(new RegistryClient('docker.io').baseUrl.host, 'registry-1.docker.io');
  });

  test('malformed repository or tag never reaches the URL', async () => {
    const client = new RegistryClient(fake.host, { credentials: anonymousCredentials() });
    await rejectsWith(client.getManifest('../etc', 'v1'), 'INVALID_REFERENCE', /invalid repository name/);
    await rejectsWith(client.getManifest('a/b', 'v1/../../x'), 'INVALID_REFERENCE', /invalid tag or digest/);
  });
});

describe('retry helpers', () => {
  test('Retry-After forms and backoff bounds', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())! > 3000, true);
    assert.equal(parseRetryAfter('soon'), undefined);
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let i = 0; i < 10; i++) {
      const d = backoffDelay(i, p);
      const ceiling = Math.min(1000, 100 * 2 ** i);
      assert.ok(d >= ceiling / 2 && d <= ceiling, `${i}: ${d}`);
    }
    assert.equal(nextLink('</v2/x/tags/list?n=2&last=b>; rel="next"'), '/v2/x/tags/list?n=2&last=b');
    assert.equal(nextLink('<https://a/b>; rel="prev"'), undefined);
  });
});
