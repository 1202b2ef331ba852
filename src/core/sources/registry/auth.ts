/**
 * Registry authentication per the distribution spec: the WWW-Authenticate
 * challenge (Bearer realm/service/scope, or Basic), token fetches (anonymous,
 * with basic credentials, or OAuth2 refresh with an identity token), and a
 * token cache that belongs to one client instance.
 */
import { VouchError } from '../../errors.js';
import { sanitizeLine } from '../../util/sanitize.js';
import type { RegistryCredentials } from './credentials.js';
import { allowsPlainHttp } from './endpoint.js';
import { discard, readLimited, withRetries, type RetryPolicy } from './http.js';

export interface AuthChallenge {
  /** Lower case: "bearer", "basic", … */
  scheme: string;
  /** Auth-params with lower-case names; quoted values unescaped. */
  params: Record<string, string>;
  /** The token68 form some schemes use instead of params. */
  token68?: string;
}

/** Characters of a token (RFC 7230 tchar) plus '/', so a token68 ("abc/d+e==") reads as one piece. */
const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z/-]/;

/**
 * Parses a WWW-Authenticate value (RFC 7235): several challenges separated by
 * commas, each a scheme then either auth-params (token or quoted-string
 * values, which may contain commas, as scopes do) or a token68. Lenient about
 * unquoted values (a realm URL is often left unquoted). Never throws: garbage
 * yields fewer challenges.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const s = header;
  const out: AuthChallenge[] = [];
  let i = 0;
  let current: AuthChallenge | undefined;
  // True right after a scheme, before any comma: where a token68 may appear.
  let afterScheme = false;
  const skipWs = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let v = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote, or past the end when unterminated
    return v;
  };
  const readBare = (): string => {
    const start = i;
    while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    if (i >= s.length) break;
    if (s[i] === ',') {
      i++;
      afterScheme = false;
      continue;
    }
    const tok = readToken();
    if (!tok) {
      i++; // not a token: skip one character so malformed input cannot loop
      continue;
    }
    skipWs();
    if (s[i] === '=' && current) {
      let j = i;
      while (s[j] === '=') j++;
      let k = j;
      while (k < s.length && (s[k] === ' ' || s[k] === '\t')) k++;
      if (afterScheme && (k >= s.length || s[k] === ',')) {
        current.token68 = tok + s.slice(i, j); // token68 with '=' padding
        i = k;
        afterScheme = false;
        continue;
      }
      i++;
      skipWs();
      current.params[tok.toLowerCase()] = s[i] === '"' ? readQuoted() : readBare();
      afterScheme = false;
      continue;
    }
    if (current && afterScheme) {
      current.token68 = tok; // "Negotiate abc": a token after the scheme, no comma between
      afterScheme = false;
      continue;
    }
    current = { scheme: tok.toLowerCase(), params: {} };
    out.push(current);
    afterScheme = true;
  }
  return out;
}

/** Bearer if offered (it is what registries mean), else Basic. */
export function pickChallenge(challenges: readonly AuthChallenge[]): AuthChallenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer' && c.params['realm']) ?? challenges.find((c) => c.scheme === 'basic');
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export interface CachedToken {
  token: string;
  /** ms since the epoch, already shortened by a safety margin. */
  expiresAt: number;
}

/** Tokens per (realm, service, scopes). One per client instance: no global state. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  static key(realm: string, service: string | undefined, scopes: readonly string[]): string {
    return JSON.stringify([realm, service ?? '', [...scopes].sort()]);
  }
  get(key: string, now = Date.now()): string | undefined {
    const t = this.tokens.get(key);
    if (!t) return undefined;
    if (t.expiresAt <= now) {
      this.tokens.delete(key);
      return undefined;
    }
    return t.token;
  }
  set(key: string, token: CachedToken): void {
    this.tokens.set(key, token);
  }
  delete(key: string): void {
    this.tokens.delete(key);
  }
  get size(): number {
    return this.tokens.size;
  }
}

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
}

export interface TokenFetchContext {
  /** Registry and repository, for messages. */
  what: string;
  /** Which credentials were used, for messages (never a secret). */
  credentialSource: string;
  insecureRegistries: readonly string[];
  retry: RetryPolicy;
  signal?: AbortSignal;
  userAgent: string;
}

