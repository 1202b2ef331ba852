/**
 * Issue 12, concurrency: vouch processes running at the same time on the same
 * files. Two analyse one image into one cache (both right, the cache
 * consistent: a third run is served from it and re-hashes the blobs); two
 * annotate one session (one writer at a time: the other is refused with "in
 * use by PID … since …", never a silent overwrite or a lost annotation); ten
 * verify the same approvals (all say the same, correctly).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { readSessionFile, SessionWriter } from '../../src/core/review/store.js';
import { fakeSession, makeReviewers } from '../helpers/approval.js';
import { writeApproval } from '../helpers/approved.js';
import { bundleChildren, type CrashKind } from '../helpers/crash/driver.js';
import { spawnNode, testCacheDir, type CliRun } from '../helpers/inspect.js';
import { readWholeCacheEntry } from '../helpers/cache-entry.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = join(root, 'dist/src/cli/main.js');
// The compiled CLI when built (`npm test` builds it first; ~0.3 s a process), else the source through tsx.
const CLI = existsSync(dist) ? [dist] : ['--import', 'tsx', join(root, 'src/cli/main.ts')];

type Run = CliRun;

const vouch = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> => spawnNode([...CLI, ...args], env);

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), `vouch-concurrent-${p}-`));
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));

let children: Record<CrashKind, string>;
before(async () => {
  children = await bundleChildren();
});
after(() => rmSync(dirname(children.session), { recursive: true, force: true }));

describe('concurrent vouch processes', { timeout: 120_000 }, () => {
  test('two analyse the same image into the same cache at once: both right; a third is served from the cache and verifies', async () => {
    const { reference } = await ensureDemoImage(testCacheDir);
    const cache = tmp('cache');
    const env = { VOUCH_CACHE_DIR: cache };
    const [a, b] = await Promise.all([vouch(['inspect', reference, '--json'], env), vouch(['inspect', reference, '--json'], env)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const strip = (r: Run): unknown => ({ ...JSON.parse(r.stdout), cache: undefined, analysedAt: undefined });
    assert.deepEqual(strip(a), strip(b));
    for (const f of filesUnder(cache)) {
      assert.doesNotMatch(f, /\.tmp$/, 'no temp file left');
      assert.doesNotThrow(() => readWholeCacheEntry(f), `${f} is whole`);
    }
    const c = await vouch(['inspect', reference, '--json', '--verify'], env);
    assert.equal(c.code, 0, c.stderr);
    const third = JSON.parse(c.stdout);
    assert.equal(third.cache.hit, true, 'served from the cache the two wrote');
    assert.equal(third.cache.verification, 'full', 'and every blob re-hashed');
    assert.deepEqual({ ...third, cache: undefined, analysedAt: undefined }, strip(a));
  });

  test('two annotate the same session: the second is refused with "in use by PID … since …"; nothing is lost or overwritten', async () => {
    const dir = tmp('session');
    const path = join(dir, 'payments-2.4.0.review.json');
    await (await SessionWriter.open(path, fakeSession())).close();
    const annotate = (text: string): Promise<Run> => vouch(['annotate', '--session', path, '--image', 'api', '--whole-image', '--disposition', 'note', '--text', text, '--author', 'ci']);

    // A writer that holds the session (the crash loop's annotating child) while `vouch annotate` tries.
    const holder = spawn(process.execPath, [children.session, path], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const acked = new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/\nack /.test(out)) resolve();
      });
      holder.on('exit', () => reject(new Error('the holder exited')));
    });
    holder.stdin.write('go\n');
    await acked;
    const refused = await annotate('second writer');
    const exited = new Promise((r) => holder.on('exit', r));
    holder.kill('SIGKILL');
    await exited;
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`in use by PID ${holder.pid} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z`));
    const held = await readSessionFile(path);
    assert.ok(!held.annotations.some((a) => a.text === 'second writer'), 'the refused writer wrote nothing');
    const holderAcks = [...out.matchAll(/^ack (a\d+) \d+\n/gm)].map((m) => m[1]!);
    for (const id of holderAcks) assert.ok(held.annotations.some((a) => a.id === id), `the holder's ${id} is kept`);

    // Its lock is left behind by a dead process: it does not block. Then two at once, twice:
    // each is saved or refused with the lock message, and every saved one is in the file.
    const after1 = await annotate('after the holder died');
    assert.equal(after1.code, 0, after1.stderr);
    const saved = ['after the holder died'];
    for (let round = 0; round < 2; round++) {
      const texts = [`round ${round} a`, `round ${round} b`];
      const runs = await Promise.all(texts.map(annotate));
      for (const [i, r] of runs.entries()) {
        if (r.code === 0) saved.push(texts[i]!);
        else assert.match(r.stderr, /in use by PID \d+ since /, `exit ${r.code}: ${r.stderr}`);
      }
    }
    const final = await readSessionFile(path);
    const texts = final.annotations.map((a) => a.text);
    for (const t of saved) assert.ok(texts.includes(t), `${t} was saved and is kept`);
    assert.equal(texts.filter((t) => t.startsWith('round ') || t.startsWith('after ')).length, saved.length, 'no refused writer wrote');
    assert.deepEqual(readdirSync(dir).filter((f) => /\.(tmp|stale|lock)$/.test(f)), [], 'no lock or temp file left');
  });

  test('ten verify the same approvals at once: each answers correctly (five admit the approved digest, five refuse another)', async () => {
    const rv = await makeReviewers(['alice', 'bob']);
    const digest = `sha256:${'7'.repeat(64)}`;
    const name = 'registry.example.com/payments/api';
    const files = await Promise.all(['alice', 'bob'].map((who) => writeApproval(rv, who, [{ name, digest }], rv.dir, `payments-${who}`)));
    const trust = join(rv.dir, 'vouch.trust.yaml');
    writeFileSync(trust, rv.trustYaml(['alice', 'bob'], 'require:\n  approvals: 2\n'));
    // Five ask about the approved digest, five about another one, all at once.
    const other = `sha256:${'8'.repeat(64)}`;
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => vouch(['verify', ...files, '--image', `${name}@${i % 2 ? other : digest}`, '--trust', trust, '--json'])));
    const answers = new Set<string>();
    for (const [i, r] of runs.entries()) {
      const j = JSON.parse(r.stdout);
      if (i % 2) {
        assert.equal(r.code, 1, r.stderr);
        assert.equal(j.ok, false);
        assert.ok(j.reasons.length > 0);
      } else {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(j.ok, true);
        assert.deepEqual(j.reviewers.map((x: { name: string }) => x.name).sort(), ['alice', 'bob']);
        answers.add(r.stdout);
      }
    }
    assert.equal(answers.size, 1, 'every process admitting the image says the same');
  });
});
