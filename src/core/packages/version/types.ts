/** -1, 0 or 1 when both versions parse under the ecosystem's rules; undefined when either does not. */
export type Ordering = -1 | 0 | 1;

export function sign(n: number): Ordering {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compare two strings of ASCII digits without leading zeros (any length) numerically. */
export function compareDigits(a: string, b: string): Ordering {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Strip leading zeros from a digit string ("" and "000" become "0"). */
export function stripZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  return s === '' ? '0' : s.slice(i);
}

/** Byte-wise (UTF-16 code unit) string comparison, as strcmp/memcmp/Java's String.compareTo on ASCII. */
export function compareStrings(a: string, b: string): Ordering {
  return a < b ? -1 : a > b ? 1 : 0;
}
