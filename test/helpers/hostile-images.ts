/**
 * Hostile images for issue 12, made in the test, deterministically: layouts
 * whose blobs are any bytes (no gzip of our own), decompression bombs built
 * by hand (gzip and zstd streams of zeros that cost kilobytes to store and
 * nothing to make), layers of many tiny files, deep trees, jars with zip bombs.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants as zc, deflateRawSync, gzipSync } from 'node:zlib';
import { header } from './tar-writer.js';

export const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';

export interface RawLayer {
  blob: Buffer;
  /** The uncompressed tar's digest (a bomb's is a lie: the limit fires before it could be checked). */
  diffId: string;
  mediaType?: string;
}

/** An OCI layout holding one image (tag `test`) made of these exact blobs. */
export async function writeRawLayout(dir: string, layers: RawLayer[], opts: { manifest?: (m: object) => Buffer } = {}): Promise<{ ref: string; manifestDigest: string; dir: string }> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const written = new Set<string>();
  const put = async (b: Buffer): Promise<string> => {
    const d = sha256(b);
    if (!written.has(d)) await writeFile(join(dir, 'blobs', 'sha256', d.slice(7)), b);
    written.add(d);
    return d;
  };
  const descs: object[] = [];
  for (const l of layers) descs.push({ mediaType: l.mediaType ?? GZIP_LAYER, digest: await put(l.blob), size: l.blob.length });
  const cfg = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin:/bin'], User: '1000' },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_l, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }),
  );
  const manifestDoc = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await put(cfg), size: cfg.length },
    layers: descs,
  };
  const manifest = opts.manifest ? opts.manifest(manifestDoc) : Buffer.from(JSON.stringify(manifestDoc));
  const manifestDigest = await put(manifest);
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'test' } }],
    }),
  );
  return { ref: `oci:${dir}:test`, manifestDigest, dir };
}

/** A gzipped layer of an honest tar. */
export function gzipLayer(tarBytes: Buffer): RawLayer {
  return { blob: gzipSync(tarBytes, { level: 1 }), diffId: sha256(tarBytes) };
}

/** The 512-byte tar header of one regular file `name` of `size` bytes (base-256 beyond 8 GiB). */
function fileHeader(name: string, size: number): Buffer {
  return header({ name, typeflag: '0', size, base256: size >= 8 * 1024 ** 3 });
}

/**
 * A gzip layer whose tar holds one file of `zeros` zero bytes. Deflate cannot do better than ~1030:1,
 * so it is stored as one deflate chunk of 1 MiB of zeros (~1 KiB, flushed to a byte boundary with an
 * empty dictionary) repeated: 1 GiB costs ~1 MiB to store and nothing to make. The trailer's CRC is not
 * that of the content (computing it means running through it all): the limit stops the walk first.
 */
export function gzipBomb(zeros: number): RawLayer {
  const MiB = 1 << 20;
  if (zeros % MiB !== 0) throw new Error('gzipBomb: a whole number of MiB');
  const flush = { finishFlush: zc.Z_FULL_FLUSH };
  const head = deflateRawSync(fileHeader('bomb', zeros), flush);
  const chunk = deflateRawSync(Buffer.alloc(MiB), flush);
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]), head];
  for (let i = 0; i < zeros / MiB; i++) parts.push(chunk);
  parts.push(deflateRawSync(Buffer.alloc(1024)), Buffer.alloc(8));
  return { blob: Buffer.concat(parts), diffId: sha256(Buffer.from(`not the tar of a ${zeros}-byte bomb`)) };
}

/**
 * A zstd layer whose tar holds one file of `zeros` zero bytes: a frame of RLE blocks, 4 bytes for every
 * 128 KiB, so 1 GiB is 32 KiB and 8 GiB 256 KiB (ratio 32768:1).
 */
