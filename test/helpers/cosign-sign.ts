/**
 * Sign images in a real registry the way cosign does, for tests:
 * - key-based simple signing into the `sha256-<hex>.sig` tag (one layer per
 *   signature, `dev.cosignproject.cosign/signature` annotation, optional
 *   certificate / chain / Rekor bundle / RFC 3161 annotations);
 * - DSSE in-toto attestations into `sha256-<hex>.att`;
 * - a Sigstore bundle v0.3 as an OCI 1.1 referrer through the referrers tag
 *   schema (`sha256-<hex>` index), since registry 2.8 has no referrers API.
 */
import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { dsse } from '@sigstore/core';
import { tarOf } from './mini-layout.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY = Buffer.from('{}');
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export async function pushBlob(host: string, repo: string, bytes: Buffer): Promise<Descriptor & { mediaType: '' }> {
  const digest = sha256(bytes);
  const head = await fetch(`http://${host}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status !== 200) {
    const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
    const loc = new URL(start.headers.get('location')!, `http://${host}`);
    loc.searchParams.set('digest', digest);
    const put = await fetch(loc, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
  }
  return { mediaType: '', digest, size: bytes.length };
}

export async function pushManifest(host: string, repo: string, reference: string, doc: object, mediaType = OCI_MANIFEST): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(doc));
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } });
  if (res.status !== 201) throw new Error(`manifest push ${repo}:${reference}: HTTP ${res.status} ${await res.text()}`);
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

export interface PushedImage {
  host: string;
  repo: string;
  /** The image manifest's digest (for multi-platform: the amd64 one). */
  digest: string;
  manifest: Descriptor;
  /** Multi-platform only: the index. */
  index?: Descriptor;
  /** docker://host/repo@digest of what the tag names. */
  ref: string;
}

/** A tiny image (one layer), optionally under an index with a second platform. */
export async function pushImage(
  host: string,
  repo: string,
  tag: string,
  opts: { annotations?: Record<string, string>; labels?: Record<string, string>; multiPlatform?: boolean; seed?: string; files?: Array<{ path: string; content: string }> } = {},
): Promise<PushedImage> {
  const one = async (arch: string): Promise<Descriptor> => {
    const tar = tarOf([{ path: 'etc/hello', content: `hello ${arch} ${opts.seed ?? ''}\n` }, ...(opts.files ?? [])]);
    const layer = gzipSync(tar);
    const l = await pushBlob(host, repo, layer);
    const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Labels: opts.labels ?? {} }, rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }));
    const c = await pushBlob(host, repo, config);
    return pushManifest(host, repo, opts.multiPlatform ? `${tag}-${arch}` : tag, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size }],
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    });
  };
  if (!opts.multiPlatform) {
    const m = await one('amd64');
    return { host, repo, digest: m.digest, manifest: m, ref: `docker://${host}/${repo}:${tag}` };
  }
  const amd = await one('amd64');
  const arm = await one('arm64');
  const index = await pushManifest(
    host,
    repo,
    tag,
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
        { ...arm, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    },
    OCI_INDEX,
  );
  return { host, repo, digest: amd.digest, manifest: amd, index, ref: `docker://${host}/${repo}:${tag}` };
}

export const digestTag = (digest: string): string => digest.replace(':', '-');

export function simpleSigningPayload(dockerReference: string, digest: string, optional: Record<string, unknown> | null = null): Buffer {
  return Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional }));
}

export interface SignatureLayer {
  mediaType: string;
  bytes: Buffer;
  annotations: Record<string, string>;
}

export function signWithKey(key: KeyObject, data: Buffer): Buffer {
  return cryptoSign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key);
}

/** A `.sig` layer: the payload, its signature, and the optional keyless / log annotations. */
export function signatureLayer(payload: Buffer, signature: Buffer, extra: { cert?: string; chain?: string; rekor?: string; rfc3161?: string } = {}): SignatureLayer {
  return {
    mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
    bytes: payload,
    annotations: {
      'dev.cosignproject.cosign/signature': signature.toString('base64'),
      ...(extra.cert ? { 'dev.sigstore.cosign/certificate': extra.cert } : {}),
      ...(extra.chain ? { 'dev.sigstore.cosign/chain': extra.chain } : {}),
      ...(extra.rekor ? { 'dev.sigstore.cosign/bundle': extra.rekor } : {}),
      ...(extra.rfc3161 ? { 'dev.sigstore.cosign/rfc3161timestamp': extra.rfc3161 } : {}),
    },
  };
}

/** An in-toto statement about `digest`. */
export function statement(digest: string, predicateType: string, predicate: unknown, name = 'image'): Buffer {
  const [alg, hex] = digest.split(':');
  return Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name, digest: { [alg!]: hex } }], predicateType, predicate }));
}

