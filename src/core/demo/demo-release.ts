/**
 * The demo release behind `vouch review --demo`: release "shop" 2.4.0 with two
 * images, `api` and `worker`, as OCI layouts carrying cosign-style
 * attachments (`sha256-<hex>.sig` / `.att` / `.sbom` tags in the layout), a
 * demo trust file, and the previous release (2.3.0) as the baseline. Generated
 * once by vouch's own code (no Docker, registry or network) under the cache
 * dir, atomically, and reused.
 *
 * Planted for the reviewer to find:
 * - api: the demo image's setuid binary (/usr/bin/demo-su) and the credential
 *   file /app/.env deleted in a later layer but still in an earlier one;
 * - api: lodash downgraded since 2.3.0 (4.17.21 → 4.17.20), and the attached
 *   SBOM claims 4.17.21 where the image has 4.17.20;
 * - api: SLSA provenance whose source repository (…/shop-api-fork) disagrees
 *   with the image's org.opencontainers.image.source annotation;
 * - worker: unsigned, and a secret-like env var (AWS_SECRET_ACCESS_KEY).
 *
 * Beside the images: `vouch.release.yaml` (the release under review, paths
 * relative to the folder), `vouch.trust.yaml` (trusts the CI key for images,
 * the demo reviewer for approvals), the demo reviewer's approval key
 * (`reviewer.key`, encrypted PKCS#8 as `vouch key generate` writes it, with
 * the passphrase DEMO_REVIEWER_PASSPHRASE), and the approval record of 2.3.0,
 * signed by that key through the same core calls as `vouch approve`
 * (approvals/shop-2.3.0.demo-reviewer.sigstore.json): the release's baseline.
 *
 * The CI key is Ed25519 and the reviewer key ECDSA P-256 (what approval keys
 * are), both from fixed seeds: the same keys on every machine. The CI
 * signatures are deterministic; the ECDSA signature of the baseline approval
 * and the key file's encryption salt are random, so those two files differ in
 * their bytes (not in what they say) from one generation to the next.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContentCache } from '../cache/cache.js';
import { VouchError } from '../errors.js';
import { OciLayoutWriter, REF_NAME_ANNOTATION } from '../oci/layout-writer.js';
import { tarBuffer, type TarEntry } from '../oci/tar-writer.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { DEMO_CREATED, DEMO_PLANTED, DEMO_REVISION, DEMO_SOURCE, demoLayerTars } from './demo-image.js';

/** Bump whenever the content changes: a new directory is generated beside the old one. */
export const DEMO_RELEASE_VERSION = 5;
export const DEMO_RELEASE = { name: 'shop', version: '2.4.0', previous: '2.3.0' } as const;
export const DEMO_REGISTRY = 'registry.example.com/shop';
export const DEMO_WORKER_SOURCE = 'https://github.com/vouch-demo/shop-worker';
export const DEMO_WORKER_REVISION = '9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d';
/** Where the api's provenance says it was built from: not what the image's annotation says. */
export const DEMO_PROVENANCE_SOURCE = 'https://github.com/vouch-demo/shop-api-fork';
export const DEMO_RUN = 'https://github.com/vouch-demo/shop-api/actions/runs/4242/attempts/1';
const SLSA_V1 = 'https://slsa.dev/provenance/v1';
/** The demo reviewer key's passphrase (documented: `VOUCH_KEY_PASSWORD=vouch-demo vouch approve --key …/reviewer.key`). */
export const DEMO_REVIEWER_PASSPHRASE = 'vouch-demo';
export const DEMO_REVIEWER = 'demo-reviewer';
/** When the demo reviewer approved 2.3.0 (fixed: the record says the same on every machine). */
const BASELINE_REVIEWED_AT = new Date('2024-04-20T09:00:00Z');
const MTIME = Date.parse('2024-05-01T11:00:00Z') / 1000;

export interface DemoReleaseImage {
  name: 'api' | 'worker';
  /** `oci:DIR:TAG` */
  reference: string;
  digest: string;
}

