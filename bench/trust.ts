/**
 * Trust speed: verify 100 signatures and attestations attached to one cached
 * image (an OCI layout on disk, as `cosign save` writes it), through the same
 * discovery and verification the CLI runs. Target: ≤ 1 s.
 */
import { generateKeyPairSync, createHash, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dsse } from '@sigstore/core';
import { DirectoryStore } from '../src/core/sources/layout.js';
import { openLayout } from '../src/core/sources/archive.js';
import { discoverAttachments, LayoutAttachmentStore } from '../src/core/trust/attachments.js';
import { imageSubjects, verifyAttachments } from '../src/core/trust/chain.js';
import { parseTrustFile } from '../src/core/trust/trust-file.js';
import { trustedRootFromPems } from '../src/core/trust/trusted-root.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function benchTrust(): Promise<{ signatures: number; seconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-trust-'));
  try {
    const blobs = join(dir, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const put = async (b: Buffer): Promise<{ digest: string; size: number }> => {
      const digest = sha(b);
      await writeFile(join(blobs, digest.slice(7)), b);
      return { digest, size: b.length };
    };
    const layer = await put(Buffer.alloc(1024));
    const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      annotations: { 'org.opencontainers.image.source': 'https://github.com/acme/app' },
    }));
    const m = await put(manifest);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(dir, 'cosign.pub'), publicKey.export({ format: 'pem', type: 'spki' }));
    const N = 50;
    const sigLayers = [];
    const attLayers = [];
    for (let i = 0; i < N; i++) {
      const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': 'bench/app' }, image: { 'docker-manifest-digest': m.digest }, type: 'cosign container image signature' }, optional: { n: i } }));
      const b = await put(payload);
      sigLayers.push({ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...b, annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, privateKey).toString('base64') } });
      const st = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'app', digest: { sha256: m.digest.slice(7) } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: { buildType: 'b', externalParameters: {}, resolvedDependencies: [{ uri: `git+https://github.com/acme/app@refs/tags/v${i}`, digest: { gitCommit: 'c0ffee' } }] }, runDetails: { builder: { id: 'builder' }, metadata: { invocationId: `run-${i}` } } } }));
      const env = Buffer.from(JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: st.toString('base64'), signatures: [{ keyid: '', sig: sign('sha256', dsse.preAuthEncoding('application/vnd.in-toto+json', st), privateKey).toString('base64') }] }));
      const e = await put(env);
      attLayers.push({ mediaType: 'application/vnd.dsse.envelope.v1+json', ...e, annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: 'https://slsa.dev/provenance/v1' } });
    }
    const empty = await put(Buffer.from('{}'));
    const sigImage = async (layers: object[]) => put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...empty }, layers })));
    const sigs = await sigImage(sigLayers);
    const atts = await sigImage(attLayers);
    const entry = (d: { digest: string; size: number }, kind: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...d, annotations: { kind } });
    await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry(m, 'dev.cosignproject.cosign/image'), entry(sigs, 'dev.cosignproject.cosign/sigs'), entry(atts, 'dev.cosignproject.cosign/atts')] }));
    const trust = await parseTrustFile('signers:\n  - {name: bench, key: ./cosign.pub, tlog: optional}\n', join(dir, 'vouch.trust.yaml'));
    const root = { root: trustedRootFromPems({}, 'bench'), source: 'bench' };

    const t0 = process.hrtime.bigint();
    const image = await openLayout(dir, { digest: m.digest });
    const attachments = await discoverAttachments(new LayoutAttachmentStore(new DirectoryStore(dir)), imageSubjects(image), image.digest);
    const report = await verifyAttachments(image, attachments, trust, root);
    await image.close();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const verified = report.json.signatures.filter((s) => s.verified).length + report.json.attestations.filter((a) => a.verified).length;
    if (verified !== 2 * N) throw new Error(`bench trust: ${verified} of ${2 * N} verified`);
    return { signatures: verified, seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  benchTrust().then((r) => console.log(JSON.stringify(r)));
}
