/**
 * The passphrase prompt in a real terminal (tmux): `vouch key generate` asks
 * twice and shows nothing typed. (`vouch approve --key` asks through the same
 * function: test/unit/passphrase-prompt.test.ts drives it with fake streams,
 * test/e2e/approval-cli.test.ts covers no terminal and a wrong passphrase.)
 * VOUCH_KEY_PASSWORD is unset in the pane (a tmux server keeps the
 * environment of whoever started it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPrivateKey } from '../../src/core/approval/key.js';
import { cliCommand, testCacheDir } from '../helpers/inspect.js';
import { hasTmux, Tmux } from '../tui/tmux.js';

const cli = cliCommand().map((a) => `'${a}'`).join(' ');
const env = { VOUCH_CACHE_DIR: testCacheDir, NO_COLOR: '' };

test('key generate asks for the passphrase twice at a terminal, without echo', { timeout: 120_000 }, async (t) => {
  if (!hasTmux()) {
    if (process.env.CI === 'true') throw new Error('tmux is required under CI');
    t.skip('tmux is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vouch-passphrase-tty-'));
  const tm = new Tmux(`vouch-pass-${process.pid}`, 150, 12);
  try {
    tm.start(`unset VOUCH_KEY_PASSWORD; ${cli} key generate --out '${join(dir, 'carol')}'`, env);
    await tm.waitFor(/key generate: passphrase: *$/m, 60_000);
    tm.typeHidden('tty secret');
    tm.keys('Enter');
    await tm.waitFor(/passphrase again: *$/m);
    tm.typeHidden('tty secret');
    tm.keys('Enter');
    const s = await tm.waitFor(/__exit \d+/, 60_000);
    assert.match(s, /__exit 0/, s);
    assert.doesNotMatch(s, /tty secret/, 'never echoed');
    assert.match(readFileSync(join(dir, 'carol.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    // Encrypted with what was typed, and nothing else.
    await loadPrivateKey(join(dir, 'carol.key'), 'tty secret');
    await assert.rejects(loadPrivateKey(join(dir, 'carol.key'), 'tty secre'), /carol\.key: passphrase: wrong passphrase/);
  } finally {
    tm.kill();
  }
});
