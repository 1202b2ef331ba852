/**
 * Verifying approval records: each bundle's signature by a reviewer the trust
 * file names (offline, through trust/bundle.ts), a subject with the image's
 * exact digest (the digest decides; the name is reported), then the trust
 * file's `require`: allowed decisions, not expired, within maxAge, the policy
 * digest, a transparency log entry, and enough distinct reviewers.
 *
 * Bundles are read strictly: only the fields a v0.3 DSSE bundle has (an
 * unknown field could carry anything past a lenient parser), exactly one DSSE
 * signature, a key hint and DSSE keyid that name the key that verified.
 * Together with the signature over the payload this makes every byte of the
 * file matter: changing any one is refused.
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { constants as fsConstants, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultCacheDir } from '../cache/cache.js';
import { VouchError } from '../errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import { verifyBundleSync } from '../trust/bundle.js';
import { strictBase64 } from '../trust/encoding.js';
import { defaultTrustedRoot, loadTrustedRoot, parseTrustedRoot, type TrustedRoot } from '../trust/trusted-root.js';
import { keyIdentity, signerDigests, toSignerPolicy, type TrustFile } from '../trust/trust-file.js';
import type { SignerPolicy, VerificationResult } from '../trust/types.js';
import { APPROVAL_PREDICATE_TYPE, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, type ApprovalStatement } from './statement.js';
import { checkApprovalStatement } from './schema.js';
import { checkSchema } from '../util/schema-check.js';

export interface ApprovalReason {
  code: string;
  message: string;
}

export interface ApprovalVerification {
  ok: boolean;
  /** NAME@sha256:… as asked. */
  image: string;
  decision: string | null;
  release: { name: string; version: string } | null;
  reviewers: Array<{ name: string; identity: string }>;
  reasons: ApprovalReason[];
}

export interface LoadedApproval {
  /** Absolute path of the file. */
  path: string;
  /** The bundle as parsed (JSON). */
  bundle: Record<string, unknown>;
  /** The statement it carries, NOT yet verified. */
  statement: ApprovalStatement;
  /**
   * sha256 of the signed statement (the DSSE payload): what a later approval
   * names as its baseline. The signature covers it, so it is the same whatever
   * file (or registry layer) carries the approval.
   */
  digest: string;
}

const MAX_APPROVAL_BYTES = 16 << 20;
export const APPROVAL_FILE_SUFFIX = '.sigstore.json';

// ---------------------------------------------------------------- reading

const B64 = { type: 'string' } as const;
const INT_STRING = { anyOf: [{ type: 'string', pattern: '^[0-9]{1,20}$' }, { type: 'integer', minimum: 0 }] } as const;
const BUNDLE_SHAPE = {
  type: 'object',
  additionalProperties: false,
  required: ['mediaType', 'verificationMaterial', 'dsseEnvelope'],
  properties: {
    mediaType: { type: 'string', enum: ['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.3'] },
    verificationMaterial: {
      type: 'object',
      additionalProperties: false,
      properties: {
        publicKey: { type: 'object', additionalProperties: false, properties: { hint: { type: 'string' } } },
        certificate: { type: 'object', additionalProperties: false, required: ['rawBytes'], properties: { rawBytes: B64 } },
        // Empty arrays are refused: vouch leaves the field out, and a file may vary in nothing unsigned.
        tlogEntries: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              logIndex: INT_STRING,
              logId: { type: 'object', additionalProperties: false, properties: { keyId: B64 } },
              kindVersion: { type: 'object', additionalProperties: false, properties: { kind: { type: 'string' }, version: { type: 'string' } } },
              integratedTime: INT_STRING,
              inclusionPromise: { type: 'object', additionalProperties: false, properties: { signedEntryTimestamp: B64 } },
              inclusionProof: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  logIndex: INT_STRING,
                  rootHash: B64,
                  treeSize: INT_STRING,
                  hashes: { type: 'array', items: B64 },
                  checkpoint: { type: 'object', additionalProperties: false, properties: { envelope: { type: 'string' } } },
                },
              },
              canonicalizedBody: B64,
            },
          },
        },
        timestampVerificationData: {
          type: 'object',
          additionalProperties: false,
          properties: { rfc3161Timestamps: { type: 'array', minItems: 1, items: { type: 'object', additionalProperties: false, properties: { signedTimestamp: B64 } } } },
        },
      },
      // Always written (as {} without a TSA): a file without it would verify the same, a variant of the one that was signed.
      required: ['timestampVerificationData'],
      oneOf: [{ required: ['publicKey'] }, { required: ['certificate'] }],
    },
    dsseEnvelope: {
      type: 'object',
      additionalProperties: false,
      required: ['payload', 'payloadType', 'signatures'],
      properties: {
        payload: B64,
        payloadType: { type: 'string', const: IN_TOTO_PAYLOAD_TYPE },
        signatures: { type: 'array', minItems: 1, maxItems: 1, items: { type: 'object', additionalProperties: false, required: ['sig'], properties: { sig: B64, keyid: { type: 'string' } } } },
      },
    },
  },
} as const;


