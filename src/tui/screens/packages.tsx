/**
 * 3 Packages: every package (name, version, type, licence, layer), filter,
 * sort, a detail pane with the purl and locations; where the attached SBOM and
 * the catalogue disagree the row is marked (S only in the SBOM, C only in the
 * catalogue, V other version).
 */
import { Box } from 'ink';
import { useContext, useEffect, useMemo } from 'react';
import { Table, type TableRow } from '../components/table.js';
import { fit, S } from '../components/text.js';
import { useScreen, type JumpTarget } from '../context.js';
import { keyOf } from '../keys.js';
import type { MismatchKind, PackageRow } from '../model.js';
import { follow, moveCursor, StoreContext, useScreenState, type Cursor } from '../state.js';

const SORTS = ['name', 'type', 'layer', 'mismatch'] as const;
type SortKey = (typeof SORTS)[number];
const MARK: Record<MismatchKind, string> = { 'only-in-sbom': 'S', 'only-in-catalogue': 'C', 'version-mismatch': 'V' };
const EXPLAIN: Record<MismatchKind, string> = {
  'only-in-sbom': 'only in the attached SBOM: the catalogue did not find it in the image',
  'only-in-catalogue': 'only in the catalogue: the attached SBOM does not list it',
  'version-mismatch': 'the attached SBOM lists another version',
};

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
function sorter(k: SortKey): (a: PackageRow, b: PackageRow) => number {
  switch (k) {
    case 'name':
      return (a, b) => cmp(a.name, b.name) || cmp(a.type, b.type);
    case 'type':
      return (a, b) => cmp(a.type, b.type) || cmp(a.name, b.name);
    case 'layer':
      return (a, b) => (a.layer ?? -1) - (b.layer ?? -1) || cmp(a.name, b.name);
    case 'mismatch':
      return (a, b) => Number(b.mismatch !== null) - Number(a.mismatch !== null) || cmp(a.name, b.name);
  }
}

export function PackagesScreen(): React.JSX.Element {
  const ctx = useScreen();
  const store = useContext(StoreContext);
  const { image, width, height, filter } = ctx;
  const [st, setSt] = useScreenState<{ c: Cursor; sort: SortKey }>(`packages:${ctx.imageIndex}`, () => ({ c: { cursor: 0, offset: 0 }, sort: 'name' }));
  const sorted = useMemo(() => [...image.packages].sort(sorter(st.sort)), [image.packages, st.sort]);
  const rows = useMemo(() => {
    if (!filter) return sorted;
    const f = filter.toLowerCase();
    return sorted.filter((p) => p.name.toLowerCase().includes(f) || p.purl.toLowerCase().includes(f) || p.licenses.toLowerCase().includes(f) || p.version.toLowerCase().includes(f));
  }, [sorted, filter]);

  const detailH = 6;
  const listH = Math.max(3, height - detailH);
  let c = follow(st.c, rows.length, listH - 1);
  const jumpKey = `jump:packages:${ctx.imageIndex}`;
  const pending = store.get(jumpKey) as Extract<JumpTarget, { screen: 'packages' }> | undefined;
  let missing: string | null = null;
  if (pending) {
    store.delete(jumpKey);
    const at = rows.findIndex((p) => p.purl === pending.purl);
    if (at >= 0) {
      c = follow({ cursor: at, offset: at - 2 }, rows.length, listH - 1);
      setSt((o) => ({ ...o, c }));
    } else missing = `${pending.purl} is not among the packages of ${image.name}: nothing to show`;
  }
  useEffect(() => {
    if (missing) ctx.say(missing);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [missing]);
  const sel = rows[c.cursor];

  ctx.handle({
    onAction(a) {
      const next = moveCursor(c, a, rows.length, listH - 1);
      if (next) {
        setSt((o) => ({ ...o, c: next }));
        return true;
      }
      if (a === 'sort') {
        setSt((o) => ({ c: { cursor: 0, offset: 0 }, sort: SORTS[(SORTS.indexOf(o.sort) + 1) % SORTS.length]! }));
        return true;
      }
      return false;
    },
    subject: () => (sel ? { subject: { image: image.name, kind: 'package', value: sel.purl }, label: `package ${sel.purl}` } : null),
  });

  const row = (i: number): TableRow => {
    const p = rows[i]!;
    return {
      cells: [p.mismatch ? MARK[p.mismatch] : ' ', p.name, p.mismatch === 'version-mismatch' ? `${p.version} (SBOM ${p.otherVersion ?? '?'})` : p.version, p.type, p.licenses || '-', p.layer === null ? '-' : String(p.layer)],
      tone: p.mismatch ? 'warn' : undefined,
    };
  };
  const narrow = width < 100;
  const mismatches = image.packages.filter((p) => p.mismatch).length;
  return (
    <Box flexDirection="column" height={height}>
      <Table
        columns={[{ header: '!', width: 1, priority: 2 }, { header: `NAME (sort: ${st.sort}, ${keyOf(ctx.keys, 'sort')} changes)`, min: 18, priority: 1 }, { header: 'VERSION', width: narrow ? 14 : 24, priority: 1 }, { header: 'TYPE', width: 6, priority: 5 }, { header: 'LICENCE', width: narrow ? 12 : 24, priority: 4 }, { header: 'LAYER', width: 5, align: 'right', priority: 6 }]}
        width={width}
        height={listH}
        count={rows.length}
        offset={c.offset}
        cursor={c.cursor}
        row={row}
        empty={filter ? `no package matches "${filter}"` : 'no packages catalogued'}
      />
      <Box flexDirection="column" height={detailH}>
        <S tone="header" bold>
          {fit(`${rows.length} of ${image.packages.length} packages · attached SBOMs: ${image.attachedSboms ?? 'not read'} · mismatches: ${mismatches}`, width)}
        </S>
        {sel ? (
          <>
            <S>{fit(`purl      ${sel.purl}`, width)}</S>
            <S>{fit(`licence   ${sel.licenses || '-'}`, width)}</S>
            <S>{fit(`locations ${sel.locations.map((l) => `${l.path}${l.layer === null ? '' : ` (layer ${l.layer})`}`).join(', ') || '-'}`, width)}</S>
            <S tone={sel.mismatch ? 'warn' : 'dim'}>{fit(sel.mismatch ? EXPLAIN[sel.mismatch] : 'attached SBOM and catalogue agree (or nothing is attached)', width)}</S>
          </>
        ) : null}
      </Box>
    </Box>
  );
}
