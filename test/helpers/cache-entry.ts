/**
 * Reads a cache entry file the way a test checks it is whole: the header line
 * (`vouch-cache-entry/1 NS DIGEST sha256:HEX LENGTH`, src/core/cache/cache.ts)
 * must match the body's length and hash, and the body must be JSON. Throws otherwise.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function readWholeCacheEntry(file: string): unknown {
  const bytes = readFileSync(file);
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) throw new Error(`${file}: no header line`);
  const [magic, , , sum, length] = bytes.subarray(0, nl).toString('utf8').split(' ');
  if (magic !== 'vouch-cache-entry/1') throw new Error(`${file}: not a vouch cache entry`);
  const body = bytes.subarray(nl + 1);
  if (String(body.length) !== length) throw new Error(`${file}: ${body.length} bytes, header says ${length}`);
  if (`sha256:${createHash('sha256').update(body).digest('hex')}` !== sum) throw new Error(`${file}: body does not match its checksum`);
  return JSON.parse(body.toString('utf8'));
}