export interface DemoRelease {
  dir: string;
  name: string;
  version: string;
  images: DemoReleaseImage[];
  /** The previous release's images, by name: the baseline to diff against. */
  baseline: DemoReleaseImage[];
  trustFile: string;
  /** The signed approval record of 2.3.0 (demo reviewer key): the release file's baseline. */
  baselineApproval: string;
  /** Public key (PEM) of the demo reviewer, whom the trust file trusts for approvals. */
  reviewerPublicKeyPem: string;
  /** vouch.release.yaml of 2.4.0. */
  releaseFile: string;
  /** The demo reviewer's private key (encrypted PKCS#8, passphrase `reviewerPassphrase`). */
  reviewerKey: string;
  reviewerPassphrase: string;
  generated: boolean;
}

/** The demo reviewer's approval key: ECDSA P-256 (as `vouch key generate` makes) with its scalar from a fixed seed. */
export function demoReviewerKey(): KeyObject {
  const d = createHash('sha256').update('vouch demo reviewer approval key v1').digest();
  // SEC1 ECPrivateKey {version 1, d, [0] prime256v1}; the public point is derived from d.
  const der = Buffer.concat([Buffer.from('30310201010420', 'hex'), d, Buffer.from('a00a06082a8648ce3d030107', 'hex')]);
  return createPrivateKey({ key: der, format: 'der', type: 'sec1' });
}

/** Ed25519 key from a fixed seed: the demo's signatures are the same bytes on every machine. */
export function demoKey(purpose: 'ci' | 'reviewer'): KeyObject {
  const seed = createHash('sha256').update(`vouch demo ${purpose} key v1`).digest();
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

const pem = (k: KeyObject): string => createPublicKey(k).export({ type: 'spki', format: 'pem' }).toString();
const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export function demoReleaseDir(cacheDir: string): string {
  return join(cacheDir, `demo-release-v${DEMO_RELEASE_VERSION}`);
}

// ---------------------------------------------------------------------------
// Small deterministic layers

type File = { path: string; content?: string; mode?: number; type?: 'dir' | 'symlink'; target?: string };

function layer(files: File[]): Buffer {
  const dirs = new Set<string>();
  const out: Array<{ entry: TarEntry; data?: Buffer }> = [];
  const addDirs = (p: string): void => {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      out.push({ entry: { path: `${d}/`, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: MTIME } as TarEntry });
    }
  };
  for (const f of files) {
    addDirs(f.path);
    if (f.type === 'symlink') out.push({ entry: { path: f.path, type: 'symlink', linkname: f.target!, mtime: MTIME } as TarEntry });
    else if (f.type === 'dir') {
      dirs.add(f.path);
      out.push({ entry: { path: `${f.path}/`, type: 'dir', mode: f.mode ?? 0o755, uid: 0, gid: 0, mtime: MTIME } as TarEntry });
    } else {
      const data = Buffer.from(f.content ?? '', 'utf8');
      out.push({ entry: { path: f.path, type: 'file', mode: f.mode ?? 0o644, uid: 0, gid: 0, size: data.length, mtime: MTIME } as TarEntry, data });
    }
  }
  return tarBuffer(out);
}

