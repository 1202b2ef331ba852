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
import {
  backoffDelay,
  discard,
  errorCode,
  fetchWithStallTimeout,
  isAbortError,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  readLimited,
  sleep,
  StallError,
  type RetryPolicy,
} from './http.js';

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
/** Redirects a token endpoint may take (to another path or host of its own) before the answer counts as a loop. */
export const MAX_TOKEN_REDIRECTS = 5;
const MAX_TOKEN_BYTES = 1 << 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * A token fetch that failed for good: its own retries (within the retry
 * budget) are spent, so the registry request that needed the token is not
 * retried on top of them. The message names the token server's host.
 */
export class TokenServerError extends VouchError {}

/** 429 or a transient 5xx from the token server: worth another try, after Retry-After when it says. */
class RetryableTokenStatus extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`answered HTTP ${status}`);
  }
}

const secs = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

/** What went wrong on the wire, for "the token server HOST …". */
function networkDetail(e: unknown, policy: RetryPolicy): string {
  const inner = e instanceof VouchError && e.code === 'NETWORK_ERROR' && e.cause !== undefined ? e.cause : e;
  // The deadline of a try is what is left of the budget: say the budget, not the remainder.
  if (inner instanceof StallError && inner.message.startsWith('response not complete')) return `stalled: no complete answer within the ${secs(policy.totalMs)} budget`;
  if (inner instanceof StallError) return `stalled: ${sanitizeLine(inner.message)}`;
  const code = errorCode(inner);
  const raw = inner instanceof Error ? ((inner.cause as Error | undefined)?.message ?? inner.message) : String(inner);
  return `failed: ${sanitizeLine(code && !raw.includes(code) ? `${code}: ${raw}` : raw).slice(0, 200)}`;
}

/** How a failed try may be retried, or undefined when it is final. */
function retryOf(e: unknown): { retryAfterMs?: number } | undefined {
  if (e instanceof RetryableTokenStatus) return e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {};
  if (e instanceof VouchError) return e.code === 'NETWORK_ERROR' && isRetryableNetworkError(e.cause) ? {} : undefined;
  return isRetryableNetworkError(e) ? {} : undefined;
}

/**
 * Gets a bearer token from the realm. With an identity token it is the OAuth2
 * refresh grant (POST), otherwise a GET with basic credentials when we have
 * them (anonymous otherwise). The realm must be HTTPS unless it is loopback or
 * an insecure registry: the request carries the user's password.
 *
 * Bounded like a registry read: each try is dropped when the server sends
 * nothing for `stallMs`, and the whole fetch (tries, waits, headers and body)
 * ends within `totalMs`; connection failures, stalls, 429 and 5xx are retried
 * with backoff (Retry-After honoured); redirects are followed a few times,
 * the credentials only to the realm's own origin.
 */
