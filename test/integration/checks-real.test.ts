/**
 * The real-data check: `vouch check` on OCI layouts written by the test
 * (layout-writer, real tars, real cosign-style key signatures and in-toto
 * attestations in the layout) and on the demo image. The failing results must
 * be exactly the planted problems: no more, no fewer. Also: JSON shape, SARIF
 * against the official schema, exit codes, exceptions, and no layer read on
 * a second run.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const work = mkdtempSync(join(tmpdir(), 'vouch-checks-real-'));
process.env.VOUCH_CACHE_DIR = join(work, 'cache');
after(() => rmSync(work, { recursive: true, force: true }));

const { dsse } = await import('@sigstore/core');
const { Ajv } = await import('ajv');
const addFormats = (await import('ajv-formats')).default as unknown as (a: InstanceType<typeof Ajv>) => void;
const { main } = await import('../../src/cli/main.js');
const { DEMO_PLANTED, ensureDemoImage } = await import('../../src/core/demo/demo-image.js');
const { OciLayoutWriter } = await import('../../src/core/oci/layout-writer.js');
const { tarBuffer } = await import('../../src/core/oci/tar-writer.js');
const { subjectKey } = await import('../../src/core/checks/run.js');
const { BUILTIN_CHECKS } = await import('../../src/core/checks/registry.js');
type TarEntry = import('../../src/core/oci/tar-writer.js').TarEntry;
type CheckResultSet = import('../../src/core/checks/types.js').CheckResultSet;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), setExitCode: () => {} });
  return { code, out, err };
}

async function checkJson(args: string[]): Promise<{ code: number; set: CheckResultSet }> {
  const r = await cli(['check', '--format', 'json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.err}`);
  return { code: r.code, set: JSON.parse(r.out) as CheckResultSet };
}

/** The failing results as "ID subjectKey", sorted. */
function failing(set: CheckResultSet): string[] {
  return set.results.filter((r) => r.status === 'fail').map((r) => `${r.id} ${subjectKey(r.subject)}`).sort();
}

// ---------------------------------------------------------------------------
// Building images

type Spec = { path: string; type?: 'file' | 'dir' | 'symlink'; mode?: number; content?: string; target?: string; uid?: number };
function layer(entries: Spec[]): Buffer {
  return tarBuffer(
    entries.map((e) => {
      const type = e.type ?? 'file';
      const data = type === 'file' ? Buffer.from(e.content ?? 'x\n') : undefined;
      const entry: TarEntry = { path: e.path, type, mtime: 1717200000, ...(e.mode !== undefined ? { mode: e.mode } : {}), ...(e.uid !== undefined ? { uid: e.uid, gid: e.uid } : {}), ...(data ? { size: data.length } : {}), ...(e.target ? { linkname: e.target } : {}) };
      return data ? { entry, data } : { entry };
    }),
  );
}

interface Built {
  dir: string;
  ref: string;
  digest: string;
  configDigest: string;
}

async function build(name: string, layers: Array<{ createdBy: string; entries: Spec[] }>, opts: { empty?: string[]; config: object; labels?: Record<string, string>; source?: string; revision?: string }): Promise<Built> {
  const dir = join(work, name);
  const w = await OciLayoutWriter.create(dir);
  for (const l of layers) await w.addLayer(layer(l.entries), { createdBy: l.createdBy });
  for (const h of opts.empty ?? []) w.addEmptyHistory(h);
  const img = await w.finish({ tags: ['t'], created: '2024-06-01T00:00:00Z', config: opts.config, ...(opts.labels ? { labels: opts.labels } : {}), ...(opts.source ? { source: opts.source } : {}), ...(opts.revision ? { revision: opts.revision } : {}) });
  return { dir, ref: `oci:${dir}:t`, digest: img.manifestDigest, configDigest: img.configDigest };
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
function putBlob(dir: string, b: Buffer): { digest: string; size: number } {
  const digest = sha(b);
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), b);
  return { digest, size: b.length };
}

