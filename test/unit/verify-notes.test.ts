/**
 * Newcomer 22: `vouch verify DIR` names the approvals it read but did not
 * count (an untrusted signer's rejection, a record about other digests) as
 * notes, in text and JSON, even when the image is approved.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestOf, makeReviewers, type Reviewers } from '../helpers/approval.js';
import { writeApproval } from '../helpers/approved.js';
import { runCli } from '../helpers/inspect.js';

const API = digestOf('notes-api');
const OTHER = digestOf('notes-other');
const NAME = 'registry.example.com/shop/api';
let rv: Reviewers;
let approvals: string;
let trust: string;

before(async () => {
  rv = await makeReviewers(['alice', 'mallory']);
  approvals = join(rv.dir, 'approvals');
  await mkdir(approvals);
  await writeApproval(rv, 'alice', [{ name: NAME, digest: API }], approvals, 'alice');
  // An untrusted self-review that rejects the image, and a record about another image.
  await writeApproval(rv, 'mallory', [{ name: NAME, digest: API }], approvals, 'mallory-rejects', 'rejected');
  await writeApproval(rv, 'alice', [{ name: 'registry.example.com/shop/worker', digest: OTHER }], approvals, 'worker');
  trust = join(rv.dir, 'vouch.trust.yaml');
  await writeFile(trust, rv.trustYaml(['alice']));
});
after(async () => {
  await rm(rv.dir, { recursive: true, force: true });
});

test('approved, and the approvals not counted are notes (text and JSON)', async () => {
  const t = await runCli(['verify', approvals, '--image', `${NAME}@${API}`, '--trust', trust]);
  assert.equal(t.code, 0, t.stdout + t.stderr);
  assert.match(t.stdout, /^OK: /m);
  assert.match(t.stdout, /^note {6}.*mallory-rejects\.sigstore\.json: not counted: UNTRUSTED_SIGNER/m);
  assert.match(t.stdout, /^note {6}.*worker\.sigstore\.json: not counted: OTHER_IMAGE: /m);
  assert.doesNotMatch(t.stdout, /note .*alice\.sigstore\.json/);
  const j = await runCli(['verify', approvals, '--image', `${NAME}@${API}`, '--trust', trust, '--json']);
  assert.equal(j.code, 0);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.notes.map((n: any) => [n.file.replace(/.*\//, ''), n.code]).sort(), [['mallory-rejects.sigstore.json', 'UNTRUSTED_SIGNER'], ['worker.sigstore.json', 'OTHER_IMAGE']]);
});

test('refused: the per-file reasons stay reasons; only other-image records are notes', async () => {
  const alone = join(rv.dir, 'alone');
  await mkdir(alone);
  await writeApproval(rv, 'mallory', [{ name: NAME, digest: API }], alone, 'mallory');
  await writeApproval(rv, 'alice', [{ name: 'registry.example.com/shop/worker', digest: OTHER }], alone, 'worker');
  const j = await runCli(['verify', alone, '--image', `${NAME}@${API}`, '--trust', trust, '--json']);
  assert.equal(j.code, 1);
  const doc = JSON.parse(j.stdout);
  assert.ok(doc.reasons.some((r: any) => r.code === 'UNTRUSTED_SIGNER'));
  assert.deepEqual(doc.notes.map((n: any) => n.code), ['OTHER_IMAGE']);
});
