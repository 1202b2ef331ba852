/**
 * A review model built from core-shaped data through the loader's pure part
 * (imageModel): two images, a chain with a good and a bad signature, an
 * attached SBOM that disagrees with the catalogue, a downgrade, and hostile
 * strings (ESC[2J, OSC 8, OSC 52, bidi) in file names, labels, package names,
 * signer subjects, provenance and check messages.
 */
import { render } from 'ink-testing-library';
import { createElement as h } from 'react';
import type { CheckResult, Subject } from '../../src/core/checks/types.js';
import type { ImageAnalysis } from '../../src/core/layers/image-analysis.js';
import type { LayerEntry } from '../../src/core/layers/types.js';
import { compareInventories } from '../../src/core/packages/compare.js';
import type { Package } from '../../src/core/packages/types.js';
import type { ChainReport } from '../../src/core/trust/chain.js';
import type { DiffReport } from '../../src/core/diff/index.js';
import { App, type AppProps } from '../../src/tui/app.js';
import { makeTheme } from '../../src/tui/components/text.js';
import { imageModel } from '../../src/tui/build.js';
import type { ReviewModel } from '../../src/tui/model.js';
import { InMemorySessionPort } from '../../src/tui/session-port.js';
import { KEYMAP } from '../../src/tui/keys.js';

export const CLEAR = '\x1b[2J';
export const OSC8 = '\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07';
export const OSC52 = '\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07';
export const HOSTILE = [CLEAR, OSC8, OSC52];
export const EVIL_FILE = `/app/evil${CLEAR}name${OSC52}`;
export const EVIL_PKG = `evil${OSC8}pkg`;

const D = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function entry(path: string, extra: Partial<LayerEntry> = {}): LayerEntry {
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 100, mtime: 0, ...extra };
}

function analysis(name: string, digest: string, layers: Array<{ createdBy: string; entries: number }>, labels: Record<string, string>): ImageAnalysis {
  return {
    analyzerVersion: 1,
    reference: `oci:/tmp/${name}:1`,
    transport: 'oci',
    name,
    digest,
    synthesizedManifest: false,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    index: null,
    platform: { os: 'linux', architecture: 'amd64', variant: null },
    config: { digest: D(9), user: '', env: [`TOKEN=${CLEAR}`], entrypoint: null, cmd: ['node', 'server.js'], workingDir: '/app', exposedPorts: [], volumes: [], labels, created: null, stopSignal: null, healthcheck: null },
    history: layers.map((l) => ({ created: null, createdBy: l.createdBy, emptyLayer: false, comment: null })),
    layers: layers.map((l, i) => ({ index: i, digest: D(i + 1), diffId: D(i + 5), mediaType: 'x', size: 1000, uncompressedSize: 2000, createdBy: l.createdBy, created: null, entries: l.entries, added: l.entries, modified: 0, removed: 0, addedBytes: 0, sizeBytes: 2000, warnings: [] })),
    files: 6,
    totalBytes: 600,
    source: { repository: 'https://github.com/acme/shop', revision: 'abc123' },
    traceability: { repository: 'https://github.com/acme/shop', revision: 'abc123', created: null, version: null, baseName: null, baseDigest: null, evidence: {}, conflicts: [] },
    warnings: [],
    efficiency: 0.9,
    sizeBytes: 4000,
    userSizeBytes: 2000,
    wastedBytes: 200,
    userWastedPercent: 0.1,
    inefficientFiles: [{ path: '/etc/passwd', count: 2, wastedBytes: 200 }],
  };
}

function pkg(type: string, name: string, version: string, layer: string | null, licenses: string[] = ['MIT']): Package {
  return { type, name, version, purl: `pkg:${type}/${name}@${version}`, licenses, locations: [{ path: `/usr/lib/${name}`, layer }] };
}

function result(id: string, step: CheckResult['step'], severity: CheckResult['severity'], image: string, subject: Partial<Omit<Subject, 'image'>>, message: string, status: CheckResult['status'] = 'fail'): CheckResult {
  return { id, step, severity, status, subject: { image, layer: null, path: null, env: null, package: null, signature: null, ...subject }, message, exception: null };
}

