/**
 * What a SIGKILLed writer leaves (its temp files, a half-taken lock, a daemon
 * export folder) is removed by the next writer, and only that: files of live
 * processes, other targets' files and the user's own files stay.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sweepDeadTempDirs, sweepDeadTemps } from '../../src/core/util/dead-temps.js';

/** The PID of a process that has exited. */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());

test('dead writers\' temp files go; live writers\', other targets\' and the user\'s files stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-dead-temps-'));
  const dead = deadPid();
  const names = {
    gone: [`.app.review.json.${dead}.0123456789ab.tmp`, `app.review.json.lock.${dead}.01234567.tmp`, `app.review.json.lock.${dead}.89abcdef.stale`],
    kept: [
      `.app.review.json.${process.pid}.0123456789ab.tmp`, // this (live) process is writing it
      `.other.review.json.${dead}.0123456789ab.tmp`, // another target: not ours to judge under this prefix
      'app.review.json',
      'notes.1234.txt',
      `backup.${dead}.tmp`, // not a vouch temp name
    ],
  };
  for (const n of [...names.gone, ...names.kept]) writeFileSync(join(dir, n), 'x');
  assert.equal(await sweepDeadTemps(dir, '.app.review.json.'), 1);
  assert.equal(await sweepDeadTemps(dir, 'app.review.json.lock.'), 2);
  assert.deepEqual(readdirSync(dir).sort(), [...names.kept].sort());
  // Without a prefix (the cache's own folders): every dead writer's temp file.
  assert.equal(await sweepDeadTemps(dir), 1);
  assert.equal(await sweepDeadTemps(join(dir, 'missing')), 0);
});

test('dead processes\' daemon export folders go, with what is in them; live ones and look-alikes stay', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'vouch-dead-dirs-'));
  const dead = deadPid();
  for (const n of [`vouch-daemon-${dead}-AbC123`, `vouch-daemon-${process.pid}-AbC123`, 'vouch-daemon-AbC123', `vouch-daemon-${dead}-toolong1`]) {
    mkdirSync(join(parent, n));
    writeFileSync(join(parent, n, 'image.tar'), 'x');
  }
  assert.equal(await sweepDeadTempDirs(parent, 'vouch-daemon-'), 1);
  assert.deepEqual(readdirSync(parent).sort(), [`vouch-daemon-${dead}-toolong1`, `vouch-daemon-${process.pid}-AbC123`, 'vouch-daemon-AbC123'].sort());
});
