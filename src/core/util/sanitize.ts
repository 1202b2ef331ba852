import { escapePathBytes, pathBytesJson } from './path-bytes.js';

/**
 * Strings that come from an image (paths, labels, env, history) are untrusted:
 * strip C0/C1 control characters (ESC sequences included) and Unicode bidi
 * overrides before anything reaches a terminal. Invisible and format
 * characters (zero-width, joiners, BOM, soft hyphen, tag characters, line/para
 * separators) and spaces that are not U+0020 are made visible too, so that a
 * lookalike ("high" + U+200B, "critical" + NBSP) cannot pass for the real value.
 */
const INVISIBLE = '\\u00a0\\u00ad\\u061c\\u115f\\u1160\\u1680\\u180e\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff0-\\ufffb\\u{e0000}-\\u{e007f}\\u{e0100}-\\u{e01ef}';
const CONTROL = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${INVISIBLE}]`, 'gu');
const CONTROL_AND_NEWLINES = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE}]`, 'gu');

/**
 * Each control character as a visible escape of its own (`\x1b`; C1 and bidi
 * overrides `\u009b`, `\u202e`), like the bytes of a name that are not UTF-8 (`\xff`): two names
 * that differ only there still look different (a single '?' for all made
 * `a\x07` and `a\x1b` the same on screen).
 */
function escapeControl(ch: string): string {
  const c = ch.charCodeAt(0);
  // C1 characters as \u0080…: `\x80` already means the byte 0x80 of a name that is not UTF-8.
  if (c < 0x80) return `\\x${c.toString(16).padStart(2, '0')}`;
  // Astral format characters (tags, variation selectors) by code point: both halves of the pair belong to one escape.
  const cp = ch.codePointAt(0)!;
  return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/** For single-line display: every control character, newlines and tabs included, becomes a visible escape. */
export function sanitizeLine(s: string): string {
  // Bytes of a path that were not UTF-8 (kept as escapes, see path-bytes.ts) show as \xNN.
  return escapePathBytes(s.replace(CONTROL_AND_NEWLINES, escapeControl));
}

/** For multi-line display: keeps \n and \t, escapes every other control character. */
export function sanitizeText(s: string): string {
  return escapePathBytes(s.replace(CONTROL, escapeControl));
}

const JSON_UNSAFE = new RegExp(`[\\u007f-\\u009f${INVISIBLE}]`, 'gu');

/**
 * The JSON every command prints (one serialiser for all `--json`, SARIF,
 * CycloneDX and SPDX output): the same value, but DEL, C1 controls and the
 * invisible/format characters above (bidi overrides included, which
 * JSON.stringify leaves raw) are written as \uXXXX escapes, so printing it
 * cannot reorder or hide text; it parses back to the same strings. Names that
 * are not UTF-8 are written as `replacer` says (default pathBytesJson: display
 * text plus a `…Bytes` sibling, never a lone surrogate).
 */
export function terminalSafeJson(value: unknown, indent?: number, replacer: (key: string, value: unknown) => unknown = pathBytesJson): string {
  return JSON.stringify(value, replacer, indent).replace(JSON_UNSAFE, (ch) => [...Array(ch.length).keys()].map((i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}
