/**
 * Reading a local file that a user or an attacker can name (a session, release,
 * policy or trust file, a key, a manifest and what it includes): the path may
 * lead to a FIFO (a plain read waits forever for a writer), to /dev/zero or
 * /dev/urandom (a plain read grows until memory runs out; a device reports size
 * 0), or to a huge file. So: a non-blocking open, the type checked on the open
 * descriptor (what a symlink leads to, with no race against a swap), and a read
 * of at most `max` bytes whatever the file does meanwhile. Every failure is one
 * line naming the file (exit 2).
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VouchError } from '../errors.js';
import { sanitizeLine } from './sanitize.js';

/** Size bounds per kind of file; far above anything a person writes, far below what hurts a machine. */
export const LOCAL_FILE_LIMITS = {
  key: 1 << 20,
  certificates: 4 << 20,
  dockerConfig: 4 << 20,
  trustedRoot: 16 << 20,
  /** A release's approval bundle read back (its reviewer name). */
  approval: 16 << 20,
} as const;

export interface LocalFileOptions {
  /** What the file is, for the message: "session", "release file", "policy file", "key". */
  what: string;
  /** Most bytes accepted; one more is an error. */
  max: number;
  /** How the file is named in messages (default: its absolute path). */
  name?: string;
}

const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK;

function shown(path: string, o: LocalFileOptions): string {
  return sanitizeLine(o.name ?? resolve(path));
}

/** A local file that cannot be read; `reason` is the part after the name ("ENOENT", "a FIFO, not a regular file"), for callers that name the file their own way. */
export class LocalFileError extends VouchError {
  constructor(
    code: 'NOT_FOUND' | 'USAGE' | 'LIMIT_EXCEEDED',
    message: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(code, message, cause === undefined ? undefined : { cause });
  }
}

function openError(path: string, o: LocalFileOptions, e: unknown): LocalFileError {
  const errno = (e as NodeJS.ErrnoException).code ?? 'error';
  return new LocalFileError('NOT_FOUND', `${shown(path, o)}: cannot read ${o.what} (${errno})`, errno, e);
}

function kindError(path: string, o: LocalFileOptions, st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): LocalFileError {
  let kind = 'not a regular file';
  if (st.isDirectory()) kind = 'a directory, not a regular file';
  else if (st.isFIFO()) kind = 'a FIFO, not a regular file';
  else if (st.isCharacterDevice() || st.isBlockDevice()) kind = 'a device, not a regular file';
  else if (st.isSocket()) kind = 'a socket, not a regular file';
  return new LocalFileError('USAGE', `${shown(path, o)}: cannot read ${o.what}: ${kind}`, kind);
}

function tooLarge(path: string, o: LocalFileOptions): LocalFileError {
  return new LocalFileError('LIMIT_EXCEEDED', `${shown(path, o)}: ${o.what} larger than ${o.max} bytes`, `larger than ${o.max} bytes`);
}

/** The bytes of the regular file at `path` (symlinks followed), at most `o.max`. */
export async function readLocalFile(path: string, o: LocalFileOptions): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (e) {
    throw openError(path, o, e);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw kindError(path, o, st);
    if (st.size > o.max) throw tooLarge(path, o);
    // Up to one byte past the limit: a file that grows while read (past what stat said) is bounded too.
    let buf = Buffer.allocUnsafe(Math.min(st.size, o.max) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) buf = grown(buf, path, o);
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) return buf.subarray(0, n);
      n += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** A full read buffer, doubled up to one byte past the limit (a file that grows while read is bounded too). */
function grown(buf: Buffer, path: string, o: LocalFileOptions): Buffer<ArrayBuffer> {
  if (buf.length > o.max) throw tooLarge(path, o);
  const more = Buffer.allocUnsafe(Math.min(buf.length * 2, o.max + 1));
  buf.copy(more);
  return more;
}

/** readLocalFile for the few synchronous readers. */
export function readLocalFileSync(path: string, o: LocalFileOptions): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    throw openError(path, o, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw kindError(path, o, st);
    if (st.size > o.max) throw tooLarge(path, o);
    let buf = Buffer.allocUnsafe(Math.min(st.size, o.max) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) buf = grown(buf, path, o);
      const bytesRead = readSync(fd, buf, n, buf.length - n, n);
      if (bytesRead === 0) return buf.subarray(0, n);
      n += bytesRead;
    }
  } finally {
    closeSync(fd);
  }
}
