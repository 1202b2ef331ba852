/**
 * Image-to-image differences: configuration (user, env with secrets redacted,
 * entrypoint/cmd, working dir, exposed ports, volumes, labels, the declared base
 * image), layers shared/added/removed by diffId, and files between the merged
 * filesystems.
 */
import type { ImageAnalysis } from '../layers/image-analysis.js';
import { mergeLayers, type MergedFilesystem } from '../layers/filesystem.js';
import { linkBits } from '../layers/link-groups.js';
import type { EntryType, LayerEntry, LayerWalk } from '../layers/types.js';
import { redactArgs, redactEnvValue, redactKeepingLayout, redactLabelValue } from '../util/redact.js';
import { reviewReasons, type ReviewReason } from './review.js';
import { minOf } from '../util/fold.js';

export interface ValueChange<T> {
  from: T;
  to: T;
}

export interface KeyedChanges {
  added: Array<{ name: string; value: string }>;
  removed: Array<{ name: string; value: string }>;
  changed: Array<{ name: string; from: string; to: string }>;
}

export interface BaseImageRef {
  name: string | null;
  digest: string | null;
}

export interface ConfigDiff {
  /** null when unchanged. */
  user: ValueChange<string> | null;
  env: KeyedChanges;
  entrypoint: ValueChange<string[] | null> | null;
  cmd: ValueChange<string[] | null> | null;
  workingDir: ValueChange<string> | null;
  exposedPorts: { added: string[]; removed: string[] };
  volumes: { added: string[]; removed: string[] };
  labels: KeyedChanges;
  /** org.opencontainers.image.base.name / base.digest (annotations or labels); null when unchanged. */
  baseImage: ValueChange<BaseImageRef> | null;
}

export interface LayerRef {
  diffId: string;
  digest: string;
  /** Bytes of the files the layer holds (dive's layer size; inspect's `sizeBytes`, "FILES SIZE"). */
  sizeBytes: number;
  /** Bytes of the uncompressed tar, headers and padding included (inspect's `uncompressedSize`, "TAR SIZE"). */
  uncompressedSize: number;
  createdBy: string | null;
}

export interface LayersDiff {
  shared: LayerRef[];
  added: LayerRef[];
  removed: LayerRef[];
}

export interface FileInfo {
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
  /** sha256 (hex) of the content: regular files, and hard links (of the file they link to). */
  sha256?: string;
  /**
   * Setuid, setgid and o+w bits that another name of the same inode carries in its
   * tar header and this path's header lacks (present only when there are some).
   * The file is judged by `mode | linkBits`, as the checks judge it (layers/link-groups.ts).
   */
  linkBits?: number;
  /** Why a reviewer must look at it (setuid, secret, …); present only in diff sets, only when there is a reason. */
  review?: ReviewReason[];
}

export interface FileChange {
  path: string;
  from: Omit<FileInfo, 'path'>;
  to: Omit<FileInfo, 'path'>;
  /** What differs: size, mode, uid, gid, type, linkname, content (same path, different sha256), linkBits (bits from another name of its inode). */
  fields: string[];
  /** Review reasons of the target's file (setuid, secret, …), when there are any. */
  review?: ReviewReason[];
}

export interface FileSet<T> {
  count: number;
  /** Sum of regular-file sizes, hard-linked paths included (for changes: of the target's). */
  bytes: number;
  /**
   * Every path in the set: those with review reasons first, then by size (for changes: the
   * larger of the two sizes), largest first, ties by path. Nothing is cut (text output shows the top).
   */
  files: T[];
}

export interface FilesDiff {
  added: FileSet<FileInfo>;
  removed: FileSet<FileInfo>;
  changed: FileSet<FileChange>;
  /**
   * Called out on their own: paths that are newly setuid/setgid (added, or a mode that gained the bit; a
   * hard-linked path is setuid when any name of its inode has the bit in its header, as the checks judge it),
   * and added key/credential files.
   */
  attention: { newSetuid: string[]; newSecrets: string[] };
}

export interface ImageDiff {
  config: ConfigDiff;
  layers: LayersDiff;
  files: FilesDiff;
}

/** The final filesystem as the file diff needs it: path → what is there. */
export type FileIndex = ReadonlyMap<string, Omit<FileInfo, 'path'>>;

/** A FileIndex from a merged filesystem. */
export function fileIndex(merged: MergedFilesystem): Map<string, Omit<FileInfo, 'path'>> {
  const m = new Map<string, Omit<FileInfo, 'path'>>();
  for (const [path, n] of merged.paths) {
    const { path: _p, ...rest } = info(path, n.entry);
    const file = n.entry.type === 'hardlink' ? merged.hardLinks.get(path) : undefined;
    if (file?.sha256 !== undefined) rest.sha256 = file.sha256;
    // A hard-linked path holds its target's bytes (as inspect's totalBytes counts them), not the header's 0.
    if (file) rest.size = file.size;
    // Links share the inode: a bit in another name's header is this file's too (the checks' rule).
    const bits = n.entry.type === 'file' || n.entry.type === 'hardlink' ? linkBits(merged, path, n.entry.mode) : 0;
    if (bits) rest.linkBits = bits;
    m.set(path, rest);
  }
  return m;
}

