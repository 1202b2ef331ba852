/** Small helpers for tests that open images through the Image interface. */
import { createHash } from 'node:crypto';
import type { Image, Layer } from '../../src/core/sources/image.js';

/** A regexp matching a sha256 digest that starts with the given hex prefix. */
export const sha = (hex12: string): RegExp => new RegExp(`^sha256:${hex12}`);

/** Stream a layer's stored bytes (which the source verifies) and hash them independently. */
export async function hashLayer(l: Layer): Promise<{ digest: string; bytes: number }> {
  const h = createHash('sha256');
  let n = 0;
  for await (const c of await l.open()) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
  }
  return { digest: `sha256:${h.digest('hex')}`, bytes: n };
}

/** Open, use, and always close an image. */
export async function withImage<T>(p: Promise<Image>, f: (i: Image) => Promise<T> | T): Promise<T> {
  const img = await p;
  try {
    return await f(img);
  } finally {
    await img.close();
  }
}
