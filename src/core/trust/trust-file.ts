/**
 * `vouch.trust.yaml`: whom the organisation trusts. Schema-validated (unknown
 * keys are errors), relative paths resolved against the file's own folder,
 * keys parsed and checked when the file is loaded, regular expressions
 * compiled anchored. `reviewers` and `require` are accepted for the approval
 * step and validated loosely here.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { describeKey, type PublicKeyInfo } from './prehash.js';
import type { SignerPolicy } from './types.js';

export const TRUST_FILE_NAME = 'vouch.trust.yaml';
const MAX_TRUST_FILE_BYTES = 1 << 20;

export interface KeySigner {
  name: string;
  type: 'key';
  /** Absolute path of the PEM. */
  keyPath: string;
  publicKeyPem: string;
  key: PublicKeyInfo;
}

export interface KeylessSigner {
  name: string;
  type: 'keyless';
  issuer: string;
  subject?: string;
  /** As written in the file (unanchored text); `pattern` is the anchored compiled form. */
  subjectRegExp?: string;
  pattern?: RegExp;
}

export type TrustedSigner = KeySigner | KeylessSigner;

export interface TrustFile {
  /** Absolute path of the file. */
  path: string;
  /** Absolute path of the trusted root, when the file names one. */
  trustedRoot?: string;
  signers: TrustedSigner[];
  reviewers: unknown[];
  require: Record<string, unknown>;
  /** The signers as the verifiers take them. */
  policy: SignerPolicy;
}

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'integer', enum: [1] },
    trustedRoot: { type: 'string', minLength: 1 },
    signers: {
      type: 'array',
      items: {
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
      },
    },
    // The approval issue owns these: shape checked loosely now.
    reviewers: { type: 'array', items: { type: 'object' } },
    require: { type: 'object' },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(SCHEMA);

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') return `${at}: unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  if (e.keyword === 'oneOf' && /signers\.\d+$/.test(at)) return `${at}: a signer has exactly one of "key" or "keyless"`;
  if (e.keyword === 'oneOf') return `${at}: give exactly one of "subject" or "subjectRegExp"`;
  return `${at}: ${e.message ?? e.keyword}`;
}

function fail(path: string, msg: string): never {
  throw new VouchError('INVALID_TRUST_FILE', `${path}: ${sanitizeLine(msg)}`);
}

/** Compile an identity pattern anchored at both ends, whatever the author wrote. */
export function anchoredRegExp(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

/** Parse the text of a trust file located at `path` (paths in it resolve against its folder). */
export async function parseTrustFile(text: string, path: string): Promise<TrustFile> {
  const abs = resolve(path);
  const dir = dirname(abs);
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    fail(abs, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!validate(doc)) fail(abs, (validate.errors ?? []).filter((e) => e.keyword !== 'if').slice(0, 3).map(describe).join('; '));
  const d = doc as { trustedRoot?: string; signers?: any[]; reviewers?: unknown[]; require?: Record<string, unknown> };
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  const names = new Set<string>();
  const signers: TrustedSigner[] = [];
  for (const [i, s] of (d.signers ?? []).entries()) {
    if (names.has(s.name)) fail(abs, `signers.${i}: duplicate signer name ${JSON.stringify(s.name)}`);
    names.add(s.name);
    if (s.key !== undefined) {
      const keyPath = at(s.key);
      let pem: string;
      try {
        pem = await readFile(keyPath, 'utf8');
      } catch (e) {
        fail(abs, `signers.${i} (${s.name}): cannot read key ${keyPath} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      let key: PublicKeyInfo;
      try {
        key = describeKey(pem);
      } catch (e) {
        fail(abs, `signers.${i} (${s.name}): ${keyPath} is not a usable public key: ${(e as Error).message}`);
      }
      signers.push({ name: s.name, type: 'key', keyPath, publicKeyPem: pem, key });
    } else {
      const k = s.keyless as { issuer: string; subject?: string; subjectRegExp?: string };
      const signer: KeylessSigner = { name: s.name, type: 'keyless', issuer: k.issuer };
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
  const out: TrustFile = {
    path: abs,
    signers,
    reviewers: d.reviewers ?? [],
    require: d.require ?? {},
    policy: toSignerPolicy(signers),
  };
  if (d.trustedRoot !== undefined) out.trustedRoot = at(d.trustedRoot);
  return out;
}

export async function loadTrustFile(path: string): Promise<TrustFile> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new VouchError('NOT_FOUND', `${resolve(path)}: cannot read trust file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (buf.length > MAX_TRUST_FILE_BYTES) throw new VouchError('LIMIT_EXCEEDED', `${resolve(path)}: trust file larger than ${MAX_TRUST_FILE_BYTES} bytes`);
  return parseTrustFile(buf.toString('utf8'), path);
}

export function toSignerPolicy(signers: TrustedSigner[]): SignerPolicy {
  return {
    keys: signers.filter((s): s is KeySigner => s.type === 'key').map((s) => ({ name: s.name, publicKeyPem: s.publicKeyPem })),
    identities: signers
      .filter((s): s is KeylessSigner => s.type === 'keyless')
      .map((s) => ({ name: s.name, issuer: s.issuer, ...(s.subject !== undefined ? { subject: s.subject } : {}), ...(s.subjectRegExp !== undefined ? { subjectRegExp: s.subjectRegExp } : {}) })),
  };
}

/** The trust file entry a keyless identity matches: issuer exact, subject exact or anchored regexp. */
export function matchKeyless(signers: readonly TrustedSigner[], subject: string | undefined, issuer: string | undefined): KeylessSigner | undefined {
  if (subject === undefined || issuer === undefined) return undefined;
  return signers.find(
    (s): s is KeylessSigner =>
      s.type === 'keyless' && s.issuer === issuer && (s.subject !== undefined ? s.subject === subject : s.pattern !== undefined && s.pattern.test(subject)),
  );
}

/** Trusted key signers only. */
export function keySigners(signers: readonly TrustedSigner[]): KeySigner[] {
  return signers.filter((s): s is KeySigner => s.type === 'key');
}