/**
 * Diff two analysed images from their layer walks. `files` passes file indexes
 * already built (e.g. read from the cache) so the walks are not merged again.
 */
export function diffImages(
  base: ImageAnalysis,
  target: ImageAnalysis,
  baseWalks: ReadonlyArray<Pick<LayerWalk, 'entries'>>,
  targetWalks: ReadonlyArray<Pick<LayerWalk, 'entries'>>,
  files: { base?: FileIndex; target?: FileIndex } = {},
  opts: { showSecrets?: boolean } = {},
): ImageDiff {
  const a = files.base ?? fileIndex(mergeLayers(baseWalks));
  const b = files.target ?? fileIndex(mergeLayers(targetWalks));
  // --show-secrets: values exactly as the image holds them.
  const r: Redactors = opts.showSecrets ? SHOW : REDACT;
  return { config: diffConfig(base, target, r), layers: diffLayers(base, target, r), files: diffFiles(a, b) };
}

interface Redactors {
  env: (name: string, value: string) => string;
  label: (value: string) => string;
  args: (args: string[] | null) => string[] | null;
  line: (s: string) => string;
}
const REDACT: Redactors = { env: redactEnvValue, label: redactLabelValue, args: redactArgs, line: redactKeepingLayout };
const SHOW: Redactors = { env: (_n, v) => v, label: (v) => v, args: (a) => a, line: (s) => s };

const sameArray = (a: string[] | null, b: string[] | null): boolean => (a === null || b === null ? a === b : a.length === b.length && a.every((x, i) => x === b[i]));

