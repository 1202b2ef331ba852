/**
 * Python version ordering (PEP 440), as pypa/packaging's `Version` does it:
 * `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]` with the normalisations
 * packaging accepts (case, `-`/`_`/`.` separators, alpha/beta/c/pre/preview,
 * rev/r/-N for post, implicit numbers, a leading `v`, surrounding blanks), and
 * packaging's sort key: epoch, release without trailing zeros, then pre, post,
 * dev and local segments with their infinities.
 */
import { type Ordering, compareDigits, compareStrings, stripZeros } from './types.js';

// packaging.version.VERSION_PATTERN, anchored and with surrounding whitespace allowed. No `u`
// flag: with `i` alone, non-ASCII letters never match [a-z] (packaging is ASCII-only too).
const PATTERN = new RegExp(
  '^\\s*v?' +
    '(?:(?:([0-9]+)!)?' + // epoch
    '([0-9]+(?:\\.[0-9]+)*)' + // release
    '([-_\\.]?(alpha|a|beta|b|preview|pre|c|rc)[-_\\.]?([0-9]+)?)?' + // pre
    '((?:-([0-9]+))|(?:[-_\\.]?(post|rev|r)[-_\\.]?([0-9]+)?))?' + // post
    '([-_\\.]?(dev)[-_\\.]?([0-9]+)?)?' + // dev
    ')' +
    '(?:\\+([a-z0-9]+(?:[-_\\.][a-z0-9]+)*))?' + // local
    '\\s*$',
  'i',
);

export interface Pep440Version {
  epoch: string;
  release: string[];
  pre: { label: 'a' | 'b' | 'rc'; n: string } | null;
  post: string | null;
  dev: string | null;
  local: Array<string> | null;
}

export function parsePep440(input: string): Pep440Version | undefined {
  const m = PATTERN.exec(input);
  if (!m) return undefined;
  const preLabel = m[4]?.toLowerCase();
  const pre = preLabel
    ? { label: (preLabel === 'alpha' || preLabel === 'a' ? 'a' : preLabel === 'beta' || preLabel === 'b' ? 'b' : 'rc') as 'a' | 'b' | 'rc', n: stripZeros(m[5] ?? '0') }
    : null;
  const post = m[6] !== undefined ? stripZeros(m[7] ?? m[9] ?? '0') : null;
  const dev = m[10] !== undefined ? stripZeros(m[12] ?? '0') : null;
  const local = m[13] !== undefined ? m[13].toLowerCase().split(/[-_.]/).map((p) => (/^[0-9]+$/.test(p) ? stripZeros(p) : p)) : null;
  return { epoch: stripZeros(m[1] ?? '0'), release: m[2]!.split('.').map(stripZeros), pre, post, dev, local };
}

/** The normalised form packaging's `str(Version(v))` prints. */
export function normalizePep440(v: Pep440Version): string {
  let s = v.epoch !== '0' ? `${v.epoch}!` : '';
  s += v.release.join('.');
  if (v.pre) s += `${v.pre.label}${v.pre.n}`;
  if (v.post !== null) s += `.post${v.post}`;
  if (v.dev !== null) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.join('.')}`;
  return s;
}

const PRE_RANK = { a: 0, b: 1, rc: 2 } as const;

/** Pre-release key: -inf for a dev-only release (1.0.dev0 < 1.0a0), +inf for none. */
function preKey(v: Pep440Version): [number, string] {
  if (!v.pre) return v.post === null && v.dev !== null ? [-1, ''] : [4, ''];
  return [PRE_RANK[v.pre.label] + 1, v.pre.n];
}

export function comparePep440Parsed(a: Pep440Version, b: Pep440Version): Ordering {
  let r = compareDigits(a.epoch, b.epoch);
  if (r) return r;
  // Release: trailing zeros do not count (1.0 == 1.0.0).
  const ra = trimZeros(a.release);
  const rb = trimZeros(b.release);
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    if (i >= ra.length) return -1;
    if (i >= rb.length) return 1;
    r = compareDigits(ra[i]!, rb[i]!);
    if (r) return r;
  }
  const [pa, pna] = preKey(a);
  const [pb, pnb] = preKey(b);
  if (pa !== pb) return pa < pb ? -1 : 1;
  r = compareDigits(pna || '0', pnb || '0');
  if (r) return r;
  // Post: none sorts first.
  if ((a.post === null) !== (b.post === null)) return a.post === null ? -1 : 1;
  if (a.post !== null && b.post !== null) {
    r = compareDigits(a.post, b.post);
    if (r) return r;
  }
  // Dev: none sorts last.
  if ((a.dev === null) !== (b.dev === null)) return a.dev === null ? 1 : -1;
  if (a.dev !== null && b.dev !== null) {
    r = compareDigits(a.dev, b.dev);
    if (r) return r;
  }
  // Local: none sorts first; segments numeric > alphanumeric, numbers numerically, strings lexically; shorter first.
  if (a.local === null || b.local === null) return a.local === b.local ? 0 : a.local === null ? -1 : 1;
  for (let i = 0; i < Math.max(a.local.length, b.local.length); i++) {
    if (i >= a.local.length) return -1;
    if (i >= b.local.length) return 1;
    const x = a.local[i]!;
    const y = b.local[i]!;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    if (xn !== yn) return xn ? 1 : -1;
    r = xn ? compareDigits(x, y) : compareStrings(x, y);
    if (r) return r;
  }
  return 0;
}

function trimZeros(r: string[]): string[] {
  let n = r.length;
  while (n > 0 && r[n - 1] === '0') n--;
  return r.slice(0, n);
}

export function comparePep440(a: string, b: string): Ordering | undefined {
  const pa = parsePep440(a);
  const pb = parsePep440(b);
  return pa && pb ? comparePep440Parsed(pa, pb) : undefined;
}
