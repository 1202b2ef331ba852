import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDockerReference, parseDockerReference, parseReference } from '../../src/core/ref/index.js';

// Any string → a reference or a typed error: the fuzz target `reference` (test/fuzz/targets/reference.ts).

const component = fc.stringMatching(/^[a-z0-9]+(?:[_-][a-z0-9]+){0,2}$/).filter((s) => s.length <= 30);
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);

test('normalised references are fixed points of parse ∘ format', () => {
  fc.assert(
    fc.property(fc.option(fc.constantFrom('ghcr.io', 'localhost:5000', '127.0.0.1:5000', 'quay.io')), fc.array(component, { minLength: 1, maxLength: 3 }), fc.option(tag), (reg, parts, t) => {
      const input = `${reg ? `${reg}/` : ''}${parts.join('/')}${t ? `:${t}` : ''}`;
      const once = formatDockerReference(parseDockerReference(input));
      assert.equal(formatDockerReference(parseDockerReference(once)), once);
    }),
    { numRuns: 2000 },
  );
});
