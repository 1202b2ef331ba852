/**
 * 2 Layers, as dive: the layer list beside the file tree of the selected layer
 * (or of the merged filesystem), added/modified/removed in colour, directories
 * collapse and expand, the wasted-space list under the layers, `/` filters the
 * tree. Only the visible window of the tree is rendered.
 */
import { Box } from 'ink';
import { useContext, useEffect, useMemo } from 'react';
import { Table, type TableRow } from '../components/table.js';
import { fit, humanBytes, S, shortDigest, type Tone } from '../components/text.js';
import { useScreen, type JumpTarget } from '../context.js';
import type { ChangeStatus } from '../model.js';
import { follow, moveCursor, StoreContext, useScreenState, type Cursor } from '../state.js';
import { ancestors, visibleRows, type TreeNode } from '../tree.js';

const MARK: Record<ChangeStatus, string> = { added: '+', modified: '~', removed: '-', unchanged: ' ' };
const TONE: Record<ChangeStatus, Tone | undefined> = { added: 'added', modified: 'modified', removed: 'removed', unchanged: undefined };

export function modeString(n: Pick<TreeNode, 'dir' | 'type' | 'mode'>): string {
  const t = n.dir ? 'd' : n.type === 'symlink' ? 'l' : n.type === 'whiteout' || n.type === 'opaque' ? 'w' : '-';
  const m = n.mode;
  const bit = (b: number, c: string): string => (m & b ? c : '-');
  const x = (b: number, s: number, up: string, low: string): string => (m & s ? (m & b ? low : up) : bit(b, 'x'));
  return t + bit(0o400, 'r') + bit(0o200, 'w') + x(0o100, 0o4000, 'S', 's') + bit(0o40, 'r') + bit(0o20, 'w') + x(0o10, 0o2000, 'S', 's') + bit(0o4, 'r') + bit(0o2, 'w') + x(0o1, 0o1000, 'T', 't');
}

interface LayersState {
  pane: 'layers' | 'tree';
  /** 0 = merged filesystem, i + 1 = layer i. */
  layer: Cursor;
  tree: Record<string, Cursor>;
  collapsed: Record<string, string[]>;
}