const apk = (pkgs: Array<[string, string, string]>): string => pkgs.map(([n, v, l]) => `P:${n}\nV:${v}\nA:x86_64\nL:${l}\nT:${n} package\n`).join('\n');
const distInfo = (name: string, version: string, license: string): File => ({
  path: `usr/lib/python3.11/site-packages/${name}-${version}.dist-info/METADATA`,
  content: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nLicense: ${license}\n`,
});

const WORKER_APK: Array<[string, string, string]> = [
  ['musl', '1.2.4_git20230717-r4', 'MIT'],
  ['busybox', '1.36.1-r15', 'GPL-2.0-only'],
  ['python3', '3.11.8-r0', 'PSF-2.0'],
];

function workerLayers(requests: string): Buffer[] {
  const base = layer([
    { path: 'etc/os-release', content: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' },
    { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nworker:x:1000:1000::/srv:/sbin/nologin\n' },
    { path: 'etc/group', content: 'root:x:0:\nworker:x:1000:\n' },
    { path: 'bin/busybox', content: '\x7fELF demo busybox\n', mode: 0o755 },
    { path: 'bin/sh', type: 'symlink', target: '/bin/busybox' },
    { path: 'lib/apk/db/installed', content: apk(WORKER_APK) },
  ]);
  const app = layer([
    { path: 'srv/worker.py', content: 'import requests\n\ndef main():\n    print("working")\n' },
    distInfo('requests', requests, 'Apache-2.0'),
    distInfo('celery', '5.3.6', 'BSD-3-Clause'),
  ]);
  return [base, app];
}

// ---------------------------------------------------------------------------
// Attachments in a layout, as cosign writes them to a registry (tags in index.json)

interface AttachmentLayer {
  mediaType: string;
  bytes: Buffer;
  annotations: Record<string, string>;
}

async function putBlob(dir: string, bytes: Buffer): Promise<string> {
  const d = sha256(bytes);
  await writeFile(join(dir, 'blobs', 'sha256', d.slice(7)), bytes);
  return d;
}

async function attach(dir: string, subject: string, suffix: 'sig' | 'att' | 'sbom', layers: AttachmentLayer[]): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.bytes)) } }));
  const cfg = await putBlob(dir, config);
  const descs: Descriptor[] = [];
  for (const l of layers) descs.push({ mediaType: l.mediaType, digest: await putBlob(dir, l.bytes), size: l.bytes.length, ...(Object.keys(l.annotations).length ? { annotations: l.annotations } : {}) });
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: config.length }, layers: descs }),
  );
  const md = await putBlob(dir, manifest);
  const indexPath = join(dir, 'index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as ImageIndex;
  index.manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: manifest.length, annotations: { [REF_NAME_ANNOTATION]: `${subject.replace(':', '-')}.${suffix}` } });
  await writeFile(indexPath, JSON.stringify(index));
}

function signatureLayer(dockerReference: string, digest: string, key: KeyObject): AttachmentLayer {
  const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null }));
  return { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', bytes: payload, annotations: { 'dev.cosignproject.cosign/signature': sign(null, payload, key).toString('base64') } };
}

function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

function provenanceLayer(name: string, digest: string, key: KeyObject): AttachmentLayer {
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `${DEMO_REGISTRY}/${name}`, digest: { sha256: digest.slice(7) } }],
      predicateType: SLSA_V1,
      predicate: {
        buildDefinition: {
          buildType: 'https://actions.github.io/buildtypes/workflow/v1',
          externalParameters: { workflow: { ref: 'refs/heads/main', repository: DEMO_PROVENANCE_SOURCE, path: '.github/workflows/release.yml' } },
          internalParameters: { github: { event_name: 'push' } },
          resolvedDependencies: [{ uri: `git+${DEMO_PROVENANCE_SOURCE}@refs/heads/main`, digest: { gitCommit: DEMO_REVISION } }],
        },
        runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' }, metadata: { invocationId: DEMO_RUN, startedOn: '2024-05-01T11:50:00Z', finishedOn: DEMO_CREATED } },
      },
    }),
  );
  const type = 'application/vnd.in-toto+json';
  const env = { payloadType: type, payload: statement.toString('base64'), signatures: [{ keyid: '', sig: sign(null, pae(type, statement), key).toString('base64') }] };
  return { mediaType: 'application/vnd.dsse.envelope.v1+json', bytes: Buffer.from(JSON.stringify(env)), annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: SLSA_V1 } };
}

/** An SPDX 2.3 document listing `packages` (as a CI pipeline's SBOM step would attach it). */
function spdx(name: string, packages: Array<{ name: string; version: string; purl: string; license: string }>): AttachmentLayer {
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://vouch.dev/demo/${name}`,
    creationInfo: { created: DEMO_CREATED, creators: ['Tool: demo-ci-sbom'] },
    packages: packages.map((p, i) => ({
      SPDXID: `SPDXRef-Package-${i}`,
      name: p.name,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      licenseConcluded: p.license,
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }],
    })),
  };
  return { mediaType: 'text/spdx+json', bytes: Buffer.from(JSON.stringify(doc)), annotations: {} };
}

// ---------------------------------------------------------------------------

