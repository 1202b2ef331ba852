/**
 * Maven version ordering, a port of Maven's ComparableVersion (maven-artifact,
 * Maven 4 / 3.9 rules, MNG-5568, MNG-6964, MNG-7644, MNG-7714 included):
 * items split on `.`, `-` and digit/letter transitions into nested lists;
 * qualifiers ordered alpha < beta < milestone < rc = cr < snapshot < "" = ga =
 * final = release < sp, unknown qualifiers after them in lexical order; `a1`,
 * `b1`, `m1` mean alpha-1, beta-1, milestone-1; trailing null items
 * (0, "", ga, final, release) are dropped; case-insensitive.
 */
import { type Ordering, compareDigits, compareStrings, stripZeros } from './types.js';

type Item = IntItem | StringItem | CombinationItem | ListItem;

interface IntItem {
  kind: 'int';
  /** Digits without leading zeros (Maven's Int/Long/BigInteger items compare by value either way). */
  value: string;
}
interface StringItem {
  kind: 'string';
  value: string;
}
interface CombinationItem {
  kind: 'combination';
  stringPart: StringItem;
  digitPart: Item;
}
interface ListItem {
  kind: 'list';
  items: Item[];
}

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_QUALIFIERS = ['ga', 'final', 'release'];
const RELEASE_VERSION_INDEX = String(QUALIFIERS.indexOf(''));
const MAX_VERSION_LENGTH = 256;

function comparableQualifier(q: string): string {
  if (RELEASE_QUALIFIERS.includes(q)) return RELEASE_VERSION_INDEX;
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function stringItem(value: string, followedByDigit: boolean): StringItem {
  let v = value;
  if (followedByDigit && v.length === 1) {
    if (v === 'a') v = 'alpha';
    else if (v === 'b') v = 'beta';
    else if (v === 'm') v = 'milestone';
  }
  if (v === 'cr') v = 'rc';
  return { kind: 'string', value: v };
}

const isAsciiDigit = (c: string): boolean => c >= '0' && c <= '9';

function combinationItem(value: string): CombinationItem {
  let index = 0;
  for (let i = 0; i < value.length; i++) {
    if (/\p{Nd}/u.test(value[i]!)) {
      index = i;
      break;
    }
  }
  return { kind: 'combination', stringPart: stringItem(value.slice(0, index), true), digitPart: parseItem(false, true, value.slice(index)) };
}

function parseItem(isCombination: boolean, isDigit: boolean, buf: string): Item {
  if (isCombination) return combinationItem(buf.replace(/-/g, ''));
  if (isDigit) return { kind: 'int', value: stripZeros(buf) };
  return stringItem(buf, false);
}

function isNull(item: Item): boolean {
  switch (item.kind) {
    case 'int':
      return item.value === '0';
    case 'string':
      return item.value === '';
    case 'combination':
      return false;
    case 'list':
      return item.items.length === 0;
  }
}

function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    const last = items[i]!;
    if (!isNull(last)) continue;
    if (i === items.length - 1 || items[i + 1]!.kind === 'string') {
      items.splice(i, 1);
    } else if (items[i + 1]!.kind === 'list') {
      const first = (items[i + 1] as ListItem).items[0];
      if (first && (first.kind === 'combination' || first.kind === 'string')) items.splice(i, 1);
    }
  }
  if (items.length === 1 && items[0]!.kind === 'list') {
    const inner = (items[0] as ListItem).items;
    items.length = 0;
    items.push(...inner);
  }
}