/** Attach cosign-style `.sig` and `.att` manifests to a layout image (tags in index.json, as `cosign save` / `oras` layouts name them). */
function attach(img: Built, key: KeyObject, statements: Array<{ predicateType: string; predicate: unknown }>): void {
  const manifest = (layers: object[]): Buffer => {
    const empty = putBlob(img.dir, Buffer.from('{}'));
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...empty }, layers }));
  };
  const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': 'test/clean' }, image: { 'docker-manifest-digest': img.digest }, type: 'cosign container image signature' }, optional: null }));
  const sigLayer = { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...putBlob(img.dir, payload), annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, key).toString('base64') } };
  const attLayers = statements.map((s) => {
    const st = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'test/clean', digest: { sha256: img.digest.slice(7) } }], predicateType: s.predicateType, predicate: s.predicate }));
    const env = Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: st.toString('base64'), signatures: [{ keyid: '', sig: sign('sha256', dsse.preAuthEncoding('application/vnd.in-toto+json', st), key).toString('base64') }] }));
    return { mediaType: 'application/vnd.dsse.envelope.v1+json', ...putBlob(img.dir, env), annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: s.predicateType } };
  });
  const index = JSON.parse(readFileSync(join(img.dir, 'index.json'), 'utf8'));
  const tag = img.digest.replace(':', '-');
  for (const [suffix, layers] of [['sig', [sigLayer]], ['att', attLayers]] as const) {
    const m = manifest([...layers]);
    index.manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...putBlob(img.dir, m), annotations: { 'org.opencontainers.image.ref.name': `${tag}.${suffix}` } });
  }
  writeFileSync(join(img.dir, 'index.json'), JSON.stringify(index));
}

const REPO = 'https://github.com/acme/clean';
const REV = '89abcdef0123456789abcdef0123456789abcdef';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/sbin/nologin\n';

let clean: Built;
let bad: Built;
let trustFile: string;
let untrustedTrustFile: string;
let scanFile: string;

