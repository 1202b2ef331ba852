/**
 * Wasted space exactly as dive (github.com/wagoodman/dive) defines it, so a
 * reviewer's numbers match the tool everyone already knows. dive's rules,
 * reimplemented here from its behaviour (filetree/efficiency.go, image/analysis.go):
 *
 * - Each layer is a tree of its tar entries plus the implicit parent
 *   directories they need (these carry an empty payload: size 0, not a dir).
 *   `.wh..wh..*` names are never added; `.wh.NAME` stays a node named so.
 * - Only leaves are visited, child-first, children in byte order of name. A
 *   leaf's path is its tree path with a leading ".wh." stripped from its own name.
 * - A leaf's size is its header size; a whiteout leaf is sized from the stack
 *   of the layers below (dive's StackTreeRange(0, i-1), which starts from a
 *   copy of layer 0 and stacks layer 0 onto it again): the sum over the removed
 *   node's subtree when that node is a directory, else 0. When the whiteout's
 *   target is missing from that stack, dive stops visiting the rest of that
 *   layer, and the path stays with a minimum of -1 (this is reproduced).
 * - Per path: count, cumulative size and minimum size. efficiency =
 *   Σmin / Σcumulative (1 when nothing was seen); wasted bytes = Σ cumulative of
 *   paths seen at least twice; layer size = Σ header sizes of the layer's
 *   entries; user size excludes layer 0; userWastedPercent = wasted / user size.
 * - Inefficient files: ascending by cumulative size in the order they reached a
 *   count of two, listed largest first (dive reverses its sorted slice on output).
 */
import type { LayerEntry, LayerWalk } from './types.js';

export interface InefficientFile {
  path: string;
  /** How many layers touched the path (dive's len(Nodes)). */
  count: number;
  /** dive's CumulativeSize of the path. */
  wastedBytes: number;
}

export interface EfficiencyResult {
  efficiency: number;
  sizeBytes: number;
  userSizeBytes: number;
  wastedBytes: number;
  /** wastedBytes / userSizeBytes; 0 when there is no user layer (dive would print NaN). */
  userWastedPercent: number;
  /** Largest first. */
  inefficientFiles: InefficientFile[];
  /** dive's per-layer size: the sum of the layer's tar header sizes. */
  layerSizes: number[];
  /** dive's per-layer tree size: entries plus implicit parent directories. */
  layerNodeCounts: number[];
  /** dive's "files:" figure: the sum of layerNodeCounts. */
  diveFiles: number;
}

export type EfficiencyInput = Pick<LayerWalk, 'entries'> & { headerBytes?: number };

const WHITEOUT = '.wh.';
const DOUBLE_WHITEOUT = '.wh..wh..';

/** A node of a dive-style tree. `info` null is an implicit directory (dive's empty FileInfo). */
interface DNode {
  name: string;
  parent: DNode | null;
  /** Created with the first child: most nodes are leaves, and an empty Map per leaf was most of the tree's memory. */
  children: Map<string, DNode> | undefined;
  info: LayerEntry | null;
  /** Children names in byte order, cached once the tree is complete. */
  sorted?: string[];
}

interface DTree {
  root: DNode;
  size: number;
}