async function writeImage(dir: string, tag: string, tars: Buffer[], createdBy: string[], opts: { config: Record<string, unknown>; source: string; revision: string; title: string }): Promise<string> {
  const w = await OciLayoutWriter.create(dir);
  for (const [i, t] of tars.entries()) await w.addLayer(t, { compression: 'gzip', gzipLevel: 9, createdBy: createdBy[i] ?? '' });
  const written = await w.finish({ tags: [tag], created: DEMO_CREATED, architecture: 'amd64', os: 'linux', config: opts.config, labels: { 'org.opencontainers.image.title': opts.title }, source: opts.source, revision: opts.revision });
  return written.manifestDigest;
}

const npmPurl = (n: string, v: string): string => `pkg:npm/${n.replace('@', '%40')}@${v}`;

async function generate(tmp: string, cacheDir: string): Promise<Omit<DemoRelease, 'dir' | 'generated'>> {
  await mkdir(tmp, { recursive: true });
  const ci = demoKey('ci');
  const reviewer = demoReviewerKey();
  await writeFile(join(tmp, 'ci.pub'), pem(ci));
  await writeFile(join(tmp, 'reviewer.pub'), pem(reviewer));
  const reviewerKey = join(tmp, 'reviewer.key');
  const { encryptPkcs8 } = await import('../approval/key.js');
  await writeFile(reviewerKey, encryptPkcs8(reviewer.export({ type: 'pkcs8', format: 'der' }) as Buffer, DEMO_REVIEWER_PASSPHRASE), { mode: 0o600 });
  await chmod(reviewerKey, 0o600);
  await writeFile(
    join(tmp, 'vouch.trust.yaml'),
    [
      "# The demo release's trust file (generated by vouch).",
      '# signers: the CI key signs images and provenance. The demo is generated offline, so its signatures',
      '#   have no transparency-log entry: tlog: optional says so (a real trust file keeps the default, required).',
      `# reviewers: the demo reviewer signs approvals with ./reviewer.key (passphrase "${DEMO_REVIEWER_PASSPHRASE}").`,
      '# require.tlog: false makes an offline key-signed approval (no Rekor entry) valid; an organisation that',
      '#   wants every approval logged sets true and approves with --rekor-url. One trusted approval suffices.',
      'version: 1',
      'signers:',
      '  - {name: demo-ci, key: ./ci.pub, tlog: optional}',
      'reviewers:',
      `  - {name: ${DEMO_REVIEWER}, key: ./reviewer.pub}`,
      'require:',
      '  approvals: 1',
      '  tlog: false',
      '',
    ].join('\n'),
  );

  // api 2.4.0: the demo image (setuid binary, leftover .env) as built by CI.
  const apiTars = demoLayerTars();
  const apiCreated = DEMO_PLANTED.layers.map((l) => l.createdBy);
  const { Labels: _labels, ...apiConfig } = DEMO_PLANTED.config;
  const api = await writeImage(join(tmp, 'api'), DEMO_RELEASE.version, apiTars, apiCreated, { config: apiConfig, source: DEMO_SOURCE, revision: DEMO_REVISION, title: 'shop-api' });
  // api 2.3.0: the same base and app, but lodash 4.17.21 (2.4.0 downgrades it), no cleanup layer, one more port.
  const lodashBack = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replaceAll('4.17.20', '4.17.21'), 'latin1');
  const apiOld = await writeImage(join(tmp, 'api-2.3.0'), DEMO_RELEASE.previous, [apiTars[0]!, apiTars[1]!, lodashBack(apiTars[2]!)], apiCreated.slice(0, 3), {
    config: { ...apiConfig, ExposedPorts: { '8080/tcp': {}, '9090/tcp': {} } },
    source: DEMO_SOURCE,
    revision: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
    title: 'shop-api',
  });
  const workerConfig = { User: 'worker', WorkingDir: '/srv', Cmd: ['python3', '/srv/worker.py'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] };
  const worker = await writeImage(join(tmp, 'worker'), DEMO_RELEASE.version, workerLayers('2.31.0'), ['ADD alpine-minirootfs.tar.gz /', 'COPY worker /srv'], {
    // The planted secret: a cloud credential in the image config, visible to anyone who pulls it.
    config: { ...workerConfig, Env: [...workerConfig.Env, 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'] },
    source: DEMO_WORKER_SOURCE,
    revision: DEMO_WORKER_REVISION,
    title: 'shop-worker',
  });
  const workerOld = await writeImage(join(tmp, 'worker-2.3.0'), DEMO_RELEASE.previous, workerLayers('2.28.2'), ['ADD alpine-minirootfs.tar.gz /', 'COPY worker /srv'], {
    config: workerConfig,
    source: DEMO_WORKER_SOURCE,
    revision: '0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6',
    title: 'shop-worker',
  });

  // api: signed by CI, SLSA provenance (from the fork!), and the pipeline's SBOM (which claims lodash 4.17.21).
  const apiDir = join(tmp, 'api');
  await attach(apiDir, api, 'sig', [signatureLayer(`${DEMO_REGISTRY}/api`, api, ci)]);
  await attach(apiDir, api, 'att', [provenanceLayer('api', api, ci)]);
  await attach(apiDir, api, 'sbom', [
    spdx('shop-api-2.4.0', [
      ...DEMO_PLANTED.npm.map((p) => ({ name: p.name, version: p.name === 'lodash' ? '4.17.21' : p.version, purl: npmPurl(p.name, p.name === 'lodash' ? '4.17.21' : p.version), license: 'NOASSERTION' })),
      ...DEMO_PLANTED.dpkg.map((p) => ({ name: p.name, version: p.version, purl: `pkg:deb/debian/${p.name}@${encodeURIComponent(p.version)}?arch=${p.arch}&distro=debian-12`, license: 'NOASSERTION' })),
    ]),
  ]);
  // worker: an SBOM but no signature at all.
  await attach(join(tmp, 'worker'), worker, 'sbom', [
    spdx('shop-worker-2.4.0', [
      { name: 'requests', version: '2.31.0', purl: 'pkg:pypi/requests@2.31.0', license: 'Apache-2.0' },
      { name: 'celery', version: '5.3.6', purl: 'pkg:pypi/celery@5.3.6', license: 'BSD-3-Clause' },
      ...WORKER_APK.map(([n, v, l]) => ({ name: n, version: v, purl: `pkg:apk/alpine/${n}@${encodeURIComponent(v)}?arch=x86_64&distro=alpine-3.19.1`, license: l })),
    ]),
  ]);

  // The release files: 2.4.0 under review, and 2.3.0 (what the baseline approval approved).
  const release = (version: string, api: string, worker: string, baseline?: string): string =>
    [`# The demo release ${version} (generated by vouch; paths are relative to this folder).`, `name: ${DEMO_RELEASE.name}`, `version: ${version}`, 'images:', `  api: oci:./${api}:${version}`, `  worker: oci:./${worker}:${version}`, ...(baseline ? [`baseline: ${baseline}`] : []), 'trust: ./vouch.trust.yaml', ''].join('\n');
  const approvalName = `${DEMO_RELEASE.name}-${DEMO_RELEASE.previous}.${DEMO_REVIEWER}.sigstore.json`;
  await writeFile(join(tmp, `${DEMO_RELEASE.name}-${DEMO_RELEASE.previous}.release.yaml`), release(DEMO_RELEASE.previous, 'api-2.3.0', 'worker-2.3.0'));
  await writeFile(join(tmp, 'vouch.release.yaml'), release(DEMO_RELEASE.version, 'api', 'worker', `./approvals/${approvalName}`));
  const baselineApproval = await approvePrevious(tmp, reviewerKey, join(tmp, 'approvals', approvalName), cacheDir);

  const ref = (name: string, tag: string): string => `oci:${join(tmp, name)}:${tag}`;
  const meta = {
    name: DEMO_RELEASE.name,
    version: DEMO_RELEASE.version,
    images: [
      { name: 'api' as const, reference: ref('api', DEMO_RELEASE.version), digest: api },
      { name: 'worker' as const, reference: ref('worker', DEMO_RELEASE.version), digest: worker },
    ],
    baseline: [
      { name: 'api' as const, reference: ref('api-2.3.0', DEMO_RELEASE.previous), digest: apiOld },
      { name: 'worker' as const, reference: ref('worker-2.3.0', DEMO_RELEASE.previous), digest: workerOld },
    ],
    trustFile: join(tmp, 'vouch.trust.yaml'),
    baselineApproval,
    reviewerPublicKeyPem: pem(reviewer),
    releaseFile: join(tmp, 'vouch.release.yaml'),
    reviewerKey,
    reviewerPassphrase: DEMO_REVIEWER_PASSPHRASE,
  };
  return meta;
}

/**
 * The demo reviewer's approval of 2.3.0, made as `vouch session init` + `vouch approve --key` make one
 * (a session of the 2.3.0 release file, the statement built from it, signed, written, verified).
 */
async function approvePrevious(dir: string, keyPath: string, out: string, cacheDir: string): Promise<string> {
  const [{ createSession }, { writeVerifiedApproval, keySigner }, { loadTrustFile }] = await Promise.all([import('../review/session.js'), import('../approval/approve.js'), import('../trust/trust-file.js')]);
  await mkdir(join(dir, 'approvals'), { recursive: true });
  const session = await createSession(join(dir, `${DEMO_RELEASE.name}-${DEMO_RELEASE.previous}.release.yaml`), { cache: new ContentCache(cacheDir), now: BASELINE_REVIEWED_AT });
  const trust = await loadTrustFile(join(dir, 'vouch.trust.yaml'));
  const { signer, identity, trustedAs } = await keySigner(keyPath, DEMO_REVIEWER_PASSPHRASE, trust);
  const rationale = 'demo: 2.3.0 reviewed and approved; its findings were accepted for that release';
  const written = await writeVerifiedApproval({ session, decision: 'approved', rationale, reviewer: { name: trustedAs ?? DEMO_REVIEWER, identity }, trusted: trustedAs !== null, signer, trust, evidenceTrust: trust, out, now: BASELINE_REVIEWED_AT });
  if (!written.written || !written.check.verified) throw new VouchError('CACHE_ERROR', `demo release: the baseline approval does not verify (${written.check.code}: ${written.check.message})`);
  return out;
}

interface Stored {
  version: number;
  release: Omit<DemoRelease, 'dir' | 'generated'>;
}

/** Paths in release.json are relative to the release directory, so a renamed directory stays valid. */
function relocate(r: Omit<DemoRelease, 'dir' | 'generated'>, from: string, to: string): Omit<DemoRelease, 'dir' | 'generated'> {
  const fix = (s: string): string => s.split(from).join(to);
  const img = (i: DemoReleaseImage): DemoReleaseImage => ({ ...i, reference: fix(i.reference) });
  return { ...r, images: r.images.map(img), baseline: r.baseline.map(img), trustFile: fix(r.trustFile), baselineApproval: fix(r.baselineApproval), releaseFile: fix(r.releaseFile), reviewerKey: fix(r.reviewerKey) };
}

async function readExisting(dir: string): Promise<DemoRelease | undefined> {
  try {
    const s = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8')) as Stored;
    if (s.version !== DEMO_RELEASE_VERSION) return undefined;
    return { ...relocate(s.release, '${DIR}', dir), dir, generated: false };
  } catch {
    return undefined;
  }
}

/** The demo release under `cacheDir`: generated once (atomically: built aside, then renamed into place), then reused. */
export async function ensureDemoRelease(cacheDir: string): Promise<DemoRelease> {
  const dir = demoReleaseDir(cacheDir);
  const existing = await readExisting(dir);
  if (existing) return existing;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    const meta = await generate(tmp, cacheDir);
    const stored: Stored = { version: DEMO_RELEASE_VERSION, release: relocate(meta, tmp, '${DIR}') };
    await writeFile(join(tmp, 'release.json'), JSON.stringify(stored, null, 2));
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return { ...relocate(meta, tmp, dir), dir, generated: true };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    const raced = await readExisting(dir);
    if (raced) return raced;
    throw e instanceof VouchError ? e : new VouchError('CACHE_ERROR', `demo release: ${(e as Error).message}`, { cause: e });
  }
}
