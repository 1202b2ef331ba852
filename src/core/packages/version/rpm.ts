/**
 * RPM version ordering: rpmvercmp (rpmio/rpmvercmp.c) on `[epoch:]version[-release]`
 * (lib/rpmver.c): segments of ASCII letters or digits, everything else a
 * separator; `~` sorts before everything (pre-releases), `^` after the base
 * version but before any further segment (post-release snapshots); numeric
 * segments beat alphabetic ones; numbers compare without leading zeros.
 */
import { type Ordering, compareDigits, compareStrings } from './types.js';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const TILDE = 126;
const CARET = 94;

export function rpmvercmp(a: string, b: string): Ordering {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): number => (k < s.length ? s.charCodeAt(k) : 0);
  const skippable = (c: number): boolean => c !== 0 && !isDigit(c) && !isAlpha(c) && c !== TILDE && c !== CARET;
  while (i < a.length || j < b.length) {
    while (skippable(at(a, i))) i++;
    while (skippable(at(b, j))) j++;
    const ca = at(a, i);
    const cb = at(b, j);
    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === CARET || cb === CARET) {
      if (ca === 0) return -1;
      if (cb === 0) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === 0 || cb === 0) break;
    const isnum = isDigit(ca);
    const cls = isnum ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && cls(a.charCodeAt(ei))) ei++;
    while (ej < b.length && cls(b.charCodeAt(ej))) ej++;
    if (ej === j) return isnum ? 1 : -1;
    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (isnum) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      const r = compareDigits(sa, sb);
      if (r) return r;
    } else {
      const r = compareStrings(sa, sb);
      if (r) return r;
    }
    i = ei;
    j = ej;
  }
  const endA = i >= a.length;
  const endB = j >= b.length;
  if (endA && endB) return 0;
  return endA ? -1 : 1;
}

export interface RpmEvr {
  epoch: string | null;
  version: string;
  release: string | null;
}

/** Split `[epoch:]version[-release]` as rpm's rpmverParse does (epoch: leading digits before a colon; release: after the last hyphen). */
export function parseRpmEvr(input: string): RpmEvr | undefined {
  const s = input.trim();
  if (s === '') return undefined;
  let k = 0;
  while (k < s.length && isDigit(s.charCodeAt(k))) k++;
  let epoch: string | null = null;
  let rest = s;
  if (s[k] === ':') {
    epoch = k === 0 ? '0' : s.slice(0, k);
    rest = s.slice(k + 1);
  }
  const dash = rest.lastIndexOf('-');
  const version = dash >= 0 ? rest.slice(0, dash) : rest;
  const release = dash >= 0 ? rest.slice(dash + 1) : null;
  if (version === '') return undefined;
  return { epoch, version, release };
}

/**
 * rpmverCmp: epochs (absent = 0), then versions, then releases only when both
 * sides have one (so `1.0` neither precedes nor follows `1.0-3`: they are equal).
 */
export function compareRpmEvr(a: RpmEvr, b: RpmEvr): Ordering {
  const r = rpmvercmp(a.epoch ?? '0', b.epoch ?? '0') || rpmvercmp(a.version, b.version);
  if (r) return r;
  return a.release !== null && b.release !== null ? rpmvercmp(a.release, b.release) : 0;
}

export function compareRpm(a: string, b: string): Ordering | undefined {
  const pa = parseRpmEvr(a);
  const pb = parseRpmEvr(b);
  return pa && pb ? compareRpmEvr(pa, pb) : undefined;
}