export function zstdBomb(zeros: number): RawLayer {
  const BLOCK = 128 << 10;
  if (zeros % BLOCK !== 0) throw new Error('zstdBomb: a whole number of 128 KiB blocks');
  const hdr = fileHeader('bomb', zeros);
  const n = zeros / BLOCK;
  const out = Buffer.alloc(4 + 2 + 3 + hdr.length + n * 4 + 3);
  let o = out.writeUInt32LE(0xfd2fb528, 0);
  out[o++] = 0x00; // frame header descriptor: no checksum, no content size, not single-segment
  out[o++] = (17 - 10) << 3; // window descriptor: 128 KiB
  const blockHeader = (last: boolean, type: number, size: number): void => {
    const v = (last ? 1 : 0) | (type << 1) | (size << 3);
    out[o++] = v & 0xff;
    out[o++] = (v >> 8) & 0xff;
    out[o++] = (v >> 16) & 0xff;
  };
  blockHeader(false, 0, hdr.length); // raw block: the tar header
  hdr.copy(out, o);
  o += hdr.length;
  for (let i = 0; i < n; i++) {
    blockHeader(false, 1, BLOCK); // RLE block: one byte repeated
    out[o++] = 0;
  }
  blockHeader(true, 0, 0);
  return { blob: out.subarray(0, o), diffId: sha256(Buffer.from(`not the tar of a ${zeros}-byte zstd bomb`)), mediaType: ZSTD_LAYER };
}

/** A ustar header for a name of any length (PAX `path` record when over 100 bytes). */
export function tarEntryHeader(name: string, typeflag: string, size = 0, linkname = ''): Buffer {
  const long = Buffer.byteLength(name) > 100 || Buffer.byteLength(linkname) > 100;
  const main = header({ name: long ? name.slice(0, 99).replace(/[^\x20-\x7e]/g, '_') : name, typeflag, size, mode: typeflag === '5' ? 0o755 : 0o644, linkname: long ? '' : linkname });
  if (!long) return main;
  const rec = (k: string, v: string): string => {
    const body = ` ${k}=${v}\n`;
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return `${len}${body}`;
  };
  const pax = Buffer.from(rec('path', name) + (linkname ? rec('linkpath', linkname) : ''));
  const ph = header({ name: 'PaxHeader', typeflag: 'x', size: pax.length });
  return Buffer.concat([ph, pax, Buffer.alloc((512 - (pax.length % 512)) % 512), main]);
}

/** One layer of `n` tiny files (4 bytes each) in folders of 1000: the 1-million-files case at any scale. */
export function manyFilesTar(n: number): Buffer {
  const parts: Buffer[] = [];
  const data = Buffer.alloc(512);
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 0) parts.push(tarEntryHeader(`d${i / 1000}/`, '5'));
    parts.push(tarEntryHeader(`d${Math.floor(i / 1000)}/f${i}`, '0', 4));
    data.write(String(i % 10000).padStart(4, '0'), 0, 'latin1');
    parts.push(Buffer.from(data));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A tree `depth` folders deep (names `a`), with a file at the bottom. */
export function deepTreeTar(depth: number): Buffer {
  const parts: Buffer[] = [];
  let p = '';
  for (let i = 0; i < depth; i++) {
    p += 'a/';
    parts.push(tarEntryHeader(p, '5'));
  }
  parts.push(tarEntryHeader(`${p}bottom`, '0', 6), Buffer.from('bottom'.padEnd(512, '\0')));
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A zip (jar) of stored or deflated entries; `entries[i].data` may be a precompressed deflate stream with a lying `size`. */
export function zipOf(entries: Array<{ name: string; data: Buffer; deflated?: boolean; size?: number; sameDataAs?: number }>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  entries.forEach((e, i) => {
    const name = Buffer.from(e.name);
    const method = e.deflated ? 8 : 0;
    const size = e.size ?? e.data.length;
    let at = offset;
    if (e.sameDataAs !== undefined) {
      // Overlapping entries: a second central record for the bytes another entry already holds.
      at = offsets[e.sameDataAs]!;
    } else {
      const loc = Buffer.alloc(30);
      loc.writeUInt32LE(0x04034b50, 0);
      loc.writeUInt16LE(20, 4);
      loc.writeUInt16LE(method, 8);
      loc.writeUInt32LE(e.data.length, 18);
      loc.writeUInt32LE(size, 22);
      loc.writeUInt16LE(name.length, 26);
      locals.push(loc, name, e.data);
      offset += 30 + name.length + e.data.length;
    }
    offsets.push(at);
    const src = e.sameDataAs !== undefined ? entries[e.sameDataAs]! : e;
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(src.deflated ? 8 : 0, 10);
    cen.writeUInt32LE(src.data.length, 20);
    cen.writeUInt32LE(src.size ?? src.data.length, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt32LE(at, 42);
    central.push(cen, name);
  });
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** A raw deflate stream of `n` MiB of zeros (the body of a zip bomb entry). */
export function deflatedZeros(mib: number): Buffer {
  const chunk = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zc.Z_FULL_FLUSH });
  return Buffer.concat([...Array.from({ length: mib }, () => chunk), deflateRawSync(Buffer.alloc(0))]);
}