/** `workerArchive`: the worker image comes from a docker-archive that stores no manifest (vouch synthesised its digest). */
export function fixtureModel(opts: { workerArchive?: boolean } = {}): ReviewModel {
  const apiLabel = `api@${D(7)}`;
  const walks = [
    {
      diffId: D(5),
      entries: [entry('/etc', { type: 'dir', mode: 0o755 }), entry('/etc/passwd'), entry('/usr/bin/su', { mode: 0o4755 }), entry('/app', { type: 'dir' }), entry('/app/.env'), entry(EVIL_FILE), entry('/app/server.js')],
    },
    { diffId: D(6), entries: [entry('/app/.env', { type: 'whiteout', size: 0 }), entry('/etc/passwd', { size: 120 }), entry('/app/new.js')] },
  ];
  const catalogue: Package[] = [pkg('deb', 'libc6', '2.36', D(5), ['LGPL-2.1']), pkg('npm', 'lodash', '4.17.20', D(6)), pkg('npm', EVIL_PKG, '1.0.0', D(6)), pkg('npm', 'express', '4.18.2', D(6))];
  const sbom = [pkg('deb', 'libc6', '2.36', null), pkg('npm', 'lodash', '4.17.21', null), pkg('npm', 'ghost', '0.0.1', null), pkg('npm', EVIL_PKG, '1.0.0', null), pkg('npm', 'express', '4.18.2', null)];
  const chain: ChainReport = {
    json: {
      image: { reference: 'oci:/tmp/api:1', digest: D(7) },
      trust: { file: '/tmp/vouch.trust.yaml', implicit: false, trustedRoot: '(built-in)' },
      index: null,
      signatures: [
        { kind: 'cosign', verified: true, reason: 'OK', signer: { type: 'key', keyId: 'abcdef0123456789abcdef', subject: null, issuer: null, trustedAs: 'release-ci' }, tlog: { logIndex: 42, integratedTime: '2024-05-01T12:00:00Z' }, signedDigest: D(7), signedReference: null },
        { kind: 'bundle', verified: false, reason: 'UNTRUSTED_SIGNER', signer: { type: 'keyless', keyId: null, subject: `mallory${CLEAR}@evil`, issuer: `https://issuer${OSC52}`, trustedAs: null }, tlog: null, signedDigest: null, signedReference: null },
      ],
      attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', digest: D(8), verified: true, reason: 'OK', signer: { type: 'key', keyId: 'abcdef', subject: null, issuer: null, trustedAs: 'release-ci' } }],
      provenance: { builder: 'https://github.com/actions/runner', buildType: null, sourceRepository: `https://github.com/acme/other${OSC8}`, sourceRevision: 'abc123', buildRun: 'https://github.com/acme/shop/actions/runs/1' },
      traceability: {
        repository: { value: 'https://github.com/acme/shop', consistent: false, sources: [{ value: 'https://github.com/acme/shop', from: 'org.opencontainers.image.source' as never }, { value: `https://github.com/acme/other${OSC8}`, from: 'provenance' }] },
        revision: { value: 'abc123', consistent: true, sources: [] },
        run: { value: null, consistent: true, sources: [] },
        consistent: false,
      } as ChainReport['json']['traceability'],
    },
    signatureMessages: ['ok', `signed by mallory${CLEAR}, who is not in the trust file`],
    attestationMessages: ['ok'],
    provenanceDetail: { slsaVersion: '1', builder: 'https://github.com/actions/runner', buildType: null, sourceRepository: `https://github.com/acme/other${OSC8}`, sourceRevision: 'abc123', sourceRef: 'refs/heads/main', trigger: null, buildRun: 'https://github.com/acme/shop/actions/runs/1', startedOn: null, finishedOn: null },
    attachments: [],
    trustSource: 'vouch.trust.yaml',
    trustedRootSource: 'demo root',
  };
  const checks: CheckResult[] = [
    result('VCH-LP-002', 'least-privilege', 'high', apiLabel, { path: '/usr/bin/su' }, '/usr/bin/su is setuid'),
    result('VCH-SC-003', 'least-privilege', 'high', apiLabel, { path: '/app/.env' }, 'dotenv file /app/.env deleted in layer 1 but still in layer 0'),
    result('VCH-DC-003', 'dependency-control', 'medium', apiLabel, { package: { name: 'lodash', version: '4.17.20', type: 'npm', purl: 'pkg:npm/lodash@4.17.20' } }, 'lodash was downgraded'),
    result('VCH-PV-002', 'provenance', 'high', apiLabel, { signature: { kind: 'bundle', index: 2, keyId: null, identity: 'mallory', issuer: null, reason: 'UNTRUSTED_SIGNER' } }, `signature by mallory${CLEAR} is not trusted`),
    result('VCH-HY-006', 'compliance', 'info', apiLabel, {}, `no HEALTHCHECK ${OSC52}`),
    result('VCH-TR-001', 'traceability', 'low', apiLabel, {}, 'source is set', 'pass'),
  ];
  const diff: DiffReport = {
    packages: {
      added: [pkg('npm', 'express', '4.18.2', null)],
      removed: [pkg('npm', 'left-pad', '1.3.0', null)],
      changed: [{ name: 'lodash', type: 'npm', from: '4.17.21', to: '4.17.20', direction: 'downgrade' }, { name: 'libc6', type: 'deb', from: '2.35', to: '2.36', direction: 'upgrade' }],
      licenseChanges: [{ name: 'libc6', type: 'deb', from: ['GPL-2.0'], to: ['LGPL-2.1'] }],
    },
    config: { user: { from: 'app', to: '' }, env: { added: [{ name: 'TOKEN', value: '[redacted]' }], removed: [], changed: [] }, entrypoint: null, cmd: null, workingDir: null, exposedPorts: { added: [], removed: [] }, volumes: { added: [], removed: [] }, labels: { added: [{ name: 'evil', value: OSC8 }], removed: [], changed: [] }, baseImage: null },
    layers: { shared: [], added: [{ diffId: D(6), digest: D(2), sizeBytes: 2000, uncompressedSize: 2560, createdBy: 'COPY . /app' }], removed: [] },
    files: null,
  };
  const api = imageModel({
    name: 'api',
    analysis: analysis('api', D(7), [{ createdBy: `FROM debian${CLEAR}`, entries: 7 }, { createdBy: 'RUN rm /app/.env', entries: 3 }], { title: `shop${OSC8}` }),
    walks,
    inventory: { source: 'catalog', distro: null, packages: catalogue, warnings: [] },
    attached: { count: 1, comparison: compareInventories(sbom, catalogue) },
    chain,
    signed: true,
    checks,
    diff,
    baselineLabel: 'api 2.3.0',
  });
  const workerLabel = `worker@${D(3)}`;
  const worker = imageModel({
    name: 'worker',
    analysis: { ...analysis('worker', D(3), [{ createdBy: 'FROM alpine', entries: 2 }], {}), ...(opts.workerArchive ? { transport: 'docker-archive', reference: 'docker-archive:/tmp/worker.tar', synthesizedManifest: true } : {}) },
    walks: [{ diffId: D(5), entries: [entry('/bin', { type: 'dir' }), entry('/bin/worker')] }],
    inventory: { source: 'catalog', distro: null, packages: [pkg('apk', 'musl', '1.2.4', D(5))], warnings: [] },
    attached: null,
    signed: false,
    chain: { ...chain, json: { ...chain.json, image: { reference: 'oci:/tmp/worker:1', digest: D(3) }, signatures: [], attestations: [], provenance: null }, provenanceDetail: null },
    checks: [result('VCH-PV-001', 'provenance', 'high', workerLabel, {}, 'no signature found')],
    diff: null,
    baselineLabel: null,
  });
  return { release: { name: 'shop', version: '2.4.0' }, images: [api, worker], policyDigest: D(4), failOn: 'high', trustSource: 'vouch.trust.yaml', warnings: [] };
}

