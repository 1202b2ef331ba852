/** Plain-text helpers for human output. Every string from an image goes through sanitizeLine. */
import { sanitizeLine } from '../../core/util/sanitize.js';
import { fitColumns } from '../../core/util/column-fit.js';
import { maxOf } from '../../core/util/fold.js';

/** Sizes in SI units, as docker and dive print them ("1.2 MB"). */
export function humanBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

export function shortDigest(d: string | null | undefined, n = 12): string {
  if (!d) return '-';
  const i = d.indexOf(':');
  return i >= 0 ? d.slice(i + 1, i + 1 + n) : d.slice(0, n);
}

export function clip(s: string, width: number): string {
  const clean = sanitizeLine(s);
  if (width <= 1) return clean.slice(0, Math.max(0, width));
  return clean.length > width ? `${clean.slice(0, width - 1)}…` : clean;
}

export interface Column {
  header: string;
  align?: 'left' | 'right';
  /** Maximum width; longer cells are clipped with an ellipsis. */
  max?: number;
  /**
   * How important the column is when the terminal is narrow: 1 is the key field
   * (a path, a package name), larger numbers are cut first, then dropped
   * (core/util/column-fit.ts, the TUI's rule). Default 1.
   */
  priority?: number;
  /**
   * Narrowest the column is cut to before it is dropped (default 8; a key column asks for more).
   * WHOLE: never cut, shown whole or dropped (a cut number or digest would read as another one).
   */
  min?: number;
  /** Colours a cell after it is laid out (the escape codes do not count towards the width). */
  color?: (cell: string) => string;
}

/** The terminal's width when stdout is one (else COLUMNS, if set); undefined for pipes and files: no fitting. */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (stream.isTTY && stream.columns) return stream.columns;
  const c = Number(env.COLUMNS);
  return Number.isInteger(c) && c > 0 ? c : undefined;
}

/** A column's `min` when it must never be cut: numbers, sizes, short digests, fixed words. */
export const WHOLE = Infinity;

/** Narrowest a cell is cut to when fitting a table to the terminal (unless the column says otherwise). */
const MIN_CELL = 8;

/**
 * A borderless table, columns padded to their widest cell. With a width (by
 * default the terminal's), the columns are fitted by priority: the least
 * important is cut with "…" and then dropped first, the key column last.
 */
export function table(columns: Column[], rows: string[][], width: number | undefined = terminalWidth()): string {
  let cells = rows.map((r) => r.map((c, i) => clip(c, columns[i]?.max ?? 200)));
  let widths = columns.map((c, i) => maxOf(cells.map((r) => (r[i] ?? '').length), c.header.length));
  let dropped = columns.map(() => false);
  if (width !== undefined) {
    const natural = widths;
    widths = fitColumns(
      columns.map((c, i) => {
        // A long header asks for no more room than the column's cells (or its least width): it is cut instead.
        const cellsWide = maxOf(cells.map((r) => (r[i] ?? '').length), 0);
        const want = Math.max(cellsWide, Math.min(c.header.length, c.min ?? MIN_CELL));
        return { want, min: Math.min(want, c.min ?? MIN_CELL), ...(c.priority !== undefined ? { priority: c.priority } : {}) };
      }),
      width,
      2,
    );
    dropped = widths.map((w, i) => w === 0 && natural[i]! > 0);
    // Room left over goes to headers that were cut, so a wide terminal shows them whole.
    let spare = width - widths.reduce((sum, w, i) => sum + (dropped[i] ? 0 : w + 2), -2);
    for (let i = 0; i < widths.length && spare > 0; i++) {
      if (dropped[i]) continue;
      const more = Math.min(spare, natural[i]! - widths[i]!);
      if (more > 0) {
        widths[i] = widths[i]! + more;
        spare -= more;
      }
    }
    cells = cells.map((r) => r.map((c, i) => (c.length > widths[i]! ? clip(c, widths[i]!) : c)));
  }
  const line = (r: string[], colored: boolean): string =>
    r
      .flatMap((c, i) => {
        // A dropped column (width 0) leaves no cell and no gap.
        if (dropped[i]) return [];
        const col = columns[i];
        const padded = col?.align === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
        return [colored && col?.color ? col.color(padded) : padded];
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c, i) => clip(c.header, widths[i]!)), false), ...cells.map((r) => line(r, true))].join('\n');
}

/** The two per-layer sizes, named the same in inspect and diff (JSON: `sizeBytes`, `uncompressedSize`). */
export const LAYER_SIZES_LEGEND = 'FILES SIZE: bytes of the files in the layer (as dive counts); TAR SIZE: bytes of the uncompressed layer tar';