/** A `.att` layer: a DSSE envelope signed with `key` (or given signature), as cosign writes it. */
export function attestationLayer(payload: Buffer, sign: (pae: Buffer) => Buffer, extra: { predicateType?: string; cert?: string; chain?: string; rekor?: string } = {}, payloadType = 'application/vnd.in-toto+json'): SignatureLayer {
  const sig = sign(dsse.preAuthEncoding(payloadType, payload));
  const env = { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] };
  return {
    mediaType: 'application/vnd.dsse.envelope.v1+json',
    bytes: Buffer.from(JSON.stringify(env)),
    annotations: {
      'dev.cosignproject.cosign/signature': '',
      ...(extra.predicateType ? { predicateType: extra.predicateType } : {}),
      ...(extra.cert ? { 'dev.sigstore.cosign/certificate': extra.cert } : {}),
      ...(extra.chain ? { 'dev.sigstore.cosign/chain': extra.chain } : {}),
      ...(extra.rekor ? { 'dev.sigstore.cosign/bundle': extra.rekor } : {}),
    },
  };
}

/** Write `sha256-<hex>.<suffix>` with these layers (cosign's signature image: empty-ish config, one layer each). */
export async function attach(host: string, repo: string, subject: string, suffix: 'sig' | 'att' | 'sbom', layers: SignatureLayer[]): Promise<Descriptor> {
  const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.bytes)) } }));
  const c = await pushBlob(host, repo, config);
  const descs = [];
  for (const l of layers) {
    const b = await pushBlob(host, repo, l.bytes);
    descs.push({ mediaType: l.mediaType, digest: b.digest, size: b.size, annotations: l.annotations });
  }
  return pushManifest(host, repo, `${digestTag(subject)}.${suffix}`, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size },
    layers: descs,
  });
}

/** Append a referrer to the subject's `sha256-<hex>` referrers tag index (the fallback when a registry has no referrers API). */
async function listReferrer(host: string, repo: string, subject: Descriptor, referrer: Descriptor & { artifactType: string }): Promise<void> {
  const tag = digestTag(subject.digest);
  let existing: Descriptor[] = [];
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: OCI_INDEX } });
  if (res.status === 200) existing = ((await res.json()) as { manifests: Descriptor[] }).manifests;
  else await res.body?.cancel();
  await pushManifest(host, repo, tag, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...existing, referrer] }, OCI_INDEX);
}

/**
 * A Sigstore bundle v0.3 as an OCI 1.1 referrer of `subject`, listed in the
 * `sha256-<hex>` referrers tag index (appended to what is there).
 */
export async function attachBundleReferrer(host: string, repo: string, subject: Descriptor, bundleJson: object): Promise<Descriptor> {
  const artifactType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const e = await pushBlob(host, repo, EMPTY);
  const b = await pushBlob(host, repo, Buffer.from(JSON.stringify(bundleJson)));
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: e.digest, size: e.size },
      layers: [{ mediaType: artifactType, digest: b.digest, size: b.size }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'org.opencontainers.image.created': '2025-01-01T00:00:00Z' },
    }),
  );
  const m = await pushManifest(host, repo, sha256(bytes), JSON.parse(bytes.toString()));
  await listReferrer(host, repo, subject, { ...m, artifactType });
  return m;
}

/** A `.sbom` layer as `cosign attach sbom` writes it: the document itself, with its SBOM media type (text/spdx+json, application/vnd.cyclonedx+json…), no annotations. */
export function sbomLayer(document: object | string, mediaType = 'text/spdx+json'): SignatureLayer {
  return { mediaType, bytes: Buffer.from(typeof document === 'string' ? document : JSON.stringify(document)), annotations: {} };
}

/**
 * A document (SBOM, scan report) as an OCI 1.1 referrer of `subject`, the way
 * `oras attach --artifact-type T` writes it: empty config, one layer, listed
 * in the `sha256-<hex>` referrers tag index (appended to what is there).
 */
export async function attachReferrer(host: string, repo: string, subject: Descriptor, artifactType: string, document: object | string, layerMediaType = artifactType): Promise<Descriptor> {
  const e = await pushBlob(host, repo, EMPTY);
  const b = await pushBlob(host, repo, Buffer.from(typeof document === 'string' ? document : JSON.stringify(document)));
  const doc = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: e.digest, size: e.size },
    layers: [{ mediaType: layerMediaType, digest: b.digest, size: b.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  };
  const bytes = Buffer.from(JSON.stringify(doc));
  const m = await pushManifest(host, repo, sha256(bytes), doc);
  await listReferrer(host, repo, subject, { ...m, artifactType });
  return m;
}
