/**
 * OCI layouts from layer tars the test builds (any bytes, several layers), and
 * tar entries whose names are raw bytes (not UTF-8). Deterministic.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { entry, type EntrySpec } from './tar-writer.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface LayersLayout {
  dir: string;
  ref: string;
  manifestDigest: string;
  layers: Array<{ digest: string; diffId: string; size: number; path: string }>;
}

/** An OCI layout at `dir` with one image (tag `tag`) whose layers are the given tars, gzipped. */
export async function writeLayersLayout(dir: string, tars: Buffer[], tag = 'test', config: object = {}, descriptorExtras: Array<object | undefined> = []): Promise<LayersLayout> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const put = async (b: Buffer): Promise<string> => {
    const d = sha256(b);
    await writeFile(join(dir, 'blobs', 'sha256', d.slice(7)), b);
    return d;
  };
  const layers: LayersLayout['layers'] = [];
  for (const t of tars) {
    const gz = gzipSync(t, { level: 1 });
    const digest = await put(gz);
    layers.push({ digest, diffId: sha256(t), size: gz.length, path: join(dir, 'blobs', 'sha256', digest.slice(7)) });
  }
  const cfg = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin:/bin'], ...config },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_l, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }),
  );
  const configDigest = await put(cfg);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: cfg.length },
      layers: layers.map((l, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size, ...descriptorExtras[i] })),
    }),
  );
  const manifestDigest = await put(manifest);
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return { dir, ref: `oci:${dir}:${tag}`, manifestDigest, layers };
}

/** A ustar entry whose name field holds exactly `name` (any bytes but NUL, at most 100). */
export function rawNameEntry(name: Buffer, spec: Omit<EntrySpec, 'name'>): Buffer {
  const b = entry({ ...spec, name: 'x'.repeat(name.length) });
  b.fill(0, 0, 100);
  name.copy(b, 0);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}
