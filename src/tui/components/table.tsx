/**
 * A virtualised table: only the rows in the window [offset, offset+height) are
 * rendered, whatever the row count, so a keypress costs the same on 10 rows or
 * 100,000. Cells are clipped to their column; every cell goes through S.
 */
import { Box } from 'ink';
import { fit, S, type Tone } from './text.js';
import { fitColumns } from '../../core/util/column-fit.js';

export interface Column {
  header: string;
  /** Fixed width; one column may omit it and take what is left. */
  width?: number;
  /** The flex column's least width before other columns are cut (default 8). */
  min?: number;
  align?: 'left' | 'right';
  /**
   * How important the column is: 1 is the key field, larger numbers are cut
   * first when the terminal is too narrow (ties: the rightmost first).
   * Default 1.
   */
  priority?: number;
}

export interface TableRow {
  cells: string[];
  tone?: Tone | undefined;
}

export interface TableProps {
  columns: Column[];
  width: number;
  height: number;
  count: number;
  offset: number;
  cursor: number;
  focused?: boolean;
  row(i: number): TableRow;
  empty?: string;
}

/**
 * Widths of the columns for `width` terminal columns; 0 for a column cut
 * because the rest would not fit. The least important column goes first, not
 * the widest: a narrow terminal keeps the key fields of every row.
 */
export function columnWidths(columns: Column[], width: number): number[] {
  // Fixed columns want their width; the flex column takes what is left (the CLI's tables use the same rule).
  return fitColumns(
    columns.map((c) => ({ min: c.width ?? c.min ?? 8, want: c.width ?? Infinity, ...(c.priority !== undefined ? { priority: c.priority } : {}) })),
    width,
    1,
  );
}

/** Cells of the shown columns, clipped or padded, one space apart. */
function line(cells: readonly string[], columns: Column[], widths: number[]): string {
  let out = '';
  for (let j = 0; j < columns.length; j++) {
    const w = widths[j]!;
    if (w === 0) continue;
    out += (out ? ' ' : '') + fit(cells[j] ?? '', w, columns[j]!.align);
  }
  return out;
}

export function Table({ columns, width, height, count, offset, cursor, focused = true, row, empty }: TableProps): React.JSX.Element {
  // A one-column gutter marks the selected row, so the cursor shows without colour (NO_COLOR, tests).
  const widths = columnWidths(columns, width - 1);
  const header = ` ${line(columns.map((c) => c.header), columns, widths)}`;
  const body = Math.max(0, height - 1);
  const lines: React.JSX.Element[] = [];
  for (let i = offset; i < Math.min(count, offset + body); i++) {
    const r = row(i);
    const selected = i === cursor;
    // Unselected rows end at their last character: fewer cells for Ink to lay out and diff on every frame.
    const full = `${selected ? (focused ? '›' : '·') : ' '}${line(r.cells, columns, widths)}`;
    const text = selected ? full : full.trimEnd();
    lines.push(
      <S key={i} tone={selected ? undefined : r.tone} inverse={selected && focused} bold={selected}>
        {text}
      </S>,
    );
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <S tone="header" bold>
        {header}
      </S>
      {count === 0 ? <S tone="dim">{empty ?? '(nothing to show)'}</S> : lines}
    </Box>
  );
}
