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
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { DigestMismatchError, SizeMismatchError, VouchError } from '../../errors.js';
import { digestOf, isDigest, parseDigest, verifyBytes, VerifyingStream } from '../../oci/digest.js';
import { MAX_MANIFEST_BYTES, parseJsonBytes, validateDescriptor } from '../../oci/manifest.js';
import { MANIFEST_ACCEPT, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, ImageIndex } from '../../oci/types.js';
import { sanitizeLine } from '../../util/sanitize.js';
import { basicAuthorization, fetchBearerToken, parseWwwAuthenticate, pickChallenge, TokenCache, type AuthChallenge } from './auth.js';
import { dockerConfigCredentials, type CredentialLookup, type CredentialProvider } from './credentials.js';
import { allowsPlainHttp, registryBaseUrl } from './endpoint.js';
import { DEFAULT_RETRY, discard, isAbortError, networkError, parseRetryAfter, readLimited, withRetries, type RetryPolicy } from './http.js';
/** Registry error bodies are read for their message only. */
const MAX_ERROR_BODY_BYTES = 64 << 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

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

/** What a request is about, for error messages. */
interface Subject {
  repo: string;
  kind: 'manifest' | 'blob' | 'tags' | 'referrers';
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
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.signal = opts.signal;
    this.userAgent = opts.userAgent ?? 'vouch/0.1';
    this.maxRedirects = opts.maxRedirects ?? 10;
  }

  /** Manifest or index by tag or digest, verified: a digest reference must match the bytes, and so must Docker-Content-Digest. */
  async getManifest(repo: string, reference: string, opts: { accept?: string; maxBytes?: number } = {}): Promise<ManifestResponse> {
    checkRepo(repo);
    checkReference(reference);
    const subject: Subject = { repo, kind: 'manifest', reference };
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
    const { res } = await this.request(subject, `/v2/${repo}/manifests/${reference}`, 'HEAD', opts.accept ?? MANIFEST_ACCEPT);
    if (res.status !== 200) throw await this.responseError(res, subject);
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
    const { res, url } = await this.request(subject, `/v2/${repo}/blobs/${digest}`, 'GET');
    if (res.status !== 200) throw await this.responseError(res, subject);
    const bytes = await readLimited(res, opts.maxBytes, what, url);
    verifyBytes(bytes, digest, what, opts.size);
    return bytes;
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
    const { res, url } = await this.request(subject, `/v2/${repo}/blobs/${digest}`, 'GET');
    if (res.status !== 200) throw await this.responseError(res, subject);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (size !== undefined && Number.isSafeInteger(declared) && declared !== size && !res.headers.get('content-encoding')) {
      await discard(res);
      throw new SizeMismatchError(what, size, declared);
    }
    const verifying = new VerifyingStream(digest, what, size);
    if (!res.body) {
      verifying.end();
      return verifying;
    }
    const source = Readable.fromWeb(res.body as unknown as NodeWebReadableStream<Uint8Array>);
    // pipe() does not forward errors: a connection lost mid-body becomes a NETWORK_ERROR on the stream the caller holds.
    source.once('error', (e) => {
      if (!verifying.destroyed) verifying.destroy(e instanceof VouchError || isAbortError(e) ? e : networkError(e, url));
    });
    verifying.once('close', () => {
      if (!source.destroyed) source.destroy();
    });
    source.pipe(verifying);
    return verifying;
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
      const { res, url } = await this.request(subject, path, 'GET', 'application/json');
      if (res.status !== 200) throw await this.responseError(res, subject);
      const body = await readLimited(res, 16 << 20, `${this.name(repo)}: tag list`, url);
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
      const { res, url } = await this.request(subject, path, 'GET', MediaType.OciIndex);
      if (res.status === 404 && first) {
        await discard(res);
        return undefined;
      }
      if (res.status !== 200) throw await this.responseError(res, subject);
      first = false;
      const what = `referrers of ${this.name(repo)}@${digest}`;
      const body = await readLimited(res, MAX_MANIFEST_BYTES, what, url);
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
  private async request(subject: Subject, path: string, method: 'GET' | 'HEAD', accept?: string): Promise<{ res: Response; url: URL }> {
    const scope = `repository:${subject.repo}:pull`;
    const start = new URL(path, this.baseUrl);
    for (let round = 0; ; round++) {
      const auth = await this.authorization(scope, subject);
      const { res, url } = await this.send(start, method, accept, auth);
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
  private async send(start: URL, method: 'GET' | 'HEAD', accept: string | undefined, auth: string | undefined): Promise<{ res: Response; url: URL }> {
    let url = start;
    for (let hop = 0; hop <= this.maxRedirects; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.userAgent };
      if (accept) headers['accept'] = accept;
      if (auth && url.origin === this.baseUrl.origin) headers['authorization'] = auth;
      const current = url;
      const res = await withRetries(
        () => fetch(current, { method, headers, redirect: 'manual', signal: this.signal ?? null }),
        current,
        this.retry,
        this.signal,
      );
      if (!REDIRECT_STATUSES.has(res.status)) return { res, url: current };
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
    throw new VouchError('REGISTRY_ERROR', `${this.registry}: more than ${this.maxRedirects} redirects`);
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

  /** Maps a non-success response to the one-line error users see. */
  private async responseError(res: Response, subject: Subject): Promise<VouchError> {
    const detail = await this.registryErrorText(res);
    const name = this.name(subject.repo);
    const ref = subject.reference;
    const target =
      subject.kind === 'manifest' ? `manifest ${ref && isDigest(ref) ? ref : `for tag ${JSON.stringify(ref)}`}`
      : subject.kind === 'blob' ? `blob ${ref}`
      : subject.kind === 'tags' ? 'tag list'
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
      case 429: {
        const after = parseRetryAfter(res.headers.get('retry-after'));
        const when = after !== undefined ? `; the registry asks to retry in ${Math.ceil(after / 1000)}s` : '';
        return new VouchError('REGISTRY_ERROR', `${name}: rate limited (HTTP 429) fetching ${target}${when}${suffix}`);
      }
      default:
        return new VouchError('REGISTRY_ERROR', `${name}: HTTP ${res.status} fetching ${target}${suffix}`);
    }
  }
}
