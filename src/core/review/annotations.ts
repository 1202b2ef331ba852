/**
 * The reviewer's annotations: added on a subject that exists in the session,
 * edited and deleted with every earlier state kept in `history`.
 */
import { VouchError } from '../errors.js';
import { isSeverity, SEVERITIES } from '../checks/types.js';
import { sanitizeLine } from '../util/sanitize.js';
import { missingReason } from './reason.js';
import { DISPOSITIONS, type Annotation, type AnnotationState, type AnnotationSubject, type Disposition, type ReviewSession, type SessionImage } from './types.js';

/** What the reviewer names; `check` covers every failing result of that check on the image. */
export type SubjectSpec =
  | { kind: 'image' }
  | { kind: 'layer'; digest: string }
  | { kind: 'path'; path: string }
  | { kind: 'package'; purl: string }
  | { kind: 'signature'; digest: string }
  | { kind: 'check'; check: string };

export interface AnnotationInput {
  /** Image key; may be left out when the session has one image. */
  image?: string;
  subject: SubjectSpec;
  disposition: Disposition;
  severity?: string | null;
  text: string;
  author: string;
  now?: Date;
}

function missing(what: string): never {
  throw new VouchError('USAGE', `annotate: ${sanitizeLine(what)}`);
}

/** The session schema takes only these (or null): a lookalike severity would make the file unreadable. */
function checkSeverity(v: string | null | undefined): void {
  if (v !== undefined && v !== null && !isSeverity(v)) missing(`severity ${JSON.stringify(v)} is not one of ${SEVERITIES.join(', ')}`);
}

export function isDisposition(v: unknown): v is Disposition {
  return typeof v === 'string' && (DISPOSITIONS as readonly string[]).includes(v);
}

export function sessionImage(session: ReviewSession, key: string | undefined): SessionImage {
  if (key === undefined) {
    if (session.images.length === 1) return session.images[0]!;
    missing(`give --image: the session has ${session.images.map((i) => i.key).join(', ')}`);
  }
  const im = session.images.find((i) => i.key === key || `${i.name}@${i.digest}` === key || i.digest === key);
  if (!im) missing(`image ${JSON.stringify(key)} is not in the session (it has ${session.images.map((i) => i.key).join(', ')})`);
  return im;
}

function nextId(session: ReviewSession): string {
  let n = 0;
  for (const a of session.annotations) {
    const m = /^a(\d+)$/.exec(a.id);
    if (m) n = Math.max(n, Number(m[1]));
  }
  return `a${n + 1}`;
}

/**
 * The session subjects `spec` names on an image; a subject the session does
 * not have is an error naming it. `pathExists` answers for file paths (the
 * session does not hold the file list).
 */
export async function resolveSubjects(session: ReviewSession, imageKey: string | undefined, spec: SubjectSpec, pathExists?: (image: SessionImage, path: string) => Promise<boolean>): Promise<AnnotationSubject[]> {
  const im = sessionImage(session, imageKey);
  const image = im.key;
  switch (spec.kind) {
    case 'image':
      return [{ kind: 'image', image }];
    case 'layer':
      if (!im.layers.includes(spec.digest)) missing(`layer ${JSON.stringify(spec.digest)} is not a layer of ${image}`);
      return [{ kind: 'layer', image, digest: spec.digest }];
    case 'package':
      if (!im.packages.includes(spec.purl)) missing(`package ${JSON.stringify(spec.purl)} is not in the inventory of ${image}`);
      return [{ kind: 'package', image, purl: spec.purl }];
    case 'signature':
      if (!im.evidence.some((e) => e.digest === spec.digest)) missing(`signature/attestation ${JSON.stringify(spec.digest)} is not attached to ${image}`);
      return [{ kind: 'signature', image, digest: spec.digest }];
    case 'path': {
      const path = spec.path.startsWith('/') ? spec.path : `/${spec.path}`;
      const known = im.checks.results.some((r) => r.subject === path);
      if (!known && !(pathExists && (await pathExists(im, path)))) missing(`path ${JSON.stringify(path)} does not exist in ${image}`);
      return [{ kind: 'path', image, path }];
    }
    case 'check': {
      const results = im.checks.results.filter((r) => r.id === spec.check);
      if (results.length === 0) missing(`check ${JSON.stringify(spec.check)} has no failing result on ${image}`);
      return [...new Set(results.map((r) => r.subject))].map((subject) => ({ kind: 'check', image, check: spec.check, subject }));
    }
  }
}

/** Add one annotation per subject (already resolved); returns them. Mutates the session. */
export function addAnnotations(session: ReviewSession, subjects: AnnotationSubject[], input: Omit<AnnotationInput, 'image' | 'subject'>): Annotation[] {
  if (!isDisposition(input.disposition)) missing(`disposition ${JSON.stringify(input.disposition)} is not one of ${DISPOSITIONS.join(', ')}`);
  checkSeverity(input.severity);
  const why = missingReason(input.disposition, input.text);
  if (why) missing(why);
  const at = (input.now ?? new Date()).toISOString();
  const out: Annotation[] = [];
  for (const subject of subjects) {
    const a: Annotation = { id: nextId(session), subject, createdAt: at, disposition: input.disposition, severity: input.severity ?? null, text: input.text, author: input.author, at, deleted: false, history: [] };
    session.annotations.push(a);
    out.push(a);
  }
  return out;
}

function find(session: ReviewSession, id: string): Annotation {
  const a = session.annotations.find((x) => x.id === id);
  if (!a) missing(`annotation ${JSON.stringify(id)} is not in the session`);
  return a;
}

function snapshot(a: Annotation): AnnotationState {
  return { disposition: a.disposition, severity: a.severity, text: a.text, author: a.author, at: a.at, deleted: a.deleted };
}

/** Change an annotation; its previous state goes to history. */
export function editAnnotation(session: ReviewSession, id: string, change: Partial<Pick<AnnotationState, 'disposition' | 'severity' | 'text'>>, author: string, now = new Date()): Annotation {
  const a = find(session, id);
  // Editing must not silently bring a deleted finding back: restoring is its own, explicit step.
  if (a.deleted) missing(`annotation ${id} is deleted; restore it first (annotate --restore ${id})`);
  if (change.disposition !== undefined && !isDisposition(change.disposition)) missing(`disposition ${JSON.stringify(change.disposition)} is not one of ${DISPOSITIONS.join(', ')}`);
  checkSeverity(change.severity);
  const why = missingReason(change.disposition ?? a.disposition, change.text ?? a.text);
  if (why) missing(why);
  a.history.push(snapshot(a));
  if (change.disposition !== undefined) a.disposition = change.disposition;
  if (change.severity !== undefined) a.severity = change.severity;
  if (change.text !== undefined) a.text = change.text;
  a.author = author;
  a.at = now.toISOString();
  return a;
}

/** Undo a deletion: the deleted state goes to history. */
export function restoreAnnotation(session: ReviewSession, id: string, author: string, now = new Date()): Annotation {
  const a = find(session, id);
  if (!a.deleted) missing(`annotation ${id} is not deleted`);
  a.history.push(snapshot(a));
  a.deleted = false;
  a.author = author;
  a.at = now.toISOString();
  return a;
}

/** Delete an annotation: it stays in the file, marked deleted, with its history. */
export function deleteAnnotation(session: ReviewSession, id: string, author: string, now = new Date()): Annotation {
  const a = find(session, id);
  if (a.deleted) missing(`annotation ${id} is already deleted`);
  a.history.push(snapshot(a));
  a.deleted = true;
  a.author = author;
  a.at = now.toISOString();
  return a;
}
