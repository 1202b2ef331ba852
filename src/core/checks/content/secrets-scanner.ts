/**
 * The secrets scanner: a cataloger (it runs inside the single streaming pass
 * of each layer) that reads credential files and records what kind of secret
 * they hold — never the secret itself.
 *
 * Files it reads (by name, one set lookup through the hint; ≤ 1 MiB each):
 * SSH private keys (`id_rsa`, `id_dsa`, `id_ecdsa`, `id_ed25519`, `*_sk`,
 * `.ssh/identity`), `*.pem`, `*.key`, `*.ppk`, dotenv files (`.env`,
 * `.env.*` of the usual names, `*.env`), `.npmrc`/`npmrc`, `.pypirc`,
 * `.aws/credentials`, `.docker/config.json`, `.dockercfg`, `.git-credentials`,
 * `.netrc`/`_netrc`. In every file it reads, a PEM `PRIVATE KEY` block (or a
 * PuTTY key) anywhere counts.
 */
import type { Cataloger, EntryInfo, ParseResult } from '../../packages/catalog/types.js';
import { isPlaceholderValue, isSecretName } from '../redact.js';
import type { SecretDetail, SecretFileKind, SecretFinding } from './types.js';

/** Largest file the scanner reads: credential files are small; bigger ones are skipped silently (no warning). */
export const SECRETS_MAX_BYTES = 1 << 20;
/** Details kept per file (a hostile file cannot grow the cache). */
export const MAX_DETAILS = 20;

const SSH_KEY_NAMES = ['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_ecdsa_sk', 'id_ed25519_sk'];
const DOTENV_NAMES = [
  '.env',
  '.env.local',
  '.env.production',
  '.env.production.local',
  '.env.prod',
  '.env.development',
  '.env.development.local',
  '.env.dev',
  '.env.staging',
  '.env.stage',
  '.env.test',
  '.env.test.local',
  '.env.ci',
  '.env.docker',
  '.env.live',
  '.env.backup',
  '.env.bak',
  '.env.old',
  '.env.example',
  '.env.sample',
  '.env.template',
  '.env.dist',
  '.env.defaults',
];
/** Dotenv files meant to hold placeholders: only value-shaped secrets (key ids, tokens, URLs with passwords, PEM keys) count there. */
const TEMPLATE_DOTENV = /\.(example|sample|template|dist|defaults)$/;
const OTHER_NAMES = ['.npmrc', 'npmrc', '.pypirc', 'credentials', 'config.json', '.dockercfg', '.git-credentials', '.netrc', '_netrc', 'identity'];
const KEY_EXTENSIONS = new Set(['.pem', '.key', '.ppk']);

/** What a path is, or null when the scanner does not read it. Cheap: string compares on the last path element. */
export function classifySecretPath(path: string): SecretFileKind | null {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (base.startsWith('id_') && SSH_KEY_NAMES.includes(base)) return 'private-key';
  if (base === '.env' || base.startsWith('.env.') || (base.endsWith('.env') && base.length > 4)) return 'dotenv';
  const dot = base.lastIndexOf('.');
  if (dot > 0 && KEY_EXTENSIONS.has(base.slice(dot).toLowerCase())) return 'private-key';
  switch (base) {
    case '.npmrc':
    case 'npmrc':
      return 'npmrc';
    case '.pypirc':
      return 'pypirc';
    case 'credentials':
      return path.endsWith('/.aws/credentials') ? 'aws-credentials' : null;
    case 'config.json':
      return path.endsWith('/.docker/config.json') ? 'docker-config' : null;
    case '.dockercfg':
      return 'docker-config';
    case '.git-credentials':
      return 'git-credentials';
    case '.netrc':
    case '_netrc':
      return 'netrc';
    case 'identity':
      return path.endsWith('/.ssh/identity') ? 'private-key' : null;
  }
  return null;
}

export const secretsCataloger: Cataloger = {
  name: 'secrets',
  maxBytes: SECRETS_MAX_BYTES,
  hint: { basenames: [...SSH_KEY_NAMES, ...DOTENV_NAMES, ...OTHER_NAMES], extensions: [...KEY_EXTENSIONS, '.env'] },
  wants(path: string, entry: EntryInfo): boolean {
    return entry.size > 0 && entry.size <= SECRETS_MAX_BYTES && classifySecretPath(path) !== null;
  },
  parse(path: string, data: Buffer): ParseResult {
    const f = scanSecretFile(path, data);
    return f ? { packages: [], warnings: [], secrets: [f] } : { packages: [], warnings: [] };
  },
};

