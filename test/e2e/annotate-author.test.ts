/**
 * Newcomer 8 and 13: one identity for the CLI and the workbench. `vouch
 * annotate` without --author writes $VOUCH_AUTHOR, else the reviewer identity
 * the workbench uses (preferences: reviewer.name <reviewer.email>), else the
 * OS user; approve's --accept-annotations-by hint is shell-quoted, so pasting
 * it works. An accepted-risk / false-positive annotation needs a rationale:
 * whitespace-only --text is refused (exit 2, naming --text).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureDemoImage } from '../../src/core/demo/demo-image.js';
import { cliCommand, runCli, spawnCli, testCacheDir } from '../helpers/inspect.js';

let dir: string;
let session: string;
let config: string;
const NORA = 'Nora Newcomer';
const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

before(async () => {
  process.env.VOUCH_KEY_PASSWORD = 'pass phrase';
  dir = mkdtempSync(join(tmpdir(), 'vouch-author-'));
  config = join(dir, 'config');
  const ref = (await ensureDemoImage(testCacheDir)).reference;
  for (const who of ['alice', 'bob']) assert.equal((await runCli(['key', 'generate', '--out', join(dir, who)])).code, 0);
  writeFileSync(join(dir, 'vouch.trust.yaml'), 'reviewers:\n  - {name: alice, key: ./alice.pub}\n  - {name: bob, key: ./bob.pub}\n');
  writeFileSync(join(dir, 'vouch.release.yaml'), `name: demo\nversion: 1.0.0\nimages:\n  app: ${ref}\ntrust: ./vouch.trust.yaml\n`);
  const init = await runCli(['session', 'init', '--release', join(dir, 'vouch.release.yaml'), '--json']);
  assert.equal(init.code, 0, init.stderr);
  session = JSON.parse(init.stdout).session;
  for (const [k, v] of [['reviewer.name', NORA], ['reviewer.email', 'nora@example.org']]) {
    const r = await spawnCli(['config', 'set', k!, v!], { VOUCH_CONFIG_DIR: config });
    assert.equal(r.code, 0, r.stderr);
  }
});

describe('annotate author and the accept hint', () => {
  test('13: whitespace-only --text on accepted-risk / false-positive is refused, exit 2, naming --text; nothing saved', async () => {
    const before = readFileSync(session, 'utf8');
    for (const d of ['accepted-risk', 'false-positive']) {
      for (const text of ['   ', '\t\n']) {
        const r = await runCli(['annotate', '--session', session, '--whole-image', '--disposition', d, '--text', text, '--author', 'alice']);
        assert.equal(r.code, 2, r.stdout);
        assert.match(r.stderr, /^vouch: error: annotate: --text: .*needs a reason/);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      }
    }
    assert.equal(readFileSync(session, 'utf8'), before);
  });

  test('8: without --author, annotate writes the configured reviewer (as the workbench does); $VOUCH_AUTHOR wins', async () => {
    const shown = JSON.parse((await runCli(['session', 'show', session, '--json'])).stdout);
    const high = [...new Set(shown.findings.filter((f: any) => f.source === 'check' && ['high', 'critical'].includes(f.severity)).map((f: any) => f.id))] as string[];
    assert.ok(high.length > 0);
    for (const id of high) {
      const r = await spawnCli(['annotate', '--session', session, '--check', id, '--disposition', 'accepted-risk', '--text', `accepted ${id}`, '--json'], { VOUCH_CONFIG_DIR: config, VOUCH_AUTHOR: '' });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(JSON.parse(r.stdout).every((a: any) => a.author === `${NORA} <nora@example.org>`), r.stdout);
    }
    const env = await spawnCli(['annotate', '--session', session, '--whole-image', '--disposition', 'note', '--text', 'n', '--json'], { VOUCH_CONFIG_DIR: config, VOUCH_AUTHOR: 'zed' });
    assert.equal(JSON.parse(env.stdout)[0].author, 'zed');
    // No preferences: the OS user, as before.
    const none = await spawnCli(['annotate', '--session', session, '--whole-image', '--disposition', 'note', '--text', 'n', '--json'], { VOUCH_CONFIG_DIR: join(dir, 'no-config'), VOUCH_AUTHOR: '' });
    assert.notEqual(JSON.parse(none.stdout)[0].author, `${NORA} <nora@example.org>`);
  });

  test('8: the reviewer whose preferences wrote the annotations is not refused for them; another is, and the pasted hint works', async () => {
    const self = await spawnCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'alice.key'), '--out', join(dir, 'self.sigstore.json')], { VOUCH_CONFIG_DIR: config, VOUCH_AUTHOR: '' });
    assert.equal(self.code, 0, self.stderr);
    const foreign = await spawnCli(['approve', '--session', session, '--decision', 'approved-with-exceptions', '--key', join(dir, 'bob.key')], { VOUCH_AUTHOR: 'bob' });
    assert.equal(foreign.code, 1, foreign.stderr);
    const hint = /(--accept-annotations-by .*) \(nothing written\)/.exec(foreign.stderr)?.[1];
    assert.equal(hint, `--accept-annotations-by ${q(`${NORA} <nora@example.org>`)}`);
    // Pasted into a shell as printed.
    const line = `${cliCommand().map(q).join(' ')} approve --session ${q(session)} --decision approved-with-exceptions --key ${q(join(dir, 'bob.key'))} ${hint}`;
    const r = spawnSync('bash', ['-c', line], { env: { ...process.env, VOUCH_AUTHOR: 'bob' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
