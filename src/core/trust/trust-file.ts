/**
 * `vouch.trust.yaml`: whom the organisation trusts. Schema-validated (unknown
 * keys are errors), relative paths resolved against the file's own folder,
 * keys parsed and checked when the file is loaded, regular expressions
 * compiled anchored. Signers: `key` (with `tlog: required|optional`),
 * `keyless` (issuer, subject or subjectRegExp, exact certificate `extensions`),
 * `ca` (the organisation's own CA, no log).   * the approval step: `reviewers` (who may sign approvals) and `require` (what
 * `vouch verify` demands of them).
 */
import { LOCAL_FILE_LIMITS, LocalFileError, readLocalFile, readLocalFileSync } from '../util/local-file.js';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonical-json.js';
import type { KeyObject } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parseYamlUnique } from '../util/yaml.js';
import { VouchError } from '../errors.js';
import { checkSchema } from '../util/schema-check.js';
import { sanitizeLine } from '../util/sanitize.js';
import type { X509Certificate } from '@sigstore/core';
import { splitPemCertificates } from './certificate.js';
import { describeKey, type PublicKeyInfo } from './prehash.js';
import type { FulcioExtensions, SignerPolicy } from './types.js';
import { ruleProblem, SIGNED_IDENTITY_TYPES, type SignedIdentityRule } from './signed-identity.js';

export const TRUST_FILE_NAME = 'vouch.trust.yaml';

/**
 * A public key's identity independent of its encoding: the JWK members that
 * define it (an EC point's x and y, RSA n and e, an OKP's x). One key as a
 * compressed and as an uncompressed SPKI has different bytes and key ids,
 * but the same identity.
 */
export function keyIdentity(key: KeyObject): string {
  const j = key.export({ format: 'jwk' }) as Record<string, string | undefined>;
  return JSON.stringify([j['kty'], j['crv'] ?? null, j['x'] ?? null, j['y'] ?? null, j['n'] ?? null, j['e'] ?? null]);
}

/** The same key under two names would count one person as two (reviewers) or blur who signed (signers). */
function refuseSameKey(seen: Map<string, string>, key: PublicKeyInfo, where: string, abs: string): void {
  const id = keyIdentity(key.key);
  const first = seen.get(id);
  if (first !== undefined) fail(abs, `${where}: the same public key as ${first} (one key may be listed once)`);
  seen.set(id, where);
}
const MAX_TRUST_FILE_BYTES = 1 << 20;

export interface KeySigner {
  name: string;
  type: 'key';
  /** Absolute path of the PEM. */
  keyPath: string;
  publicKeyPem: string;
  key: PublicKeyInfo;
  /** Absent: matchRepository. */
  signedIdentity?: SignedIdentityRule;
  /** `optional`: signatures without a transparency-log entry verify (air-gapped signing). Default: required. */
  tlog?: 'required' | 'optional';
}

/**
 * Certificate extensions a keyless signer requires, compared exactly. Names as
 * sigstore-go's `certificate.Extensions` (and cosign's
 * `--certificate-github-workflow-*` flags for the legacy ones).
 */
export type ExtensionConstraints = Partial<Record<ExtensionName, string>>;

/** Trust-file extension name → the FulcioExtensions field it constrains. */
export const EXTENSION_FIELDS = {
  issuer: 'issuer',
  buildSignerURI: 'buildSignerUri',
  buildSignerDigest: 'buildSignerDigest',
  runnerEnvironment: 'runnerEnvironment',
  sourceRepositoryURI: 'sourceRepositoryUri',
  sourceRepositoryDigest: 'sourceRepositoryDigest',
  sourceRepositoryRef: 'sourceRepositoryRef',
  sourceRepositoryIdentifier: 'sourceRepositoryIdentifier',
  sourceRepositoryOwnerURI: 'sourceRepositoryOwnerUri',
  sourceRepositoryOwnerIdentifier: 'sourceRepositoryOwnerIdentifier',
  buildConfigURI: 'buildConfigUri',
  buildConfigDigest: 'buildConfigDigest',
  buildTrigger: 'buildTrigger',
  runInvocationURI: 'runInvocationUri',
  sourceRepositoryVisibilityAtSigning: 'sourceRepositoryVisibilityAtSigning',
  githubWorkflowTrigger: 'githubWorkflowTrigger',
  githubWorkflowSHA: 'githubWorkflowSha',
  githubWorkflowName: 'githubWorkflowName',
  githubWorkflowRepository: 'githubWorkflowRepository',
  githubWorkflowRef: 'githubWorkflowRef',
} as const satisfies Record<string, keyof FulcioExtensions>;
export type ExtensionName = keyof typeof EXTENSION_FIELDS;

