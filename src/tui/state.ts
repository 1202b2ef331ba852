/**
 * Small state helpers for screens. Screen state lives in a store owned by the
 * App (so it survives switching screens and lets the App prepare a jump:
 * Checks → the file in Layers), read and written through useScreenState.
 */
import { createContext, useCallback, useContext, useState } from 'react';
import type { Action } from './keys.js';

export type Store = Map<string, unknown>;
export const StoreContext = createContext<Store>(new Map());

export function useScreenState<T>(key: string, init: () => T): [T, (v: T | ((old: T) => T)) => void] {
  const store = useContext(StoreContext);
  const [value, setValue] = useState<T>(() => (store.has(key) ? (store.get(key) as T) : init()));
  // A jump may have rewritten the store while this screen was away: the store wins on mount (above); later writes go to both.
  const set = useCallback(
    (v: T | ((old: T) => T)) => {
      setValue((old) => {
        const next = typeof v === 'function' ? (v as (o: T) => T)(old) : v;
        store.set(key, next);
        return next;
      });
    },
    [key, store],
  );
  return [value, set];
}

export interface Cursor {
  cursor: number;
  offset: number;
}

/** Move a cursor over `count` rows shown `height` at a time; the window follows the cursor. Returns null for actions it does not handle. */
export function moveCursor(c: Cursor, action: Action, count: number, height: number): Cursor | null {
  const h = Math.max(1, height);
  let cursor = c.cursor;
  switch (action) {
    case 'up':
      cursor--;
      break;
    case 'down':
      cursor++;
      break;
    case 'pageUp':
      cursor -= h;
      break;
    case 'pageDown':
      cursor += h;
      break;
    case 'top':
      cursor = 0;
      break;
    case 'bottom':
      cursor = count - 1;
      break;
    default:
      return null;
  }
  return follow({ cursor, offset: c.offset }, count, h);
}

/** Clamp the cursor to the rows and scroll the window just enough to show it. */
export function follow(c: Cursor, count: number, height: number): Cursor {
  const h = Math.max(1, height);
  const cursor = Math.max(0, Math.min(c.cursor, count - 1));
  let offset = Math.max(0, Math.min(c.offset, Math.max(0, count - h)));
  if (cursor < offset) offset = cursor;
  if (cursor >= offset + h) offset = cursor - h + 1;
  return { cursor: Math.max(0, cursor), offset };
}
