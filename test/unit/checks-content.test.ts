/**
 * Checks that need file contents (VCH-SC-…, VCH-AC-…): the scanners run inside
 * the layer pass (catalogers), their findings are cached with the walks, and
 * the checks read them as `ctx.facts`. Every check fires on the image that
 * plants its problem and passes on the clean image; the demo image gives
 * exactly its planted leftover secret; no secret value reaches the cache or
 * any output.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContentCache } from '../../src/core/cache/cache.js';
import { buildContext } from '../../src/core/checks/context.js';
import { CONTENT_CHECKS, contentFacts, parseAccounts, scanSecretFile, type ContentFacts } from '../../src/core/checks/content/index.js';
import { defaultPolicy, parsePolicy, type ResolvedPolicy } from '../../src/core/checks/policy.js';
import { runChecks } from '../../src/core/checks/run.js';
import type { CheckResult } from '../../src/core/checks/types.js';
import { DEMO_PLANTED, ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { analyzeImageFull, type AnalysisResult } from '../../src/core/layers/image-analysis.js';
import { mergeLayers } from '../../src/core/layers/filesystem.js';
import { OciLayoutWriter } from '../../src/core/oci/layout-writer.js';
import { tarBuffer, type TarEntry } from '../../src/core/oci/tar-writer.js';
import { parseReference } from '../../src/core/ref/parse.js';
import { openReference } from '../../src/core/sources/open.js';

// Secret values are built at run time (no token-shaped literal in the source).
const RSA_PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const ED_PEM = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ENC_PEM = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
const OPENSSH_PEM = `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACA${'Q'.repeat(40)}\n-----END OPENSSH PRIVATE KEY-----\n`;
const NPM_TOKEN = `npm_${'Ab3'.repeat(12)}`;
const GH_TOKEN = `ghp_${'Zx9'.repeat(12)}`;
const AWS_ID = `AKIA${'QWERTY23'.repeat(2)}`;
const AWS_SECRET = `${'s3cr3tK3y/'.repeat(4)}`;
const DB_PASS = 'Tr0ub4dor-and-3';
const PYPI_PASS = 'Pa55-for-pypi-9f8e7d';
const DOCKER_AUTH = Buffer.from('ci-bot:dckr_pat_0123456789abcdef').toString('base64');
const GIT_PASS = 'git-pass-4a5b6c7d';
const NETRC_PASS = 'netrc-pass-1q2w3e';
const LEFTOVER = `LEFTOVER${'x7Y'.repeat(10)}`;
const OVERWRITTEN = `npm_${'Ov3'.repeat(12)}`;
const HIDDEN_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const SECRET_VALUES = [NPM_TOKEN, GH_TOKEN, AWS_ID, AWS_SECRET, DB_PASS, PYPI_PASS, DOCKER_AUTH, GIT_PASS, NETRC_PASS, LEFTOVER, OVERWRITTEN];
/** The key bodies: one base64 line of each PEM. */
const keyLines = (pem: string): string[] => pem.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----'));
const SECRET_FRAGMENTS = [...SECRET_VALUES, ...[RSA_PEM, ED_PEM, ENC_PEM, HIDDEN_KEY].flatMap(keyLines)];

type E = { entry: TarEntry; data?: Buffer };
const file = (path: string, content: string, mode = 0o644): E => ({ entry: { path, type: 'file', size: Buffer.byteLength(content), mtime: 1, mode }, data: Buffer.from(content) });
const dirE = (path: string): E => ({ entry: { path, type: 'dir', mtime: 1 } });
const whiteout = (path: string): E => ({ entry: { path, type: 'whiteout', mtime: 1 } });
const opaque = (path: string): E => ({ entry: { path, type: 'opaque', mtime: 1 } });

const PASSWD_OK = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\napp:x:1000:1000::/app:/bin/sh\n';
const GROUP_OK = 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\napp:x:1000:\n';
const SHADOW_OK = 'root:*:19800:0:99999:7:::\ndaemon:!:19800::::::\nnobody:!!:19800::::::\napp:$6$salt$hashhashhash:19800:0:99999:7:::\n';