function parseEnv(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

function keyed(from: Map<string, string>, to: Map<string, string>, show: (name: string, value: string) => string): KeyedChanges {
  const out: KeyedChanges = { added: [], removed: [], changed: [] };
  for (const [name, value] of to) {
    if (!from.has(name)) out.added.push({ name, value: show(name, value) });
    else if (from.get(name) !== value) out.changed.push({ name, from: show(name, from.get(name)!), to: show(name, value) });
  }
  for (const [name, value] of from) if (!to.has(name)) out.removed.push({ name, value: show(name, value) });
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  out.added.sort(byName);
  out.removed.sort(byName);
  out.changed.sort(byName);
  return out;
}

function setDiff(from: readonly string[], to: readonly string[]): { added: string[]; removed: string[] } {
  const f = new Set(from);
  const t = new Set(to);
  return { added: [...t].filter((x) => !f.has(x)).sort(), removed: [...f].filter((x) => !t.has(x)).sort() };
}

function diffConfig(base: ImageAnalysis, target: ImageAnalysis, r: Redactors): ConfigDiff {
  const a = base.config;
  const b = target.config;
  const baseRef = (x: ImageAnalysis): BaseImageRef => ({ name: x.traceability?.baseName ?? null, digest: x.traceability?.baseDigest ?? null });
  const ba = baseRef(base);
  const bb = baseRef(target);
  return {
    user: a.user !== b.user ? { from: a.user, to: b.user } : null,
    env: keyed(parseEnv(a.env), parseEnv(b.env), r.env),
    entrypoint: sameArray(a.entrypoint, b.entrypoint) ? null : { from: r.args(a.entrypoint), to: r.args(b.entrypoint) },
    cmd: sameArray(a.cmd, b.cmd) ? null : { from: r.args(a.cmd), to: r.args(b.cmd) },
    workingDir: a.workingDir !== b.workingDir ? { from: a.workingDir, to: b.workingDir } : null,
    exposedPorts: setDiff(a.exposedPorts, b.exposedPorts),
    volumes: setDiff(a.volumes, b.volumes),
    labels: keyed(new Map(Object.entries(a.labels ?? {})), new Map(Object.entries(b.labels ?? {})), (_n, v) => r.label(v)),
    baseImage: ba.name === bb.name && ba.digest === bb.digest ? null : { from: ba, to: bb },
  };
}

function diffLayers(base: ImageAnalysis, target: ImageAnalysis, r: Redactors): LayersDiff {
  // History lines carry ENV/ARG values and RUN command lines: redacted like every other output of them.
  const ref = (l: ImageAnalysis['layers'][number]): LayerRef => ({ diffId: l.diffId, digest: l.digest, sizeBytes: l.sizeBytes, uncompressedSize: l.uncompressedSize, createdBy: l.createdBy === null ? null : r.line(l.createdBy) });
  // Multisets by diffId: an image can carry the same layer twice.
  const pool = new Map<string, number>();
  for (const l of base.layers) pool.set(l.diffId, (pool.get(l.diffId) ?? 0) + 1);
  const out: LayersDiff = { shared: [], added: [], removed: [] };
  for (const l of target.layers) {
    const n = pool.get(l.diffId) ?? 0;
    if (n > 0) {
      pool.set(l.diffId, n - 1);
      out.shared.push(ref(l));
    } else {
      out.added.push(ref(l));
    }
  }
  for (const l of base.layers) {
    const n = pool.get(l.diffId) ?? 0;
    if (n > 0) {
      pool.set(l.diffId, n - 1);
      out.removed.push(ref(l));
    }
  }
  return out;
}

function info(path: string, e: LayerEntry): FileInfo {
  const f: FileInfo = { path, type: e.type, size: e.size, mode: e.mode, uid: e.uid, gid: e.gid };
  if (e.linkname !== undefined) f.linkname = e.linkname;
  if (e.sha256 !== undefined) f.sha256 = e.sha256;
  return f;
}

/** Collects a set's items with their sort key, sorted once at the end (review reasons first, then size, then path). */
const REVIEW_ORDER: readonly ReviewReason[] = ['setuid', 'setgid', 'secret', 'account-file', 'world-writable', 'executable-in-path'];

class Collected<T extends { path: string; review?: ReviewReason[] }> {
  private items: Array<{ key: number; item: T }> = [];
  add(key: number, item: T): void {
    this.items.push({ key, item });
  }
  list(): T[] {
    // setuid/setgid, then keys, then world-writable, then PATH executables, then everything else.
    const rank = (x: T): number => minOf((x.review ?? []).map((r) => REVIEW_ORDER.indexOf(r)), REVIEW_ORDER.length);
    return this.items
      .sort((a, b) => rank(a.item) - rank(b.item) || b.key - a.key || (a.item.path < b.item.path ? -1 : a.item.path > b.item.path ? 1 : 0))
      .map((x) => x.item);
  }
}

/** A path's mode with the bits other names of its inode carry (the checks' any-header rule). */
const inodeMode = (e: { mode: number; linkBits?: number }): number => e.mode | (e.linkBits ?? 0);

/** The item with its review reasons attached (only when it has some), judged by the inode's mode. */
function withReview<T extends object>(path: string, e: { type: EntryType; mode: number; linkBits?: number }, item: T): T & { review?: ReviewReason[] } {
  const r = reviewReasons(path, { type: e.type, mode: inodeMode(e) });
  return r.length ? { ...item, review: r } : item;
}

/**
 * Files: added and removed count every path but directories (a directory's
 * contents are counted instead); changed covers any path on both sides
 * (directories included) whose type, size, mode, owner, link target or content
 * (sha256 recorded by the walk) differ.
 */
function diffFiles(a: FileIndex, b: FileIndex): FilesDiff {
  const added = { count: 0, bytes: 0, top: new Collected<FileInfo>() };
  const removed = { count: 0, bytes: 0, top: new Collected<FileInfo>() };
  const changed = { count: 0, bytes: 0, top: new Collected<FileChange>() };
  const attention = { newSetuid: [] as string[], newSecrets: [] as string[] };
  const suid = (m: number): boolean => (m & 0o6000) !== 0;
  for (const [path, e] of b) {
    const o = a.get(path);
    if (!o) {
      if (e.type === 'dir') continue;
      added.count++;
      if (e.type === 'file' || e.type === 'hardlink') added.bytes += e.size;
      const item = withReview(path, e, { path, ...e });
      added.top.add(e.size, item);
      if (item.review?.some((r) => r === 'setuid' || r === 'setgid')) attention.newSetuid.push(path);
      if (item.review?.includes('secret')) attention.newSecrets.push(path);
      continue;
    }
    const fields: string[] = [];
    if (o.type !== e.type) fields.push('type');
    if (o.size !== e.size) fields.push('size');
    if (o.mode !== e.mode) fields.push('mode');
    if (o.uid !== e.uid) fields.push('uid');
    if (o.gid !== e.gid) fields.push('gid');
    if ((o.linkname ?? null) !== (e.linkname ?? null)) fields.push('linkname');
    // Same header, but another name of the inode gained (or lost) a special bit: the file's mode changed all the same.
    if ((o.linkBits ?? 0) !== (e.linkBits ?? 0)) fields.push('linkBits');
    // A swapped binary of the same size, mode and owner differs only here.
    if (o.sha256 !== undefined && e.sha256 !== undefined && o.sha256 !== e.sha256) fields.push('content');
    if (fields.length === 0) continue;
    changed.count++;
    if (e.type === 'file' || e.type === 'hardlink') changed.bytes += e.size;
    const item = withReview(path, e, { path, from: { ...o }, to: { ...e }, fields });
    changed.top.add(Math.max(o.size, e.size), item);
    if (item.review?.some((r) => r === 'setuid' || r === 'setgid') && (!suid(inodeMode(o)) || o.type !== e.type)) attention.newSetuid.push(path);
  }
  for (const [path, e] of a) {
    if (e.type === 'dir' || b.has(path)) continue;
    removed.count++;
    if (e.type === 'file' || e.type === 'hardlink') removed.bytes += e.size;
    removed.top.add(e.size, withReview(path, e, { path, ...e }));
  }
  return {
    added: { count: added.count, bytes: added.bytes, files: added.top.list() },
    removed: { count: removed.count, bytes: removed.bytes, files: removed.top.list() },
    changed: { count: changed.count, bytes: changed.bytes, files: changed.top.list() },
    attention: { newSetuid: attention.newSetuid.sort(), newSecrets: attention.newSecrets.sort() },
  };
}
