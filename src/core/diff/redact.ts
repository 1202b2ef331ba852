/**
 * Secret-looking configuration values are never printed: an environment
 * variable whose name suggests a secret, or whose value looks like a key or a
 * token, shows as "<redacted>" in every output (text and JSON).
 */
export const REDACTED = '<redacted>';

const SECRET_NAME = /(pass|secret|token|key|credential|auth|private)/i;

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

export function isSecretEnv(name: string, value: string): boolean {
  return SECRET_NAME.test(name) || looksLikeSecretValue(value);
}

/** The value to show for an environment variable. */
export function redactEnvValue(name: string, value: string): string {
  return isSecretEnv(name, value) ? REDACTED : value;
}

/** The value to show for a label (names like "authors" are ordinary there: only the value is judged). */
export function redactLabelValue(value: string): string {
  return looksLikeSecretValue(value) ? REDACTED : value;
}