/** The finding for one file's content, or null when it holds no secret. Never throws. */
export function scanSecretFile(path: string, data: Buffer): SecretFinding | null {
  const kind = classifySecretPath(path);
  if (!kind) return null;
  const details: SecretDetail[] = [];
  scanPrivateKeys(data, details);
  // Binary content (a DER key, a keystore) is not parsed as text.
  if (kind !== 'private-key' && !looksBinary(data)) {
    const src = data.toString('utf8');
    const text = src.charCodeAt(0) === 0xfeff ? src.slice(1) : src;
    switch (kind) {
      case 'dotenv':
        scanDotenv(text, TEMPLATE_DOTENV.test(path), details);
        break;
      case 'npmrc':
        scanNpmrc(text, details);
        break;
      case 'pypirc':
        scanIni(text, details, pypiKey);
        break;
      case 'aws-credentials':
        scanIni(text, details, awsKey);
        break;
      case 'docker-config':
        scanDockerConfig(text, details);
        break;
      case 'git-credentials':
        scanGitCredentials(text, details);
        break;
      case 'netrc':
        scanNetrc(text, details);
        break;
    }
  }
  if (details.length === 0) return null;
  const markers = [...new Set(details.map((d) => d.marker))].sort();
  details.sort((a, b) => a.line - b.line || (a.marker < b.marker ? -1 : a.marker > b.marker ? 1 : 0));
  return { path, kind, markers, details: details.slice(0, MAX_DETAILS) };
}

/** A redacted hint for a value: its length, plus its first 4 characters when it is long enough (≥ 16) that they give little away. */
export function redactedHint(value: string): string {
  if (value.length < 16) return `(${value.length} chars)`;
  const head = value.slice(0, 4).replace(/[^A-Za-z0-9_-]/g, '?');
  return `${head}…(${value.length} chars)`;
}

function looksBinary(data: Buffer): boolean {
  const n = Math.min(data.length, 512);
  for (let i = 0; i < n; i++) if (data[i] === 0) return true;
  return false;
}

function lineAt(data: Buffer, offset: number): number {
  let line = 1;
  for (let i = data.indexOf(10); i >= 0 && i < offset; i = data.indexOf(10, i + 1)) line++;
  return line;
}

const BEGIN = Buffer.from('-----BEGIN ');
const OPENSSH_NONE = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmU'; // base64 of "openssh-key-v1\0" + cipher "none"

/** PEM private-key blocks anywhere in the content (and PuTTY keys). A header without a key body (a doc, a placeholder) does not count. */
function scanPrivateKeys(data: Buffer, out: SecretDetail[]): void {
  if (data.length > 20 && data.toString('latin1', 0, 20) === 'PuTTY-User-Key-File-') {
    const head = data.toString('latin1', 0, Math.min(data.length, 300));
    out.push({ marker: 'putty-private-key', line: 1, encrypted: !/\nEncryption: none\r?\n/.test(head) });
  }
  let found = 0;
  for (let i = data.indexOf(BEGIN); i >= 0 && found < MAX_DETAILS; i = data.indexOf(BEGIN, i + BEGIN.length)) {
    const labelEnd = data.indexOf('-----', i + BEGIN.length);
    if (labelEnd < 0 || labelEnd - i > 80) continue;
    const label = data.toString('latin1', i + BEGIN.length, labelEnd);
    let marker: string;
    if (label === 'PGP PRIVATE KEY BLOCK') marker = 'pgp-private-key';
    else if (label === 'OPENSSH PRIVATE KEY') marker = 'openssh-private-key';
    else if (/^[A-Z0-9 ]*PRIVATE KEY$/.test(label)) marker = 'pem-private-key';
    else continue;
    // The body: header lines (Proc-Type, DEK-Info, Version, Comment) dropped, newlines (real or `\n` escapes in a dotenv value) removed.
    const raw = data.toString('latin1', labelEnd + 5, Math.min(data.length, labelEnd + 5 + 800));
    const endAt = raw.indexOf('-----');
    const chunk = endAt >= 0 ? raw.slice(0, endAt) : raw;
    const encrypted = label.includes('ENCRYPTED') || /Proc-Type:\s*4,ENCRYPTED/.test(chunk);
    const body = chunk
      .split(/\r?\n|\\n/)
      .filter((l) => !l.includes(':'))
      .join('')
      .replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/=]{64}/.test(body)) continue;
    const detail: SecretDetail = { marker, line: lineAt(data, i) };
    if (marker === 'openssh-private-key') detail.encrypted = !body.startsWith(OPENSSH_NONE);
    else if (encrypted) detail.encrypted = true;
    out.push(detail);
    found++;
  }
}

