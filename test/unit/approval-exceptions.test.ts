/**
 * The session file is not trusted input: an attacker who can write it adds
 * accepted-risk annotations "by alice" on every failing result, and bob's
 * approval would sign them as his exceptions. Signing refuses by default when
 * an exception the decision needs was written by someone other than the
 * signing reviewer (unless the reviewer accepts that author), and lists them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { writeVerifiedApproval } from '../../src/core/approval/approve.js';
import { approvalBlockers } from '../../src/core/approval/blockers.js';
import { clearingAnnotations, exceptionLine, exceptionsByOthers, ForeignExceptionsError } from '../../src/core/approval/exceptions.js';
import { annotationsOnResult } from '../../src/core/approval/statement.js';
import { parseSession } from '../../src/core/review/schema.js';
import { addAnnotations } from '../../src/core/review/annotations.js';
import type { ReviewSession } from '../../src/core/review/types.js';
import type { TrustFile } from '../../src/core/trust/trust-file.js';
import { fakeSession } from '../helpers/approval.js';

const failing = Array.from({ length: 11 }, (_, i) => ({ id: `VCH-X-${String(i).padStart(3, '0')}`, severity: 'high', subject: `/f${i}` }));

function forged(author = 'alice', disposition: 'accepted-risk' | 'false-positive' = 'accepted-risk'): ReviewSession {
  const s = fakeSession({ failing });
  for (const f of failing) addAnnotations(s, [{ kind: 'check', image: 'api', check: f.id, subject: f.subject }], { disposition, text: 'discussed with security, fine', author });
  return s;
}

describe('exceptions an approval signs, and who wrote them', () => {
  test('the forged session: all 11 accepted-risk annotations by "alice" are listed for bob; none for alice or when bob accepts alice', () => {
    const s = forged();
    assert.deepEqual(approvalBlockers(s, 'approved-with-exceptions'), []);
    const foreign = exceptionsByOthers(s, 'approved-with-exceptions', 'bob');
    assert.equal(foreign.length, 11);
    assert.ok(foreign.every((x) => x.author === 'alice' && x.disposition === 'accepted-risk' && x.image === 'api' && x.target.includes('VCH-X-')));
    assert.deepEqual(exceptionsByOthers(s, 'approved-with-exceptions', 'alice'), []);
    assert.deepEqual(exceptionsByOthers(s, 'approved-with-exceptions', 'bob', ['alice']), []);
    assert.equal(clearingAnnotations(s, 'approved-with-exceptions').length, 11);
    // A rejection relies on nothing.
    assert.deepEqual(exceptionsByOthers(s, 'rejected', 'bob'), []);
  });

  test('false positives clear results for approved too; notes and annotations on nothing that blocks are not exceptions', () => {
    const s = forged('mallory', 'false-positive');
    assert.equal(exceptionsByOthers(s, 'approved', 'bob').length, 11);
    const quiet = fakeSession({ failing: [] });
    addAnnotations(quiet, [{ kind: 'image', image: 'api' }], { disposition: 'accepted-risk', text: 'x', author: 'mallory' });
    addAnnotations(quiet, [{ kind: 'image', image: 'api' }], { disposition: 'note', text: 'x', author: 'mallory' });
    assert.deepEqual(exceptionsByOthers(quiet, 'approved-with-exceptions', 'bob'), []);
  });

  test("a duplicate by the reviewer covers the result; two foreign duplicates are both listed (neither hides behind the other)", () => {
    const s = fakeSession({ failing: [failing[0]!] });
    const subj = { kind: 'check' as const, image: 'api', check: failing[0]!.id, subject: failing[0]!.subject };
    addAnnotations(s, [subj], { disposition: 'accepted-risk', text: 'a', author: 'alice' });
    addAnnotations(s, [subj], { disposition: 'accepted-risk', text: 'c', author: 'carol' });
    assert.deepEqual(exceptionsByOthers(s, 'approved-with-exceptions', 'bob').map((x) => x.author).sort(), ['alice', 'carol']);
    addAnnotations(s, [subj], { disposition: 'accepted-risk', text: 'b', author: 'bob' });
    assert.deepEqual(exceptionsByOthers(s, 'approved-with-exceptions', 'bob'), []);
  });

  test('writeVerifiedApproval (vouch approve and the workbench) refuses before signing or writing anything', async () => {
    const out = '/nonexistent-dir/never-written.sigstore.json';
    const o = {
      session: forged(),
      decision: 'approved-with-exceptions' as const,
      rationale: '',
      reviewer: { name: 'bob', identity: 'key x' },
      trusted: true,
      signer: { kind: 'key' as const, keyPath: '/nonexistent.key', passphrase: 'x' },
      trust: {} as TrustFile,
      evidenceTrust: { signers: [] } as unknown as TrustFile,
      out,
    };
    await assert.rejects(writeVerifiedApproval(o), (e: unknown) => {
      assert.ok(e instanceof ForeignExceptionsError);
      assert.equal(e.exitCode, 1);
      assert.equal(e.exceptions.length, 11);
      assert.match(e.message, /not written by reviewer "bob" \(by "alice"\); .*--accept-annotations-by alice/);
      return true;
    });
    // Accepting alice gets past the check (and fails later, at the missing key: proof the check let it through).
    await assert.rejects(writeVerifiedApproval({ ...o, acceptAnnotationsBy: ['alice'] }), (e: unknown) => !(e instanceof ForeignExceptionsError));
  });

  test('writeVerifiedApproval with acceptAnnotationIds: only the listed annotations are accepted, the others by the same author still refuse', async () => {
    const session = forged();
    const ids = session.annotations.map((a) => a.id);
    const o = { session, decision: 'approved-with-exceptions' as const, rationale: '', reviewer: { name: 'bob', identity: 'key x' }, trusted: true, signer: { kind: 'key' as const, keyPath: '/nonexistent.key', passphrase: 'x' }, trust: {} as TrustFile, evidenceTrust: { signers: [] } as unknown as TrustFile, out: '/nonexistent-dir/x.sigstore.json' };
    await assert.rejects(writeVerifiedApproval({ ...o, acceptAnnotationIds: ids.slice(0, 4) }), (e: unknown) => {
      assert.ok(e instanceof ForeignExceptionsError);
      assert.deepEqual(e.exceptions.map((x) => x.id), ids.slice(4));
      return true;
    });
    assert.deepEqual(exceptionsByOthers(session, 'approved-with-exceptions', 'bob', [], ids.slice(0, 4)).map((x) => x.id), ids.slice(4));
    // Every id listed: past the check (fails later, at the missing key).
    await assert.rejects(writeVerifiedApproval({ ...o, acceptAnnotationIds: ids }), (e: unknown) => !(e instanceof ForeignExceptionsError));
  });

  test('an annotation id two annotations share (a forged twin) accepts neither', () => {
    const session = forged();
    session.annotations[1]!.id = session.annotations[0]!.id;
    const left = exceptionsByOthers(session, 'approved-with-exceptions', 'bob', [], [session.annotations[0]!.id]).map((x) => x.id);
    assert.equal(left.filter((id) => id === session.annotations[0]!.id).length, 2);
  });
});

test('an author with an e-mail address and the same name without it are one person', () => {
  const s = forged('Rita Reviewer');
  assert.deepEqual(exceptionsByOthers(s, 'approved-with-exceptions', 'demo-reviewer', ['Rita Reviewer <rita@example.com>']), []);
  assert.equal(exceptionsByOthers(s, 'approved-with-exceptions', 'demo-reviewer', ['Rita <rita@example.com>']).length, 11);
});

test('session show prints the author of every annotation', async () => {
  const { formatSession } = await import('../../src/cli/commands/session.js');
  const text = formatSession(forged(), '/r/payments-2.4.0.review.json');
  const lines = text.split('\n').filter((l) => /accepted-risk {2}by "alice" {2}api check:VCH-X-\d{3} \/f\d+: discussed with security, fine$/.test(l));
  assert.equal(lines.length, 11, text);
});

describe('a path annotation is about a file path, nothing else (attacker review #4)', () => {
  // Subject keys the runner gives results that are not file paths (subjectKey): a path annotation spelled like one of them must not match.
  const notPaths = ['image', 'env:SECRET_TOKEN', `signature:${'a'.repeat(64)}`, 'history:RUN curl x | sh', `layer:sha256:${'b'.repeat(64)}`, 'package:pkg:npm/express@4.18.2'];
  const results = notPaths.map((subject, i) => ({ id: `VCH-Y-${String(i).padStart(3, '0')}`, severity: 'high', subject }));

  test('{kind: path, path: "image"} (or "env:X", "signature:…", "history:…", "layer:…", "package:…") clears no result', () => {
    const s = fakeSession({ failing: results });
    // Written straight into the session, as an attacker edits the file (annotate itself makes paths absolute).
    for (const k of notPaths) addAnnotations(s, [{ kind: 'path', image: 'api', path: k }], { disposition: 'false-positive', text: 'reviewed upstream', author: 'mallory' });
    for (const r of s.images[0]!.checks.results) assert.deepEqual(annotationsOnResult(s.annotations, 'api', r), [], r.subject);
    assert.equal(approvalBlockers(s, 'approved').length, results.length);
    assert.deepEqual(clearingAnnotations(s, 'approved'), []);
  });

  test('a path annotation still clears the results about that file, and only on its image', () => {
    const s = fakeSession({ failing: [{ id: 'VCH-LP-003', severity: 'high', subject: '/usr/bin/su' }, { id: 'VCH-CT-001', severity: 'high', subject: '/usr/bin/su' }, { id: 'VCH-PV-001', severity: 'high', subject: 'image' }] });
    addAnnotations(s, [{ kind: 'path', image: 'api', path: '/usr/bin/su' }], { disposition: 'accepted-risk', text: 'needed', author: 'bob' });
    addAnnotations(s, [{ kind: 'path', image: 'worker', path: '/usr/bin/su' }], { disposition: 'accepted-risk', text: 'wrong image', author: 'bob' });
    assert.deepEqual(approvalBlockers(s, 'approved-with-exceptions').map((b) => b.split(' ')[0]), ['VCH-PV-001']);
  });

  test("each exception's line names the check ids of the results it clears", () => {
    const s = fakeSession({ failing: [{ id: 'VCH-LP-003', severity: 'high', subject: '/usr/bin/su' }, { id: 'VCH-CT-001', severity: 'high', subject: '/usr/bin/su' }, { id: 'VCH-PV-001', severity: 'high', subject: 'image' }] });
    addAnnotations(s, [{ kind: 'path', image: 'api', path: '/usr/bin/su' }], { disposition: 'accepted-risk', text: 'needed', author: 'bob' });
    addAnnotations(s, [{ kind: 'check', image: 'api', check: 'VCH-PV-001', subject: 'image' }], { disposition: 'accepted-risk', text: 'unsigned for now', author: 'bob' });
    const ex = clearingAnnotations(s, 'approved-with-exceptions');
    assert.deepEqual(ex.map((x) => x.clears), [['VCH-LP-003', 'VCH-CT-001'], ['VCH-PV-001']]);
    assert.match(exceptionLine(ex[0]!), /^accepted-risk a\d+ by "bob" on api \(\/usr\/bin\/su\) clears VCH-LP-003, VCH-CT-001: needed$/);
    assert.match(exceptionLine(ex[1]!), / clears VCH-PV-001: unsigned for now$/);
  });

  test('reading a session: a path subject that is not absolute is refused, naming the file and field', () => {
    const s = fakeSession({ failing: results });
    addAnnotations(s, [{ kind: 'path', image: 'api', path: '/etc/passwd' }], { disposition: 'note', text: 'ok', author: 'bob' });
    assert.doesNotThrow(() => parseSession(JSON.stringify(s), '/r/s.review.json'));
    for (const bad of ['image', 'env:X', 'etc/passwd', '']) {
      const t = structuredClone(s);
      (t.annotations[0]!.subject as { path: string }).path = bad;
      assert.throws(() => parseSession(JSON.stringify(t), '/r/s.review.json'), (e: Error) => /^\/r\/s\.review\.json: annotations\.0\.subject/.test(e.message) && (e as { exitCode?: number }).exitCode === 2, bad);
    }
  });
});
