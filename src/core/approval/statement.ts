/**
 * The approval record: an in-toto Statement v1 whose subjects are the reviewed
 * images (each platform manifest, and the index it came from) and whose
 * predicate (type APPROVAL_PREDICATE_TYPE, schema schemas/approval.v1.json)
 * says what was decided, by whom, under which policy and trust, on what
 * evidence, with which findings, and what each image contains (purls), so the
 * next review diffs against it without the old images.
 */
import { createRequire } from 'node:module';
import type { Annotation, Decision, ReviewSession, SessionCheckResult } from '../review/types.js';

/** Stable: changing it breaks every verifier and admission policy that names it. */
export const APPROVAL_PREDICATE_TYPE = 'https://vouch.dev/approval/v1';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface ApprovalReviewer {
  /** What the reviewer calls themself (the trust file's name decides who they are). */
  name: string;
  /** Key id (sha256 of the SPKI, hex) or certificate identity. */
  identity: string;
}

export interface ApprovalFinding {
  /** `check` (a failing check result) or `annotation` (the reviewer's own). */
  source: 'check' | 'annotation';
  image: string;
  /** VCH id for check results; annotation id for annotations. */
  id: string;
  subject: string;
  severity: string | null;
  /** For check results: the disposition an annotation gave it, or `open`. */
  disposition: string;
  text: string;
  /** Who wrote the annotation (for a check result: the one whose annotation decided its disposition); absent when nobody did. */
  author?: string;
}

export interface ApprovalPredicate {
  release: { name: string; version: string };
  decision: Decision;
  rationale: string;
  reviewer: ApprovalReviewer;
  reviewedAt: string;
  expiresAt?: string;
  policy: { digest: string; failOn: string };
  /** `signers`: signerDigests of the trust file the evidence was judged under (trust-file.ts). */
  trust: { digest: string; signers?: string[] };
  /** `decision` and `identity` (who signed it): what verify checks against its own trust file. */
  baseline: { digest: string; release: { name: string; version: string } | null; decision?: string; identity?: string } | null;
  /** indexCovered (multi-platform images only): whether the index is a subject, i.e. every platform in it was reviewed. */
  images: Array<{ key: string; name: string; digest: string; index: string | null; platform: string; indexCovered?: boolean; packages: string[]; licenses: Record<string, string[]> }>;
  evidence: Array<{ image: string; kind: string; digest: string; type: string | null; verified: boolean; signer: string | null }>;
  checks: { total: number; pass: number; fail: number; excepted: number };
  findings: ApprovalFinding[];
  tool: { name: 'vouch'; version: string };
}

export interface ApprovalStatement {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof APPROVAL_PREDICATE_TYPE;
  predicate: ApprovalPredicate;
}

export function toolVersion(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../../../package.json', '../../../../package.json']) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      /* src vs dist layout */
    }
  }
  return '0.0.0';
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/**
 * Subjects a reviewer names exactly and a check result names the same way (its subject key): a file path,
 * a package URL, a layer digest. An annotation on one of these decides every failing result about that
 * subject on that image — "accepted-risk on /usr/bin/su" accepts the setuid finding on /usr/bin/su —, as
 * an annotation on the check result itself does. Broader subjects (the whole image, a signature
 * attachment, which results name by key id) decide nothing automatically: the reviewer annotates the result.
 *
 * Matched by kind, never by comparing one string key with another: a result's subject key is a file path
 * exactly when it is absolute (subjectKey: every other key is `image`, `env:…`, `package:…`,
 * `signature:…`, `layer:…` or `history:…`), so a path annotation only ever matches an absolute path, and
 * `{kind: path, path: "image"}` (which the session schema refuses anyway) matches nothing.
 */
function subjectMatches(s: Annotation['subject'], resultSubject: string): boolean {
  switch (s.kind) {
    case 'path':
      return s.path.startsWith('/') && resultSubject.startsWith('/') && s.path === resultSubject;
    case 'package':
      return resultSubject.startsWith('package:') && resultSubject.slice('package:'.length) === s.purl;
    case 'layer':
      return resultSubject.startsWith('layer:') && resultSubject.slice('layer:'.length) === s.digest;
    default:
      return false;
  }
}

/** The live annotations that decide a failing result of image `imageKey`: on the result itself, or on the exact subject it names. */
export function annotationsOnResult<A extends Pick<Annotation, 'subject'>>(live: readonly A[], imageKey: string, r: Pick<SessionCheckResult, 'id' | 'subject'>): A[] {
  return live.filter((a) => {
    const s = a.subject;
    if (s.image !== imageKey) return false;
    if (s.kind === 'check') return s.check === r.id && s.subject === r.subject;
    return subjectMatches(s, r.subject);
  });
}

/** The findings the record lists: every failing check result with its disposition, and every live annotation. */
export function sessionFindings(session: ReviewSession): ApprovalFinding[] {
  const live = session.annotations.filter((a) => !a.deleted);
  const out: ApprovalFinding[] = [];
  for (const im of session.images) {
    for (const r of im.checks.results) {
      if (r.status !== 'fail') continue;
      const notes = annotationsOnResult(live, im.key, r);
      // The strongest word wins: must-fix over accepted-risk over false-positive over note.
      const order = ['must-fix', 'accepted-risk', 'false-positive', 'note'];
      const decider = [...notes].sort((a, b) => order.indexOf(a.disposition) - order.indexOf(b.disposition))[0];
      const d = decider && decider.disposition !== 'note' ? decider : undefined;
      out.push({ source: 'check', image: im.key, id: r.id, subject: r.subject, severity: r.severity, disposition: d ? d.disposition : 'open', text: r.message, ...(d ? { author: d.author } : {}) });
    }
  }
  for (const a of live) {
    out.push({ source: 'annotation', image: a.subject.image, id: a.id, subject: annotationSubjectKey(a.subject), severity: a.severity, disposition: a.disposition, text: a.text, author: a.author });
  }
  return out;
}

