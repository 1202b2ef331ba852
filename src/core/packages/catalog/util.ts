/** Small helpers the catalogers share. */
import { sanitizeLine } from '../../util/sanitize.js';

/** A quoted, sanitised, bounded string for warnings (names from images are untrusted). */
export function q(s: string, max = 200): string {
  return JSON.stringify(sanitizeLine(s.length > max ? `${s.slice(0, max)}…` : s));
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Text of a buffer as UTF-8 without a BOM. */
export function text(data: Buffer): string {
  const s = data.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

export interface Stanza {
  /** Field name (as written) → value; continuation lines joined with "\n". Later duplicates append with "\n". */
  fields: Map<string, string>;
  /** 1-based line where the stanza starts. */
  line: number;
  /** Lines that were neither a field nor a continuation. */
  bad: number[];
}

/**
 * Deb822 / RFC 822 style records: "Field: value" lines, continuation lines
 * starting with a space or tab, records separated by blank lines. Field names
 * are kept as written; use `field()` to read them case-insensitively.
 * With `single`, stops at the first blank line (a Python METADATA header block).
 */
export function parseStanzas(src: string, single = false): Stanza[] {
  const out: Stanza[] = [];
  let cur: Stanza | null = null;
  let last: string | null = null;
  let lineNo = 0;
  let pos = 0;
  const n = src.length;
  while (pos <= n) {
    let end = src.indexOf('\n', pos);
    if (end < 0) end = n;
    let line = src.slice(pos, end);
    pos = end + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      if (cur) {
        out.push(cur);
        cur = null;
        last = null;
        if (single) return out;
      }
      if (end === n) break;
      continue;
    }
    const c0 = line.charCodeAt(0);
    if (c0 === 0x20 || c0 === 0x09) {
      if (cur && last !== null) cur.fields.set(last, `${cur.fields.get(last)}\n${line.slice(1)}`);
      else (cur ??= { fields: new Map<string, string>(), line: lineNo, bad: [] as number[] }).bad.push(lineNo);
      continue;
    }
    cur ??= { fields: new Map(), line: lineNo, bad: [] };
    const colon = line.indexOf(':');
    if (colon <= 0) {
      cur.bad.push(lineNo);
      last = null;
      continue;
    }
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    const prev = cur.fields.get(key);
    cur.fields.set(key, prev === undefined ? value : `${prev}\n${value}`);
    last = key;
    if (end === n) break;
  }
  if (cur) out.push(cur);
  return out;
}

/** A field of a stanza, by exact name first, then case-insensitively. */
export function field(s: Stanza, name: string): string | undefined {
  const v = s.fields.get(name);
  if (v !== undefined) return v;
  const lower = name.toLowerCase();
  for (const [k, val] of s.fields) if (k.toLowerCase() === lower) return val;
  return undefined;
}

/** Unique, non-empty, in first-seen order. */
export function uniq(xs: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const x of xs) {
    const t = x.trim();
    if (t !== '') seen.add(t);
  }
  return [...seen];
}

/** Bounded message text of an unknown error. */
export function errMsg(e: unknown): string {
  return sanitizeLine(e instanceof Error ? e.message : String(e)).slice(0, 300);
}
