/**
 * The one redaction rule of every command and output format (inspect, diff,
 * check; text, JSON, SARIF): secret-looking values from an image (env values,
 * label values, history and command lines) show as "<redacted>". `--show-secrets`
 * turns it off for a run (the caller simply does not call these).
 */
import { sanitizeLine } from './sanitize.js';

export const REDACTED = '<redacted>';

const TOKEN_PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/, // PEM private keys
  /\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[0-9A-Z]{16}\b/, // AWS access key ids
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{40,}\b/,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/, // GitLab
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/, // Slack
  /\bsk-[A-Za-z0-9_-]{20,}\b/, // OpenAI / Stripe style secret keys
  /\b[rs]k_(live|test)_[A-Za-z0-9]{16,}\b/, // Stripe
  /\bAIza[0-9A-Za-z_-]{35}\b/, // Google API keys
  /\bnpm_[A-Za-z0-9]{36}\b/, // npm tokens
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/, // JWTs
  // credentials in a URL; the lookbehind starts a match only at a scheme's first letter (else quadratic on long words)
  /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,31}:\/\/[^/\s:@]+:[^/\s@]+@/i,
];

/** A long, dense, mixed-class string with high entropy: likely a generated secret. */
function highEntropy(v: string): boolean {
  if (v.length < 24 || v.length > 4096 || /\s/.test(v)) return false;
  if (!/^[A-Za-z0-9+/=_\-.~]+$/.test(v)) return false;
  // Paths, versions, digests and plain hex of known kinds are not secrets.
  if (/^(sha256|sha512|sha1):/.test(v) || v.includes('/') || /^[0-9.]+$/.test(v)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((r) => r.test(v)).length;
  if (classes < 3) return false;
  const counts = new Map<string, number>();
  for (const c of v) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / v.length) * Math.log2(n / v.length);
  return h >= 4;
}

export function looksLikeSecretValue(value: string): boolean {
  return TOKEN_PATTERNS.some((r) => r.test(value)) || highEntropy(value);
}

/** Env / argument names that say "secret" (word-ish boundaries: NODE_ENV, KEYBOARD and MONKEY do not). */
const SECRET_NAME = /(^|[_.-])(pass(word|wd|phrase)?|pwd|secret|secrets|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|secret[_-]?key|client[_-]?secret|credentials?|auth|auth[_-]?token|session[_-]?key|signing[_-]?key|encryption[_-]?key|key)($|[_.-])/i;

/** Compound names without separators (DBPASSWORD, MYSECRET, GITLABAPIKEY) still say "secret". */
const SECRET_INFIX = /(password|passwd|secret|credential|apikey|privatekey|accesskey)/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || SECRET_INFIX.test(name);
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

/** Whether an environment variable's value is hidden: a secret-looking name (any non-empty value) or a secret-looking value. */
export function isSecretEnv(name: string, value: string): boolean {
  return value !== '' && (isSecretName(name) || looksLikeSecretValue(value));
}

/** The value to show for an environment variable. */
export function redactEnvValue(name: string, value: string): string {
  return isSecretEnv(name, value) ? REDACTED : value;
}

/** A `NAME=value` env entry as shown. */
export function redactEnvEntry(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : `${entry.slice(0, i)}=${redactEnvValue(entry.slice(0, i), entry.slice(i + 1))}`;
}

/** The value to show for a label (names like "authors" are ordinary there: only the value is judged). */
export function redactLabelValue(value: string): string {
  return looksLikeSecretValue(value) ? REDACTED : value;
}

/** redactLine, but text with nothing to redact keeps its newlines and control characters as they were. */
export function redactKeepingLayout(s: string): string {
  const r = redactLine(s);
  return r === sanitizeLine(s) ? s : r;
}

/** Entrypoint / cmd arguments with secret-looking assignments, flags and tokens redacted (as history lines are). */
export function redactArgs(args: string[] | null): string[] | null {
  return args === null ? null : args.map(redactKeepingLayout);
}

/** What redactAnalysis reads and rewrites: an image analysis's config, history and layers. */
interface RedactableAnalysis {
  config: { env: string[]; entrypoint: string[] | null; cmd: string[] | null; labels: Record<string, string>; healthcheck: string[] | null };
  history: Array<{ createdBy: string | null }>;
  layers: Array<{ createdBy: string | null }>;
}

/** A copy of an analysis with every secret-looking value redacted (the cached analysis itself is never changed). */
export function redactAnalysis<T extends RedactableAnalysis>(a: T): T {
  const line = (s: string | null): string | null => (s === null ? null : redactKeepingLayout(s));
  return {
    ...a,
    config: {
      ...a.config,
      env: a.config.env.map(redactEnvEntry),
      entrypoint: redactArgs(a.config.entrypoint),
      cmd: redactArgs(a.config.cmd),
      healthcheck: redactArgs(a.config.healthcheck),
      labels: Object.fromEntries(Object.entries(a.config.labels).map(([k, v]) => [k, redactLabelValue(v)])),
    },
    history: a.history.map((h) => ({ ...h, createdBy: line(h.createdBy) })),
    layers: a.layers.map((l) => ({ ...l, createdBy: line(l.createdBy) })),
  };
}
