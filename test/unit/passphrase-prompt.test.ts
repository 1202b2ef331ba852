/**
 * The passphrase prompt of `vouch approve --key` and `vouch key generate`,
 * driven with fake streams (a terminal's keys in, what it shows out): no echo,
 * Backspace, confirmation, cancel, raw mode restored; VOUCH_KEY_PASSWORD wins;
 * no terminal and no variable is one line naming the variable. A real
 * terminal runs it in test/e2e/passphrase-tty.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { isVouchError } from '../../src/core/errors.js';
import { readPassphrase } from '../../src/cli/passphrase.js';

class FakeTty extends EventEmitter {
  isTTY = true;
  isRaw = false;
  modes: boolean[] = [];
  paused = true;
  setRawMode(m: boolean): void {
    this.isRaw = m;
    this.modes.push(m);
  }
  resume(): void {
    this.paused = false;
  }
  pause(): void {
    this.paused = true;
  }
  /** Keys as a terminal sends them, each chunk once the prompt listens. */
  async type(...chunks: string[]): Promise<void> {
    for (const c of chunks) {
      await new Promise((r) => setImmediate(r));
      this.emit('data', Buffer.from(c));
    }
  }
}

function terminal(isTTY = true) {
  const input = new FakeTty();
  input.isTTY = isTTY;
  let shown = '';
  const output = { isTTY, write: (s: string) => void (shown += s) };
  return { input, output, shown: () => shown };
}

test('asked on the terminal without echo; Backspace and Ctrl-U edit; raw mode is restored and stdin paused', async () => {
  const t = terminal();
  const p = readPassphrase('approve: /k/alice.key', false, { input: t.input, output: t.output, env: {} });
  await t.input.type('wrong', '\u0015', 'sec', 'x\u007f', 'ret\r');
  assert.equal(await p, 'secret');
  assert.equal(t.shown(), 'approve: /k/alice.key: passphrase: \n', 'the prompt names the key; nothing typed is shown');
  assert.deepEqual(t.input.modes, [true, false]);
  assert.equal(t.input.paused, true);
  assert.equal(t.input.listenerCount('data'), 0);
});

test('key generate asks twice; two different passphrases are refused (exit 2)', async () => {
  const t = terminal();
  const ok = readPassphrase('key generate', true, { input: t.input, output: t.output, env: {} });
  await t.input.type('pass phrase\r');
  await t.input.type('pass phrase\r');
  assert.equal(await ok, 'pass phrase');
  assert.match(t.shown(), /key generate: passphrase: \nkey generate: passphrase again: \n$/);
  const u = terminal();
  const differ = readPassphrase('key generate', true, { input: u.input, output: u.output, env: {} });
  await u.input.type('one\r', 'two\r');
  await assert.rejects(differ, (e: unknown) => isVouchError(e) && e.exitCode === 2 && /key generate: the passphrases differ/.test(e.message));
});

test('Ctrl-C, Ctrl-D on an empty line, or the end of input cancel (exit 2); an arrow key is not typed', async () => {
  for (const keys of [['ab\u0003'], ['\u0004'], []]) {
    const t = terminal();
    const p = readPassphrase('approve: /k/alice.key', false, { input: t.input, output: t.output, env: {} });
    if (keys.length) await t.input.type(...keys);
    else {
      await new Promise((r) => setImmediate(r));
      t.input.emit('end');
    }
    await assert.rejects(p, (e: unknown) => isVouchError(e) && e.exitCode === 2 && /approve: \/k\/alice\.key: cancelled, no passphrase given/.test(e.message));
    assert.deepEqual(t.input.modes, [true, false]);
  }
  const t = terminal();
  const p = readPassphrase('approve: /k/alice.key', false, { input: t.input, output: t.output, env: {} });
  await t.input.type('a', '\x1b[A', 'b\r');
  assert.equal(await p, 'ab');
});

test('VOUCH_KEY_PASSWORD is used without asking; no terminal and no variable names the variable', async () => {
  const t = terminal();
  assert.equal(await readPassphrase('approve: /k/alice.key', false, { input: t.input, output: t.output, env: { VOUCH_KEY_PASSWORD: 'from env' } }), 'from env');
  assert.equal(t.shown(), '');
  assert.deepEqual(t.input.modes, []);
  for (const [inTty, outTty] of [[false, true], [true, false]] as const) {
    const n = terminal();
    n.input.isTTY = inTty;
    n.output.isTTY = outTty;
    await assert.rejects(readPassphrase('approve: /k/alice.key', false, { input: n.input, output: n.output, env: {} }), (e: unknown) => isVouchError(e) && e.exitCode === 2 && e.message === "approve: /k/alice.key: set VOUCH_KEY_PASSWORD to the key's passphrase (no terminal to ask for it on)");
    assert.equal(n.shown(), '', 'nothing asked');
  }
});
