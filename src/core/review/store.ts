/**
 * The session file on disk. Every change is written at once and atomically
 * (temp file in the same folder, fsync, rename, fsync the folder), so a crash
 * at any moment leaves the old or the new file, never a torn one. One writer
 * at a time: a lock file beside the session holds the writer's PID, host and
 * (Linux) process start time and boot id; a second writer is refused ("in use
 * by PID … since …"), and a lock whose process is gone — dead, rebooted, or its
 * PID reused by a later process — is taken over rather than left stuck.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { access, link, open, rename, rm, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname } from 'node:os';
import { dirname, basename, join, resolve } from 'node:path';
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { LocalFileError, readLocalFile, readLocalFileSync } from '../util/local-file.js';
import { forgetLock, holdLock } from '../util/held-locks.js';
import { sweepDeadTemps, sweepDeadTempsOnce } from '../util/dead-temps.js';
import { parseSession } from './schema.js';
import type { ReviewSession } from './types.js';

const MAX_SESSION_BYTES = 256 << 20;

/**
 * Write `data` to `path` so that readers (and a crash) see the old or the new content only.
 * `check` (when given) inspects the durable temp file before it replaces `path`; if it throws,
 * the temp file is removed and whatever was at `path` stays untouched.
 */
export async function writeDurable(path: string, data: string | Uint8Array, mode = 0o644, check?: (tmp: string) => Promise<void>): Promise<void> {
  const dir = dirname(path);
  // Temp files of writers killed before their rename (theirs only: the folder is the user's).
  await sweepDeadTempsOnce(dir, `.${basename(path)}.`);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    if (check) await check(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  // The rename itself must reach the disk: fsync the folder.
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export async function readSessionFile(path: string): Promise<ReviewSession> {
  const abs = resolve(path);
  const buf = await readLocalFile(abs, { what: 'session', max: MAX_SESSION_BYTES });
  return parseSession(buf.toString('utf8'), abs);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

interface LockInfo {
  pid: number;
  startedAt: string;
  /** The writer's host: a PID means nothing on another machine. */
  host?: string;
  /** Linux: the writer's start time in clock ticks since boot (/proc/PID/stat field 22) and the boot id; together with the PID they name one process, so a PID reused later is told apart. */
  procStart?: string;
  bootId?: string;
  /** Random per acquisition: tells this writer's lock from any other, even one of the same process. */
  nonce?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** /proc/PID/stat field 22 (starttime, clock ticks after boot); null where there is no /proc. */
function procStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: count from the last ')' (field 3 follows it).
    const field = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
    return field && /^\d+$/.test(field) ? field : null;
  } catch {
    return null;
  }
}

function readOr(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** When process `pid` started (ms since the epoch), from boot time + its start ticks (USER_HZ is 100 on Linux). */
function procStartMs(pid: number): number | null {
  const ticks = procStartTicks(pid);
  const btime = /^btime (\d+)$/m.exec(readOr('/proc/stat') ?? '')?.[1];
  return ticks && btime ? Number(btime) * 1000 + Number(ticks) * 10 : null;
}

function myLock(): LockInfo {
  const mine: LockInfo = { pid: process.pid, startedAt: new Date().toISOString(), host: hostname(), nonce: randomBytes(12).toString('hex') };
  const procStart = procStartTicks(process.pid);
  const bootId = readOr('/proc/sys/kernel/random/boot_id');
  if (procStart) mine.procStart = procStart;
  if (bootId) mine.bootId = bootId;
  return mine;
}

/**
 * Whether the process that wrote `held` still runs. Same host only (the caller refuses other hosts):
 * dead PID, another boot, or a PID now held by a process that started later than the lock's writer
 * (a reused PID) all mean the writer is gone.
 */
function holderAlive(held: LockInfo): boolean {
  if (!alive(held.pid)) return false;
  const bootId = readOr('/proc/sys/kernel/random/boot_id');
  if (held.bootId && bootId && held.bootId !== bootId) return false;
  if (held.procStart) {
    const now = procStartTicks(held.pid);
    return now === null || now === held.procStart;
  }
  // A lock without the start time (older vouch): a process that started after the lock was taken is not its writer.
  const started = procStartMs(held.pid);
  const taken = Date.parse(held.startedAt);
  return started === null || Number.isNaN(taken) || started <= taken + 2000;
}

export function lockPath(sessionPath: string): string {
  return `${resolve(sessionPath)}.lock`;
}

/** An open session for writing: holds the lock until close(). */
export class SessionWriter {
  private closed = false;
  private constructor(
    readonly path: string,
    public session: ReviewSession,
    private readonly lock: string,
    private readonly mine: LockInfo,
  ) {}

  /**
   * Take the lock (refused while a live process holds it) and read the session,
   * or start a new one from `initial` when given — never over an existing file
   * (checked under the lock, so a session another writer saved meanwhile, with
   * its annotations, is not lost).
   */
  static async open(path: string, initial?: ReviewSession): Promise<SessionWriter> {
    return initial ? SessionWriter.create(path, async () => initial) : SessionWriter.openWith(path, null);
  }

  /**
   * A new session file: the lock is taken first and held while `build` runs
   * (a long `session init`), so nobody can create or annotate the session in
   * between; an existing file is refused, not overwritten.
   */
  static async create(path: string, build: () => Promise<ReviewSession>): Promise<SessionWriter> {
    return SessionWriter.openWith(path, build);
  }

  private static async openWith(path: string, build: (() => Promise<ReviewSession>) | null): Promise<SessionWriter> {
    const abs = resolve(path);
    const lock = lockPath(abs);
    const mine = await acquire(lock);
    try {
      // Under the lock: what dead writers of this session left (their temp files) goes.
      await sweepDeadTemps(dirname(abs), `.${basename(abs)}.`);
      if (build && (await exists(abs))) throw new VouchError('USAGE', `${abs}: already exists; run session init again to refresh it (annotations are kept)`);
      const session = build ? await build() : await readSessionFile(abs);
      const w = new SessionWriter(abs, session, lock, mine);
      if (build) await w.save();
      return w;
    } catch (e) {
      await release(lock, mine);
      throw e;
    }
  }

  /** Persist the current session; when this resolves the change survives a crash. */
  async save(): Promise<void> {
    if (this.closed) throw new Error('session writer is closed');
    this.session.updatedAt = new Date().toISOString();
    // Checked again just before the rename: a writer whose lock is no longer its own saves nothing.
    await writeDurable(this.path, `${JSON.stringify(this.session, null, 2)}\n`, 0o644, () => ensureOwner(this.lock, this.mine));
  }

  /** Apply a change and save it at once. */
  async update<T>(change: (s: ReviewSession) => T): Promise<T> {
    const before = structuredClone(this.session);
    let out: T;
    try {
      out = change(this.session);
      await this.save();
    } catch (e) {
      this.session = before; // a refused change leaves nothing behind
      throw e;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await release(this.lock, this.mine);
  }
}

const LOCK_MAX_BYTES = 4096;

/** The lock's text and what it says (null when it does not parse); null when there is no lock. Bounded and non-blocking: a FIFO or device planted as the lock cannot hang or flood us. */
async function readLock(lock: string): Promise<{ text: string; info: LockInfo | null } | null> {
  let text: string;
  try {
    text = (await readLocalFile(lock, { what: 'lock', max: LOCK_MAX_BYTES })).toString('utf8');
  } catch (e) {
    if (e instanceof LocalFileError && e.reason === 'ENOENT') return null;
    throw e;
  }
  let info: LockInfo | null = null;
  try {
    const v = JSON.parse(text) as LockInfo;
    if (v && Number.isInteger(v.pid) && v.pid > 0 && typeof v.startedAt === 'string') info = v;
  } catch {
    info = null;
  }
  return { text, info };
}

function isMine(info: LockInfo | null | undefined, mine: LockInfo): boolean {
  return !!info && info.pid === mine.pid && info.nonce === mine.nonce;
}

/** Refuses (nothing is written) when the lock no longer holds this writer's PID and nonce. */
async function ensureOwner(lock: string, mine: LockInfo): Promise<void> {
  const now = await readLock(lock).catch(() => null);
  if (isMine(now?.info, mine)) return;
  const who = now?.info ? `PID ${now.info.pid}` : now ? 'a malformed lock' : 'nobody (the lock is gone)';
  throw new VouchError('USAGE', `${lock.replace(/\.lock$/, '')}: this writer no longer holds the lock ${lock} (held by ${who}); nothing was saved, run the command again`);
}

/** Remove the lock if it is still this writer's: never another writer's. */
async function release(lock: string, mine: LockInfo): Promise<void> {
  forgetLock(lock);
  const now = await readLock(lock).catch(() => null);
  if (isMine(now?.info, mine)) await unlink(lock).catch(() => {});
}

/** Synchronous release for an interrupted process (see util/held-locks.ts): only while the lock is still this writer's. */
function releaseSync(lock: string, mine: LockInfo): void {
  const v = JSON.parse(readLocalFileSync(lock, { what: 'lock', max: LOCK_MAX_BYTES }).toString('utf8')) as LockInfo;
  if (isMine(v, mine)) unlinkSync(lock);
}

function hold(lock: string, mine: LockInfo): void {
  holdLock(lock, () => releaseSync(lock, mine));
}

async function writeLockTemp(lock: string, info: LockInfo): Promise<string> {
  const tmp = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(JSON.stringify(info));
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw new VouchError('NOT_FOUND', `${lock}: cannot create lock (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return tmp;
}

/** `link` that reports EEXIST as false (the name is taken) and any other failure as an error naming the lock. */
async function linkExclusive(from: string, to: string, lock: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new VouchError('NOT_FOUND', `${lock}: cannot create lock (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Replace the dead lock whose text is `deadText` by this writer's (the temp file `tmp`), under the
 * takeover mutex `<lock>.takeover` so that takers go one at a time: the holder re-reads the lock and
 * replaces it (rename: atomic, no moment without a lock) only while it is still the dead one. Without
 * the mutex, a taker that read the dead lock could replace a live lock another taker had just put there.
 * 'busy': another taker holds the mutex; 'retry': the lock changed meanwhile (look again).
 */
async function takeOver(lock: string, deadText: string, tmp: string, mine: LockInfo): Promise<'taken' | 'retry' | 'busy'> {
  const mutex = `${lock}.takeover`;
  // The mutex is another name of this writer's lock temp file (same content: PID, nonce).
  if (!(await linkExclusive(tmp, mutex, lock))) {
    const m = await readLock(mutex).catch(() => null);
    if (!m) return 'retry';
    // A taker that died holding the mutex (it holds it for milliseconds): move that file aside and drop it if it is
    // the one judged dead; a live one goes back.
    if (m.info && m.info.host === hostname() && !holderAlive(m.info)) {
      const aside = `${mutex}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
      if (await rename(mutex, aside).then(() => true, () => false)) {
        const moved = await readLock(aside).catch(() => null);
        if (moved && moved.text !== m.text) await link(aside, mutex).catch(() => {});
        await rm(aside, { force: true });
      }
      return 'retry';
    }
    if (!m.info) throw new VouchError('USAGE', `${lock.replace(/\.lock$/, '')}: ${mutex} is malformed; if no vouch is writing this session, remove it`);
    return 'busy';
  }
  try {
    const now = await readLock(lock);
    if (!now || now.text !== deadText) return 'retry';
    await rename(tmp, lock);
    return 'taken';
  } finally {
    const m = await readLock(mutex).catch(() => null);
    if (isMine(m?.info, mine)) await unlink(mutex).catch(() => {});
  }
}

async function acquire(lock: string): Promise<LockInfo> {
  const mine = myLock();
  const session = lock.replace(/\.lock$/, '');
  // Lock temp files and moved-aside locks of takers killed half-way.
  await sweepDeadTemps(dirname(lock), `${basename(lock)}.`);
  // Bounded: every round either takes the lock, refuses, or saw the lock change (another writer moved on).
  // The lock appears complete or not at all: written to a temp file, then linked into place (link fails if it exists).
  const tmp = await writeLockTemp(lock, mine);
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      if (await linkExclusive(tmp, lock, lock)) {
        hold(lock, mine);
        return mine;
      }
      const cur = await readLock(lock);
      if (!cur) continue; // released meanwhile: try again
      const heldBy = cur.info;
      const remove = `if no vouch is writing this session, remove ${lock}`;
      // Locks are never torn (see above): one that does not parse was not written by vouch; a person decides.
      if (!heldBy) throw new VouchError('USAGE', `${session}: the lock ${lock} is malformed (${JSON.stringify(sanitizeLine(cur.text.slice(0, 80)))}); ${remove}`);
      const since = sanitizeLine(heldBy.startedAt);
      if (heldBy.host !== undefined && heldBy.host !== hostname()) {
        throw new VouchError('USAGE', `${session}: in use by PID ${heldBy.pid} on host ${sanitizeLine(String(heldBy.host))} since ${since} (a process on another host cannot be checked from here; ${remove})`);
      }
      if (holderAlive(heldBy)) throw new VouchError('USAGE', `${session}: in use by PID ${heldBy.pid} since ${since}`);
      const r = await takeOver(lock, cur.text, tmp, mine);
      if (r === 'taken') {
        hold(lock, mine);
        // The rename put this writer's lock in place; confirm before anything is read or written under it.
        try {
          await ensureOwner(lock, mine);
        } catch (e) {
          forgetLock(lock);
          throw e;
        }
        return mine;
      }
      if (r === 'busy') await sleep(5 + Math.floor(Math.random() * 10));
    }
  } finally {
    await rm(tmp, { force: true });
  }
  throw new VouchError('USAGE', `${lock}: could not take the lock`);
}
