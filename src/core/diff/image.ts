/**
 * Image-to-image differences: configuration (user, env with secrets redacted,
 * entrypoint/cmd, working dir, exposed ports, volumes, labels, the declared base
 * image), layers shared/added/removed by diffId, and files between the merged
 * filesystems.
 */
import type { ImageAnalysis } from '../layers/image-analysis.js';
import { mergeLayers, type MergedFilesystem } from '../layers/filesystem.js';
import type { EntryType, LayerEntry, LayerWalk } from '../layers/types.js';
import { redactLine } from '../checks/redact.js';
import { sanitizeLine } from '../util/sanitize.js';
import { redactEnvValue, redactLabelValue } from './redact.js';

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
  /** Uncompressed bytes. */
  size: number;
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
}

export interface FileChange {
  path: string;
  from: Omit<FileInfo, 'path'>;
  to: Omit<FileInfo, 'path'>;
  /** What differs: size, mode, uid, gid, type, linkname. */
  fields: string[];
}

export interface FileSet<T> {
  count: number;
  /** Sum of regular-file sizes (for changes: of the target's). */
  bytes: number;
  /** The largest by size (for changes: the larger of the two sizes), at most FILES_LARGEST, ties by path. */
  largest: T[];
}

export interface FilesDiff {
  added: FileSet<FileInfo>;
  removed: FileSet<FileInfo>;
  changed: FileSet<FileChange>;
}

export interface ImageDiff {
  config: ConfigDiff;
  layers: LayersDiff;
  files: FilesDiff;
}

export const FILES_LARGEST = 20;

/** The final filesystem as the file diff needs it: path → what is there. */
export type FileIndex = ReadonlyMap<string, Omit<FileInfo, 'path'>>;

/** A FileIndex from a merged filesystem. */
export function fileIndex(merged: MergedFilesystem): Map<string, Omit<FileInfo, 'path'>> {
  const m = new Map<string, Omit<FileInfo, 'path'>>();
  for (const [path, n] of merged.paths) {
    const { path: _p, ...rest } = info(path, n.entry);
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
): ImageDiff {
  const a = files.base ?? fileIndex(mergeLayers(baseWalks));
  const b = files.target ?? fileIndex(mergeLayers(targetWalks));
  return { config: diffConfig(base, target), layers: diffLayers(base, target), files: diffFiles(a, b) };
}

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

function diffConfig(base: ImageAnalysis, target: ImageAnalysis): ConfigDiff {
  const a = base.config;
  const b = target.config;
  const baseRef = (x: ImageAnalysis): BaseImageRef => ({ name: x.traceability?.baseName ?? null, digest: x.traceability?.baseDigest ?? null });
  const ba = baseRef(base);
  const bb = baseRef(target);
  return {
    user: a.user !== b.user ? { from: a.user, to: b.user } : null,
    env: keyed(parseEnv(a.env), parseEnv(b.env), redactEnvValue),
    entrypoint: sameArray(a.entrypoint, b.entrypoint) ? null : { from: redactArgs(a.entrypoint), to: redactArgs(b.entrypoint) },
    cmd: sameArray(a.cmd, b.cmd) ? null : { from: redactArgs(a.cmd), to: redactArgs(b.cmd) },
    workingDir: a.workingDir !== b.workingDir ? { from: a.workingDir, to: b.workingDir } : null,
    exposedPorts: setDiff(a.exposedPorts, b.exposedPorts),
    volumes: setDiff(a.volumes, b.volumes),
    labels: keyed(new Map(Object.entries(a.labels ?? {})), new Map(Object.entries(b.labels ?? {})), (_n, v) => redactLabelValue(v)),
    baseImage: ba.name === bb.name && ba.digest === bb.digest ? null : { from: ba, to: bb },
  };
}

/** Entrypoint / cmd arguments with secret-looking assignments, flags and tokens redacted (as history lines are). */
function redactArgs(args: string[] | null): string[] | null {
  return args === null ? null : args.map(redactKeepingLayout);
}

/** redactLine, but text without anything to redact keeps its newlines and control characters as they were. */
function redactKeepingLayout(s: string): string {
  const r = redactLine(s);
  return r === sanitizeLine(s) ? s : r;
}

function diffLayers(base: ImageAnalysis, target: ImageAnalysis): LayersDiff {
  // History lines carry ENV/ARG values and RUN command lines: redacted like every other output of them.
  const ref = (l: ImageAnalysis['layers'][number]): LayerRef => ({ diffId: l.diffId, digest: l.digest, size: l.uncompressedSize, createdBy: l.createdBy === null ? null : redactKeepingLayout(l.createdBy) });
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
  return f;
}

/** Keeps the `limit` largest items seen (by key, ties by path) without sorting everything. */
class Largest<T extends { path: string }> {
  private items: Array<{ key: number; item: T }> = [];
  constructor(private readonly limit: number) {}
  add(key: number, item: T): void {
    const items = this.items;
    if (items.length >= this.limit) {
      const last = items[items.length - 1]!;
      if (key < last.key || (key === last.key && item.path >= last.item.path)) return;
    }
    let i = items.length;
    while (i > 0 && (items[i - 1]!.key < key || (items[i - 1]!.key === key && items[i - 1]!.item.path > item.path))) i--;
    items.splice(i, 0, { key, item });
    if (items.length > this.limit) items.pop();
  }
  list(): T[] {
    return this.items.map((x) => x.item);
  }
}

/**
 * Files: added and removed count every path but directories (a directory's
 * contents are counted instead); changed covers any path on both sides
 * (directories included) whose type, size, mode, owner or link target differ.
 * Content changes that keep the size are not seen (the walk records no hashes).
 */
function diffFiles(a: FileIndex, b: FileIndex): FilesDiff {
  const added = { count: 0, bytes: 0, top: new Largest<FileInfo>(FILES_LARGEST) };
  const removed = { count: 0, bytes: 0, top: new Largest<FileInfo>(FILES_LARGEST) };
  const changed = { count: 0, bytes: 0, top: new Largest<FileChange>(FILES_LARGEST) };
  for (const [path, e] of b) {
    const o = a.get(path);
    if (!o) {
      if (e.type === 'dir') continue;
      added.count++;
      if (e.type === 'file') added.bytes += e.size;
      added.top.add(e.size, { path, ...e });
      continue;
    }
    const fields: string[] = [];
    if (o.type !== e.type) fields.push('type');
    if (o.size !== e.size) fields.push('size');
    if (o.mode !== e.mode) fields.push('mode');
    if (o.uid !== e.uid) fields.push('uid');
    if (o.gid !== e.gid) fields.push('gid');
    if ((o.linkname ?? null) !== (e.linkname ?? null)) fields.push('linkname');
    if (fields.length === 0) continue;
    changed.count++;
    if (e.type === 'file') changed.bytes += e.size;
    changed.top.add(Math.max(o.size, e.size), { path, from: { ...o }, to: { ...e }, fields });
  }
  for (const [path, e] of a) {
    if (e.type === 'dir' || b.has(path)) continue;
    removed.count++;
    if (e.type === 'file') removed.bytes += e.size;
    removed.top.add(e.size, { path, ...e });
  }
  return {
    added: { count: added.count, bytes: added.bytes, largest: added.top.list() },
    removed: { count: removed.count, bytes: removed.bytes, largest: removed.top.list() },
    changed: { count: changed.count, bytes: changed.bytes, largest: changed.top.list() },
  };
}
