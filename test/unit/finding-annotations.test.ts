/**
 * An annotation on the exact file, package or layer a failing check result
 * names decides that result, as an annotation on the result does: the
 * blockers (`vouch approve`, the workbench's Approve) and the findings the
 * record and `vouch session show` list agree. Broader subjects (the image)
 * and other images decide nothing; a note decides nothing; must-fix wins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalBlockers } from '../../src/core/approval/blockers.js';
import { sessionFindings } from '../../src/core/approval/statement.js';
import { addAnnotations } from '../../src/core/review/annotations.js';
import type { AnnotationSubject, Disposition, ReviewSession } from '../../src/core/review/types.js';
import { fakeSession } from '../helpers/approval.js';

const SETUID = { id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/su' };
const WORLD = { id: 'VCH-LP-003', severity: 'high', subject: '/usr/bin/su' };
const VULN = { id: 'VCH-DC-001', severity: 'critical', subject: 'package:pkg:npm/express@4.18.2' };
const LAYER = { id: 'VCH-SC-003', severity: 'high', subject: 'layer:sha256:1111' };

function session(): ReviewSession {
  return fakeSession({ failing: [SETUID, WORLD, VULN, LAYER] });
}

function annotate(s: ReviewSession, subject: AnnotationSubject, disposition: Disposition): void {
  addAnnotations(s, [subject], { disposition, text: `${disposition} by the reviewer`, author: 'rita', now: new Date('2026-01-02T00:00:00Z') });
}

const blocking = (s: ReviewSession, d: 'approved' | 'approved-with-exceptions'): string[] => approvalBlockers(s, d).map((b) => b.split(' ')[0]! + ' ' + (/\(([^)]*)\)/.exec(b)?.[1] ?? ''));
const findingOf = (s: ReviewSession, id: string): string | undefined => sessionFindings(s).find((f) => f.source === 'check' && f.id === id)?.disposition;

test('accepted-risk on a flagged file accepts every failing result about that file (approve with exceptions), and the findings say so', () => {
  const s = session();
  assert.deepEqual(blocking(s, 'approved-with-exceptions').sort(), ['VCH-DC-001 package:pkg:npm/express@4.18.2', 'VCH-LP-002 /usr/bin/su', 'VCH-LP-003 /usr/bin/su', 'VCH-SC-003 layer:sha256:1111'].sort());
  annotate(s, { kind: 'path', image: 'api', path: '/usr/bin/su' }, 'accepted-risk');
  assert.deepEqual(blocking(s, 'approved-with-exceptions').sort(), ['VCH-DC-001 package:pkg:npm/express@4.18.2', 'VCH-SC-003 layer:sha256:1111']);
  assert.equal(findingOf(s, 'VCH-LP-002'), 'accepted-risk');
  assert.equal(findingOf(s, 'VCH-LP-003'), 'accepted-risk');
  assert.equal(findingOf(s, 'VCH-DC-001'), 'open');
  // `approved` still needs more than an accepted risk, and says which decision it allows.
  assert.ok(approvalBlockers(s, 'approved').some((b) => b.startsWith('VCH-LP-002') && b.includes('(accepted-risk: decide approved-with-exceptions)')));
  // The same for a package and a layer a result names exactly.
  annotate(s, { kind: 'package', image: 'api', purl: 'pkg:npm/express@4.18.2' }, 'accepted-risk');
  annotate(s, { kind: 'layer', image: 'api', digest: 'sha256:1111' }, 'false-positive');
  assert.deepEqual(approvalBlockers(s, 'approved-with-exceptions'), []);
  assert.equal(findingOf(s, 'VCH-DC-001'), 'accepted-risk');
  assert.equal(findingOf(s, 'VCH-SC-003'), 'false-positive');
});

test('what does not count: another path, another image, the whole image, a note; a deleted annotation; must-fix wins over accepted-risk', () => {
  const s = session();
  annotate(s, { kind: 'path', image: 'api', path: '/usr/bin/sudo' }, 'accepted-risk');
  annotate(s, { kind: 'path', image: 'api', path: '/usr/bin/s' }, 'accepted-risk');
  annotate(s, { kind: 'path', image: 'worker', path: '/usr/bin/su' }, 'accepted-risk');
  annotate(s, { kind: 'image', image: 'api' }, 'accepted-risk');
  annotate(s, { kind: 'path', image: 'api', path: '/usr/bin/su' }, 'note');
  assert.ok(blocking(s, 'approved-with-exceptions').includes('VCH-LP-002 /usr/bin/su'));
  assert.equal(findingOf(s, 'VCH-LP-002'), 'open');
  // Deleted: no longer counts.
  annotate(s, { kind: 'path', image: 'api', path: '/usr/bin/su' }, 'accepted-risk');
  s.annotations.at(-1)!.deleted = true;
  assert.ok(blocking(s, 'approved-with-exceptions').includes('VCH-LP-002 /usr/bin/su'));
  // must-fix on the file: the annotation blocks (once, as a must-fix), whatever else accepts the result.
  annotate(s, { kind: 'check', image: 'api', check: 'VCH-LP-002', subject: '/usr/bin/su' }, 'accepted-risk');
  annotate(s, { kind: 'path', image: 'api', path: '/usr/bin/su' }, 'must-fix');
  const b = approvalBlockers(s, 'approved-with-exceptions');
  assert.equal(b.filter((x) => x.startsWith('must-fix ')).length, 1);
  assert.ok(!b.some((x) => x.startsWith('VCH-LP-002')), 'listed once, as the must-fix');
  assert.equal(findingOf(s, 'VCH-LP-002'), 'must-fix');
  assert.equal(findingOf(s, 'VCH-LP-003'), 'must-fix');
});