export function computeEfficiency(walks: ReadonlyArray<EfficiencyInput>): EfficiencyResult {
  // One layer's tree at a time (a million-file image holds one tree, not eight); the stack below a whiteout
  // rebuilds a dropped tree from its entries, which gives the same tree.
  const trees: Array<DTree | undefined> = new Array(walks.length);
  const treeOf = (i: number): DTree => (trees[i] ??= buildTree(walks[i]!.entries));
  const layerNodeCounts: number[] = new Array(walks.length).fill(0);
  const layerSizes = walks.map((w) => w.headerBytes ?? w.entries.reduce((a, e) => a + e.size, 0));

  // Per path, in parallel arrays (a million paths make a million objects otherwise); the map's keys are the
  // entries' own path strings where the tree path is the same (no copy per leaf).
  const slotOf = new Map<string, number>();
  const paths: string[] = [];
  const counts: number[] = [];
  const cumulative: number[] = [];
  const mins: number[] = [];
  const inefficient: number[] = [];

  // dive restacks layers 0..i-1 for every whiteout; the stack only grows, so build it once, incrementally.
  let stack: DTree | null = null;
  let stackedUpTo = -1;
  const stackBelow = (i: number): DTree => {
    if (!stack) stack = copyTree(treeOf(0));
    for (; stackedUpTo < i - 1; ) stackOnto(stack, treeOf(++stackedUpTo));
    return stack;
  };

  class StopLayer extends Error {}

  walks.forEach((_w, i) => {
    const tree = treeOf(i);
    layerNodeCounts[i] = tree.size;
    const visitor = (node: DNode): void => {
      const path = node.info && isNodePath(node, node.info.path) ? node.info.path : nodePath(node);
      let k = slotOf.get(path);
      if (k === undefined) {
        k = paths.length;
        slotOf.set(path, k);
        paths.push(path);
        counts.push(0);
        cumulative.push(0);
        mins.push(-1);
      }
      let size = 0;
      if (node.name.startsWith(WHITEOUT)) {
        const previous = getNode(stackBelow(i), path);
        if (!previous) throw new StopLayer();
        if (previous.info?.type === 'dir') visitAll(previous, (n) => (size += n.info?.size ?? 0));
      } else {
        size = node.info?.size ?? 0;
      }
      cumulative[k] += size;
      if (mins[k]! < 0 || size < mins[k]!) mins[k] = size;
      if (++counts[k]! === 2) inefficient.push(k);
    };
    try {
      visitLeaves(tree.root, visitor);
    } catch (e) {
      if (!(e instanceof StopLayer)) throw e;
    }
    trees[i] = undefined;
  });

  let minimum = 0;
  let discovered = 0;
  for (let k = 0; k < paths.length; k++) {
    minimum += mins[k]!;
    discovered += cumulative[k]!;
  }
  const efficiency = discovered === 0 ? 1 : minimum / discovered;

  // Array.prototype.sort is stable: ties keep the order in which paths became inefficient, as Go's insertion sort does for short lists.
  const sorted = [...inefficient].sort((a, b) => cumulative[a]! - cumulative[b]!);
  const wastedBytes = sorted.reduce((a, k) => a + cumulative[k]!, 0);
  const sizeBytes = layerSizes.reduce((a, s) => a + s, 0);
  const userSizeBytes = sizeBytes - (layerSizes[0] ?? 0);
  return {
    efficiency,
    sizeBytes,
    userSizeBytes,
    wastedBytes,
    userWastedPercent: userSizeBytes === 0 ? 0 : wastedBytes / userSizeBytes,
    inefficientFiles: sorted.reverse().map((k) => ({ path: paths[k]!, count: counts[k]!, wastedBytes: cumulative[k]! })),
    layerSizes,
    layerNodeCounts,
    diveFiles: layerNodeCounts.reduce((a, n) => a + n, 0),
  };
}

/** One node of dive's per-layer tree, in the order dive's JSON export lists them. */
export interface DiveFileNode {
  /** Tree path, whiteout names kept as ".wh.NAME". */
  path: string;
  /** The entry, or null for a parent directory dive adds implicitly. */
  entry: LayerEntry | null;
}

/** dive's per-layer file list (its export's `fileList`): every node, child-first, children in byte order. */
export function diveFileList(entries: readonly LayerEntry[]): DiveFileNode[] {
  const out: DiveFileNode[] = [];
  visitAll(buildTree(entries).root, (n) => out.push({ path: rawPath(n), entry: n.info }), false);
  return out;
}

/* ---- dive's tree, reimplemented ---- */

function newTree(): DTree {
  return { root: { name: '', parent: null, children: undefined, info: null }, size: 0 };
}

/** The name dive sees in the tar for an entry (whiteouts and opaque markers are files named so). */
function tarPath(e: LayerEntry): string {
  if (e.type === 'opaque') return e.path === '/' ? `/${DOUBLE_WHITEOUT}opq` : `${e.path}/${DOUBLE_WHITEOUT}opq`;
  if (e.type === 'whiteout') {
    const i = e.path.lastIndexOf('/');
    return `${e.path.slice(0, i + 1)}${WHITEOUT}${e.path.slice(i + 1)}`;
  }
  return e.path;
}

function buildTree(entries: readonly LayerEntry[]): DTree {
  const tree = newTree();
  for (const e of entries) addPath(tree, tarPath(e), e);
  return tree;
}

