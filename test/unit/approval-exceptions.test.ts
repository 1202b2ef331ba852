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
import { clearingAnnotations, exceptionsByOthers, ForeignExceptionsError } from '../../src/core/approval/exceptions.js';
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
