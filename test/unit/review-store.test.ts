/**
 * The session store: durable atomic saves, one writer at a time (a live
 * holder refuses, a dead one's lock is taken over), nothing acknowledged is
 * lost when the writer is SIGKILLed at a random moment (the loop is in
 * test/integration/crash.test.ts); annotations keep
 * their history; the release file and session file are read strictly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { addAnnotations, deleteAnnotation, editAnnotation, resolveSubjects } from '../../src/core/review/annotations.js';
import { parseReleaseFile } from '../../src/core/review/release.js';
import { parseSession, SESSION_SCHEMA } from '../../src/core/review/schema.js';
import { lockPath, readSessionFile, SessionWriter } from '../../src/core/review/store.js';
import { approvalBlockers } from '../../src/core/approval/blockers.js';
import { isVouchError } from '../../src/core/errors.js';
import { checkSchema } from '../../src/core/util/schema-check.js';
import { Ajv } from 'ajv';
import { fakeSession } from '../helpers/approval.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'vouch-session-'));

async function newSessionFile(dir: string): Promise<string> {
  const p = join(dir, 'payments-2.4.0.review.json');
  const w = await SessionWriter.open(p, fakeSession({ failing: [{ id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/su' }] }));
  await w.close();
  return p;
}

describe('session store', () => {
  test('the schema interpreter agrees with ajv on sessions and their mutations', () => {
    const validate = new Ajv({ strict: true, allowUnionTypes: true }).compile(SESSION_SCHEMA);
    const base = fakeSession({ failing: [{ id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/su' }] });
    addAnnotations(base, [{ kind: 'check', image: 'api', check: 'VCH-LP-002', subject: '/usr/bin/su' }], { disposition: 'must-fix', text: 't', author: 'a' });
    const mutations: Array<(s: any) => void> = [
      () => {},
      (s) => (s.annotations[0].subject = { kind: 'check', image: 'api', check: 'X' }),
      (s) => (s.annotations[0].subject.kind = 'layer'),
      (s) => (s.annotations[0].disposition = 'maybe'),
      (s) => (s.annotations[0].history = [{ disposition: 'note' }]),
      (s) => (s.images[0].inventory.byType.npm = -2),
      (s) => (s.images[0].chain = null),
      (s) => (s.images[0].chain.extra = 1),
      (s) => (s.baseline = { path: '/x', digest: `sha256:${'b'.repeat(64)}`, release: null }),
      (s) => (s.policy.path = 3),
      (s) => delete s.warnings,
      (s) => (s.images[0].evidence[0].kind = 'rumour'),
    ];
    for (const [i, m] of mutations.entries()) {
      const doc = structuredClone(base) as any;
      m(doc);
      assert.equal(checkSchema(SESSION_SCHEMA, doc) === null, validate(doc), `mutation ${i}`);
    }
  });

  test('schemas/review-session.v1.json is the schema the reader validates with', () => {
    const file = JSON.parse(readFileSync(new URL('../../schemas/review-session.v1.json', import.meta.url), 'utf8'));
    assert.deepEqual(file, JSON.parse(JSON.stringify(SESSION_SCHEMA)));
  });

  // SIGKILL at random moments while annotating: test/integration/crash.test.ts (with the cache, approve and attach loops).

  test('a second writer is refused with "in use by PID … since …"; a dead writer\'s lock is taken over', async () => {
    const dir = tmp();
    const path = await newSessionFile(dir);
    const w = await SessionWriter.open(path);
    await assert.rejects(SessionWriter.open(path), (e: unknown) => isVouchError(e) && e.exitCode === 2 && new RegExp(`in use by PID ${process.pid} since \\d{4}-`).test(e.message));
    await w.close();
    // A lock left by a process that no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(lockPath(path), JSON.stringify({ pid: Number(dead), startedAt: '2026-01-01T00:00:00.000Z' }));
    const again = await SessionWriter.open(path);
    assert.equal(JSON.parse(readFileSync(lockPath(path), 'utf8')).pid, process.pid);
    await again.close();
    assert.equal(existsSync(lockPath(path)), false);
  });

  test('lock liveness: a reused PID, another boot or a stale start time clears; another host and a malformed lock are named, with how to remove', async () => {
    const dir = tmp();
    const path = await newSessionFile(dir);
    const lock = lockPath(path);
    const w = await SessionWriter.open(path);
    const mine = JSON.parse(readFileSync(lock, 'utf8'));
    assert.equal(mine.host, hostname());
    assert.match(mine.procStart, /^\d+$/, 'Linux: the start time from /proc/PID/stat');
    assert.match(mine.bootId, /^[0-9a-f-]{36}$/);
    await w.close();
    // PID 1 is alive but started long after this lock was taken (an older vouch's lock, PID reused): stale.
    writeFileSync(lock, JSON.stringify({ pid: 1, startedAt: '2020-01-01T00:00:00.000Z' }));
    await (await SessionWriter.open(path)).close();
    // A live PID whose start time differs from the lock's: not the writer.
    writeFileSync(lock, JSON.stringify({ ...mine, procStart: String(Number(mine.procStart) + 1) }));
    await (await SessionWriter.open(path)).close();
    // Written before a reboot: stale whatever the PID.
    writeFileSync(lock, JSON.stringify({ ...mine, bootId: '00000000-0000-0000-0000-000000000000' }));
    await (await SessionWriter.open(path)).close();
    // The very process that wrote it: still held.
    writeFileSync(lock, JSON.stringify(mine));
    await assert.rejects(SessionWriter.open(path), new RegExp(`in use by PID ${process.pid} since ${mine.startedAt.replace(/[.]/g, '\\.')}$`));
    // Another host: cannot be judged from here; named, with the way out.
    writeFileSync(lock, JSON.stringify({ ...mine, host: 'build-7' }));
    await assert.rejects(SessionWriter.open(path), (e: unknown) => isVouchError(e) && e.exitCode === 2 && /in use by PID \d+ on host build-7 since \d{4}-.*remove .*\.lock\)$/.test(e.message));
    for (const bad of ['', 'garbage', '{"pid":1}']) {
      writeFileSync(lock, bad);
      await assert.rejects(SessionWriter.open(path), (e: unknown) => isVouchError(e) && /the lock .* is malformed .*if no vouch is writing this session, remove .*\.lock$/.test(e.message) && !/undefined/.test(e.message));
      assert.equal(readFileSync(lock, 'utf8'), bad, 'a malformed lock is left for a person to judge');
    }
  });

  test('a refused change leaves the session and the file as they were', async () => {
    const dir = tmp();
    const path = await newSessionFile(dir);
    const before = readFileSync(path, 'utf8');
    const w = await SessionWriter.open(path);
    await assert.rejects(w.update((s) => deleteAnnotation(s, 'a99', 'me')), /annotation "a99" is not in the session/);
    assert.equal(readFileSync(path, 'utf8'), before);
    await w.close();
  });
});

describe('annotations', () => {
  test('subjects must exist in the session; --check covers every failing result of that check', async () => {
    const s = fakeSession({ failing: [{ id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/su' }, { id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/ping' }] });
    const subjects = await resolveSubjects(s, 'api', { kind: 'check', check: 'VCH-LP-002' });
    assert.deepEqual(subjects.map((x) => (x.kind === 'check' ? x.subject : '')), ['/usr/bin/su', '/usr/bin/ping']);
    await assert.rejects(resolveSubjects(s, 'api', { kind: 'check', check: 'VCH-XX-999' }), /check "VCH-XX-999" has no failing result on api/);
    await assert.rejects(resolveSubjects(s, 'api', { kind: 'package', purl: 'pkg:npm/left-pad@1.0.0' }), /package "pkg:npm\/left-pad@1.0.0" is not in the inventory of api/);
    await assert.rejects(resolveSubjects(s, 'api', { kind: 'layer', digest: 'sha256:00' }), /not a layer of api/);
    await assert.rejects(resolveSubjects(s, 'api', { kind: 'signature', digest: 'sha256:00' }), /not attached to api/);
    await assert.rejects(resolveSubjects(s, 'nope', { kind: 'image' }), /image "nope" is not in the session/);
    await assert.rejects(resolveSubjects(s, undefined, { kind: 'image' }), /give --image: the session has api, worker/);
    await assert.rejects(resolveSubjects(s, 'api', { kind: 'path', path: '/etc/shadow' }, async () => false), /path "\/etc\/shadow" does not exist in api/);
    assert.equal((await resolveSubjects(s, 'api', { kind: 'path', path: 'etc/passwd' }, async (_i, p) => p === '/etc/passwd'))[0]!.kind, 'path');
  });

  test('edits and deletions keep the history; blockers follow the live state', async () => {
    const s = fakeSession({ failing: [{ id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/su' }] });
    assert.equal(approvalBlockers(s, 'approved').length, 1);
    assert.equal(approvalBlockers(s, 'rejected').length, 0);
    const [a] = addAnnotations(s, await resolveSubjects(s, 'api', { kind: 'check', check: 'VCH-LP-002' }), { disposition: 'must-fix', text: 'drop setuid', author: 'alice' });
    assert.deepEqual(approvalBlockers(s, 'approved-with-exceptions').map((b) => b.split(' ')[0]), ['must-fix']);
    editAnnotation(s, a!.id, { disposition: 'accepted-risk', text: 'needed by ops' }, 'bob');
    assert.equal(approvalBlockers(s, 'approved-with-exceptions').length, 0);
    assert.match(approvalBlockers(s, 'approved')[0]!, /accepted-risk: decide approved-with-exceptions/);
    deleteAnnotation(s, a!.id, 'bob');
    assert.equal(s.annotations[0]!.deleted, true);
    assert.deepEqual(s.annotations[0]!.history.map((h) => [h.disposition, h.author, h.deleted]), [['must-fix', 'alice', false], ['accepted-risk', 'bob', false]]);
    assert.equal(approvalBlockers(s, 'approved-with-exceptions').length, 1, 'deleted: the failing result is uncovered again');
    const parsed = parseSession(JSON.stringify(s), '/x.json');
    assert.equal(parsed.annotations[0]!.history.length, 2);
  });
});

describe('bad input names the file and field', () => {
  test('session files: not JSON, unknown version, a broken field', () => {
    assert.throws(() => parseSession('{', '/r/s.json'), /^VouchError: \/r\/s\.json: not a review session: not JSON/);
    assert.throws(() => parseSession(JSON.stringify({ ...fakeSession(), version: 2 }), '/r/s.json'), /\/r\/s\.json: version: 2 is not a session version this vouch reads \(1\)/);
    const s = fakeSession() as any;
    s.images[0].digest = 'sha256:nothex';
    assert.throws(() => parseSession(JSON.stringify(s), '/r/s.json'), /\/r\/s\.json: images\.0\.digest: must match pattern/);
  });

  test('release files: a name or version that looks like a number keeps its source text', () => {
    const ref = 'docker://registry.example.com/p/api@sha256:' + 'a'.repeat(64);
    for (const [name, version] of [['2024', '1.10'], ['"2024"', '"1.10"'], ['0x10', '1.0'], ['payments', '1e3']]) {
      const r = parseReleaseFile(`name: ${name}\nversion: ${version}\nimages:\n  api: ${ref}\ntrust: ./t.yaml\n`, '/r/vouch.release.yaml');
      assert.equal(r.name, name.replace(/"/g, ''));
      assert.equal(r.version, version.replace(/"/g, ''));
    }
    assert.throws(() => parseReleaseFile(`name: p\nversion:\nimages: {a: ${ref}}\ntrust: t\n`, '/r/vouch.release.yaml'), /version: must NOT have fewer than 1 characters/);
  });

  test('release files: unknown keys, missing fields, relative paths against the file\'s folder', () => {
    const ok = parseReleaseFile('name: payments\nversion: 2.4.0\nimages:\n  api: docker://registry.example.com/payments/api@sha256:' + 'a'.repeat(64) + '\n  worker: oci:./build/worker:2.4.0\nbaseline: ./approvals/p.sigstore.json\ntrust: ./vouch.trust.yaml\n', '/srv/rel/vouch.release.yaml');
    assert.deepEqual(ok.images.map((i) => i.reference), ['docker://registry.example.com/payments/api@sha256:' + 'a'.repeat(64), 'oci:/srv/rel/build/worker:2.4.0']);
    assert.equal(ok.baseline, '/srv/rel/approvals/p.sigstore.json');
    assert.equal(ok.trust, '/srv/rel/vouch.trust.yaml');
    assert.throws(() => parseReleaseFile('name: p\nversion: 1\nimages: {a: x}\ntrust: t\nreviewer: me\n', '/r/vouch.release.yaml'), /\/r\/vouch\.release\.yaml: \(top level\): unknown key "reviewer"/);
    // A bare name is what ships: the registry's image, never a same-named copy in the local daemon (whose digest
    // vouch would synthesise); the daemon only when the file says docker-daemon:.
    const bare = parseReleaseFile('name: p\nversion: 1\nimages:\n  a: 127.0.0.1:5000/nc2-app:1\n  b: alpine\n  c: docker-daemon:app:dev\n  d: ./build/app.tar\ntrust: t\n', '/srv/rel/vouch.release.yaml');
    assert.deepEqual(bare.images.map((i) => i.reference), ['docker://127.0.0.1:5000/nc2-app:1', 'docker://alpine', 'docker-daemon:app:dev', '/srv/rel/build/app.tar']);
    assert.throws(() => parseReleaseFile('name: p\nversion: 1\nimages: {}\ntrust: t\n', '/r/vouch.release.yaml'), /images: must NOT have fewer than 1 properties/);
    assert.throws(() => parseReleaseFile('name: p\nversion: 1\nimages: {a: "oci:"}\ntrust: t\n', '/r/vouch.release.yaml'), /images\.a: invalid image reference/);
  });
});

describe('attacks on the session file (issue 10 review)', () => {
  test('#2 the schema refuses unknown severities, statuses, failOn: invisible characters cannot hide a blocker', () => {
    const base = fakeSession({ failing: [{ id: 'VCH-LP-002', severity: 'high', subject: '/usr/bin/su' }] });
    addAnnotations(base, [{ kind: 'check', image: 'api', check: 'VCH-LP-002', subject: '/usr/bin/su' }], { disposition: 'note', severity: 'high', text: 't', author: 'a' });
    assert.doesNotThrow(() => parseSession(JSON.stringify(base), '/r/s.json'));
    const forged: Array<[string, (s: any) => void, RegExp]> = [
      ['U+200B after high', (s) => (s.images[0].checks.results[0].severity = 'high\u200b'), /images\.0\.checks\.results\.0\.severity: must be equal to one of the allowed values/],
      ['NBSP after critical', (s) => (s.images[0].checks.results[0].severity = 'critical\u00a0'), /results\.0\.severity/],
      ['status pass', (s) => (s.images[0].checks.results[0].status = 'pass'), /results\.0\.status/],
      ['failOn none', (s) => (s.policy.failOn = 'none'), /policy\.failOn/],
      ['annotation severity', (s) => (s.annotations[0].severity = 'HIGH'), /annotations\.0\.severity/],
      ['history severity', (s) => (s.annotations[0].history = [{ ...s.annotations[0], history: undefined, id: undefined, subject: undefined, createdAt: undefined, severity: 'x' }].map(({ disposition, severity, text, author, at, deleted }: any) => ({ disposition, severity, text, author, at, deleted }))), /annotations\.0\.history\.0\.severity/],
      ['disposition', (s) => (s.annotations[0].disposition = 'accepted-risk\u200b'), /annotations\.0\.disposition/],
    ];
    for (const [what, m, re] of forged) {
      const doc = structuredClone(base) as any;
      m(doc);
      assert.throws(() => parseSession(JSON.stringify(doc), '/r/s.json'), re, what);
    }
  });

  test('#2 annotations take only known severities (core, not just the CLI)', () => {
    const s = fakeSession();
    assert.throws(() => addAnnotations(s, [{ kind: 'image', image: 'api' }], { disposition: 'note', severity: 'high\u200b', text: 't', author: 'a' }), /severity "high\\u200b" is not one of critical, high/);
    const [a] = addAnnotations(s, [{ kind: 'image', image: 'api' }], { disposition: 'note', severity: 'low', text: 't', author: 'a' });
    assert.throws(() => editAnnotation(s, a!.id, { severity: 'urgent' }, 'b'), /severity "urgent"/);
    assert.doesNotThrow(() => parseSession(JSON.stringify(s), '/r/s.json'));
  });

  test('#2 blockers fail closed on a severity or failOn they do not know', () => {
    const s = fakeSession({ failing: [{ id: 'VCH-LP-002', severity: 'high\u200b', subject: '/usr/bin/su' }] });
    assert.equal(approvalBlockers(s, 'approved').length, 1, 'an unknown severity counts as the highest');
    const t = fakeSession({ failing: [{ id: 'VCH-LP-002', severity: 'low', subject: '/usr/bin/su' }] }) as any;
    t.policy.failOn = 'none';
    assert.equal(approvalBlockers(t, 'approved').length, 1, 'an unknown failOn blocks on everything');
  });

  test('#9 release name and version are safe file names, in the release file and in the session', () => {
    for (const [name, version] of [['payments', '../../traversed'], ['payments', 'a/b'], ['payments', '.'], ['payments', '..']]) {
      assert.throws(() => parseReleaseFile(`name: ${name}\nversion: "${version}"\nimages: {a: x}\ntrust: t\n`, '/r/vouch.release.yaml'), /\/r\/vouch\.release\.yaml: version: /, version);
    }
    assert.doesNotThrow(() => parseReleaseFile('name: payments\nversion: 2.4.0-rc.1+build.7\nimages: {a: x}\ntrust: t\n', '/r/vouch.release.yaml'));
    for (const bad of [{ name: '../../traversed/payments' }, { name: '..' }, { version: '../x' }, { version: 'a/b' }]) {
      const s = fakeSession() as any;
      Object.assign(s.release, bad);
      assert.throws(() => parseSession(JSON.stringify(s), '/r/s.json'), /\/r\/s\.json: release\.(name|version): must match pattern/, JSON.stringify(bad));
    }
  });

  test('#6 creating a session never overwrites one that exists, and holds the lock while the session is built', async () => {
    const dir = tmp();
    const path = await newSessionFile(dir);
    const w = await SessionWriter.open(path);
    await w.update((s) => addAnnotations(s, [{ kind: 'image', image: 'api' }], { disposition: 'must-fix', text: 'backdoor, do not ship', author: 'alice' }));
    await w.close();
    const saved = readFileSync(path, 'utf8');
    await assert.rejects(SessionWriter.open(path, fakeSession()), (e: unknown) => isVouchError(e) && e.exitCode === 2 && /payments-2\.4\.0\.review\.json: already exists/.test(e.message));
    assert.equal(readFileSync(path, 'utf8'), saved, 'the annotated session is untouched');
    assert.equal(existsSync(lockPath(path)), false, 'the lock is released');

    const fresh = join(dir, 'new.review.json');
    let during: unknown = null;
    const created = await SessionWriter.create(fresh, async () => {
      // Another writer (an annotate, a second init) while the first still builds: refused, not overwritten later.
      during = await SessionWriter.open(fresh, fakeSession()).then(() => 'opened', (e: unknown) => e);
      return fakeSession();
    });
    await created.close();
    assert.ok(isVouchError(during) && /in use by PID/.test(during.message), String(during));
    assert.equal((await readSessionFile(fresh)).release.name, 'payments');
    await assert.rejects(SessionWriter.create(fresh, async () => fakeSession()), /new\.review\.json: already exists/);
  });
});
