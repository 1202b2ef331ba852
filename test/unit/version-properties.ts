/** Shared fast-check properties for version orderings: reflexive, antisymmetric, transitive. */
import assert from 'node:assert/strict';
import fc from 'fast-check';

type Cmp = (a: string, b: string) => -1 | 0 | 1 | undefined;

export function checkOrderProperties(gen: fc.Arbitrary<string>, cmp: Cmp, numRuns = 2000): void {
  fc.assert(
    fc.property(gen, gen, (a, b) => {
      const ab = cmp(a, b);
      const ba = cmp(b, a);
      assert.notEqual(ab, undefined, `${a} vs ${b} should parse`);
      assert.equal(cmp(a, a), 0, `${a} == itself`);
      assert.equal(ab, ba === 0 ? 0 : -ba!, `antisymmetry: ${a} vs ${b}`);
    }),
    { numRuns },
  );
  fc.assert(
    fc.property(gen, gen, gen, (a, b, c) => {
      const ab = cmp(a, b)!;
      const bc = cmp(b, c)!;
      const ac = cmp(a, c)!;
      if (ab <= 0 && bc <= 0) assert.ok(ac <= 0, `transitivity: ${a} <= ${b} <= ${c} but ${a} vs ${c} = ${ac}`);
      if (ab === 0 && bc === 0) assert.equal(ac, 0, `equality transitivity: ${a}, ${b}, ${c}`);
    }),
    { numRuns },
  );
  // Sorting with the comparator is stable under shuffling (a consequence of a total order).
  fc.assert(
    fc.property(fc.array(gen, { minLength: 2, maxLength: 12 }), (vs) => {
      const sorted = [...vs].sort((x, y) => cmp(x, y)!);
      for (let i = 1; i < sorted.length; i++) assert.ok(cmp(sorted[i - 1]!, sorted[i]!)! <= 0);
    }),
    { numRuns: Math.ceil(numRuns / 4) },
  );
}
