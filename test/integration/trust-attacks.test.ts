/**
 * Issue 8, built for real against the local registry: an attacker who can push
 * anything to the repository and its tags, but cannot sign as a trusted
 * signer, must not get an image past `vouch chain` / `vouch check`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { runCli } from '../helpers/inspect.js';
import { attach, pushBlob, pushImage, pushManifest, signatureLayer, signWithKey, simpleSigningPayload, type Descriptor, type PushedImage } from '../helpers/cosign-sign.js';
import { tarOf } from '../helpers/mini-layout.js';
import { dockerOrSkip } from '../helpers/docker.js';
import { gzipSync } from 'node:zlib';
import type Dockerode from 'dockerode';
import { openRegistryImage } from '../../src/core/sources/registry/source.js';
import { ReferencePins } from '../../src/core/sources/pins.js';
import { VouchError } from '../../src/core/errors.js';

const NS = `attack-${process.pid}-${Date.now() % 1e6}`;
const pemOf = (k: KeyObject): string => k.export({ format: 'pem', type: 'spki' }).toString();
const hashedrekord = (payload: Buffer, sig: Buffer, keyPem: string): object => ({
  apiVersion: '0.0.1',
  kind: 'hashedrekord',
  spec: {
    data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } },
    signature: { content: sig.toString('base64'), publicKey: { content: Buffer.from(keyPem).toString('base64') } },
  },
});

/**
 * A registry in front of the real one whose tag `moving` names image A for the
 * first GET and image B for every later one: a tag moved by the attacker while
 * vouch runs.
 */
