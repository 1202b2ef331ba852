/**
 * Every key of the workbench, in one table: input handling reads it and the
 * `?` help renders it, so they cannot disagree. Habits of k9s / lazydocker:
 * arrows and h/j/k/l, Tab and number keys for screens, `/` filter, `?` help,
 * Esc back, `q` quit. The reviewer's preferences may rebind an action
 * (`vouch config set keys.down "Down n"`); applyKeyOverrides builds the
 * effective table and refuses unknown keys and keys bound twice.
 */
import type { Key } from 'ink';

export type Action =
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'pageUp'
  | 'pageDown'
  | 'top'
  | 'bottom'
  | 'open'
  | 'back'
  | 'filter'
  | 'annotate'
  | 'prevImage'
  | 'nextImage'
  | 'nextScreen'
  | 'prevScreen'
  | 'screen'
  | 'help'
  | 'quit'
  | 'toggleMerged'
  | 'sort'
  | 'togglePasses'
  | 'edit'
  | 'reclassify'
  | 'delete';

export interface KeyBinding {
  action: Action;
  /** Key tokens: one printable character, or a name from NAMED_KEYS. */
  keys: readonly string[];
  help: string;
  /** Where it applies ('everywhere' or the screens that use it). */
  where: string;
}
export type KeyTable = readonly KeyBinding[];

/** Keys with names, as Ink reports them. A printable character is its own token. */
const NAMED: Record<string, { show: string; is(k: Key, input: string): boolean }> = {
  Up: { show: '↑', is: (k) => k.upArrow },
  Down: { show: '↓', is: (k) => k.downArrow },
  Left: { show: '←', is: (k) => k.leftArrow },
  Right: { show: '→', is: (k) => k.rightArrow },
  PgUp: { show: 'PgUp', is: (k) => k.pageUp },
  PgDn: { show: 'PgDn', is: (k) => k.pageDown },
  Home: { show: 'Home', is: (k) => k.home },
  End: { show: 'End', is: (k) => k.end },
  Enter: { show: 'Enter', is: (k) => k.return },
  Esc: { show: 'Esc', is: (k) => k.escape },
  Tab: { show: 'Tab', is: (k) => k.tab && !k.shift },
  'Shift-Tab': { show: 'Shift-Tab', is: (k) => k.tab && k.shift },
  Backspace: { show: 'Backspace', is: (k) => k.backspace },
  Delete: { show: 'Delete', is: (k) => k.delete },
  Space: { show: 'Space', is: (_k, i) => i === ' ' },
};
export const NAMED_KEYS = Object.keys(NAMED);

const SCREEN_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8'];

export const KEYMAP: KeyTable = [
  { action: 'up', keys: ['Up', 'k'], help: 'move up', where: 'lists' },
  { action: 'down', keys: ['Down', 'j'], help: 'move down', where: 'lists' },
  { action: 'left', keys: ['Left', 'h'], help: 'left pane / collapse / parent', where: 'Layers' },
  { action: 'right', keys: ['Right', 'l'], help: 'right pane / expand', where: 'Layers' },
  { action: 'pageUp', keys: ['PgUp'], help: 'page up', where: 'lists' },
  { action: 'pageDown', keys: ['PgDn'], help: 'page down', where: 'lists' },
  { action: 'top', keys: ['g', 'Home'], help: 'first row', where: 'lists' },
  { action: 'bottom', keys: ['G', 'End'], help: 'last row', where: 'lists' },
  { action: 'open', keys: ['Enter'], help: 'open / expand / jump to the subject', where: 'everywhere' },
  { action: 'back', keys: ['Esc'], help: 'back / clear the filter / close', where: 'everywhere' },
  { action: 'filter', keys: ['/'], help: 'filter the current list live', where: 'lists' },
  { action: 'annotate', keys: ['a'], help: 'annotate the selected thing', where: 'everywhere' },
  { action: 'prevImage', keys: ['['], help: 'previous image', where: 'everywhere' },
  { action: 'nextImage', keys: [']'], help: 'next image', where: 'everywhere' },
  { action: 'nextScreen', keys: ['Tab'], help: 'next screen', where: 'everywhere' },
  { action: 'prevScreen', keys: ['Shift-Tab'], help: 'previous screen', where: 'everywhere' },
  { action: 'screen', keys: SCREEN_KEYS, help: 'go to screen N', where: 'everywhere' },
  { action: 'toggleMerged', keys: ['m'], help: 'merged filesystem / selected layer', where: 'Layers' },
  { action: 'sort', keys: ['s'], help: 'next sort column', where: 'Packages' },
  { action: 'togglePasses', keys: ['p'], help: 'show / hide passing checks', where: 'Checks' },
  { action: 'edit', keys: ['e'], help: 'edit the annotation', where: 'Findings' },
  { action: 'reclassify', keys: ['c'], help: 're-classify (next disposition; asks y/N)', where: 'Findings' },
  { action: 'delete', keys: ['x'], help: 'delete the annotation (asks y/N; kept in history)', where: 'Findings' },
  { action: 'help', keys: ['?'], help: 'this help', where: 'everywhere' },
  { action: 'quit', keys: ['q'], help: 'quit (annotations are saved as you make them)', where: 'everywhere' },
];

