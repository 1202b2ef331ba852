/**
 * HTTP plumbing shared by the registry client and the token fetcher: the
 * retry policy (backoff with jitter, Retry-After, a total time budget), the
 * stall timeout, bounded body reads, and network failures turned into one-line
 * NETWORK_ERRORs.
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
  /**
   * Retrying one request (a manifest, a blob and its resumed downloads) stops
   * this long after its first try was sent: no try starts past it, so the whole
   * operation ends within it plus at most one stall timeout. A blob download
   * that makes progress restarts it (its wall time is bounded by `blobMaxMs`).
   */
  totalMs: number;
  /** A connection that sends nothing (no headers, or no body bytes while we wait for them) this long is dropped and retried. */
  stallMs: number;
  /**
   * A streamed blob download slower than this (bytes/s, over each `rateWindowMs` spent waiting on the server) is
   * dropped and resumed like a stall: a registry that trickles bytes cannot hold us forever. 0 turns it off.
   * Other reads (manifests, configs, tag lists) must complete within `totalMs` each.
   */
  minRate: number;
  rateWindowMs: number;
  /**
   * A blob download (resumes included) that is not complete this long after its first request is abandoned:
   * a registry that sends just above `minRate` for a blob it says is huge cannot hold a run for hours.
   */
  blobMaxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000, totalMs: 60_000, stallMs: 30_000, minRate: 10 * 1024, rateWindowMs: 30_000, blobMaxMs: 15 * 60_000 };

const ENV_KEYS: Record<string, keyof RetryPolicy> = {
  attempts: 'attempts',
  base: 'baseDelayMs',
  max: 'maxDelayMs',
  'retry-after': 'maxRetryAfterMs',
  total: 'totalMs',
  stall: 'stallMs',
  minrate: 'minRate',
  ratewindow: 'rateWindowMs',
  blobmax: 'blobMaxMs',
};

/**
 * The retry policy from VOUCH_REGISTRY_RETRY, e.g. "total=2000,stall=300,base=10"
 * (milliseconds; attempts is a count): lets CI and slow links tune it without a
 * flag on every command. Unknown keys or bad numbers are a USAGE error.
 */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<RetryPolicy> {
  const raw = env.VOUCH_REGISTRY_RETRY?.trim();
  if (!raw) return {};
  const out: Partial<RetryPolicy> = {};
  for (const part of raw.split(',')) {
    const m = /^\s*([a-z-]+)\s*=\s*(\d{1,9})\s*$/.exec(part);
    const key = m ? ENV_KEYS[m[1]!] : undefined;
    if (!m || !key) {
      // A known key with a unit ("total=5s") is the usual slip: say what the number must be.
      // "attempts=5;total=100": two settings in one part; the separator is the mistake, not the number.
      if (/=.*[;\s]\s*[a-z-]+\s*=/.test(part)) throw new VouchError('USAGE', `VOUCH_REGISTRY_RETRY: ${JSON.stringify(sanitizeLine(part.slice(0, 60)))}: separate the settings with commas (attempts=5,total=100)`);
      const known = /^\s*([a-z-]+)\s*=/.exec(part)?.[1];
      if (known && ENV_KEYS[known]) {
        throw new VouchError('USAGE', `VOUCH_REGISTRY_RETRY: ${JSON.stringify(sanitizeLine(part.slice(0, 60)))}: ${known} takes a whole number${known === 'attempts' ? '' : known === 'minrate' ? ' of bytes per second' : ' of milliseconds'}, no unit`);
      }
      throw new VouchError('USAGE', `VOUCH_REGISTRY_RETRY: ${JSON.stringify(sanitizeLine(part.slice(0, 60)))} is not one of ${Object.keys(ENV_KEYS).map((k) => `${k}=N`).join(', ')}`);
    }
    const n = Number(m[2]);
    if (key === 'attempts' || key === 'stallMs' || key === 'rateWindowMs' || key === 'blobMaxMs' ? n < 1 : false) throw new VouchError('USAGE', `VOUCH_REGISTRY_RETRY: ${m[1]} must be at least 1`);
    out[key] = n;
  }
  return out;
}

/** A connection that went quiet: treated like a dropped one (retried, or resumed for a blob). */
export class StallError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(message: string) {
    super(message);
    this.name = 'StallError';
  }
}

/** Bounds on a whole response, beyond the stall timer (see RetryPolicy.minRate). */
export type ResponseBound =
  /** The headers and the whole body within this many ms of the request (a manifest, a config: small). */
  | { deadlineMs: number }
  /** A streamed blob: at least `bytesPerSec` over each `windowMs` spent waiting on the server (our consumer's time not counted). */
  | { bytesPerSec: number; windowMs: number };

/**
 * fetch, with the connection dropped (StallError) when no headers come within
 * `stallMs`, or when a read of the body waits that long for bytes. The timer
 * runs only while we wait on the server, never while our consumer is busy.
 * `bound` also drops a response that trickles: past its deadline, or slower than its rate.
 */
