/**
 * Which annotations an approval leans on, and who wrote them. The session file
 * is not trusted input: anyone who can write where it lives can add an
 * `accepted-risk` or `false-positive` annotation under any author name, and an
 * approval would then sign that exception as the reviewer's. So the exceptions
 * a decision needs are listed with their authors, and signing refuses by default
 * when one of them was not written by the signing reviewer (the reviewer names
 * the other authors they accept). Authors are names written in the file, a
 * claim and not proof: the list is there to be read before signing.
 *
 * "Needs" is measured with approvalBlockers itself (whatever it counts as
 * clearing a failing result), so the rule here cannot drift from it.
 */
import { VouchError } from '../errors.js';
import type { Annotation, Decision, ReviewSession } from '../review/types.js';
import { approvalBlockers } from './blockers.js';
import { annotationSubjectKey, annotationsOnResult } from './statement.js';

export interface SignedException {
  id: string;
  author: string;
  image: string;
  /** What it is on: a check id and subject, a path, a package… (annotationSubjectKey). */
  target: string;
  disposition: string;
  text: string;
  /** The check ids of the failing results it decides (annotationsOnResult), each once, in result order: what a one-line exception does. */
  clears: string[];
}

/** Past this many candidates, each is listed without the one-by-one test (the test is one approvalBlockers run per annotation). */
const MAX_TESTED = 200;

function describe(session: ReviewSession, a: Annotation): SignedException {
  const im = session.images.find((i) => i.key === a.subject.image);
  const clears = [...new Set((im?.checks.results ?? []).filter((r) => r.status === 'fail' && annotationsOnResult([a], im!.key, r).length > 0).map((r) => r.id))];
  return { id: a.id, author: a.author, image: a.subject.image, target: annotationSubjectKey(a.subject), disposition: a.disposition, text: a.text, clears };
}

function without(session: ReviewSession, gone: ReadonlySet<Annotation>): ReviewSession {
  return { ...session, annotations: session.annotations.filter((a) => !gone.has(a)) };
}

/**
 * The live accepted-risk / false-positive annotations among those `pick` selects that the decision
 * needs: with all of them removed approvalBlockers lists more, and each one listed clears at least one
 * of those blockers by itself. Duplicates (two annotations on one result) are all listed.
 */
export function clearingAnnotations(session: ReviewSession, decision: Decision, pick: (a: Annotation) => boolean = () => true): SignedException[] {
  if (decision === 'rejected') return [];
  const candidates = session.annotations.filter((a) => !a.deleted && (a.disposition === 'accepted-risk' || a.disposition === 'false-positive') && pick(a));
  if (candidates.length === 0) return [];
  const all = new Set(candidates);
  const bare = approvalBlockers(without(session, all), decision).length;
  if (bare === approvalBlockers(session, decision).length) return [];
  if (candidates.length > MAX_TESTED) return candidates.map((a) => describe(session, a));
  return candidates
    .filter((c) => {
      const rest = new Set(all);
      rest.delete(c);
      return approvalBlockers(without(session, rest), decision).length < bare;
    })
    .map((a) => describe(session, a));
}

/**
 * The exceptions the decision needs that were written by someone other than `reviewer`, not by an
 * author in `accepted`, and not one of the annotations `acceptedIds` names (those the reviewer was
 * shown and accepted one by one, as the workbench does). An id two annotations share accepts neither:
 * accepting what was shown must not accept a hidden twin.
 */
export function exceptionsByOthers(session: ReviewSession, decision: Decision, reviewer: string, accepted: readonly string[] = [], acceptedIds: readonly string[] = []): SignedException[] {
  const ok = new Set([reviewer, ...accepted].map(personName));
  const uses = new Map<string, number>();
  for (const a of session.annotations) uses.set(a.id, (uses.get(a.id) ?? 0) + 1);
  const okIds = new Set(acceptedIds.filter((id) => uses.get(id) === 1));
  return clearingAnnotations(session, decision, (a) => !ok.has(personName(a.author)) && !okIds.has(a.id));
}

/** "Rita Reviewer <rita@example.com>" and "Rita Reviewer" name one person (the workbench writes the first, --author often the second). */
function personName(author: string): string {
  return author.replace(/\s*<[^<>]*>\s*$/, '').trim();
}

/** One line per exception, for refusals and for the approval's own output. */
export function exceptionLine(e: SignedException): string {
  return `${e.disposition} ${e.id} by ${JSON.stringify(e.author)} on ${e.image} (${e.target}) clears ${e.clears.join(', ') || 'nothing'}: ${e.text}`;
}

/** Signing refused: exceptions written by others that the reviewer did not accept (`--accept-annotations-by`). */
export class ForeignExceptionsError extends VouchError {
  constructor(
    readonly reviewer: string,
    readonly exceptions: SignedException[],
  ) {
    const authors = [...new Set(exceptions.map((e) => e.author))];
    super(
      'USAGE',
      `refused: the decision relies on ${exceptions.length} annotation(s) not written by reviewer ${JSON.stringify(reviewer)} (by ${authors.map((a) => JSON.stringify(a)).join(', ')}); read them, then accept their authors with --accept-annotations-by ${authors.join(',')} (nothing written)`,
      { exitCode: 1 },
    );
  }
}