/** Actions the preferences may rebind: all but the screen numbers (they are the tab labels). */
export const REBINDABLE: readonly Action[] = KEYMAP.map((b) => b.action).filter((a) => a !== 'screen');

/** The keys of one binding as the help shows them. */
export function showKeys(b: KeyBinding): string {
  if (b.action === 'screen') return '1–8';
  return b.keys.map((t) => NAMED[t]?.show ?? t).join(' ');
}

/** The first key of an action, for hints in status lines ("s sort"). */
export function keyOf(table: KeyTable, action: Action): string {
  const b = table.find((x) => x.action === action);
  const t = b?.keys[0];
  return t === undefined ? '?' : (NAMED[t]?.show ?? t);
}

/** A token as typed in the preferences, normalised (named keys are case-insensitive); null if it is no key. */
export function parseKeyToken(t: string): string | null {
  const named = NAMED_KEYS.find((n) => n.toLowerCase() === t.toLowerCase());
  if (named) return named;
  const chars = [...t];
  // One printable character; space has its name (the value is split on spaces).
  if (chars.length === 1 && t > ' ' && t !== '\u007f' && !/[\u0080-\u009f]/.test(t)) return t;
  return null;
}

/** What went wrong with an override: the preference key it names, and one line. */
export class KeyOverrideError extends Error {
  constructor(
    readonly preference: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The table with the reviewer's overrides (action → "key key …") applied. An
 * override replaces all keys of its action. Throws KeyOverrideError for an
 * unknown action, something that is no key, or a key bound to two actions
 * (named after `blame` when it is one of the two: the override being set).
 */
export function applyKeyOverrides(overrides: Readonly<Record<string, unknown>>, blame?: string): KeyTable {
  const table = KEYMAP.map((b) => ({ ...b }));
  for (const [action, value] of Object.entries(overrides)) {
    const pref = `keys.${action}`;
    const b = table.find((x) => x.action === action);
    if (!b || !REBINDABLE.includes(b.action)) throw new KeyOverrideError(pref, `unknown key ${JSON.stringify(pref)} (actions: ${REBINDABLE.join(', ')})`);
    if (typeof value !== 'string' || !value.trim()) throw new KeyOverrideError(pref, `${pref} needs one or more keys separated by spaces`);
    const tokens: string[] = [];
    for (const raw of value.trim().split(/\s+/)) {
      const t = parseKeyToken(raw);
      if (t === null) throw new KeyOverrideError(pref, `${pref}: ${JSON.stringify(raw)} is not a key (one character, or ${NAMED_KEYS.join(' ')})`);
      if (!tokens.includes(t)) tokens.push(t);
    }
    b.keys = tokens;
  }
  const owner = new Map<string, KeyBinding>();
  for (const b of table) {
    for (const t of b.keys) {
      const other = owner.get(t);
      if (other) {
        // Name the override being set when it is one of the two; else whichever of the two was overridden.
        const mine = b.action === blame ? b : other.action === blame ? other : Object.hasOwn(overrides, b.action) ? b : other;
        const theirs = mine === b ? other : b;
        throw new KeyOverrideError(`keys.${mine.action}`, `keys.${mine.action}: ${JSON.stringify(t)} is already the key of ${theirs.action} (${theirs.help}); rebind that first`);
      }
      owner.set(t, b);
    }
  }
  return table;
}

/** One lookup per keypress: printable characters through a map, named keys by their flags. */
export function keyMatcher(table: KeyTable): (input: string, key: Key) => Action | null {
  const chars = new Map<string, Action>();
  const named: Array<[(k: Key, input: string) => boolean, Action]> = [];
  for (const b of table)
    for (const t of b.keys) {
      const n = NAMED[t];
      if (n) named.push([n.is, b.action]);
      else chars.set(t, b.action);
    }
  return (input, key) => {
    for (const [is, a] of named) if (is(key, input)) return a;
    if (key.ctrl || key.meta) return null;
    return chars.get(input) ?? null;
  };
}

const defaultMatcher = keyMatcher(KEYMAP);
export function actionFor(input: string, key: Key): Action | null {
  return defaultMatcher(input, key);
}