before(async () => {
  const base = { createdBy: '/bin/sh -c #(nop) ADD file:4f1a in / ', entries: [{ path: 'etc', type: 'dir' as const }, { path: 'etc/passwd', content: PASSWD }, { path: 'tmp', type: 'dir' as const, mode: 0o1777 }, { path: 'usr/bin/su', mode: 0o4755 }, { path: 'usr/bin/passwd', mode: 0o4755 }, { path: 'bin', type: 'symlink' as const, target: 'usr/bin' }] };
  // The clean image: non-root, health-checked, pinned base, source and revision, signed with SBOM, provenance and vuln-scan attestations.
  clean = await build(
    'clean',
    [
      base,
      {
        createdBy: 'COPY app /app # buildkit',
        entries: [
          { path: 'app', type: 'dir', uid: 1000 },
          { path: 'app/package.json', content: '{"name":"clean","version":"1.0.0","license":"MIT","private":true}\n', uid: 1000 },
          { path: 'app/package-lock.json', content: '{"lockfileVersion":3}\n', uid: 1000 },
          { path: 'app/node_modules/ms/package.json', content: '{"name":"ms","version":"2.1.3","license":"MIT"}\n', uid: 1000 },
        ],
      },
    ],
    {
      empty: ['USER 1000:1000', 'HEALTHCHECK CMD ["/app/health"]'],
      config: { User: '1000:1000', Env: ['PATH=/usr/bin:/bin', 'NODE_ENV=production'], ExposedPorts: { '8080/tcp': {}, '443/tcp': {} }, Healthcheck: { Test: ['CMD', '/app/health'] }, Cmd: ['node', 'server.js'] },
      labels: { 'org.opencontainers.image.base.name': 'docker.io/library/debian:12', 'org.opencontainers.image.base.digest': `sha256:${'d'.repeat(64)}` },
      source: REPO,
      revision: REV,
    },
  );
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(work, 'cosign.pub'), publicKey.export({ format: 'pem', type: 'spki' }));
  writeFileSync(join(work, 'other.pub'), other.publicKey.export({ format: 'pem', type: 'spki' }));
  trustFile = join(work, 'vouch.trust.yaml');
  writeFileSync(trustFile, 'signers:\n  - {name: ci, key: ./cosign.pub, tlog: optional}\n');
  untrustedTrustFile = join(work, 'other.trust.yaml');
  writeFileSync(untrustedTrustFile, 'signers:\n  - {name: someone-else, key: ./other.pub, tlog: optional}\n');
  attach(clean, privateKey, [
    {
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://actions.github.io/buildtypes/workflow/v1', externalParameters: {}, resolvedDependencies: [{ uri: `git+${REPO}@refs/heads/main`, digest: { gitCommit: REV } }] }, runDetails: { builder: { id: 'https://github.com/actions/runner' }, metadata: { invocationId: 'https://github.com/acme/clean/actions/runs/1/attempts/1' } } },
    },
    // The SBOM and the scan describe the image as it is (VCH-DC-002 compares the attested SBOM; VCH-CP-002 reads the attested scan time).
    { predicateType: 'https://cyclonedx.org/bom', predicate: { bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library', name: 'ms', version: '2.1.3', purl: 'pkg:npm/ms@2.1.3', licenses: [{ license: { id: 'MIT' } }] }] } },
    { predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1', predicate: { invocation: {}, scanner: { uri: 'pkg:github/aquasecurity/trivy@0.50.0', version: '0.50.0', result: null }, metadata: { scanStartedOn: new Date(Date.now() - 60_000).toISOString(), scanFinishedOn: new Date().toISOString() } } },
  ]);

  // The bad image: one of each problem the checks look for.
  bad = await build(
    'bad',
    [
      base,
      {
        createdBy: 'RUN /bin/sh -c apt-get update',
        entries: [{ path: 'var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease' }],
      },
      {
        createdBy: 'RUN /bin/sh -c curl -fsSL https://get.example.com/install.sh | sh && apt-get install -y sudo && chmod u+s /usr/local/bin/evil',
        entries: [{ path: 'usr/bin/sudo', mode: 0o4755 }, { path: 'usr/local/bin/evil', mode: 0o4755 }, { path: 'var/cache/apt/archives/sudo_1.9.13_amd64.deb' }],
      },
      { createdBy: 'ADD https://example.com/tool.tgz /opt/ # buildkit', entries: [{ path: 'opt/tool.tgz' }] },
      {
        createdBy: 'COPY . /app # buildkit',
        entries: [
          { path: 'app', type: 'dir' },
          { path: 'app/package.json', content: '{"name":"bad","version":"1.0.0","license":"MIT"}\n' },
          { path: 'app/node_modules/gpl-lib/package.json', content: '{"name":"gpl-lib","version":"1.0.0","license":"GPL-3.0-only"}\n' },
          { path: 'app/.git', type: 'dir' },
          { path: 'app/.git/HEAD', content: 'ref: refs/heads/main\n' },
          { path: 'app/data', type: 'dir', mode: 0o777 },
        ],
      },
    ],
    {
      empty: ['ENV API_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ0123456789', 'EXPOSE 22', 'VOLUME /proc'],
      config: { Env: ['PATH=/usr/bin:/bin', 'API_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ0123456789'], ExposedPorts: { '22/tcp': {} }, Volumes: { '/proc': {} }, Cmd: ['/bin/sh'] },
      labels: { 'org.opencontainers.image.base.name': 'docker.io/library/debian:12' },
      source: 'https://github.com/acme/bad',
      revision: REV,
    },
  );
  // A Trivy report of the clean image (its image ID is the config digest), fresh.
  const trivy = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'sarif', 'scans', 'trivy-alpine.json'), 'utf8'));
  trivy.CreatedAt = new Date().toISOString();
  trivy.Metadata.ImageID = clean.configDigest;
  trivy.Results[0].Vulnerabilities = trivy.Results[0].Vulnerabilities.filter((v: { Severity: string }) => v.Severity === 'MEDIUM');
  scanFile = join(work, 'trivy-clean.json');
  writeFileSync(scanFile, JSON.stringify(trivy));
});

