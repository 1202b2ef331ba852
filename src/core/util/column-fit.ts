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

/**
 * Terminal columns of one code point: 0 for combining marks, 2 for East Asian
 * wide and fullwidth characters (CJK, Hangul, fullwidth forms) and emoji
 * presentation, else 1. Close to what terminals (and Ink's string-width) do;
 * meant for sanitised text, which holds no control or format characters.
 */
export function codePointWidth(cp: number): number {
  if (cp < 0x300) return 1;
  if (COMBINING.test(String.fromCodePoint(cp))) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

const COMBINING = /^[\p{Mn}\p{Me}]$/u;

/** Terminal columns `s` takes (see codePointWidth). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += codePointWidth(ch.codePointAt(0)!);
  return w;
}

/** `s` cut to at most `w` terminal columns, ending in '…' when cut; a wide character that would straddle the edge is left out. */
export function clipToWidth(s: string, w: number): string {
  if (w <= 0) return '';
  if (displayWidth(s) <= w) return s;
  let out = '';
  let used = 0;
  for (const ch of s) {
    const cw = codePointWidth(ch.codePointAt(0)!);
    if (used + cw > w - 1) break;
    out += ch;
    used += cw;
  }
  return `${out}…`;
}
