/**
 * `vouch.policy.yaml`: which checks run, at which severity, with which
 * thresholds and allow-lists, and the exceptions a review granted. Validated
 * with a JSON schema (unknown keys are errors; messages name the field);
 * check ids are validated against the registry. Lists given in the file
 * replace the built-in ones (the built-in policy below shows them all, so a
 * policy usually starts as a copy of it: `vouch check --print-policy`).
 *
 * The policy's digest (sha256 of the file's bytes; of DEFAULT_POLICY_YAML for
 * the built-in one) is in every result set, so an approval can name the exact
 * policy it was reviewed under.
 */
import { createHash } from 'node:crypto';
import { readLocalFile } from '../util/local-file.js';
import { resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import { checkSchema } from '../util/schema-check.js';
import { parseYamlUnique } from '../util/yaml.js';
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { SEVERITIES, type Severity } from './types.js';

export const POLICY_FILE_NAME = 'vouch.policy.yaml';

/**
 * The checks that read attached evidence (scans, SBOMs). Attached evidence
 * counts only when its signature verifies against the trust file; a policy may
 * let unsigned evidence count per check (`checks.ID.unsignedEvidence: true`).
 */
export const UNSIGNED_EVIDENCE_CHECKS: ReadonlySet<string> = new Set(['VCH-CP-001', 'VCH-CP-002', 'VCH-CP-003', 'VCH-DC-001']);
const MAX_POLICY_BYTES = 1 << 20;

export interface PolicyException {
  check: string;
  /** Subject key or glob (see subjectKey in run.ts): "/usr/bin/x", "env:NAME", "package:pkg:npm/x@1", "layer:sha256:…", "signature:…", "image", or "*". */
  subject: string;
  /** Glob over `subject.image` (`name@digest`); default every image. */
  image?: string;
  reason: string;
  /** YYYY-MM-DD: the exception applies through the end of that day (UTC). */
  expires: string;
}

export interface ResolvedPolicy {
  /** `sha256:…` of the policy file bytes (or of the built-in policy text). */
  digest: string;
  /** The file path, or "built-in". */
  source: string;
  failOn: Severity;
  checks: Record<string, { enabled?: boolean; severity?: Severity; unsignedEvidence?: boolean }>;
  scans: { maxAgeDays: number; failSeverity: Severity };
  licenses: { copyleft: string[]; unknown: string[]; ignoreTypes: string[] };
  allow: { setuid: string[]; paths: string[]; env: string[]; ports: number[] };
  exceptions: PolicyException[];
}

const SETUID_NAMES = ['su', 'passwd', 'mount', 'umount', 'ping', 'ping6', 'sudo', 'chsh', 'chfn', 'newgrp', 'gpasswd', 'unix_chkpwd', 'expiry', 'chage', 'wall', 'write', 'ssh-agent', 'crontab', 'fusermount', 'fusermount3', 'pam_extrausers_chkpwd'];

/** The built-in policy, as a file a user can copy. Its digest names "the defaults" in results. */
export const DEFAULT_POLICY_YAML = `# vouch built-in policy (vouch check --print-policy). Lists given in a policy file replace these.
version: 1
# Exit 1 when a failing result is at or above this severity (--fail-on overrides).
failOn: high
# Per check: enabled (default true) and severity (default: the check's own); for
# VCH-CP-001/002/003 and VCH-DC-001, unsignedEvidence: true lets attached scans and
# SBOMs count without a trusted signature (default: only verified ones count).
checks: {}
scans:
  # A vulnerability scan older than this (days) fails VCH-CP-002.
  maxAgeDays: 7
  # Scan findings at or above this severity fail VCH-CP-003.
  failSeverity: high
licenses:
  # SPDX ids (globs) counted as copyleft by VCH-DC-005.
  copyleft: [GPL-1.0*, GPL-2.0*, GPL-3.0*, AGPL-*, SSPL-*, EUPL-*, OSL-*, CPAL-1.0, RPL-*, Sleepycat]
  # Licence strings that mean "unknown" for VCH-DC-006 (a package with none is unknown too).
  unknown: [NOASSERTION, NONE, UNKNOWN, "LicenseRef-*unknown*", "SEE LICENSE IN*"]
  # Package types whose licences are not judged (OS packages: the distribution reviewed them).
  ignoreTypes: [deb, apk, rpm]
allow:
  # setuid/setgid files that are expected (VCH-LP-002). Globs: * within a segment, ** across.
  setuid:
${SETUID_NAMES.map((n) => `    - "/{bin,sbin,usr/bin,usr/sbin}/${n}"`).join('\n')}
    - /usr/lib/openssh/ssh-keysign
    - /usr/libexec/openssh/ssh-keysign
    - /usr/lib/dbus-1.0/dbus-daemon-launch-helper
  # Paths every path check ignores (world-writable, setuid, caches, leftovers, lockfiles).
  paths: []
  # Environment variable names (globs) that are not secrets whatever they hold (VCH-LP-007).
  env: [GPG_KEY, GPG_KEYS, "*_FILE", "*_KEY_URL", "*_KEYRING"]
  # Exposed ports below 1024 that are not flagged (VCH-LP-005).
  ports: [80, 443]
# Exceptions granted by a review: check, subject (see docs/checks.md), reason, expires (YYYY-MM-DD).
exceptions: []
`;

const GLOB_LIST = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 1000 }, maxItems: 10000 } as const;

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'integer', enum: [1] },
    failOn: { type: 'string', enum: [...SEVERITIES] },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { enabled: { type: 'boolean' }, severity: { type: 'string', enum: [...SEVERITIES] }, unsignedEvidence: { type: 'boolean' } },
      },
    },
    scans: {
      type: 'object',
      additionalProperties: false,
      properties: { maxAgeDays: { type: 'number', minimum: 0 }, failSeverity: { type: 'string', enum: [...SEVERITIES] } },
    },
    licenses: {
      type: 'object',
      additionalProperties: false,
      properties: { copyleft: GLOB_LIST, unknown: GLOB_LIST, ignoreTypes: GLOB_LIST },
    },
    allow: {
      type: 'object',
      additionalProperties: false,
      properties: {
        setuid: GLOB_LIST,
        paths: GLOB_LIST,
        env: GLOB_LIST,
        ports: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 65535 } },
      },
    },
    exceptions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['check', 'subject', 'reason', 'expires'],
        properties: {
          check: { type: 'string', pattern: '^VCH-[A-Z]{2}-[0-9]{3}$' },
          subject: { type: 'string', minLength: 1, maxLength: 4096 },
          image: { type: 'string', minLength: 1, maxLength: 4096 },
          reason: { type: 'string', minLength: 1, maxLength: 4096 },
          expires: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
        },
      },
    },
  },
} as const;