export function annotationSubjectKey(s: ReviewSession['annotations'][number]['subject']): string {
  switch (s.kind) {
    case 'image':
      return 'image';
    case 'layer':
      return `layer:${s.digest}`;
    case 'path':
      return s.path;
    case 'package':
      return `package:${s.purl}`;
    case 'signature':
      return `signature:${s.digest}`;
    case 'check':
      return `check:${s.check} ${s.subject}`;
  }
}

/**
 * Whether approving this session may approve `im`'s whole index: only when
 * every platform manifest the index lists was reviewed in this session. An
 * index is what a runtime on ANY platform pulls, so an approval naming it
 * while only amd64 was looked at would admit an unreviewed arm64. When the
 * session does not know the index's platforms, the answer is no.
 */
export function indexCovered(session: ReviewSession, im: ReviewSession['images'][number]): boolean {
  if (!im.index || !im.indexPlatforms || im.indexPlatforms.length === 0) return false;
  const reviewed = new Set(session.images.filter((x) => x.index === im.index).map((x) => x.digest));
  return im.indexPlatforms.every((d) => reviewed.has(d));
}

/** One line per multi-platform image: which platform(s) were reviewed and whether the index is covered. */
export function indexCoverageLines(session: ReviewSession): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  for (const im of session.images) {
    if (!im.index || done.has(`${im.name}@${im.index}`)) continue;
    done.add(`${im.name}@${im.index}`);
    const platforms = session.images.filter((x) => x.index === im.index).map((x) => x.platform);
    out.push(
      indexCovered(session, im)
        ? `${im.key}: every platform of index ${im.index} reviewed (${platforms.join(', ')}); the index is covered`
        : `${im.key}: reviewed platform(s) ${platforms.join(', ')} of index ${im.index}${im.indexPlatforms ? ` (${im.indexPlatforms.length} listed)` : ''}; the index is NOT covered (only the reviewed platform manifests are)`,
    );
  }
  return out;
}

export interface StatementOptions {
  now?: Date;
  /** signerDigests of the trust file the session's results were judged under (the release's). */
  signers?: string[];
  expiresAt?: Date;
  toolVersion?: string;
}

/** The statement every reviewer of this session signs (identical apart from reviewer, reviewedAt, rationale). */
export function buildApprovalStatement(session: ReviewSession, decision: Decision, rationale: string, reviewer: ApprovalReviewer, opts: StatementOptions = {}): ApprovalStatement {
  const subject: ApprovalStatement['subject'] = [];
  const seen = new Set<string>();
  const add = (name: string, digest: string): void => {
    const k = `${name}@${digest}`;
    if (seen.has(k)) return;
    seen.add(k);
    subject.push({ name, digest: { sha256: hex(digest) } });
  };
  for (const im of session.images) {
    if (im.index && indexCovered(session, im)) add(im.name, im.index);
    add(im.name, im.digest);
  }
  let total = 0;
  let pass = 0;
  let fail = 0;
  let excepted = 0;
  for (const im of session.images) {
    pass += im.checks.pass;
    fail += im.checks.fail;
    excepted += im.checks.excepted;
  }
  total = pass + fail + excepted;
  const predicate: ApprovalPredicate = {
    release: { name: session.release.name, version: session.release.version },
    decision,
    rationale,
    reviewer,
    reviewedAt: (opts.now ?? new Date()).toISOString(),
    ...(opts.expiresAt ? { expiresAt: opts.expiresAt.toISOString() } : {}),
    policy: { digest: session.policy.digest, failOn: session.policy.failOn },
    trust: { digest: session.trust.digest, ...(opts.signers ? { signers: opts.signers } : {}) },
    baseline: session.baseline
      ? { digest: session.baseline.digest, release: session.baseline.release, ...(session.baseline.decision ? { decision: session.baseline.decision } : {}), ...(session.baseline.identity ? { identity: session.baseline.identity } : {}) }
      : null,
    images: session.images.map((im) => ({
      key: im.key,
      name: im.name,
      digest: im.digest,
      index: im.index,
      platform: im.platform,
      ...(im.index ? { indexCovered: indexCovered(session, im) } : {}),
      packages: [...im.packages],
      licenses: { ...im.licenses },
    })),
    evidence: session.images.flatMap((im) => im.evidence.map((e) => ({ image: im.key, kind: e.kind, digest: e.digest, type: e.type, verified: e.verified, signer: e.signer }))),
    checks: { total, pass, fail, excepted },
    findings: sessionFindings(session),
    tool: { name: 'vouch', version: opts.toolVersion ?? toolVersion() },
  };
  return { _type: IN_TOTO_STATEMENT_V1, subject, predicateType: APPROVAL_PREDICATE_TYPE, predicate };
}
