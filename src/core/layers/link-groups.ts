/**
 * Hard-link groups of a merged filesystem: the names that share one inode, and
 * the special mode bits any of their tar headers carries. Each header of a
 * group has its own mode and the runtimes disagree on which one the shared
 * inode gets (the daemon: the last header's; umoci: the first file's), so the
 * checks (VCH-LP-002/003) and `vouch diff` both count a bit in any header for
 * every name. One function, so the two can never disagree.
 */
import type { MergedFilesystem } from './filesystem.js';

/** The names of one inode and the mode bits any of their tar headers carries. */
export interface LinkGroup {
  /** Every path of the merged filesystem sharing the inode, sorted. */
  paths: string[];
  /** OR of the setuid, setgid and o+w bits of every header of the group. */
  bits: number;
}

/** The bits a group shares: setuid, setgid, world-writable. */
export const LINK_GROUP_BITS = 0o6000 | 0o002;

const cache = new WeakMap<Pick<MergedFilesystem, 'paths' | 'hardLinks'>, Map<string, LinkGroup>>();

/** Path → its hard-link group, only for paths with at least one other name (computed once per merged filesystem). */
export function linkGroups(merged: Pick<MergedFilesystem, 'paths' | 'hardLinks'>): ReadonlyMap<string, LinkGroup> {
  let m = cache.get(merged);
  if (m) return m;
  m = new Map();
  const byFile = new Map<object, LinkGroup>();
  const join = (file: object, p: string, mode: number): void => {
    let g = byFile.get(file);
    if (!g) byFile.set(file, (g = { paths: [], bits: 0 }));
    g.paths.push(p);
    g.bits |= mode & LINK_GROUP_BITS;
  };
  // Links are grouped by the regular file the merge resolved them to; that file counts only while its path still holds it.
  for (const [p, file] of merged.hardLinks) join(file, p, merged.paths.get(p)?.entry.mode ?? 0);
  for (const [p, n] of merged.paths) if (n.entry.type === 'file' && byFile.has(n.entry)) join(n.entry, p, n.entry.mode);
  for (const g of byFile.values()) {
    if (g.paths.length < 2) continue;
    g.paths.sort();
    for (const p of g.paths) m.set(p, g);
  }
  cache.set(merged, m);
  return m;
}

/**
 * The group bits a path's own header lacks (0 when it has no other name or they
 * add nothing): the path's mode under the any-header rule is `mode | linkBits`.
 */
export function linkBits(merged: Pick<MergedFilesystem, 'paths' | 'hardLinks'>, path: string, mode: number): number {
  const g = linkGroups(merged).get(path);
  return g ? g.bits & ~mode & LINK_GROUP_BITS : 0;
}
