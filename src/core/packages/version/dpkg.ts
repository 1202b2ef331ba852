/**
 * Debian version ordering, as dpkg's lib/dpkg/version.c and parsehelp.c do it:
 * `[epoch:]upstream[-revision]`, the epoch up to the first colon, the revision
 * after the last hyphen; upstream and revision compared with verrevcmp (runs of
 * non-digits compared character by character where `~` sorts before
 * everything, even the end of the string, and letters sort before
 * non-letters; then runs of digits compared numerically).
 */
import { type Ordering, sign } from './types.js';

export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const INT_MAX = 2147483647;

/**
 * Parse as dpkg's parseversion does. Hard errors (empty, embedded blanks, a bad
 * or huge epoch, nothing after the colon, an empty upstream) return undefined;
 * what dpkg only warns about (upstream not starting with a digit, odd
 * characters) still parses, as `dpkg --compare-versions` still compares it.
 */
export function parseDpkgVersion(input: string): DpkgVersion | undefined {
  const s = input.trim();
  if (s === '' || /\s/.test(s)) return undefined;
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^[0-9]+$/.test(e)) return undefined;
    epoch = Number(e);
    if (!Number.isSafeInteger(epoch) || epoch > INT_MAX) return undefined;
    rest = s.slice(colon + 1);
    if (rest === '') return undefined;
  }
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const revision = hyphen >= 0 ? rest.slice(hyphen + 1) : '';
  if (upstream === '') return undefined;
  return { epoch, upstream, revision };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** dpkg's order(): digits 0, letters their code, '~' -1, anything else code + 256, end of string 0. */
function order(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

/** dpkg's verrevcmp on one upstream version or revision. */
export function verrevcmp(a: string, b: string): Ordering {
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): number => (k < s.length ? s.charCodeAt(k) : NaN);
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(at(a, i));
      const bc = order(at(b, j));
      if (ac !== bc) return sign(ac - bc);
      i++;
      j++;
    }
    while (at(a, i) === 48) i++;
    while (at(b, j) === 48) j++;
    while (isDigit(at(a, i)) && isDigit(at(b, j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(at(a, i))) return 1;
    if (isDigit(at(b, j))) return -1;
    if (firstDiff) return sign(firstDiff);
  }
  return 0;
}

export function compareDpkgParsed(a: DpkgVersion, b: DpkgVersion): Ordering {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return verrevcmp(a.upstream, b.upstream) || verrevcmp(a.revision, b.revision);
}

export function compareDpkg(a: string, b: string): Ordering | undefined {
  const pa = parseDpkgVersion(a);
  const pb = parseDpkgVersion(b);
  return pa && pb ? compareDpkgParsed(pa, pb) : undefined;
}
