/**
 * HTTP plumbing shared by the registry client and the token fetcher: bounded
 * retries with exponential backoff and jitter, Retry-After, bounded body reads,
 * and network failures turned into one-line NETWORK_ERRORs.
 */
import { VouchError } from '../../errors.js';
import { sanitizeLine } from '../../util/sanitize.js';

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error is reported instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

/** Statuses worth another try: rate limiting and transient server trouble (not 501, which will not change). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Codes of errors (anywhere in the cause chain) after which the same request may well succeed. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export function errorCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 8; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_INVALID_STATE') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isAbortError(e: unknown): boolean {
  return (e as { name?: unknown })?.name === 'AbortError' || (e as { name?: unknown })?.name === 'TimeoutError';
}

export function isRetryableNetworkError(e: unknown): boolean {
  if (isAbortError(e) || e instanceof VouchError) return false;
  const code = errorCode(e);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** Exponential backoff with "equal jitter": half fixed, half random, so clients do not retry in lock step. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Frees the connection of a response we will not read. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    /* already closed */
  }
}

/** One line for a failed connection, with a hint when the likely cause is known. */
export function networkError(e: unknown, url: URL): VouchError {
  const code = errorCode(e);
  const raw = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
  let hint = '';
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' || /wrong version number/i.test(raw)) {
    hint = `; if ${url.host} serves plain HTTP, allow it with --insecure-registry ${url.host}`;
  } else if (code === 'ENOTFOUND') {
    hint = '; check the registry name';
  }
  const detail = sanitizeLine(code && !raw.includes(code) ? `${code}: ${raw}` : raw).slice(0, 200);
  return new VouchError('NETWORK_ERROR', `cannot reach ${url.protocol}//${url.host}: ${detail}${hint}`, { cause: e });
}

/**
 * Runs `send` until it yields a response that is not worth retrying, or the
 * attempts run out (then the last response is returned for the caller to turn
 * into an error). Network errors that are not retryable, or that persist,
 * become NETWORK_ERROR. Only idempotent requests (GET/HEAD/token) go through here.
 */
export async function withRetries(
  send: () => Promise<Response>,
  url: URL,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await send();
    } catch (e) {
      if (isAbortError(e) || e instanceof VouchError) throw e;
      if (attempt < policy.attempts && isRetryableNetworkError(e)) {
        await sleep(backoffDelay(attempt - 1, policy), signal);
        continue;
      }
      throw networkError(e, url);
    }
    if (!isRetryableStatus(res.status) || attempt >= policy.attempts) return res;
    const after = parseRetryAfter(res.headers.get('retry-after'));
    if (after !== undefined && after > policy.maxRetryAfterMs) return res;
    await discard(res);
    await sleep(after ?? backoffDelay(attempt - 1, policy), signal);
  }
}

/** Reads a whole body, refusing more than `limit` bytes (checked against Content-Length first, then as it streams). */
export async function readLimited(res: Response, limit: number, what: string, url: URL): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await discard(res);
    throw new VouchError('LIMIT_EXCEEDED', `${what}: ${declared} bytes is more than the ${limit} allowed`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw new VouchError('LIMIT_EXCEEDED', `${what}: more than the ${limit} bytes allowed`);
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } catch (e) {
    if (e instanceof VouchError || isAbortError(e)) throw e;
    throw networkError(e, url);
  }
  return Buffer.concat(chunks, total);
}
