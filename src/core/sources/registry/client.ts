/**
 * A client for one registry (distribution API v2): manifests, blobs, tags and
 * referrers, with token / basic auth, retries and hand-followed redirects.
 *
 * Invariants that matter for security:
 * - the Authorization header only ever goes to the registry's own origin,
 *   never to a host a redirect points at (blob storage, CDNs);
 * - plain HTTP only for loopback or explicitly insecure registries, for the
 *   registry, its token realm and any redirect target alike;
 * - every manifest and blob is checked against its digest; bodies are bounded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { DigestMismatchError, SizeMismatchError, VouchError } from '../../errors.js';
import { digestOf, isDigest, parseDigest, verifyBytes, VerifyingStream } from '../../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseJsonBytes, validateDescriptor } from '../../oci/manifest.js';
import { MANIFEST_ACCEPT, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, ImageIndex } from '../../oci/types.js';
import { sanitizeLine } from '../../util/sanitize.js';
import { basicAuthorization, fetchBearerToken, parseWwwAuthenticate, pickChallenge, TokenCache, TokenServerError, type AuthChallenge } from './auth.js';
import { dockerConfigCredentials, type CredentialLookup, type CredentialProvider } from './credentials.js';
import { allowsPlainHttp, registryBaseUrl } from './endpoint.js';
import {
  backoffDelay,
  DEFAULT_RETRY,
  discard,
  fetchWithStallTimeout,
  isAbortError,
  isRetryableNetworkError,
  isRetryableStatus,
  networkError,
  parseRetryAfter,
  readLimited,
  retryPolicyFromEnv,
  sleep,
  withRetries,
  type RetryPolicy,
} from './http.js';
/** Registry error bodies are read for their message only. */
const MAX_ERROR_BODY_BYTES = 64 << 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Tries of a manifest PUT the registry answers with MANIFEST_BLOB_UNKNOWN (see putManifest). */
const MAX_BLOB_UNKNOWN_RETRIES = 4;
/** Times a blob download cut mid-body is resumed with a Range request before the error stands. */
const MAX_BLOB_RESUMES = 5;

export interface RegistryClientOptions {
  /** Registries (host[:port], or host for any port) that may be reached over plain HTTP. */
  insecureRegistries?: readonly string[];
  /** Where credentials come from; default: the docker config file. Asked only when the registry challenges. */
  credentials?: CredentialProvider;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  userAgent?: string;
  maxRedirects?: number;
}

export interface ManifestResponse {
  bytes: Buffer;
  /** Content-Type as served (parameters dropped); may be empty. */
  contentType: string;
  /** Digest of `bytes` (verified against a pinned digest and against Docker-Content-Digest). */
  digest: string;
}

export interface ManifestHead {
  contentType: string;
  /** Docker-Content-Digest, when the registry sends it (or the digest asked for). */
  digest?: string;
  size?: number;
}

/**
 * A failure worth another try, and how long the registry asked us to wait.
 * `once`: wrong bytes (digest or size) — one fresh download, never more.
 */
interface Transient {
  retryAfterMs?: number;
  once?: boolean;
}
const TRANSIENT = new WeakMap<object, Transient>();

function markTransient<E extends Error>(e: E, t: Transient = {}): E {
  TRANSIENT.set(e, t);
  return e;
}

/** How a failed try should be treated: retried (with what wait), retried once, or final. */
function transientOf(e: unknown): Transient | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const marked = TRANSIENT.get(e);
  if (marked) return marked;
  if (isAbortError(e)) return undefined;
  // The token fetch retried within its own budget already.
  if (e instanceof TokenServerError) return undefined;
  if (e instanceof DigestMismatchError || e instanceof SizeMismatchError) return { once: true };
  if (e instanceof VouchError) return e.code === 'NETWORK_ERROR' && isRetryableNetworkError(e.cause) ? {} : undefined;
  return isRetryableNetworkError(e) ? {} : undefined;
}

/** "; the registry asks to retry in N s" when a 429 or 5xx carries a Retry-After. */
function retryAfterText(res: Response): string {
  const after = parseRetryAfter(res.headers.get('retry-after'));
  return after !== undefined ? `; the registry asks to retry in ${Math.ceil(after / 1000)} s` : '';
}

/**
 * When the retry budget of the operation a request belongs to ends (ms since the epoch): a small read's
 * deadline never runs more than one stall timeout past it, so a try started late cannot double the wait.
 */
const budgetEnd = new AsyncLocalStorage<number>();

/** Why retrying stopped, for the final message. */
type StopReason = 'attempts' | 'time' | 'retry-after' | 'wrong-bytes';

