/**
 * Stacks layer walks into the merged filesystem with OCI whiteout semantics,
 * and counts what each layer does to the filesystem below it.
 *
 * Within one layer, whiteouts and opaque markers apply to the lower layers
 * only (whatever their position in the tar), so they are applied before the
 * layer's own entries: a file added in the same layer as an opaque marker of
 * its directory survives.
 */
import type { LayerEntry, LayerWalk } from './types.js';

export interface MergedNode {
  entry: LayerEntry;
  /** Index of the layer that last wrote this path. */
  layer: number;
}

export interface LayerChanges {
  /** Entries the layer's tar records (after the walker's cleaning). */
  entries: number;
  /** Paths that did not exist below (any type but whiteouts and opaque markers). */
  added: number;
  /** Paths that existed below and were written again: any non-directory, or a directory whose type, mode or owner changed. */
  modified: number;
  /** Paths of the lower filesystem removed by this layer's whiteouts, opaque markers, or a non-directory replacing a directory (descendants counted). */
  removed: number;
  /** Bytes of regular files added or modified by this layer. */
  addedBytes: number;
  /** Bytes of regular files this layer removed from the lower filesystem. */
  removedBytes: number;
}

export interface MergedFilesystem {
  /** Every path of the final filesystem (explicit entries only; implicit parent directories are not invented). */
  paths: Map<string, MergedNode>;
  layers: LayerChanges[];
  /** Regular files, hard links and symlinks in the merged filesystem (no directories). */
  files: number;
  /** Sum of regular-file sizes in the merged filesystem, per path: a hard link counts the bytes of the file it links to (as `du --count-links`, `find -size`). */
  totalBytes: number;
  /** For each hard link of the merged filesystem, the regular file whose content it shares (resolved when the link was written). */
  hardLinks: Map<string, LayerEntry>;
}

/** A trie node: removing a directory must cost the size of its subtree, not of the whole filesystem. */
interface Node {
  children: Map<string, Node> | undefined;
  entry: LayerEntry | undefined;
  layer: number;
}

const newNode = (): Node => ({ children: undefined, entry: undefined, layer: -1 });

export function mergeLayers(walks: ReadonlyArray<Pick<LayerWalk, 'entries'>>): MergedFilesystem {
  const root = newNode();
  const layers: LayerChanges[] = [];
  // Hard link entry → the regular file it names, looked up when the link is written (what the runtime links to).
  const linked = new Map<LayerEntry, LayerEntry>();

  walks.forEach((walk, layer) => {
    const c: LayerChanges = { entries: walk.entries.length, added: 0, modified: 0, removed: 0, addedBytes: 0, removedBytes: 0 };
    const tally = (n: Node): void => {
      if (!n.entry) return;
      c.removed++;
      if (n.entry.type === 'file') c.removedBytes += n.entry.size;
    };
    for (const e of walk.entries) {
      if (e.type !== 'opaque') continue;
      const dir = find(root, e.path);
      if (dir) clearChildren(dir, tally, layer);
    }
    for (const e of walk.entries) {
      if (e.type !== 'whiteout') continue;
      const parent = find(root, parentOf(e.path));
      const name = baseOf(e.path);
      const victim = parent?.children?.get(name);
      if (!parent || !victim) continue;
      visit(victim, tally);
      parent.children!.delete(name);
    }
    for (const e of walk.entries) {
      if (e.type === 'whiteout' || e.type === 'opaque') continue;
      // A lower layer's symlink (or file) where this entry needs a parent directory is replaced by a directory,
      // not followed: docker (overlay2) extracts the layer into its own directory, creating `a/` for `a/passwd`,
      // and the merged view shows that directory over the lower `a -> /etc` (tested against docker export).
      // Symlinks of the entry's own layer were followed by the walk already (walk.ts resolveParent): paths here are where the runtime writes.
      const n = create(root, e.path, layer, tally);
      const old = n.entry;
      const isFile = e.type === 'file';
      if (old === undefined || n.layer === layer) {
        // An implicit directory (only its children existed) or a path this layer already wrote counts as added.
        if (old === undefined || n.layer !== layer) c.added++;
        if (isFile) c.addedBytes += e.size;
      } else if (e.type !== 'dir' || old.type !== 'dir' || old.mode !== e.mode || old.uid !== e.uid || old.gid !== e.gid) {
        c.modified++;
        if (isFile) c.addedBytes += e.size;
      }
      if (e.type === 'hardlink' && e.linkname !== undefined) {
        const t = find(root, e.linkname)?.entry;
        const file = t?.type === 'file' ? t : t?.type === 'hardlink' ? linked.get(t) : undefined;
        if (file) linked.set(e, file);
      }
      // Anything but a directory hides what lower layers had under this path.
      if (e.type !== 'dir' && n.children) clearChildren(n, tally, layer);
      n.entry = e;
      n.layer = layer;
    }
    layers.push(c);
  });

  const paths = new Map<string, MergedNode>();
  const hardLinks = new Map<string, LayerEntry>();
  let files = 0;
  let totalBytes = 0;
  // At a million paths the map is the largest thing an analysis holds: its keys are the entries' own path
  // strings (not fresh copies) and its values the trie nodes themselves, cut from the trie as they are collected.
  const collect = (n: Node, path: string): void => {
    if (n.entry) {
      paths.set(path === '' ? '/' : path, n as MergedNode);
      const t = n.entry.type;
      if (t === 'file' || t === 'hardlink' || t === 'symlink') files++;
      if (t === 'file') totalBytes += n.entry.size;
      if (t === 'hardlink') {
        const file = linked.get(n.entry);
        if (file) {
          hardLinks.set(path, file);
          totalBytes += file.size;
        }
      }
    }
    const children = n.children;
    n.children = undefined;
    if (children) for (const [name, child] of children) collect(child, childPath(path, name, child.entry?.path));
  };
  collect(root, '');
  return { paths, layers, files, totalBytes, hardLinks };
}