/** Looks like secrets to a naive grep but is not: certificates, references, placeholders, locked accounts. */
const CLEAN_LAYERS: E[][] = [
  [
    dirE('etc'),
    file('etc/passwd', PASSWD_OK),
    file('etc/group', GROUP_OK),
    file('etc/shadow', SHADOW_OK, 0o640),
    file('etc/ssl/certs/ca.pem', '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xlYW4gY2VydGlmaWNhdGUgZm9yIHRlc3RzMAoGCCqGSM49\n-----END CERTIFICATE-----\n'),
    file('usr/share/doc/openssl/howto.key', 'Keys start with -----BEGIN PRIVATE KEY----- followed by base64.\n'),
    file('usr/bin/passwd', '\x7fELF binary'),
  ],
  [
    file('app/.npmrc', 'registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n'),
    file('app/.env', 'NODE_ENV=production\nPORT=8080\nDATABASE_URL=postgres://app@db:5432/app\nAPI_KEY=\nSECRET_FILE=/run/secrets/api\n'),
    file('app/.env.example', 'API_TOKEN=your-token-here\nDB_PASSWORD=changeme\nDATABASE_URL=postgres://user:${DB_PASSWORD}@db/app\n'),
    file('root/.docker/config.json', JSON.stringify({ credsStore: 'desktop', auths: { 'ghcr.io': {} } })),
    file('root/.netrc', 'machine example.com login anonymous\n'),
    file('app/config/credentials', 'not under .aws: not read\n'),
  ],
];

/** Every problem once, in the final filesystem or left in a lower layer. */
const DIRTY_LAYERS: E[][] = [
  [
    dirE('etc'),
    file('etc/passwd', `${PASSWD_OK}toor:x:0:0::/root:/bin/sh\napp2:x:1000:1000::/app:/bin/sh\nguest::1001:1001::/home/guest:/bin/sh\napp:x:1002:1002::/app:/bin/sh\n`),
    file('etc/group', `${GROUP_OK}staff:x:1000:\n`),
    file('etc/shadow', `${SHADOW_OK}toor::19800:0:99999:7:::\n`, 0o640),
    file('root/.ssh/id_rsa', RSA_PEM, 0o600),
    file('etc/ssl/private/server.key', ED_PEM, 0o600),
    file('home/dev/.ssh/id_ed25519', OPENSSH_PEM, 0o600),
  ],
  [
    file('app/.npmrc', `//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n`),
    file('app/.env.production', `NODE_ENV=production\nAWS_ACCESS_KEY_ID=${AWS_ID}\nAWS_SECRET_ACCESS_KEY="${AWS_SECRET}"\nDATABASE_URL=postgres://app:${DB_PASS}@db:5432/app\nGITHUB_TOKEN=${GH_TOKEN}\n`),
    file('app/.pypirc', `[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = ci\npassword = ${PYPI_PASS}\n`),
    file('root/.aws/credentials', `[default]\naws_access_key_id = ${AWS_ID}\naws_secret_access_key = ${AWS_SECRET}\n`),
    file('root/.docker/config.json', JSON.stringify({ auths: { 'registry.example.com': { auth: DOCKER_AUTH } } }, null, 2)),
    file('root/.git-credentials', `https://ci:${GIT_PASS}@github.com\n`),
    file('root/.netrc', `machine files.example.com\n  login ci\n  password ${NETRC_PASS}\n`),
    file('opt/keys/backup.pem', ENC_PEM),
    file('build/.env', `DEPLOY_SECRET=${LEFTOVER}\n`),
    file('build/cfg/.npmrc', `//npm.example.com/:_authToken=${OVERWRITTEN}\n`),
    dirE('cache'),
    file('cache/keys/deploy.key', HIDDEN_KEY),
  ],
  [
    whiteout('build/.env'),
    file('build/cfg/.npmrc', 'registry=https://npm.example.com/\n'),
    dirE('cache'),
    opaque('cache'),
  ],
];

async function writeImage(dir: string, name: string, layers: E[][]): Promise<string> {
  const w = await OciLayoutWriter.create(join(dir, name));
  let i = 0;
  for (const l of layers) await w.addLayer(tarBuffer(l), { compression: 'gzip', createdBy: `/bin/sh -c step-${i++}` });
  await w.finish({ tags: ['v1'], created: '2024-01-01T00:00:00Z' });
  return `oci:${join(dir, name)}:v1`;
}

async function analyse(ref: string, cache: ContentCache): Promise<AnalysisResult> {
  const image = await openReference(parseReference(ref));
  try {
    return await analyzeImageFull(image, { cache });
  } finally {
    await image.close();
  }
}

