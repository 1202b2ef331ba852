/**
 * Writes tiny OCI image layouts for tests: a ustar+gzip layer per image, a
 * config, a manifest and (for several platforms) an image index, tagged in
 * index.json with org.opencontainers.image.ref.name. Deterministic, so the
 * digests a test expects are the digests of the bytes written here.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface MiniFile {
  path: string;
  content: string | Buffer;
  mode?: number;
}

export interface MiniPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface MiniImage {
  platform: MiniPlatform;
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  layerDigest: string;
  layerSize: number;
  diffId: string;
}

export interface MiniLayout {
  dir: string;
  tag: string;
  images: MiniImage[];
  /** Set when several platforms were written: the digest of the image index the tag names. */
  indexDigest?: string;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A minimal ustar archive of regular files (directories implied). */
export function tarOf(files: MiniFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const content = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content);
    const h = Buffer.alloc(512);
    h.write(f.path, 0, 100, 'utf8');
    h.write(octal(f.mode ?? 0o644, 8), 100, 'ascii');
    h.write(octal(0, 8), 108, 'ascii');
    h.write(octal(0, 8), 116, 'ascii');
    h.write(octal(content.length, 12), 124, 'ascii');
    h.write(octal(0, 12), 136, 'ascii');
    h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
    h.write('0', 156, 'ascii');
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(octal(sum, 7) + ' ', 148, 'ascii');
    blocks.push(h, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

async function writeBlob(dir: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return digest;
}

/** One image per platform; more than one platform → an OCI image index under the tag. */
export async function writeMiniLayout(
  dir: string,
  opts: { tag: string; platforms: MiniPlatform[]; files?: (p: MiniPlatform) => MiniFile[] },
): Promise<MiniLayout> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const images: MiniImage[] = [];
  const descriptors: object[] = [];
  for (const platform of opts.platforms) {
    const name = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
    const files = opts.files?.(platform) ?? [
      { path: 'etc/os-release', content: `NAME=vouch-test\nPLATFORM=${name}\n` },
      { path: 'bin/hello', content: `#!/bin/sh\necho hello from ${name}\n`, mode: 0o755 },
    ];
    const tar = tarOf(files);
    const layer = gzipSync(tar, { level: 9 });
    const layerDigest = await writeBlob(dir, layer);
    const diffId = sha256(tar);
    const config = Buffer.from(
      JSON.stringify({
        created: '2024-01-01T00:00:00Z',
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: { Env: ['PATH=/bin'], Cmd: ['/bin/hello'], Labels: { 'org.opencontainers.image.source': 'https://example.com/vouch-test' } },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created: '2024-01-01T00:00:00Z', created_by: 'mini-layout' }],
      }),
    );
    const configDigest = await writeBlob(dir, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
      }),
    );
    const manifestDigest = await writeBlob(dir, manifest);
    images.push({ platform, manifestDigest, manifestSize: manifest.length, configDigest, layerDigest, layerSize: layer.length, diffId });
    descriptors.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, platform });
  }
  const refName = { 'org.opencontainers.image.ref.name': opts.tag };
  let top: object;
  let indexDigest: string | undefined;
  if (images.length === 1) {
    const { platform: _p, ...d } = descriptors[0] as { platform: unknown };
    top = { ...d, annotations: refName };
  } else {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: descriptors }));
    indexDigest = await writeBlob(dir, index);
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: index.length, annotations: refName };
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [top] }));
  return { dir, tag: opts.tag, images, ...(indexDigest ? { indexDigest } : {}) };
}
