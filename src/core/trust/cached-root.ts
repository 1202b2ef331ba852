/**
 * The trusted root `vouch chain --tuf-refresh` fetched, kept in the cache as
 * a cache entry (src/core/cache/cache.ts: a header line with the sha256 and
 * length of the JSON after it). It decides which keys every keyless
 * signature is checked against, so a damaged file (a flipped byte, a cut,
 * a symlink put in its place, a file someone else owns) is refused with one
 * line, never used, and never silently swapped for the root vouch ships: the
 * user asked for the refreshed one. The file is left where it is (deleting it
 * would make the next run fall back without a word); a refresh replaces it.
 */
import { closeSync, constants as fsc, fstatSync, openSync, readFileSync } from 'node:fs';
import { checkEntry, entryBytes, writeFileAtomic } from '../cache/cache.js';
import { VouchError } from '../errors.js';
import { parseTrustedRoot, type TrustedRoot } from './trusted-root.js';

const NS = 'trust/trusted-root';
const KEY = 'trusted_root.json';
/** A trusted root is a few KB; the bound keeps a planted huge file from being read whole. */
const MAX_BYTES = 16 << 20;

/** Store `text` (already checked to parse as a trusted root) at `path`, atomically and private to the user. */
export async function storeCachedTrustedRoot(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, entryBytes(NS, KEY, Buffer.from(text, 'utf8')), 0o600, 0o700);
}

function damaged(path: string, reason: string): VouchError {
  return new VouchError(
    'INVALID_TRUSTED_ROOT',
    `${path}: refusing the trusted root cached by --tuf-refresh (${reason}); vouch does not fall back to the root it ships: run \`vouch chain --tuf-refresh\` again to fetch it, or delete the file to use the shipped root`,
  );
}

/** The cached trusted root, undefined when there is none; a damaged one throws (INVALID_TRUSTED_ROOT, exit 2). */
export function readCachedTrustedRoot(path: string): TrustedRoot | undefined {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink at the name is refused, not followed; O_NONBLOCK: a FIFO there must not hang us.
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: a file stands where the cache folder should be, so no root was ever cached there.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw damaged(path, code === 'ELOOP' ? 'is a symbolic link' : `cannot be read (${code ?? (e as Error).message})`);
  }
  let bytes: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw damaged(path, 'is not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw damaged(path, `is owned by uid ${st.uid}, not by this user`);
    if (st.size > MAX_BYTES) throw damaged(path, `is ${st.size} bytes, more than a trusted root has`);
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  const entry = checkEntry(bytes, NS, KEY);
  if (typeof entry === 'string') {
    // A plain JSON file is what vouch wrote before the header existed.
    throw damaged(path, entry === 'has no vouch cache header' && bytes[0] === 0x7b ? 'has no vouch cache header (an older vouch wrote it, or it was edited)' : entry);
  }
  let json: unknown;
  try {
    json = JSON.parse(entry.body);
  } catch {
    throw damaged(path, 'does not parse as JSON');
  }
  return parseTrustedRoot(json, path);
}
