import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseWwwAuthenticate, pickChallenge, TokenCache, basicAuthorization } from '../../src/core/sources/registry/auth.js';
import {
  configKeyHost,
  decodeAuthField,
  dockerConfigCredentials,
  dockerConfigPath,
  runCredentialHelper,
} from '../../src/core/sources/registry/credentials.js';
import { allowsPlainHttp, isLoopbackHost, registryBaseUrl, splitHostPort } from '../../src/core/sources/registry/endpoint.js';

describe('WWW-Authenticate parsing', () => {
  test('docker hub style Bearer with a scope containing commas', () => {
    const c = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push"');
    assert.equal(c.length, 1);
    assert.equal(c[0]!.scheme, 'bearer');
    assert.deepEqual(c[0]!.params, { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull,push' });
  });

  test('spaces around = and commas, upper-case names, escaped quotes', () => {
    const c = parseWwwAuthenticate('BEARER  Realm = "https://r/t" ,  Service="a \\"b\\" c", error="insufficient_scope"');
    assert.equal(c[0]!.scheme, 'bearer');
    assert.equal(c[0]!.params['realm'], 'https://r/t');
    assert.equal(c[0]!.params['service'], 'a "b" c');
    assert.equal(c[0]!.params['error'], 'insufficient_scope');
  });

  test('several challenges in one header, Bearer preferred over Basic', () => {
    const c = parseWwwAuthenticate('Basic realm="Registry Realm", Bearer realm="https://x/token",service="x"');
    assert.deepEqual(c.map((x) => x.scheme), ['basic', 'bearer']);
    assert.equal(c[0]!.params['realm'], 'Registry Realm');
    assert.equal(pickChallenge(c)!.scheme, 'bearer');
  });

  test('Basic alone, unquoted values, token68 and empty input', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm=registry'), [{ scheme: 'basic', params: { realm: 'registry' } }]);
    const n = parseWwwAuthenticate('Negotiate abc/def+g==, Basic realm="r"');
    assert.equal(n[0]!.token68, 'abc/def+g==');
    assert.equal(n[1]!.scheme, 'basic');
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.equal(pickChallenge(parseWwwAuthenticate('Bearer service="no realm"')), undefined);
  });

  test('unterminated quote and junk never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = parseWwwAuthenticate(s);
        assert.ok(Array.isArray(r));
      }),
      { numRuns: 2000 },
    );
    assert.equal(parseWwwAuthenticate('Bearer realm="https://x')[0]!.params['realm'], 'https://x');
  });

  test('basic authorization header', () => {
    assert.equal(basicAuthorization('u', 'p:w'), `Basic ${Buffer.from('u:p:w').toString('base64')}`);
  });
});

describe('token cache', () => {
  test('expires, is keyed by realm/service/scopes', () => {
    const cache = new TokenCache();
    const k = TokenCache.key('https://r', 's', ['repository:a:pull']);
    assert.notEqual(k, TokenCache.key('https://r', 's', ['repository:b:pull']));
    assert.equal(TokenCache.key('r', 's', ['a', 'b']), TokenCache.key('r', 's', ['b', 'a']));
    cache.set(k, { token: 't', expiresAt: 1000 });
    assert.equal(cache.get(k, 999), 't');
    assert.equal(cache.get(k, 1000), undefined);
    assert.equal(cache.size, 0);
  });
});

