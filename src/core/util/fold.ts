/**
 * Folds over lists of any length. `Math.max(...xs)` and `a.push(...xs)` pass
 * every element as an argument, and V8 refuses ~130k+ arguments ("Maximum call
 * stack size exceeded"): a 200k-row table or package list must not crash.
 */

/** The largest of `init` and every value (init when there are none). */
export function maxOf(values: Iterable<number>, init = -Infinity): number {
  let m = init;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** The smallest of `init` and every value (init when there are none). */
export function minOf(values: Iterable<number>, init = Infinity): number {
  let m = init;
  for (const v of values) if (v < m) m = v;
  return m;
}

/** Appends every item to `target` (push without spreading the items as arguments). */
export function pushAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const x of items) target.push(x);
  return target;
}
