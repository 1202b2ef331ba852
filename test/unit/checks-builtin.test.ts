/**
 * Every built-in check, positive and negative: each fires on an image that
 * has exactly its problem, and stays silent (a pass result) on the clean image.
 * Contexts are built from synthetic layer walks (no layout on disk).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildContext } from '../../src/core/checks/context.js';
import { defaultPolicy, parsePolicy } from '../../src/core/checks/policy.js';
import { defaultRegistry } from '../../src/core/checks/registry.js';
import { runChecks } from '../../src/core/checks/run.js';
import type { ScanReport } from '../../src/core/checks/scans.js';
import type { CheckFacts, CheckResult, ResolvedPolicy } from '../../src/core/checks/index.js';
import type { ImageAnalysis } from '../../src/core/layers/image-analysis.js';
import type { LayerEntry, LayerWalk } from '../../src/core/layers/types.js';
import type { Traceability } from '../../src/core/oci/traceability.js';
import type { Package } from '../../src/core/packages/types.js';
import type { ChainReport, ChainSignature } from '../../src/core/trust/chain.js';

const D = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;
const IMAGE_DIGEST = D('a');
const CONFIG_DIGEST = D('c');
const REPO = 'https://github.com/acme/shop';
const REV = '0123456789abcdef0123456789abcdef01234567';

type E = Partial<LayerEntry> & { path: string };
interface Spec {
  user?: string;
  env?: string[];
  ports?: string[];
  volumes?: string[];
  healthcheck?: string[] | null;
  layers?: Array<{ createdBy: string; entries: E[] }>;
  emptyHistory?: string[];
  trace?: Partial<Traceability>;
  packages?: Package[];
  chain?: ChainReport | null;
  baseline?: Package[];
  sbom?: Package[];
  scans?: ScanReport[];
  policy?: ResolvedPolicy;
  facts?: CheckFacts;
  now?: Date;
}

const file = (path: string, mode = 0o644, extra: Partial<LayerEntry> = {}): E => ({ path, type: 'file', mode, size: 10, ...extra });
const dir = (path: string, mode = 0o755): E => ({ path, type: 'dir', mode });

function npm(name: string, version: string, licenses: string[] = ['MIT']): Package {
  return { name, version, type: 'npm', purl: `pkg:npm/${name}@${version}`, licenses, locations: [{ path: `/app/node_modules/${name}/package.json`, layer: null }] };
}
function deb(name: string, version: string): Package {
  return { name, version, type: 'deb', purl: `pkg:deb/debian/${name}@${version}?distro=debian-12`, licenses: ['GPL-2.0-only'], locations: [{ path: '/var/lib/dpkg/status', layer: null }] };
}

const CLEAN_LAYERS: Spec['layers'] = [
  {
    createdBy: '/bin/sh -c #(nop) ADD file:0123abcd in / ',
    entries: [
      dir('/etc'),
      file('/etc/passwd'),
      dir('/tmp', 0o1777),
      dir('/var/tmp', 0o1777),
      file('/tmp/scratch', 0o666),
      dir('/usr/bin'),
      file('/usr/bin/su', 0o4755),
      file('/usr/bin/passwd', 0o4755),
      file('/usr/bin/chage', 0o2755),
      { path: '/usr/bin/sh', type: 'symlink', mode: 0o777, linkname: 'dash' },
      file('/var/lib/dpkg/status'),
      dir('/var/lib/apt/lists'),
      file('/var/lib/apt/lists/lock', 0o640),
    ],
  },
  { createdBy: 'RUN /bin/sh -c apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/* # buildkit', entries: [file('/usr/bin/curl', 0o755)] },
  {
    createdBy: 'COPY . /app # buildkit',
    entries: [dir('/app'), file('/app/package.json'), file('/app/package-lock.json'), dir('/app/node_modules'), file('/app/node_modules/express/package.json'), file('/app/.gitignore'), file('/app/srv/pyproject.toml'), file('/app/srv/poetry.lock')],
  },
];

function sig(verified: boolean, reason: ChainSignature['reason'] = verified ? 'OK' : 'UNTRUSTED_SIGNER'): ChainSignature {
  return { kind: 'cosign', verified, reason, signer: { type: 'key', keyId: 'ab'.repeat(32), subject: null, issuer: null, trustedAs: verified ? 'ci' : null }, tlog: null, signedDigest: IMAGE_DIGEST, signedReference: null };
}

function chain(over: Partial<ChainReport['json']> = {}, attachments: ChainReport['attachments'] = []): ChainReport {
  const field = (value: string | null, sources: Array<{ value: string; from: 'provenance' | 'manifest-annotation' }> = value ? [{ value, from: 'provenance' }] : []) => ({ value, sources, consistent: new Set(sources.map((s) => s.value.toLowerCase())).size <= 1 });
  return {
    json: {
      image: { reference: 'oci:/x:1', digest: IMAGE_DIGEST },
      trust: { file: '/x/vouch.trust.yaml', implicit: false, trustedRoot: 'test' },
      index: null,
      signatures: [sig(true)],
      attestations: [
        { predicateType: 'https://slsa.dev/provenance/v1', digest: D('1'), verified: true, reason: 'OK', signer: null },
        { predicateType: 'https://cyclonedx.org/bom', digest: D('2'), verified: true, reason: 'OK', signer: null },
        { predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1', digest: D('3'), verified: true, reason: 'OK', signer: null },
      ],
      provenance: { builder: 'https://github.com/actions/runner', buildType: 'x', sourceRepository: REPO, sourceRevision: REV, buildRun: null },
      traceability: { repository: field(REPO), revision: field(REV), run: field(null), consistent: true },
      ...over,
    },
    signatureMessages: [],
    attestationMessages: [],
    provenanceDetail: null,
    attachments,
    trustSource: 'test',
    trustedRootSource: 'test',
  };
}

function walksOf(layers: NonNullable<Spec['layers']>): LayerWalk[] {
  return layers.map((l, i) => ({
    digest: D(String(i + 1)),
    diffId: D(String.fromCharCode(100 + i)),
    uncompressedSize: 0,
    warnings: [],
    entries: l.entries.map((e) => ({ type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, ...e }) as LayerEntry),
  }));
}

function contextOf(spec: Spec = {}) {
  const layers = spec.layers ?? CLEAN_LAYERS!;
  const walks = walksOf(layers);
  const trace: Traceability = { repository: REPO, revision: REV, created: null, version: null, baseName: 'docker.io/library/debian:12', baseDigest: D('b'), evidence: {}, conflicts: [], ...spec.trace };
  const history = [...layers.map((l) => ({ created: null, createdBy: l.createdBy, emptyLayer: false, comment: null })), ...(spec.emptyHistory ?? ['USER app']).map((h) => ({ created: null, createdBy: h, emptyLayer: true, comment: null }))];
  const analysis = {
    reference: 'oci:/x:1',
    name: 'x:1',
    digest: IMAGE_DIGEST,
    index: null,
    config: {
      digest: CONFIG_DIGEST,
      user: spec.user ?? 'app',
      env: spec.env ?? ['PATH=/usr/bin:/bin', 'NODE_ENV=production'],
      entrypoint: null,
      cmd: ['node', 'server.js'],
      workingDir: '/app',
      exposedPorts: spec.ports ?? ['8080/tcp', '443/tcp'],
      volumes: spec.volumes ?? ['/data'],
      labels: {},
      created: null,
      stopSignal: null,
      healthcheck: spec.healthcheck === undefined ? ['CMD', 'true'] : spec.healthcheck,
    },
    history,
    layers: walks.map((w, i) => ({ index: i, digest: w.digest, diffId: w.diffId, createdBy: layers[i]!.createdBy })),
    traceability: trace,
  } as unknown as ImageAnalysis;
  const inv = (packages: Package[]) => ({ source: 'catalog' as const, distro: null, packages, warnings: [] });
  return buildContext({
    image: { reference: 'oci:/x:1', name: 'x:1', digest: IMAGE_DIGEST, label: `x:1@${IMAGE_DIGEST}` },
    analysis,
    walks,
    inventory: inv(spec.packages ?? [npm('express', '4.18.2'), deb('curl', '7.88.1-10')]),
    chain: spec.chain === undefined ? chain() : spec.chain,
    baseline: spec.baseline ? { label: 'baseline', inventory: inv(spec.baseline) } : null,
    sbom: spec.sbom ? { path: 'sbom.json', inventory: inv(spec.sbom) } : null,
    scans: spec.scans ?? [],
    policy: spec.policy ?? defaultPolicy(),
    ...(spec.facts ? { facts: spec.facts } : {}),
    now: spec.now ?? new Date('2024-06-10T00:00:00Z'),
  });
}

const registry = defaultRegistry();
function run(id: string, spec: Spec = {}): CheckResult[] {
  const c = registry.get(id);
  assert.ok(c, id);
  return runChecks(contextOf(spec), [c]);
}
function fails(id: string, spec: Spec = {}): CheckResult[] {
  const r = run(id, spec);
  assert.ok(r.every((x) => x.status === 'fail'), `${id}: ${JSON.stringify(r)}`);
  assert.ok(r.length > 0);
  return r;
}
function passes(id: string, spec: Spec = {}): void {
  const r = run(id, spec);
  assert.equal(r.length, 1, `${id}: ${JSON.stringify(r, null, 1)}`);
  assert.equal(r[0]!.status, 'pass', `${id}: ${JSON.stringify(r[0])}`);
}

const withLayer = (entries: E[], createdBy = 'RUN /bin/sh -c make'): Spec['layers'] => [...CLEAN_LAYERS!, { createdBy, entries }];

describe('checks: the clean image fires nothing', () => {
  it('every built-in check passes on the clean image', () => {
    const results = runChecks(contextOf({ scans: [scan({})] }), registry.all());
    assert.deepEqual(results.filter((r) => r.status !== 'pass'), []);
    assert.equal(results.length, registry.all().length);
  });
});

describe('least privilege', () => {
  it('VCH-LP-001 runs as root', () => {
    for (const user of ['', '0', 'root', '0:0', 'root:root', '0:1000']) assert.match(fails('VCH-LP-001', { user })[0]!.message, /root/);
    passes('VCH-LP-001', { user: '1000:1000' });
    passes('VCH-LP-001');
    // With /etc/passwd facts from a content scanner, a named user with uid 0 is root.
    fails('VCH-LP-001', { user: 'admin', facts: { passwd: [{ name: 'admin', uid: 0, gid: 0 }] } });
    passes('VCH-LP-001', { user: 'admin', facts: { passwd: [{ name: 'admin', uid: 1000, gid: 1000 }] } });
  });

  it('VCH-LP-002 setuid/setgid outside the allow-list, with the layer that set it', () => {
    const r = fails('VCH-LP-002', { layers: withLayer([file('/usr/local/bin/helper', 0o4755), file('/opt/tool', 0o2711)], 'RUN /bin/sh -c chmod u+s /usr/local/bin/helper') });
    assert.deepEqual(r.map((x) => x.subject.path), ['/opt/tool', '/usr/local/bin/helper']);
    assert.equal(r[1]!.subject.layer?.digest, D('4'));
    assert.equal(r[1]!.subject.layer?.createdBy, 'RUN /bin/sh -c chmod u+s /usr/local/bin/helper');
    assert.match(r[0]!.message, /setgid \(mode 2711/);
    passes('VCH-LP-002');
    // A policy allow-list entry silences it.
    const policy = parsePolicy('allow:\n  setuid: ["/usr/local/bin/*", "/opt/tool", "/usr/bin/*"]\n', 'p.yaml');
    passes('VCH-LP-002', { layers: withLayer([file('/usr/local/bin/helper', 0o4755), file('/opt/tool', 0o2711)]), policy });
    // A setuid file removed by a later layer is not in the final filesystem.
    passes('VCH-LP-002', { layers: [...withLayer([file('/opt/tool', 0o4755)])!, { createdBy: 'RUN rm /opt/tool', entries: [{ path: '/opt/tool', type: 'whiteout' }] }] });
  });

  it('VCH-LP-003 world-writable outside /tmp and sticky dirs', () => {
    const r = fails('VCH-LP-003', { layers: withLayer([dir('/app/uploads', 0o777), file('/etc/app.conf', 0o666), file('/var/tmp/ok', 0o666), dir('/shared', 0o1777)]) });
    assert.deepEqual(r.map((x) => x.subject.path), ['/app/uploads', '/etc/app.conf']);
    passes('VCH-LP-003');
    fails('VCH-LP-003', { layers: withLayer([dir('/tmp', 0o777)]) }); // /tmp without its sticky bit
  });

  // Attack (rev-attack8 #3): a world-writable char device 1,1 (/dev/mem's numbers) under another name was no check result.
  it('VCH-LP-008 device nodes: medium; high when world-writable or memory/disk numbers or names; the runtime\'s own /dev nodes pass', () => {
    const dev = (path: string, type: 'char' | 'block', devmajor: number, devminor: number, mode = 0o600): E => ({ path, type, mode, devmajor, devminor });
    const r = fails('VCH-LP-008', {
      layers: withLayer([
        dev('/dev/mem2', 'char', 1, 1, 0o666),
        dev('/opt/kmem', 'char', 1, 2),
        dev('/dev/port', 'char', 1, 4),
        dev('/srv/disk', 'block', 8, 0, 0o660),
        dev('/srv/ns', 'block', 259, 1, 0o660),
        dev('/dev/nvme0', 'char', 240, 0),
        dev('/dev/fuse', 'char', 10, 229, 0o600),
        dev('/dev/loop0', 'block', 7, 0, 0o660),
        dev('/opt/null', 'char', 1, 3, 0o666),
        dev('/dev/null', 'char', 1, 1, 0o666),
        dev('/dev/zero', 'char', 1, 5, 0o666),
        dev('/dev/urandom', 'char', 1, 9, 0o666),
        dev('/dev/tty', 'char', 5, 0, 0o666),
      ]),
    });
    const bySeverity = Object.fromEntries(r.map((x) => [x.subject.path, x.severity]));
    assert.deepEqual(bySeverity, {
      '/dev/mem2': 'high',
      '/opt/kmem': 'high',
      '/dev/port': 'high',
      '/srv/disk': 'high',
      '/srv/ns': 'high',
      '/dev/nvme0': 'high',
      '/dev/fuse': 'medium',
      '/dev/loop0': 'medium',
      '/opt/null': 'high',
      '/dev/null': 'high',
    });
    assert.match(r.find((x) => x.subject.path === '/dev/mem2')!.message, /^char device \/dev\/mem2 \(1,1, mode 0666, owner 0:0\): the numbers of \/dev\/mem, world-writable$/);
    assert.equal(r.find((x) => x.subject.path === '/dev/mem2')!.subject.layer?.index, CLEAN_LAYERS!.length);
    passes('VCH-LP-008');
    passes('VCH-LP-008', { layers: withLayer([dev('/dev/null', 'char', 1, 3, 0o666), dev('/dev/console', 'char', 5, 1, 0o620), dev('/dev/ptmx', 'char', 5, 2, 0o666)]) });
    // Removed by a later layer: not in the final filesystem.
    passes('VCH-LP-008', { layers: [...withLayer([dev('/dev/mem2', 'char', 1, 1, 0o666)])!, { createdBy: 'RUN rm /dev/mem2', entries: [{ path: '/dev/mem2', type: 'whiteout' }] }] });
  });

  it('VCH-LP-004 VOLUME on /dev, /proc, /sys or /', () => {
    assert.deepEqual(fails('VCH-LP-004', { volumes: ['/data', '/proc', '/sys/fs/cgroup', '/dev/'] }).map((r) => r.subject.path), ['/proc', '/sys/fs/cgroup', '/dev']);
    passes('VCH-LP-004', { volumes: ['/data', '/device', '/var/lib/app'] });
  });

  it('VCH-LP-005 privileged ports other than 80/443', () => {
    const r = fails('VCH-LP-005', { ports: ['22/tcp', '80/tcp', '443/tcp', '8443/tcp', '53/udp'] });
    assert.deepEqual(r.map((x) => x.message), ['EXPOSE 22/tcp: privileged port (SSH)', 'EXPOSE 53/udp: privileged port']);
    passes('VCH-LP-005', { ports: ['80/tcp', '443/tcp', '8080/tcp'] });
  });

  it('VCH-LP-006 sudo binary or package', () => {
    fails('VCH-LP-006', { layers: withLayer([file('/usr/bin/sudo', 0o4755)]) });
    const r = fails('VCH-LP-006', { packages: [deb('sudo', '1.9.13p3-1')] });
    assert.equal(r[0]!.subject.package?.name, 'sudo');
    passes('VCH-LP-006');
  });

  it('VCH-LP-007 secrets in env: names and values, values never printed', () => {
    const env = ['DB_PASSWORD=hunter2-very-secret', 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', 'HARMLESS=ghp_0123456789abcdefghijABCDEFGHIJ0123456789', 'API_TOKEN=', 'GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D', 'PASSWORD_FILE=/run/secrets/pw', 'NODE_ENV=production'];
    const r = fails('VCH-LP-007', { env });
    assert.deepEqual(r.map((x) => x.subject.env), ['DB_PASSWORD', 'AWS_ACCESS_KEY_ID', 'HARMLESS']);
    const text = JSON.stringify(r);
    for (const secret of ['hunter2', 'AKIAIOSFODNN7EXAMPLE', 'ghp_0123']) assert.ok(!text.includes(secret), `leaked ${secret}`);
    passes('VCH-LP-007');
    passes('VCH-LP-007', { env: ['KEYBOARD=us', 'MONKEY=1', 'TOKENIZERS_PARALLELISM=false', 'DB_PASSWORD=changeme'] });
  });
});

describe('hygiene', () => {
  it('VCH-HY-001 package caches, one result per cache directory', () => {
    const r = fails('VCH-HY-001', {
      layers: withLayer([file('/var/cache/apt/archives/curl_7.88_amd64.deb'), file('/var/cache/apt/archives/libcurl4_7.88_amd64.deb'), file('/var/lib/apt/lists/deb.debian.org_Packages'), file('/root/.npm/_cacache/index-v5/aa'), file('/home/app/.cache/pip/http/x'), file('/var/cache/apk/APKINDEX.tar.gz')]),
    });
    assert.deepEqual(r.map((x) => x.subject.path).sort(), ['/home/app/.cache/pip', '/root/.npm', '/var/cache/apk', '/var/cache/apt/archives', '/var/lib/apt/lists']);
    assert.match(r.find((x) => x.subject.path === '/var/cache/apt/archives')!.message, /2 files/);
    passes('VCH-HY-001'); // apt lists/lock alone is not a cache
  });

  it('VCH-HY-002 VCS and editor leftovers, reported once per directory', () => {
    const r = fails('VCH-HY-002', { layers: withLayer([dir('/app/.git'), file('/app/.git/HEAD'), file('/app/.git/config'), file('/app/.DS_Store'), file('/app/src/.main.ts.swp'), file('/srv/.idea/workspace.xml'), file('/srv/.svn/entries')]) });
    assert.deepEqual(r.map((x) => x.subject.path), ['/app/.DS_Store', '/app/.git', '/app/src/.main.ts.swp', '/srv/.idea', '/srv/.svn']);
    passes('VCH-HY-002'); // .gitignore is not a leftover
  });

  it('VCH-HY-003 curl | sh in history', () => {
    for (const line of ['RUN /bin/sh -c curl -fsSL https://get.example.com | sh', 'RUN /bin/sh -c wget -qO- https://x.io/i.sh | sudo bash -s --', '/bin/sh -c sh -c "$(curl -fsSL https://x/install)"', 'RUN bash <(curl -s https://x/i.sh) # buildkit']) {
      const r = fails('VCH-HY-003', { layers: withLayer([file('/opt/x')], line) });
      assert.equal(r[0]!.subject.layer?.digest, D('4'));
    }
    passes('VCH-HY-003');
    passes('VCH-HY-003', { layers: withLayer([], 'RUN curl -fsSLo /tmp/i.sh https://x/i.sh && echo "abc  /tmp/i.sh" | sha256sum -c && sh /tmp/i.sh') });
  });

  it('VCH-HY-004 ADD from a URL without a checksum', () => {
    fails('VCH-HY-004', { layers: withLayer([file('/opt/app.tgz')], 'ADD https://example.com/app.tgz /opt/ # buildkit') });
    fails('VCH-HY-004', { layers: withLayer([file('/opt/app.tgz')], '/bin/sh -c #(nop) ADD http://example.com/app.tgz /opt/') });
    passes('VCH-HY-004', { layers: withLayer([file('/opt/app.tgz')], 'ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2015d0549a7e5a0b https://example.com/app.tgz /opt/ # buildkit') });
    passes('VCH-HY-004'); // ADD file:… in / (a base image) is local
  });

  it('VCH-HY-005 apt-get update without install in the same step', () => {
    const r = fails('VCH-HY-005', { layers: withLayer([file('/var/lib/apt/lists/x')], 'RUN /bin/sh -c apt-get update') });
    assert.equal(r.length, 1);
    fails('VCH-HY-005', { layers: withLayer([], 'RUN apk update') });
    passes('VCH-HY-005');
    passes('VCH-HY-005', { layers: withLayer([], 'RUN apk update && apk add --no-cache curl') });
  });

  it('VCH-HY-006 no HEALTHCHECK (info)', () => {
    assert.equal(fails('VCH-HY-006', { healthcheck: null })[0]!.severity, 'info');
    fails('VCH-HY-006', { healthcheck: ['NONE'] });
    passes('VCH-HY-006');
  });
});

describe('traceability and provenance', () => {
  const noChainTrace = (repo: string | null, rev: string | null): Spec => ({
    trace: { repository: repo, revision: rev },
    chain: chain({ provenance: null, traceability: { repository: { value: repo, sources: [], consistent: true }, revision: { value: rev, sources: [], consistent: true }, run: { value: null, sources: [], consistent: true }, consistent: true } }),
  });

  it('VCH-TR-001 / VCH-TR-002 no source repository / revision', () => {
    fails('VCH-TR-001', noChainTrace(null, REV));
    passes('VCH-TR-002', noChainTrace(null, REV));
    fails('VCH-TR-002', noChainTrace(REPO, null));
    passes('VCH-TR-001', noChainTrace(REPO, null));
    // Without a chain, the image's own annotations count.
    fails('VCH-TR-001', { chain: null, trace: { repository: null } });
    passes('VCH-TR-001', { chain: null });
  });

  it('VCH-TR-003 provenance and annotations disagree', () => {
    const repository = { value: REPO, sources: [{ value: REPO, from: 'provenance' as const }, { value: 'https://github.com/evil/shop', from: 'manifest-annotation' as const }], consistent: false };
    const c = chain();
    c.json.traceability = { ...c.json.traceability, repository, consistent: false };
    const r = fails('VCH-TR-003', { chain: c });
    assert.match(r[0]!.message, /repository sources disagree: provenance says "https:\/\/github.com\/acme\/shop", manifest-annotation says "https:\/\/github.com\/evil\/shop"/);
    passes('VCH-TR-003');
    fails('VCH-TR-003', { chain: null, trace: { conflicts: ['org.opencontainers.image.revision'], evidence: { 'org.opencontainers.image.revision': [{ value: 'a', from: 'manifest-annotation' }, { value: 'b', from: 'config-label' }] } } });
  });

  it('VCH-TR-004 base unknown, VCH-TR-005 base unpinned', () => {
    fails('VCH-TR-004', { trace: { baseName: null, baseDigest: null } });
    passes('VCH-TR-004');
    fails('VCH-TR-005', { trace: { baseName: 'debian:12', baseDigest: null } });
    passes('VCH-TR-005');
    passes('VCH-TR-005', { trace: { baseName: `debian@${D('e')}`, baseDigest: null } });
    passes('VCH-TR-005', { trace: { baseName: null, baseDigest: null } }); // that is VCH-TR-004's finding
  });

  it('VCH-PV-001 unsigned', () => {
    fails('VCH-PV-001', { chain: chain({ signatures: [] }) });
    assert.match(fails('VCH-PV-001', { chain: null })[0]!.message, /cannot be discovered/);
    passes('VCH-PV-001');
    passes('VCH-PV-001', { chain: chain({ signatures: [sig(false)] }) }); // signed, by someone: VCH-PV-002's business
  });

  it('VCH-PV-002 signed only by untrusted signers', () => {
    const r = fails('VCH-PV-002', { chain: chain({ signatures: [sig(false), sig(false, 'SIGNATURE_INVALID')] }) });
    assert.deepEqual(r.map((x) => x.subject.signature?.reason), ['UNTRUSTED_SIGNER', 'SIGNATURE_INVALID']);
    assert.equal(r[0]!.subject.signature?.keyId, 'ab'.repeat(32));
    passes('VCH-PV-002');
    passes('VCH-PV-002', { chain: chain({ signatures: [sig(false), sig(true)] }) });
    passes('VCH-PV-002', { chain: chain({ signatures: [] }) });
  });

  it('VCH-PV-003 no verified provenance', () => {
    const c = chain({ provenance: null, attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', digest: D('1'), verified: false, reason: 'UNTRUSTED_SIGNER', signer: null }] });
    assert.match(fails('VCH-PV-003', { chain: c })[0]!.message, /1 SLSA provenance attestation attached but not verified/);
    fails('VCH-PV-003', { chain: chain({ provenance: null, attestations: [] }) });
    passes('VCH-PV-003');
  });

  it('VCH-PV-003 names a provenance about another digest a substitution, not an unverified signer (issue 8)', () => {
    const c = chain({ provenance: null, attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', digest: D('1'), verified: false, reason: 'SUBJECT_MISMATCH', signer: null }] });
    const [r] = fails('VCH-PV-003', { chain: c });
    assert.match(r!.message, /^SUBJECT_MISMATCH: 1 SLSA provenance attestation is about another image digest.*substitution/);
    assert.doesNotMatch(r!.message, /not verified against a trusted signer/);
  });

  it('VCH-PV-002 fails an index that is neither signed itself nor on every platform (PLATFORM_UNSIGNED), whatever the selected platform says', () => {
    const platform = (p: string, signed: boolean, selected = false) => ({ platform: p, digest: D(signed ? '4' : '5'), selected, checked: true, signed, signers: signed ? ['ci'] : [], reasons: [] });
    const index = { digest: D('6'), mediaType: 'application/vnd.oci.image.index.v1+json', rule: 'every-platform' as const, signed: false, platforms: [platform('linux/amd64', true, true), platform('linux/arm64', false)], satisfied: false, reason: 'PLATFORM_UNSIGNED' as const };
    const [r] = fails('VCH-PV-002', { chain: chain({ index }) });
    assert.match(r!.message, /^PLATFORM_UNSIGNED: .*linux\/arm64/);
    passes('VCH-PV-002', { chain: chain({ index: { ...index, satisfied: true, reason: 'OK' } }) });
  });
});

describe('dependency control', () => {
  it('VCH-DC-001 no SBOM attached', () => {
    fails('VCH-DC-001', { chain: chain({ attestations: [] }) });
    passes('VCH-DC-001');
    passes('VCH-DC-001', { chain: chain({ attestations: [] }), sbom: [npm('express', '4.18.2')] });
    // An unsigned cosign .sbom counts only when the policy accepts unsigned evidence for this check.
    const unsignedSbom = { chain: chain({ attestations: [] }, [{ kind: 'sbom', subject: IMAGE_DIGEST, via: 'cosign-tag', manifestDigest: D('9') }]) };
    fails('VCH-DC-001', unsignedSbom);
    passes('VCH-DC-001', { ...unsignedSbom, policy: parsePolicy('checks:\n  VCH-DC-001: {unsignedEvidence: true}\n', 'p.yaml') });
    // An SBOM attestation that did not verify never counts.
    fails('VCH-DC-001', { chain: chain({ attestations: [{ predicateType: 'https://cyclonedx.org/bom', digest: D('2'), verified: false, reason: 'UNTRUSTED_SIGNER', signer: null }] }) });
  });

  it('VCH-DC-002 SBOM does not match the catalogue', () => {
    const r = fails('VCH-DC-002', { sbom: [npm('express', '4.17.0'), npm('left-pad', '1.3.0')] });
    assert.deepEqual(r.map((x) => x.message).sort(), ['deb/curl@7.88.1-10 is in the image but not in the SBOM', 'npm/express: the SBOM says 4.17.0, the image has 4.18.2', 'npm/left-pad@1.3.0 is in the SBOM but not found in the image']);
    passes('VCH-DC-002', { sbom: [npm('express', '4.18.2'), deb('curl', '7.88.1-10')] });
    passes('VCH-DC-002'); // nothing to compare
  });

  it('VCH-DC-003 application without a lockfile (npm and Python)', () => {
    const layers = withLayer([dir('/srv'), file('/srv/package.json'), file('/srv/node_modules/x/package.json'), file('/api/pyproject.toml'), file('/api/Pipfile'), file('/usr/local/lib/python3.12/site-packages/x/pyproject.toml'), file('/lib/pkg/package.json')]);
    assert.deepEqual(fails('VCH-DC-003', { layers }).map((r) => r.subject.path), ['/api/Pipfile', '/api/pyproject.toml', '/srv/package.json']);
    passes('VCH-DC-003');
    passes('VCH-DC-003', { layers: withLayer([file('/srv/package.json'), file('/srv/yarn.lock'), file('/srv/node_modules/x/package.json')]) });
  });

  it('VCH-DC-004 downgrades against the baseline', () => {
    const r = fails('VCH-DC-004', { baseline: [npm('express', '4.19.0'), deb('curl', '7.88.1-10')] });
    assert.equal(r.length, 1);
    assert.equal(r[0]!.message, 'npm/express is downgraded from 4.19.0 (baseline) to 4.18.2');
    assert.equal(r[0]!.subject.package?.purl, 'pkg:npm/express@4.18.2');
    passes('VCH-DC-004', { baseline: [npm('express', '4.17.0'), deb('curl', '7.88.1-9')] });
    passes('VCH-DC-004'); // no baseline
  });

  it('VCH-DC-005 copyleft licences in new packages', () => {
    const pkgs = [npm('express', '4.18.2'), npm('gpl-lib', '1.0.0', ['GPL-3.0-only']), npm('dual', '1.0.0', ['GPL-2.0-or-later OR MIT']), npm('agpl', '2.0.0', ['(AGPL-3.0-only)']), npm('lgpl', '1.0.0', ['LGPL-2.1-only']), deb('bash', '5.2')];
    assert.deepEqual(fails('VCH-DC-005', { packages: pkgs }).map((r) => r.subject.package?.name), ['gpl-lib', 'agpl']);
    // With a baseline, only new packages count.
    assert.deepEqual(fails('VCH-DC-005', { packages: pkgs, baseline: [npm('gpl-lib', '0.9.0', ['GPL-3.0-only'])] }).map((r) => r.subject.package?.name), ['agpl']);
    passes('VCH-DC-005');
  });

  it('VCH-DC-006 unknown licences in new packages', () => {
    const pkgs = [npm('express', '4.18.2'), npm('nolic', '1.0.0', []), npm('noassert', '1.0.0', ['NOASSERTION']), npm('see', '1.0.0', ['SEE LICENSE IN LICENSE.txt'])];
    assert.deepEqual(fails('VCH-DC-006', { packages: pkgs }).map((r) => r.subject.package?.name), ['nolic', 'noassert', 'see']);
    passes('VCH-DC-006');
  });
});

function scan(over: Partial<ScanReport>): ScanReport {
  return { path: 'scan.json', format: 'trivy-json', scanner: 'trivy', scannedAt: '2024-06-09T00:00:00.000Z', timeFrom: 'document', subjects: [CONFIG_DIGEST], target: 'x:1', findings: [], ...over };
}

describe('compliance', () => {
  const noVulnAtt = chain({ attestations: [] });
  it('VCH-CP-001 no vulnerability scan', () => {
    fails('VCH-CP-001', { chain: noVulnAtt });
    passes('VCH-CP-001'); // verified vuln attestation
    passes('VCH-CP-001', { chain: noVulnAtt, scans: [scan({})] });
    passes('VCH-CP-001', { chain: noVulnAtt, scans: [scan({ subjects: [] })] }); // names no image: taken as given
    assert.match(fails('VCH-CP-001', { chain: noVulnAtt, scans: [scan({ subjects: [D('f')] })] })[0]!.message, /names another image/);
    assert.match(
      fails('VCH-CP-001', { chain: chain({ attestations: [{ predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1', digest: D('3'), verified: false, reason: 'UNTRUSTED_SIGNER', signer: null }] }) })[0]!.message,
      /does not verify/,
    );
  });

  it('VCH-CP-002 scan older than the policy allows', () => {
    assert.match(fails('VCH-CP-002', { scans: [scan({ scannedAt: '2024-05-01T00:00:00.000Z' })] })[0]!.message, /40 days ago \(policy allows 7\)/);
    passes('VCH-CP-002', { scans: [scan({})] });
    passes('VCH-CP-002', { scans: [scan({ scannedAt: '2024-05-01T00:00:00.000Z' })], policy: parsePolicy('scans:\n  maxAgeDays: 60\n', 'p.yaml') });
    passes('VCH-CP-002'); // no scan
    fails('VCH-CP-002', { scans: [scan({ scannedAt: null, timeFrom: 'none' })] });
  });

  it('VCH-CP-003 findings at or above the threshold, with their own severity', () => {
    const findings: ScanReport['findings'] = [
      { id: 'CVE-1', severity: 'critical', rawSeverity: 'CRITICAL', package: { name: 'musl', version: '1.1', type: 'apk', purl: 'pkg:apk/alpine/musl@1.1' }, location: null },
      { id: 'CVE-2', severity: 'high', rawSeverity: 'HIGH', package: { name: 'ssl', version: '1', type: 'apk', purl: '' }, location: null },
      { id: 'CVE-3', severity: 'medium', rawSeverity: 'MEDIUM', package: null, location: 'library/alpine' },
    ];
    const r = fails('VCH-CP-003', { scans: [scan({ findings }), scan({ path: 'again.json', findings })] });
    assert.deepEqual(r.map((x) => [x.message.split(' ')[0], x.severity]), [['CVE-1', 'critical'], ['CVE-2', 'high']]);
    assert.equal(fails('VCH-CP-003', { scans: [scan({ findings })], policy: parsePolicy('scans:\n  failSeverity: medium\n', 'p.yaml') }).length, 3);
    passes('VCH-CP-003', { scans: [scan({ findings: findings.slice(2) })] });
    passes('VCH-CP-003');
  });
});

describe('runner', () => {
  it('history lines are redacted in layer subjects', () => {
    const r = fails('VCH-HY-003', { layers: withLayer([], 'RUN |1 NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789 /bin/sh -c curl https://u:p4ss@x.io/i.sh | sh') });
    const line = r[0]!.subject.layer!.createdBy!;
    assert.ok(!line.includes('npm_abcdef') && !line.includes('p4ss'), line);
    assert.match(line, /NPM_TOKEN=<redacted>/);
  });

  it('disabled checks produce no result; policy severities win', () => {
    const policy = parsePolicy('checks:\n  VCH-HY-006: {enabled: false}\n  VCH-LP-001: {severity: low}\n', 'p.yaml', registry.ids());
    const results = runChecks(contextOf({ healthcheck: null, user: 'root', policy }), registry.all());
    assert.ok(!results.some((r) => r.id === 'VCH-HY-006'));
    assert.equal(results.find((r) => r.id === 'VCH-LP-001')!.severity, 'low');
  });

  it('a check that throws fails instead of passing', () => {
    const broken = { ...registry.get('VCH-LP-001')!, run: () => { throw new Error('boom'); } };
    const r = runChecks(contextOf(), [broken]);
    assert.equal(r[0]!.status, 'fail');
    assert.match(r[0]!.message, /could not run: boom/);
  });
});
