/**
 * The registry client's push side against small hostile servers: what the
 * real registry (test/integration/approval-attach.test.ts) never does.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { DigestMismatchError, VouchError } from '../../src/core/errors.js';
import { digestOf } from '../../src/core/oci/digest.js';
import { MediaType } from '../../src/core/oci/mediatypes.js';
import { RegistryClient } from '../../src/core/sources/registry/client.js';
import { staticCredentials } from '../../src/core/sources/registry/credentials.js';

interface Seen {
  method: string;
  path: string;
  auth: string | undefined;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<{ host: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, auth: req.headers.authorization });
      handler(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const FAST = { retry: { attempts: 1 } };

test('push: an upload Location on another host is refused, and our Authorization never goes there', async () => {
  const elsewhere = await serve((_req, res) => res.writeHead(201).end());
  const reg = await serve((req, res) => {
    if (!req.headers.authorization) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { location: `http://${elsewhere.host}/upload/1` }).end();
    res.writeHead(500).end();
  });
  try {
    const client = new RegistryClient(reg.host, { credentials: staticCredentials({ username: 'u', password: 'p' }), ...FAST });
    await assert.rejects(client.pushBlob('acme/app', Buffer.from('blob')), (e: unknown) => e instanceof VouchError && e.code === 'REGISTRY_ERROR' && /another host/.test(e.message));
    assert.equal(elsewhere.seen.length, 0);
  } finally {
    await reg.close();
    await elsewhere.close();
  }
});

test('push: bearer auth asks for a pull,push token; monolithic upload carries the digest; manifest PUT checks Docker-Content-Digest', async () => {
  const scopes: string[] = [];
  const uploads: Array<{ path: string; body: Buffer }> = [];
  let lie = false;
  const reg = await serve((req, res, body) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      scopes.push(url.searchParams.get('scope') ?? '');
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok' }));
    }
    if (req.headers.authorization !== 'Bearer tok') {
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="reg"` }).end();
    }
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { location: '/v2/acme/app/blobs/uploads/abc?state=1' }).end();
    if (req.method === 'PUT' && url.pathname.startsWith('/v2/acme/app/blobs/uploads/')) {
      uploads.push({ path: req.url!, body });
      return void res.writeHead(201).end();
    }
    if (req.method === 'PUT' && url.pathname.startsWith('/v2/acme/app/manifests/')) {
      return void res.writeHead(201, { 'docker-content-digest': lie ? digestOf(Buffer.from('something else')) : digestOf(body) }).end();
    }
    res.writeHead(500).end();
  });
  try {
    const client = new RegistryClient(reg.host, { credentials: staticCredentials({ username: 'u', password: 'p' }), ...FAST });
    const bytes = Buffer.from('approval bundle bytes');
    const pushed = await client.pushBlob('acme/app', bytes);
    assert.equal(pushed.digest, digestOf(bytes));
    assert.deepEqual(scopes, ['repository:acme/app:pull,push']);
    assert.equal(uploads.length, 1);
    assert.equal(new URL(uploads[0]!.path, 'http://x').searchParams.get('digest'), digestOf(bytes));
    assert.equal(new URL(uploads[0]!.path, 'http://x').searchParams.get('state'), '1');
    assert.deepEqual(uploads[0]!.body, bytes);
    const manifest = Buffer.from('{"schemaVersion":2}');
    assert.equal((await client.putManifest('acme/app', 'v1', manifest, MediaType.OciManifest)).digest, digestOf(manifest));
    lie = true;
    await assert.rejects(client.putManifest('acme/app', 'v1', manifest, MediaType.OciManifest), DigestMismatchError);
    await assert.rejects(client.putManifest('acme/app', digestOf(Buffer.from('other')), manifest, MediaType.OciManifest), DigestMismatchError);
  } finally {
    await reg.close();
  }
});
