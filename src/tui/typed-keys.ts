/**
 * Keys as a form reads them, whichever way they came: from Ink's useInput
 * (input + Key) or as raw terminal input kept while the form was mounting
 * (the App's type-ahead, see app.tsx). A form that applies each key to state
 * it holds in a ref (not to the last render's) takes a burst — `a Down Down
 * Down Enter` in one chunk, text and its Enter in one chunk — in order.
 */
import type { Key } from 'ink';

export type TypedKey =
  | { kind: 'up' | 'down' | 'left' | 'right' | 'enter' | 'escape' | 'backspace' | 'tab' | 'backtab' | 'clear' }
  | { kind: 'text'; text: string }
  | { kind: 'other' };

const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

/** From Ink's useInput. */
export function typedKey(input: string, key: Key): TypedKey {
  if (key.upArrow) return { kind: 'up' };
  if (key.downArrow) return { kind: 'down' };
  if (key.leftArrow) return { kind: 'left' };
  if (key.rightArrow) return { kind: 'right' };
  if (key.return) return { kind: 'enter' };
  if (key.escape) return { kind: 'escape' };
  // Ink reports the Backspace key (DEL, 0x7f) as `delete`.
  if (key.backspace || key.delete) return { kind: 'backspace' };
  if (key.tab) return { kind: key.shift ? 'backtab' : 'tab' };
  if (key.ctrl && input === 'u') return { kind: 'clear' };
  if (key.ctrl || key.meta) return { kind: 'other' };
  return input && PRINTABLE.test(input) ? { kind: 'text', text: input } : { kind: 'other' };
}

const RAW: Record<string, TypedKey['kind']> = {
  '\x1b[A': 'up',
  '\x1bOA': 'up',
  '\x1b[B': 'down',
  '\x1bOB': 'down',
  '\x1b[C': 'right',
  '\x1bOC': 'right',
  '\x1b[D': 'left',
  '\x1bOD': 'left',
  '\r': 'enter',
  '\n': 'enter',
  '\x1b': 'escape',
  '\x7f': 'backspace',
  '\b': 'backspace',
  '\t': 'tab',
  '\x1b[Z': 'backtab',
  '\x15': 'clear',
};

/** From one raw key as splitKeys (app.tsx) cuts a chunk. */
export function typedKeyOfRaw(raw: string): TypedKey {
  const kind = RAW[raw];
  if (kind) return { kind } as TypedKey;
  return PRINTABLE.test(raw) ? { kind: 'text', text: raw } : { kind: 'other' };
}
