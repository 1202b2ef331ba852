/**
 * One command run resolves a tag once. The first lookup of `registry/repo:tag`
 * pins the digest it returned; every later open of that tag in the same run
 * reads the pinned digest instead (content-addressed, so it cannot change),
 * and a lookup that still returns another digest is refused: checks of image
 * A must never report the signatures of image B because the tag moved between
 * the content walk and the attachment discovery.
 */
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';

export class ReferencePins {
  private readonly pinned = new Map<string, string>();

  /** The digest `name` (registry/repo:tag) was first resolved to in this run. */
  get(name: string): string | undefined {
    return this.pinned.get(name);
  }

  /** Remember what `name` resolved to; another digest than the pinned one is a moved tag (TAG_MOVED, exit 1). */
  record(name: string, digest: string): void {
    const before = this.pinned.get(name);
    if (before === undefined) {
      this.pinned.set(name, digest);
      return;
    }
    if (before !== digest) {
      throw new VouchError('TAG_MOVED', sanitizeLine(`${name}: the tag moved during this run (first ${before}, now ${digest}); refusing to mix the results of two images`), { exitCode: 1 });
    }
  }

  /** Every pin, for reports. */
  entries(): Array<[string, string]> {
    return [...this.pinned.entries()];
  }
}

/** The caller's pins, or a fresh set for this run. */
export function pinsFor(opts: { pins?: ReferencePins }): ReferencePins {
  return opts.pins ?? new ReferencePins();
}