/**
 * A certificate authority of the organisation's own (containers-image's
 * `pki`): certificates chaining to `roots` (through `intermediates`) whose SAN
 * is `subjectEmail` / `subjectHostname`. No log or timestamp exists, so the
 * chain is checked at the time of verification.
 */
export interface CaSigner {
  name: string;
  type: 'ca';
  rootsPath: string;
  roots: X509Certificate[];
  intermediates: X509Certificate[];
  subjectEmail?: string;
  subjectHostname?: string;
  /** Absent: matchRepository. */
  signedIdentity?: SignedIdentityRule;
}

export interface KeylessSigner {
  name: string;
  type: 'keyless';
  issuer: string;
  subject?: string;
  /** As written in the file (unanchored text); `pattern` is the anchored compiled form. */
  subjectRegExp?: string;
  pattern?: RegExp;
  /** Absent: matchRepository. */
  signedIdentity?: SignedIdentityRule;
  /** Certificate extensions that must be present with exactly these values. */
  extensions?: ExtensionConstraints;
}

/** Reviewers sign approvals with a key or keylessly (no `ca`, no tlog relaxation: approvals' log rule is `require.tlog`). */
export type Reviewer = KeySigner | KeylessSigner;

export type TrustedSigner = KeySigner | KeylessSigner | CaSigner;

export interface TrustFile {
  /** Absolute path of the file. */
  path: string;
  /** Absolute path of the trusted root, when the file names one. */
  trustedRoot?: string;
  signers: TrustedSigner[];
  /** Who may sign approvals (same shapes as signers); empty when the file names none. */
  reviewers: Reviewer[];
  require: ApprovalRequirements;
  /** The signers as the verifiers take them. */
  policy: SignerPolicy;
  /** A signature on the --platform picked from an index suffices (default false: the index or every platform must be signed). */
  allowPlatformOnlySignatures?: boolean;
}

/** What a release needs before `vouch verify` admits an image (the `require` section). */
export interface ApprovalRequirements {
  /** Distinct trusted reviewers needed (two-person rule: 2); default 1. */
  approvals?: number;
  /** Decisions that admit an image; default approved and approved-with-exceptions. */
  decisions?: string[];
  /** As written (`30d`); `maxAgeMs` is its value. */
  maxAge?: string;
  maxAgeMs?: number;
  /** The policy digest every approval must carry. */
  policyDigest?: string;
  /** Key-signed approvals must carry a transparency log entry too (keyless ones always do). */
  tlog?: boolean;
  /**
   * `same` (default): an approval counts only if its evidence was judged under signers this file lists (its
   * `trust.signers` digests are among signerDigests of this file) and its baseline's signer is one of this file's
   * reviewers; `any`: whatever the reviewer's release named.
   */
  signers?: 'same' | 'any';
}

const IDENTITY_ENTRY = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    key: { type: 'string', minLength: 1 },
    keyless: {
      type: 'object',
      additionalProperties: false,
      required: ['issuer'],
      properties: {
        issuer: { type: 'string', minLength: 1 },
        subject: { type: 'string', minLength: 1 },
        subjectRegExp: { type: 'string', minLength: 1 },
      },
      oneOf: [{ required: ['subject'] }, { required: ['subjectRegExp'] }],
    },
  },
  oneOf: [{ required: ['key'] }, { required: ['keyless'] }],
} as const;

