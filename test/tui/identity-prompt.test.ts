/**
 * The first-run identity prompt (newcomer review, session 5): a name and its
 * Enter in one chunk (a paste, `tmux send-keys 'Bob' Enter`) stored a carriage
 * return in the name and lost the email. Each Enter in a chunk submits its
 * field; control, bidi and zero-width characters never reach a field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import { createElement as h } from 'react';
import { IdentityPrompt } from '../../src/tui/run.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

test('name, Enter, email and Enter in one chunk: both fields, no CR stored', async () => {
  let got: [string, string] | null = null;
  const ui = render(h(IdentityPrompt, { onDone: (n: string, e: string) => void (got = [n, e]) }));
  await tick();
  ui.stdin.write('Bob Builder\rbob@example.org\r');
  await tick();
  assert.deepEqual(got, ['Bob Builder', 'bob@example.org']);
  ui.unmount();
});

test('keys one at a time, backspace, and hostile characters pasted into the name', async () => {
  let got: [string, string] | null = null;
  const ui = render(h(IdentityPrompt, { onDone: (n: string, e: string) => void (got = [n, e]) }));
  await tick();
  for (const k of ['R', 'i', 't', 'x', '\x7f', 'a']) {
    ui.stdin.write(k);
    await tick();
  }
  assert.match(ui.lastFrame() ?? '', /Your name: Rita█/);
  ui.stdin.write(' \u202eRev\u200bie\x07wer');
  await tick();
  ui.stdin.write('\r');
  await tick();
  assert.match(ui.lastFrame() ?? '', /Name: Rita Reviewer {3}Email:/);
  ui.stdin.write('rita@example.com');
  await tick();
  ui.stdin.write('\r');
  await tick();
  assert.deepEqual(got, ['Rita Reviewer', 'rita@example.com']);
  ui.unmount();
});

test('an empty name is not submitted', async () => {
  let got: [string, string] | null = null;
  const ui = render(h(IdentityPrompt, { onDone: (n: string, e: string) => void (got = [n, e]) }));
  await tick();
  ui.stdin.write('\r');
  await tick();
  assert.match(ui.lastFrame() ?? '', /Your name:/);
  assert.equal(got, null);
  ui.unmount();
});