/** Validity docker assumes when the token server does not say (the spec's minimum). */
const DEFAULT_EXPIRES_IN_S = 60;

/**
 * Gets a bearer token from the realm. With an identity token it is the OAuth2
 * refresh grant (POST), otherwise a GET with basic credentials when we have
 * them (anonymous otherwise). The realm must be HTTPS unless it is loopback or
 * an insecure registry: the request carries the user's password.
 */
export async function fetchBearerToken(req: TokenRequest, creds: RegistryCredentials | undefined, ctx: TokenFetchContext): Promise<CachedToken> {
  let url: URL;
  try {
    url = new URL(req.realm);
  } catch {
    throw new VouchError('REGISTRY_ERROR', `${ctx.what}: the registry's token realm ${JSON.stringify(sanitizeLine(req.realm.slice(0, 120)))} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowsPlainHttp(url.host, ctx.insecureRegistries))) {
    throw new VouchError('REGISTRY_ERROR', `${ctx.what}: refusing token realm ${sanitizeLine(url.origin)}: not HTTPS`);
  }
  const headers: Record<string, string> = { 'user-agent': ctx.userAgent, accept: 'application/json' };
  let init: RequestInit;
  if (creds?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'vouch' });
    if (req.service) form.set('service', req.service);
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    headers['content-type'] = 'application/x-www-form-urlencoded';
    init = { method: 'POST', headers, body: form.toString(), redirect: 'manual', signal: ctx.signal ?? null };
  } else {
    if (req.service) url.searchParams.set('service', req.service);
    for (const scope of req.scopes) url.searchParams.append('scope', scope);
    if (creds?.username !== undefined && creds.password !== undefined) {
      url.searchParams.set('account', creds.username);
      headers['authorization'] = basicAuthorization(creds.username, creds.password);
    }
    init = { method: 'GET', headers, redirect: 'manual', signal: ctx.signal ?? null };
  }
  const res = await withRetries(() => fetch(url, init), url, ctx.retry, ctx.signal);
  if (res.status === 401 || res.status === 403) {
    await discard(res);
    throw new VouchError(
      res.status === 401 ? 'UNAUTHORIZED' : 'DENIED',
      `${ctx.what}: the token server ${sanitizeLine(url.host)} refused ${ctx.credentialSource} (HTTP ${res.status})`,
    );
  }
  if (res.status !== 200) {
    await discard(res);
    throw new VouchError('REGISTRY_ERROR', `${ctx.what}: the token server ${sanitizeLine(url.host)} answered HTTP ${res.status}`);
  }
  const body = await readLimited(res, 1 << 20, `${ctx.what}: token response`, url);
  let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    json = JSON.parse(body.toString('utf8')) as typeof json;
  } catch {
    throw new VouchError('REGISTRY_ERROR', `${ctx.what}: the token server ${sanitizeLine(url.host)} answered something that is not JSON`);
  }
  const token = typeof json.token === 'string' && json.token ? json.token : typeof json.access_token === 'string' ? json.access_token : '';
  if (!token) throw new VouchError('REGISTRY_ERROR', `${ctx.what}: the token server ${sanitizeLine(url.host)} returned no token`);
  const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_EXPIRES_IN_S;
  const lifetimeMs = expiresIn * 1000;
  // Expire early, by 10% (at most 30 s), so a token never dies in flight. Our clock, not issued_at: clocks disagree.
  return { token, expiresAt: Date.now() + lifetimeMs - Math.min(30_000, lifetimeMs / 10) };
}