/** `${parent}/${name}`, as the entry's own string when it is that path (no copy kept, no garbage made). */
function childPath(parent: string, name: string, own: string | undefined): string {
  if (own !== undefined && own.length === parent.length + 1 + name.length && own.endsWith(name) && own.startsWith(parent) && own.charCodeAt(parent.length) === 47) return own;
  return `${parent}/${name}`;
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function find(root: Node, path: string): Node | undefined {
  let n: Node | undefined = root;
  for (const s of segments(path)) {
    n = n.children?.get(s);
    if (!n) return undefined;
  }
  return n;
}

/** The node for `path`, created with its parents; a parent that a lower layer made a non-directory becomes an implicit directory (tallied as removed). */
function create(root: Node, path: string, layer: number, replaced: (n: Node) => void): Node {
  let n = root;
  for (const s of segments(path)) {
    if (n.entry !== undefined && n.entry.type !== 'dir' && n.layer !== layer) {
      replaced(n);
      n.entry = undefined;
    }
    n.children ??= new Map();
    let next = n.children.get(s);
    if (!next) {
      next = newNode();
      n.children.set(s, next);
    }
    n = next;
  }
  return n;
}

/** Removes the children that lower layers (index < layer) put under `dir`; what this layer wrote stays. */
function clearChildren(dir: Node, tally: (n: Node) => void, layer: number): void {
  if (!dir.children) return;
  for (const [name, child] of dir.children) {
    if (child.layer === layer) {
      clearChildren(child, tally, layer);
    } else if (!hasLayer(child, layer)) {
      visit(child, tally);
      dir.children.delete(name);
    } else {
      // An implicit directory holding both lower and current entries: only the lower ones go.
      clearChildren(child, tally, layer);
      tally(child);
      child.entry = undefined;
    }
  }
}

function hasLayer(n: Node, layer: number): boolean {
  if (n.layer === layer) return true;
  if (n.children) for (const c of n.children.values()) if (hasLayer(c, layer)) return true;
  return false;
}

function visit(n: Node, f: (n: Node) => void): void {
  f(n);
  if (n.children) for (const c of n.children.values()) visit(c, f);
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