/** Exported so that a test can hold schema-check to ajv on it. */
export const POLICY_FILE_SCHEMA = SCHEMA;

// Loading and compiling ajv costs ~0.1-0.2 s per process: a valid file passes schema-check alone
// (never laxer than ajv); ajv is loaded (synchronously: it is CommonJS) only to word the errors.
let validator: ValidateFunction | undefined;
function ajvValidate(): ValidateFunction {
  if (!validator) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    validator = new Ajv({ allErrors: true, strict: true }).compile(SCHEMA);
  }
  return validator;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') return `${at}: unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  if (e.keyword === 'enum') return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'pattern' && at.endsWith('.expires')) return `${at}: must be a date YYYY-MM-DD`;
  if (e.keyword === 'pattern' && at.endsWith('.check')) return `${at}: must be a check id like VCH-LP-001`;
  return `${at}: ${e.message ?? e.keyword}`;
}

function fail(where: string, msg: string): never {
  throw new VouchError('INVALID_POLICY', `${where}: ${sanitizeLine(msg)}`);
}

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

interface PolicyDoc {
  failOn?: Severity;
  checks?: Record<string, { enabled?: boolean; severity?: Severity; unsignedEvidence?: boolean }>;
  scans?: { maxAgeDays?: number; failSeverity?: Severity };
  licenses?: { copyleft?: string[]; unknown?: string[]; ignoreTypes?: string[] };
  allow?: { setuid?: string[]; paths?: string[]; env?: string[]; ports?: number[] };
  exceptions?: PolicyException[];
}