describe('registry endpoints', () => {
  test('docker.io goes to registry-1.docker.io over TLS', () => {
    assert.equal(registryBaseUrl('docker.io').href, 'https://registry-1.docker.io/');
    assert.equal(registryBaseUrl('index.docker.io').href, 'https://registry-1.docker.io/');
    assert.equal(registryBaseUrl('ghcr.io').href, 'https://ghcr.io/');
  });
  test('plain HTTP only for loopback or listed insecure registries', () => {
    for (const h of ['localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'localhost']) assert.equal(registryBaseUrl(h).protocol, 'http:', h);
    for (const h of ['128.0.0.1:5000', 'localhost.example.com', '10.0.0.1:5000', '[::2]:5000']) assert.equal(registryBaseUrl(h).protocol, 'https:', h);
    assert.equal(registryBaseUrl('reg.lan:5000', ['reg.lan:5000']).protocol, 'http:');
    assert.equal(registryBaseUrl('reg.lan:5000', ['reg.lan']).protocol, 'http:');
    assert.equal(registryBaseUrl('reg.lan:5000', ['http://reg.lan:5000/']).protocol, 'http:');
    assert.equal(registryBaseUrl('reg.lan:5001', ['reg.lan:5000']).protocol, 'https:');
    assert.equal(allowsPlainHttp('evil.lan', ['reg.lan']), false);
  });
  test('host:port splitting and loopback', () => {
    assert.deepEqual(splitHostPort('[::1]:5000'), { host: '::1', port: '5000' });
    assert.deepEqual(splitHostPort('::1'), { host: '::1' });
    assert.deepEqual(splitHostPort('a:1'), { host: 'a', port: '1' });
    assert.ok(isLoopbackHost('[::1]'));
    assert.ok(!isLoopbackHost('127.example.com'));
  });
});

describe('docker config credentials', () => {
  let dir: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  const b64 = (s: string): string => Buffer.from(s).toString('base64');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-creds-'));
    bin = join(dir, 'bin');
    await mkdir(bin);
    // A fake helper speaking the docker-credential protocol: server on stdin, JSON on stdout.
    const helper = `#!/bin/sh
read server
printf '%s\\n' "$server" >> "${join(dir, 'helper.log')}"
case "$server" in
  reg.example.com) echo '{"ServerURL":"reg.example.com","Username":"helper-user","Secret":"helper-secret"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hub-user","Secret":"hub-secret"}' ;;
  tok.example.com) echo '{"ServerURL":"tok.example.com","Username":"<token>","Secret":"refresh-me"}' ;;
  broken.example.com) echo 'something bad happened' >&2; exit 3 ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac
`;
    await writeFile(join(bin, 'docker-credential-test'), helper);
    await chmod(join(bin, 'docker-credential-test'), 0o755);
    env = { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: join(dir, 'home') };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function configDir(name: string, config: unknown): Promise<string> {
    const d = join(dir, name);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    return d;
  }

  test('auths: base64 auth, username/password, identitytoken, URL keys', async () => {
    const d = await configDir('auths', {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'http://127.0.0.1:5000': { username: 'u', password: 'p' },
        'ghcr.io': { identitytoken: 'idtok' },
      },
    });
    const get = dockerConfigCredentials({ configDir: d, env });
    const hub = await get('docker.io');
    assert.deepEqual(hub.credentials, { username: 'hubuser', password: 'hub:pass' });
    assert.match(hub.source, /from .*config\.json \(auths\)/);
    assert.ok(!hub.source.includes('hub:pass'), 'the source never shows a secret');
    assert.deepEqual((await get('127.0.0.1:5000')).credentials, { username: 'u', password: 'p' });
    assert.deepEqual((await get('ghcr.io')).credentials, { identityToken: 'idtok' });
    const none = await get('quay.io');
    assert.equal(none.credentials, undefined);
    assert.match(none.source, /no credentials for quay\.io in /);
  });

  test('docker.io key variants all match Docker Hub', async () => {
    for (const key of ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'https://index.docker.io/v1', 'registry-1.docker.io']) {
      const d = await configDir(`hub-${b64(key).replace(/[=/+]/g, '')}`, { auths: { [key]: { auth: b64('a:b') } } });
      const r = await dockerConfigCredentials({ configDir: d, env })('docker.io');
      assert.deepEqual(r.credentials, { username: 'a', password: 'b' }, key);
    }
    assert.equal(configKeyHost('https://ghcr.io/v2/'), 'ghcr.io');
  });

  test('credHelpers[host] via docker-credential-<name> on PATH', async () => {
    const d = await configDir('helpers', { credHelpers: { 'reg.example.com': 'test', 'tok.example.com': 'test', 'other.example.com': 'test' } });
    const get = dockerConfigCredentials({ configDir: d, env });
    const r = await get('reg.example.com');
    assert.deepEqual(r.credentials, { username: 'helper-user', password: 'helper-secret' });
    assert.match(r.source, /docker-credential-test \(credHelpers in /);
    assert.ok(!r.source.includes('helper-secret'));
    assert.deepEqual((await get('tok.example.com')).credentials, { identityToken: 'refresh-me' }, '"<token>" user means identity token');
    const nf = await get('other.example.com');
    assert.equal(nf.credentials, undefined, 'credentials not found is not an error');
    assert.equal(nf.problem, undefined);
    const log = await readFile(join(dir, 'helper.log'), 'utf8');
    assert.ok(log.includes('reg.example.com\n'));
  });

  test('credsStore for Docker Hub asks for https://index.docker.io/v1/; auths with a secret win', async () => {
    const d = await configDir('store', { credsStore: 'test', auths: { 'https://index.docker.io/v1/': {}, 'file.example.com': { auth: b64('f:g') } } });
    const get = dockerConfigCredentials({ configDir: d, env });
    assert.deepEqual((await get('docker.io')).credentials, { username: 'hub-user', password: 'hub-secret' });
    assert.deepEqual((await get('file.example.com')).credentials, { username: 'f', password: 'g' });
  });

  test('a missing or failing helper is a problem, reported, not a crash', async () => {
    const d = await configDir('missing', { credsStore: 'nope-not-installed', credHelpers: { 'broken.example.com': 'test' } });
    const get = dockerConfigCredentials({ configDir: d, env });
    const r = await get('somewhere.example.com');
    assert.equal(r.credentials, undefined);
    assert.match(r.problem!, /docker-credential-nope-not-installed not found on PATH/);
    const b = await get('broken.example.com');
    assert.match(b.problem!, /docker-credential-test get failed \(exit 3\): something bad happened/);
    await assert.rejects(runCredentialHelper('../evil', 'x', { env }), /invalid credential helper name/);
  });

  test('DOCKER_CONFIG, missing file, invalid JSON, malformed auth', async () => {
    const d = await configDir('envdir', { auths: { 'x.io': { auth: b64('e:f') } } });
    assert.equal(dockerConfigPath({ env: { DOCKER_CONFIG: d } }), join(d, 'config.json'));
    assert.equal(dockerConfigPath({ env: { HOME: '/home/z' } }), '/home/z/.docker/config.json');
    assert.deepEqual((await dockerConfigCredentials({ env: { ...env, DOCKER_CONFIG: d } })('x.io')).credentials, { username: 'e', password: 'f' });
    const missing = await dockerConfigCredentials({ env })('x.io');
    assert.match(missing.source, /~\/\.docker\/config\.json does not exist/);
    const bad = await dockerConfigCredentials({ configDir: await configDir('badjson', '{nope'), env })('x.io');
    assert.match(bad.problem!, /is not valid JSON/);
    const malformed = await dockerConfigCredentials({ configDir: await configDir('badauth', { auths: { 'x.io': { auth: b64('nocolon') } } }), env })('x.io');
    assert.match(malformed.problem!, /auths\["x\.io"\]\.auth .* is not base64 "user:password"/);
    assert.deepEqual(decodeAuthField(b64('a:')), { username: 'a', password: '' });
    assert.equal(decodeAuthField(b64(':p')), undefined);
  });
});