/** dive's FileTree.AddPath: creates missing parents with an empty payload; a missing `.wh..wh..` name drops the rest of the path. */
function addPath(tree: DTree, path: string, info: LayerEntry | null): void {
  const names = path.split('/');
  let node = tree.root;
  let last = names.length - 1;
  while (last >= 0 && names[last] === '') last--;
  for (let i = 0; i <= last; i++) {
    const name = names[i]!;
    if (name === '') continue;
    let child = node.children?.get(name);
    if (!child) {
      if (name.startsWith(DOUBLE_WHITEOUT)) return;
      child = { name, parent: node, children: undefined, info: null };
      (node.children ??= new Map()).set(name, child);
      node.sorted = undefined;
      tree.size++;
    }
    node = child;
    if (i === last) node.info = info;
  }
}

function getNode(tree: DTree, path: string): DNode | undefined {
  let node: DNode | undefined = tree.root;
  for (const name of path.split('/')) {
    if (name === '') continue;
    node = node.children?.get(name);
    if (!node) return undefined;
  }
  return node;
}

function removePath(tree: DTree, path: string): void {
  const node = getNode(tree, path);
  if (!node || node === tree.root) return; // dive logs and ignores both
  const count = (n: DNode): number => {
    let c = 1;
    if (n.children) for (const ch of n.children.values()) c += count(ch);
    return c;
  };
  tree.size -= count(node);
  node.parent!.children!.delete(node.name);
  node.parent!.sorted = undefined;
}

function copyTree(src: DTree): DTree {
  const tree = newTree();
  const copy = (from: DNode, to: DNode): void => {
    if (!from.children) return;
    for (const [name, child] of from.children) {
      const c: DNode = { name, parent: to, children: undefined, info: child.info };
      (to.children ??= new Map()).set(name, c);
      copy(child, c);
    }
  };
  copy(src.root, tree.root);
  tree.size = src.size;
  return tree;
}

/** dive's FileTree.Stack: every node of `upper`, child-first: whiteouts remove, the rest overwrite (implicit dirs included, with their empty payload). */
function stackOnto(lower: DTree, upper: DTree): void {
  visitAll(upper.root, (n) => {
    if (n.name.startsWith(WHITEOUT)) removePath(lower, nodePath(n));
    else addPath(lower, nodePath(n), n.info);
  });
}

/** dive's FileNode.Path(): the node's own name loses a leading ".wh."; "//" collapses. */
function nodePath(node: DNode): string {
  const names: string[] = [];
  for (let n: DNode = node; n.parent !== null; n = n.parent) {
    names.push(n === node && n.name.startsWith(WHITEOUT) ? n.name.slice(WHITEOUT.length) : n.name);
  }
  return `/${names.reverse().join('/')}`.replaceAll('//', '/');
}

/** Whether `path` is nodePath(node), checked name by name from the end (no string is built). */
function isNodePath(node: DNode, path: string): boolean {
  let end = path.length;
  for (let n: DNode = node; n.parent !== null; n = n.parent) {
    const name = n === node && n.name.startsWith(WHITEOUT) ? n.name.slice(WHITEOUT.length) : n.name;
    const start = end - name.length;
    if (start < 1 || path.charCodeAt(start - 1) !== 47 || !path.startsWith(name, start)) return false;
    end = start - 1;
  }
  return end === 0;
}

function rawPath(node: DNode): string {
  const names: string[] = [];
  for (let n: DNode = node; n.parent !== null; n = n.parent) names.push(n.name);
  return `/${names.reverse().join('/')}`;
}

function sortedNames(n: DNode): string[] {
  return (n.sorted ??= n.children ? [...n.children.keys()].sort(compareUtf8) : []);
}

/** Child-first visit of `node`'s subtree including `node` itself unless it is a tree root (dive never visits the root). */
function visitAll(node: DNode, f: (n: DNode) => void, includeSelf = true): void {
  if (node.children) for (const name of sortedNames(node)) visitAll(node.children.get(name)!, f, true);
  if (includeSelf && node.parent !== null) f(node);
}

function visitLeaves(node: DNode, f: (n: DNode) => void): void {
  if (node.children === undefined || node.children.size === 0) {
    if (node.parent !== null) f(node);
    return;
  }
  for (const name of sortedNames(node)) visitLeaves(node.children.get(name)!, f);
}

/** Go's string order: bytes of UTF-8. UTF-16 order differs only where surrogates meet U+E000..U+FFFF. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (astral code points, 4 UTF-8 bytes) sort after U+E000..U+FFFF (3 bytes).
      x = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
      y = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    }
    return x - y;
  }
  return a.length - b.length;
}
