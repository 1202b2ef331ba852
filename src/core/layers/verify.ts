/**
 * A cached analysis is keyed by manifest digest, but the bytes it describes
 * live in the source: a layout or archive whose layer blob was deleted,
 * truncated or flipped after the analysis must not go on inspecting cleanly.
 * Every cached read checks that each blob is still there with its manifest
 * size (a stat or a HEAD: cheap); `--verify` re-hashes every blob.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VouchError, isVouchError } from '../errors.js';
import type { Layer } from '../sources/image.js';

/**
 * How a cached analysis was checked against its source: 'sizes' (every blob
 * present with its manifest size), 'full' (every blob re-hashed), 'image-id'
 * (a daemon image found by its ID, which is its config digest), 'none' (the
 * source offers no cheap check).
 */
export type Verification = 'sizes' | 'full' | 'image-id' | 'none';

/** Where an analysis came from, for text and JSON. */
export interface CacheInfo {
  hit: boolean;
  /** When the layers were walked (ISO 8601); null for analyses cached before this was recorded. */
  analysedAt: string | null;
  /** When the source was last checked to hold the bytes (now, on a hit). */
  verifiedAt: string;
  verification: Verification;
}

/** Checks that the source still holds every layer blob; throws naming the first blob that is missing or of the wrong size. */
export async function verifyLayerSizes(layers: readonly Layer[]): Promise<Verification> {
  if (layers.some((l) => typeof l.storedSize !== 'function')) return 'none';
  const sizes = await Promise.all(layers.map((l) => l.storedSize!()));
  layers.forEach((l, i) => {
    const n = sizes[i];
    // A foreign layer the source never held was not analysed (see image-analysis): nothing to check.
    if (n === undefined && l.urls?.length) return;
    if (n === undefined) {
      throw new VouchError('NOT_FOUND', `layer ${l.digest}: the source no longer holds this blob (the cached analysis describes bytes that are gone)`);
    }
    if (n !== l.size) {
      throw new VouchError('SIZE_MISMATCH', `layer ${l.digest}: the source holds ${n} bytes, the manifest says ${l.size} (blob changed since it was analysed)`);
    }
  });
  return 'sizes';
}

/** Re-hashes every layer blob (each Layer.open() stream verifies digest and size as it goes). */
export async function verifyLayerDigests(layers: readonly Layer[], signal?: AbortSignal): Promise<Verification> {
  await verifyLayerSizes(layers);
  for (const l of layers) {
    if (l.urls?.length && (await l.storedSize?.()) === undefined) continue;
    const stream = await l.open();
    try {
      await pipeline(stream, new Writable({ write: (_c, _e, cb) => cb() }), signal ? { signal } : {});
    } catch (e) {
      if (isVouchError(e) && !e.message.includes(l.digest)) throw new VouchError(e.code, `layer ${l.digest}: ${e.message}`, { cause: e });
      throw e;
    }
  }
  return 'full';
}
