/** Plain-text helpers for human output. Every string from an image goes through sanitizeLine. */
import { sanitizeLine } from '../../core/util/sanitize.js';

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
}

/** A borderless table, columns padded to their widest cell. */
export function table(columns: Column[], rows: string[][]): string {
  const cells = rows.map((r) => r.map((c, i) => clip(c, columns[i]?.max ?? 200)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (columns[i]?.align === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}