export function parseMavenVersion(input: string): ListItem | undefined {
  if (input.length > MAX_VERSION_LENGTH) return undefined;
  const version = input.toLowerCase();
  const root: ListItem = { kind: 'list', items: [] };
  let list = root;
  const stack: ListItem[] = [root];
  let isDigit = false;
  let isCombination = false;
  let startIndex = 0;
  const push = (): void => {
    const l: ListItem = { kind: 'list', items: [] };
    list.items.push(l);
    list = l;
    stack.push(l);
  };
  // Iterate by UTF-16 code unit, as Java does (surrogate pairs are neither '.', '-' nor ASCII digits).
  for (let i = 0; i < version.length; i++) {
    let c = version[i]!;
    const code = version.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < version.length) {
      c = version.slice(i, i + 2);
      i++;
    }
    if (c === '.') {
      if (i === startIndex) list.items.push({ kind: 'int', value: '0' });
      else list.items.push(parseItem(isCombination, isDigit, version.slice(startIndex, i)));
      isCombination = false;
      startIndex = i + 1;
    } else if (c === '-') {
      if (i === startIndex) {
        list.items.push({ kind: 'int', value: '0' });
      } else {
        // X-1 is treated as X1
        if (!isDigit && i !== version.length - 1 && isAsciiDigitOrUnicode(version[i + 1]!)) {
          isCombination = true;
          continue;
        }
        list.items.push(parseItem(isCombination, isDigit, version.slice(startIndex, i)));
      }
      startIndex = i + 1;
      if (list.items.length > 0) push();
      isCombination = false;
    } else if (c.length === 1 && isAsciiDigit(c)) {
      if (!isDigit && i > startIndex) {
        isCombination = true;
        if (list.items.length > 0) push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > startIndex) {
        list.items.push(parseItem(isCombination, true, version.slice(startIndex, i)));
        startIndex = i;
        push();
        isCombination = false;
      }
      isDigit = false;
    }
  }
  if (version.length > startIndex) {
    // 1.0.0.X1 < 1.0.0-X2: treat .X as -X for any string qualifier X
    if (!isDigit && list.items.length > 0) push();
    list.items.push(parseItem(isCombination, isDigit, version.slice(startIndex)));
  }
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

/** Java's Character.isDigit on the char after a '-' (Unicode decimal digits). */
function isAsciiDigitOrUnicode(c: string): boolean {
  return /\p{Nd}/u.test(c);
}

function cmp(a: Item, b: Item | null): number {
  switch (a.kind) {
    case 'int':
      if (b === null) return a.value === '0' ? 0 : 1;
      return b.kind === 'int' ? compareDigits(a.value, b.value) : 1;
    case 'string':
      if (b === null) return compareStrings(comparableQualifier(a.value), RELEASE_VERSION_INDEX);
      switch (b.kind) {
        case 'int':
          return -1;
        case 'string':
          return compareStrings(comparableQualifier(a.value), comparableQualifier(b.value));
        case 'combination': {
          const r = cmp(a, b.stringPart);
          if (r === 0) return cmp(a, null) === 0 ? -cmp(b.digitPart, null) : -1;
          return r;
        }
        case 'list':
          return -cmp(b, a);
      }
      break;
    case 'combination':
      if (b === null) {
        const r = cmp(a.stringPart, null);
        return r === 0 ? cmp(a.digitPart, null) : r;
      }
      switch (b.kind) {
        case 'int':
          return -1;
        case 'string': {
          const r = cmp(a.stringPart, b);
          if (r === 0) return cmp(a.stringPart, null) === 0 ? cmp(a.digitPart, null) : 1;
          return r;
        }
        case 'list':
          return -cmp(b, a);
        case 'combination': {
          const r = cmp(a.stringPart, b.stringPart);
          return r === 0 ? cmp(a.digitPart, b.digitPart) : r;
        }
      }
      break;
    case 'list':
      if (b === null) {
        for (const i of a.items) {
          const r = cmp(i, null);
          if (r !== 0) return r;
        }
        return 0;
      }
      switch (b.kind) {
        case 'int':
          return -1;
        case 'string':
        case 'combination': {
          let r = a.items.length === 0 ? -cmp(b, null) : cmp(a.items[0]!, b);
          for (let i = 1; r === 0 && i < a.items.length; i++) r = cmp(a.items[i]!, null);
          return r;
        }
        case 'list': {
          const n = Math.max(a.items.length, b.items.length);
          for (let i = 0; i < n; i++) {
            const l = a.items[i] ?? null;
            const r = b.items[i] ?? null;
            const res = l === null ? (r === null ? 0 : -cmp(r, l)) : cmp(l, r);
            if (res !== 0) return res;
          }
          return 0;
        }
      }
  }
  return 0;
}

/** Maven's canonical form (ComparableVersion.getCanonical). */
export function mavenCanonical(input: string): string | undefined {
  const v = parseMavenVersion(input);
  return v ? listString(v) : undefined;
}

function itemString(i: Item): string {
  switch (i.kind) {
    case 'int':
    case 'string':
      return i.value;
    case 'combination':
      return i.stringPart.value + itemString(i.digitPart);
    case 'list':
      return listString(i);
  }
}

function listString(l: ListItem): string {
  let s = '';
  for (const item of l.items) {
    if (s.length > 0) s += item.kind === 'list' ? '-' : '.';
    s += itemString(item);
  }
  return s;
}

export function compareMaven(a: string, b: string): Ordering | undefined {
  const pa = parseMavenVersion(a);
  const pb = parseMavenVersion(b);
  if (!pa || !pb) return undefined;
  const r = cmp(pa, pb);
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}
