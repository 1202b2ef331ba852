/**
 * What stands between a session and a decision. `approved`: no open must-fix
 * and no failing check at or above the policy's failOn (unless marked a false
 * positive). `approved-with-exceptions`: no open must-fix, and each such
 * failing result carries an accepted-risk (or false-positive) annotation.
 * `rejected` is always possible. An annotation counts for a result when it is
 * on the result or on the exact file, package or layer the result names
 * (annotationsOnResult).
 */
import { annotationSubjectKey, annotationsOnResult } from './statement.js';
import type { Decision, ReviewSession } from '../review/types.js';

const RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

export function approvalBlockers(session: ReviewSession, decision: Decision): string[] {
  if (decision === 'rejected') return [];
  const live = session.annotations.filter((a) => !a.deleted);
  const out: string[] = [];
  for (const a of live) {
    if (a.disposition === 'must-fix') out.push(`must-fix ${a.id} on ${a.subject.image} (${annotationSubjectKey(a.subject)}): ${a.text}`);
  }
  // Fail closed: a failOn or severity this code does not know (a lookalike the schema missed) blocks rather than vanishes.
  const threshold = RANK[session.policy.failOn] ?? 0;
  for (const im of session.images) {
    for (const r of im.checks.results) {
      if (r.status !== 'fail' || (RANK[r.severity] ?? RANK.critical!) < threshold) continue;
      const marks = new Set(annotationsOnResult(live, im.key, r).map((a) => a.disposition));
      if (marks.has('must-fix')) continue; // already listed as a must-fix
      if (marks.has('false-positive')) continue;
      if (decision === 'approved-with-exceptions' && marks.has('accepted-risk')) continue;
      const hint = decision === 'approved' && marks.has('accepted-risk') ? ' (accepted-risk: decide approved-with-exceptions)' : decision === 'approved-with-exceptions' ? ' (needs an accepted-risk annotation)' : '';
      out.push(`${r.id} ${r.severity} on ${im.key} (${r.subject}): ${r.message}${hint}`);
    }
  }
  return out;
}