/** Value-shaped secrets: recognisable whatever the variable is called. */
const VALUE_PATTERNS: ReadonlyArray<readonly [string, string[], RegExp]> = [
  // [marker, keywords (one must occur before the regex runs), regex]
  ['aws-access-key-id', ['AKIA', 'ASIA', 'AGPA', 'AIDA', 'AROA', 'ANPA', 'ANVA', 'AIPA'], /(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])/],
  ['github-token', ['gh', 'github_pat_'], /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})/],
  ['gitlab-token', ['glpat-'], /\bglpat-[A-Za-z0-9_-]{20,}/],
  ['slack-token', ['xox'], /\bxox[abposr]-\d+-[A-Za-z0-9-]{10,}/],
  ['stripe-key', ['k_live_'], /\b[rs]k_live_[A-Za-z0-9]{16,}/],
  ['google-api-key', ['AIza'], /\bAIza[0-9A-Za-z_-]{35}/],
  ['npm-token', ['npm_'], /\bnpm_[A-Za-z0-9]{36}\b/],
  ['pypi-token', ['pypi-AgE'], /\bpypi-AgE[A-Za-z0-9_-]{50,}/],
];
/**
 * scheme://user:password@host — the password group must be a real value. The
 * scheme is bounded so that a long run of scheme characters without `://`
 * costs linear time, not quadratic (every regex here is linear on hostile lines).
 */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]{0,30}:\/\/([^/\s:@'"]+):([^/\s@'"]+)@([^/\s:'"?#]+)/gi;

/** Secrets a value holds by its shape; returns the details pushed. */
function valueSecrets(value: string, line: number, name: string | undefined, out: SecretDetail[]): number {
  let n = 0;
  for (const [marker, keywords, re] of VALUE_PATTERNS) {
    if (!keywords.some((k) => value.includes(k))) continue;
    const m = re.exec(value);
    if (m) {
      out.push(withName({ marker, line, hint: redactedHint(m[0]) }, name));
      n++;
    }
  }
  if (!value.includes('://')) return n;
  for (const m of value.matchAll(URL_CREDENTIALS)) {
    const pw = m[2]!;
    if (isPlaceholderValue(pw) || /^\$|^\*+$|^%[A-Za-z_]/.test(pw)) continue;
    out.push(withName({ marker: 'password-in-url', line, hint: redactedHint(pw) }, name));
    n++;
  }
  return n;
}

function withName(d: SecretDetail, name: string | undefined): SecretDetail {
  if (name !== undefined) d.name = name.length > 100 ? `${name.slice(0, 100)}…` : name;
  return d;
}

/** A value (quoted or not, comments stripped). */
function unquote(raw: string): string {
  const v = raw.trim();
  const q = v[0];
  if (q === '"' || q === "'") {
    const end = v.indexOf(q, 1);
    return end > 0 ? v.slice(1, end) : v.slice(1);
  }
  const hash = v.search(/\s#/);
  return (hash >= 0 ? v.slice(0, hash) : v).trim();
}

/** A value that is a secret when its name says so: not a placeholder, a reference, a number or a boolean. */
function realValue(v: string): boolean {
  return v.length >= 3 && !isPlaceholderValue(v) && !/^\d{1,8}$/.test(v) && !/^(yes|no|on|off|true|false|null|none|changeme|password|secret)$/i.test(v) && !/^\$\{?[A-Za-z_]/.test(v);
}

const AWS_SECRET_NAME = /aws_?secret_?(access_?)?key/i;
const AWS_SESSION_NAME = /aws_?session_?token/i;

function scanDotenv(text: string, template: boolean, out: SecretDetail[]): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    const value = unquote(m[2]!);
    if (value === '') continue;
    // A PEM key in the value is reported by the key scan.
    if (valueSecrets(value, i + 1, name, out) > 0 || template || value.includes('-----BEGIN ')) continue;
    if (!realValue(value)) continue;
    if (AWS_SECRET_NAME.test(name)) out.push({ marker: 'aws-secret-access-key', line: i + 1, name, hint: redactedHint(value) });
    else if (AWS_SESSION_NAME.test(name)) out.push({ marker: 'aws-session-token', line: i + 1, name, hint: redactedHint(value) });
    else if (isSecretName(name)) out.push({ marker: 'secret-assignment', line: i + 1, name, hint: redactedHint(value) });
  }
}

function scanNpmrc(text: string, out: SecretDetail[]): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = unquote(line.slice(eq + 1));
    if (value === '') continue;
    const last = key.slice(key.lastIndexOf(':') + 1);
    const marker = last === '_authToken' ? 'npm-token' : last === '_auth' ? 'npm-auth' : last === '_password' ? 'npm-password' : null;
    if (marker) {
      if (!/^\$\{?[A-Za-z_]/.test(value) && !isPlaceholderValue(value)) out.push({ marker, line: i + 1, name: key, hint: redactedHint(value) });
    } else valueSecrets(value, i + 1, key, out);
  }
}

/** INI files (.pypirc, .aws/credentials): `key = value` under `[section]`; `classify(key, value)` names the marker. */
function scanIni(text: string, out: SecretDetail[], classify: (key: string, value: string) => string | null): void {
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[([^\]]*)\]/.exec(line);
    if (s) {
      section = s[1]!.trim();
      continue;
    }
    const eq = line.indexOf('=');
    const colon = line.indexOf(':');
    const sep = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
    if (sep <= 0) continue;
    const key = line.slice(0, sep).trim();
    const value = unquote(line.slice(sep + 1));
    if (value === '' || /^\$\{?[A-Za-z_]/.test(value) || isPlaceholderValue(value)) continue;
    const name = section ? `${section}.${key}` : key;
    const marker = classify(key.toLowerCase(), value);
    if (marker) out.push({ marker, line: i + 1, name, hint: redactedHint(value) });
    else valueSecrets(value, i + 1, name, out);
  }
}

