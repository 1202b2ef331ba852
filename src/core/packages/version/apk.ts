/**
 * Alpine version ordering, as apk-tools' src/version.c (apk-tools 2.14/3.x):
 * `digit{.digit}...{letter}{_suffix{digits}}...{~hexhash}{-r#}`.
 *
 * Tokens are compared pairwise while they are of the same kind: numbers
 * numerically (but a dotted component with a leading zero compares as a
 * string, as Gentoo does), letters by code, suffixes in the order
 * alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p, commit hashes
 * as strings. When one version runs out or switches kind first, a pre-release
 * suffix makes it lower, otherwise the token kind decides (a version that has
 * more components is higher). Versions apk_version_validate rejects are
 * unparseable here.
 */
import { type Ordering, compareDigits, compareStrings, stripZeros } from './types.js';

const enum T {
  InitialDigit = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  CommitHash = 5,
  RevisionNo = 6,
  End = 7,
  Invalid = 8,
}

/** Suffix ranks; NONE (5) is where a pre-release ends and a post-release begins. */
const SUFFIXES: Record<string, number> = { alpha: 1, beta: 2, pre: 3, rc: 4, cvs: 6, svn: 7, git: 8, hg: 9, p: 10 };
const SUFFIX_NONE = 5;

interface Token {
  kind: T;
  /** Raw text of the token (digits, letter, suffix name, hash). */
  value: string;
  suffix: number;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isHex = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102);

/** Tokenise fully; the last token is End or Invalid. */
export function apkTokens(v: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const digits = (kind: T): Token => {
    const s = i;
    while (i < v.length && isDigit(v.charCodeAt(i))) i++;
    return { kind: s === i ? T.Invalid : kind, value: v.slice(s, i), suffix: 0 };
  };
  let t = digits(T.InitialDigit);
  out.push(t);
  while (t.kind < T.End) {
    if (i >= v.length) {
      t = { kind: T.End, value: '', suffix: 0 };
    } else {
      const c = v.charCodeAt(i);
      const prev = t.kind;
      if (isLower(c)) {
        t = prev > T.Digit ? invalid() : { kind: T.Letter, value: v[i]!, suffix: 0 };
        i++;
      } else if (c === 46 /* . */ || isDigit(c)) {
        if (c === 46) {
          if (prev > T.Digit) {
            t = invalid();
          } else {
            i++;
            t = digits(T.Digit);
          }
        } else if (prev === T.InitialDigit || prev === T.Digit) {
          t = digits(T.Digit);
        } else if (prev === T.Suffix) {
          t = digits(T.SuffixNo);
        } else {
          t = invalid();
        }
      } else if (c === 95 /* _ */) {
        if (prev > T.SuffixNo) {
          t = invalid();
        } else {
          i++;
          const s = i;
          while (i < v.length && isLower(v.charCodeAt(i))) i++;
          const name = v.slice(s, i);
          const rank = Object.prototype.hasOwnProperty.call(SUFFIXES, name) ? SUFFIXES[name]! : 0;
          t = rank === 0 ? invalid() : { kind: T.Suffix, value: name, suffix: rank };
        }
      } else if (c === 126 /* ~ */) {
        if (prev >= T.CommitHash) {
          t = invalid();
        } else {
          i++;
          const s = i;
          while (i < v.length && isHex(v.charCodeAt(i))) i++;
          t = s === i ? invalid() : { kind: T.CommitHash, value: v.slice(s, i), suffix: 0 };
        }
      } else if (c === 45 /* - */) {
        if (prev >= T.RevisionNo || v.charCodeAt(i + 1) !== 114 /* r */) {
          t = invalid();
        } else {
          i += 2;
          t = digits(T.RevisionNo);
        }
      } else {
        t = invalid();
      }
    }
    out.push(t);
  }
  return out;
}

function invalid(): Token {
  return { kind: T.Invalid, value: '', suffix: 0 };
}

export function isValidApkVersion(v: string): boolean {
  const toks = apkTokens(v);
  return toks[toks.length - 1]!.kind === T.End;
}

function tokenCmp(a: Token, b: Token): Ordering {
  switch (a.kind) {
    case T.Digit:
      // A leading zero on either side: raw string comparison, as Gentoo's spec says.
      if (a.value[0] === '0' || b.value[0] === '0') return compareStrings(a.value, b.value);
      return compareDigits(a.value, b.value);
    case T.InitialDigit:
    case T.SuffixNo:
    case T.RevisionNo:
      return compareDigits(stripZeros(a.value), stripZeros(b.value));
    case T.Letter:
      return compareStrings(a.value, b.value);
    case T.Suffix:
      return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
    default:
      return compareStrings(a.value, b.value);
  }
}

/** apk_version_compare on two valid versions (the raw algorithm; see compareApk for the validating entry point). */
export function apkVersionCompare(a: string, b: string): Ordering {
  const ta = apkTokens(a);
  const tb = apkTokens(b);
  let k = 0;
  let x = ta[0]!;
  let y = tb[0]!;
  for (; x.kind === y.kind && x.kind < T.End; k++, x = ta[k]!, y = tb[k]!) {
    const r = tokenCmp(x, y);
    if (r) return r;
  }
  if (x.kind === y.kind) return 0;
  if (x.kind === T.Suffix && x.suffix < SUFFIX_NONE) return -1;
  if (y.kind === T.Suffix && y.suffix < SUFFIX_NONE) return 1;
  if (x.kind > y.kind) return -1;
  if (y.kind > x.kind) return 1;
  return 0;
}

export function compareApk(a: string, b: string): Ordering | undefined {
  const sa = a.trim();
  const sb = b.trim();
  if (!isValidApkVersion(sa) || !isValidApkVersion(sb)) return undefined;
  return apkVersionCompare(sa, sb);
}