export function portFor(model: ReviewModel): InMemorySessionPort {
  return new InMemorySessionPort(
    'Rita Reviewer <rita@example.com>',
    model.images.flatMap((im) => im.checks.map((result) => ({ image: im.name, result }))),
    model.failOn,
    () => new Date('2026-01-01T00:00:00Z'),
  );
}

export const tick = (ms = Number(process.env.TUI_TICK ?? 20)): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Render the App and drive it: `keys` are written one at a time, ~20 ms apart, as a terminal would send them. */
export async function open(props: Partial<AppProps> = {}) {
  const model = props.model ?? fixtureModel();
  const port = props.port ?? portFor(model);
  // The default key table unless a test gives one: the reviewer's own preferences must not change the tests.
  const r = render(h(App, { model, port, width: 120, height: 30, theme: makeTheme({ NO_COLOR: '1' }), keys: KEYMAP, ...props }));
  await tick(30);
  // After each key: wait ~20 ms, then until a frame for it arrived and the output has been quiet for 20 ms
  // (the shared CI machine can take far longer than 20 ms per frame; a key that changes nothing gives up after 1 s).
  const press = async (...keys: string[]): Promise<string> => {
    for (const k of keys) {
      const before = r.frames.length;
      r.stdin.write(k);
      await tick();
      const t0 = Date.now();
      while (r.frames.length === before && Date.now() - t0 < 1000) await tick(5);
      // Effects (a Select's onChange, an annotation saved) render again a moment later: wait for 50 quiet ms.
      for (let seen = -1; seen !== r.frames.length; ) {
        seen = r.frames.length;
        await tick(50);
      }
    }
    return r.lastFrame() ?? '';
  };
  const type = async (text: string): Promise<string> => press(...[...text]);
  return { ...r, model, port, press, type, frame: () => r.lastFrame() ?? '' };
}

export const KEY = { down: '\x1b[B', up: '\x1b[A', left: '\x1b[D', right: '\x1b[C', enter: '\r', esc: '\x1b', tab: '\t', shiftTab: '\x1b[Z', pgDown: '\x1b[6~', pgUp: '\x1b[5~' };
