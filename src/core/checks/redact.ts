/**
 * Secrets never reach a check's output: env values are never printed (only
 * names), and history lines (which carry `ENV`/`ARG` values and RUN command
 * lines) are redacted before they become a layer subject or a message.
 */
import { looksLikeSecretValue, REDACTED } from '../diff/redact.js';
import { sanitizeLine } from '../util/sanitize.js';

export { REDACTED, looksLikeSecretValue };

/** Env / argument names that say "secret" (word-ish boundaries: NODE_ENV, KEYBOARD and MONKEY do not). */
const SECRET_NAME = /(^|[_.-])(pass(word|wd|phrase)?|pwd|secret|secrets|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|secret[_-]?key|client[_-]?secret|credentials?|auth|auth[_-]?token|session[_-]?key|signing[_-]?key|encryption[_-]?key|key)($|[_.-])/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Values that are clearly not secrets even under a secret-looking name: empty, placeholders, file paths. */
export function isPlaceholderValue(v: string): boolean {
  const s = v.trim();
  return s === '' || /^(changeme|change-me|none|null|false|true|x+|\*+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)$/i.test(s) || /^\/[^\s]*$/.test(s);
}

/** Redact one history line / command line: secret-named assignments and secret-looking tokens. */
/** History lines are untrusted and can be huge: past this, a line is cut (with an ellipsis) before it is redacted or shown. */
const MAX_LINE = 16 * 1024;

export function redactLine(line: string): string {
  let s = sanitizeLine(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
  // `ENV`/`ARG` history lines (`ENV A=1 B=two words`, `#(nop)  ENV X=…`): the builders write values
  // unquoted, spaces included, so a value runs to the next `NAME=` (legacy `ENV NAME value`: to the end).
  s = s.replace(/^((?:.*#\(nop\)\s+)?(?:ENV|ARG)\s+)(.+)$/, (_m, head: string, body: string) => head + redactInstruction(body));
  // NAME=value (ENV, ARG, `RUN |2 TOKEN=… /bin/sh -c …`, `export X=…`)
  // The lookbehind makes a match start only at the beginning of a name: without it a long run of
  // letters with no `=` is rescanned from every position (quadratic on hostile history lines).
  s = s.replace(/(?<![A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|[^\s;&|]+)/g, (m, name: string, value: string) => {
    const v = value.replace(/^["']|["']$/g, '');
    if ((isSecretName(name) && !isPlaceholderValue(v)) || looksLikeSecretValue(v)) return `${name}=${REDACTED}`;
    return m;
  });
  // `ENV NAME value` (legacy form) and `--password value`
  s = s.replace(/(\b(?:ENV|ARG)\s+)([A-Za-z_][A-Za-z0-9_]*)\s+(\S+)/g, (m, kw: string, name: string, value: string) =>
    isSecretName(name) && !isPlaceholderValue(value) ? `${kw}${name} ${REDACTED}` : m,
  );
  s = s.replace(/(--?(?:password|passwd|token|secret|api-key|apikey)[= ])(\S+)/gi, (_m, flag: string) => `${flag}${REDACTED}`);
  // Any remaining token that looks like a key, a token or credentials in a URL.
  s = s.replace(/\S+/g, (tok) => (looksLikeSecretValue(tok.replace(/^["'(]+|["'),;]+$/g, '')) ? REDACTED : tok));
  return s;
}

function secretAssignment(name: string, value: string): boolean {
  const v = value.trim().replace(/^["']|["']$/g, '');
  return (isSecretName(name) && !isPlaceholderValue(v)) || looksLikeSecretValue(v);
}

/** The arguments of an ENV / ARG instruction with secret values redacted whole. */
function redactInstruction(body: string): string {
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$/.exec(body);
  if (legacy && !/^[A-Za-z_][A-Za-z0-9_.-]*=/.test(body)) return secretAssignment(legacy[1]!, legacy[2]!) ? `${legacy[1]} ${REDACTED}` : body;
  return body.replace(/([A-Za-z_][A-Za-z0-9_.-]*)=(.*?)(?=\s+[A-Za-z_][A-Za-z0-9_.-]*=|$)/g, (m, name: string, value: string) =>
    secretAssignment(name, value) ? `${name}=${REDACTED}` : m,
  );
}
