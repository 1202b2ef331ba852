/**
 * Growth (issue 12): `vouch inspect --no-cache` time and peak RSS as an image
 * grows in files (same bytes per file) and in bytes (same number of files).
 *
 * Images are generated here, deterministically (a fixed seed, fixed mtimes),
 * into a temp dir that is removed afterwards: 8 gzip layers, files spread evenly
 * over them under 1,000 directories, contents cut from a 4 MiB pool of
 * pseudo-random words (compresses about 3×).
 *
 * Verdict "at most linear": from each size to the next, time and peak RSS grow
 * by no more than the size does (× 1.15 for run-to-run noise; fixed costs such
 * as start-up make real growth sub-linear). RSS per file is reported twice: the
 * peak divided by the files, and the slope between the smallest and the largest
 * image (what one more file costs, start-up excluded).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciLayoutWriter } from '../src/core/oci/layout-writer.js';
import { TarWriter } from '../src/core/oci/tar-writer.js';

const MTIME = Date.parse('2024-06-01T00:00:00Z') / 1000;
const LAYERS = 8;
const DIRS = 1000;
/** Noise allowance on "at most linear". */
export const LINEAR_SLACK = 1.15;

export interface ScalingImage {
  reference: string;
  files: number;
  bytesPerFile: number;
  uncompressedBytes: number;
  compressedBytes: number;
  generationSeconds: number;
}

function wordPool(bytes: number, seed: number): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'lib', 'usr', 'share', 'config', 'value', 'string', 'return', 'function', 'const', 'module', 'export', 'import', '0x1f', '42', 'true', 'null', '{', '}', '\n'];
  const out = Buffer.alloc(bytes);
  let s = seed >>> 0 || 1;
  let pos = 0;
  while (pos < bytes) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const w = words[s % words.length]!;
    pos += out.write(`${w} `, pos);
  }
  return out;
}

/** One generated image: `files` regular files of `bytesPerFile` bytes each. */
export async function writeScalingImage(dir: string, files: number, bytesPerFile: number): Promise<ScalingImage> {
  const t0 = performance.now();
  const pool = wordPool(Math.max(4 << 20, bytesPerFile * 2), 0x5ca1ab1e);
  const writer = await OciLayoutWriter.create(dir, { ifExists: 'replace' });
  let uncompressed = 0;
  let compressed = 0;
  const perLayer = Math.ceil(files / LAYERS);
  async function* layer(l: number): AsyncGenerator<Buffer> {
    const tw = new TarWriter({ chunkSize: 1 << 20, defaults: { mtime: MTIME } });
    const first = l * perLayer;
    const last = Math.min(files, first + perLayer);
    const dirs = new Set<number>();
    for (let i = first; i < last; i++) {
      const d = i % DIRS;
      if (!dirs.has(d)) {
        dirs.add(d);
        tw.add({ path: `usr/share/s${d % 10}/d${d}`, type: 'dir', mode: 0o755 });
      }
      const off = (Math.imul(i, 2654435761) >>> 0) % (pool.length - bytesPerFile);
      tw.add({ path: `usr/share/s${d % 10}/d${d}/f${i}.dat`, type: 'file', mode: 0o644, size: bytesPerFile }, [pool.subarray(off, off + bytesPerFile)]);
      if (tw.pendingBytes >= 1 << 20) yield* tw.take();
    }
    tw.finish();
    yield* tw.take();
  }
  try {
    // Layers two at a time (gzip runs on libuv's pool); slots are reserved in call order.
    let next = 0;
    const work = async (): Promise<void> => {
      while (next < LAYERS) {
        const l = next++;
        const added = await writer.addLayer(layer(l), { compression: 'gzip', gzipLevel: 1, createdBy: `layer ${l}` });
        uncompressed += added.uncompressedSize;
        compressed += added.size;
      }
    };
    await Promise.all([work(), work()]);
    await writer.finish({ tags: ['scale'], created: '2024-06-01T00:00:00Z', config: { Cmd: ['/bin/true'] } });
  } catch (e) {
    await writer.abort().catch(() => {});
    throw e;
  }
  return { reference: `oci:${dir}:scale`, files, bytesPerFile, uncompressedBytes: uncompressed, compressedBytes: compressed, generationSeconds: (performance.now() - t0) / 1000 };
}

export interface ScalingPoint {
  files: number;
  uncompressedMiB: number;
  seconds: number | null;
  peakRssMB: number | null;
  error?: string;
}

export interface ScalingSeries {
  points: ScalingPoint[];
  /** For each step: size ratio, time ratio, RSS ratio. */
  growth: Array<{ from: number; to: number; sizeRatio: number; timeRatio: number | null; rssRatio: number | null }>;
  atMostLinear: boolean | null;
}

/** What the caller measures one image with: wall seconds and peak RSS of `vouch inspect --no-cache`. */
export type MeasureInspect = (reference: string, tag: string) => Promise<{ seconds: number; peakRssMB: number | null } | { error: string }>;

export async function scalingSeries(
  kind: 'files' | 'bytes',
  sizes: readonly number[],
  measure: MeasureInspect,
  log: (m: string) => void,
  shape: { bytesPerFile: number; files: number },
): Promise<ScalingSeries> {
  const points: ScalingPoint[] = [];
  for (const size of sizes) {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-scale-'));
    try {
      const files = kind === 'files' ? size : shape.files;
      const bytesPerFile = kind === 'files' ? shape.bytesPerFile : Math.round(size / shape.files);
      log(`scaling: generating ${files} files × ${bytesPerFile} bytes …`);
      const img = await writeScalingImage(join(dir, 'image'), files, bytesPerFile);
      log(`scaling: ${(img.uncompressedBytes / 2 ** 20).toFixed(0)} MiB (${(img.compressedBytes / 2 ** 20).toFixed(0)} MiB gzip) in ${img.generationSeconds.toFixed(1)} s; inspecting …`);
      const r = await measure(img.reference, `scale-${kind}-${size}`);
      const base = { files, uncompressedMiB: Number((img.uncompressedBytes / 2 ** 20).toFixed(0)) };
      points.push('error' in r ? { ...base, seconds: null, peakRssMB: null, error: r.error } : { ...base, seconds: Number(r.seconds.toFixed(3)), peakRssMB: r.peakRssMB === null ? null : Number(r.peakRssMB.toFixed(1)) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const growth: ScalingSeries['growth'] = [];
  let linear: boolean | null = true;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const sizeRatio = kind === 'files' ? b.files / a.files : b.uncompressedMiB / a.uncompressedMiB;
    const timeRatio = a.seconds && b.seconds ? b.seconds / a.seconds : null;
    const rssRatio = a.peakRssMB && b.peakRssMB ? b.peakRssMB / a.peakRssMB : null;
    growth.push({ from: i - 1, to: i, sizeRatio: Number(sizeRatio.toFixed(2)), timeRatio: timeRatio === null ? null : Number(timeRatio.toFixed(2)), rssRatio: rssRatio === null ? null : Number(rssRatio.toFixed(2)) });
    if (timeRatio === null || rssRatio === null) linear = null;
    else if (linear !== null && (timeRatio > sizeRatio * LINEAR_SLACK || rssRatio > sizeRatio * LINEAR_SLACK)) linear = false;
  }
  return { points, growth, atMostLinear: linear };
}
