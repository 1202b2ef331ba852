/**
 * Temp files a killed writer leaves behind. vouch's writers name them
 * `<target>.<pid>.<hex>.tmp` (a dead lock moved aside: `.stale`) in the
 * target's own folder, so the next writer there can tell whose they are and
 * remove those whose process is gone: a crash loop cannot fill the folder.
 * A PID still alive (perhaps reused by another program) keeps its files until
 * it has exited too. Same-host only, as the session lock is: a PID names
 * nothing on another machine sharing the folder.
 */
import { readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const TEMP = /\.(\d+)\.[0-9a-f]{8,12}\.(?:tmp|stale)$/;

function gone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Remove the temp files in `dir` whose names start with `prefix` and whose writer has exited; returns how many. */
export async function sweepDeadTemps(dir: string, prefix = ''): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = name.startsWith(prefix) ? TEMP.exec(name) : null;
    if (!m || !gone(Number(m[1]))) continue;
    // Another sweeper may have been first: that is fine.
    if (await unlink(join(dir, name)).then(() => true, () => false)) removed++;
  }
  return removed;
}

const swept = new Set<string>();

/** sweepDeadTemps, once per process for each folder and prefix (writers call it on their hot path). */
export async function sweepDeadTempsOnce(dir: string, prefix = ''): Promise<void> {
  const key = `${dir}\0${prefix}`;
  if (swept.has(key)) return;
  swept.add(key);
  await sweepDeadTemps(dir, prefix);
}

/**
 * The same for temp folders named `<prefix><pid>-<mkdtemp's 6 characters>` under `parent`
 * (the Docker daemon's image exports: a whole image each, so a killed inspect must not leave one for good).
 */
export async function sweepDeadTempDirs(parent: string, prefix: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)-[A-Za-z0-9]{6}$/.exec(name.slice(prefix.length)) : null;
    if (!m || !gone(Number(m[1]))) continue;
    if (await rm(join(parent, name), { recursive: true, force: true }).then(() => true, () => false)) removed++;
  }
  return removed;
}
