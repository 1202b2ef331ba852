/**
 * Strings that come from an image (paths, labels, env, history) are untrusted:
 * strip C0/C1 control characters (ESC sequences included) and Unicode bidi
 * overrides before anything reaches a terminal.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_AND_NEWLINES = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** For single-line display: every control character, newlines and tabs included, becomes a visible '?'. */
export function sanitizeLine(s: string): string {
  return s.replace(CONTROL_AND_NEWLINES, '?');
}

/** For multi-line display: keeps \n and \t, replaces every other control character. */
export function sanitizeText(s: string): string {
  return s.replace(CONTROL, '?');
}
