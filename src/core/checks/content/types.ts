/**
 * What the content scanners record per file of a layer (cached with the layer
 * walk, inside its catalogue). Never a secret value: only what kind of secret
 * a file holds, where (line, variable name, registry host) and a redacted hint.
 */

/** The kinds of credential file the secrets scanner recognises. */
export type SecretFileKind =
  | 'private-key'
  | 'dotenv'
  | 'npmrc'
  | 'pypirc'
  | 'aws-credentials'
  | 'docker-config'
  | 'git-credentials'
  | 'netrc';

/** Markers that mean "a private key": VCH-SC-001; every other marker is a token or password: VCH-SC-002. */
export const PRIVATE_KEY_MARKERS: ReadonlySet<string> = new Set(['pem-private-key', 'openssh-private-key', 'pgp-private-key', 'putty-private-key']);

export interface SecretDetail {
  /** What was found (one of the file's markers). */
  marker: string;
  /** 1-based line of the file. */
  line: number;
  /** Variable / key / host name it was assigned to (names are not secret), when there is one. */
  name?: string;
  /** Redacted hint: `(N chars)`, or the first 4 characters and the length for values of 16 characters or more. Never the value. */
  hint?: string;
  /** PEM blocks: the key is encrypted with a passphrase. */
  encrypted?: boolean;
}

/** One credential file of one layer. */
export interface SecretFinding {
  /** Absolute path in the layer. */
  path: string;
  kind: SecretFileKind;
  /** What the file holds, sorted, unique: 'pem-private-key', 'npm-token', 'aws-secret-access-key', 'password-in-url', … */
  markers: string[];
  /** Where (at most MAX_DETAILS). */
  details: SecretDetail[];
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** 1-based line. */
  line: number;
  /** The password field is empty (no password at all; `x`, `*`, `!` are not). */
  emptyPassword?: boolean;
}

export interface GroupEntry {
  name: string;
  gid: number;
  line: number;
}

export interface ShadowEntry {
  name: string;
  line: number;
  /** `empty`: no password (anyone logs in); `locked`: `!`/`*`-prefixed or a non-hash; `set`: a password hash (never stored). */
  state: 'empty' | 'locked' | 'set';
}

/** /etc/passwd, /etc/group or /etc/shadow of one layer. */
export interface AccountsFinding {
  file: 'passwd' | 'group' | 'shadow';
  passwd?: PasswdEntry[];
  group?: GroupEntry[];
  shadow?: ShadowEntry[];
  /** Lines that are not a valid record (ignored). */
  malformed: number;
  /** More records than MAX_ACCOUNTS: the rest were not recorded. */
  truncated?: boolean;
}