const MAX_AGE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'integer', enum: [1] },
    trustedRoot: { type: 'string', minLength: 1 },
    // A multi-platform image passes on a signature of the --platform picked alone (else: the index or every platform).
    allowPlatformOnlySignatures: { type: 'boolean' },
    signers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          key: { type: 'string', minLength: 1 },
          // What a simple-signing payload's docker-reference must say (containers-image's signedIdentity); default matchRepository.
          signedIdentity: {
            type: 'object',
            additionalProperties: false,
            required: ['type'],
            properties: {
              type: { type: 'string', enum: [...SIGNED_IDENTITY_TYPES] },
              dockerReference: { type: 'string', minLength: 1 },
              dockerRepository: { type: 'string', minLength: 1 },
              prefix: { type: 'string', minLength: 1 },
              signedPrefix: { type: 'string', minLength: 1 },
            },
          },
          tlog: { type: 'string', enum: ['required', 'optional'] },
          ca: {
            type: 'object',
            additionalProperties: false,
            required: ['roots'],
            properties: {
              roots: { type: 'string', minLength: 1 },
              intermediates: { type: 'string', minLength: 1 },
              subjectEmail: { type: 'string', minLength: 1 },
              subjectHostname: { type: 'string', minLength: 1 },
            },
          },
          keyless: {
            type: 'object',
            additionalProperties: false,
            required: ['issuer'],
            properties: {
              issuer: { type: 'string', minLength: 1 },
              subject: { type: 'string', minLength: 1 },
              subjectRegExp: { type: 'string', minLength: 1 },
              extensions: {
                type: 'object',
                additionalProperties: false,
                properties: Object.fromEntries(Object.keys(EXTENSION_FIELDS).map((k) => [k, { type: 'string', minLength: 1 }])),
              },
            },
            oneOf: [{ required: ['subject'] }, { required: ['subjectRegExp'] }],
          },
        },
        oneOf: [{ required: ['key'] }, { required: ['keyless'] }, { required: ['ca'] }],
      },
    },
    reviewers: { type: 'array', items: IDENTITY_ENTRY },
    require: {
      type: 'object',
      additionalProperties: false,
      properties: {
        approvals: { type: 'integer', minimum: 1, maximum: 100 },
        decisions: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['approved', 'approved-with-exceptions', 'rejected'] } },
        maxAge: { type: 'string', pattern: '^[1-9][0-9]{0,5}[smhdw]$' },
        policyDigest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
        tlog: { type: 'boolean' },
        signers: { enum: ['same', 'any'] },
      },
    },
  },
};

/** The trust file's JSON Schema (exported so that a test can hold schema-check to ajv on it). */
export const TRUST_FILE_SCHEMA = SCHEMA;

// Loading and compiling ajv costs ~0.15 s per process (most of `vouch verify`'s start-up). A valid
// file passes schema-check alone; ajv is loaded only to word the errors of a file that does not.
let validator: ValidateFunction | undefined;
async function ajvValidate(): Promise<ValidateFunction> {
  if (!validator) {
    const { Ajv } = await import('ajv');
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true }); // verbose: errors carry parentSchema (for key suggestions)
    validator = ajv.compile(SCHEMA);
  }
  return validator;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    // A key that differs only in case (subjectRegexp) is a typo of a known one: say which.
    const known = Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
    const meant = known.find((k) => k.toLowerCase() === key.toLowerCase());
    return `${at}: unknown key ${JSON.stringify(key)}${meant ? ` (did you mean ${JSON.stringify(meant)}?)` : ''}`;
  }
  if (e.keyword === 'oneOf' && /(signers|reviewers)\.\d+$/.test(at)) return `${at}: ${at.startsWith('reviewers') ? 'a reviewer has exactly one of "key" or "keyless"' : 'a signer has exactly one of "key", "keyless" or "ca"'}`;
  if (e.keyword === 'pattern' && at === 'require.maxAge') return `${at}: expected a duration such as 30d, 12h or 2w`;
  if (e.keyword === 'oneOf') return `${at}: give exactly one of "subject" or "subjectRegExp"`;
  // Name the bad value and the allowed ones ("must be equal to one of the allowed values" said neither).
  if (e.keyword === 'enum') return `${at}: ${JSON.stringify(e.data)} is not one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at}: ${e.message ?? e.keyword}`;
}