export async function fetchWithStallTimeout(url: URL, init: RequestInit, stallMs: number, signal?: AbortSignal, bound?: ResponseBound): Promise<Response> {
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort(signal!.reason);
  if (signal?.aborted) throw signal.reason;
  signal?.addEventListener('abort', onAbort, { once: true });
  const secs = `${Number((stallMs / 1000).toFixed(3))} s`;
  let timer: NodeJS.Timeout | undefined;
  const arm = (what: string): void => {
    timer = setTimeout(() => ctl.abort(new StallError(`${what} within ${secs}`)), stallMs);
  };
  // Armed before the deadline: a try that starts as the budget runs out gets a deadline of exactly one stall, and of
  // two timers due at the same moment the one set first fires first. Nothing came at all: that is what it says.
  arm('no response');
  // A stall timer re-armed on every read cannot stop a server that sends a byte just before it fires.
  let deadline: NodeJS.Timeout | undefined;
  if (bound && 'deadlineMs' in bound) {
    deadline = setTimeout(() => ctl.abort(new StallError(`response not complete within ${Number((bound.deadlineMs / 1000).toFixed(3))} s`)), bound.deadlineMs);
    // Not what keeps the process alive: an unread body must not hold it open.
    deadline.unref();
  }
  const rate = bound && 'bytesPerSec' in bound && bound.bytesPerSec > 0 ? bound : undefined;
  let waitedMs = 0;
  let windowBytes = 0;
  const release = (): void => {
    clearTimeout(deadline);
    signal?.removeEventListener('abort', onAbort);
  };
  const stalled = (e: unknown): unknown => (ctl.signal.reason instanceof StallError ? ctl.signal.reason : e);
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: ctl.signal });
  } catch (e) {
    release();
    throw stalled(e);
  } finally {
    clearTimeout(timer);
  }
  if (!res.body) {
    release();
    return res;
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        arm('no data');
        const t0 = Date.now();
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            c.close();
          } else {
            if (rate) {
              waitedMs += Date.now() - t0;
              windowBytes += value.length;
              if (waitedMs >= rate.windowMs) {
                if ((windowBytes * 1000) / waitedMs < rate.bytesPerSec) {
                  throw new StallError(`slower than ${rate.bytesPerSec} bytes/s (${windowBytes} bytes in ${Number((waitedMs / 1000).toFixed(1))} s)`);
                }
                waitedMs = 0;
                windowBytes = 0;
              }
            }
            c.enqueue(value);
          }
        } catch (e) {
          release();
          if (e instanceof StallError) await reader.cancel(e).catch(() => {});
          c.error(stalled(e));
        } finally {
          clearTimeout(timer);
        }
      },
      async cancel(reason) {
        clearTimeout(timer);
        release();
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

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
  // A body shorter or longer than its Content-Length: a cut or lying connection, worth asking again.
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** Codes of a connection that was made and then lost (not "cannot reach"). */
const BROKEN_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);

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
  if (e instanceof StallError) return new VouchError('NETWORK_ERROR', `${url.protocol}//${url.host} stalled: ${sanitizeLine(e.message)}`, { cause: e });
  if (code !== undefined && BROKEN_CONNECTION.has(code)) return new VouchError('NETWORK_ERROR', `the connection to ${url.protocol}//${url.host} broke: ${detail}`, { cause: e });
  return new VouchError('NETWORK_ERROR', `cannot reach ${url.protocol}//${url.host}: ${detail}${hint}`, { cause: e });
}

/**
 * Runs `send` until it yields a response that is not worth retrying, or the
 * attempts or the time budget (from the first try) run out (then the last
 * response is returned for the caller to turn into an error). Used for
 * registry writes: a retryable status is always tried again (the registry
 * said it did not do it); a broken or stalled connection only when `idempotent`
 * (the write may have landed: sending it again must do no harm). Other network
 * errors become NETWORK_ERROR. Registry reads retry whole in client.ts, token fetches in auth.ts.
 */
export async function withRetries(
  send: () => Promise<Response>,
  url: URL,
  policy: RetryPolicy,
  signal?: AbortSignal,
  opts: { idempotent?: boolean } = {},
): Promise<Response> {
  const since = Date.now();
  const idempotent = opts.idempotent ?? true;
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await send();
    } catch (e) {
      if (isAbortError(e) || e instanceof VouchError) throw e;
      const wait = backoffDelay(attempt - 1, policy);
      if (idempotent && attempt < policy.attempts && isRetryableNetworkError(e) && Date.now() + wait - since <= policy.totalMs) {
        await sleep(wait, signal);
        continue;
      }
      throw networkError(e, url);
    }
    if (!isRetryableStatus(res.status) || attempt >= policy.attempts) return res;
    const after = parseRetryAfter(res.headers.get('retry-after'));
    if (after !== undefined && after > policy.maxRetryAfterMs) return res;
    const wait = after ?? backoffDelay(attempt - 1, policy);
    if (Date.now() + wait - since > policy.totalMs) return res;
    await discard(res);
    await sleep(wait, signal);
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
