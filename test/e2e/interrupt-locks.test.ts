/**
 * An interrupted command leaves no session lock behind: `vouch session init`
 * takes the lock before its long build; SIGINT (Ctrl-C) or SIGTERM then removes
 * the lock and ends the process by that signal (the shell's 130 / 143) (it is this run's own). The build here waits on
 * a registry that accepts connections and never answers, so the interruption
 * always lands while the lock is held.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { cliCommand, testCacheDir } from '../helpers/inspect.js';

const sockets = new Set<Socket>();
const silent = createServer((c) => {
  sockets.add(c);
  c.on('close', () => sockets.delete(c));
});
let port = 0;

before(async () => {
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
  port = (silent.address() as { port: number }).port;
});
after(() => {
  for (const c of sockets) c.destroy();
  silent.close();
});

describe('interrupted commands release the session lock', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    test(`session init interrupted by ${signal} while it holds the lock: exit ${code}, no lock left`, { timeout: 60_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vouch-interrupt-'));
      writeFileSync(join(dir, 'vouch.trust.yaml'), 'reviewers: []\n');
      writeFileSync(join(dir, 'vouch.release.yaml'), `name: demo\nversion: 1.0.0\nimages:\n  app: docker://127.0.0.1:${port}/silent/app:v1\ntrust: ./vouch.trust.yaml\n`);
      const lock = join(dir, 'demo-1.0.0.review.json.lock');
      const [node, ...pre] = cliCommand();
      const child = spawn(node!, [...pre, 'session', 'init', '--release', join(dir, 'vouch.release.yaml')], { env: { ...process.env, VOUCH_CACHE_DIR: testCacheDir }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (c, s) => res({ code: c, signal: s })));
      // The lock appears before the build starts waiting on the silent registry.
      for (let i = 0; i < 400 && !existsSync(lock); i++) await sleep(50);
      assert.ok(existsSync(lock), `the lock is taken (${stderr})`);
      child.kill(signal);
      const r = await exited;
      // Death by the signal, as if unhandled: the shell reports 128 + signal number.
      assert.deepEqual(r, { code: null, signal }, stderr);
      assert.equal(128 + (signal === 'SIGINT' ? 2 : 15), code);
      assert.ok(!existsSync(lock), 'the lock is gone');
      assert.ok(!existsSync(join(dir, 'demo-1.0.0.review.json')), 'no session was written');
    });
  }
});