export function LayersScreen(): React.JSX.Element {
  const ctx = useScreen();
  const store = useContext(StoreContext);
  const { image, width, height, filter } = ctx;
  const [st, setSt] = useScreenState<LayersState>(`layers:${ctx.imageIndex}`, () => ({ pane: 'layers', layer: { cursor: 0, offset: 0 }, tree: {}, collapsed: {} }));

  // A jump from Checks: select the layer (or merged), expand to the path and put the cursor on it.
  const jumpKey = `jump:layers:${ctx.imageIndex}`;
  const pending = store.get(jumpKey) as Extract<JumpTarget, { screen: 'layers' }> | undefined;
  let state = st;
  let missing: string | null = null;
  if (pending) {
    store.delete(jumpKey);
    // A path gone from the final filesystem (deleted in a later layer) is shown in the last layer that wrote it.
    let which = pending.path === null && pending.layer !== null ? pending.layer + 1 : 0;
    if (pending.path && !image.tree('merged').index.has(pending.path)) {
      for (let i = image.layerFiles.length - 1; i >= 0; i--) {
        if (image.layerFiles[i]!.some((f) => f.path === pending.path && f.status !== 'removed')) {
          which = i + 1;
          break;
        }
      }
    }
    const key = which === 0 ? 'merged' : String(which - 1);
    const collapsed = (st.collapsed[key] ?? []).filter((p) => !(pending.path && ancestors(pending.path).includes(p)));
    const tree = image.tree(which === 0 ? 'merged' : which - 1);
    const vis = visibleRows(tree, new Set(collapsed), '');
    const at = pending.path ? vis.indexOf(tree.index.get(pending.path) ?? -1) : 0;
    // A subject this image does not have: say so, and leave the cursor where it was rather than on another file.
    if (at < 0) missing = `${pending.path} is not in any layer of ${image.name}: nothing to show`;
    else state = { pane: pending.path ? 'tree' : 'layers', layer: { cursor: which, offset: 0 }, tree: { ...st.tree, [key]: { cursor: Math.max(0, at), offset: Math.max(0, at - 3) } }, collapsed: { ...st.collapsed, [key]: collapsed } };
    if (!missing) setSt(state);
  }
  useEffect(() => {
    if (missing) ctx.say(missing);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [missing]);

  const sel = state.layer.cursor;
  const key = sel === 0 ? 'merged' : String(sel - 1);
  const tree = image.tree(sel === 0 ? 'merged' : sel - 1);
  const collapsedList = state.collapsed[key];
  const collapsed = useMemo(() => new Set(collapsedList ?? []), [collapsedList]);
  const rows = useMemo(() => visibleRows(tree, collapsed, filter), [tree, collapsed, filter]);

  const leftW = Math.min(44, Math.max(28, Math.floor(width * 0.4)));
  const rightW = width - leftW - 1;
  const layerCount = image.layers.length + 1;
  const layersH = Math.min(layerCount + 2, Math.max(4, Math.floor(height * 0.6)));
  const wasteH = height - layersH;
  const lc = follow(state.layer, layerCount, layersH - 1);
  const tc = follow(state.tree[key] ?? { cursor: 0, offset: 0 }, rows.length, height - 1);

  const setTree = (c: Cursor): void => setSt((o) => ({ ...o, tree: { ...o.tree, [key]: c } }));
  const setCollapsed = (path: string, on: boolean): void =>
    setSt((o) => {
      const cur = new Set(o.collapsed[key] ?? []);
      if (on) cur.add(path);
      else cur.delete(path);
      return { ...o, collapsed: { ...o.collapsed, [key]: [...cur] } };
    });
  const node = (): TreeNode | undefined => {
    const i = rows.at(tc.cursor);
    return i === undefined ? undefined : tree.nodes[i];
  };

  ctx.handle({
    onAction(a) {
      if (a === 'toggleMerged') {
        setSt((o) => ({ ...o, layer: { cursor: o.layer.cursor === 0 ? image.layers.length : 0, offset: 0 } }));
        return true;
      }
      if (state.pane === 'layers') {
        const next = moveCursor(lc, a, layerCount, layersH - 1);
        if (next) {
          setSt((o) => ({ ...o, layer: next }));
          return true;
        }
        if (a === 'right' || a === 'open') {
          setSt((o) => ({ ...o, pane: 'tree' }));
          return true;
        }
        return false;
      }
      const next = moveCursor(tc, a, rows.length, height - 1);
      if (next) {
        setTree(next);
        return true;
      }
      const n = node();
      if (a === 'back') {
        if (filter) return false; // the App clears the filter
        setSt((o) => ({ ...o, pane: 'layers' }));
        return true;
      }
      if (a === 'left') {
        if (n && n.dir && !collapsed.has(n.path) && !filter) setCollapsed(n.path, true);
        else if (n && n.parent >= 0) {
          const at = rows.indexOf(n.parent);
          if (at >= 0) setTree(follow({ cursor: at, offset: tc.offset }, rows.length, height - 1));
        } else setSt((o) => ({ ...o, pane: 'layers' }));
        return true;
      }
      if ((a === 'right' || a === 'open') && n?.dir) {
        setCollapsed(n.path, a === 'open' ? !collapsed.has(n.path) : false);
        return true;
      }
      return false;
    },
    subject() {
      if (state.pane === 'layers') {
        if (sel === 0) return { subject: { image: image.name, kind: 'image', value: image.digest }, label: `image ${image.name}` };
        const l = image.layers[sel - 1]!;
        return { subject: { image: image.name, kind: 'layer', value: l.digest }, label: `layer ${l.index} ${shortDigest(l.digest)}` };
      }
      const n = node();
      return n ? { subject: { image: image.name, kind: 'path', value: n.path }, label: `file ${n.path}` } : null;
    },
  });

  const layerRow = (i: number): TableRow => {
    if (i === 0) return { cells: ['', 'merged filesystem', humanBytes(image.analysis.totalBytes), `${image.analysis.files} files`] };
    const l = image.layers[i - 1]!;
    return { cells: [String(l.index), l.createdBy || shortDigest(l.digest), humanBytes(l.size), `+${l.added} ~${l.modified} -${l.removed}`] };
  };
  const treeRow = (i: number): TableRow => {
    const n = tree.nodes[rows.at(i)!]!;
    const arrow = n.dir ? (collapsed.has(n.path) && !filter ? '▸ ' : '▾ ') : '  ';
    const name = `${'  '.repeat(n.depth)}${arrow}${n.name}${n.linkname !== undefined ? ` → ${n.linkname}` : ''}`;
    return { cells: [MARK[n.status], modeString(n), n.dir ? '' : humanBytes(n.size), name], tone: TONE[n.status] };
  };
  const waste = image.analysis.inefficientFiles;

  return (
    <Box flexDirection="row" height={height}>
      <Box flexDirection="column" width={leftW}>
        <Table
          columns={[{ header: '#', width: 2, priority: 2 }, { header: 'LAYER', min: 10, priority: 1 }, { header: 'SIZE', width: 8, align: 'right', priority: 3 }, { header: 'CHANGES', width: 12, priority: 4 }]}
          width={leftW}
          height={layersH}
          count={layerCount}
          offset={lc.offset}
          cursor={lc.cursor}
          focused={state.pane === 'layers'}
          row={layerRow}
        />
        <Box flexDirection="column" height={wasteH}>
          <S tone="header" bold>
            {fit(`WASTED ${humanBytes(image.analysis.wastedBytes)} · efficiency ${(image.analysis.efficiency * 100).toFixed(1)}%`, leftW)}
          </S>
          {waste.slice(0, Math.max(0, wasteH - 1)).map((w, i) => (
            <S key={i} tone="warn">
              {fit(`${humanBytes(w.wastedBytes).padStart(8)} ×${w.count} ${w.path}`, leftW)}
            </S>
          ))}
        </Box>
      </Box>
      <Box width={1} />
      <Table
        columns={[{ header: ' ', width: 1, priority: 1 }, { header: 'MODE', width: 10, priority: 3 }, { header: 'SIZE', width: 8, align: 'right', priority: 2 }, { header: sel === 0 ? 'MERGED FILESYSTEM' : `LAYER ${sel - 1}`, min: 16, priority: 1 }]}
        width={rightW}
        height={height}
        count={rows.length}
        offset={tc.offset}
        cursor={tc.cursor}
        focused={state.pane === 'tree'}
        row={treeRow}
        empty={filter ? `nothing matches "${filter}"` : '(empty layer)'}
      />
    </Box>
  );
}