async function movingTagProxy(upstream: string, repo: string, first: string, later: string): Promise<{ host: string; tagGets: () => number; server: Server }> {
  let gets = 0;
  const server = createServer((req, res) => {
    let path = req.url ?? '/';
    if (path === `/v2/${repo}/manifests/moving`) {
      if (req.method === 'GET') gets++;
      path = `/v2/${repo}/manifests/${gets <= 1 ? first : later}`;
    }
    const [h, p] = upstream.split(':');
    const up = request({ host: h, port: Number(p), method: req.method, path, headers: { ...req.headers, host: upstream } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, tagGets: () => gets, server };
}

/** A trusted-key signature layer with its Rekor entry (what cosign 2.x writes). */
async function keySigned(sig: SigstoreServices, key: { privateKey: KeyObject; publicKey: KeyObject }, payload: Buffer): Promise<ReturnType<typeof signatureLayer>> {
  const s = signWithKey(key.privateKey, payload);
  return signatureLayer(payload, s, { rekor: await sig.logEntry(hashedrekord(payload, s, pemOf(key.publicKey))) });
}

/** One image manifest for `os/arch` whose config carries the label `stage` (what `docker image inspect` shows after a pull). */
async function pushPlatformImage(host: string, repo: string, tag: string, os: string, arch: string, stage: string): Promise<Descriptor> {
  const tar = tarOf([{ path: 'etc/stage', content: `${stage} ${os}/${arch}\n` }]);
  const layer = await pushBlob(host, repo, gzipSync(tar));
  const config = await pushBlob(host, repo, Buffer.from(JSON.stringify({ architecture: arch, os, config: { Labels: { stage } }, rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`] } })));
  return pushManifest(host, repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
  });
}

/** `docker pull --platform` of `ref` through the real daemon: the `stage` label of what it pulled. */
async function dockerPulledStage(docker: Dockerode, ref: string, platform: string): Promise<string | undefined> {
  await new Promise<void>((resolve, reject) =>
    docker.pull(ref, { platform }, (err: Error | null, stream?: NodeJS.ReadableStream) => (err || !stream ? reject(err ?? new Error("docker pull: no stream")) : docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve())))),
  );
  const image = docker.getImage(ref);
  try {
    return ((await image.inspect()).Config.Labels ?? {})['stage'];
  } finally {
    await image.remove({ force: true }).catch(() => {});
  }
}

describe('trust attacks against a real registry (issue 8)', { timeout: 180_000 }, () => {
  let reg: TestRegistry | undefined;
  let sig: SigstoreServices;
  let dir: string;
  let trustFile: string;
  const trusted = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let proxy: Awaited<ReturnType<typeof movingTagProxy>>;
  let unsignedA: PushedImage;
  let signedB: PushedImage;
  let skip: string | undefined;
  let evilIndex: PushedImage;
  let fullySigned: PushedImage;
  let debugTools: PushedImage;
  let app: PushedImage;
  let allowPlatformTrust: string;
  const annotRepo = `${NS}/annot`;
  let annot: { rel: Descriptor; evilArm: Descriptor; evilAmd: Descriptor };

  before(async () => {
    reg = await startRegistry();
    if (!reg) {
      skip = 'docker-registry not installed';
      return;
    }
    sig = await startSigstoreServices();
    dir = await mkdtemp(join(tmpdir(), 'vouch-attacks-'));
    await writeFile(join(dir, 'trusted_root.json'), JSON.stringify(sig.trustedRoot));
    await writeFile(join(dir, 'cosign.pub'), pemOf(trusted.publicKey));
    trustFile = join(dir, 'vouch.trust.yaml');
    await writeFile(trustFile, ['trustedRoot: ./trusted_root.json', 'signers:', '  - name: release-key', '    key: ./cosign.pub', ''].join('\n'));
    const h = reg.host;
    // 1. the moving tag: A unsigned, B signed by the trusted key (for the repository as seen through the proxy).
    unsignedA = await pushImage(h, `${NS}/moving`, 'a', { seed: 'unsigned A' });
    signedB = await pushImage(h, `${NS}/moving`, 'b', { seed: 'signed B' });
    proxy = await movingTagProxy(h, `${NS}/moving`, unsignedA.digest, signedB.digest);
    const pb = simpleSigningPayload(`${proxy.host}/${NS}/moving`, signedB.digest);
    await attach(h, `${NS}/moving`, signedB.digest, 'sig', [await keySigned(sig, trusted, pb)]);

    // 2. the attacker's index: the signed amd64 manifest of a release plus an unsigned arm64 one, the index itself unsigned.
    evilIndex = await pushImage(h, `${NS}/multi`, 'evil', { multiPlatform: true, seed: 'evil index' });
    const pa = simpleSigningPayload(`${h}/${NS}/multi`, evilIndex.digest);
    await attach(h, `${NS}/multi`, evilIndex.digest, 'sig', [await keySigned(sig, trusted, pa)]);
    // ... and an honest index whose every platform is signed.
    fullySigned = await pushImage(h, `${NS}/multi`, 'honest', { multiPlatform: true, seed: 'honest index' });
    const index = JSON.parse(Buffer.from(await (await fetch(`http://${h}/v2/${NS}/multi/manifests/${fullySigned.index!.digest}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } })).arrayBuffer()).toString());
    for (const m of index.manifests as Array<{ digest: string }>) {
      const p = simpleSigningPayload(`${h}/${NS}/multi`, m.digest);
      await attach(h, `${NS}/multi`, m.digest, 'sig', [await keySigned(sig, trusted, p)]);
    }
    allowPlatformTrust = join(dir, 'allow-platform.trust.yaml');
    await writeFile(allowPlatformTrust, ['trustedRoot: ./trusted_root.json', 'allowPlatformOnlySignatures: true', 'signers:', '  - name: release-key', '    key: ./cosign.pub', ''].join('\n'));

    // 2b. (rev-attack8 #1) evil entries hidden from vouch by a vnd.docker.reference.type annotation, with real platforms.
    const rel = await pushPlatformImage(h, annotRepo, 'release', 'linux', 'amd64', 'release');
    await attach(h, annotRepo, rel.digest, 'sig', [await keySigned(sig, trusted, simpleSigningPayload(`${h}/${annotRepo}`, rel.digest))]);
    const evilArm = await pushPlatformImage(h, annotRepo, 'evil-arm64', 'linux', 'arm64', 'evil');
    const evilAmd = await pushPlatformImage(h, annotRepo, 'evil-amd64', 'linux', 'amd64', 'evil');
    const att = await pushPlatformImage(h, annotRepo, 'attestation', 'unknown', 'unknown', 'attestation');
    annot = { rel, evilArm, evilAmd };
    const amd64 = { os: 'linux', architecture: 'amd64' };
    const buildkitAtt = { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': rel.digest };
    const indexes: Record<string, object[]> = {
      annot: [{ ...rel, platform: amd64 }, { ...evilArm, platform: { os: 'linux', architecture: 'arm64' }, annotations: buildkitAtt }],
      'annot-x': [{ ...rel, platform: amd64 }, { ...evilArm, platform: { os: 'linux', architecture: 'arm64' }, annotations: { 'vnd.docker.reference.type': 'x' } }],
      first: [{ ...evilAmd, platform: amd64, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }, { ...rel, platform: amd64 }],
      dup: [{ ...rel, platform: amd64 }, { ...evilAmd, platform: amd64 }],
      variant: [{ ...rel, platform: amd64 }, { ...evilAmd, platform: { ...amd64, variant: 'v3' } }],
      buildkit: [{ ...rel, platform: amd64 }, { ...att, platform: { os: 'unknown', architecture: 'unknown' }, annotations: buildkitAtt }],
      'bare-unknown': [{ ...rel, platform: amd64 }, { ...att, platform: { os: 'unknown', architecture: 'unknown' } }],
    };
    for (const [tag, manifests] of Object.entries(indexes)) {
      await pushManifest(h, annotRepo, tag, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }, 'application/vnd.oci.image.index.v1+json');
    }

    // 3. the same image in two repositories; its honest signature is for debug-tools, and the attacker copies the .sig into app.
    debugTools = await pushImage(h, `${NS}/debug-tools`, 'v1', { seed: 'debug tools' });
    app = await pushImage(h, `${NS}/app`, 'v1', { seed: 'debug tools' });
    assert.equal(app.digest, debugTools.digest);
    const pd = simpleSigningPayload(`${h}/${NS}/debug-tools:v1`, debugTools.digest);
    const debugSig = await keySigned(sig, trusted, pd);
    await attach(h, `${NS}/debug-tools`, debugTools.digest, 'sig', [debugSig]);
    await attach(h, `${NS}/app`, app.digest, 'sig', [debugSig]);
  });

  const chain = async (ref: string, extra: string[] = [], trust = trustFile) => {
    const r = await runCli(['chain', ref, '--trust', trust, '--json', ...extra]);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    return { code: r.code, json: JSON.parse(r.stdout) };
  };

  after(async () => {
    proxy?.server.close();
    await sig?.stop();
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('1. the proxy moves the tag: without pins two opens see A then B (the attack is real)', async (t) => {
    if (skip) return t.skip(skip);
    const before = proxy.tagGets();
    const ref = { registry: proxy.host, repository: `${NS}/moving`, tag: 'moving' };
    const first = await openRegistryImage(ref);
    const second = await openRegistryImage(ref);
    if (before === 0) {
      assert.equal(first.digest, unsignedA.digest);
      assert.equal(second.digest, signedB.digest);
    }
    // With one set of pins the second open reads the first digest, and a lookup that disagrees is refused.
    const pins = new ReferencePins();
    const p1 = await openRegistryImage(ref, { pins });
    const p2 = await openRegistryImage(ref, { pins });
    assert.equal(p2.digest, p1.digest);
    assert.throws(() => pins.record(`${proxy.host}/${NS}/moving:moving`, unsignedA.digest === p1.digest ? signedB.digest : unsignedA.digest), (e: unknown) => e instanceof VouchError && e.code === 'TAG_MOVED' && e.exitCode === 1);
  });

  test('1. vouch check on a tag moved between lookups reports A alone: B\'s signature never shows under A\'s name', async (t) => {
    if (skip) return t.skip(skip);
    // Fresh proxy so that the first GET of the run gets A.
    const fresh = await movingTagProxy(reg!.host, `${NS}/moving`, unsignedA.digest, signedB.digest);
    try {
      const pb = simpleSigningPayload(`${fresh.host}/${NS}/moving`, signedB.digest);
      await attach(reg!.host, `${NS}/moving`, signedB.digest, 'sig', [await keySigned(sig, trusted, pb)]);
      const r = await runCli(['check', `docker://${fresh.host}/${NS}/moving:moving`, '--trust', trustFile, '--format', 'json', '--fail-on', 'critical']);
      assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
      const results = JSON.parse(r.stdout).results as Array<{ id: string; status: string; message: string; subject: { image: string } }>;
      assert.ok(results.every((x) => x.subject.image.includes(unsignedA.digest)), 'every result is about A');
      const pv1 = results.find((x) => x.id === 'VCH-PV-001');
      assert.equal(pv1?.status, 'fail', JSON.stringify(pv1));
      assert.ok(!results.some((x) => /verified by/.test(x.message)), 'no result borrows B\'s verified signature');
      assert.equal(fresh.tagGets(), 1, 'the tag is looked up once per run');
    } finally {
      fresh.server.close();
    }
  });

  test('1. vouch diff of the moving tag against itself: one digest, or refused with TAG_MOVED, never A against B', async (t) => {
    if (skip) return t.skip(skip);
    const fresh = await movingTagProxy(reg!.host, `${NS}/moving`, unsignedA.digest, signedB.digest);
    try {
      const ref = `docker://${fresh.host}/${NS}/moving:moving`;
      const r = await runCli(['diff', ref, ref, '--json']);
      if (r.code === 1) assert.match(r.stderr, /the tag moved during this run/);
      else {
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        assert.doesNotMatch(JSON.stringify(out), new RegExp(signedB.digest.slice(7)), 'B never enters a run whose first lookup named A');
      }
    } finally {
      fresh.server.close();
    }
  });

  test('2. an unsigned index holding a signed amd64 manifest and an unsigned arm64 one: PLATFORM_UNSIGNED, exit 1, index digest reported', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(evilIndex.ref, ['--platform', 'linux/amd64']);
    assert.equal(code, 1);
    assert.equal(json.image.digest, evilIndex.digest);
    assert.equal(json.signatures[0].verified, true, 'the amd64 signature itself is valid');
    assert.equal(json.index.digest, evilIndex.index!.digest);
    assert.equal(json.index.signed, false);
    assert.equal(json.index.rule, 'every-platform');
    assert.equal(json.index.satisfied, false);
    assert.equal(json.index.reason, 'PLATFORM_UNSIGNED');
    assert.deepEqual(
      json.index.platforms.map((p: { platform: string; checked: boolean; signed: boolean; selected: boolean }) => [p.platform, p.selected, p.checked, p.signed]),
      [['linux/amd64', true, true, true], ['linux/arm64', false, true, false]],
    );
    const text = await runCli(['chain', evilIndex.ref, '--trust', trustFile, '--platform', 'linux/amd64']);
    assert.match(text.stdout, /index +sha256:[0-9a-f]{12}.*PLATFORM_UNSIGNED/);
    assert.match(text.stdout, /linux\/arm64 .* UNSIGNED/);
    assert.match(text.stdout, /result: PLATFORM_UNSIGNED/);
  });

  test('2. --platform narrows to the selected manifest only when the trust file allows platform-only signatures', async (t) => {
    if (skip) return t.skip(skip);
    const narrowed = await chain(evilIndex.ref, ['--platform', 'linux/amd64'], allowPlatformTrust);
    assert.equal(narrowed.code, 0);
    assert.equal(narrowed.json.index.rule, 'selected-platform');
    assert.deepEqual(narrowed.json.index.platforms.map((p: { checked: boolean }) => p.checked), [true, false]);
    // The selected arm64 manifest is unsigned: narrowing does not help it.
    const arm = await chain(evilIndex.ref, ['--platform', 'linux/arm64'], allowPlatformTrust);
    assert.equal(arm.code, 1);
    assert.equal(arm.json.index.reason, 'PLATFORM_UNSIGNED');
  });

  test('2. an index whose every platform manifest is signed passes; vouch check fails VCH-PV-002 on the attacker\'s index', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(fullySigned.ref, ['--platform', 'linux/amd64']);
    assert.equal(code, 0, JSON.stringify(json.index));
    assert.equal(json.index.rule, 'every-platform');
    assert.ok(json.index.platforms.every((p: { signed: boolean; signers: string[] }) => p.signed && p.signers[0] === 'release-key'));
    const r = await runCli(['check', evilIndex.ref, '--trust', trustFile, '--platform', 'linux/amd64', '--format', 'json', '--fail-on', 'critical']);
    const pv2 = JSON.parse(r.stdout).results.find((x: { id: string }) => x.id === 'VCH-PV-002');
    assert.equal(pv2.status, 'fail');
    assert.match(pv2.message, /PLATFORM_UNSIGNED/);
  });

  const platformRows = (json: { index: { platforms: Array<{ platform: string; selected: boolean; checked: boolean; signed: boolean }> } }) =>
    json.index.platforms.map((p) => [p.platform, p.selected, p.checked, p.signed]);

  test('2b. an index entry annotated vnd.docker.reference.type but with a real platform is covered: PLATFORM_UNSIGNED, whatever the value', async (t) => {
    if (skip) return t.skip(skip);
    for (const tag of ['annot', 'annot-x']) {
      const { code, json } = await chain(`docker://${reg!.host}/${annotRepo}:${tag}`, ['--platform', 'linux/amd64']);
      assert.equal(code, 1, tag);
      assert.equal(json.image.digest, annot.rel.digest);
      assert.equal(json.signatures[0].verified, true, 'the amd64 signature itself is valid');
      assert.equal(json.index.reason, 'PLATFORM_UNSIGNED', tag);
      assert.deepEqual(platformRows(json), [['linux/amd64', true, true, true], ['linux/arm64', false, true, false]], tag);
    }
    const r = await runCli(['check', `docker://${reg!.host}/${annotRepo}:annot`, '--trust', trustFile, '--platform', 'linux/amd64', '--format', 'json']);
    const pv2 = JSON.parse(r.stdout).results.find((x: { id: string }) => x.id === 'VCH-PV-002');
    assert.equal(pv2.status, 'fail');
    assert.match(pv2.message, /PLATFORM_UNSIGNED: .*linux\/arm64/);
  });

  test('2b. --platform linux/arm64 reviews the annotated arm64 entry, the one docker pulls (not "no manifest for platform")', async (t) => {
    if (skip) return t.skip(skip);
    const r = await runCli(['chain', `docker://${reg!.host}/${annotRepo}:annot`, '--trust', trustFile, '--platform', 'linux/arm64', '--json']);
    assert.doesNotMatch(r.stderr, /no manifest for platform/);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout);
    assert.equal(json.image.digest, annot.evilArm.digest);
    assert.equal(json.index.reason, 'PLATFORM_UNSIGNED');
    const docker = await dockerOrSkip(t);
    if (!docker) return;
    assert.equal(await dockerPulledStage(docker, `${reg!.host}/${annotRepo}:annot`, 'linux/arm64'), 'evil', 'docker pulls the annotated entry');
  });

  test('2b. two amd64 entries, the first annotated: vouch reviews the first, as docker pulls it; PLATFORM_UNSIGNED', async (t) => {
    if (skip) return t.skip(skip);
    const { code, json } = await chain(`docker://${reg!.host}/${annotRepo}:first`, ['--platform', 'linux/amd64']);
    assert.equal(code, 1);
    assert.equal(json.image.digest, annot.evilAmd.digest);
    assert.equal(json.index.reason, 'PLATFORM_UNSIGNED');
    assert.deepEqual(platformRows(json), [['linux/amd64', true, true, false], ['linux/amd64', false, true, true]]);
    const docker = await dockerOrSkip(t);
    if (!docker) return;
    assert.equal(await dockerPulledStage(docker, `${reg!.host}/${annotRepo}:first`, 'linux/amd64'), 'evil', 'docker pulls the first amd64 entry');
  });

  test('2b. narrowed by allowPlatformOnlySignatures, every entry the requested platform could pull must be signed (duplicate, other variant)', async (t) => {
    if (skip) return t.skip(skip);
    for (const tag of ['dup', 'variant']) {
      const { code, json } = await chain(`docker://${reg!.host}/${annotRepo}:${tag}`, ['--platform', 'linux/amd64'], allowPlatformTrust);
      assert.equal(code, 1, tag);
      assert.equal(json.image.digest, annot.rel.digest, tag);
      assert.equal(json.index.rule, 'selected-platform');
      assert.equal(json.index.reason, 'PLATFORM_UNSIGNED', tag);
      assert.deepEqual(json.index.platforms.map((p: { checked: boolean; signed: boolean }) => [p.checked, p.signed]), [[true, true], [true, false]], tag);
    }
  });

  test('2b. BuildKit\'s attestation manifest (unknown/unknown with its annotations) is not a platform; a bare unknown/unknown entry is', async (t) => {
    if (skip) return t.skip(skip);
    const ok = await chain(`docker://${reg!.host}/${annotRepo}:buildkit`, ['--platform', 'linux/amd64']);
    assert.equal(ok.code, 0, JSON.stringify(ok.json.index));
    assert.deepEqual(platformRows(ok.json), [['linux/amd64', true, true, true]]);
    const bare = await chain(`docker://${reg!.host}/${annotRepo}:bare-unknown`, ['--platform', 'linux/amd64']);
    assert.equal(bare.code, 1);
    assert.equal(bare.json.index.reason, 'PLATFORM_UNSIGNED');
    assert.deepEqual(platformRows(bare.json), [['linux/amd64', true, true, true], ['unknown/unknown', false, true, false]]);
  });

  test('3. a .sig made for debug-tools copied into app: IDENTITY_MISMATCH, exit 1; the signed reference is reported', async (t) => {
    if (skip) return t.skip(skip);
    const ok = await chain(debugTools.ref);
    assert.equal(ok.code, 0, JSON.stringify(ok.json.signatures));
    assert.equal(ok.json.signatures[0].signedReference, `${reg!.host}/${NS}/debug-tools:v1`);
    const { code, json } = await chain(app.ref);
    assert.equal(code, 1);
    assert.equal(json.signatures[0].verified, false);
    assert.equal(json.signatures[0].reason, 'IDENTITY_MISMATCH');
    assert.equal(json.signatures[0].signedReference, `${reg!.host}/${NS}/debug-tools:v1`);
    const text = await runCli(['chain', app.ref, '--trust', trustFile]);
    assert.match(text.stdout, /IDENTITY_MISMATCH: the signature was made for ".*\/debug-tools:v1", another repository than /);
    assert.match(text.stdout, /signed for .*\/debug-tools:v1/);
    // A trust file may say so explicitly: this signer signs for debug-tools wherever it is copied (exactRepository).
    const relaxed = join(dir, 'exact-repo.trust.yaml');
    await writeFile(relaxed, ['trustedRoot: ./trusted_root.json', 'signers:', '  - name: release-key', '    key: ./cosign.pub', `    signedIdentity: {type: exactRepository, dockerRepository: "${reg!.host}/${NS}/debug-tools"}`, ''].join('\n'));
    assert.equal((await chain(app.ref, [], relaxed)).code, 0);
  });
});