// Under 0.1 s in milliseconds: "the 0 s retry budget" reads as no budget at all.
const secs = (ms: number): string => (ms < 100 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`);

/**
 * The retries one request may still make: `attempts` tries, none started more
 * than `totalMs` after the first was sent, one fresh try after wrong bytes. A
 * blob's resumed downloads share it (they are bounded by count and time, not
 * attempts); a resume after progress restarts the clock (`progressed`).
 */
class RetryBudget {
  private tries = 1;
  /** When the operation's first request went out: what its message's figures count from. */
  private readonly started = Date.now();
  /** What the time budget counts from. */
  private since = this.started;
  private wrongBytes = 0;
  stop: { reason: StopReason; detail?: number } | undefined;
  constructor(private readonly policy: RetryPolicy) {}

  /** When no more tries may start. */
  get endsAt(): number {
    return this.since + this.policy.totalMs;
  }

  /** A blob download moved on since its last failure: its next failures get a whole budget again. */
  progressed(): void {
    this.since = Date.now();
  }

  /** The wait before another try after failure `t`, or undefined (and `stop` set) when there is none. */
  next(t: Transient, countsAsAttempt = true): number | undefined {
    const now = Date.now();
    if (t.once && this.wrongBytes++ > 0) return this.stopAt('wrong-bytes');
    if (countsAsAttempt && this.tries >= this.policy.attempts) return this.stopAt('attempts');
    if (t.retryAfterMs !== undefined && t.retryAfterMs > Math.min(this.policy.maxRetryAfterMs, this.policy.totalMs)) return this.stopAt('retry-after', t.retryAfterMs);
    const wait = t.retryAfterMs ?? backoffDelay(this.tries - 1, this.policy);
    if (now + wait - this.since > this.policy.totalMs) return this.stopAt('time');
    this.tries++;
    return wait;
  }

  private stopAt(reason: StopReason, detail?: number): undefined {
    this.stop = { reason, ...(detail !== undefined ? { detail } : {}) };
    return undefined;
  }

  /** "5 tries in 1.2 s", with why it stopped when that is not plain exhaustion. */
  spent(): string {
    const took = `${this.tries} ${this.tries === 1 ? 'try' : 'tries'} in ${secs(Date.now() - this.started)}`;
    switch (this.stop?.reason) {
      case 'time':
        return `${took}; the ${secs(this.policy.totalMs)} retry budget is spent`;
      case 'retry-after':
        // The wait asked for is in the response's own line ("asks to retry in N s"): said once.
        return `${took}; that is more than vouch waits (${secs(Math.min(this.policy.maxRetryAfterMs, this.policy.totalMs))})`;
      case 'wrong-bytes':
        return `${took}; wrong bytes twice`;
      default:
        return took;
    }
  }
}

/** What a request is about, for error messages. */
interface Subject {
  repo: string;
  kind: 'manifest' | 'blob' | 'tags' | 'referrers' | 'upload';
  /** Tag or digest. */
  reference?: string;
}

const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function checkRepo(repo: string): void {
  if (!REPO.test(repo) || repo.length > 255) throw new VouchError('INVALID_REFERENCE', `invalid repository name ${JSON.stringify(sanitizeLine(repo.slice(0, 100)))}`);
}

function checkReference(reference: string): void {
  if (isDigest(reference)) return;
  if (!TAG.test(reference)) throw new VouchError('INVALID_REFERENCE', `invalid tag or digest ${JSON.stringify(sanitizeLine(reference.slice(0, 140)))}`);
}

function bareContentType(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?next"?/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

export class RegistryClient {
  /** The registry as references name it ("docker.io", "127.0.0.1:5000"). */
  readonly registry: string;
  /** Where its API lives ("https://registry-1.docker.io"). */
  readonly baseUrl: URL;
  private readonly insecure: readonly string[];
  private readonly credentialProvider: CredentialProvider;
  private readonly retry: RetryPolicy;
  private readonly signal: AbortSignal | undefined;
  private readonly userAgent: string;
  private readonly maxRedirects: number;
  private readonly tokens = new TokenCache();
  /** The registry's challenge, learned from its first 401, so later requests authenticate up front. */
  private challenge: AuthChallenge | undefined;
  private lookup: Promise<CredentialLookup> | undefined;

  constructor(registry: string, opts: RegistryClientOptions = {}) {
    this.registry = registry;
    this.insecure = opts.insecureRegistries ?? [];
    this.baseUrl = registryBaseUrl(registry, this.insecure);
    this.credentialProvider = opts.credentials ?? dockerConfigCredentials();
    this.retry = { ...DEFAULT_RETRY, ...retryPolicyFromEnv(), ...opts.retry };
    this.signal = opts.signal;
    this.userAgent = opts.userAgent ?? 'vouch/0.1';
    this.maxRedirects = opts.maxRedirects ?? 10;
  }

  /** Manifest or index by tag or digest, verified: a digest reference must match the bytes, and so must Docker-Content-Digest. */
  async getManifest(repo: string, reference: string, opts: { accept?: string; maxBytes?: number } = {}): Promise<ManifestResponse> {
    checkRepo(repo);
    checkReference(reference);
    const subject: Subject = { repo, kind: 'manifest', reference };
    return this.retrying(subject, () => this.getManifestOnce(subject, opts));
  }

  private async getManifestOnce(subject: Subject, opts: { accept?: string; maxBytes?: number }): Promise<ManifestResponse> {
    const { repo } = subject;
    const reference = subject.reference!;
    const { res, url } = await this.request(subject, `/v2/${repo}/manifests/${reference}`, 'GET', opts.accept ?? MANIFEST_ACCEPT);
    if (res.status !== 200) throw await this.responseError(res, subject);
    const what = `manifest ${this.name(repo)}${isDigest(reference) ? '@' : ':'}${reference}`;
    const bytes = await readLimited(res, opts.maxBytes ?? MAX_MANIFEST_BYTES, what, url);
    const headerDigest = res.headers.get('docker-content-digest')?.trim();
    let digest: string;
    if (isDigest(reference)) {
      verifyBytes(bytes, reference, what);
      digest = reference;
    } else {
      digest = digestOf(bytes);
    }
    if (headerDigest) {
      const { algorithm } = parseDigest(headerDigest, `${what}: Docker-Content-Digest`);
      const actual = digestOf(bytes, algorithm);
      if (actual !== headerDigest) throw new DigestMismatchError(`${what} (Docker-Content-Digest)`, headerDigest, actual);
      if (isDigest(reference) && headerDigest !== reference && parseDigest(reference).algorithm === algorithm) {
        throw new DigestMismatchError(what, reference, headerDigest);
      }
    }
    return { bytes, contentType: bareContentType(res), digest };
  }

  /** HEAD a manifest: its digest and type without the body (cheap checks for "has this tag moved?"). */
  async headManifest(repo: string, reference: string, opts: { accept?: string } = {}): Promise<ManifestHead> {
    checkRepo(repo);
    checkReference(reference);
    const subject: Subject = { repo, kind: 'manifest', reference };
    const { res } = await this.retrying(subject, async () => {
      const r = await this.request(subject, `/v2/${repo}/manifests/${reference}`, 'HEAD', opts.accept ?? MANIFEST_ACCEPT);
      if (r.res.status !== 200) throw await this.responseError(r.res, subject);
      return r;
    });
    await discard(res);
    const headerDigest = res.headers.get('docker-content-digest')?.trim();
    if (headerDigest) parseDigest(headerDigest, `manifest ${this.name(repo)}:${reference}: Docker-Content-Digest`);
    const size = Number(res.headers.get('content-length') ?? NaN);
    return {
      contentType: bareContentType(res),
      ...(headerDigest ? { digest: headerDigest } : isDigest(reference) ? { digest: reference } : {}),
      ...(Number.isSafeInteger(size) ? { size } : {}),
    };
  }

  /** A small blob (a config, a signature payload) read whole, bounded, and verified. */
  async fetchBlob(repo: string, digest: string, opts: { size?: number; maxBytes: number }): Promise<Buffer> {
    checkRepo(repo);
    parseDigest(digest, 'blob digest');
    const subject: Subject = { repo, kind: 'blob', reference: digest };
    const what = `blob ${digest} of ${this.name(repo)}`;
    if (opts.size !== undefined && opts.size > opts.maxBytes) {
      throw new VouchError('LIMIT_EXCEEDED', `${what}: ${opts.size} bytes is more than the ${opts.maxBytes} allowed`);
    }
    return this.retrying(subject, async () => {
      const { res, url } = await this.request(subject, `/v2/${repo}/blobs/${digest}`, 'GET');
      if (res.status !== 200) throw await this.responseError(res, subject);
      const bytes = await readLimited(res, opts.maxBytes, what, url);
      verifyBytes(bytes, digest, what, opts.size);
      return bytes;
    });
  }

  /** HEAD a blob: its size as the registry reports it, or undefined when the registry does not have it (404). */
  async blobSize(repo: string, digest: string): Promise<number | undefined> {
    checkRepo(repo);
    parseDigest(digest, 'blob digest');
    const subject: Subject = { repo, kind: 'blob', reference: digest };
    const { res } = await this.retrying(subject, async () => {
      const r = await this.request(subject, `/v2/${repo}/blobs/${digest}`, 'HEAD');
      if (r.res.status !== 200 && r.res.status !== 404) throw await this.responseError(r.res, subject);
      return r;
    });
    await discard(res);
    if (res.status === 404) return undefined;
    const n = Number(res.headers.get('content-length') ?? NaN);
    if (!Number.isSafeInteger(n) || n < 0) throw new VouchError('REGISTRY_ERROR', `blob ${digest} of ${this.name(repo)}: HEAD gave no size`);
    return n;
  }

  /**
   * A blob as a stream that verifies digest (and size, when given) as it goes:
   * it errors instead of ending when the bytes are wrong. Destroying it
   * cancels the download.
   */
  async openBlob(repo: string, digest: string, size?: number): Promise<Readable> {
    checkRepo(repo);
    parseDigest(digest, 'blob digest');
    const subject: Subject = { repo, kind: 'blob', reference: digest };
    const what = `blob ${digest} of ${this.name(repo)}`;
    const path = `/v2/${repo}/blobs/${digest}`;
    const budget = this.budget();
    const started = Date.now();
    const { res, url } = await this.retrying(
      subject,
      async () => {
        const r = await this.request(subject, path, 'GET');
        if (r.res.status !== 200) throw await this.responseError(r.res, subject);
        const declared = Number(r.res.headers.get('content-length') ?? NaN);
        if (size !== undefined && Number.isSafeInteger(declared) && declared !== size && !r.res.headers.get('content-encoding')) {
          await discard(r.res);
          // A Content-Length other than the descriptor's: the answer is wrong before any byte is read; ask again.
          throw markTransient(new SizeMismatchError(`${what}: Content-Length`, size, declared));
        }
        return r;
      },
      budget,
    );
    const verifying = new VerifyingStream(digest, what, size);
    // A connection lost mid-body is resumed where it stopped with a Range request (the bytes still go through
    // the same verifier, so a server that answers with other bytes fails the digest), up to MAX_BLOB_RESUMES times.
    let received = 0;
    let receivedAtFailure = 0;
    let resumes = 0;
    let current: Readable | undefined;
    // A registry can send just above the rate floor for a blob it says is huge: the whole download (resumes
    // included) has a wall-time cap, counted from its first request, so a run ends with a line instead of hours of silence.
    const cap = setTimeout(() => {
      if (verifying.destroyed) return;
      verifying.destroy(
        new VouchError('NETWORK_ERROR', `${what}: download not complete within ${secs(this.retry.blobMaxMs)} (${received} of ${size ?? '?'} bytes; VOUCH_REGISTRY_RETRY blobmax= raises it)`),
      );
    }, Math.max(0, this.retry.blobMaxMs - (Date.now() - started)));
    // Not what keeps the process alive: the download's socket is.
    cap.unref();
    verifying.once('close', () => {
      clearTimeout(cap);
      if (current && !current.destroyed) current.destroy();
    });
    const attach = (r: Response, at: URL, skip: number): void => {
      if (!r.body) {
        verifying.end();
        return;
      }
      const source = Readable.fromWeb(r.body as unknown as NodeWebReadableStream<Uint8Array>);
      current = source;
      let toSkip = skip;
      source.on('data', (chunk: Buffer) => {
        if (verifying.destroyed) return;
        if (toSkip > 0) {
          if (chunk.length <= toSkip) {
            toSkip -= chunk.length;
            return;
          }
          chunk = chunk.subarray(toSkip);
          toSkip = 0;
        }
        received += chunk.length;
        if (!verifying.write(chunk)) {
          source.pause();
          verifying.once('drain', () => source.resume());
        }
      });
      source.once('end', () => verifying.end());
      source.once('error', (e) => {
        if (verifying.destroyed) return;
        if (e instanceof VouchError || isAbortError(e)) {
          verifying.destroy(e);
          return;
        }
        if (received > receivedAtFailure) budget.progressed();
        receivedAtFailure = received;
        const wait = budget.next(transientOf(e) ?? {}, false);
        if (resumes >= MAX_BLOB_RESUMES || wait === undefined) {
          const n = networkError(e, at);
          verifying.destroy(
            new VouchError('NETWORK_ERROR', `${what}: connection lost after ${received} of ${size ?? '?'} bytes and ${resumes} resumed downloads (${budget.spent()}): ${n.message}`, { cause: e }),
          );
          return;
        }
        resumes++;
        sleep(wait, this.signal)
          .then(() => this.retrying(subject, () => this.resumeBlob(subject, path, received), budget))
          .then(
            (next) => {
              if (verifying.destroyed) {
                void discard(next.res);
                return;
              }
              attach(next.res, next.url, next.skip);
            },
            (err: unknown) => {
              if (!verifying.destroyed) verifying.destroy(err instanceof Error ? err : new Error(String(err)));
            },
          );
      });
    };
    attach(res, url, 0);
    return verifying;
  }

  /** GET the rest of a blob from byte `from`: a 206 must start there; a 200 (Range ignored) is skipped up to it. */
  private async resumeBlob(subject: Subject, path: string, from: number): Promise<{ res: Response; url: URL; skip: number }> {
    const { res, url } = await this.request(subject, path, 'GET', undefined, { range: `bytes=${from}-` });
    if (res.status === 200) return { res, url, skip: from };
    if (res.status === 206) {
      const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (m && Number(m[1]) === from) return { res, url, skip: 0 };
      await discard(res);
      throw new VouchError('REGISTRY_ERROR', `blob ${subject.reference} of ${this.name(subject.repo)}: resumed download answered with range ${JSON.stringify(sanitizeLine(res.headers.get('content-range') ?? '').slice(0, 80))}, not from byte ${from}`);
    }
    throw await this.responseError(res, subject);
  }

  /** All tags of a repository, following `Link: <…>; rel="next"` pagination. */
  async listTags(repo: string, opts: { pageSize?: number; maxPages?: number } = {}): Promise<string[]> {
    checkRepo(repo);
    const subject: Subject = { repo, kind: 'tags' };
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ''}`;
    const seen = new Set<string>();
    for (let page = 0; path !== undefined; page++) {
      if (page >= (opts.maxPages ?? 1000) || seen.has(path)) throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: tag list pagination does not end`);
      seen.add(path);
      const pagePath: string = path;
      const { res, url, body } = await this.retrying(subject, async () => {
        const r = await this.request(subject, pagePath, 'GET', 'application/json');
        if (r.res.status !== 200) throw await this.responseError(r.res, subject);
        return { ...r, body: await readLimited(r.res, 16 << 20, `${this.name(repo)}: tag list`, r.url) };
      });
      let doc: { tags?: unknown };
      try {
        doc = JSON.parse(body.toString('utf8')) as { tags?: unknown };
      } catch {
        throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: tag list is not valid JSON`);
      }
      if (doc.tags !== null && doc.tags !== undefined) {
        if (!Array.isArray(doc.tags)) throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: tag list: tags is not an array`);
        for (const t of doc.tags) if (typeof t === 'string') tags.push(t);
      }
      path = this.samePathLink(res, url, repo);
    }
    return tags;
  }

  /**
   * The OCI 1.1 referrers of a manifest, as an index (pages merged). Undefined
   * when the registry has no referrers API (404), so callers fall back to the
   * `sha256-<hex>` tag schema.
   */
  async getReferrers(repo: string, digest: string, opts: { artifactType?: string } = {}): Promise<ImageIndex | undefined> {
    checkRepo(repo);
    parseDigest(digest, 'subject digest');
    const subject: Subject = { repo, kind: 'referrers', reference: digest };
    const manifests: Descriptor[] = [];
    let path: string | undefined = `/v2/${repo}/referrers/${digest}${opts.artifactType ? `?artifactType=${encodeURIComponent(opts.artifactType)}` : ''}`;
    let filtered = false;
    const seen = new Set<string>();
    let first = true;
    while (path !== undefined) {
      if (seen.size >= 100 || seen.has(path)) throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: referrers pagination does not end`);
      seen.add(path);
      const what = `referrers of ${this.name(repo)}@${digest}`;
      const page: string = path;
      const { res, url, body } = await this.retrying(subject, async () => {
        const r = await this.request(subject, page, 'GET', MediaType.OciIndex);
        if (r.res.status === 404 && first) {
          await discard(r.res);
          return { ...r, body: undefined };
        }
        if (r.res.status !== 200) throw await this.responseError(r.res, subject);
        return { ...r, body: await readLimited(r.res, MAX_MANIFEST_BYTES, what, r.url) };
      });
      if (body === undefined) return undefined;
      first = false;
      const doc = parseJsonBytes(body, what, 'INVALID_MANIFEST', MAX_MANIFEST_BYTES) as { manifests?: unknown } | null;
      if (!Array.isArray(doc?.manifests)) throw new VouchError('INVALID_MANIFEST', `${what}: manifests is not an array`);
      doc.manifests.forEach((d, i) => manifests.push(validateDescriptor(d, what, `manifests[${i}]`)));
      filtered ||= /artifactType/i.test(res.headers.get('oci-filters-applied') ?? '');
      path = this.samePathLink(res, url, repo);
    }
    // A registry that ignored the filter says so by not sending OCI-Filters-Applied.
    const result = opts.artifactType && !filtered ? manifests.filter((d) => d.artifactType === opts.artifactType) : manifests;
    return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: result };
  }

  // ---- push ----

  /** True when the repository already has the blob (HEAD 200). */
  async hasBlob(repo: string, digest: string): Promise<boolean> {
    checkRepo(repo);
    parseDigest(digest, 'blob digest');
    const subject: Subject = { repo, kind: 'blob', reference: digest };
    // A read, so retried: distribution answers 500 to a HEAD while another client's upload of the same blob lands.
    const { res } = await this.retrying(subject, async () => {
      const r = await this.request(subject, `/v2/${repo}/blobs/${digest}`, 'HEAD', undefined, { push: true });
      if (r.res.status !== 200 && r.res.status !== 404) throw await this.responseError(r.res, subject);
      return r;
    });
    await discard(res);
    return res.status === 200;
  }

  /**
   * Upload a blob in one request (POST to open the upload, PUT with the bytes
   * and the digest): attachments are small. Skipped when the blob is there.
   * The PUT closes its upload session, so it is never sent again as it was: after
   * a broken or stalled connection the upload starts over (HEAD first: the lost
   * PUT may have landed). An unused session left behind is harmless (the registry expires it).
   */
  async pushBlob(repo: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
    const digest = digestOf(bytes);
    const budget = this.budget();
    for (;;) {
      try {
        if (await this.hasBlob(repo, digest)) return { digest, size: bytes.length };
        await this.uploadBlobOnce(repo, digest, bytes);
        return { digest, size: bytes.length };
      } catch (e) {
        const lost = e instanceof VouchError && e.code === 'NETWORK_ERROR' && isRetryableNetworkError(e.cause);
        const wait = lost ? budget.next({}) : undefined;
        if (wait === undefined) throw lost ? this.finalError(e, { repo, kind: 'upload', reference: digest }, budget) : e;
        await sleep(wait, this.signal);
      }
    }
  }

  private async uploadBlobOnce(repo: string, digest: string, bytes: Buffer): Promise<void> {
    const subject: Subject = { repo, kind: 'upload', reference: digest };
    const { res, url } = await this.request(subject, `/v2/${repo}/blobs/uploads/`, 'POST', undefined, { push: true, idempotent: true });
    if (res.status !== 202) throw await this.responseError(res, subject);
    await discard(res);
    const location = res.headers.get('location');
    if (!location) throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: blob upload started without a Location`);
    let target: URL;
    try {
      target = new URL(location, url);
    } catch {
      throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: blob upload Location is malformed`);
    }
    // The upload URL carries our Authorization: it must be the registry itself.
    if (target.origin !== this.baseUrl.origin) throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: blob upload Location points to another host (${sanitizeLine(target.host)})`);
    target.searchParams.set('digest', digest);
    const put = await this.request(subject, target.pathname + target.search, 'PUT', undefined, { push: true, body: bytes, contentType: 'application/octet-stream' });
    if (put.res.status !== 201) throw await this.responseError(put.res, subject);
    await discard(put.res);
  }

  /** PUT a manifest (by tag or by its digest); the registry's Docker-Content-Digest must be the digest of our bytes. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<{ digest: string; size: number }> {
    checkRepo(repo);
    checkReference(reference);
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest) throw new DigestMismatchError(`manifest for ${this.name(repo)}`, reference, digest);
    const subject: Subject = { repo, kind: 'upload', reference };
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        ({ res } = await this.request(subject, `/v2/${repo}/manifests/${reference}`, 'PUT', undefined, { push: true, body: bytes, contentType: mediaType, idempotent: true }));
      } catch (e) {
        // A lost connection names what was being written.
        throw this.finalError(e, subject, undefined);
      }
      if (res.status === 201 || res.status === 200) break;
      const e = await this.responseError(res, subject);
      // distribution rewrites a blob's link in place (truncate, then write) when another upload of the same blob lands:
      // a manifest PUT that reads the link then is told the blob is unknown. A little later it is there.
      if (attempt < MAX_BLOB_UNKNOWN_RETRIES && res.status === 400 && /MANIFEST_BLOB_UNKNOWN/.test(e.message)) {
        await sleep(backoffDelay(attempt - 1, this.retry), this.signal);
        continue;
      }
      throw e;
    }
    await discard(res);
    const header = res.headers.get('docker-content-digest')?.trim();
    if (header && header !== digest) throw new DigestMismatchError(`manifest ${this.name(repo)}:${reference} (Docker-Content-Digest)`, digest, header);
    return { digest, size: bytes.length };
  }

  private budget(): RetryBudget {
    return new RetryBudget(this.retry);
  }

  /**
   * Runs one idempotent read (request, body and verification) until it
   * succeeds or its budget is spent. Retried: connection failures and stalls,
   * truncated bodies, 429/5xx (honouring Retry-After), a wrong Content-Length;
   * wrong bytes get one fresh try. The final error is one line naming the
   * manifest or blob and its repository, with the last failure.
   */
  private async retrying<T>(subject: Subject, op: () => Promise<T>, budget: RetryBudget = this.budget()): Promise<T> {
    for (;;) {
      try {
        return await budgetEnd.run(budget.endsAt, op);
      } catch (e) {
        const t = transientOf(e);
        const wait = t ? budget.next(t) : undefined;
        if (wait === undefined) throw this.finalError(e, subject, t ? budget : undefined);
        await sleep(wait, this.signal);
      }
    }
  }

  /** "blob sha256:… of reg/repo", "manifest reg/repo:tag", … */
  private subjectName(subject: Subject): string {
    const name = this.name(subject.repo);
    const ref = subject.reference ?? '';
    switch (subject.kind) {
      case 'manifest':
        return `manifest ${name}${isDigest(ref) ? '@' : ':'}${ref}`;
      case 'blob':
        return `blob ${ref} of ${name}`;
      case 'referrers':
        return `referrers of ${name}@${ref}`;
      case 'tags':
        return `tag list of ${name}`;
      default:
        return `upload of ${ref} to ${name}`;
    }
  }

  private finalError(e: unknown, subject: Subject, budget: RetryBudget | undefined): unknown {
    if (isAbortError(e)) return e;
    // It names the registry, the repository and the token server already.
    if (e instanceof TokenServerError) return e;
    // Wrong bytes keep their type (callers and tests match on it); the message names the blob already.
    if (e instanceof DigestMismatchError || (e instanceof SizeMismatchError && !budget)) return e;
    const base = e instanceof VouchError ? e : networkError(e, this.baseUrl);
    const ref = subject.reference ?? this.name(subject.repo);
    const namesSubject = base.message.includes(ref) && base.message.includes(subject.repo);
    if (!budget && namesSubject) return base;
    if (!budget && base.code !== 'NETWORK_ERROR' && base.code !== 'REGISTRY_ERROR') return base;
    const line = `${namesSubject ? '' : `${this.subjectName(subject)}: `}${base.message}${budget ? ` (gave up after ${budget.spent()})` : ''}`;
    return new VouchError(base.code, line, { cause: e, exitCode: base.exitCode });
  }

  /** "127.0.0.1:5000/repo" for messages. */
  name(repo: string): string {
    return `${this.registry}/${repo}`;
  }

  // ---- plumbing ----

  /** Next page from a Link header, only on the registry itself (a Link elsewhere is ignored, not followed). */
  private samePathLink(res: Response, url: URL, repo: string): string | undefined {
    const link = nextLink(res.headers.get('link'));
    if (!link) return undefined;
    let next: URL;
    try {
      next = new URL(link, url);
    } catch {
      throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: malformed Link header`);
    }
    if (next.origin !== this.baseUrl.origin) throw new VouchError('REGISTRY_ERROR', `${this.name(repo)}: pagination link points to another host (${sanitizeLine(next.host)})`);
    return next.pathname + next.search;
  }

  private credentials(): Promise<CredentialLookup> {
    this.lookup ??= this.credentialProvider(this.registry).catch((e: unknown) => ({
      source: `no credentials for ${this.registry}`,
      problem: e instanceof Error ? sanitizeLine(e.message) : 'credential lookup failed',
    }));
    return this.lookup;
  }

  /** The Authorization value for `scope`, once we know how the registry wants it; undefined means anonymous. */
  private async authorization(scope: string, subject: Subject): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const lookup = await this.credentials();
    const creds = lookup.credentials;
    if (challenge.scheme === 'basic') {
      if (creds?.username !== undefined && creds.password !== undefined) return basicAuthorization(creds.username, creds.password);
      return undefined;
    }
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const realm = challenge.params['realm']!;
    const service = challenge.params['service'];
    const key = TokenCache.key(realm, service, [scope]);
    const cached = this.tokens.get(key);
    if (cached) return `Bearer ${cached}`;
    const token = await fetchBearerToken({ realm, ...(service !== undefined ? { service } : {}), scopes: [scope] }, creds, {
      what: this.name(subject.repo),
      credentialSource: lookup.source + (lookup.problem ? ` (${lookup.problem})` : ''),
      insecureRegistries: this.insecure,
      retry: this.retry,
      ...(this.signal ? { signal: this.signal } : {}),
      userAgent: this.userAgent,
    });
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  /**
   * Sends a request to the registry, authenticating as its challenge asks.
   * A 401 teaches us the challenge (or tells us a cached token went stale);
   * one more try with fresh authorization, then the 401 is the answer.
   */
  private async request(
    subject: Subject,
    path: string,
    method: 'GET' | 'HEAD' | 'POST' | 'PUT',
    accept?: string,
    write: { push?: boolean; body?: Buffer; contentType?: string; range?: string; idempotent?: boolean } = {},
  ): Promise<{ res: Response; url: URL }> {
    const scope = `repository:${subject.repo}:${write.push ? 'pull,push' : 'pull'}`;
    const start = new URL(path, this.baseUrl);
    for (let round = 0; ; round++) {
      const auth = await this.authorization(scope, subject);
      // Blobs (layers, and configs or SBOMs that may be large) get a floor on their rate; other reads a deadline.
      const { res, url } = await this.send(start, method, accept, auth, { ...write, streamed: subject.kind === 'blob' });
      if (res.status !== 401 || url.origin !== this.baseUrl.origin || round > 0) return { res, url };
      const challenge = pickChallenge(parseWwwAuthenticate(res.headers.get('www-authenticate') ?? ''));
      if (!challenge) return { res, url };
      const lookup = await this.credentials();
      const hasCreds = lookup.credentials !== undefined;
      // Basic without credentials cannot get anywhere; let the 401 speak.
      if (challenge.scheme === 'basic' && !hasCreds) return { res, url };
      // Sent fresh basic credentials already and still refused: retrying changes nothing.
      if (challenge.scheme === 'basic' && auth?.startsWith('Basic ')) return { res, url };
      await discard(res);
      this.challenge = challenge;
      if (challenge.scheme === 'bearer' && challenge.params['realm']) {
        this.tokens.delete(TokenCache.key(challenge.params['realm'], challenge.params['service'], [scope]));
      }
    }
  }

  /** One request, redirects followed by hand so that Authorization stays on the registry's origin. */
  private async send(
    start: URL,
    method: 'GET' | 'HEAD' | 'POST' | 'PUT',
    accept: string | undefined,
    auth: string | undefined,
    /** idempotent: a write that may be sent again after its answer was lost (see withRetries). */
    write: { body?: Buffer; contentType?: string; range?: string; streamed?: boolean; idempotent?: boolean } = {},
  ): Promise<{ res: Response; url: URL }> {
    let url = start;
    for (let hop = 0; hop <= this.maxRedirects; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.userAgent };
      if (accept) headers['accept'] = accept;
      if (write.range) headers['range'] = write.range;
      if (write.contentType) headers['content-type'] = write.contentType;
      if (auth && url.origin === this.baseUrl.origin) headers['authorization'] = auth;
      const current = url;
      const body = write.body ?? (method === 'POST' || method === 'PUT' ? Buffer.alloc(0) : undefined);
      const init: RequestInit = { method, headers, redirect: 'manual', ...(body ? { body } : {}) };
      // Reads are retried whole by `retrying` (the body and its digest included), and a silent server is dropped.
      // Writes (small: attachments) have the stall timer too, counted from the request to the answer's headers; they
      // are sent again on 429/5xx, and after a broken or stalled connection only when a second copy does no harm.
      const end = budgetEnd.getStore();
      const deadlineMs = end === undefined ? this.retry.totalMs : Math.min(this.retry.totalMs, Math.max(0, end - Date.now()) + this.retry.stallMs);
      const res =
        method === 'GET' || method === 'HEAD'
          ? await fetchWithStallTimeout(
              current,
              init,
              this.retry.stallMs,
              this.signal,
              write.streamed ? { bytesPerSec: this.retry.minRate, windowMs: this.retry.rateWindowMs } : { deadlineMs },
            )
          : await withRetries(() => fetchWithStallTimeout(current, init, this.retry.stallMs, this.signal), current, this.retry, this.signal, { idempotent: write.idempotent ?? false });
      // Writes are not replayed to wherever a redirect points.
      if (!REDIRECT_STATUSES.has(res.status) || method === 'POST' || method === 'PUT') return { res, url: current };
      const location = res.headers.get('location');
      await discard(res);
      if (!location) throw new VouchError('REGISTRY_ERROR', `${this.registry}: redirect (HTTP ${res.status}) without a Location`);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new VouchError('REGISTRY_ERROR', `${this.registry}: redirect to a malformed URL`);
      }
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && allowsPlainHttp(next.host, this.insecure))) {
        throw new VouchError('REGISTRY_ERROR', `${this.registry}: refusing redirect to ${sanitizeLine(next.protocol + '//' + next.host)}: not HTTPS`);
      }
      url = next;
    }
    throw new VouchError('REGISTRY_ERROR', `${this.registry}: more than ${this.maxRedirects} redirects (last to ${sanitizeLine(url.host)})`);
  }

  /** The registry's own error, from the JSON errors body: "CODE: message", sanitised and short. */
  private async registryErrorText(res: Response): Promise<string> {
    if (!res.body) return '';
    let text: string;
    try {
      text = (await readLimited(res, MAX_ERROR_BODY_BYTES, 'error body', this.baseUrl)).toString('utf8');
    } catch {
      return '';
    }
    try {
      const doc = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
      if (Array.isArray(doc.errors)) {
        const parts = doc.errors.slice(0, 3).map((e) =>
          [typeof e?.code === 'string' ? e.code : '', typeof e?.message === 'string' ? e.message : ''].filter(Boolean).join(': '),
        );
        return sanitizeLine(parts.filter(Boolean).join('; ')).slice(0, 300);
      }
    } catch {
      /* not JSON: fall through */
    }
    return '';
  }

  private registryErrorCodes(text: string): string[] {
    return [...text.matchAll(/\b([A-Z][A-Z_]+[A-Z])\b/g)].map((m) => m[1]!);
  }

  /** Maps a non-success response to the one-line error users see; 429 and 5xx are marked worth another try. */
  private async responseError(res: Response, subject: Subject): Promise<VouchError> {
    const e = await this.describeResponse(res, subject);
    if (!isRetryableStatus(res.status)) return e;
    const after = parseRetryAfter(res.headers.get('retry-after'));
    return markTransient(e, after !== undefined ? { retryAfterMs: after } : {});
  }

  private async describeResponse(res: Response, subject: Subject): Promise<VouchError> {
    const detail = await this.registryErrorText(res);
    const name = this.name(subject.repo);
    const ref = subject.reference;
    const target =
      subject.kind === 'manifest' ? `manifest ${ref && isDigest(ref) ? ref : `for tag ${JSON.stringify(ref)}`}`
      : subject.kind === 'blob' ? `blob ${ref}`
      : subject.kind === 'tags' ? 'tag list'
      : subject.kind === 'upload' ? `upload of ${ref}`
      : `referrers of ${ref}`;
    const suffix = detail ? ` (registry says: ${detail})` : '';
    switch (res.status) {
      case 401: {
        const lookup = await this.credentials();
        const sent = this.challenge !== undefined && lookup.credentials !== undefined;
        const problem = lookup.problem ? `; ${sanitizeLine(lookup.problem)}` : '';
        const how = sent
          ? `authentication failed with ${lookup.source}${problem}`
          : `authentication required; ${lookup.source}${problem} (try: docker login ${this.registry})`;
        return new VouchError('UNAUTHORIZED', `${name}: ${how}${suffix}`);
      }
      case 403: {
        const lookup = await this.credentials();
        return new VouchError('DENIED', `${name}: access to ${target} denied (HTTP 403) using ${lookup.source}${suffix}`);
      }
      case 404: {
        const codes = this.registryErrorCodes(detail);
        if (codes.includes('NAME_UNKNOWN')) return new VouchError('NOT_FOUND', `${name}: repository not found${suffix}`);
        if (subject.kind === 'manifest') {
          const what = ref && isDigest(ref) ? `manifest ${ref} not found` : `tag ${JSON.stringify(ref)} not found`;
          return new VouchError('NOT_FOUND', `${name}: manifest unknown: ${what}${suffix}`);
        }
        if (subject.kind === 'blob') return new VouchError('NOT_FOUND', `${name}: blob unknown: ${ref} not found${suffix}`);
        return new VouchError('NOT_FOUND', `${name}: ${target} not found${suffix}`);
      }
      case 429:
        return new VouchError('REGISTRY_ERROR', `${name}: rate limited (HTTP 429) fetching ${target}${retryAfterText(res)}${suffix}`);
      default:
        return new VouchError('REGISTRY_ERROR', `${name}: HTTP ${res.status} fetching ${target}${isRetryableStatus(res.status) ? retryAfterText(res) : ''}${suffix}`);
    }
  }
}