function check(r: AnalysisResult, policy: ResolvedPolicy = defaultPolicy()): { facts: ContentFacts; results: CheckResult[] } {
  const merged = mergeLayers(r.walks);
  const facts = contentFacts(r.walks, r.catalogs, merged);
  const a = r.analysis;
  const ctx = buildContext({ image: { reference: a.reference, name: a.name, digest: a.digest, label: `${a.name}@${a.digest}` }, analysis: a, walks: r.walks, merged, facts, policy });
  return { facts, results: runChecks(ctx, CONTENT_CHECKS) };
}

const fails = (results: CheckResult[], id: string): CheckResult[] => results.filter((r) => r.id === id && r.status === 'fail');

/** Every file under a directory, concatenated. */
async function readTree(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) parts.push(await readFile(join(e.parentPath, e.name), 'utf8'));
  }
  return parts.join('\n');
}

function assertNoSecret(haystack: string, values: readonly string[], where: string): void {
  for (const v of values) assert.ok(!haystack.includes(v), `${where} contains a secret value (${v.slice(0, 4)}…)`);
}

describe('content checks on built images', () => {
  let dir: string;
  let cache: ContentCache;
  let clean: ReturnType<typeof check>;
  let dirty: ReturnType<typeof check>;
  let dirtyResult: AnalysisResult;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-content-'));
    cache = new ContentCache(join(dir, 'cache'));
    clean = check(await analyse(await writeImage(dir, 'clean', CLEAN_LAYERS), cache));
    dirtyResult = await analyse(await writeImage(dir, 'dirty', DIRTY_LAYERS), cache);
    dirty = check(dirtyResult);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the clean image fires no content check', () => {
    assert.deepEqual(
      clean.results.filter((r) => r.status !== 'pass').map((r) => `${r.id} ${r.message}`),
      [],
    );
    assert.deepEqual(clean.results.map((r) => r.id), CONTENT_CHECKS.map((c) => c.id));
    assert.deepEqual(clean.facts.secrets, []);
    assert.deepEqual(clean.facts.passwd.map((p) => p.name), ['root', 'daemon', 'nobody', 'app']);
  });

  it('VCH-SC-001: private keys in the final filesystem (critical), with layer digest and history line', () => {
    const got = fails(dirty.results, 'VCH-SC-001');
    assert.deepEqual(got.map((r) => r.subject.path), ['/etc/ssl/private/server.key', '/home/dev/.ssh/id_ed25519', '/root/.ssh/id_rsa', '/opt/keys/backup.pem']);
    for (const r of got) assert.equal(r.severity, 'critical');
    const rsa = got.find((r) => r.subject.path === '/root/.ssh/id_rsa')!;
    assert.equal(rsa.subject.layer?.digest, dirtyResult.analysis.layers[0]!.digest);
    assert.equal(rsa.subject.layer?.createdBy, '/bin/sh -c step-0');
    assert.match(rsa.message, /pem-private-key \(line 1\)/);
    assert.match(got.find((r) => r.subject.path === '/opt/keys/backup.pem')!.message, /pem-private-key \(line 1, encrypted\)/);
    assert.match(got.find((r) => r.subject.path === '/home/dev/.ssh/id_ed25519')!.message, /openssh-private-key \(line 1\)/);
    assert.deepEqual(fails(clean.results, 'VCH-SC-001'), []);
  });

  it('VCH-SC-002: tokens and passwords in credential files of the final filesystem', () => {
    const got = fails(dirty.results, 'VCH-SC-002');
    const markers = new Map(dirty.facts.secrets.filter((s) => s.final).map((s) => [s.path, s.markers]));
    assert.deepEqual(got.map((r) => r.subject.path), ['/app/.env.production', '/app/.npmrc', '/app/.pypirc', '/root/.aws/credentials', '/root/.docker/config.json', '/root/.git-credentials', '/root/.netrc']);
    assert.deepEqual(markers.get('/app/.env.production'), ['aws-access-key-id', 'aws-secret-access-key', 'github-token', 'password-in-url']);
    assert.deepEqual(markers.get('/app/.npmrc'), ['npm-token']);
    assert.deepEqual(markers.get('/app/.pypirc'), ['pypi-password']);
    assert.deepEqual(markers.get('/root/.aws/credentials'), ['aws-access-key-id', 'aws-secret-access-key']);
    assert.deepEqual(markers.get('/root/.docker/config.json'), ['docker-auth']);
    assert.deepEqual(markers.get('/root/.git-credentials'), ['git-credential']);
    assert.deepEqual(markers.get('/root/.netrc'), ['netrc-password']);
    for (const r of got) assert.equal(r.severity, 'critical');
    assert.match(got[0]!.message, /aws-secret-access-key \(AWS_SECRET_ACCESS_KEY, line 3\)/);
    assert.deepEqual(fails(clean.results, 'VCH-SC-002'), []);
  });

  it('VCH-SC-003: secrets deleted, overwritten or hidden in a later layer, named by the layer that still has them', () => {
    const got = fails(dirty.results, 'VCH-SC-003');
    const l = dirtyResult.analysis.layers;
    assert.deepEqual(
      got.map((r) => [r.subject.path, r.subject.layer?.index, r.subject.layer?.digest, r.subject.layer?.createdBy, r.severity]),
      [
        ['/build/.env', 1, l[1]!.digest, '/bin/sh -c step-1', 'high'],
        ['/build/cfg/.npmrc', 1, l[1]!.digest, '/bin/sh -c step-1', 'high'],
        ['/cache/keys/deploy.key', 1, l[1]!.digest, '/bin/sh -c step-1', 'high'],
      ],
    );
    assert.match(got[0]!.message, /secret-assignment \(DEPLOY_SECRET, line 1\); it was deleted in layer 2/);
    assert.match(got[1]!.message, /npm-token .*overwritten in layer 2/);
    assert.match(got[2]!.message, /pem-private-key .*hidden in layer 2/);
    assert.deepEqual(fails(clean.results, 'VCH-SC-003'), []);
  });

  it('VCH-AC-001: empty passwords in /etc/shadow and /etc/passwd, not locked accounts', () => {
    const got = fails(dirty.results, 'VCH-AC-001');
    assert.deepEqual(got.map((r) => [r.subject.path, r.message]), [
      ['/etc/shadow', 'account toor has an empty password in /etc/shadow (line 5)'],
      ['/etc/passwd', 'account guest (uid 1001) has an empty password field in /etc/passwd (line 7): no password is asked'],
    ]);
    assert.equal(got[0]!.severity, 'high');
    assert.deepEqual(fails(clean.results, 'VCH-AC-001'), []);
  });

  it('VCH-AC-002/003/004/005: duplicate uids, gids and names, extra uid 0', () => {
    assert.deepEqual(fails(dirty.results, 'VCH-AC-002').map((r) => [r.severity, r.message]), [['medium', 'uid 1000 is shared by app, app2 in /etc/passwd (lines 4, 6)']]);
    assert.deepEqual(fails(dirty.results, 'VCH-AC-003').map((r) => [r.severity, r.message]), [['medium', 'gid 1000 is shared by app, staff in /etc/group (lines 4, 5)']]);
    assert.deepEqual(fails(dirty.results, 'VCH-AC-004').map((r) => r.message), ['user app is listed 2 times in /etc/passwd (lines 4, 8)']);
    assert.deepEqual(fails(dirty.results, 'VCH-AC-005').map((r) => [r.severity, r.subject.path, r.message]), [['high', '/etc/passwd', 'account toor has uid 0 (root) in /etc/passwd (line 5)']]);
    for (const id of ['VCH-AC-002', 'VCH-AC-003', 'VCH-AC-004', 'VCH-AC-005']) {
      assert.deepEqual(fails(clean.results, id), [], id);
      assert.equal(fails(dirty.results, id)[0]!.subject.layer?.digest, dirtyResult.analysis.layers[0]!.digest);
    }
  });

  it('allow.paths skips secret paths', () => {
    const policy = parsePolicy('version: 1\nallow:\n  paths: ["/root/**", "/build"]\n', 'test.yaml');
    const { results } = check(dirtyResult, policy);
    assert.ok(!fails(results, 'VCH-SC-001').some((r) => r.subject.path!.startsWith('/root/')));
    assert.ok(!fails(results, 'VCH-SC-002').some((r) => r.subject.path!.startsWith('/root/')));
    assert.deepEqual(fails(results, 'VCH-SC-003').map((r) => r.subject.path), ['/cache/keys/deploy.key']);
  });

  it('no secret value reaches the cache, the facts or the results; a second analysis reads the findings from the cache', async () => {
    assert.ok(dirty.facts.secrets.length >= 12);
    assertNoSecret(await readTree(cache.dir), SECRET_FRAGMENTS, 'the cache');
    assertNoSecret(JSON.stringify(dirty.facts), SECRET_FRAGMENTS, 'the facts');
    assertNoSecret(JSON.stringify(dirty.results), SECRET_FRAGMENTS, 'the results');
    // The cache does hold the findings (markers and redacted hints).
    const tree = await readTree(cache.dir);
    assert.match(tree, /"npm-token"/);
    assert.match(tree, /"aws-secret-access-key"/);
    const again = check(await analyse(await writeImage(dir, 'dirty2', DIRTY_LAYERS), cache));
    assert.deepEqual(again.facts, dirty.facts);
  });

  it('without content facts every content check passes as not applicable', () => {
    const a = dirtyResult.analysis;
    const ctx = buildContext({ image: { reference: a.reference, name: a.name, digest: a.digest, label: a.name }, analysis: a, walks: dirtyResult.walks, policy: defaultPolicy() });
    const results = runChecks(ctx, CONTENT_CHECKS);
    assert.ok(results.every((r) => r.status === 'pass' && /not applicable/.test(r.message)));
  });
});