function pypiKey(key: string, value: string): string | null {
  if (key !== 'password') return null;
  return value.startsWith('pypi-AgE') ? 'pypi-token' : 'pypi-password';
}

function awsKey(key: string): string | null {
  if (key === 'aws_secret_access_key') return 'aws-secret-access-key';
  if (key === 'aws_access_key_id') return 'aws-access-key-id';
  if (key === 'aws_session_token' || key === 'aws_security_token') return 'aws-session-token';
  return null;
}

function scanDockerConfig(text: string, out: SecretDetail[]): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return;
  const o = doc as Record<string, unknown>;
  // config.json: {"auths": {host: {...}}}; the legacy .dockercfg: {host: {...}}.
  const auths = o.auths && typeof o.auths === 'object' && !Array.isArray(o.auths) ? (o.auths as Record<string, unknown>) : o;
  for (const [host, v] of Object.entries(auths)) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) continue;
    const a = v as Record<string, unknown>;
    const at = text.indexOf(JSON.stringify(host));
    const line = at < 0 ? 1 : text.slice(0, at).split('\n').length;
    if (typeof a.auth === 'string' && a.auth !== '') out.push({ marker: 'docker-auth', line, name: host, hint: redactedHint(a.auth) });
    else if (typeof a.password === 'string' && a.password !== '') out.push({ marker: 'docker-auth', line, name: host, hint: redactedHint(a.password) });
    for (const k of ['identitytoken', 'registrytoken'] as const) {
      const t = a[k];
      if (typeof t === 'string' && t !== '') out.push({ marker: 'docker-identity-token', line, name: host, hint: redactedHint(t) });
    }
  }
}

function scanGitCredentials(text: string, out: SecretDetail[]): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.includes('://')) continue;
    for (const m of lines[i]!.trim().matchAll(URL_CREDENTIALS)) {
      const pw = m[2]!;
      if (isPlaceholderValue(pw)) continue;
      out.push({ marker: 'git-credential', line: i + 1, name: m[3]!, hint: redactedHint(pw) });
    }
  }
}

function scanNetrc(text: string, out: SecretDetail[]): void {
  const lines = text.split('\n');
  let machine = 'default';
  let pending: 'machine' | 'password' | 'other' | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trimStart().startsWith('#')) continue;
    for (const tok of line.split(/\s+/)) {
      if (tok === '') continue;
      if (pending === 'machine') machine = tok;
      else if (pending === 'password') {
        if (!isPlaceholderValue(tok)) out.push({ marker: 'netrc-password', line: i + 1, name: machine, hint: redactedHint(tok) });
      }
      if (pending !== null) {
        pending = null;
        continue;
      }
      if (tok === 'machine') pending = 'machine';
      else if (tok === 'password') pending = 'password';
      else if (tok === 'login' || tok === 'account' || tok === 'port') pending = 'other';
      else if (tok === 'default') machine = 'default';
      else if (tok === 'macdef') break;
    }
  }
}
