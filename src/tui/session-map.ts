/**
 * Between the workbench's annotation shapes (session-port.ts: `{image, kind,
 * value}`, a check's value being resultId()) and the session store's
 * (src/core/review/types.ts: one field per kind, a check result named by check
 * id + subjectKey). Both SessionPorts go through here, and blockers are always
 * the core's approvalBlockers over a session, never a rule of the TUI's own.
 */
import { approvalBlockers } from '../core/approval/blockers.js';
import { annotationsOnResult } from '../core/approval/statement.js';
import { subjectKey } from '../core/checks/run.js';
import type { CheckResult } from '../core/checks/types.js';
import type { Annotation as CoreAnnotation, AnnotationSubject as CoreSubject, Decision, ReviewSession } from '../core/review/types.js';
import { sanitizeLine } from '../core/util/sanitize.js';
import { resultId, type ImageModel, type ReviewModel } from './model.js';
import type { Annotation, AnnotationSubject, Blocker } from './session-port.js';

/**
 * A check result as the session names it: check id + the subject key, raw (a name's control characters
 * and bytes that are not UTF-8 included): two files that look the same once sanitised stay two subjects.
 */
export function sessionCheckSubject(r: CheckResult): { check: string; subject: string } {
  return { check: r.id, subject: subjectKey(r.subject) };
}

function imageOf(model: ReviewModel, name: string): ImageModel | undefined {
  return model.images.find((im) => im.name === name);
}

/** The signature attachments of an image in chain order (what the session's evidence lists by digest). */
function signatureDigests(im: ImageModel | undefined): string[] {
  return (im?.chain?.attachments ?? []).filter((a) => a.kind === 'signature').map((a) => a.manifestDigest);
}

/**
 * The session subject for a workbench subject. Signatures are shown by number
 * (#1, #2…); the session names the attachment that holds them by digest: the
 * n-th attachment when each holds one, the only one when there is one.
 */
export function toCoreSubject(model: ReviewModel, s: AnnotationSubject): CoreSubject {
  const image = s.image;
  switch (s.kind) {
    case 'image':
      return { kind: 'image', image };
    case 'layer':
      return { kind: 'layer', image, digest: s.value };
    case 'path':
      return { kind: 'path', image, path: s.value };
    case 'package':
      return { kind: 'package', image, purl: s.value };
    case 'signature': {
      if (s.value.startsWith('sha256:')) return { kind: 'signature', image, digest: s.value };
      const im = imageOf(model, image);
      const sigs = signatureDigests(im);
      const n = Number(s.value);
      const count = im?.chain?.json.signatures.length ?? 0;
      const digest = sigs.length === count ? sigs[n - 1] : sigs.length === 1 ? sigs[0] : undefined;
      if (!digest) throw new Error(`signature #${s.value} of ${image}: no attachment digest to name it by`);
      return { kind: 'signature', image, digest };
    }
    case 'check': {
      const r = imageOf(model, image)?.checks.find((x) => resultId(x) === s.value);
      if (!r) throw new Error(`check result ${s.value} is not in the review of ${image}`);
      return { kind: 'check', image, ...sessionCheckSubject(r) };
    }
  }
}

/** The workbench subject for a session subject (the inverse of toCoreSubject where the model knows it). */
export function fromCoreSubject(model: ReviewModel, s: CoreSubject): AnnotationSubject {
  const image = s.image;
  switch (s.kind) {
    case 'image':
      return { image, kind: 'image', value: imageOf(model, image)?.digest ?? '' };
    case 'layer':
      return { image, kind: 'layer', value: s.digest };
    case 'path':
      return { image, kind: 'path', value: s.path };
    case 'package':
      return { image, kind: 'package', value: s.purl };
    case 'signature': {
      const im = imageOf(model, image);
      const sigs = signatureDigests(im);
      const i = sigs.indexOf(s.digest);
      const count = im?.chain?.json.signatures.length ?? 0;
      if (i >= 0 && (sigs.length === count || sigs.length === 1)) return { image, kind: 'signature', value: String(sigs.length === count ? i + 1 : 1) };
      return { image, kind: 'signature', value: s.digest };
    }
    case 'check': {
      const r = imageOf(model, image)?.checks.find((x) => x.id === s.check && sessionCheckSubject(x).subject === s.subject);
      return { image, kind: 'check', value: r ? resultId(r) : `${s.check}|${image}|${s.subject}` };
    }
  }
}

