/**
 * Fitting table columns to a terminal width, one rule for the CLI's tables
 * and the TUI's: while the columns' least widths do not fit, the least
 * important column is dropped (ties: the rightmost), never the widest; the
 * room left then goes to the most important columns first (shared equally
 * among columns of the same importance), so the key columns (a path, a
 * package name and its versions) are the last ones cut.
 */

export interface ColumnFit {
  /** Narrowest the column is shown at; below that it is dropped instead. */
  min: number;
  /** Widest it needs (its longest cell); Infinity takes whatever is left. */
  want: number;
  /** How important the column is: 1 is the key field, larger numbers are cut and dropped first. Default 1. */
  priority?: number;
}

/** Each column's width for `width` terminal columns with `gap` between columns; 0 for a dropped column. */
export function fitColumns(columns: readonly ColumnFit[], width: number, gap: number): number[] {
  const prio = (i: number): number => columns[i]!.priority ?? 1;
  const shown = columns.map(() => true);
  const least = (): number => columns.reduce((s, c, i) => s + (shown[i] ? c.min + gap : 0), -gap);
  while (least() > width && shown.filter(Boolean).length > 1) {
    let cut = -1;
    for (let i = 0; i < columns.length; i++) if (shown[i] && (cut < 0 || prio(i) >= prio(cut))) cut = i;
    shown[cut] = false;
  }
  const widths = columns.map((c, i) => (shown[i] ? c.min : 0));
  let left = width - least();
  if (left < 0) {
    // A single column narrower than its least width: it takes the whole line.
    const only = shown.indexOf(true);
    if (only >= 0) widths[only] = Math.max(1, width);
    return widths;
  }
  // Most important first; columns of the same importance share what is left equally.
  const levels = [...new Set(columns.map((_c, i) => prio(i)))].sort((a, b) => a - b);
  for (const p of levels) {
    const group = columns.map((_c, i) => i).filter((i) => shown[i] && prio(i) === p);
    while (left > 0) {
      const hungry = group.filter((i) => widths[i]! < columns[i]!.want);
      if (hungry.length === 0) break;
      const share = Math.max(1, Math.floor(left / hungry.length));
      for (const i of hungry) {
        const more = Math.min(share, columns[i]!.want - widths[i]!, left);
        widths[i] = widths[i]! + more;
        left -= more;
      }
    }
  }
  return widths;
}
