import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, SizeMismatchError, VouchError } from '../errors.js';

/** Algorithms we can verify. sha512 is allowed by the OCI spec; others are refused. */
const ALGORITHMS: Record<string, { hex: number }> = { sha256: { hex: 64 }, sha512: { hex: 128 } };

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

export function parseDigest(digest: string, what = 'digest'): ParsedDigest {
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!m) throw new VouchError('INVALID_MANIFEST', `${what}: malformed digest ${JSON.stringify(digest.slice(0, 100))}`);
  const algorithm = m[1]!;
  const hex = m[2]!;
  const spec = ALGORITHMS[algorithm];
  if (!spec) throw new VouchError('INVALID_MANIFEST', `${what}: unsupported digest algorithm ${JSON.stringify(algorithm)}`);
  if (hex.length !== spec.hex || !/^[a-f0-9]+$/.test(hex)) {
    throw new VouchError('INVALID_MANIFEST', `${what}: malformed ${algorithm} digest ${JSON.stringify(digest.slice(0, 140))}`);
  }
  return { algorithm: algorithm as ParsedDigest['algorithm'], hex };
}

export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Throws DigestMismatchError naming `what` unless `bytes` hash to `expected`. */
export function verifyBytes(bytes: Uint8Array, expected: string, what: string, expectedSize?: number): void {
  const { algorithm } = parseDigest(expected, what);
  if (expectedSize !== undefined && expectedSize >= 0 && bytes.length !== expectedSize) {
    throw new SizeMismatchError(what, expectedSize, bytes.length);
  }
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}

/**
 * A pass-through stream that hashes what flows through it and fails at the end
 * (before signalling 'end') when the digest or the size is wrong. Consumers
 * must only trust results once the stream has ended without error.
 */
export class VerifyingStream extends Transform {
  private readonly hash;
  private readonly expected: string;
  private readonly expectedSize: number | undefined;
  private readonly what: string;
  private seen = 0;
  constructor(expected: string, what: string, expectedSize?: number) {
    super({ highWaterMark: 1 << 20 });
    const { algorithm } = parseDigest(expected, what);
    this.hash = createHash(algorithm);
    this.expected = expected;
    this.expectedSize = expectedSize !== undefined && expectedSize >= 0 ? expectedSize : undefined;
    this.what = what;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.expectedSize !== undefined && this.seen > this.expectedSize) {
      cb(new SizeMismatchError(this.what, this.expectedSize, this.seen));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.expectedSize !== undefined && this.seen !== this.expectedSize) {
      cb(new SizeMismatchError(this.what, this.expectedSize, this.seen));
      return;
    }
    const actual = `${this.expected.slice(0, this.expected.indexOf(':'))}:${this.hash.digest('hex')}`;
    if (actual !== this.expected) cb(new DigestMismatchError(this.what, this.expected, actual));
    else cb();
  }
  get bytesSeen(): number {
    return this.seen;
  }
}