function fail(path: string, msg: string): never {
  throw new VouchError('INVALID_TRUST_FILE', `${path}: ${sanitizeLine(msg)}`);
}

/**
 * Compile an identity pattern anchored at both ends, whatever the author wrote.
 * The source must parse on its own first: `…v1)|(?:.*` does not, but wrapped in
 * `^(?:` … `)$` it would close the group early and match every subject. A
 * source that parses alone is one balanced expression, so wrapping it can only
 * anchor it. Throws a SyntaxError naming the problem otherwise.
 */
export function anchoredRegExp(source: string): RegExp {
  new RegExp(source); // throws for a source that is not a whole expression
  const re = new RegExp(`^(?:${source})$`);
  return re;
}

/** The whole subject matches `pattern` (the match covers every character, not a prefix or a substring). */
export function wholeMatch(pattern: RegExp, subject: string): boolean {
  const m = pattern.exec(subject);
  return m !== null && m.index === 0 && m[0].length === subject.length;
}

/** Parse the text of a trust file located at `path` (paths in it resolve against its folder). */
export async function parseTrustFile(text: string, path: string): Promise<TrustFile> {
  const abs = resolve(path);
  const dir = dirname(abs);
  let doc: unknown;
  try {
    doc = parseYamlUnique(text, { maxAliasCount: 100 });
  } catch (e) {
    fail(abs, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  // Unknown keys first: a misspelt key also makes a required one "missing", and the typo is the cause.
  const rank = (e: ErrorObject): number => (e.keyword === 'additionalProperties' ? 0 : 1);
  // schema-check may be stricter than ajv (never laxer), so ajv has the last word on a rejection.
  const validate = checkSchema(SCHEMA, doc) === null ? null : await ajvValidate();
  if (validate && !validate(doc)) {
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
    // A misspelt key makes the key it stands for "missing" in the same object (and its oneOf fail): report the typo only.
    const typoAt = new Set(errors.filter((e) => e.keyword === 'additionalProperties').map((e) => e.instancePath));
    const causes = errors.filter((e) => !(typoAt.has(e.instancePath) && (e.keyword === 'required' || e.keyword === 'oneOf')));
    fail(abs, causes.sort((a, b) => rank(a) - rank(b)).slice(0, 3).map(describe).join('; '));
  }
  const d = doc as { trustedRoot?: string; signers?: any[]; reviewers?: unknown[]; require?: Record<string, unknown>; allowPlatformOnlySignatures?: boolean };
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  const names = new Set<string>();
  const signerKeys = new Map<string, string>();
  const signers: TrustedSigner[] = [];
  for (const [i, s] of (d.signers ?? []).entries()) {
    if (names.has(s.name)) fail(abs, `signers.${i}: duplicate signer name ${JSON.stringify(s.name)}`);
    names.add(s.name);
    if (s.key !== undefined) {
      const keyPath = at(s.key);
      const { pem, key } = await readPublicKey(abs, `signers.${i} (${s.name})`, keyPath);
      refuseSameKey(signerKeys, key, `signers.${i} (${s.name})`, abs);
      signers.push({ name: s.name, type: 'key', keyPath, publicKeyPem: pem, key, ...signedIdentityOf(s, i), ...(s.tlog !== undefined ? { tlog: s.tlog } : {}) });
    } else if (s.ca !== undefined) {
      if (s.tlog !== undefined) fail(abs, `signers.${i} (${s.name}): "tlog" applies to key signers; a "ca" signer never needs a log entry`);
      const c = s.ca as { roots: string; intermediates?: string; subjectEmail?: string; subjectHostname?: string };
      if (c.subjectEmail === undefined && c.subjectHostname === undefined) fail(abs, `signers.${i} (${s.name}): ca needs subjectEmail or subjectHostname (whom the CA's certificates must name)`);
      const certs = async (p: string, what: string): Promise<X509Certificate[]> => {
        const file = at(p);
        let list: X509Certificate[];
        try {
          list = splitPemCertificates((await readLocalFile(file, { what, max: LOCAL_FILE_LIMITS.certificates })).toString('utf8'));
        } catch (e) {
          fail(abs, `signers.${i} (${s.name}): cannot read ${what} ${file}: ${e instanceof LocalFileError ? e.reason : (e as Error).message}`);
        }
        if (list.length === 0) fail(abs, `signers.${i} (${s.name}): ${file} holds no PEM certificate`);
        return list;
      };
      const signer: CaSigner = { name: s.name, type: 'ca', ...signedIdentityOf(s, i), rootsPath: at(c.roots), roots: await certs(c.roots, 'ca.roots'), intermediates: c.intermediates ? await certs(c.intermediates, 'ca.intermediates') : [] };
      if (c.subjectEmail !== undefined) signer.subjectEmail = c.subjectEmail;
      if (c.subjectHostname !== undefined) signer.subjectHostname = c.subjectHostname;
      signers.push(signer);
    } else {
      // Keyless signatures are always logged (or timestamped and logged, as bundles): a relaxation here would be accepted and ignored.
      if (s.tlog !== undefined) fail(abs, `signers.${i} (${s.name}): "tlog" applies to key signers; keyless signatures always need a log entry`);
      const k = s.keyless as { issuer: string; subject?: string; subjectRegExp?: string; extensions?: ExtensionConstraints };
      const signer: KeylessSigner = { name: s.name, type: 'keyless', issuer: k.issuer, ...signedIdentityOf(s, i) };
      if (k.extensions !== undefined && Object.keys(k.extensions).length > 0) signer.extensions = { ...k.extensions };
      if (k.subject !== undefined) signer.subject = k.subject;
      if (k.subjectRegExp !== undefined) {
        try {
          signer.pattern = anchoredRegExp(k.subjectRegExp);
        } catch (e) {
          fail(abs, `signers.${i} (${s.name}): subjectRegExp is not a valid regular expression: ${(e as Error).message}`);
        }
        signer.subjectRegExp = k.subjectRegExp;
      }
      signers.push(signer);
    }
  }
  const reviewers = await parseReviewers((d.reviewers ?? []) as any[], abs, at);
  const out: TrustFile = {
    path: abs,
    signers,
    reviewers,
    require: parseRequire((d.require ?? {}) as Parameters<typeof parseRequire>[0]),
    policy: toSignerPolicy(signers),
  };
  if (d.trustedRoot !== undefined) out.trustedRoot = at(d.trustedRoot);
  if (d.allowPlatformOnlySignatures !== undefined) out.allowPlatformOnlySignatures = d.allowPlatformOnlySignatures;
  return out;

  function signedIdentityOf(s: { name: string; signedIdentity?: Record<string, string> }, i: number): { signedIdentity?: SignedIdentityRule } {
    const r = s.signedIdentity;
    if (!r) return {};
    const needs: Record<string, string[]> = { exactReference: ['dockerReference'], exactRepository: ['dockerRepository'], remapIdentity: ['prefix', 'signedPrefix'] };
    const allowed = needs[r['type']!] ?? [];
    for (const k of Object.keys(r)) if (k !== 'type' && !allowed.includes(k)) fail(abs, `signers.${i} (${s.name}): signedIdentity type ${r['type']} takes no ${JSON.stringify(k)}`);
    for (const k of allowed) if (r[k] === undefined) fail(abs, `signers.${i} (${s.name}): signedIdentity type ${r['type']} needs ${JSON.stringify(k)}`);
    const rule = r as unknown as SignedIdentityRule;
    const problem = ruleProblem(rule);
    if (problem) fail(abs, `signers.${i} (${s.name}): ${problem}`);
    return { signedIdentity: rule };
  }
}

/** A signer's or reviewer's public key file, read and checked (errors name the entry and the file). */
async function readPublicKey(abs: string, entry: string, keyPath: string): Promise<{ pem: string; key: PublicKeyInfo }> {
  let pem: string;
  try {
    pem = (await readLocalFile(keyPath, { what: 'key', max: LOCAL_FILE_LIMITS.key })).toString('utf8');
  } catch (e) {
    fail(abs, `${entry}: cannot read key ${keyPath} (${(e as LocalFileError).reason})`);
  }
  try {
    return { pem, key: describeKey(pem) };
  } catch (e) {
    fail(abs, `${entry}: ${keyPath} is not a usable public key: ${(e as Error).message}`);
  }
}

/** `reviewers`: the same entry shapes as signers, read the same way (keys loaded and checked now). */
async function parseReviewers(entries: any[], abs: string, at: (p: string) => string): Promise<Reviewer[]> {
  const names = new Set<string>();
  const reviewerKeys = new Map<string, string>();
  const out: Reviewer[] = [];
  for (const [i, r] of entries.entries()) {
    if (names.has(r.name)) fail(abs, `reviewers.${i}: duplicate reviewer name ${JSON.stringify(r.name)}`);
    names.add(r.name);
    if (r.key !== undefined) {
      const keyPath = at(r.key);
      const { pem, key } = await readPublicKey(abs, `reviewers.${i} (${r.name})`, keyPath);
      refuseSameKey(reviewerKeys, key, `reviewers.${i} (${r.name})`, abs);
      out.push({ name: r.name, type: 'key', keyPath, publicKeyPem: pem, key });
    } else {
      const k = r.keyless as { issuer: string; subject?: string; subjectRegExp?: string };
      const reviewer: KeylessSigner = { name: r.name, type: 'keyless', issuer: k.issuer };
      if (k.subject !== undefined) reviewer.subject = k.subject;
      if (k.subjectRegExp !== undefined) {
        try {
          reviewer.pattern = anchoredRegExp(k.subjectRegExp);
        } catch (e) {
          fail(abs, `reviewers.${i} (${r.name}): subjectRegExp is not a valid regular expression: ${(e as Error).message}`);
        }
        reviewer.subjectRegExp = k.subjectRegExp;
      }
      out.push(reviewer);
    }
  }
  return out;
}

function parseRequire(r: { approvals?: number; decisions?: string[]; maxAge?: string; policyDigest?: string; tlog?: boolean; signers?: 'same' | 'any' }): ApprovalRequirements {
  const out: ApprovalRequirements = {};
  if (r.approvals !== undefined) out.approvals = r.approvals;
  if (r.decisions !== undefined) out.decisions = [...r.decisions];
  if (r.maxAge !== undefined) {
    out.maxAge = r.maxAge;
    out.maxAgeMs = Number(r.maxAge.slice(0, -1)) * MAX_AGE_UNITS[r.maxAge.slice(-1)]!;
  }
  if (r.policyDigest !== undefined) out.policyDigest = r.policyDigest;
  if (r.tlog !== undefined) out.tlog = r.tlog;
  if (r.signers !== undefined) out.signers = r.signers;
  return out;
}

/** Extensions that pin the repository a CI workflow ran in (the caller of a reusable workflow, not the workflow's own repository). */
const REPOSITORY_PINS: readonly ExtensionName[] = [
  'sourceRepositoryURI',
  'sourceRepositoryIdentifier',
  'sourceRepositoryOwnerURI',
  'sourceRepositoryOwnerIdentifier',
  'buildConfigURI',
  'githubWorkflowRepository',
];

/**
 * Keyless signers that any repository can satisfy: a certificate's SAN names
 * the workflow file, not the repository that ran it, so a fork calling acme's
 * reusable release.yml gets a matching subject. A subject that is a regular
 * expression or names a workflow file (`.github/workflows/`) needs an
 * `extensions` constraint on the source repository; one warning per signer
 * that has none (the signatures still verify: the trust file says so).
 */
export function unpinnedSignerWarnings(trust: Pick<TrustFile, 'signers'>): string[] {
  const out: string[] = [];
  for (const s of trust.signers) {
    if (s.type !== 'keyless') continue;
    const what = s.subjectRegExp !== undefined ? 'its subject is a regular expression' : s.subject?.includes('/.github/workflows/') ? 'its subject names a workflow file' : undefined;
    if (!what || REPOSITORY_PINS.some((k) => s.extensions?.[k] !== undefined)) continue;
    out.push(
      `trust file signer ${JSON.stringify(s.name)}: ${what} but no keyless.extensions pins the source repository, so any repository whose workflow gets a matching certificate (a fork calling a reusable workflow) passes; add extensions.sourceRepositoryURI (or sourceRepositoryOwnerURI)`,
    );
  }
  return out;
}

export async function loadTrustFile(path: string): Promise<TrustFile> {
  const buf = await readLocalFile(path, { what: 'trust file', max: MAX_TRUST_FILE_BYTES });
  return parseTrustFile(buf.toString('utf8'), path);
}

export function toSignerPolicy(signers: TrustedSigner[]): SignerPolicy {
  return {
    keys: signers.filter((s): s is KeySigner => s.type === 'key').map((s) => ({ name: s.name, publicKeyPem: s.publicKeyPem, ...(s.tlog !== undefined ? { tlog: s.tlog } : {}) })),
    identities: signers
      .filter((s): s is KeylessSigner => s.type === 'keyless')
      .map((s) => ({
        name: s.name,
        issuer: s.issuer,
        ...(s.subject !== undefined ? { subject: s.subject } : {}),
        ...(s.subjectRegExp !== undefined ? { subjectRegExp: s.subjectRegExp } : {}),
        ...(s.extensions !== undefined ? { extensions: s.extensions } : {}),
      })),
  };
}

/**
 * The trust file entry a keyless identity matches: issuer exact, subject exact
 * or anchored regexp, and every extension the entry constrains exactly equal.
 * Without `extensions`, identity alone decides (the caller may not have them).
 */
export function matchKeyless(signers: readonly TrustedSigner[], subject: string | undefined, issuer: string | undefined, extensions?: FulcioExtensions): KeylessSigner | undefined {
  if (subject === undefined || issuer === undefined) return undefined;
  return signers.find(
    (s): s is KeylessSigner =>
      s.type === 'keyless' &&
      s.issuer === issuer &&
      (s.subject !== undefined ? s.subject === subject : s.pattern !== undefined && wholeMatch(s.pattern, subject)) &&
      (extensions === undefined || extensionMismatch(s.extensions, extensions) === undefined),
  );
}

/** The first constrained extension the certificate does not carry with exactly that value, as a sentence; undefined when all match. */
export function extensionMismatch(required: ExtensionConstraints | undefined, actual: FulcioExtensions): string | undefined {
  for (const [name, want] of Object.entries(required ?? {}) as Array<[ExtensionName, string]>) {
    const got = actual[EXTENSION_FIELDS[name]];
    if (got !== want) return `${name} is ${got === undefined ? 'absent' : JSON.stringify(got)}, not ${JSON.stringify(want)}`;
  }
  return undefined;
}

/** Why a certificate identity matched no keyless signer: names the signer whose identity matched but whose extensions did not. */
export function keylessRefusal(signers: readonly TrustedSigner[], subject: string | undefined, issuer: string | undefined, extensions: FulcioExtensions): string {
  const byIdentity = matchKeyless(signers, subject, issuer);
  const who = `certificate identity ${JSON.stringify(subject ?? '')} from issuer ${JSON.stringify(issuer ?? '')}`;
  if (!byIdentity) return `${who} matches no keyless signer in the trust file`;
  const why = extensionMismatch(byIdentity.extensions, extensions);
  return `${who} matches signer ${JSON.stringify(byIdentity.name)} by identity, but the certificate's ${why ?? 'extensions do not match'}`;
}

/** Trusted CA signers (containers-image `pki`). */
export function caSigners(signers: readonly TrustedSigner[]): CaSigner[] {
  return signers.filter((s): s is CaSigner => s.type === 'ca');
}

/** Trusted key signers only. */
export function keySigners(signers: readonly TrustedSigner[]): KeySigner[] {
  return signers.filter((s): s is KeySigner => s.type === 'key');
}

/**
 * A trust file the user named for signature checks (`chain`/`check --trust`):
 * one with no signers would make every image "unsigned by anyone trusted"
 * without saying the file was the problem (an empty or wrong file).
 */
export async function loadSignerTrustFile(path: string): Promise<TrustFile> {
  const t = await loadTrustFile(path);
  // A file with reviewers only still says whose approvals count (chain lists them); one that names nobody is a mistake.
  if (t.signers.length === 0 && t.reviewers.length === 0) throw new VouchError('INVALID_TRUST_FILE', `${t.path}: no signers: the trust file names nobody whose signatures count (add signers: [{name, key}] or [{name, keyless: {issuer, subject}}])`);
  return t;
}

/**
 * What decides whether an image's own signatures verify, one digest per
 * signer: the signer by content (a key by its public key, not its path; a CA
 * by its certificates; keyless constraints; the log and identity rules), with
 * the trusted root's bytes and the platform rule folded in. Reviewers and
 * `require` are left out: an approval records its baseline's signer apart. An
 * approval records these digests, and `vouch verify` accepts it when they are
 * a subset of its own trust file's: a review judged under fewer signers is
 * stricter (fewer signatures counted), so adding a signer keeps old approvals,
 * while a signer of an attacker's trust file (the release file names it), a
 * relaxed rule or another root is not among them.
 */
const certDigest = (c: X509Certificate): string => createHash('sha256').update(c.root.toDER()).digest('hex');
const signerDigestCache = new WeakMap<object, string[]>();

export function signerDigests(trust: Pick<TrustFile, 'signers' | 'trustedRoot' | 'allowPlatformOnlySignatures'>): string[] {
  const known = signerDigestCache.get(trust);
  if (known) return known;
  const signer = (s: TrustedSigner): unknown => {
    const rule = s.signedIdentity ?? null;
    if (s.type === 'key') return { type: 'key', key: keyIdentity(s.key.key), tlog: s.tlog ?? 'required', rule };
    if (s.type === 'keyless') return { type: 'keyless', issuer: s.issuer, subject: s.subject ?? null, subjectRegExp: s.subjectRegExp ?? null, extensions: s.extensions ?? null, rule };
    return { type: 'ca', roots: s.roots.map(certDigest), intermediates: s.intermediates.map(certDigest), email: s.subjectEmail ?? null, hostname: s.subjectHostname ?? null, rule };
  };
  const root = trust.trustedRoot && trust.signers.length > 0 ? createHash('sha256').update(readLocalFileSync(trust.trustedRoot, { what: 'trusted root', max: LOCAL_FILE_LIMITS.trustedRoot })).digest('hex') : null;
  const platformOnly = trust.allowPlatformOnlySignatures === true;
  const out = [...new Set(trust.signers.map((x) => `sha256:${createHash('sha256').update(canonicalJson({ signer: signer(x), trustedRoot: root, allowPlatformOnlySignatures: platformOnly })).digest('hex')}`))].sort();
  signerDigestCache.set(trust, out);
  return out;
}