describe('the demo image', () => {
  it('gives exactly its planted leftover secret and nothing else, and no planted value in cache or output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-content-demo-'));
    try {
      const demo = await ensureDemoImage(dir);
      const cache = new ContentCache(join(dir, 'cache'));
      const r = await analyse(demo.reference, cache);
      const { facts, results } = check(r);
      const failed = results.filter((x) => x.status !== 'pass');
      const planted = DEMO_PLANTED.leftoverSecrets;
      assert.deepEqual(
        failed.map((x) => [x.id, x.subject.path, x.subject.layer?.index, x.subject.layer?.digest]),
        planted.map((p) => ['VCH-SC-003', p.path, p.addedIn, r.analysis.layers[p.addedIn]!.digest]),
      );
      assert.equal(failed[0]!.subject.layer?.createdBy, DEMO_PLANTED.layers[planted[0]!.addedIn]!.createdBy);
      assert.deepEqual(
        facts.secrets.map((s) => ({ path: s.path, addedIn: s.layer, deletedIn: s.removed?.layer, kinds: s.markers })),
        planted.map((p) => ({ path: p.path, addedIn: p.addedIn, deletedIn: p.deletedIn, kinds: [...p.kinds].sort() })),
      );
      assert.equal(facts.secrets[0]!.removed?.how, 'deleted');
      assert.deepEqual(facts.passwd.map((u) => ({ name: u.name, uid: u.uid })).sort((a, b) => a.uid - b.uid), [...DEMO_PLANTED.users].sort((a, b) => a.uid - b.uid));
      const markers = planted.flatMap((p) => p.markers).concat(['hunter2-demo']);
      assertNoSecret(await readTree(cache.dir), markers, 'the cache');
      assertNoSecret(JSON.stringify({ facts, results }), markers, 'the output');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('scanners on single files', () => {
  const scan = (path: string, content: string | Buffer): string[] => scanSecretFile(path, Buffer.isBuffer(content) ? content : Buffer.from(content))?.markers ?? [];

  it('private keys: PEM in any file it reads, PGP, PuTTY; not certificates, public keys or headers without a body', () => {
    assert.deepEqual(scan('/k/tls.key', RSA_PEM), ['pem-private-key']);
    assert.deepEqual(scan('/app/.env', `KEY="${ED_PEM.replace(/\n/g, '\\n')}"\n`), ['pem-private-key']);
    assert.deepEqual(scan('/k/x.ppk', 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: x\nPublic-Lines: 2\n'), ['putty-private-key']);
    assert.deepEqual(scan('/k/sec.pem', `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${'lQVYBGR'.repeat(12)}\n-----END PGP PRIVATE KEY BLOCK-----\n`), ['pgp-private-key']);
    assert.deepEqual(scan('/k/cert.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'), []);
    assert.deepEqual(scan('/k/pub.pem', generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()), []);
    assert.deepEqual(scan('/root/.ssh/id_rsa', '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n'), []);
    assert.deepEqual(scan('/k/bin.key', Buffer.from([0x30, 0x82, 0x01, 0x00, 0, 0, 0])), []);
  });

  it('dotenv, npmrc, pypirc, aws, docker, git, netrc: real values count, references and placeholders do not', () => {
    assert.deepEqual(scan('/a/.env', 'PASSWORD=${DB_PASSWORD}\nTOKEN=\nSECRET_FILE=/run/secrets/x\nDEBUG=true\nKEY_LENGTH=32\n'), []);
    assert.deepEqual(scan('/a/.env', `export API_TOKEN='${LEFTOVER}' # prod\n`), ['secret-assignment']);
    assert.deepEqual(scan('/a/prod.env', `DB=mysql://root:${DB_PASS}@db/x\n`), ['password-in-url']);
    assert.deepEqual(scan('/a/.env.example', 'API_TOKEN=your-token-here\nSLACK=xoxb-placeholder\n'), []);
    assert.deepEqual(scan('/a/.env.sample', `AWS_ACCESS_KEY_ID=${AWS_ID}\n`), ['aws-access-key-id']);
    assert.deepEqual(scan('/a/.npmrc', `_auth=${DOCKER_AUTH}\n//r/:_password=${DOCKER_AUTH}\nalways-auth=true\n`), ['npm-auth', 'npm-password']);
    assert.deepEqual(scan('/a/.npmrc', '//r/:_authToken=${TOKEN}\n'), []);
    assert.deepEqual(scan('/a/.pypirc', '[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc' + 'A'.repeat(60) + '\n'), ['pypi-token']);
    assert.deepEqual(scan('/a/.pypirc', '[pypi]\nusername = me\n'), []);
    assert.deepEqual(scan('/h/.aws/credentials', '[default]\nregion = eu-west-1\n'), []);
    assert.deepEqual(scan('/h/.docker/config.json', JSON.stringify({ auths: { x: { identitytoken: 'tok-abcdef' } } })), ['docker-identity-token']);
    assert.deepEqual(scan('/h/.docker/config.json', '{not json'), []);
    assert.deepEqual(scan('/h/.dockercfg', JSON.stringify({ 'https://index.docker.io/v1/': { auth: DOCKER_AUTH, email: 'x' } })), ['docker-auth']);
    assert.deepEqual(scan('/h/.git-credentials', 'https://github.com\n'), []);
    assert.deepEqual(scan('/h/.netrc', `machine a login b password ${NETRC_PASS}\n`), ['netrc-password']);
    assert.deepEqual(scan('/app/config.json', JSON.stringify({ auths: { x: { auth: DOCKER_AUTH } } })), [], 'not a docker config path');
  });

  it('details carry names, lines and redacted hints only', () => {
    const f = scanSecretFile('/a/.env', Buffer.from(`A=1\nAWS_SECRET_ACCESS_KEY=${AWS_SECRET}\nPASSWORD=short-pw\n`))!;
    assert.deepEqual(f.details, [
      { marker: 'aws-secret-access-key', line: 2, name: 'AWS_SECRET_ACCESS_KEY', hint: `s3cr…(${AWS_SECRET.length} chars)` },
      { marker: 'secret-assignment', line: 3, name: 'PASSWORD', hint: '(8 chars)' },
    ]);
  });

  it('account files: empty, locked and set passwords; malformed lines counted', () => {
    const sh = parseAccounts('shadow', 'root:*:1::::::\na::1::::::\nb:!:1::::::\nc:!!::::::\nd:$y$j9T$abc:1::::::\ne:NP:1::::::\n# c\n\nbad\n');
    assert.deepEqual(sh.shadow!.map((e) => `${e.name}:${e.state}`), ['root:locked', 'a:empty', 'b:locked', 'c:locked', 'd:set', 'e:locked']);
    assert.equal(sh.malformed, 1);
    assert.ok(!JSON.stringify(sh).includes('$y$'));
    const pw = parseAccounts('passwd', 'root:x:0:0:root:/root:/bin/sh\n+@nis::::::\nx:x:abc:0::/:/bin/sh\nshort:x:1\n');
    assert.deepEqual(pw.passwd, [{ name: 'root', uid: 0, gid: 0, line: 1 }]);
    assert.equal(pw.malformed, 2);
  });
});