describe('vouch check on real images: exactly the planted findings', () => {
  it('the clean, signed, attested image: nothing fails; exit 0', async () => {
    const { code, set } = await checkJson([clean.ref, '--trust', trustFile, '--scan', scanFile]);
    assert.deepEqual(failing(set), []);
    assert.equal(code, 0);
    assert.ok(set.results.every((r) => r.status === 'pass'));
    assert.match(set.results.find((r) => r.id === 'VCH-PV-002')!.message, /verified by ci/);
    assert.match(set.results.find((r) => r.id === 'VCH-PV-003')!.message, /provenance from https:\/\/github.com\/actions\/runner/);
  });

  it('the same image under a trust file that does not list its signer', async () => {
    const { set } = await checkJson([clean.ref, '--trust', untrustedTrustFile, '--scan', scanFile]);
    // Unverified attestations: no provenance, the SBOM attestation does not count (DC-001), the vuln-scan attestation does not count (the --scan report does).
    assert.deepEqual(failing(set), ['VCH-DC-001 image', 'VCH-PV-002 signature:cosign#1', 'VCH-PV-003 image']);
  });

  it('the bad image: one result per planted problem', async () => {
    const { code, set } = await checkJson([bad.ref, '--trust', trustFile]);
    assert.equal(code, 1);
    const layerOf = (i: number): string => set.results.find((r) => r.subject.layer?.index === i)!.subject.layer!.digest!;
    assert.deepEqual(failing(set), [
      'VCH-CP-001 image',
      'VCH-DC-001 image',
      'VCH-DC-003 /app/package.json',
      'VCH-DC-005 /app/node_modules/gpl-lib/package.json',
      'VCH-HY-001 /var/cache/apt/archives',
      'VCH-HY-001 /var/lib/apt/lists',
      'VCH-HY-002 /app/.git',
      `VCH-HY-003 layer:${layerOf(2)}`,
      `VCH-HY-004 layer:${layerOf(3)}`,
      `VCH-HY-005 layer:${layerOf(1)}`,
      'VCH-HY-006 image',
      'VCH-LP-001 image',
      'VCH-LP-002 /usr/local/bin/evil',
      'VCH-LP-003 /app/data',
      'VCH-LP-004 /proc',
      'VCH-LP-005 image',
      'VCH-LP-006 /usr/bin/sudo',
      'VCH-LP-007 env:API_TOKEN',
      'VCH-PV-001 image',
      'VCH-PV-003 image',
      'VCH-TR-005 image',
    ]);
    // The token in ENV and in the history never appears in any output format.
    for (const format of ['json', 'sarif', 'table']) {
      const r = await cli(['check', bad.ref, '--trust', trustFile, '--format', format]);
      assert.ok(!r.out.includes('ghp_0123456789'), `${format} leaks the token`);
    }
  });

  it('the demo image: its planted setuid binary and the missing chain pieces', async () => {
    const demo = await ensureDemoImage(join(work, 'demo'));
    const { set } = await checkJson([demo.reference, '--trust', trustFile]);
    assert.deepEqual(DEMO_PLANTED.setuid, ['/usr/bin/demo-su']);
    assert.deepEqual(failing(set), [
      'VCH-CP-001 image', // no scan
      'VCH-DC-001 image', // no SBOM
      'VCH-HY-006 image', // no HEALTHCHECK in the demo config
      ...DEMO_PLANTED.setuid.map((p) => `VCH-LP-002 ${p}`),
      'VCH-PV-001 image', // unsigned
      'VCH-PV-003 image', // no provenance
      ...DEMO_PLANTED.leftoverSecrets.map((s) => `VCH-SC-003 ${s.path}`), // the .env added, then deleted
      'VCH-TR-004 image', // base image not named
    ]);
    // The apt lists it left in layer 1 were removed in layer 3: not left behind.
    assert.ok(set.results.some((r) => r.id === 'VCH-HY-001' && r.status === 'pass'));
  });
});

