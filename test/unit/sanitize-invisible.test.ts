/**
 * Lookalike values: zero-width, bidi, other format characters and non-ASCII
 * spaces are made visible (as `\\uXXXX` escapes) by the sanitisers, so "high\u200b" or
 * "critical\u00a0" cannot pass for "high" / "critical" on a terminal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sanitizeLine, sanitizeText } from '../../src/core/util/sanitize.js';

test('invisible and format characters become visible; ordinary text is unchanged', () => {
  const invisible = ['\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u2060', '\u2061', '\u2064', '\ufeff', '\u00ad', '\u061c', '\u180e', '\u2028', '\u2029', '\u202a', '\u202e', '\u2066', '\u2069', '\u00a0', '\u2007', '\u202f', '\u3000', '\ufff9', '\u{e0001}', '\u{e0041}'];
  for (const ch of invisible) {
    const cp = ch.codePointAt(0)!;
    const shown = cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    assert.equal(sanitizeLine(`high${ch}`), `high${shown}`, `U+${cp.toString(16)}`);
    assert.equal(sanitizeText(`a${ch}b\nc`), `a${shown}b\nc`, `U+${cp.toString(16)}`);
  }
  for (const ok of ['critical', 'pkg:npm/%40scope/x@1.0.0', '/usr/share/doc/café/naïve', 'Grüße 日本語 ✓', 'a b\tc'.replace('\t', ' ')]) assert.equal(sanitizeLine(ok), ok);
});