function readDoc(text: string, where: string): PolicyDoc {
  let doc: unknown;
  try {
    doc = parseYamlUnique(text, { maxAliasCount: 100 });
  } catch (e) {
    fail(where, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  const validate = checkSchema(SCHEMA, doc) === null ? null : ajvValidate();
  if (validate && !validate(doc)) fail(where, (validate.errors ?? []).slice(0, 3).map(describe).join('; '));
  return doc as PolicyDoc;
}

const DEFAULT_DOC = readDoc(DEFAULT_POLICY_YAML, 'built-in policy');

/**
 * Parse a policy. `knownChecks` (the registry's ids) makes unknown check ids
 * in `checks` and `exceptions` errors; `where` names the file in messages.
 */
export function parsePolicy(text: string | Uint8Array, where: string, knownChecks?: ReadonlySet<string>): ResolvedPolicy {
  const str = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  const doc = readDoc(str, where);
  if (knownChecks) {
    for (const id of Object.keys(doc.checks ?? {})) if (!knownChecks.has(id)) fail(where, `checks.${id}: unknown check id`);
    for (const [id, c] of Object.entries(doc.checks ?? {})) {
      if (c.unsignedEvidence !== undefined && !UNSIGNED_EVIDENCE_CHECKS.has(id)) fail(where, `checks.${id}.unsignedEvidence: only ${[...UNSIGNED_EVIDENCE_CHECKS].join(', ')} read attached evidence`);
    }
    for (const [i, x] of (doc.exceptions ?? []).entries()) if (!knownChecks.has(x.check)) fail(where, `exceptions.${i}.check: unknown check id ${JSON.stringify(x.check)}`);
  }
  for (const [i, x] of (doc.exceptions ?? []).entries()) {
    const t = Date.parse(`${x.expires}T00:00:00Z`);
    if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== x.expires) fail(where, `exceptions.${i}.expires: ${JSON.stringify(x.expires)} is not a calendar date`);
  }
  const d = DEFAULT_DOC;
  return {
    digest: sha256Digest(text),
    source: where,
    failOn: doc.failOn ?? d.failOn!,
    checks: { ...(doc.checks ?? {}) },
    scans: { maxAgeDays: doc.scans?.maxAgeDays ?? d.scans!.maxAgeDays!, failSeverity: doc.scans?.failSeverity ?? d.scans!.failSeverity! },
    licenses: {
      copyleft: doc.licenses?.copyleft ?? d.licenses!.copyleft!,
      unknown: doc.licenses?.unknown ?? d.licenses!.unknown!,
      ignoreTypes: doc.licenses?.ignoreTypes ?? d.licenses!.ignoreTypes!,
    },
    allow: {
      setuid: doc.allow?.setuid ?? d.allow!.setuid!,
      paths: doc.allow?.paths ?? d.allow!.paths!,
      env: doc.allow?.env ?? d.allow!.env!,
      ports: doc.allow?.ports ?? d.allow!.ports!,
    },
    exceptions: doc.exceptions ?? [],
  };
}

/** The built-in policy (source "built-in"). */
export function defaultPolicy(): ResolvedPolicy {
  return { ...parsePolicy(DEFAULT_POLICY_YAML, 'built-in policy'), source: 'built-in' };
}

export async function loadPolicy(path: string, knownChecks?: ReadonlySet<string>): Promise<ResolvedPolicy> {
  const abs = resolve(path);
  const buf = await readLocalFile(abs, { what: 'policy file', max: MAX_POLICY_BYTES });
  return parsePolicy(buf, abs, knownChecks);
}

// ---------------------------------------------------------------------------
// Globs: `*` within a path segment, `**` across segments, `?` one character, `{a,b}` alternatives.

const globCache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (re) return re;
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '{') {
      out += '(?:';
      depth++;
    } else if (c === '}' && depth > 0) {
      out += ')';
      depth--;
    } else if (c === ',' && depth > 0) out += '|';
    else out += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  while (depth-- > 0) out += ')';
  re = new RegExp(`^${out}$`);
  globCache.set(glob, re);
  return re;
}

/** A matcher for a list of globs (case-sensitive; `ci` for env names and licences). */
export function globMatcher(globs: readonly string[], ci = false): (s: string) => boolean {
  const exact = new Set<string>();
  const res: RegExp[] = [];
  for (const g of globs) {
    if (/[*?{]/.test(g)) {
      const r = globToRegExp(ci ? g.toLowerCase() : g);
      res.push(r);
    } else exact.add(ci ? g.toLowerCase() : g);
  }
  return (s: string): boolean => {
    const v = ci ? s.toLowerCase() : s;
    if (exact.has(v)) return true;
    for (const r of res) if (r.test(v)) return true;
    return false;
  };
}
