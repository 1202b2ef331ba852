/**
 * A file tree flattened in pre-order, so that a screen shows a window of it by
 * index: `end` is the index just past a node's subtree, which makes collapsing
 * a skip and not a rebuild. Visible rows are runs of indices, recomputed when
 * the collapsed set (O(collapsed)) or the filter (O(n)) changes; moving the
 * cursor touches only the visible window.
 */
import type { ChangeStatus } from './model.js';

export interface TreeInput {
  path: string;
  type: string;
  size: number;
  mode: number;
  status: ChangeStatus;
  /** Layer that wrote it (merged tree). */
  layer?: number;
  linkname?: string;
}

export interface TreeNode {
  path: string;
  name: string;
  depth: number;
  dir: boolean;
  type: string;
  /** Bytes: the file's, or the sum of a directory's regular files. */
  size: number;
  mode: number;
  status: ChangeStatus;
  layer: number | null;
  linkname?: string;
  /** Index just past this node's subtree. */
  end: number;
  /** Index of the parent directory; -1 at the top. */
  parent: number;
}

export interface FileTree {
  nodes: TreeNode[];
  /** path → index. */
  index: Map<string, number>;
}

interface Building {
  name: string;
  input: TreeInput | null;
  children: Map<string, Building> | null;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function buildTree(files: readonly TreeInput[]): FileTree {
  const root: Building = { name: '', input: null, children: new Map() };
  for (const f of files) {
    let n = root;
    const parts = f.path.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      n.children ??= new Map();
      let c = n.children.get(part);
      if (!c) {
        c = { name: part, input: null, children: null };
        n.children.set(part, c);
      }
      n = c;
    }
    if (n !== root) n.input = f;
  }
  const nodes: TreeNode[] = [];
  const index = new Map<string, number>();
  const walk = (b: Building, path: string, depth: number, parent: number): number => {
    const at = nodes.length;
    const isDir = b.children !== null && b.children.size > 0 ? true : b.input?.type === 'dir';
    const node: TreeNode = {
      path,
      name: b.name,
      depth,
      dir: isDir,
      type: b.input?.type ?? 'dir',
      size: b.input && !isDir ? b.input.size : 0,
      mode: b.input?.mode ?? 0o755,
      status: b.input?.status ?? 'unchanged',
      layer: b.input?.layer ?? null,
      end: 0,
      parent,
    };
    if (b.input?.linkname !== undefined) node.linkname = b.input.linkname;
    nodes.push(node);
    index.set(path, at);
    let size = node.size;
    if (b.children) {
      for (const k of [...b.children.keys()].sort(byName)) size += walk(b.children.get(k)!, `${path}/${k}`, depth + 1, at);
    }
    if (isDir) node.size = size;
    node.end = nodes.length;
    return node.type === 'file' || isDir ? size : 0;
  };
  for (const k of [...root.children!.keys()].sort(byName)) walk(root.children!.get(k)!, `/${k}`, 0, -1);
  return { nodes, index };
}

/**
 * The rows a screen shows, as runs of consecutive node indices: a collapsed
 * directory ends a run and its subtree is skipped. Collapsing or expanding a
 * directory of a million files is then O(collapsed directories), not O(nodes);
 * `at` and `indexOf` are binary searches over the runs.
 */
export class VisibleRows {
  readonly length: number;
  private readonly starts: number[];
  private readonly ends: number[];
  /** Rows before each run. */
  private readonly before: number[];

  constructor(runs: ReadonlyArray<readonly [number, number]>) {
    this.starts = [];
    this.ends = [];
    this.before = [];
    let total = 0;
    for (const [start, end] of runs) {
      if (end <= start) continue;
      const last = this.ends.length - 1;
      if (last >= 0 && this.ends[last] === start) {
        this.ends[last] = end; // adjacent runs merge
      } else {
        this.starts.push(start);
        this.ends.push(end);
        this.before.push(total);
      }
      total += end - start;
    }
    this.length = total;
  }

  /** Node index of row `row`, or undefined past either end. */
  at(row: number): number | undefined {
    if (!Number.isInteger(row) || row < 0 || row >= this.length) return undefined;
    let lo = 0;
    let hi = this.before.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.before[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return this.starts[lo]! + (row - this.before[lo]!);
  }

  /** Row of node index `node`, or -1 when it is not shown. */
  indexOf(node: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (node < this.starts[mid]!) hi = mid - 1;
      else if (node >= this.ends[mid]!) lo = mid + 1;
      else return this.before[mid]! + (node - this.starts[mid]!);
    }
    return -1;
  }

  map<T>(f: (node: number, row: number) => T): T[] {
    const out: T[] = [];
    for (let k = 0; k < this.starts.length; k++) for (let n = this.starts[k]!; n < this.ends[k]!; n++) out.push(f(n, out.length));
    return out;
  }
}

/** The rows to show: collapsed subtrees skipped; with a filter, matching nodes and their ancestors. */
export function visibleRows(tree: FileTree, collapsed: ReadonlySet<string>, filter: string): VisibleRows {
  const { nodes } = tree;
  if (filter) {
    const f = filter.toLowerCase();
    // A node is shown when it or a descendant matches; each ancestor chain is marked once.
    const keep = new Uint8Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (!n.path.toLowerCase().includes(f)) continue;
      keep[i] = 1;
      for (let j = n.parent; j >= 0 && !keep[j]; j = nodes[j]!.parent) keep[j] = 1;
    }
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < nodes.length; i++) if (keep[i]) runs.push([i, i + 1]);
    return new VisibleRows(runs);
  }
  // Only the collapsed directories matter: visit them in tree order and skip their subtrees.
  const shut: number[] = [];
  for (const path of collapsed) {
    const i = tree.index.get(path);
    if (i !== undefined && nodes[i]!.dir) shut.push(i);
  }
  shut.sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  let from = 0;
  for (const i of shut) {
    if (i < from) continue; // inside a subtree already skipped
    runs.push([from, i + 1]);
    from = nodes[i]!.end;
  }
  runs.push([from, nodes.length]);
  return new VisibleRows(runs);
}

/** Paths of the ancestors of `path` (to expand them when jumping to it). */
export function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}