export async function fetchBearerToken(req: TokenRequest, creds: RegistryCredentials | undefined, ctx: TokenFetchContext): Promise<CachedToken> {
  let url: URL;
  try {
    url = new URL(req.realm);
  } catch {
    throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the registry's token realm ${JSON.stringify(sanitizeLine(req.realm.slice(0, 120)))} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowsPlainHttp(url.host, ctx.insecureRegistries))) {
    throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: refusing token realm ${sanitizeLine(url.origin)}: not HTTPS`);
  }
  const headers: Record<string, string> = { 'user-agent': ctx.userAgent, accept: 'application/json' };
  let init: RequestInit;
  if (creds?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'vouch' });
    if (req.service) form.set('service', req.service);
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    headers['content-type'] = 'application/x-www-form-urlencoded';
    init = { method: 'POST', headers, body: form.toString(), redirect: 'manual' };
  } else {
    if (req.service) url.searchParams.set('service', req.service);
    for (const scope of req.scopes) url.searchParams.append('scope', scope);
    if (creds?.username !== undefined && creds.password !== undefined) {
      url.searchParams.set('account', creds.username);
      headers['authorization'] = basicAuthorization(creds.username, creds.password);
    }
    init = { method: 'GET', headers, redirect: 'manual' };
  }
  const host = sanitizeLine(url.host);
  const policy = ctx.retry;
  const started = Date.now();
  for (let tries = 1; ; tries++) {
    try {
      return await tokenOnce(url, init, ctx, started + policy.totalMs);
    } catch (e) {
      if (isAbortError(e) || e instanceof TokenServerError) throw e;
      const t = retryOf(e);
      const what = e instanceof RetryableTokenStatus ? e.message : networkDetail(e, policy);
      if (!t) throw new TokenServerError(e instanceof VouchError ? e.code : 'NETWORK_ERROR', `${ctx.what}: the token server ${host} ${what}`, { cause: e });
      const elapsed = Date.now() - started;
      const patience = Math.min(policy.maxRetryAfterMs, policy.totalMs);
      const wait = t.retryAfterMs ?? backoffDelay(tries - 1, policy);
      let stop: string | undefined;
      if (tries >= policy.attempts) stop = '';
      else if (t.retryAfterMs !== undefined && t.retryAfterMs > patience) stop = `; it asks to wait ${secs(t.retryAfterMs)}, more than vouch waits (${secs(patience)})`;
      // A try needs some of the budget left after the wait (a stall's worth, at most 100 ms), or it could only time out.
      else if (elapsed + wait + Math.min(policy.stallMs, 100) > policy.totalMs) stop = `; the ${secs(policy.totalMs)} retry budget is spent`;
      if (stop !== undefined) {
        const code = e instanceof RetryableTokenStatus ? 'REGISTRY_ERROR' : 'NETWORK_ERROR';
        throw new TokenServerError(code, `${ctx.what}: the token server ${host} ${what} (gave up after ${tries} ${tries === 1 ? 'try' : 'tries'} in ${secs(elapsed)}${stop})`, { cause: e });
      }
      await sleep(wait, ctx.signal);
    }
  }
}

/** One try: the request (redirects followed by hand), the status, the body within the deadline, the token. */
async function tokenOnce(start: URL, init: RequestInit, ctx: TokenFetchContext, deadlineAt: number): Promise<CachedToken> {
  let url = start;
  let headers = init.headers as Record<string, string>;
  for (let hop = 0; ; hop++) {
    const res = await fetchWithStallTimeout(url, { ...init, headers }, ctx.retry.stallMs, ctx.signal, { deadlineMs: Math.max(1, deadlineAt - Date.now()) });
    const host = sanitizeLine(url.host);
    if (REDIRECT_STATUSES.has(res.status)) {
      await discard(res);
      // The refresh grant's body is a credential: not replayed to wherever a redirect points.
      if (init.method !== 'GET') throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the token server ${host} redirected the token request (HTTP ${res.status}); a refresh-token request is not followed`);
      const location = res.headers.get('location');
      let next: URL;
      try {
        next = new URL(location ?? '', url);
      } catch {
        throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the token server ${host} redirected to a malformed URL`);
      }
      if (!location) throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the token server ${host} redirected (HTTP ${res.status}) without a Location`);
      if (hop >= MAX_TOKEN_REDIRECTS) {
        throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the token server ${sanitizeLine(start.host)} redirected more than ${MAX_TOKEN_REDIRECTS} times (last to ${sanitizeLine(next.host)}): a redirect loop`);
      }
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && allowsPlainHttp(next.host, ctx.insecureRegistries))) {
        throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the token server ${host} redirected to ${sanitizeLine(next.origin)}: not HTTPS`);
      }
      // Basic credentials stay with the realm's origin.
      if (next.origin !== start.origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'authorization'));
      url = next;
      continue;
    }
    if (isRetryableStatus(res.status)) {
      await discard(res);
      throw new RetryableTokenStatus(res.status, parseRetryAfter(res.headers.get('retry-after')));
    }
    if (res.status === 401 || res.status === 403) {
      await discard(res);
      throw new TokenServerError(
        res.status === 401 ? 'UNAUTHORIZED' : 'DENIED',
        `${ctx.what}: the token server ${host} refused ${ctx.credentialSource} (HTTP ${res.status})`,
      );
    }
    if (res.status !== 200) {
      await discard(res);
      throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the token server ${host} answered HTTP ${res.status}`);
    }
    const body = await readLimited(res, MAX_TOKEN_BYTES, `${ctx.what}: the token server ${host}: token response`, url);
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = JSON.parse(body.toString('utf8')) as typeof json;
    } catch {
      throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the token server ${host} answered something that is not JSON`);
    }
    const token = typeof json?.token === 'string' && json.token ? json.token : typeof json?.access_token === 'string' ? json.access_token : '';
    if (!token) throw new TokenServerError('REGISTRY_ERROR', `${ctx.what}: the token server ${host} returned no token`);
    const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_EXPIRES_IN_S;
    const lifetimeMs = expiresIn * 1000;
    // Expire early, by 10% (at most 30 s), so a token never dies in flight. Our clock, not issued_at: clocks disagree.
    return { token, expiresAt: Date.now() + lifetimeMs - Math.min(30_000, lifetimeMs / 10) };
  }
}