function bad(path: string, msg: string): never {
  throw new VouchError('INVALID_BUNDLE', `${path}: ${sanitizeLine(msg)}`);
}

/** Parse one approval file (bytes already read); throws VouchError naming the file and field. */
export function parseApproval(bytes: Uint8Array, path: string): LoadedApproval {
  const abs = resolve(path);
  if (bytes.length > MAX_APPROVAL_BYTES) bad(abs, `larger than ${MAX_APPROVAL_BYTES} bytes`);
  let raw: unknown;
  const text = Buffer.from(bytes).toString('utf8');
  try {
    raw = JSON.parse(text);
  } catch (e) {
    bad(abs, `not a Sigstore bundle: not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(abs, 'not a Sigstore bundle: not a JSON object');
  // Only the bytes vouch writes (compact JSON, at most one final newline): whitespace and re-encodings that
  // change the file but not what verifies are refused rather than left as unsigned variance.
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  let compact: string;
  try {
    compact = JSON.stringify(raw);
  } catch {
    bad(abs, 'not a Sigstore bundle: nested too deeply'); // JSON.stringify overflows the stack first
  }
  if (compact !== body) bad(abs, 'not in the form vouch writes (compact JSON, optionally one final newline): whitespace or encoding was changed');
  const shapeError = checkSchema(BUNDLE_SHAPE, raw);
  if (shapeError) {
    const e = shapeError;
    const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'bundle';
    const extra = e.keyword === 'additionalProperties' ? ` ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}` : '';
    bad(abs, `not an approval bundle (Sigstore bundle v0.3 with a DSSE envelope): ${at}: ${e.message ?? e.keyword}${extra}`);
  }
  const env = (raw as { dsseEnvelope: { payload: string } }).dsseEnvelope;
  const payload = strictBase64(env.payload);
  if (!payload) bad(abs, 'dsseEnvelope.payload: not valid base64');
  let statement: any;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    bad(abs, 'dsseEnvelope.payload: not a JSON in-toto statement');
  }
  if (statement?._type !== IN_TOTO_STATEMENT_V1) bad(abs, `dsseEnvelope.payload._type: ${JSON.stringify(statement?._type ?? null)} is not ${IN_TOTO_STATEMENT_V1}`);
  if (statement.predicateType !== APPROVAL_PREDICATE_TYPE) bad(abs, `dsseEnvelope.payload.predicateType: ${JSON.stringify(statement.predicateType ?? null)} is not ${APPROVAL_PREDICATE_TYPE}`);
  const e = checkApprovalStatement(statement);
  if (e) {
    bad(abs, `dsseEnvelope.payload${e.instancePath.replace(/\//g, '.')}: ${e.message ?? e.keyword}`);
  }
  return { path: abs, bundle: raw as unknown as Record<string, unknown>, statement: statement as ApprovalStatement, digest: `sha256:${createHash('sha256').update(payload).digest('hex')}` };
}

/** Read approval files, or every `*.sigstore.json` in a directory (sorted). A bad file is an error naming it. */
export async function loadApprovals(paths: string[]): Promise<LoadedApproval[]> {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      throw new VouchError('NOT_FOUND', `${resolve(p)}: cannot read approval (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => n.endsWith(APPROVAL_FILE_SUFFIX)).sort();
      files.push(...names.map((n) => join(p, n)));
    } else files.push(p);
  }
  const out: LoadedApproval[] = [];
  for (const f of files) out.push(parseApproval(await readApprovalFile(f), f));
  return out;
}

/**
 * A regular file's bytes, at most MAX_APPROVAL_BYTES. Non-blocking open so a
 * FIFO cannot hang us; the type is checked on the open descriptor (a symlink
 * to /dev/zero is a character device there) and the read is bounded anyway.
 */
async function readApprovalFile(f: string): Promise<Buffer> {
  const abs = resolve(f);
  let fh;
  try {
    fh = await open(f, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    throw new VouchError('NOT_FOUND', `${abs}: cannot read approval (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) bad(abs, 'not a regular file (a device, FIFO or socket is never an approval)');
    if (st.size > MAX_APPROVAL_BYTES) bad(abs, `larger than ${MAX_APPROVAL_BYTES} bytes`);
    // One byte more than stat said: a file that grows while read is refused, never read without bound.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n > st.size) bad(abs, 'changed while being read');
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------- trust material

const rootCache = new Map<string, TrustedRoot>();

let emptyRoot: TrustedRoot | undefined;

/**
 * The trusted root approvals verify against: the trust file's, else a
 * TUF-refreshed one in the cache, else public-good. A key-signed approval
 * without log entries needs none of it (`needed` false): parsing the
 * public-good root would be most of a `vouch verify` run.
 */
export function approvalTrustedRoot(trust: TrustFile, needed = true): TrustedRoot {
  if (!needed && !trust.trustedRoot) {
    emptyRoot ??= parseTrustedRoot({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], ctlogs: [], certificateAuthorities: [], timestampAuthorities: [] }, '(no log or CA needed)');
    return emptyRoot;
  }
  const cached = join(defaultCacheDir(), 'trust', 'trusted_root.json');
  const path = trust.trustedRoot ?? (existsSync(cached) ? cached : undefined);
  if (!path) return defaultTrustedRoot();
  let r = rootCache.get(path);
  if (!r) {
    r = loadTrustedRoot(path);
    rootCache.set(path, r);
  }
  return r;
}

const policyCache = new WeakMap<TrustFile, SignerPolicy>();
function reviewerPolicy(trust: TrustFile): SignerPolicy {
  let p = policyCache.get(trust);
  if (!p) {
    p = toSignerPolicy(trust.reviewers);
    policyCache.set(trust, p);
  }
  return p;
}

/** A trust file that cannot vouch for approvals is bad input, not a refusal. */
export function requireReviewers(trust: TrustFile): void {
  if (trust.reviewers.length === 0) throw new VouchError('INVALID_TRUST_FILE', `${trust.path}: reviewers: none listed; approvals can only be verified against trusted reviewers`);
}

export interface SignatureCheck {
  verified: boolean;
  code: string;
  message: string;
  /** The trust file's reviewer name. */
  reviewer: string | null;
  /** Key id or certificate identity. */
  identity: string | null;
  logged: boolean;
  signedAt: string | null;
}

/**
 * The signature of one approval, for `digest` (one of its subjects): valid,
 * by a trusted reviewer, with the hint and keyid naming that very key.
 */
export function verifyApprovalSignature(a: LoadedApproval, digest: string, trust: TrustFile): SignatureCheck {
  requireReviewers(trust);
  const hex = digest.replace(/^sha256:/, '');
  const vm = a.bundle.verificationMaterial as { publicKey?: { hint?: string }; tlogEntries?: unknown[] };
  const isKey = vm.publicKey !== undefined;
  const logged = (vm.tlogEntries?.length ?? 0) > 0;
  const stamped = ((vm as { timestampVerificationData?: { rfc3161Timestamps?: unknown[] } }).timestampVerificationData?.rfc3161Timestamps?.length ?? 0) > 0;
  const needTlog = !isKey || trust.require.tlog === true;
  if (needTlog && !logged) {
    return { verified: false, code: 'TLOG_MISSING', message: 'the trust file requires a transparency log entry and this approval has none', reviewer: null, identity: null, logged, signedAt: null };
  }
  const r: VerificationResult = verifyBundleSync(a.bundle, { kind: 'digest', algorithm: 'sha256', hex }, reviewerPolicy(trust), approvalTrustedRoot(trust, !isKey || logged || stamped), {
    tlogThreshold: needTlog ? 1 : 0,
    timestampThreshold: needTlog ? 1 : 0,
    ctlogThreshold: isKey ? 0 : 1,
  });
  const base = { logged, signedAt: r.signedAt ?? null };
  if (!r.verified || !r.signer) return { ...base, verified: false, code: r.reason, message: r.message, reviewer: null, identity: null };
  const keyid = ((a.bundle.dsseEnvelope as { signatures: Array<{ keyid?: string }> }).signatures[0]!.keyid ?? '');
  if (isKey) {
    const hint = vm.publicKey!.hint ?? '';
    // Only the hint that names this key (as vouch writes it, hex of the SPKI digest) and the same keyid: nothing unsigned may vary.
    if (hint !== r.signer.keyId || keyid !== hint) {
      return { ...base, verified: false, code: 'BUNDLE_INVALID', message: 'the key hint or DSSE keyid does not name the key that signed', reviewer: null, identity: null };
    }
  } else if (keyid !== '') {
    return { ...base, verified: false, code: 'BUNDLE_INVALID', message: 'a certificate-signed DSSE envelope must have an empty keyid', reviewer: null, identity: null };
  }
  const identity = r.signer.type === 'key' ? `key ${r.signer.keyId}` : `${r.signer.subject ?? ''} (${r.signer.issuer ?? ''})`;
  return { ...base, verified: true, code: 'OK', message: r.message, reviewer: r.signer.trustedAs, identity: sanitizeLine(identity) };
}

// ---------------------------------------------------------------- the decision

/** The signer's identity for counting: the trusted key itself (normalised), or the certificate's subject and issuer. */
function signerIdentity(trust: TrustFile, sig: SignatureCheck): string {
  const r = trust.reviewers.find((x) => x.name === sig.reviewer);
  if (r?.type === 'key') return `key:${keyIdentity(r.key.key)}`;
  return `cert:${sig.identity ?? ''}`;
}

const DEFAULT_DECISIONS = ['approved', 'approved-with-exceptions'];
/** How far ahead of this clock a reviewer's clock may be. */
const CLOCK_SKEW_MS = 5 * 60_000;

function subjectFor(statement: ApprovalStatement, hex: string): { name: string } | undefined {
  return statement.subject.find((s) => s.digest?.sha256?.toLowerCase() === hex);
}

/**
 * The trust file's `require` rules one verified record must meet, as `vouch verify` applies them: an allowed
 * decision (never a rejection unless the trust file lists it), not expired, reviewedAt not in the future, within
 * maxAge, reviewed under the required policy, logged when the log is required. Empty: the record meets them.
 * The count of distinct reviewers (`approvals`) is a rule about several records and is not judged here.
 */
export function requireReasons(
  statement: ApprovalStatement,
  sig: Pick<SignatureCheck, 'reviewer' | 'signedAt' | 'logged'>,
  trust: TrustFile,
  now: Date = new Date(),
): ApprovalReason[] {
  const req = trust.require;
  const allowed = req.decisions ?? DEFAULT_DECISIONS;
  const p = statement.predicate;
  const out: ApprovalReason[] = [];
  const say = (code: string, message: string): void => {
    out.push({ code, message: sanitizeLine(message) });
  };
  if (p.decision === 'rejected' && !allowed.includes('rejected')) {
    say('REJECTED', `reviewer ${sig.reviewer} rejected release ${p.release.name} ${p.release.version}${p.rationale ? `: ${p.rationale}` : ''}`);
  } else if (!allowed.includes(p.decision)) {
    say('DECISION_NOT_ALLOWED', `decision ${p.decision} is not one the trust file allows (${allowed.join(', ')})`);
  }
  if (p.expiresAt !== undefined && Date.parse(p.expiresAt) <= now.getTime()) say('EXPIRED', `the approval expired at ${p.expiresAt}`);
  // Age runs from the EARLIER of the signed reviewedAt and the proven time (log entry or timestamp): anyone
  // holding an old approval can log it today, so a proven time only ever makes an approval older, never newer.
  const claimed = Date.parse(p.reviewedAt);
  if (claimed > now.getTime() + CLOCK_SKEW_MS) say('REVIEWED_IN_FUTURE', `reviewedAt ${p.reviewedAt} is in the future`);
  const proven = sig.signedAt ? Date.parse(sig.signedAt) : Number.NaN;
  const from = Number.isNaN(proven) ? claimed : Math.min(claimed, proven);
  if (req.maxAgeMs !== undefined && now.getTime() - from > req.maxAgeMs) say('TOO_OLD', `reviewed at ${new Date(from).toISOString()}, more than ${req.maxAge} ago`);
  if (req.policyDigest !== undefined && p.policy.digest !== req.policyDigest) say('POLICY_MISMATCH', `reviewed under policy ${p.policy.digest}, the trust file requires ${req.policyDigest}`);
  // The evidence (signature results) was judged under the signers the release named: a file of the attacker's
  // choosing, unless they are the signers this trust file lists.
  if (req.signers !== 'any') {
    const mine = new Set(signerDigests(trust));
    const foreign = p.trust.signers?.filter((d) => !mine.has(d)) ?? null;
    if (!foreign) say('TRUST_MISMATCH', 'it records no signers (made by an older vouch): approve it again under this trust file (vouch session init, then approve); require.signers: any accepts it');
    else if (foreign.length) say('TRUST_MISMATCH', `its evidence was judged under ${foreign.length} signer(s) ${trust.path} does not list (${foreign.map((d) => d.slice(0, 19)).join(', ')}: another key, a relaxed rule or another trusted root): approve it again under this trust file (vouch session init, then approve); require.signers: any accepts it`);
  }
  // The baseline the review compared against (downgrades, new licences) was judged under the release's trust file
  // too: its signer must be a reviewer this file trusts, and its decision one this file admits.
  if (req.signers !== 'any' && p.baseline) {
    const b = p.baseline;
    if (!b.identity || !b.decision) say('TRUST_MISMATCH', 'its baseline records no signer or decision (made by an older vouch); require.signers: any accepts it');
    else if (!trustsIdentity(trust, b.identity)) say('TRUST_MISMATCH', `its baseline was approved by ${b.identity}, whom ${trust.path} does not trust as a reviewer; require.signers: any accepts it`);
    else if (b.decision === 'rejected' || !allowed.includes(b.decision)) say('TRUST_MISMATCH', `its baseline's decision ${b.decision} is not one ${trust.path} admits`);
  }
  if (req.tlog && !sig.logged) say('TLOG_MISSING', 'the trust file requires a transparency log entry and this approval has none');
  return out;
}

/**
 * Before signing: what `vouch verify` with the reviewer's trust file would refuse (TRUST_MISMATCH) in a record
 * whose evidence was judged under the release's (`evidence`): signers the reviewer's file does not list, or a
 * baseline signed by someone it does not trust. Null when there is nothing (or the file says `signers: any`).
 */
export function evidenceTrustProblem(trust: TrustFile, evidence: TrustFile, baseline: { identity?: string } | null): { what: 'signers' } | { what: 'baseline'; identity: string } | null {
  if (trust === evidence || trust.require.signers === 'any') return null;
  const yours = new Set(signerDigests(trust));
  if (!signerDigests(evidence).every((d) => yours.has(d))) return { what: 'signers' };
  if (baseline?.identity && !trustsIdentity(trust, baseline.identity)) return { what: 'baseline', identity: baseline.identity };
  return null;
}

/** Whether a recorded signer identity (`key <keyId>`, or `subject (issuer)`) is one of the trust file's reviewers. */
export function trustsIdentity(trust: TrustFile, identity: string): boolean {
  const key = /^key ([0-9a-f]{64})$/.exec(identity);
  if (key) return trust.reviewers.some((r) => r.type === 'key' && r.key.keyId === key[1]);
  const at = identity.lastIndexOf(' (');
  if (at < 0 || !identity.endsWith(')')) return false;
  const subject = identity.slice(0, at);
  const issuer = identity.slice(at + 2, -1);
  return trust.reviewers.some((r) => r.type === 'keyless' && r.issuer === issuer && (r.subject !== undefined ? r.subject === subject : r.pattern?.test(subject) === true));
}

export interface RecordVerdict {
  /** `vouch verify` would accept this record alone for the digest (signature, trusted reviewer, every `require` rule but the count). */
  ok: boolean;
  signature: SignatureCheck | null;
  /** Why not, in verify's codes (empty when ok). */
  reasons: ApprovalReason[];
}

/** One record for one digest, as `vouch verify` judges each record: it names the digest, its signature verifies, it meets `require`. */
export function verifyApprovalRecord(a: LoadedApproval, digest: string, trust: TrustFile, opts: { now?: Date } = {}): RecordVerdict {
  requireReviewers(trust);
  const hex = digest.replace(/^sha256:/, '').toLowerCase();
  if (!subjectFor(a.statement, hex)) return { ok: false, signature: null, reasons: [{ code: 'NO_APPROVAL', message: sanitizeLine(`the approval does not name ${digest}`) }] };
  const sig = verifyApprovalSignature(a, `sha256:${hex}`, trust);
  if (!sig.verified) return { ok: false, signature: sig, reasons: [{ code: sig.code, message: sanitizeLine(sig.message) }] };
  const reasons = requireReasons(a.statement, sig, trust, opts.now ?? new Date());
  return { ok: reasons.length === 0, signature: sig, reasons };
}

/** Verify the approvals that cover `image` (name + sha256 digest) against the trust file's reviewers and `require`. */
export async function verifyApprovalsForImage(
  approvals: LoadedApproval[],
  image: { name: string; digest: string },
  trust: TrustFile,
  opts: { now?: Date } = {},
): Promise<ApprovalVerification> {
  requireReviewers(trust);
  const now = opts.now ?? new Date();
  const label = `${image.name}@${image.digest}`;
  const m = /^sha256:([0-9a-f]{64})$/.exec(image.digest);
  if (!m) throw new VouchError('USAGE', `--image: ${JSON.stringify(label)}: expected NAME@sha256:<64 hex>`);
  const hex = m[1]!;
  const needed = trust.require.approvals ?? 1;
  const reasons: ApprovalReason[] = [];
  const say = (code: string, file: string | null, message: string): void => {
    reasons.push({ code, message: sanitizeLine(file ? `${file}: ${message}` : message) });
  };
  interface Counted {
    reviewer: string;
    /** Who signed, by key (encoding-independent) or certificate identity: what "distinct" counts, never a name or hint. */
    who: string;
    identity: string;
    decision: string;
    release: { name: string; version: string };
  }
  const valid: Counted[] = [];
  let candidates = 0;
  for (const a of approvals) {
    const st = a.statement;
    if (!subjectFor(st, hex)) continue; // about other images: not this one's business
    candidates++;
    const sig = verifyApprovalSignature(a, image.digest, trust);
    if (!sig.verified) {
      say(sig.code, a.path, sig.message);
      continue;
    }
    const p = st.predicate;
    const refused = requireReasons(st, sig, trust, now);
    for (const r of refused) say(r.code, a.path, r.message);
    if (refused.length === 0) valid.push({ reviewer: sig.reviewer!, who: signerIdentity(trust, sig), identity: sig.identity!, decision: p.decision, release: p.release });
  }
  if (candidates === 0) say('NO_APPROVAL', null, `no approval names ${image.digest}${approvals.length ? ` (${approvals.length} approval file(s) read)` : ''}`);

  // Reviewers agree on one release and decision to count together (the same statement, signed by each).
  const groups = new Map<string, Counted[]>();
  for (const v of valid) {
    const k = JSON.stringify([v.release.name, v.release.version, v.decision]);
    groups.set(k, [...(groups.get(k) ?? []), v]);
  }
  let best: Counted[] = [];
  for (const g of groups.values()) {
    const distinct = new Set(g.map((v) => v.who)).size;
    if (distinct > new Set(best.map((v) => v.who)).size) best = g;
  }
  const reviewers: ApprovalVerification['reviewers'] = [];
  const counted = new Set<string>();
  for (const v of best) {
    if (counted.has(v.who) || reviewers.some((r) => r.name === v.reviewer)) continue;
    counted.add(v.who);
    reviewers.push({ name: v.reviewer, identity: v.identity });
  }
  if (candidates > 0 && reviewers.length < needed) {
    say('NOT_ENOUGH_REVIEWERS', null, `${reviewers.length} distinct trusted reviewer(s) approved; the trust file requires ${needed}`);
  }
  const ok = reviewers.length >= needed && !reasons.some((r) => r.code === 'REJECTED');
  return {
    ok,
    image: label,
    decision: best[0]?.decision ?? null,
    release: best[0] ? { ...best[0].release } : null,
    reviewers,
    reasons: ok ? [] : reasons,
  };
}
