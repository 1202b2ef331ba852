/**
 * Typed errors with stable codes. The CLI maps `exitCode` to the process exit
 * status; core code never exits. Messages are one line and name the file,
 * blob or field at fault.
 */
export type ErrorCode =
  | 'INVALID_REFERENCE'
  | 'INVALID_MANIFEST'
  | 'INVALID_CONFIG'
  | 'INVALID_ARCHIVE'
  | 'INVALID_LAYOUT'
  | 'INVALID_TAR'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'NOT_FOUND'
  | 'AMBIGUOUS'
  | 'PLATFORM_NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'REGISTRY_ERROR'
  | 'NETWORK_ERROR'
  | 'DAEMON_ERROR'
  | 'LIMIT_EXCEEDED'
  | 'CACHE_ERROR'
  | 'INVALID_SBOM'
  | 'UNSUPPORTED_FORMAT'
  | 'INVALID_TRUST_FILE'
  | 'INVALID_TRUSTED_ROOT'
  | 'INVALID_KEY'
  | 'INVALID_POLICY'
  | 'INVALID_BUNDLE'
  | 'USAGE'
  /** An approval record named as a baseline that `vouch verify` would refuse (rejected, expired, too old…). */
  | 'BASELINE_REFUSED'
  /** A tag resolved to two digests in one run (see sources/pins.ts). */
  | 'TAG_MOVED';

export class VouchError extends Error {
  readonly code: ErrorCode;
  /** 2 = bad input or unreachable source (the default); 1 = policy failure. */
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VouchError';
    this.code = code;
    this.exitCode = options?.exitCode ?? 2;
  }
}

/** A blob whose bytes do not hash to the digest that names it. */
export class DigestMismatchError extends VouchError {
  readonly expected: string;
  readonly actual: string;
  constructor(what: string, expected: string, actual: string) {
    super('DIGEST_MISMATCH', `${what}: digest mismatch: expected ${expected}, got ${actual}`);
    this.name = 'DigestMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

export class SizeMismatchError extends VouchError {
  constructor(what: string, expected: number, actual: number) {
    super('SIZE_MISMATCH', `${what}: size mismatch: descriptor says ${expected} bytes, got ${actual}`);
    this.name = 'SizeMismatchError';
  }
}

export function isVouchError(e: unknown): e is VouchError {
  return e instanceof VouchError;
}

/** One line, no control characters: safe to print whatever the cause. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // Bidi overrides too: a name from an archive must not reorder the rest of the line.
  return msg.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g, ' ').trim();
}
