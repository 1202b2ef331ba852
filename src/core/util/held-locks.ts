/**
 * Locks this process holds (the session lock), each with a synchronous release that removes it only
 * while it is still this process's own. An interrupted command (SIGINT, SIGTERM, Ctrl-C at a prompt)
 * calls releaseHeldLocksSync before it exits, so no lock is left behind for the next writer to judge.
 * Kept apart from the store so the CLI can install its signal handlers without loading it.
 */
const held = new Map<string, () => void>();

export function holdLock(lock: string, releaseSync: () => void): void {
  held.set(lock, releaseSync);
}

export function forgetLock(lock: string): void {
  held.delete(lock);
}

/** Release every lock still held (its own only); returns how many were held. Synchronous: for signal handlers. */
export function releaseHeldLocksSync(): number {
  const n = held.size;
  for (const release of held.values()) {
    try {
      release();
    } catch {
      // already gone or not ours: leave it
    }
  }
  held.clear();
  return n;
}