describe('vouch check: outputs, policy, exit codes', () => {
  it('JSON has exactly the documented shape, results for each image', async () => {
    const { set } = await checkJson([clean.ref, bad.ref, '--trust', trustFile]);
    assert.deepEqual(Object.keys(set), ['policy', 'trust', 'results', 'warnings', 'images', 'baseline']);
    assert.equal((set as unknown as { baseline: unknown }).baseline, null, 'no --baseline: null');
    // Each image with where its analysis came from (the cache object inspect prints).
    assert.deepEqual((set as unknown as { images: Array<{ digest: string; cache: { hit: boolean } | null }> }).images.map((i) => [i.digest, typeof i.cache?.hit]), [[clean.digest, 'boolean'], [bad.digest, 'boolean']]);
    assert.equal(set.trust?.file, trustFile);
    assert.equal(set.trust?.implicit, false);
    assert.equal(typeof set.trust?.trustedRoot, "string");
    assert.deepEqual(Object.keys(set.policy), ['digest']);
    assert.match(set.policy.digest, /^sha256:[0-9a-f]{64}$/);
    for (const r of set.results) {
      assert.deepEqual(Object.keys(r), ['id', 'step', 'severity', 'status', 'subject', 'message', 'exception']);
      assert.deepEqual(Object.keys(r.subject), ['image', 'layer', 'path', 'env', 'package', 'signature']);
    }
    assert.deepEqual([...new Set(set.results.map((r) => r.subject.image))], [`clean:t@${clean.digest}`, `bad:t@${bad.digest}`]);
  });

  it('SARIF validates against the official 2.1.0 schema and carries rules, help and image locations', async () => {
    const r = await cli(['check', bad.ref, clean.ref, '--trust', trustFile, '--format', 'sarif']);
    assert.equal(r.code, 1, r.err);
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json'), 'utf8'));
    // draft-04 → Ajv's draft-07: same keywords here, only the id keyword differs.
    delete schema.$schema;
    schema.$id = schema.id;
    delete schema.id;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const doc: unknown = JSON.parse(r.out);
    assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 5), null, 1));
    const run = (JSON.parse(r.out) as { runs: any[] }).runs[0]; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(run.tool.driver.rules.length, BUILTIN_CHECKS.length);
    for (const rule of run.tool.driver.rules) {
      assert.ok(rule.help.text && rule.help.markdown.includes(`docs/checks.md#${rule.id.toLowerCase()}`), rule.id);
    }
    const evil = run.results.find((x: { ruleId: string }) => x.ruleId === 'VCH-LP-002');
    assert.deepEqual(evil.locations[0].physicalLocation.artifactLocation, { uri: 'usr/local/bin/evil', uriBaseId: 'IMAGE0' });
    assert.equal(run.originalUriBaseIds.IMAGE0.uri.endsWith(`@${bad.digest}/`), true);
    assert.equal(run.properties.policyDigest.startsWith('sha256:'), true);
    // Pass results are not in SARIF; every fail is.
    const set = (await checkJson([bad.ref, clean.ref, '--trust', trustFile])).set;
    assert.equal(run.results.length, set.results.filter((x) => x.status !== 'pass').length);
  });

  it('exceptions: a live one excepts, an expired one does not and says so; the policy digest changes', async () => {
    const live = join(work, 'live.policy.yaml');
    writeFileSync(live, 'exceptions:\n  - check: VCH-LP-002\n  subject: /usr/local/bin/evil\n    reason: vendor tool, ticket SEC-1\n    expires: 2999-12-31\n'.replace('\n  subject', '\n    subject'));
    const expired = join(work, 'expired.policy.yaml');
    writeFileSync(expired, 'exceptions:\n  - {check: VCH-LP-002, subject: "/usr/local/*", reason: "vendor tool", expires: 2020-01-01}\n');
    const a = (await checkJson([bad.ref, '--trust', trustFile, '--policy', live])).set;
    const ra = a.results.find((r) => r.id === 'VCH-LP-002')!;
    assert.equal(ra.status, 'excepted');
    assert.deepEqual(ra.exception, { check: 'VCH-LP-002', subject: '/usr/local/bin/evil', reason: 'vendor tool, ticket SEC-1', expires: '2999-12-31', expired: false });
    assert.equal(a.policy.digest, sha(readFileSync(live)));
    const b = (await checkJson([bad.ref, '--trust', trustFile, '--policy', expired])).set;
    const rb = b.results.find((r) => r.id === 'VCH-LP-002')!;
    assert.equal(rb.status, 'fail');
    assert.equal(rb.exception?.expired, true);
    assert.match(rb.message, /exception expired on 2020-01-01/);
  });

  it('exit codes: --fail-on, and 2 on bad input', async () => {
    // The demo's worst failure is high (setuid, unsigned).
    const demo = await ensureDemoImage(join(work, 'demo'));
    assert.equal((await cli(['check', demo.reference, '--trust', trustFile, '--fail-on', 'critical'])).code, 0);
    assert.equal((await cli(['check', demo.reference, '--trust', trustFile, '--fail-on', 'high'])).code, 1);
    assert.equal((await cli(['check', demo.reference, '--trust', trustFile, '--fail-on', 'severe'])).code, 2);
    assert.equal((await cli(['check', demo.reference, '--format', 'xml'])).code, 2);
    const badPolicy = join(work, 'bad.policy.yaml');
    writeFileSync(badPolicy, 'allow:\n  setuids: []\n');
    const r = await cli(['check', demo.reference, '--policy', badPolicy]);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.policy\.yaml: allow: unknown key "setuids"/);
    assert.equal((await cli(['check', demo.reference, '--scan', join(work, 'nope.json')])).code, 2);
    assert.equal((await cli(['check'])).code, 2);
    const table = await cli(['check', demo.reference, '--trust', trustFile]);
    assert.match(table.out, /FAIL\s+high\s+VCH-LP-002\s+\/usr\/bin\/demo-su/);
  });

  it('a second run reads no layer (blobs replaced by garbage of the same size go unread), but a gone blob is an error', async () => {
    const layers: string[] = [];
    for (const d of readdirSync(join(bad.dir, 'blobs', 'sha256'))) {
      const p = join(bad.dir, 'blobs', 'sha256', d);
      // Layer blobs are the large gzip ones; keep JSON documents (manifests, configs, index).
      const b = readFileSync(p);
      if (b.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))) {
        writeFileSync(p, Buffer.alloc(b.length, 0x55));
        layers.push(p);
      }
    }
    // The cached read checks each blob's presence and size only: reading a layer now would fail its digest.
    const { set } = await checkJson([bad.ref, '--trust', trustFile]);
    assert.ok(set.results.some((r) => r.id === 'VCH-LP-002' && r.subject.path === '/usr/local/bin/evil'));
    // A source that no longer holds the image's bytes is an error (issue 9, item 3), naming the blob.
    unlinkSync(layers[0]!);
    const r = await cli(['check', bad.ref, '--trust', trustFile, '--format', 'json']);
    assert.equal(r.code, 2);
    assert.match(r.err, /layer sha256:[0-9a-f]{64}: the source no longer holds this blob/);
  });
});
