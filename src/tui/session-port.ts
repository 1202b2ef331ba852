/**
 * What the workbench needs from a review session: the reviewer's annotations
 * (with history), the blockers of a decision, and approving. `vouch review`
 * passes StoreSessionPort (store-port.ts): every change saved at once through
 * the session store (src/core/review/store.ts), blockers from the core's
 * approvalBlockers, Approve through the same core calls as `vouch approve`
 * (src/core/approval/approve.ts) and verified as `vouch verify` does.
 * InMemorySessionPort (memory-port.ts) is for component tests and the bench.
 */
import type { CheckResult, Severity } from '../core/checks/types.js';
import { resultId } from './model.js';

export const DISPOSITIONS = ['must-fix', 'accepted-risk', 'false-positive', 'note'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

export const DECISIONS = ['approved', 'approved-with-exceptions', 'rejected'] as const;
export type Decision = (typeof DECISIONS)[number];

export type SubjectKind = 'image' | 'layer' | 'path' | 'package' | 'signature' | 'check';

/** What an annotation is about (issue 10's subjects). `value`: layer digest, path, purl, signature index/digest, or check result id. */
export interface AnnotationSubject {
  /** The image's name in the release. */
  image: string;
  kind: SubjectKind;
  value: string;
}

export interface AnnotationFields {
  disposition: Disposition;
  severity?: Severity;
  text: string;
}

export interface Annotation extends AnnotationFields {
  id: string;
  subject: AnnotationSubject;
  author: string;
  time: string;
  deleted: boolean;
  /** Earlier versions, oldest first (edits and the deletion are kept, never lost). */
  history: Array<AnnotationFields & { author: string; time: string; deleted: boolean }>;
}

export interface Blocker {
  /** `must-fix` annotation or failing check result; `stale`: the session is not what the workbench shows. */
  kind: 'must-fix' | 'failing-check' | 'stale' | 'foreign-exception';
  message: string;
  /** The annotation id (foreign-exception): what the Approve screen accepts once it has shown it. */
  id?: string;
  /** Who wrote it (foreign-exception), sanitised. */
  author?: string;
}

export interface ApproveRequest {
  decision: Decision;
  rationale: string;
  /** The signing key's passphrase as the reviewer typed it (after a result asked for it). */
  passphrase?: string;
  /** Ids of the exceptions by others the reviewer was shown and accepted (after a result listed them); any other still refuses. */
  acceptAnnotationIds?: string[];
}

export interface ApproveResult {
  ok: boolean;
  /** Where the signed record was written. */
  path: string | null;
  /** One line: verified / refused and why. */
  message: string;
  blockers: Blocker[];
  /** Set when signing needs the key's passphrase (none known, or `wrong`: the one given does not open the key): ask, then approve again with it. */
  passphrase?: { key: string; wrong: boolean };
  /** Set when the decision relies on exceptions written by others and not accepted (listed in `blockers`, with their ids): show them, and approve again with the ids shown in `acceptAnnotationIds` only if the reviewer accepts them. */
  foreign?: { authors: string[] };
}

/** The last decision signed for this session (the record beside the session file), as Overview shows it. */
export interface DecisionRecord {
  decision: Decision;
  reviewer: string;
  /** The signed record; null when nothing was written (the in-memory test port). */
  path: string | null;
  /** Whether the record verifies for every image of the session against the trust file. */
  verified: boolean;
}

export interface SessionPort {
  /** Every annotation, deleted ones included (screens hide them; history stays). */
  load(): Promise<Annotation[]>;
  annotate(subject: AnnotationSubject, fields: AnnotationFields): Promise<Annotation>;
  edit(id: string, fields: Partial<AnnotationFields>): Promise<Annotation>;
  delete(id: string): Promise<Annotation>;
  /** What stands in the way of `decision` right now (empty: allowed). */
  blockers(decision: Decision): Promise<Blocker[]>;
  approve(req: ApproveRequest): Promise<ApproveResult>;
  /** The last decision made for this session, if any (optional: a port that cannot tell leaves Overview saying so). */
  lastDecision?(): Promise<DecisionRecord | null>;
}

/** A subject as people read it: a check result as `VCH-… SUBJECT`, anything else as `KIND VALUE`. */
export function subjectLabel(s: AnnotationSubject): string {
  if (s.kind !== 'check') return `${s.kind} ${s.value}`;
  const [id, , what] = s.value.split('|');
  return `${id ?? s.value}${what ? ` ${what}` : ''}`;
}

/** The subject of an annotation on a failing check result. */
export function checkSubject(image: string, r: CheckResult): AnnotationSubject {
  return { image, kind: 'check', value: resultId(r) };
}

// Tests and the bench only (not persistent, signs nothing): see memory-port.ts.
export { InMemorySessionPort } from './memory-port.js';
