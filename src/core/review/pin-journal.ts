/**
 * The reviewer's own record of what this machine pinned. A session file may sit
 * where others can push, so whoever can write it can swap its pinned digests
 * (and copy the reviewer's annotations over) between the review and `approve`:
 * `approve` would then sign, with the reviewer's key, an image the reviewer
 * never looked at. The digests this machine resolved itself when it created a
 * session are appended here, outside the session file, and `approve` (CLI and
 * workbench) refuses a session whose pins differ from them.
 *
 * One JSON line per pinned image, appended with O_APPEND (whole small lines, so
 * concurrent writers do not interleave), 0600, under the user's state folder
 * ($VOUCH_STATE_DIR, else $XDG_STATE_HOME/vouch or ~/.local/state/vouch).
 * Pins are matched by release name, version and image key, not by the session's
 * path (a symlink or a rename must not make a swapped file look new).
 */
import { appendFile, mkdir, open, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { VouchError } from '../errors.js';
import type { ReviewSession } from './types.js';

/** Read at most this much of the journal (about 200k pins); past it, the oldest lines are not seen. */
const MAX_JOURNAL_BYTES = 64 << 20;

/** What the journal needs of a session: its release and each image's key and pinned digest. */
export interface PinnedSession {
  release: Pick<ReviewSession['release'], 'name' | 'version'>;
  images: ReadonlyArray<{ key: string; digest: string }>;
}

export interface PinRecord {
  /** Real path of the session file. */
  session: string;
  release: string;
  version: string;
  /** The image's key in the release file. */
  key: string;
  digest: string;
  /** When this machine pinned it (ISO). */
  at: string;
}

export interface PinDisagreement {
  key: string;
  /** What the session file pins now. */
  pinned: string;
  /** What this machine pinned when it created the session. */
  recorded: string;
  at: string;
}

export interface PinCheck {
  /** This machine never created this session (nothing to compare with). */
  unknown: boolean;
  /** Images whose pin differs from what this machine pinned. */
  changed: PinDisagreement[];
}

export function pinJournalPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VOUCH_STATE_DIR) return join(resolve(env.VOUCH_STATE_DIR), 'pins.jsonl');
  const state = env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state');
  return join(state, 'vouch', 'pins.jsonl');
}

/** The session file's identity: its real path when it exists (a symlink or `..` names the same session). */
async function sessionId(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/** Record the digests this machine pinned for a session it created (or re-created) at `sessionPath`. */
export async function recordPins(sessionPath: string, session: PinnedSession, env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<void> {
  const file = pinJournalPath(env);
  const id = await sessionId(sessionPath);
  const lines = session.images.map((im) => JSON.stringify({ session: id, release: session.release.name, version: session.release.version, key: im.key, digest: im.digest, at: now.toISOString() } satisfies PinRecord)).join('\n');
  if (!lines) return;
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await appendFile(file, `${lines}\n`, { mode: 0o600, flag: 'a' });
  } catch (e) {
    // Without the record, approve cannot tell a swapped session later: say so now, while the reviewer is here.
    throw new VouchError('USAGE', `cannot record the pinned digests in ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (set VOUCH_STATE_DIR to a writable folder)`);
  }
}

/**
 * Compare the session's pins with what this machine pinned for its release (name and version), whatever the
 * path of the session it created: a file swapped in by a symlink or a rename is judged by its release, not by
 * where it sits. An image is fine when this machine pinned that digest for that release and image key at some
 * point (a session re-created after a rebuild re-pins it); it has changed when the machine pinned the key for
 * the release but never that digest. `unknown`: this machine never pinned anything for the release.
 */
export async function checkPins(_sessionPath: string, session: PinnedSession, env: NodeJS.ProcessEnv = process.env): Promise<PinCheck> {
  const seen = new Map<string, PinRecord[]>();
  for (const r of await readJournal(pinJournalPath(env))) {
    if (r.release !== session.release.name || r.version !== session.release.version) continue;
    const list = seen.get(r.key) ?? [];
    list.push(r);
    seen.set(r.key, list);
  }
  if (seen.size === 0) return { unknown: true, changed: [] };
  const changed: PinDisagreement[] = [];
  for (const im of session.images) {
    const records = seen.get(im.key);
    // An image this machine never pinned for the release was added to the file by someone else.
    if (!records) changed.push({ key: im.key, pinned: im.digest, recorded: `nothing for ${im.key} (not in any session of this release this machine created)`, at: '' });
    else if (!records.some((r) => r.digest === im.digest)) {
      const last = records[records.length - 1]!;
      changed.push({ key: im.key, pinned: im.digest, recorded: last.digest, at: last.at });
    }
  }
  return { unknown: false, changed };
}

async function readJournal(file: string): Promise<PinRecord[]> {
  let text: string;
  try {
    const fh = await open(file, 'r');
    try {
      // Past the bound, the newest lines: the first one read may be cut (skipped below).
      const { size } = await fh.stat();
      const start = Math.max(0, size - MAX_JOURNAL_BYTES);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      text = buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new VouchError('USAGE', `cannot read the pin journal ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out: PinRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const r = JSON.parse(line) as PinRecord;
      if (typeof r.session === 'string' && typeof r.key === 'string' && typeof r.digest === 'string') out.push(r);
    } catch {
      // A line cut by a crash mid-append (or by the bound): the lines around it still count.
    }
  }
  return out;
}

/** One line per changed pin, for refusals. */
export function pinLines(changed: readonly PinDisagreement[]): string[] {
  return changed.map((c) => `${c.key}: the session pins ${c.pinned}, but this machine pinned ${c.recorded}${c.at ? ` for this release (last at ${c.at})` : ''}`);
}