export function fromCoreAnnotation(model: ReviewModel, a: CoreAnnotation): Annotation {
  const sev = (x: string | null): { severity?: Annotation['severity'] } => (x ? { severity: x as NonNullable<Annotation['severity']> } : {});
  return {
    id: a.id,
    subject: fromCoreSubject(model, a.subject),
    disposition: a.disposition,
    ...sev(a.severity),
    text: a.text,
    author: a.author,
    time: a.at,
    deleted: a.deleted,
    history: a.history.map((h) => ({ disposition: h.disposition, ...sev(h.severity), text: h.text, author: h.author, time: h.at, deleted: h.deleted })),
  };
}

/** The session subject of a workbench annotation as far as deciding `r` goes (null: a kind that never decides a result). */
function decidingSubject(s: AnnotationSubject, r: CheckResult): CoreSubject | null {
  switch (s.kind) {
    case 'check':
      return s.value === resultId(r) ? { kind: 'check', image: s.image, ...sessionCheckSubject(r) } : null;
    case 'path':
      return { kind: 'path', image: s.image, path: s.value };
    case 'package':
      return { kind: 'package', image: s.image, purl: s.value };
    case 'layer':
      return { kind: 'layer', image: s.image, digest: s.value };
    default:
      return null;
  }
}

/** The strongest word wins: must-fix over accepted-risk over false-positive over note (as the approval record lists it). */
const STRENGTH = ['must-fix', 'accepted-risk', 'false-positive', 'note'];

/**
 * The annotation that decides failing result `r` of `image` on screen: one on the result, or on the exact
 * file, package or layer it names — the core's rule (annotationsOnResult), so the Findings list says what
 * `vouch approve` and the blockers count.
 */
export function decidingAnnotation(annotations: readonly Annotation[], image: string, r: CheckResult): Annotation | undefined {
  const key = sessionCheckSubject(r);
  const on = annotations.filter((a) => {
    if (a.deleted || a.subject.image !== image) return false;
    const core = decidingSubject(a.subject, r);
    return core !== null && annotationsOnResult([{ subject: core }], image, { id: key.check, subject: key.subject }).length > 0;
  });
  return on.sort((a, b) => STRENGTH.indexOf(a.disposition) - STRENGTH.indexOf(b.disposition))[0];
}

/** The core's approvalBlockers, worded for the Approve screen. */
export function blockersOf(session: ReviewSession, decision: Decision): Blocker[] {
  return approvalBlockers(session, decision).map((message) => ({ kind: message.startsWith('must-fix ') ? 'must-fix' : 'failing-check', message }));
}

/**
 * Where the session's images (key → digest, and the index when the model knows
 * it) differ from those the workbench shows; null when they are the same set.
 * An approval signs the session's images, so it must cover exactly what the
 * reviewer was shown (a release file can gain or swap an image after the
 * screens were built).
 */
export function shownImagesDiffer(model: ReviewModel, session: ReviewSession): string | null {
  for (const im of session.images) {
    const shown = imageOf(model, im.key);
    if (!shown) return `${sanitizeLine(im.key)} (${im.digest}) is in the session but not shown in the workbench`;
    if (shown.digest !== im.digest) return `${sanitizeLine(im.key)}: the session has ${im.digest}, the workbench shows ${shown.digest}`;
    const shownIndex = shown.analysis.index?.digest ?? null;
    if (im.index && shownIndex && shownIndex !== im.index) return `${sanitizeLine(im.key)}: the session has index ${im.index}, the workbench shows ${shownIndex}`;
  }
  const keys = new Set(session.images.map((i) => i.key));
  const extra = model.images.find((m) => !keys.has(m.name));
  if (extra) return `${sanitizeLine(extra.name)} is shown in the workbench but not in the session`;
  return null;
}

/**
 * Where the session's failing (or excepted) results differ from the ones the
 * workbench shows (per image: check id + subject key); null when they agree.
 */
export function failingResultsDiffer(model: ReviewModel, session: ReviewSession): string | null {
  for (const im of session.images) {
    const shown = imageOf(model, im.key);
    if (!shown) continue; // shownImagesDiffer names it
    const key = (r: { check: string; subject: string }): string => `${r.check} ${r.subject}`;
    const onScreen = new Set(shown.checks.filter((r) => r.status !== 'pass').map((r) => key(sessionCheckSubject(r))));
    const inFile = new Set(im.checks.results.map((r) => key({ check: r.id, subject: r.subject })));
    const missing = [...onScreen].find((k) => !inFile.has(k));
    if (missing) return `${sanitizeLine(im.key)}: ${sanitizeLine(missing)} fails on screen but is not in the session`;
    const added = [...inFile].find((k) => !onScreen.has(k));
    if (added) return `${sanitizeLine(im.key)}: ${sanitizeLine(added)} is in the session but not failing on screen`;
  }
  return null;
}
